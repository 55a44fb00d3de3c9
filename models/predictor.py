"""The one method the batcher and tiling need from a model, as a protocol (YoloModel satisfies it).

Keeping it separate lets tests put a named fake model at this seam and lets several model kinds share
the batcher.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

import numpy as np
from numpy.typing import NDArray

from models.detections import Detections


class Predictor(Protocol):
    """Something that turns BGR frames into one `Detections` per frame, in each frame's pixels."""

    @property
    def name(self) -> str: ...

    def predict(
        self, images: Sequence[NDArray[np.uint8]], input_hw: tuple[int, int] | None = None,
    ) -> list[Detections]:
        """Detections per image; `input_hw` (gated crops) runs them at that model input size instead of the
        model's own."""
        ...
