"""Decoding and NMS: against torchvision's NMS and hand-computed cases (unit tests, pure numpy)."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torchvision
from hypothesis import given, settings
from hypothesis import strategies as st

from models.postprocess import (
    MATRIX_NMS_MAX,
    MAX_WH,
    PostprocessParams,
    decode_anchor_head,
    decode_end2end,
    nms,
    postprocess,
    to_source,
)
from models.preprocess import place, resized_shape


def random_boxes(rng: np.random.Generator, n: int) -> tuple[np.ndarray, np.ndarray]:
    xy = rng.uniform(0, 600, (n, 2)).astype(np.float32)
    wh = rng.uniform(2, 120, (n, 2)).astype(np.float32)
    return np.concatenate([xy, xy + wh], axis=1), rng.uniform(0, 1, n).astype(np.float32)


@settings(max_examples=60, deadline=None)
@given(seed=st.integers(0, 10_000), n=st.integers(0, 400), iou=st.sampled_from([0.3, 0.5, 0.7, 0.9]))
def test_nms_equals_torchvision(seed: int, n: int, iou: float) -> None:
    boxes, scores = random_boxes(np.random.default_rng(seed), n)
    ours = nms(boxes, scores, iou, max_keep=10_000)
    theirs = torchvision.ops.nms(torch.from_numpy(boxes), torch.from_numpy(scores), iou).numpy()
    np.testing.assert_array_equal(ours, theirs)


@pytest.mark.parametrize("metric", ["iou", "ios"])
def test_matrix_and_per_box_nms_paths_agree(metric: str) -> None:
    boxes, scores = random_boxes(np.random.default_rng(7), 3000)  # beyond MATRIX_NMS_MAX: per-box path
    per_box = nms(boxes, scores, 0.5, 10_000, metric)
    order = np.argsort(-scores, kind="stable")
    head = order[:MATRIX_NMS_MAX]  # the best 1024 boxes alone: matrix path
    matrix = nms(boxes[head], scores[head], 0.5, 10_000, metric)
    np.testing.assert_array_equal(head[matrix], per_box[: len(matrix)])
    if metric == "iou":
        theirs = torchvision.ops.nms(torch.from_numpy(boxes), torch.from_numpy(scores), 0.5).numpy()
        np.testing.assert_array_equal(per_box, theirs)


def test_nms_stops_at_max_keep_with_the_same_leading_boxes() -> None:
    boxes, scores = random_boxes(np.random.default_rng(1), 300)
    full = nms(boxes, scores, 0.5, 10_000)
    np.testing.assert_array_equal(nms(boxes, scores, 0.5, 7), full[:7])


def test_ios_metric_merges_a_box_cut_in_half() -> None:
    whole = np.array([[0, 0, 100, 100]], np.float32)
    half = np.array([[50, 0, 100, 100]], np.float32)  # IoU 0.5, IoS 1.0
    boxes = np.concatenate([whole, half])
    scores = np.array([0.9, 0.8], np.float32)
    assert nms(boxes, scores, 0.6, 10).tolist() == [0, 1]
    assert nms(boxes, scores, 0.6, 10, metric="ios").tolist() == [0]


def anchor_prediction(rows: list[tuple[float, float, float, float, int, float]], nc: int = 3) -> np.ndarray:
    """(4 + nc, A) prediction from (cx, cy, w, h, class, score) rows."""
    pred = np.zeros((4 + nc, len(rows)), np.float32)
    for a, (cx, cy, w, h, c, s) in enumerate(rows):
        pred[:4, a] = (cx, cy, w, h)
        pred[4 + c, a] = s
    return pred


def params(
    thresholds: list[float], iou: float = 0.7, max_det: int = 300, agnostic: bool = False,
) -> PostprocessParams:
    return PostprocessParams(np.asarray(thresholds, np.float32), iou, max_det, agnostic)


def test_anchor_head_filters_suppresses_within_class_only() -> None:
    pred = anchor_prediction([
        (50, 50, 20, 20, 0, 0.9),   # kept
        (51, 50, 20, 20, 0, 0.8),   # same class, IoU ~0.9: suppressed
        (51, 50, 20, 20, 1, 0.7),   # other class: kept (class-aware)
        (200, 200, 10, 10, 2, 0.25),  # at the threshold: dropped (strictly above is kept)
        (300, 300, 10, 10, 2, 0.26),
    ])
    xyxy, conf, cls = decode_anchor_head(pred, params([0.25] * 3))
    assert cls.tolist() == [0, 1, 2]
    np.testing.assert_allclose(conf, [0.9, 0.7, 0.26])
    np.testing.assert_allclose(xyxy[0], [40, 40, 60, 60])
    _, _, cls_agnostic = decode_anchor_head(pred, params([0.25] * 3, agnostic=True))
    assert cls_agnostic.tolist() == [0, 2]


def test_per_class_thresholds_apply_to_the_best_class() -> None:
    pred = anchor_prediction(
        [(50, 50, 20, 20, 0, 0.4), (200, 50, 20, 20, 1, 0.4), (400, 50, 20, 20, 2, 0.15)],
    )
    _, _, cls = decode_anchor_head(pred, params([0.5, 0.3, 0.1]))
    assert cls.tolist() == [1, 2]


def test_end2end_rows_keep_order_threshold_and_max_det() -> None:
    rows = np.array(
        [[0, 0, 10, 10, 0.9, 1], [5, 5, 20, 20, 0.6, 0], [1, 1, 2, 2, 0.2, 0], [3, 3, 9, 9, 0.5, 1]],
        np.float32,
    )
    xyxy, conf, cls = decode_end2end(rows, params([0.25, 0.55], max_det=2))
    assert conf.tolist() == pytest.approx([0.9, 0.6]) and cls.tolist() == [1, 0]
    np.testing.assert_array_equal(xyxy[1], [5, 5, 20, 20])


def test_boxes_map_back_to_source_pixels_and_clip() -> None:
    src = (1080, 1920)
    box = place(src, resized_shape(src, (640, 640)), (640, 640))
    assert (box.top, box.left, box.new_h, box.new_w) == (140, 0, 360, 640)
    source_boxes = np.array([[300, 600, 900, 1000], [-30, 0, 10, 20]], np.float32)
    gain = 640 / 1920
    lb = source_boxes * gain + np.array([0, 140, 0, 140], np.float32)
    back = to_source(lb, box)
    np.testing.assert_allclose(back[0], source_boxes[0], atol=1e-3)
    assert back[1, 0] == 0.0  # clipped to the image


def test_postprocess_batch_ignores_padding_rows_and_uses_max_wh_offset() -> None:
    assert MAX_WH == 7680.0
    out = np.zeros((3, 7, 4), np.float32)  # 3 rows, the last a padding row
    out[0] = anchor_prediction([(10, 10, 4, 4, 0, 0.9)] * 4)
    box = place((64, 64), (64, 64), (64, 64))
    dets = postprocess(out, [box, box], params([0.25] * 3), end2end=False)
    assert [len(d) for d in dets] == [1, 0]
    assert dets[0].xyxy.dtype == np.float32 and dets[0].class_id.dtype == np.int32
