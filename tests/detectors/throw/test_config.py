"""The `detectors.throw` section: defaults valid, tuning documented, reference YAML in step with the model."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import BaseModel, ValidationError

from detectors.throw.config import ThrowConfig
from foundation.yamlsafe import load_yaml_file


def _fields(model: type[BaseModel], prefix: str = "") -> list[tuple[str, type[BaseModel]]]:
    out = []
    for name, field in model.model_fields.items():
        out.append((prefix + name, model))
        ann = field.annotation
        if isinstance(ann, type) and issubclass(ann, BaseModel):
            out += _fields(ann, prefix + name + ".")
    return out


def test_empty_section_is_valid_and_forbids_unknown_keys() -> None:
    assert ThrowConfig.model_validate({}) == ThrowConfig()
    with pytest.raises(ValidationError, match="Extra inputs"):
        ThrowConfig.model_validate({"foreground": {"treshold": 3}})


def test_every_field_says_what_it_does() -> None:
    for path, model in _fields(ThrowConfig):
        field = model.model_fields[path.rsplit(".", 1)[-1]]
        assert field.description and len(field.description) > 15, path


@pytest.mark.parametrize(
    ("section", "message"),
    [
        ({"trajectory": {"accel_min_ratio": 1.5}}, "less than or equal to 1"),
        ({"foreground": {"sky_masks": [[[0, 0], [1, 0]]]}}, "at least 3"),
        ({"foreground": {"method": "vibe"}}, "difference"),
        ({"analysis_fps": 5}, "greater than or equal to 10"),
    ],
)
def test_bad_values_name_the_problem(section: dict[str, object], message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        ThrowConfig.model_validate(section)


def test_per_camera_partial_dict_merges_over_defaults() -> None:
    cfg = ThrowConfig.model_validate({"foreground": {"diff_threshold": 25}, "tracking": {"max_missed_frames": 1}})
    assert cfg.foreground.diff_threshold == 25
    assert cfg.foreground.learning_rate == ThrowConfig().foreground.learning_rate
    assert cfg.tracking.max_missed_frames == 1


def test_reference_yaml_holds_every_default_with_a_comment(repo_root: Path) -> None:
    path = repo_root / "configs" / "reference" / "throw.yaml"
    doc = load_yaml_file(path)
    assert list(doc.data) == ["detectors"] and list(doc.data["detectors"]) == ["throw"]
    section = doc.data["detectors"]["throw"]
    assert ThrowConfig.model_validate(section) == ThrowConfig()
    assert ThrowConfig.model_validate(section).model_dump(mode="json") == section
    lines = path.read_text(encoding="utf-8").splitlines()
    for dotted, _model in _fields(ThrowConfig):
        line = doc.lines[("detectors", "throw", *dotted.split("."))]
        assert lines[line - 2].strip().startswith("#"), f"{dotted} (line {line}) has no comment above it"
