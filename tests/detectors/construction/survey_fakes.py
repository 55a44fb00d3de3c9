"""Fakes shared by the survey unit tests: a change map as `compare` would give it, drawn by hand."""

from __future__ import annotations

import cv2
import numpy as np
from numpy.typing import NDArray

from detectors.construction.survey.change import ChangeMap


def _lab(bgr: NDArray[np.uint8]) -> NDArray[np.float32]:
    return np.asarray(cv2.cvtColor(bgr.astype(np.float32) / 255.0, cv2.COLOR_BGR2Lab), np.float32)


def fake_change_map(
    after: NDArray[np.uint8],
    changed: tuple[int, int, int, int],
    cell_m: float,
    before: NDArray[np.uint8] | None = None,
) -> ChangeMap:
    """A change map as `compare` would give for a block that changed and ground that did not (a fake); the
    earlier view is the later one unless given."""
    x0, y0, x1, y1 = changed
    score = np.zeros(after.shape[:2], np.float32)
    score[y0:y1, x0:x1] = 20.0
    earlier = after if before is None else before
    return ChangeMap(
        cell_m=cell_m,
        score=score,
        chroma=score.copy(),
        luminance=np.zeros_like(score),
        texture=np.zeros_like(score),
        valid=np.ones(after.shape[:2], bool),
        after_lab=_lab(after),
        before_lab=_lab(earlier),
        after_bgr=after,
        before_bgr=earlier,
        factor=1,
    )
