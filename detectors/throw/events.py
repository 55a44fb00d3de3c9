"""`ThrowDetails`: the kind-specific fields of a throw event, as the throw detector builds them.

The facade hit (floor, column) travels in `Event.facade`; these are the trajectory and the fit behind it.
The alerts package reads `trajectory_px` for the alert and the annotated snapshot; the benchmarks read
the release time.
"""

from __future__ import annotations

from dataclasses import dataclass

from detectors.event import EventDetails


@dataclass(frozen=True, slots=True)
class ThrowDetails(EventDetails):
    """The tracked trajectory of a thrown object and the gravity fit that accepted it."""

    trajectory_px: tuple[tuple[float, float, float], ...]
    """Tracked positions as (t_s, x_px, y_px), t in stream presentation time."""
    fitted_curve_px: tuple[tuple[float, float], ...]
    """The fitted ballistic curve from release to the last position, image pixels."""
    accel_m_s2: float
    """Fitted vertical acceleration, m/s² (gravity is 9.8)."""
    accel_px_s2: float
    """Fitted vertical acceleration, px/s²."""
    expected_accel_px_s2: float
    """Gravity at the trajectory's depth on the facade, px/s²."""
    accel_ratio: float
    """Fitted over expected acceleration."""
    release_pts_s: float
    """When the object left the facade, stream presentation time (s)."""
    release_captured_at: float
    """The same instant on the capture clock (epoch s)."""
    release_window_pts_s: tuple[float, float]
    """Where the release may lie, stream presentation time (s): from the fit at g (drag only slows a fall, so
    the latest release) back to the whole parabola's apex (drag read as less than g: the earliest)."""
    release_height_m: float
    """Release height above the facade's ground line, m."""
    release_height_sigma_m: float
    """One-sigma uncertainty of that height, m."""
    release_along_m: float
    """Release position along the facade, m."""
    landing_pts_s: float
    """Predicted landing time, stream presentation time (s)."""
    px_per_m: float
    """Image scale at the facade, px/m."""
    drop_m: float
    """Height fallen while tracked, m."""
    end_speed_m_s: float
    """Speed at the last tracked position, m/s."""
    object_size_px: float
    """Apparent object size, px."""
    rejoined_tracks: bool
    """Whether broken track pieces were joined into this trajectory."""
    calibrated: bool
    """Whether the camera has a facade calibration (else no floor, no position)."""
