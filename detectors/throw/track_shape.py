"""A track's moving part: without the rest before a throw and the stillness after landing, which a
parabola fitted over them would read as a weaker fall."""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

_REST_PX = 1.5
"""A track's first positions within this many pixels of its first one are its resting start (not fall)."""


def moving_part(pts: NDArray[np.float64]) -> tuple[int, NDArray[np.float64]]:
    """(index of the first kept position, the positions) of a track without its resting head and tail."""
    head = _resting_head(pts)
    return head, _without_stopped_tail(pts[head:])


def _resting_head(pts: NDArray[np.float64], rest_px: float = _REST_PX) -> int:
    """Index of the last position of the track's resting start (0 when it moved from the first).

    An object put on a sill or held out before the throw is tracked while it rests; a parabola fitted
    over rest and fall together reads a smaller acceleration (on generator B's development seeds
    2002-2005, a box held 0.5 s before its throw was rejected as `accel_too_low`). The fall begins at
    the last position within `rest_px` of the first before the track first lies 3 x `rest_px` away
    (centroid noise may step outside `rest_px` for a frame; a throw upwards that falls back past its
    start is not at rest again)."""
    if len(pts) < 3:
        return 0
    dist = np.linalg.norm(pts[:, 1:3] - pts[0, 1:3], axis=1)
    far = np.flatnonzero(dist > 3 * rest_px)
    lead = dist[: int(far[0])] if len(far) else dist
    still = np.flatnonzero(lead <= rest_px)
    return int(still[-1]) if len(still) else 0


def _without_stopped_tail(pts: NDArray[np.float64], min_step_px: float = 0.75) -> NDArray[np.float64]:
    """The track without trailing positions where the object stood still (landed on the ground or a ledge)."""
    if len(pts) < 3:
        return pts
    step = np.linalg.norm(np.diff(pts[:, 1:3], axis=0), axis=1)
    moving = np.flatnonzero(step >= min_step_px)
    if len(moving) == 0:
        return pts
    return pts[: int(moving[-1]) + 2]
