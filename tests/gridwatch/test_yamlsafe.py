"""The safe YAML loader: lines per key path, duplicate keys, ${ENV} and ${file:} substitution."""

from pathlib import Path

import pytest

from foundation.errors import ConfigError
from foundation.yamlsafe import format_path, load_yaml, load_yaml_file


def test_lines_are_recorded_for_nested_keys_and_list_items() -> None:
    doc = load_yaml("a: 1\nb:\n  c: x\n  d:\n    - 1\n    - k: v\n", "t.yaml")
    assert doc.data == {"a": 1, "b": {"c": "x", "d": [1, {"k": "v"}]}}
    assert doc.lines[("a",)] == 1
    assert doc.lines[("b", "c")] == 3
    assert doc.lines[("b", "d", 1, "k")] == 6
    assert doc.line_of(("b", "d", 1, "missing")) == 6


def test_duplicate_keys_are_errors_with_both_lines() -> None:
    with pytest.raises(ConfigError) as info:
        load_yaml("a: 1\nb: 2\na: 3\n", "dup.yaml")
    text = str(info.value)
    assert "dup.yaml:3" in text and "duplicate key" in text and "line 1" in text


def test_bad_yaml_names_file_and_line() -> None:
    with pytest.raises(ConfigError) as info:
        load_yaml("a: 1\nb: [1, 2\nc: 3\n", "bad.yaml")
    assert "bad.yaml:" in str(info.value) and "not valid YAML" in str(info.value)


def test_python_tags_are_refused() -> None:
    with pytest.raises(ConfigError):
        load_yaml("a: !!python/object/apply:os.system ['true']\n", "evil.yaml")


def test_env_substitution_default_and_missing() -> None:
    doc = load_yaml("u: rtsp://cam:${PW}@h/s\nv: ${NOPE:-dflt}\n", env={"PW": "s3cret"})
    assert doc.data == {"u": "rtsp://cam:s3cret@h/s", "v": "dflt"}
    assert ("u",) in doc.substituted
    with pytest.raises(ConfigError) as info:
        load_yaml("x:\n  y: ${MISSING_VAR}\n", "e.yaml", env={})
    assert "e.yaml:2" in str(info.value) and "MISSING_VAR" in str(info.value)


def test_file_secret_substitution(tmp_path: Path) -> None:
    secret = tmp_path / "pw"
    secret.write_text("from-file\n")
    doc = load_yaml(f"p: ${{file:{secret}}}\n", env={})
    assert doc.data == {"p": "from-file"}


def test_missing_file_is_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="file not found"):
        load_yaml_file(tmp_path / "nope.yaml")


def test_format_path() -> None:
    assert format_path(("cameras", 0, "source", "url")) == "cameras[0].source.url"
    assert format_path(()) == "(top level)"
