"""Seeded test pictures and an independent box matcher shared by the models tests."""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from models.detections import Detections
from models.export import synthetic_scene


def scenes(shapes: list[tuple[int, int]], seed: int = 0) -> list[NDArray[np.uint8]]:
    """Seeded synthetic BGR scenes of the given (height, width) shapes."""
    return [synthetic_scene(seed + i, h, w) for i, (h, w) in enumerate(shapes)]


def unmatched(
    ours: Detections, xyxy: NDArray[np.floating], conf: NDArray[np.floating], cls: NDArray[np.integer],
    *, px: float = 1.0, score: float = 1e-3,
) -> tuple[list[int], list[int]]:
    """Boxes of each side with no partner of the same class within `px` on every side and `score`.

    Returns (indices of ours unmatched, indices of theirs unmatched); one-to-one, best score first.
    """
    used: set[int] = set()
    theirs_left: list[int] = []
    for j in np.argsort(-conf, kind="stable").tolist():
        close = (
            (ours.class_id == cls[j])
            & (np.abs(ours.xyxy - xyxy[j]).max(axis=1) <= px)
            & (np.abs(ours.confidence - conf[j]) <= score)
        )
        free = [i for i in np.flatnonzero(close).tolist() if i not in used]
        if free:
            used.add(free[0])
        else:
            theirs_left.append(j)
    ours_left = [i for i in range(len(ours)) if i not in used]
    return ours_left, theirs_left
