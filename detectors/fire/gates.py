"""Where fire may be reported: the zone/mask raster the cues look in, and the size/zone/mask gates every
candidate (model box or cue blob) passes before it reaches a track."""

from __future__ import annotations

from collections import Counter

import numpy as np
from numpy.typing import NDArray

from detectors.fire.blobs import box_areas, box_sums
from detectors.fire.camera_state import DetectorSettings
from detectors.fire.candidates import Candidates
from ingest.frame import Frame


def allowed_pixels(s: DetectorSettings, size: tuple[int, int]) -> NDArray[np.bool_]:
    """Pixels inside the zones (everywhere without zones) and outside every mask, at a (width, height)."""
    w, h = size
    allowed = s.zones.raster(w, h).copy() if s.zones else np.ones((h, w), bool)
    if s.masks:
        allowed &= ~s.masks.raster(w, h)
    return allowed


def gate(cands: Candidates, frame: Frame, s: DetectorSettings, rejected: Counter[str] | None) -> Candidates:
    """Drop candidates that are too small, too wide, outside the zones or mostly inside a mask
    (`rejected`: the reject counters the drops are added to; None for the model's corroborating evidence)."""
    if len(cands) == 0:
        return cands
    cfg = s.config
    w, h = frame.width, frame.height
    area = box_areas(cands.xyxy)
    width = cands.xyxy[:, 2] - cands.xyxy[:, 0]
    keep = np.ones((len(cands),), bool)
    checks: list[tuple[str, NDArray[np.bool_]]] = [
        ("too_small", area < cfg.area.min_box_area_share * w * h),
        ("too_wide", width > cfg.area.max_box_width_share * w),
    ]
    if s.zones:
        xy = cands.xyxy
        centre = np.column_stack([(xy[:, 0] + xy[:, 2]) / 2, (xy[:, 1] + xy[:, 3]) / 2])
        checks.append(("outside_zone", ~s.zones.covers_points(centre, w, h)))
    if s.masks:
        inside = box_sums(s.mask_table(w, h), np.round(cands.xyxy).astype(np.int64))
        masked = inside > cfg.mask_max_overlap * np.maximum(area, 1.0)
        checks.append(("masked", masked))
    for reason, bad in checks:
        newly = bad & keep
        if rejected is not None and newly.any():
            rejected[reason] += int(newly.sum())
        keep &= ~bad
    return cands[keep]
