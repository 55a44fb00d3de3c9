"""A weights-free cue for blue colour-steel roofs (彩钢瓦), the commonest sign of illegal sheds.

What makes such a roof recognisable from above, and what this cue measures per blue blob:
- colour: a saturated mid blue (HSV hue window, saturation and brightness floors);
- shape: a rectangle (blob area over its rotated bounding rectangle);
- corrugation: parallel ribs, i.e. brightness gradients that all point one way (structure-tensor
  coherence), strong enough to be texture rather than noise (RMS gradient), and running along a side
  of the rectangle (alignment).
Size on the ground (m²) is checked by the detector once the blob's rectangle is projected.

Blobs are few per frame, so the per-blob work is a loop over crops; everything per pixel is numpy/cv2.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import cv2
import numpy as np
from numpy.typing import NDArray

from detectors.construction.config import BlueRoofCueConfig


@dataclass(frozen=True, slots=True)
class RoofCues:
    """Candidate roofs of one frame as arrays: rotated rectangles in source pixels and their features."""

    quads_px: NDArray[np.float64]
    """(N, 4, 2) corners of each blob's rotated bounding rectangle, source pixels."""
    confidence: NDArray[np.float32]
    fill: NDArray[np.float32]
    rib_coherence: NDArray[np.float32]
    rib_contrast: NDArray[np.float32]
    rib_alignment: NDArray[np.float32]
    area_px: NDArray[np.float32]
    touches_border: NDArray[np.bool_]

    def __len__(self) -> int:
        return int(self.quads_px.shape[0])

    @classmethod
    def empty(cls) -> RoofCues:
        z = np.zeros(0, np.float32)
        return cls(np.zeros((0, 4, 2)), z, z, z, z, z, z, np.zeros(0, bool))

    def select(self, keep: NDArray[np.bool_]) -> RoofCues:
        return RoofCues(
            self.quads_px[keep],
            self.confidence[keep],
            self.fill[keep],
            self.rib_coherence[keep],
            self.rib_contrast[keep],
            self.rib_alignment[keep],
            self.area_px[keep],
            self.touches_border[keep],
        )


def _ramp(x: NDArray[np.float32], lo: float, hi: float) -> NDArray[np.float32]:
    out: NDArray[np.float32] = np.clip((x - lo) / (hi - lo), 0.0, 1.0).astype(np.float32)
    return out


def blue_mask(image_bgr: NDArray[np.uint8], cfg: BlueRoofCueConfig) -> NDArray[np.uint8]:
    """255 where a pixel is roof blue, after closing rib shadows and opening away speckles."""
    hsv = cv2.cvtColor(image_bgr, cv2.COLOR_BGR2HSV)
    raw = cv2.inRange(hsv, (cfg.hue_min, cfg.min_saturation, cfg.min_value), (cfg.hue_max, 255, 255))
    kernel = cv2.getStructuringElement(cv2.MORPH_RECT, (3, 3))
    closed = cv2.morphologyEx(raw, cv2.MORPH_CLOSE, kernel, iterations=2)
    return np.asarray(cv2.morphologyEx(closed, cv2.MORPH_OPEN, kernel), np.uint8)


def _texture(gray: NDArray[np.float32], inner: NDArray[np.bool_], rect_angle_deg: float) -> tuple[float, float, float]:
    """(coherence, median rib gradient in grey levels/px, alignment with the rectangle) inside `inner`.

    The contrast is the median of the gradients' component along the dominant direction: ribs slope
    over most of a roof, so the median is high, while a few painted lines (a sports court) or a
    window edge (a car) leave it at the noise level however strong they are.
    """
    gx = cv2.Sobel(gray, cv2.CV_32F, 1, 0, ksize=3)[inner] / 8.0
    gy = cv2.Sobel(gray, cv2.CV_32F, 0, 1, ksize=3)[inner] / 8.0
    if gx.size < 16:
        return 0.0, 0.0, 0.0
    jxx, jyy, jxy = float(np.mean(gx * gx)), float(np.mean(gy * gy)), float(np.mean(gx * gy))
    trace = jxx + jyy
    if trace <= 1e-9:
        return 0.0, 0.0, 0.0
    coherence = math.sqrt((jxx - jyy) ** 2 + 4 * jxy**2) / trace
    theta = 0.5 * math.atan2(2 * jxy, jxx - jyy)
    contrast = float(np.median(np.abs(gx * math.cos(theta) + gy * math.sin(theta))))
    off = abs((math.degrees(theta) - rect_angle_deg) % 90.0)
    off = min(off, 90.0 - off)
    return coherence, contrast, 1.0 - off / 45.0


