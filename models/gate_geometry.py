"""A model's input geometry, as gated inference needs it: what a whole frame costs against its crops.

The gate runs crops instead of the frame only while the crops cost less model input; and each crop gets an
input size that magnifies a small region but never shows a large one coarser than the whole frame would.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
from numpy.typing import NDArray

from models.preprocess import plan_batch

if TYPE_CHECKING:
    from models.runtime import ModelInfo


@dataclass(frozen=True)
class ModelGeometry:
    """What the gate needs to know of a model to price a frame against crops."""

    imgsz: tuple[int, int]
    stride: int
    dynamic: bool
    rect: bool

    def full_input_px(self, frame_hw: tuple[int, int]) -> int:
        """Model input pixels of one whole frame (rect letterboxing when the model uses it)."""
        (h, w), _ = plan_batch([frame_hw], self.imgsz, self.stride, rect=self.rect)
        return h * w

    @classmethod
    def of(cls, info: ModelInfo) -> ModelGeometry:
        """The geometry of a loaded model."""
        return cls(imgsz=info.imgsz, stride=info.stride, dynamic=info.dynamic_hw, rect=info.rect)

    def crop_input_hw(self, crop_input_px: int) -> tuple[int, int]:
        """Input size of a small crop: `crop_input_px` rounded down to the stride, or the fixed export's size."""
        if not self.dynamic:
            return self.imgsz
        side = max(self.stride, crop_input_px // self.stride * self.stride)
        return side, side

    def crop_inputs(
        self, crops: NDArray[np.int32], frame_hw: tuple[int, int], crop_input_px: int,
    ) -> tuple[tuple[int, int], ...]:
        """Each crop's model input (height, width): the longer side at least `crop_input_px` (a small region
        is magnified) and at least what the whole frame's scale gives (a large region is never seen
        coarser than in a sweep), at most the model's own size; the shorter side in proportion. Multiples
        of the stride. A fixed-shape export runs every crop at its own size."""
        base = self.crop_input_hw(crop_input_px)[0]
        if not self.dynamic:
            return tuple(self.imgsz for _ in range(len(crops)))
        scale = min(self.imgsz[0] / frame_hw[0], self.imgsz[1] / frame_hw[1])
        top = max(self.imgsz)
        s = self.stride
        out = []
        for x1, y1, x2, y2 in crops.tolist():
            cw, ch = x2 - x1, y2 - y1
            long_in = min(top, max(base, math.ceil(max(cw, ch) * scale / s) * s))
            short_in = min(long_in, max(s, math.ceil(min(cw, ch) * long_in / max(cw, ch) / s) * s))
            out.append((long_in, short_in) if ch >= cw else (short_in, long_in))
        return tuple(out)
