"""`models inspect` on real exports, and export argument checks."""

from __future__ import annotations

from pathlib import Path

import onnx
import pytest

from foundation.errors import ModelError
from models.export import export_onnx
from models.inspect import inspect_model


def test_inspect_describes_an_ultralytics_export(demo_e2e: Path) -> None:
    info = inspect_model(demo_e2e)
    d = info.to_dict()
    assert info.runnable and not info.problems
    assert d["inputs"] == [{"name": "images", "shape": ["batch", 3, "height", "width"], "dtype": "float32"}]
    assert d["outputs"][0]["shape"][2] == 6 and d["end2end"] is True and d["dynamic"] is True
    assert d["imgsz"] == [640, 640] and d["stride"] == 32 and len(d["names"]) == 80
    assert "CPUExecutionProvider" in d["providers_available"]
    text = info.to_text()
    assert "end-to-end, no NMS" in text and "runnable:   yes" in text


def test_inspect_lists_why_a_model_cannot_run(tmp_path: Path, yolo_model_640: Path) -> None:
    model = onnx.load(str(yolo_model_640))
    next(p for p in model.metadata_props if p.key == "task").value = "pose"
    onnx.save(model, str(tmp_path / "pose.onnx"))
    info = inspect_model(tmp_path / "pose.onnx")
    assert not info.runnable and "task is 'pose'" in info.problems[0]
    assert info.to_dict()["inputs"][0]["shape"] == [1, 3, 640, 640]


def test_inspect_refuses_a_file_that_is_not_onnx(tmp_path: Path) -> None:
    (tmp_path / "x.onnx").write_text("hello")
    with pytest.raises(ModelError, match="not an ONNX model"):
        inspect_model(tmp_path / "x.onnx")


def test_export_refuses_missing_weights_and_demo_scores_on_weights(tmp_path: Path) -> None:
    with pytest.raises(ModelError, match="weights file not found"):
        export_onnx(tmp_path / "missing.pt", tmp_path / "out.onnx")
    (tmp_path / "trained.pt").write_bytes(b"x")
    with pytest.raises(ModelError, match="would overwrite trained weights"):
        export_onnx(tmp_path / "trained.pt", tmp_path / "out.onnx", demo_scores=True)
