"""Weights-free smoke cue (experimental, `smoke.enabled`), per camera.

Pixels that differ from a slow background model, are grey (low chroma), and are no more colourful than
the background there; boxes carry a blur ratio (edge energy now over edge energy of the background),
which is below 1 where smoke veils texture. Works on the flame cue's `WorkFrame`.
"""

from __future__ import annotations

import cv2
import numpy as np
from numpy.typing import NDArray

from detectors.fire.blobs import blob_boxes, box_sums, integral
from detectors.fire.candidates import KIND_SMOKE, SOURCE_CUE, Candidates
from detectors.fire.colour import chroma, ycrcb
from detectors.fire.cue_config import SmokeCueConfig
from detectors.fire.work_frame import CueResult, WorkFrame


class SmokeCue:
    """Grey, translucent change against a slow background model of one camera (experimental)."""

    def __init__(self) -> None:
        self._bg: NDArray[np.float32] | None = None
        self._bg_chroma: NDArray[np.float32] | None = None
        self.last_mask: NDArray[np.bool_] | None = None

    def step(self, work: WorkFrame, cfg: SmokeCueConfig, merge_gap_share: float) -> CueResult:
        k = min(1.0, cfg.work_width_px / work.size[0])
        size = (max(8, round(work.size[0] * k)), max(8, round(work.size[1] * k)))
        small = (
            work.image if k >= 1.0 else np.asarray(cv2.resize(work.image, size, interpolation=cv2.INTER_AREA), np.uint8)
        )
        allowed = (
            work.allowed
            if k >= 1.0
            else np.asarray(cv2.resize(work.allowed.astype(np.uint8), size, interpolation=cv2.INTER_NEAREST), bool)
        )
        ycc = ycrcb(small)
        gray = ycc[..., 0].astype(np.float32)
        chroma_now = chroma(ycc).astype(np.float32)
        bg, bg_chroma = self._bg, self._bg_chroma
        if bg is None or bg_chroma is None or bg.shape != gray.shape:
            self._bg, self._bg_chroma = gray, chroma_now
            return CueResult(Candidates.empty())
        # Follow global exposure changes (auto-iris, a cloud) so they do not read as smoke everywhere.
        gain = float(np.clip(np.median(bg) / max(float(np.median(gray)), 1.0), 0.7, 1.4))
        gray = gray * np.float32(gain)
        # Change beyond the background's own 3x3 range, so a swaying camera's edges are not change.
        kernel = np.ones((3, 3), np.uint8)
        above = gray - np.asarray(cv2.dilate(bg, kernel), np.float32)
        below = np.asarray(cv2.erode(bg, kernel), np.float32) - gray
        diff = np.maximum(np.maximum(above, below), 0.0)
        smoke = (diff >= cfg.min_change) & (chroma_now <= cfg.max_chroma) & (chroma_now <= bg_chroma + 4.0) & allowed
        self.last_mask = smoke
        # Learn the background everywhere except where smoke is, so a slow plume is not absorbed.
        alpha = np.float32(cfg.background_alpha)
        learn = ~cv2.dilate(smoke.astype(np.uint8), np.ones((5, 5), np.uint8)).astype(bool)
        self._bg = np.where(learn, bg + alpha * (gray - bg), bg).astype(np.float32)
        self._bg_chroma = np.where(learn, bg_chroma + alpha * (chroma_now - bg_chroma), bg_chroma).astype(np.float32)
        gap = round(merge_gap_share * size[0])
        boxes, counts = blob_boxes(smoke, gap, cfg.min_component_px)
        if len(boxes) == 0:
            return CueResult(Candidates.empty())
        area = np.maximum((boxes[:, 2] - boxes[:, 0]) * (boxes[:, 3] - boxes[:, 1]), 1).astype(np.float64)
        # Edge energy now over edge energy of the background, with a floor so a flat sky does not divide
        # by zero: below 1 where smoke veils texture, above 1 where a solid object brings new edges.
        floor = _EDGE_FLOOR * area
        blur = (box_sums(integral(_edge_energy(gray)), boxes) + floor) / (
            box_sums(integral(_edge_energy(bg)), boxes) + floor
        )
        fill = counts / area
        score = np.clip(0.3 + 0.4 * fill + 0.3 * np.clip(1.0 - blur, 0.0, 1.0), 0.0, 1.0)
        to_source = boxes.astype(np.float32) * np.float32(work.scale / k)
        return CueResult(Candidates.build(to_source, KIND_SMOKE, score, SOURCE_CUE, blur_ratio=blur))


_EDGE_FLOOR = 8.0
"""Edge energy per pixel added to both sides of the smoke blur ratio (about a faint texture)."""


def _edge_energy(gray: NDArray[np.float32]) -> NDArray[np.float32]:
    gx = cv2.Sobel(gray, cv2.CV_32F, 1, 0, ksize=3)
    gy = cv2.Sobel(gray, cv2.CV_32F, 0, 1, ksize=3)
    out: NDArray[np.float32] = np.abs(gx) + np.abs(gy)
    return out
