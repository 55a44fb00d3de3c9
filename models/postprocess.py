"""YOLO output -> `Detections` in source pixels: confidence filter, class-aware NMS, box mapping.

Two head layouts are decoded:
- anchor heads (YOLOv5u/v8/v11): `(B, 4 + nc, A)`, boxes as centre x/y, width, height in input pixels,
  class scores already sigmoid-ed; NMS is ours.
- end-to-end heads (YOLOv10/YOLO26, or an export with NMS inside): `(B, max_det, 6)` rows of
  x1, y1, x2, y2, score, class, best first; only the confidence filter and `max_det` apply.

The arithmetic follows Ultralytics' `non_max_suppression` and `scale_boxes` in float32 (same candidate
rule, best class per box, class offset of 7680 px for class-aware NMS, suppression when IoU > threshold),
so boxes, classes and scores agree with Ultralytics' predictor on the same ONNX file. Everything is
vectorised over boxes; the only Python loop is one iteration per *kept* box inside NMS.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from models.detections import Detections
from models.preprocess import Letterbox

MAX_WH = 7680.0  # per-class coordinate offset for class-aware NMS (as Ultralytics)
MAX_NMS = 30_000  # most candidates handed to NMS, best first


@dataclass(frozen=True, slots=True)
class PostprocessParams:
    """The filtering knobs: per-class thresholds (nc,), NMS IoU, boxes kept, agnostic NMS."""

    thresholds: NDArray[np.float32]
    iou_threshold: float
    max_det: int
    agnostic: bool = False

    @property
    def min_threshold(self) -> float:
        return float(self.thresholds.min())


def box_overlap_one(
    box: NDArray[np.float32], boxes: NDArray[np.float32], areas: NDArray[np.float32], area: np.float32,
    metric: str = "iou",
) -> NDArray[np.float32]:
    """Overlap of one xyxy box with many, in float32 as torchvision's CPU kernel computes IoU.

    `metric` "iou" is intersection over union; "ios" is intersection over the smaller box's area (for
    merging a box cut at a tile edge with the whole one).
    """
    w = np.maximum(np.minimum(box[2], boxes[:, 2]) - np.maximum(box[0], boxes[:, 0]), np.float32(0.0))
    h = np.maximum(np.minimum(box[3], boxes[:, 3]) - np.maximum(box[1], boxes[:, 1]), np.float32(0.0))
    inter = w * h
    if metric == "ios":
        return np.asarray(inter / np.maximum(np.minimum(area, areas), np.float32(1e-9)), np.float32)
    return np.asarray(inter / (area + areas - inter), np.float32)


MATRIX_NMS_MAX = 1024  # up to this many candidates, one pairwise overlap matrix beats per-box passes


def _overlap_matrix(
    boxes: NDArray[np.float32], areas: NDArray[np.float32], metric: str,
) -> NDArray[np.float32]:
    """Pairwise overlaps (row box against column box), element for element the same float32 arithmetic."""
    x1, y1, x2, y2 = (np.ascontiguousarray(boxes[:, k]) for k in range(4))
    zero = np.float32(0.0)
    w = np.maximum(np.minimum(x2[:, None], x2[None, :]) - np.maximum(x1[:, None], x1[None, :]), zero)
    h = np.maximum(np.minimum(y2[:, None], y2[None, :]) - np.maximum(y1[:, None], y1[None, :]), zero)
    inter = w * h
    if metric == "ios":
        smaller = np.maximum(np.minimum(areas[:, None], areas[None, :]), np.float32(1e-9))
        return np.asarray(inter / smaller, np.float32)
    return np.asarray(inter / (areas[:, None] + areas[None, :] - inter), np.float32)


def nms(
    boxes: NDArray[np.float32], scores: NDArray[np.float32], iou_threshold: float, max_keep: int,
    metric: str = "iou",
) -> NDArray[np.intp]:
    """Greedy NMS: indices of kept boxes, best first; a box goes if its overlap with a kept one > threshold.

    Same decisions as torchvision's NMS. Up to MATRIX_NMS_MAX candidates the overlaps are computed
    once as a matrix and the greedy pass only reads it; beyond that each kept box is compared with the
    boxes still in play. Stops after `max_keep` boxes (the caller truncates to max_det anyway, and later
    boxes cannot change earlier decisions).
    """
    order = np.argsort(-scores, kind="stable")
    rest = np.ascontiguousarray(boxes[order], np.float32)
    areas = (rest[:, 2] - rest[:, 0]) * (rest[:, 3] - rest[:, 1])
    keep: list[int] = []
    if order.size <= MATRIX_NMS_MAX:
        suppress = _overlap_matrix(rest, areas, metric) > iou_threshold
        removed = np.zeros(order.size, np.bool_)
        for i in range(order.size):
            if removed[i]:
                continue
            keep.append(int(order[i]))
            if len(keep) >= max_keep:
                break
            removed |= suppress[i]
        return np.asarray(keep, np.intp)
    while order.size and len(keep) < max_keep:
        keep.append(int(order[0]))
        if order.size == 1:
            break
        overlap = box_overlap_one(rest[0], rest[1:], areas[1:], areas[0], metric)
        survive = np.flatnonzero(overlap <= iou_threshold) + 1
        order, rest, areas = order[survive], rest[survive], areas[survive]
    return np.asarray(keep, np.intp)


def decode_anchor_head(
    pred: NDArray[np.float32], params: PostprocessParams,
) -> tuple[NDArray[np.float32], NDArray[np.float32], NDArray[np.int32]]:
    """One image's `(4 + nc, A)` prediction -> kept (xyxy, score, class) in model-input pixels."""
    scores = pred[4:]
    best = scores.max(axis=0)
    cand = np.flatnonzero(best > params.min_threshold)
    if cand.size:
        cls = scores[:, cand].argmax(axis=0).astype(np.int32)
        conf = best[cand]
        ok = conf > params.thresholds[cls]
        cand, cls, conf = cand[ok], cls[ok], conf[ok]
    if not cand.size:
        return np.zeros((0, 4), np.float32), np.zeros((0,), np.float32), np.zeros((0,), np.int32)
    if cand.size > MAX_NMS:
        top = np.argsort(-conf, kind="stable")[:MAX_NMS]
        cand, cls, conf = cand[top], cls[top], conf[top]
    xywh = pred[:4, cand].T
    half = xywh[:, 2:4] / np.float32(2.0)
    xyxy = np.concatenate([xywh[:, 0:2] - half, xywh[:, 0:2] + half], axis=1)
    offset = np.float32(0.0) if params.agnostic else cls.astype(np.float32)[:, None] * np.float32(MAX_WH)
    keep = nms(xyxy + offset, conf, params.iou_threshold, params.max_det)
    return xyxy[keep], conf[keep], cls[keep]


