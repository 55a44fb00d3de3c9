"""Fetched weights: config, the runtime lookup, the INT8 choice, clear errors; the fetch's own checks.

Unit tests: manifests here are written by the test (named fakes of a completed fetch), pip is a stand-in
command, and no package is downloaded. The real fetch is checked in test_fetched_weights.py.
"""

from __future__ import annotations

import io
import json
import pickle
import sys
import zipfile
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from foundation.errors import ModelError
from models import fetch as fetch_mod
from models.config import ModelConfig
from models.pt_export import ExportError, pickle_module
from models.runtime import load_model, model_files
from models.weights import FIRE_SMOKE, Int8Agreement, read_fetched, resolve_fetched, weights_dir


def test_a_model_names_exactly_one_of_path_and_fetched() -> None:
    assert ModelConfig(name="f", fetched="fire-smoke").precision == "auto"
    with pytest.raises(ValidationError, match="exactly one"):
        ModelConfig(name="f")
    with pytest.raises(ValidationError, match="exactly one"):
        ModelConfig(name="f", path=Path("m.onnx"), fetched="fire-smoke")
    with pytest.raises(ValidationError, match="no weights named 'fire'"):
        ModelConfig(name="f", fetched="fire")
    with pytest.raises(ValidationError, match="precision applies to `fetched`"):
        ModelConfig(name="f", path=Path("m.onnx"), precision="int8")


