"""`Event`: what a detector concludes, with the geometry and the reasons that make it checkable.

Events are plain frozen data. The alerts package turns them into the wire schema; nothing here knows
about Kafka, JSON or evidence storage.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum

import numpy as np
from numpy.typing import NDArray

from ingest.frame import Frame


class EventKind(StrEnum):
    FIRE = "fire"
    SMOKE = "smoke"
    THROW = "throw"
    CONSTRUCTION = "construction"


class Phase(StrEnum):
    START = "start"
    UPDATE = "update"
    END = "end"


class GeoMethod(StrEnum):
    """How a position was obtained; alerts carry it so a dispatcher knows how far to trust it."""

    CAMERA_POSITION = "camera_position"
    GROUND_HOMOGRAPHY = "ground_homography"
    FACADE_HOMOGRAPHY = "facade_homography"
    DRONE_RAY = "drone_ray"


@dataclass(frozen=True, slots=True)
class GeoPoint:
    """A WGS-84 position (EPSG:4326) with its accuracy radius and how it was obtained."""

    lat_deg: float
    lon_deg: float
    accuracy_m: float
    method: GeoMethod


@dataclass(frozen=True, slots=True)
class FacadeHit:
    """Where on a calibrated facade something happened: metres along and up, floor ± uncertainty, column."""

    along_m: float
    height_m: float
    floor: int
    floor_uncertainty: int
    column: str | None = None


@dataclass(frozen=True, slots=True)
class ModelRef:
    """The model that contributed to an event (name, version, file sha256)."""

    name: str
    version: str
    sha256: str


Reasons = Mapping[str, float | int | str | bool]


@dataclass(frozen=True, slots=True)
class EventDetails:
    """Base of the kind-specific details of an event: each detector declares its own frozen subclass
    (`detectors/<name>/events.py`) and the alerts package reads its typed fields, so a renamed field is a
    type error at every reader instead of a silently empty alert field (it once was: `growth_ratio`)."""


@dataclass(frozen=True, slots=True)
class Event:
    """One step in an incident's lifecycle (start, update, end) as seen by one detector on one source.

    `incident_id` is stable for the whole incident and unique per source and kind; `update_seq` counts
    the events of the incident from 0 (the start). `trigger_captured_at` is the capture time of the frame
    that caused this event, for the frame-to-alert latency SLO. `box_xyxy` is in source pixels.
    `evidence_window_s` is a (start, end) window of stream presentation time for the evidence clip.
    `details` holds the kind-specific fields as the producing detector's `EventDetails` subclass (throw
    trajectory, fire growth, construction site) and `reasons` the numbers behind the decision, so
    operators can tune thresholds.
    """

    kind: EventKind
    source_id: str
    incident_id: str
    phase: Phase
    update_seq: int
    started_at: float
    last_seen_at: float
    trigger_captured_at: float
    confidence: float
    box_xyxy: tuple[float, float, float, float] | None = None
    ground: GeoPoint | None = None
    facade: FacadeHit | None = None
    footprint_lonlat: tuple[tuple[float, float], ...] | None = None
    area_m2: float | None = None
    snapshot: Frame | None = None
    evidence_window_s: tuple[float, float] | None = None
    model: ModelRef | None = None
    reasons: Reasons = field(default_factory=dict)
    details: EventDetails | None = None
    evidence_image: NDArray[np.uint8] | None = None
    """The detector's own annotated snapshot (throw: the trajectory over the facade's floor grid); when
    set, evidence stores it as the annotated JPEG instead of the generic box drawing."""
