"""The compare suite's methods do the same work: the naive loop and gridwatch find the same boxes."""

from __future__ import annotations

import numpy as np

from benchmarks.compare import NaiveDetector, _model
from benchmarks.infer import default_model, make_frames
from models.preprocess import plan_batch


def _iou(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    x1 = np.maximum(a[:, None, 0], b[None, :, 0])
    y1 = np.maximum(a[:, None, 1], b[None, :, 1])
    x2 = np.minimum(a[:, None, 2], b[None, :, 2])
    y2 = np.minimum(a[:, None, 3], b[None, :, 3])
    inter = np.clip(x2 - x1, 0, None) * np.clip(y2 - y1, 0, None)
    area = lambda r: (r[:, 2] - r[:, 0]) * (r[:, 3] - r[:, 1])  # noqa: E731
    return inter / (area(a)[:, None] + area(b)[None, :] - inter)


def test_naive_loop_and_gridwatch_agree_on_the_same_frame() -> None:
    model = _model(default_model(), 320, 1, 1, rect=True)
    frame = make_frames(1)[0]
    canvas, _ = plan_batch([frame.shape[:2]], model.info.imgsz, model.info.stride, rect=True)
    ours = model.predict([frame])[0]
    naive = NaiveDetector(model.session, canvas)(frame)
    assert len(ours.xyxy) > 5, "the demo model should find boxes, or the comparison does no NMS work"
    assert abs(len(naive) - len(ours.xyxy)) <= max(2, len(ours.xyxy) // 10)
    best = _iou(np.asarray(ours.xyxy, np.float64), naive[:, :4].astype(np.float64)).max(axis=1)
    assert np.median(best) > 0.9
