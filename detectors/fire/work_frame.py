"""The shrunk frame both weights-free cues work on (`WorkFrame`) and what a cue returns per frame (`CueResult`).

Shared by the flame cue (`detectors.fire.cues`) and the smoke cue (`detectors.fire.smoke_cue`), so neither
imports the other's module."""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np
from numpy.typing import NDArray

from detectors.fire.candidates import Candidates
from detectors.fire.colour import ycrcb


@dataclass(frozen=True, slots=True)
class WorkFrame:
    """The frame shrunk for the cues, with the planes both cues use and the source/work scale."""

    source: NDArray[np.uint8]
    image: NDArray[np.uint8]
    ycc: NDArray[np.int16]
    scale: float
    allowed: NDArray[np.bool_]

    @classmethod
    def make(
        cls, image_bgr: NDArray[np.uint8], work_width_px: int, allowed: NDArray[np.bool_] | None = None
    ) -> WorkFrame:
        """Shrink (never enlarge) to `work_width_px`; `allowed` is a work-size mask of zones minus masks."""
        h, w = image_bgr.shape[:2]
        if w > work_width_px:
            scale = w / work_width_px
            size = (work_width_px, max(1, round(h / scale)))
            small = np.asarray(cv2.resize(image_bgr, size, interpolation=cv2.INTER_AREA), np.uint8)
        else:
            scale = 1.0
            small = np.ascontiguousarray(image_bgr)
        if allowed is None:
            allowed = np.ones(small.shape[:2], bool)
        return cls(source=image_bgr, image=small, ycc=ycrcb(small), scale=scale, allowed=allowed)

    def with_allowed(self, allowed: NDArray[np.bool_]) -> WorkFrame:
        return WorkFrame(self.source, self.image, self.ycc, self.scale, allowed)

    @property
    def size(self) -> tuple[int, int]:
        return int(self.image.shape[1]), int(self.image.shape[0])

    def to_source(self, boxes: NDArray[np.integer]) -> NDArray[np.float32]:
        out: NDArray[np.float32] = (boxes.astype(np.float32) * np.float32(self.scale)).astype(np.float32)
        return out


@dataclass(frozen=True, slots=True)
class CueResult:
    """What a cue found in one frame: accepted candidates and how many blobs it rejected, and why."""

    candidates: Candidates
    rejected_static: int = 0
    rejected_onset: int = 0
    rejected_dim: int = 0

    def rejections(self) -> dict[str, int]:
        """Blobs rejected in this frame by reason (`onset`, `dim`, `static`), each blob counted once."""
        counts = {"onset": self.rejected_onset, "dim": self.rejected_dim, "static": self.rejected_static}
        return {reason: n for reason, n in counts.items() if n}
