"""`FireDetails`: the kind-specific fields of a fire or smoke event, as the fire detector builds them.

The alerts package reads these typed fields (`alert.fire.growth_ratio` is `growth_ratio`), so renaming one
is a type error at every reader, not a silently empty alert field (it once was: the detector wrote
`area_growth_since_start` while the alert read `growth_ratio`).
"""

from __future__ import annotations

from dataclasses import dataclass

from detectors.event import EventDetails


@dataclass(frozen=True, slots=True)
class FireDetails(EventDetails):
    """What a fire/smoke incident looks like now, beyond the event's box, position and area."""

    area_px: float
    """Area of the incident's box, source pixels²."""
    area_share: float
    """That area over the frame area."""
    growth_rate_per_s: float
    """Relative area growth per second over the track's recent history."""
    growth_ratio: float
    """Current area over the area when the incident started (alert field `fire.growth_ratio`)."""
    frames_seen: int
    """Analysed frames with a candidate linked to the track."""
    track_id: int
    """The detector's track number on this camera."""
    area_m2_est: float | None = None
    """Ground area estimate from the camera's ground calibration (None without one)."""
