"""Parity with Ultralytics' own predictor running the same ONNX file (component tests, real ONNX Runtime).

For the same model and images (several sizes and aspect ratios, real and generated, batch > 1), our
boxes, classes and scores must equal what `YOLO(model.onnx).predict(...)` reports, within 1 px and 1e-3.
The models are Ultralytics exports whose random head is calibrated to output boxes (models.export
demo_scores), so every comparison covers hundreds of boxes, not empty lists.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import onnx
import pytest
from numpy.typing import NDArray
from onnxruntime.transformers.float16 import convert_float_to_float16

from models.config import BatcherConfig, ModelConfig
from models.detections import Detections
from models.runtime import YoloModel, load_model
from tests.models.scenes import scenes, unmatched

CONF = 0.25
IOU = 0.7
MIXED_SHAPES = [(1080, 1920), (480, 640), (640, 480), (333, 517), (1000, 1000), (720, 1280)]


def ultralytics_predict(
    path: Path, images: Sequence[NDArray[np.uint8]],
) -> list[tuple[NDArray[np.float32], NDArray[np.float32], NDArray[np.int32]]]:
    """Ultralytics' predictor on the same ONNX file: (xyxy, conf, cls) per image."""
    from ultralytics import YOLO

    results = YOLO(str(path), task="detect").predict(
        list(images), conf=CONF, iou=IOU, max_det=300, imgsz=640, verbose=False,
    )
    return [
        (r.boxes.xyxy.numpy(), r.boxes.conf.numpy(), r.boxes.cls.numpy().astype(np.int32)) for r in results
    ]


def assert_parity(ours: list[Detections], theirs: list[tuple[NDArray[np.float32], ...]]) -> int:
    """Every box on both sides has a partner within 1 px and 1e-3; returns the number of boxes compared."""
    assert len(ours) == len(theirs)
    total = 0
    for i, (det, (xyxy, conf, cls)) in enumerate(zip(ours, theirs, strict=True)):
        ours_left, theirs_left = unmatched(det, xyxy, conf, cls)
        # A box scoring within 1e-3 of the threshold may fall either side of it; nothing else may differ.
        ours_left = [k for k in ours_left if det.confidence[k] > CONF + 1e-3]
        theirs_left = [k for k in theirs_left if conf[k] > CONF + 1e-3]
        assert not ours_left and not theirs_left, (
            f"image {i}: {len(det)} ours vs {len(xyxy)} Ultralytics; unmatched ours {ours_left[:5]}, "
            f"theirs {theirs_left[:5]}"
        )
        total += len(xyxy)
    return total


def test_anchor_head_mixed_sizes_match_ultralytics(
    demo_v8: Path, real_images: list[NDArray[np.uint8]],
) -> None:
    images = real_images + scenes(MIXED_SHAPES)
    model = load_model(ModelConfig(name="v8", path=demo_v8, batch=BatcherConfig(max_batch=4)))
    ours = model.predict(images)  # 10 images: inference batches of 4, 4, 2
    total = assert_parity(ours, ultralytics_predict(demo_v8, images))
    assert total >= 200
    assert sum(1 for d in ours if len(d)) >= 8
    assert model.stats().inference_runs == 3


def test_rectangular_input_matches_ultralytics_minimal_rectangle(demo_v8: Path) -> None:
    images = scenes([(1080, 1920)] * 3, seed=40)
    model = load_model(ModelConfig(name="v8rect", path=demo_v8, rect=True))
    tensor, boxes = model._preprocess(images)
    assert tensor.shape == (3, 3, 384, 640)  # 16:9 padded to the stride only
    assert (boxes[0].top, boxes[0].new_h) == (12, 360)
    assert_parity(model.predict(images), ultralytics_predict(demo_v8, images))


def test_end2end_head_matches_ultralytics(demo_e2e: Path, real_images: list[NDArray[np.uint8]]) -> None:
    images = real_images[:2] + scenes(MIXED_SHAPES, seed=20)
    model = load_model(ModelConfig(name="e2e", path=demo_e2e))
    assert model.info.end2end
    ours = model.predict(images)
    assert assert_parity(ours, ultralytics_predict(demo_e2e, images)) >= 100


def test_static_batch_export_runs_in_padded_chunks(demo_v8_static_b2: Path) -> None:
    images = scenes([(480, 640), (1080, 1920), (600, 800)], seed=60)
    model = load_model(ModelConfig(name="b2", path=demo_v8_static_b2))
    assert model.info.static_batch == 2 and model.info.max_batch == 2
    ours = model.predict(images)  # chunks of 2 and 1 (+1 blank row)
    assert model.stats().inference_runs == 2
    assert_parity(ours, ultralytics_predict(demo_v8_static_b2, images))


@pytest.mark.parametrize("threads", [1, 2])
def test_threads_setting_does_not_change_results(v8_model: YoloModel, threads: int) -> None:
    images = scenes([(720, 1280), (480, 640)], seed=80)
    model = load_model(ModelConfig(name=f"t{threads}", path=v8_model.cfg.path, intra_op_threads=threads,
                                   warmup_runs=0))
    for a, b in zip(v8_model.predict(images), model.predict(images), strict=True):
        assert unmatched(a, b.xyxy, b.confidence, b.class_id) == ([], [])


def test_fp16_model_takes_half_inputs_and_agrees_with_fp32(tmp_path: Path, demo_v8: Path) -> None:
    half = tmp_path / "v8-fp16.onnx"
    onnx.save(convert_float_to_float16(onnx.load(str(demo_v8)), keep_io_types=False), str(half))
    model = load_model(ModelConfig(name="fp16", path=half, warmup_runs=0))
    assert model.info.input_dtype == "float16"
    images = scenes([(480, 640), (720, 1280)], seed=90)
    reference = load_model(ModelConfig(name="fp32", path=demo_v8, warmup_runs=0)).predict(images)
    for ours, ref in zip(model.predict(images), reference, strict=True):
        assert ours.xyxy.dtype == np.float32
        _, ref_left = unmatched(ours, ref.xyxy, ref.confidence, ref.class_id, px=8.0, score=0.05)
        # fp16 rounding through the whole network moves some boxes and flips near-tied classes only
        assert len(ref) > 20 and len(ref_left) <= 0.3 * len(ref)
        assert abs(len(ours) - len(ref)) <= 0.2 * len(ref)
