"""Inside-the-blob evidence (`detectors.fire.inner`): two-way change and hot pixels, on small arrays."""

from __future__ import annotations

import cv2
import numpy as np

from detectors.fire.colour import ycrcb
from detectors.fire.inner import change_maps, hot_pixels, inner_change

FULL = np.array([[0, 0, 40, 40]], np.int64)


def _patch(seed: int) -> np.ndarray:
    """A 40x40 orange patch with bright and dark streaks at random places (a flame's inside)."""
    rng = np.random.default_rng(seed)
    img = np.full((40, 40, 3), (20, 130, 240), np.uint8)
    for _ in range(12):
        x, y = (int(v) for v in rng.integers(2, 38, 2))
        tone = (90, 230, 255) if rng.random() < 0.5 else (10, 80, 170)
        cv2.circle(img, (x, y), 3, tone, -1)
    return img


def _share(now: np.ndarray, prev: np.ndarray, tolerance_px: int = 1) -> float:
    maps = change_maps(ycrcb(now), ycrcb(prev), 6, 8, tolerance_px)
    share, _ = inner_change(maps, np.ones((40, 40), bool), FULL)
    return float(share[0])


def test_turbulence_changes_both_ways() -> None:
    assert _share(_patch(1), _patch(2)) > 0.1  # measured 0.156; the default min_inner_change is 0.08


def test_uniform_brightening_or_dimming_is_not_inner_change() -> None:
    base = _patch(1)
    brighter = cv2.add(base, np.full_like(base, 30))
    assert _share(brighter, base) == 0.0
    assert _share(base, brighter) == 0.0


def test_one_pixel_sway_is_tolerated_and_a_still_patch_scores_zero() -> None:
    base = _patch(3)
    swayed = np.roll(base, 1, axis=1)
    assert _share(base, base) == 0.0
    assert _share(swayed, base) < 0.02
    assert _share(swayed, base, tolerance_px=0) > 0.05  # without the tolerance the edges would count


def test_hot_pixels_are_bright_and_not_bluish() -> None:
    img = np.zeros((1, 4, 3), np.uint8)
    img[0] = [(90, 230, 255), (20, 130, 250), (255, 230, 200), (235, 235, 235)]  # yellow, orange, sky, white
    hot = hot_pixels(ycrcb(img), 180)[0].tolist()
    assert hot == [True, False, False, True]