def find_blue_roofs(image_bgr: NDArray[np.uint8], cfg: BlueRoofCueConfig) -> RoofCues:
    """All blue rectangular ribbed blobs in a BGR frame, scored (keep `confidence >= min_confidence`)."""
    h0, w0 = image_bgr.shape[:2]
    scale = min(1.0, cfg.analysis_width_px / w0)
    img: NDArray[np.uint8] = (
        image_bgr
        if scale == 1.0
        else np.asarray(
            cv2.resize(image_bgr, (round(w0 * scale), round(h0 * scale)), interpolation=cv2.INTER_AREA),
            np.uint8,
        )
    )
    h, w = img.shape[:2]
    mask = blue_mask(img, cfg)
    n, labels, stats, _ = cv2.connectedComponentsWithStats(mask, connectivity=8)
    if n <= 1:
        return RoofCues.empty()
    areas = stats[1:, cv2.CC_STAT_AREA]
    order = np.argsort(-areas)
    order = order[areas[order] >= cfg.min_area_px][: cfg.max_candidates] + 1
    if len(order) == 0:
        return RoofCues.empty()
    gray = cv2.cvtColor(img, cv2.COLOR_BGR2GRAY).astype(np.float32)
    erode = cv2.getStructuringElement(cv2.MORPH_RECT, (5, 5))
    quads = np.zeros((len(order), 4, 2))
    feats = np.zeros((len(order), 5), np.float32)
    border = np.zeros(len(order), bool)
    for row, label in enumerate(order):
        x, y, bw, bh, area = (int(v) for v in stats[label])
        blob = (labels[y : y + bh, x : x + bw] == label).astype(np.uint8)
        contours, _ = cv2.findContours(blob, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
        hull = max(contours, key=cv2.contourArea)
        (cx, cy), (rw, rh), angle = cv2.minAreaRect(hull)
        rect_area = max(rw * rh, 1.0)
        # Texture is read away from the blob's edge, where the roof outline itself would dominate.
        pad = 2
        gx0, gy0 = max(0, x - pad), max(0, y - pad)
        crop = gray[gy0 : min(h, y + bh + pad), gx0 : min(w, x + bw + pad)]
        inner_full = np.zeros(crop.shape, np.uint8)
        inner_full[y - gy0 : y - gy0 + bh, x - gx0 : x - gx0 + bw] = blob
        inner = cv2.erode(inner_full, erode).astype(bool)
        coherence, contrast, alignment = _texture(crop, inner, angle)
        corners = cv2.boxPoints(((cx + x, cy + y), (rw, rh), angle))
        quads[row] = corners / scale
        feats[row] = (area / rect_area, coherence, contrast, alignment, area / scale**2)
        border[row] = x <= 1 or y <= 1 or x + bw >= w - 1 or y + bh >= h - 1
    fill, coh, con, ali, area_px = feats.T
    score = (
        _ramp(fill, cfg.min_fill_ratio, cfg.full_fill_ratio)
        * _ramp(coh, cfg.min_rib_coherence, cfg.full_rib_coherence)
        * _ramp(con, cfg.min_rib_contrast, cfg.full_rib_contrast)
        * _ramp(ali, cfg.min_rib_alignment, cfg.full_rib_alignment)
    ) ** 0.25
    return RoofCues(quads, score.astype(np.float32), fill, coh, con, ali, area_px, border)
