"""Keys of the fire detector's `Event.details`, shared with the alerts package's enrichment.

One enum on both sides, so renaming a key is a type error at every reader, not a silently empty alert
field (it once was: the detector wrote `area_growth_since_start` while the alert read `growth_ratio`).
"""

from __future__ import annotations

from enum import StrEnum


class FireDetail(StrEnum):
    """A key of a fire/smoke event's `details` mapping."""

    AREA_PX = "fire_area_px"
    """Area of the incident's box, source pixels²."""
    AREA_SHARE = "fire_area_share"
    """That area over the frame area."""
    AREA_M2_EST = "fire_area_m2_est"
    """Ground area estimate from the camera's ground calibration (absent without one)."""
    GROWTH_RATE_PER_S = "growth_rate_per_s"
    """Relative area growth per second over the track's recent history."""
    GROWTH_RATIO = "growth_ratio"
    """Current area over the area when the incident started (alert field `fire.growth_ratio`)."""
    FRAMES_SEEN = "frames_seen"
    """Analysed frames with a candidate linked to the track."""
    TRACK_ID = "track_id"
    """The detector's track number on this camera."""
