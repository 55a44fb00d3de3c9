"""`ConstructionDetails`: the kind-specific fields of a construction event, as its two producers build
them: the flight detector (a site seen over a flight) and the survey recorder (a change between surveys,
with `change` set). The footprint, area and position travel in the `Event` itself.
"""

from __future__ import annotations

from dataclasses import dataclass

from detectors.event import EventDetails


@dataclass(frozen=True, slots=True)
class SurveyChangeDetails:
    """A site found by comparing a flight's mosaic with earlier surveys of the same ground."""

    change_kind: str
    """What appeared: roof, bare_soil, dust_net or scaffold."""
    survey_id: str
    """The survey (flight mosaic) it appeared in."""
    previous_survey_ids: tuple[str, ...]
    """The earlier surveys it was compared with, newest first."""
    previous_captured_at: float | None
    """When the newest earlier survey was flown (epoch s), None when unknown."""
    before_crop_uri: str | None
    """JPEG of the place in the earlier mosaic, once stored."""
    after_crop_uri: str | None
    """JPEG of the place in this flight's mosaic, once stored."""


@dataclass(frozen=True, slots=True)
class ConstructionDetails(EventDetails):
    """A construction site: which flight saw it, what it is and how it relates to the registry."""

    flight_id: str
    site_id: str
    structure_kind: str
    """`StructureKind` value: steel_roof, scaffold, bare_soil, ..."""
    on_registered_id: str | None = None
    """The registered structure it stands on (a rooftop addition's building), if any."""
    on_registered_kind: str | None = None
    """That structure's kind."""
    registry_nearest_same_kind: str | None = None
    """The nearest registered structure of the same kind (flight sites only)."""
    rooftop_addition: bool = False
    """Stands mostly (≥ half) on a registered building."""
    first_seen_at: float | None = None
    """First frame that showed it (epoch s; flight sites only)."""
    last_seen_at: float | None = None
    """Last frame that showed it (epoch s; flight sites only)."""
    frames: int | None = None
    """Frames that showed it (flight sites only)."""
    passes: int | None = None
    """Separate passes over it (flight sites only)."""
    best_frame_seq: int | None = None
    """Sequence number of the frame its footprint comes from (flight sites only)."""
    best_pts_s: float | None = None
    """That frame's stream presentation time (flight sites only)."""
    change: SurveyChangeDetails | None = None
    """Set when the site was found as change between drone surveys."""
