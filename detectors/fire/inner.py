"""Evidence from inside a flame-coloured blob: its texture changing both ways, and a hot core.

A steady flame can keep its colour outline from frame to frame while everything inside it moves: bright
and dark streaks rise through it and its colour shifts between orange and yellow. A sign, a painted
wall or a red coat keeps both outline and inside; a lamp that blinks or fades, or a camera changing its
exposure, changes its inside one way only (all brighter or all darker). So a pixel counts as changed
when its brightness (or its warmth, Cr - Cb) leaves the range the previous frame held in its 3x3
neighbourhood by more than a step (a one-pixel sway or an edge is not change), and a blob's inner change
is the smaller of its brighter and darker shares, doubled: high for turbulence, near 0 for a uniform
brightening or dimming.

A flame also emits light: somewhere in or at its edge are hot pixels, bright and not bluish (the
yellow-white core). Dim orange things (a coat, brick, a wooden floor, a beige facade at dusk) have none.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np
from numpy.typing import NDArray

from detectors.fire.blobs import box_sums, integral


@dataclass(frozen=True, slots=True)
class ChangeMaps:
    """Per-pixel two-way change between two aligned frames (work size), for brightness and warmth."""

    brighter: NDArray[np.bool_]
    darker: NDArray[np.bool_]
    warmer: NDArray[np.bool_]
    cooler: NDArray[np.bool_]

    @property
    def any(self) -> NDArray[np.bool_]:
        out: NDArray[np.bool_] = self.brighter | self.darker | self.warmer | self.cooler
        return out


def _beyond(
    now: NDArray[np.int16], prev: NDArray[np.int16], step: int, tolerance_px: int
) -> tuple[NDArray[np.bool_], NDArray[np.bool_]]:
    if tolerance_px <= 0:
        return now > prev + step, now < prev - step
    kernel = np.ones((2 * tolerance_px + 1, 2 * tolerance_px + 1), np.uint8)
    hi = np.asarray(cv2.dilate(prev, kernel), np.int16)
    lo = np.asarray(cv2.erode(prev, kernel), np.int16)
    return now > hi + step, now < lo - step


def change_maps(
    now_ycc: NDArray[np.int16],
    prev_ycc: NDArray[np.int16],
    luma_step: int,
    warmth_step: int,
    tolerance_px: int = 1,
) -> ChangeMaps:
    """Pixels that left the previous frame's range within `tolerance_px` by more than a step, each way.

    `prev_ycc` must already be aligned to `now_ycc` (the camera's sway removed).
    """
    brighter, darker = _beyond(now_ycc[..., 0], prev_ycc[..., 0], luma_step, tolerance_px)
    warm_now = (now_ycc[..., 1] - now_ycc[..., 2]).astype(np.int16)
    warm_prev = (prev_ycc[..., 1] - prev_ycc[..., 2]).astype(np.int16)
    warmer, cooler = _beyond(warm_now, warm_prev, warmth_step, tolerance_px)
    return ChangeMaps(brighter, darker, warmer, cooler)


def hot_pixels(ycc: NDArray[np.int16], min_luma: int) -> NDArray[np.bool_]:
    """Bright pixels that are not bluish (Cr >= Cb): a flame's yellow-white core and its bright rim."""
    out: NDArray[np.bool_] = (ycc[..., 0] >= min_luma) & (ycc[..., 1] >= ycc[..., 2])
    return out


def inner_change(
    maps: ChangeMaps, region: NDArray[np.bool_], boxes: NDArray[np.integer]
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Per box: two-way changed share of the `region` pixels inside it, and the region's pixel count.

    The share is 2 * min(brighter, darker) / region for brightness, the same for warmth, and the larger
    of the two: 1 when half the pixels brightened and half darkened, 0 for a uniform change.
    """
    area = box_sums(integral(region), boxes)
    denom = np.maximum(area, 1.0)
    best = np.zeros((len(boxes),), np.float64)
    for up, down in ((maps.brighter, maps.darker), (maps.warmer, maps.cooler)):
        n_up = box_sums(integral(up & region), boxes)
        n_down = box_sums(integral(down & region), boxes)
        best = np.maximum(best, 2.0 * np.minimum(n_up, n_down) / denom)
    return best, area
