"""INT8 static quantization calibrated on a real video (PyAV decode, real ONNX Runtime quantizer)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import onnx
import pytest

from foundation.errors import ModelError
from models.config import ModelConfig
from models.detections import Detections
from models.quantize import box_agreement, quantize_int8, read_video_frames
from models.quantize_head import float_head_nodes
from models.runtime import load_model
from tests.models.scenes import scenes


@pytest.mark.slow
def test_quantized_model_runs_and_reports_agreement(
    tmp_path: Path, demo_v8: Path, real_testdata: Path,
) -> None:
    video = real_testdata / "furg-fire" / "house6.mp4"
    report = quantize_int8(demo_v8, video, tmp_path / "v8.int8.onnx", frames=6, eval_frames=4)
    assert report.output.is_file() and report.calibration_frames == 6 and report.eval_frames == 4
    graph = onnx.load(str(report.output))
    ops = {n.op_type for n in graph.graph.node}
    assert {"QuantizeLinear", "DequantizeLinear"} <= ops
    assert "/model.22/dfl/conv/Conv" in report.float_nodes_kept  # the box decoding stays float
    assert report.quantized_nodes > 50
    a = report.agreement
    assert a.frames == 4 and 0 <= a.matched <= min(a.reference_boxes, a.test_boxes)
    assert a.recall == pytest.approx(a.matched / a.reference_boxes) if a.reference_boxes else a.recall == 1.0
    int8 = load_model(ModelConfig(name="int8", path=report.output))  # metadata survived quantization
    assert int8.info.names == load_model(ModelConfig(name="fp32", path=demo_v8), warmup=False).info.names
    assert len(int8.predict(scenes([(480, 640)]))) == 1
    assert report.to_dict()["output"] == str(report.output)


def test_head_nodes_are_found_in_both_head_kinds(demo_v8: Path, demo_e2e: Path) -> None:
    v8 = float_head_nodes(onnx.load(str(demo_v8), load_external_data=False))
    assert {f"/model.22/cv{b}.{i}/cv{b}.{i}.2/Conv" for b in (2, 3) for i in range(3)} <= set(v8)
    assert not any("/model.21/" in n or "/model.15/" in n for n in v8)  # the neck stays quantized
    e2e = float_head_nodes(onnx.load(str(demo_e2e), load_external_data=False))
    assert sum(1 for n in e2e if n.endswith("/Conv")) == 6 and any("TopK" in n for n in e2e)


def test_agreement_matches_by_class_and_iou() -> None:
    boxes = [[0, 0, 10, 10], [20, 20, 30, 30], [50, 50, 60, 60]]
    ref = Detections.from_arrays(boxes, [0.9, 0.8, 0.7], [0, 1, 2])
    test = Detections.from_arrays([[0, 0, 10, 11], boxes[1], [80, 80, 90, 90]], [0.85, 0.8, 0.6], [0, 2, 2])
    a = box_agreement([ref, Detections.empty()], [test, Detections.empty()], 0.5)
    assert (a.matched, a.reference_boxes, a.test_boxes) == (1, 3, 3)
    assert a.recall == pytest.approx(1 / 3) and a.mean_iou == pytest.approx(100 / 110, rel=1e-5)
    assert a.mean_abs_score_diff == pytest.approx(0.05, abs=1e-6)


def test_calibration_frames_come_evenly_from_a_real_video(real_testdata: Path, tmp_path: Path) -> None:
    frames = read_video_frames(real_testdata / "furg-fire" / "house6.mp4", 5)
    assert len(frames) == 5 and frames[0].shape == (240, 426, 3) and frames[0].dtype == np.uint8
    assert not np.array_equal(frames[0], frames[-1])
    (tmp_path / "bad.mp4").write_bytes(b"not a video at all")
    with pytest.raises(ModelError, match=r"bad\.mp4"):
        read_video_frames(tmp_path / "bad.mp4", 5)