def test_missing_weights_fail_with_the_fetch_command(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GRIDWATCH_CACHE", str(tmp_path))
    with pytest.raises(ModelError, match=r"run `gridwatch models fetch fire-smoke`") as err:
        load_model(ModelConfig(name="fire", fetched="fire-smoke"))
    assert str(tmp_path) in str(err.value) and "fire-detector==1.0.3" in str(err.value)


def _fake_completed_fetch(root: Path, agreement: dict[str, Any] | None) -> Path:
    """A fake of what `models.fetch` leaves behind: the manifest and empty stand-ins for its files."""
    folder = weights_dir(FIRE_SMOKE, root)
    folder.mkdir(parents=True)
    exports: dict[str, Any] = {"fp32": {"file": "fp32.onnx", "sha256": "a" * 64}}
    if agreement is not None:
        exports["int8"] = {"file": "int8.onnx", "sha256": "b" * 64, "agreement": agreement}
    manifest = {"name": "fire-smoke", "package": "fire-detector", "version": "1.0.3",
                "wheel": {"sha256": FIRE_SMOKE.wheel_sha256}, "weights": {"file": "package/w.pt", "sha256": "c" * 64},
                "class_names": {"0": "smoke", "1": "fire"}, "licence_stated": None, "exports": exports}
    (folder / "manifest.json").write_text(json.dumps(manifest))
    for name in ("fp32.onnx", "int8.onnx", "model.yaml"):
        (folder / name).write_text("stand-in")
    return folder


def _agreement(recall: float, precision: float, boxes: int = 89) -> dict[str, Any]:
    a = Int8Agreement(frames=133, reference_boxes=boxes, test_boxes=boxes, recall=recall, precision=precision,
                      iou=0.5, conf_threshold=0.25, calibration="fake")
    return a.to_dict()


def test_precision_auto_takes_int8_only_when_its_stored_agreement_passed(tmp_path: Path) -> None:
    folder = _fake_completed_fetch(tmp_path / "ok", _agreement(0.97, 0.98))
    assert resolve_fetched("fire-smoke", "auto", tmp_path / "ok") == (folder / "int8.onnx", folder / "model.yaml")
    assert resolve_fetched("fire-smoke", "fp32", tmp_path / "ok")[0] == folder / "fp32.onnx"
    for bad in (_agreement(0.93, 0.99), _agreement(0.99, 0.94), _agreement(1.0, 1.0, boxes=5)):
        root = tmp_path / f"bad-{bad['recall']}-{bad['precision']}-{bad['reference_boxes']}"
        folder = _fake_completed_fetch(root, bad)
        assert resolve_fetched("fire-smoke", "auto", root)[0] == folder / "fp32.onnx"
        with pytest.raises(ModelError, match="INT8 refused: its agreement with fp32 failed the gate"):
            resolve_fetched("fire-smoke", "int8", root)
    _fake_completed_fetch(tmp_path / "none", None)
    with pytest.raises(ModelError, match="no INT8 export"):
        resolve_fetched("fire-smoke", "int8", tmp_path / "none")


def test_a_broken_manifest_or_missing_file_names_the_fix(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    folder = _fake_completed_fetch(tmp_path, _agreement(0.97, 0.98))
    (folder / "int8.onnx").unlink()
    with pytest.raises(ModelError, match=r"int8\.onnx is missing; run `gridwatch models fetch fire-smoke`"):
        resolve_fetched("fire-smoke", "auto", tmp_path)
    (folder / "manifest.json").write_text("{not json")
    with pytest.raises(ModelError, match="unreadable fetch manifest"):
        read_fetched("fire-smoke", tmp_path)
    monkeypatch.setenv("GRIDWATCH_CACHE", str(tmp_path))
    with pytest.raises(ModelError, match="unreadable fetch manifest"):
        model_files(ModelConfig(name="fire", fetched="fire-smoke"))


def test_fetch_without_pip_or_export_tools_says_what_is_missing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with pytest.raises(ModelError, match="pip download failed"):
        fetch_mod.download_wheel(FIRE_SMOKE, tmp_path, pip=[sys.executable, "-c", "import sys; sys.exit(1)"])
    monkeypatch.setattr(fetch_mod.importlib.util, "find_spec", lambda name: None)
    monkeypatch.setattr(fetch_mod.shutil, "which", lambda name: None)
    monkeypatch.setenv("GRIDWATCH_CACHE", str(tmp_path))
    with pytest.raises(ModelError, match="needs pip"):
        fetch_mod.find_pip()
    with pytest.raises(ModelError, match=r"needs torch, ultralytics, onnx: install the `export` extra"):
        fetch_mod.check_export_tools()


def _wheel(path: Path, members: dict[str, bytes], record: dict[str, bytes] | None = None) -> Path:
    import base64
    import hashlib

    dist = "fire_detector-1.0.3.dist-info"
    rows = [f"{name},sha256={base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b'=').decode()},"
            f"{len(data)}" for name, data in (record or members).items()]
    with zipfile.ZipFile(path, "w") as z:
        for name, data in members.items():
            z.writestr(name, data)
        z.writestr(f"{dist}/METADATA", "Metadata-Version: 2.4\nName: fire_detector\nVersion: 1.0.3\n")
        z.writestr(f"{dist}/RECORD", "\n".join(rows) + "\n")
    return path


def test_members_are_checked_against_the_wheel_record_and_the_licence_is_read(tmp_path: Path) -> None:
    members = {FIRE_SMOKE.weights_member: b"weights", "fire_detector/modules.py": b"layers"}
    good = _wheel(tmp_path / "good.whl", members)
    pt, layers, licence = fetch_mod.extract_members(good, FIRE_SMOKE, tmp_path / "out")
    assert pt.read_bytes() == b"weights" and layers is not None and layers.read_bytes() == b"layers"
    assert licence is None  # the package states none, like the real one
    tampered = _wheel(tmp_path / "bad.whl", {**members, FIRE_SMOKE.weights_member: b"other"}, record=members)
    with pytest.raises(ModelError, match="does not match the wheel's RECORD hash"):
        fetch_mod.extract_members(tampered, FIRE_SMOKE, tmp_path / "out2")


class _Evil:
    def __reduce__(self) -> tuple[Any, ...]:
        import os

        return (os.system, ("echo pwned",))


def test_the_export_unpickler_refuses_globals_outside_its_allow_list() -> None:
    import types

    layers = types.ModuleType("layers")
    shim = pickle_module(layers, ["FasterNetC2f"])
    with pytest.raises(ExportError, match="outside the allow-list"):
        shim.Unpickler(io.BytesIO(pickle.dumps(_Evil()))).load()
    main_ref = b"\x80\x04c__main__\nPartialConv2d\n."  # a pickle naming __main__.PartialConv2d
    with pytest.raises(ExportError, match="not an expected custom layer"):
        shim.Unpickler(io.BytesIO(main_ref)).load()
    assert shim.Unpickler(io.BytesIO(pickle.dumps({"a": (1, 2)}))).load() == {"a": (1, 2)}
