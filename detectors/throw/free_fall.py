"""A track's first positions read as a free fall at g: where and when the fall started."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from detectors.throw.facade_map import FacadeMap
from detectors.throw.least_squares import solve_least_squares

G_M_S2 = 9.80665
_RELEASE_HEAD_POINTS = 12
"""First positions the release is read from with g fixed (about half a second at 25 fps)."""


@dataclass(frozen=True, slots=True)
class FallStart:
    """The first positions of a track read as a free fall at g: where it was and how fast it went up."""

    t_s: float
    along_m: float
    along_speed_m_s: float
    height_m: float
    up_speed_m_s: float

    def unseen_s(self, g_m_s2: float = G_M_S2) -> float:
        """Seconds since the apex (the release of a dropped object) at the first position; 0 if rising."""
        return max(0.0, -self.up_speed_m_s / g_m_s2)

    def position_at(self, t_s: NDArray[np.float64], g_m_s2: float = G_M_S2) -> NDArray[np.float64]:
        """(N,2) facade (along, height) of the free fall at times `t_s` (extrapolated before the start)."""
        dt = np.asarray(t_s, np.float64) - self.t_s
        along = self.along_m + self.along_speed_m_s * dt
        height = self.height_m + self.up_speed_m_s * dt - 0.5 * g_m_s2 * dt * dt
        return np.stack([along, height], 1)


def fall_start(
    points: NDArray[np.float64], facade: FacadeMap, head: int = _RELEASE_HEAD_POINTS, g_m_s2: float = G_M_S2
) -> FallStart:
    """Fit the first `head` positions with g fixed: only the start's speed is free, so a short head pins
    it down, and drag (which bends the whole track's parabola late in a long fall) does not enter."""
    pts = points[: max(3, head)]
    t = pts[:, 0] - pts[0, 0]
    q = facade.to_facade(pts[:, 1:3])
    design = np.stack([np.ones_like(t), t], 1)
    along = solve_least_squares(design, q[:, 0])
    height = solve_least_squares(design, q[:, 1] + 0.5 * g_m_s2 * t * t)
    return FallStart(float(pts[0, 0]), float(along[0]), float(along[1]), float(height[0]), float(height[1]))


def head_at_g(t: NDArray[np.float64], height_m: NDArray[np.float64], g_m_s2: float) -> tuple[float, float]:
    """(height m, upward speed m/s) at the first of the first `_RELEASE_HEAD_POINTS` positions, fitted as
    a fall at g: two free numbers pin down on a short head, and drag has not built up there yet."""
    k = min(len(t), _RELEASE_HEAD_POINTS)
    dt = t[:k] - t[0]
    c = solve_least_squares(np.stack([np.ones_like(dt), dt], 1), height_m[:k] + 0.5 * g_m_s2 * dt * dt)
    return float(c[0]), float(c[1])
