"""Config section models and the YAML model manifest (unit tests)."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from foundation.errors import ConfigError
from models.config import BatcherConfig, ModelConfig, TilingConfig
from models.manifest import load_manifest

NAMES = {0: "fire", 1: "smoke", 2: "person"}


def test_minimal_sections_are_valid_with_ultralytics_defaults() -> None:
    cfg = ModelConfig.model_validate({"name": "fire", "path": "models/fire.onnx"})
    assert (cfg.conf_threshold, cfg.iou_threshold, cfg.max_det, cfg.providers) == (0.25, 0.7, 300, ["cpu"])
    assert cfg.batch == BatcherConfig() and TilingConfig() == TilingConfig.model_validate({})
    for model in (ModelConfig, BatcherConfig, TilingConfig):
        for name, field in model.model_fields.items():
            assert field.description, f"{model.__name__}.{name} has no description"


@pytest.mark.parametrize("bad", [
    {"unknown": 1},
    {"providers": ["cuda", "cuda"]},
    {"providers": ["opencl"]},
    {"providers": []},
    {"conf_threshold": 1.5},
    {"imgsz": [16, 640]},
    {"batch": {"max_share": 0}},
    {"batch": {"max_batch": 0}},
    {"batch": {"queue": 3}},
    {"name": "bad name"},
])
def test_invalid_values_are_rejected(bad: dict[str, object]) -> None:
    with pytest.raises(ValidationError):
        ModelConfig.model_validate({"name": "m", "path": "m.onnx", **bad})


def test_manifest_renames_classes_and_sets_thresholds_by_name_or_id(tmp_path: Path) -> None:
    path = tmp_path / "fire.yaml"
    path.write_text('version: fire-2026.03\nnames: {"2": pedestrian}\nclass_thresholds:\n  smoke: 0.45\n'
                    '  "0": 0.3\n  pedestrian: 0.9\n')
    manifest = load_manifest(path, NAMES)
    assert manifest.version == "fire-2026.03"
    assert manifest.names == {2: "pedestrian"}
    assert manifest.thresholds(3, 0.25).tolist() == pytest.approx([0.3, 0.45, 0.9])


@pytest.mark.parametrize(("text", "message"), [
    ("class_thresholds:\n  steam: 0.5\n", ":2: class_thresholds: no class 'steam'"),
    ("class_thresholds:\n  smoke: 1.5\n", ":2: class_thresholds.smoke: 1.5 is outside"),
    ('names:\n  "7": x\n', ":2: names: '7' is not a class id in 0..2"),
    ("colour: red\n", ":1: colour: Extra inputs are not permitted"),
    ("names: {a: b}\nnames: {c: d}\n", "duplicate key"),
])
def test_manifest_errors_name_file_and_line(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "m.yaml"
    path.write_text(text)
    with pytest.raises(ConfigError) as info:
        load_manifest(path, NAMES)
    assert message in str(info.value) and str(path) in str(info.value)
