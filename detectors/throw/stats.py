"""The throw detector's counters and gauges, read by the metrics registry."""

from __future__ import annotations

from dataclasses import dataclass, field

from detectors.base import DetectorStats


@dataclass
class ThrowStats(DetectorStats):
    """DetectorStats plus gauges for the metrics registry (labels: camera_id, stage, reason)."""

    stage_seconds: dict[str, float] = field(default_factory=dict)
    """Cumulative seconds per stage: prepare, stabilise, subtract, blobs, track, judge."""
    tracks_active: int = 0
    foreground_fraction: float = 0.0
    jitter_px: float = 0.0
    rejoined: int = 0
    classifier_errors: int = 0
    streak_blobs: int = 0
    """Blobs taken for rain streaks (kept from starting tracks), cumulative."""
    raining: bool = False
    """Whether a streak population is present now."""
