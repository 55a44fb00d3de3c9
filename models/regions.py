"""Regions to crops and back: where gated inference looks, and how its boxes return to the frame.

A region (a changed blob, a detector's candidate, an open incident) is small; the model needs context to
judge it, and a small distant flame needs magnification. So each region becomes a crop centred on it,
`context_share` of its shorter side wider on every side, each side at least `min_side_px`, shifted (not
cut) to stay inside the frame. Overlapping crops merge into their bounding box until none overlap, so no object is
inferred twice. The crop is then letterboxed to its input size by the model, which gives its boxes
in crop pixels; adding the crop's integer top-left corner puts them in source pixels exactly.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from models.detections import Detections
from models.tiling import merge_detections


def context_crops(
    boxes: NDArray[np.floating], frame_hw: tuple[int, int], context_share: float, min_side_px: int,
) -> NDArray[np.int32]:
    """(N, 4) integer x1, y1, x2, y2 crops around `boxes` (source pixels), each inside the frame.

    Each box grows by `context_share` of its shorter side on every side (a long thin region does not drag
    in a square of sky), each side at least `min_side_px`, centred, and shifted (not cut) into the frame;
    a side longer than the frame spans it.
    """
    h, w = frame_hw
    if len(boxes) == 0:
        return np.zeros((0, 4), np.int32)
    b = np.asarray(boxes, np.float64).reshape(-1, 4)
    bw, bh = b[:, 2] - b[:, 0], b[:, 3] - b[:, 1]
    margin = 2.0 * context_share * np.minimum(bw, bh)
    side_x = np.minimum(np.maximum(np.ceil(bw + margin), float(min_side_px)), w)
    side_y = np.minimum(np.maximum(np.ceil(bh + margin), float(min_side_px)), h)
    cx, cy = (b[:, 0] + b[:, 2]) / 2.0, (b[:, 1] + b[:, 3]) / 2.0
    x1 = np.clip(np.round(cx - side_x / 2.0), 0, w - side_x)
    y1 = np.clip(np.round(cy - side_y / 2.0), 0, h - side_y)
    return np.column_stack([x1, y1, x1 + side_x, y1 + side_y]).astype(np.int32)


_Box = tuple[int, int, int, int]


def merge_overlapping(crops: NDArray[np.int32]) -> NDArray[np.int32]:
    """Replace overlapping crops by their bounding box until no two overlap (order: largest first)."""
    boxes: list[_Box] = [(int(a), int(b), int(c), int(d)) for a, b, c, d in np.asarray(crops).reshape(-1, 4).tolist()]
    merged = True
    while merged and len(boxes) > 1:
        merged = False
        out: list[_Box] = []
        for box in boxes:
            for i, other in enumerate(out):
                if box[0] < other[2] and other[0] < box[2] and box[1] < other[3] and other[1] < box[3]:
                    out[i] = (min(box[0], other[0]), min(box[1], other[1]), max(box[2], other[2]),
                              max(box[3], other[3]))
                    merged = True
                    break
            else:
                out.append(box)
        boxes = out
    boxes.sort(key=lambda c: -(c[2] - c[0]) * (c[3] - c[1]))
    return np.asarray(boxes, np.int32).reshape(-1, 4)


def plan_crops(
    regions: NDArray[np.floating], frame_hw: tuple[int, int], context_share: float, min_side_px: int,
) -> NDArray[np.int32]:
    """Non-overlapping crops (source pixels) covering every region with its context."""
    return merge_overlapping(context_crops(regions, frame_hw, context_share, min_side_px))


def cut(image: NDArray[np.uint8], crops: NDArray[np.int32]) -> list[NDArray[np.uint8]]:
    """Views of `image` for each crop (no copy)."""
    return [image[y1:y2, x1:x2] for x1, y1, x2, y2 in crops.tolist()]


def to_source(per_crop: list[Detections], crops: NDArray[np.int32], iou_threshold: float = 0.7) -> Detections:
    """Crop-pixel detections shifted into source pixels and merged into one `Detections`.

    Crops do not overlap, so duplicates are rare (an object cut by two crop edges); class-aware NMS at
    `iou_threshold` removes those.
    """
    return merge_source([shift(det, crop) for crop, det in zip(crops, per_crop, strict=True)], iou_threshold)


def shift(det: Detections, crop: NDArray[np.int32]) -> Detections:
    """One crop's detections moved from crop pixels into source pixels (exact: the corner is an integer)."""
    if not len(det):
        return det
    x1, y1 = int(crop[0]), int(crop[1])
    return Detections(det.xyxy + np.asarray([x1, y1, x1, y1], np.float32), det.confidence, det.class_id)


def merge_source(parts: list[Detections], iou_threshold: float = 0.7) -> Detections:
    """Detections of several crops, already in source pixels, as one; class-aware NMS at `iou_threshold`
    removes an object found twice (cut by two crop edges, or given again from an earlier look)."""
    found = [d for d in parts if len(d)]
    if not found:
        return Detections.empty()
    return merge_detections(Detections.concat(found), "iou", iou_threshold)
