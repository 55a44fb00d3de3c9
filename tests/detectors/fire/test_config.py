"""`FireConfig`: defaults, bounds, cross-field checks, and the operators' reference file."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from pydantic import BaseModel, ValidationError

from detectors.fire.config import FireConfig
from foundation.yamlsafe import load_yaml


def test_empty_section_is_a_working_weights_free_detector() -> None:
    cfg = FireConfig()
    assert cfg.mode == "cues"
    assert cfg.model is None
    assert cfg.confirm.frames_required <= cfg.confirm.window_frames


@pytest.mark.parametrize(
    ("override", "fragment"),
    [
        ({"mode": "model"}, "needs `model`"),
        ({"mode": "both"}, "needs `model`"),
        ({"confirm": {"frames_required": 9, "window_frames": 6}}, "exceeds"),
        ({"confirm": {"smoke_frames_required": 20}}, "exceeds"),
        ({"flame": {"min_red": 300}}, "less than or equal to 255"),
        ({"analysis_fps": 0}, "greater than 0"),
        ({"schedule": {"active_hours": ["7-19"]}}, "HH:MM-HH:MM"),
        ({"schedule": {"active_hours": ["25:00-26:00"]}}, "out of range"),
        ({"schedule": {"timezone": "Mars/Olympus"}}, "unknown time zone"),
        ({"zones": [[[0.1, 0.1], [0.5, 0.5]]]}, "at least 3"),
        ({"flame": {"colour_rule": "both"}}, "Extra inputs are not permitted"),
    ],
)
def test_invalid_settings_are_rejected_with_a_reason(override: dict[str, Any], fragment: str) -> None:
    with pytest.raises(ValidationError) as err:
        FireConfig.model_validate(override)
    assert fragment in str(err.value)


def test_model_mode_with_a_model_name_is_valid() -> None:
    cfg = FireConfig.model_validate({"mode": "both", "model": "fire-yolo", "zones": [[[0, 0], [1, 0], [1, 1]]]})
    assert cfg.model == "fire-yolo"
    assert cfg.zones[0][1] == (1.0, 0.0)


def _fields(model: type[BaseModel], prefix: tuple[str, ...] = ()) -> dict[tuple[str, ...], Any]:
    out: dict[tuple[str, ...], Any] = {}
    default = model()
    for name, info in model.model_fields.items():
        value = getattr(default, name)
        assert info.description, f"{'.'.join((*prefix, name))} has no description"
        if isinstance(value, BaseModel):
            out.update(_fields(type(value), (*prefix, name)))
        else:
            out[(*prefix, name)] = value
    return out


def _get(data: Any, path: tuple[str, ...]) -> Any:
    for key in path:
        assert isinstance(data, dict) and key in data, f"reference file lacks {'.'.join(path)}"
        data = data[key]
    return data


def test_reference_file_lists_every_setting_with_its_default_and_a_comment(repo_root: Path) -> None:
    path = repo_root / "configs" / "reference" / "fire.yaml"
    text = path.read_text(encoding="utf-8")
    doc = load_yaml(text, source=str(path))
    assert set(doc.data) == {"detectors"} and set(doc.data["detectors"]) == {"fire"}
    section = doc.data["detectors"]["fire"]
    FireConfig.model_validate(section)
    lines = text.splitlines()
    for path_, default in _fields(FireConfig).items():
        value = _get(section, path_)
        expected = list(default) if isinstance(default, (list, tuple)) else default
        assert value == expected, f"{'.'.join(path_)}: file has {value!r}, default is {default!r}"
        line = doc.line_of(("detectors", "fire", *path_))
        assert line is not None and line >= 2
        assert lines[line - 2].strip().startswith("#"), f"{'.'.join(path_)} has no comment above it"