def decode_end2end(
    pred: NDArray[np.float32], params: PostprocessParams,
) -> tuple[NDArray[np.float32], NDArray[np.float32], NDArray[np.int32]]:
    """One image's `(max_det, 6)` end-to-end rows -> (xyxy, score, class) above threshold, best first."""
    cls = pred[:, 5].astype(np.int32)
    np.clip(cls, 0, params.thresholds.shape[0] - 1, out=cls)
    conf = pred[:, 4]
    idx = np.flatnonzero(conf > params.thresholds[cls])[: params.max_det]
    return pred[idx, :4], conf[idx], cls[idx]


def to_source(xyxy: NDArray[np.float32], box: Letterbox) -> NDArray[np.float32]:
    """Boxes from model-input pixels back to the source image's pixels, clipped to it."""
    out = np.empty(xyxy.shape, np.float32)
    out[:, 0::2] = (xyxy[:, 0::2] - np.float32(box.left)) / np.float32(box.gain_x)
    out[:, 1::2] = (xyxy[:, 1::2] - np.float32(box.top)) / np.float32(box.gain_y)
    np.clip(out[:, 0::2], 0, box.src_w, out=out[:, 0::2])
    np.clip(out[:, 1::2], 0, box.src_h, out=out[:, 1::2])
    return out


def postprocess(
    output: NDArray[np.floating], boxes: Sequence[Letterbox], params: PostprocessParams, *, end2end: bool,
) -> list[Detections]:
    """The model's first output for a batch -> one `Detections` per image (padding rows ignored)."""
    out = np.asarray(output, np.float32)
    decode = decode_end2end if end2end else decode_anchor_head
    results: list[Detections] = []
    for i, box in enumerate(boxes):
        xyxy, conf, cls = decode(out[i], params)
        results.append(Detections(to_source(xyxy, box), conf.astype(np.float32), cls))
    return results
