"""Does a smoke box's inside change? A real plume churns, spreads and drifts; a still band of sky does not.

The trained model also calls a still, hazy band of sky "smoke" with good confidence. What tells the two
apart is time: inside a real plume the brightness keeps changing from frame to frame, inside a still sky
band only the camera's noise and compression change it. Noise differs per camera, scene and bitrate, so
the change inside the box is measured against the change just around it in the same frame pair (a ring
as wide as the box's half size on each side): a global brightness step or a noisier camera lifts both,
a plume lifts the inside. The ring's median is taken, so a car crossing part of it does not raise the
floor.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

RING_SHARE = 0.5
"""Width of the surrounding ring on each side, as a share of the box's width and height."""


def luma_change(luma: NDArray[np.int16], previous: NDArray[np.int16] | None) -> NDArray[np.int16] | None:
    """|Y - previous Y| per work pixel; None when there is no previous frame of the same size."""
    if previous is None or previous.shape != luma.shape:
        return None
    out: NDArray[np.int16] = np.abs(luma - previous)
    return out


def change_above_surround(change: NDArray[np.int16], box_work: NDArray[np.int64]) -> float:
    """Mean brightness change (grey levels) inside `box_work` (x1, y1, x2, y2 in work pixels) minus the
    median change in the ring around it; NaN when the box is empty or has no ring inside the frame."""
    h, w = change.shape
    x1, y1, x2, y2 = (int(v) for v in box_work)
    x1, x2 = max(0, min(x1, w)), max(0, min(x2, w))
    y1, y2 = max(0, min(y1, h)), max(0, min(y2, h))
    if x2 <= x1 or y2 <= y1:
        return float("nan")
    dx = max(1, round(RING_SHARE * (x2 - x1)))
    dy = max(1, round(RING_SHARE * (y2 - y1)))
    ox1, oy1, ox2, oy2 = max(0, x1 - dx), max(0, y1 - dy), min(w, x2 + dx), min(h, y2 + dy)
    outer = change[oy1:oy2, ox1:ox2]
    ring = np.ones(outer.shape, bool)
    ring[y1 - oy1:y2 - oy1, x1 - ox1:x2 - ox1] = False
    if not ring.any():
        return float("nan")
    inside = float(change[y1:y2, x1:x2].mean())
    return inside - float(np.median(outer[ring]))
