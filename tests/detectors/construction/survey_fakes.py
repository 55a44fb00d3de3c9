"""Fakes shared by the survey unit tests: a change map as `compare` would give it, drawn by hand."""

from __future__ import annotations

import cv2
import numpy as np
from numpy.typing import NDArray

from detectors.construction.survey.change import ChangeMap


def fake_change_map(after: NDArray[np.uint8], changed: tuple[int, int, int, int], cell_m: float) -> ChangeMap:
    """A change map as `compare` would give for a block that changed and ground that did not (a fake)."""
    x0, y0, x1, y1 = changed
    score = np.zeros(after.shape[:2], np.float32)
    score[y0:y1, x0:x1] = 20.0
    lab = np.asarray(cv2.cvtColor(after.astype(np.float32) / 255.0, cv2.COLOR_BGR2Lab), np.float32)
    return ChangeMap(
        cell_m=cell_m,
        score=score,
        chroma=score.copy(),
        luminance=np.zeros_like(score),
        texture=np.zeros_like(score),
        valid=np.ones(after.shape[:2], bool),
        after_lab=lab,
        before_lab=lab,
        after_bgr=after,
        before_bgr=after,
        factor=1,
    )
