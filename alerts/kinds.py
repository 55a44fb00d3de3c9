"""What the alerts package makes of each detector's events: the alert's kind-specific sub-object, the
colour of the evidence box and the path drawn on the annotated snapshot.

One `AlertKind` per detector, keyed by the event kinds it emits and the `EventDetails` type it declares
(`detectors/<name>/events.py`). The pipeline looks an event up by (kind, details type): an event whose
pair nobody registered is an error naming both, never a construction alert with empty fields. The
service passes the table its detector registrations build (`gridwatch/registrations.py`); `BUILTIN` is
the table of the three shipped detectors, the default for callers that build a pipeline by hand.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, TypeVar

import numpy as np
from numpy.typing import NDArray

from alerts.schema import ConstructionInfo, FireInfo, GeoJsonPolygon, SurveyChange, ThrowInfo
from detectors.construction.events import ConstructionDetails, SurveyChangeDetails
from detectors.event import Event, EventDetails, EventKind
from detectors.fire.events import FireDetails
from detectors.throw.events import ThrowDetails

AlertFields = Callable[[Event], dict[str, Any]]
"""The alert's kind-specific sub-object(s) of one event, keyed by their `Alert` field name."""
Overlay = Callable[[Event], NDArray[np.float64] | None]
"""An (N, 3) path of (t_s, x_px, y_px) to draw on the annotated snapshot, or None."""

_DEFAULT_COLOUR_BGR = (0, 255, 0)


def _no_overlay(event: Event) -> NDArray[np.float64] | None:
    return None


@dataclass(frozen=True)
class AlertKind:
    """The alerts side of one detector's registration."""

    kinds: frozenset[EventKind]
    """Event kinds the detector emits."""
    details_type: type[EventDetails]
    """The details dataclass its events carry."""
    fields: AlertFields
    """Builds the alert's kind-specific sub-object from a (type-checked) event."""
    colours_bgr: Mapping[EventKind, tuple[int, int, int]] = field(default_factory=dict)
    """Evidence box colour per kind (green where absent)."""
    overlay: Overlay = _no_overlay
    """Path drawn on the annotated snapshot (the throw trajectory), if any."""


class AlertKinds:
    """Lookup of an event's `AlertKind` by (kind, details type)."""

    def __init__(self, entries: Iterable[AlertKind]) -> None:
        self._by: dict[tuple[str, type[object]], AlertKind] = {}
        for entry in entries:
            for kind in entry.kinds:
                key = (kind.value, entry.details_type)
                if key in self._by:
                    raise ValueError(f"event kind {kind.value!r} with {entry.details_type.__name__} registered twice")
                self._by[key] = entry

    def of(self, event: Event) -> AlertKind:
        """The entry of this event; ValueError naming the kind and details type when none is registered."""
        entry = self._by.get((str(event.kind), type(event.details)))
        if entry is None:
            raise ValueError(
                f"event kind {str(event.kind)!r} with details {type(event.details).__name__} has no alert fields: "
                "register its detector (gridwatch/registrations.py) with an AlertKind for it"
            )
        return entry

    def fields(self, event: Event) -> dict[str, Any]:
        """The alert's kind-specific sub-object of this event."""
        return self.of(event).fields(event)

    def colour_bgr(self, event: Event) -> tuple[int, int, int]:
        return self.of(event).colours_bgr.get(event.kind, _DEFAULT_COLOUR_BGR)

    def overlay(self, event: Event) -> NDArray[np.float64] | None:
        return self.of(event).overlay(event)


_D = TypeVar("_D", bound=EventDetails)


def _details(event: Event, cls: type[_D]) -> _D:
    details = event.details
    if not isinstance(details, cls):
        raise ValueError(f"{event.kind} event {event.incident_id} carries {type(details).__name__}, not {cls.__name__}")
    return details


def _finite(value: float | None) -> float | None:
    return float(value) if value is not None and math.isfinite(value) else None


def throw_trajectory(event: Event) -> NDArray[np.float64] | None:
    """The throw's tracked trajectory ((t_s, x, y) rows) as an (N, 3) array; None when empty or not finite."""
    rows = _details(event, ThrowDetails).trajectory_px
    arr = np.asarray(rows, np.float64).reshape(-1, 3)
    return arr if len(arr) and np.isfinite(arr).all() else None


def throw_fields(event: Event) -> dict[str, Any]:
    """Facade hit and trajectory of a throw."""
    arr = throw_trajectory(event)
    traj = None if arr is None else [(float(t), float(x), float(y)) for t, x, y in arr]
    f = event.facade
    info = ThrowInfo(
        floor=f.floor if f else None,
        floor_uncertainty=f.floor_uncertainty if f else None,
        facade_column=f.column if f else None,
        along_m=f.along_m if f else None,
        height_m=f.height_m if f else None,
        trajectory_px=traj,
    )
    return {"throw": info}


def fire_fields(event: Event) -> dict[str, Any]:
    """Area (m²) and growth (current area / start area) of a fire or smoke."""
    growth = _finite(_details(event, FireDetails).growth_ratio)
    area = _finite(event.area_m2)
    return {"fire": FireInfo(area_m2=area, growth_ratio=growth if growth is None or growth >= 0 else None)}


def survey_change(change: SurveyChangeDetails | None) -> SurveyChange | None:
    """A change-between-surveys site as its wire object; None for a site seen on one flight."""
    if change is None:
        return None
    previous_at = _finite(change.previous_captured_at)
    return SurveyChange(
        change_kind=change.change_kind,
        survey_id=change.survey_id,
        previous_survey_ids=list(change.previous_survey_ids),
        previous_captured_at=datetime.fromtimestamp(previous_at, tz=UTC) if previous_at is not None else None,
        before_crop_uri=change.before_crop_uri,
        after_crop_uri=change.after_crop_uri,
    )


def construction_fields(event: Event) -> dict[str, Any]:
    """Footprint polygon (closed GeoJSON ring of [lon, lat]), area and survey change of a construction site."""
    details = _details(event, ConstructionDetails)
    footprint = None
    if event.footprint_lonlat and len(event.footprint_lonlat) >= 3:
        ring = [(float(lon), float(lat)) for lon, lat in event.footprint_lonlat]
        if ring[0] != ring[-1]:
            ring.append(ring[0])
        footprint = GeoJsonPolygon(coordinates=[ring])
    info = ConstructionInfo(footprint=footprint, area_m2=event.area_m2, change=survey_change(details.change))
    return {"construction": info}


# BGR colours per kind, chosen to stay readable on both day and night footage.
FIRE = AlertKind(
    frozenset({EventKind.FIRE, EventKind.SMOKE}),
    FireDetails,
    fire_fields,
    {EventKind.FIRE: (0, 0, 255), EventKind.SMOKE: (160, 160, 160)},
)
THROW = AlertKind(
    frozenset({EventKind.THROW}), ThrowDetails, throw_fields, {EventKind.THROW: (255, 0, 255)}, throw_trajectory
)
CONSTRUCTION = AlertKind(
    frozenset({EventKind.CONSTRUCTION}),
    ConstructionDetails,
    construction_fields,
    {EventKind.CONSTRUCTION: (0, 215, 255)},
)
BUILTIN = AlertKinds((FIRE, THROW, CONSTRUCTION))
"""The shipped detectors' entries (the service builds the same table from its registrations)."""
