"""Tiled (SAHI-style) inference: small objects in large drone frames.

A 5472x3648 drone frame letterboxed to 640 shrinks a 40 px object to 5 px, below what a detector sees.
Tiling slices the frame into overlapping model-sized tiles (1:1 pixels), runs them as one batch, shifts
each tile's boxes back into the frame and merges duplicates where tiles overlap: class-aware greedy NMS
with intersection over the smaller box by default, so an object cut at a tile edge merges with its
whole copy from the neighbouring tile. Optionally the whole frame is run too, for objects larger than
a tile.
"""

from __future__ import annotations

from typing import Literal

import numpy as np
from numpy.typing import NDArray

from models.config import TilingConfig
from models.detections import Detections
from models.postprocess import nms
from models.predictor import Predictor


def tile_starts(length_px: int, tile_px: int, overlap_ratio: float) -> list[int]:
    """Start offsets covering [0, length) with tiles of `tile_px` overlapping by `overlap_ratio`.

    The last tile is flush with the far edge, so no tile hangs over it and every pixel is covered.
    """
    if length_px <= tile_px:
        return [0]
    step = max(1, int(tile_px * (1.0 - overlap_ratio)))
    starts = list(range(0, length_px - tile_px, step))
    starts.append(length_px - tile_px)
    return starts


def tile_grid(height_px: int, width_px: int, tile_px: int, overlap_ratio: float) -> NDArray[np.int32]:
    """Tiles of a height x width frame as (T, 4) x1, y1, x2, y2 pixel rectangles, row by row."""
    ys = tile_starts(height_px, tile_px, overlap_ratio)
    xs = tile_starts(width_px, tile_px, overlap_ratio)
    grid = [(x, y, min(x + tile_px, width_px), min(y + tile_px, height_px)) for y in ys for x in xs]
    return np.asarray(grid, np.int32).reshape(-1, 4)


def merge_detections(
    dets: Detections, metric: Literal["iou", "ios"], threshold: float, *, class_aware: bool = True,
) -> Detections:
    """Greedy class-aware NMS over detections gathered from overlapping tiles (best score kept)."""
    if len(dets) < 2:
        return dets
    boxes = dets.xyxy
    if class_aware:  # shift each class to its own region so boxes of different classes never overlap
        span = np.float32(boxes.max() + 1.0)
        boxes = boxes + dets.class_id.astype(np.float32)[:, None] * span
    keep = nms(boxes, dets.confidence, threshold, len(dets), metric)
    return dets[keep]


def predict_tiled(
    model: Predictor,
    image: NDArray[np.uint8],
    tile_px: int = 640,
    overlap_ratio: float = 0.2,
    *,
    match_metric: Literal["iou", "ios"] = "ios",
    match_threshold: float = 0.5,
    include_full_frame: bool = False,
) -> Detections:
    """Detections for one large BGR frame, in its pixels, from overlapping tiles run as one batch."""
    h, w = image.shape[:2]
    tiles = tile_grid(h, w, tile_px, overlap_ratio)
    crops = [image[y1:y2, x1:x2] for x1, y1, x2, y2 in tiles.tolist()]
    if include_full_frame and len(crops) > 1:
        crops.append(image)
    results = model.predict(crops)
    shifted: list[Detections] = []
    for (x1, y1, _, _), det in zip(tiles.tolist(), results, strict=False):
        if len(det):
            offset = np.asarray([x1, y1, x1, y1], np.float32)
            shifted.append(Detections(det.xyxy + offset, det.confidence, det.class_id))
    if len(results) > len(tiles):
        shifted.append(results[-1])
    return merge_detections(Detections.concat(shifted), match_metric, match_threshold)


def predict_tiled_config(model: Predictor, image: NDArray[np.uint8], cfg: TilingConfig) -> Detections:
    """`predict_tiled` with settings from a detector's `TilingConfig`."""
    return predict_tiled(
        model, image, cfg.tile_px, cfg.overlap_ratio, match_metric=cfg.match_metric,
        match_threshold=cfg.match_threshold, include_full_frame=cfg.include_full_frame,
    )
