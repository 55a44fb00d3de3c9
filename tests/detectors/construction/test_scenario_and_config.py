"""The drone scenario generator (scene, DJI SRT, video) and the construction config files in configs/."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import av
import numpy as np
import pytest
from pydantic import BaseModel

from benchmarks.scenarios.drone import (
    DEMO_SEED,
    GATE_SEEDS,
    TUNING_SEEDS,
    FlightPlan,
    build_scene,
    measured_pose,
    plan_flight,
    write_dji_srt,
    write_flight,
)
from detectors.construction import ConstructionConfig, Registry
from foundation.yamlsafe import load_yaml_file
from ingest.srt import load_srt

SMALL = FlightPlan(fps=2.0, speed_m_s=30.0, line_spacing_m=120.0, width_px=320, height_px=180)


def test_tuning_and_gate_seeds_are_disjoint() -> None:
    assert not set(TUNING_SEEDS) & set(GATE_SEEDS)
    assert DEMO_SEED not in GATE_SEEDS


def test_scene_is_deterministic_and_has_what_a_survey_must_find() -> None:
    a, b = build_scene(11), build_scene(11)
    assert [s.id for s in a.structures] == [s.id for s in b.structures]
    assert np.array_equal(a.ground, b.ground)
    kinds = {(s.kind, s.status) for s in a.structures}
    assert {("building", "registered"), ("steel_roof", "new"), ("steel_roof", "registered")} <= kinds
    assert any(s.on for s in a.structures if s.kind == "steel_roof" and s.status == "new")  # rooftop addition
    assert {s.kind for s in a.structures if s.status == "distractor"} >= {"car", "pool", "court", "tarp"}
    reg = Registry.from_geojson(a.registry_geojson())
    assert {e.id for e in reg.entries} == {s.id for s in a.structures if s.status == "registered"}
    assert all(e.height_m for e in reg.entries if e.kind == "building")


def test_srt_is_the_modern_dji_layout_and_parses_back(tmp_path: Path) -> None:
    scene = build_scene(12, size_m=120.0)
    track = plan_flight(scene, SMALL)
    path = write_dji_srt(tmp_path / "f.SRT", track, SMALL)
    text = path.read_text()
    block = text.split("\n\n")[10]
    assert re.search(
        r'^11\n00:00:05,000 --> 00:00:05,500\n<font size="28">FrameCnt: 11, DiffTime: 500ms\n'
        r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3}\n",
        block,
    )
    assert re.search(
        r"\[focal_len: 24\.00\] \[latitude: -?\d+\.\d{6}\] \[longitude: -?\d+\.\d{6}\] "
        r"\[rel_alt: [\d.]+ abs_alt: [\d.]+\] \[gb_yaw: -?[\d.]+ gb_pitch: -\d+\.\d gb_roll: -?[\d.]+\]",
        block,
    )
    parsed = load_srt(path)
    assert len(parsed) == len(track)
    for i in (0, 17, len(track) - 1):
        got, want = parsed.pose_at(float(track.t_s[i])), measured_pose(track, i, SMALL.focal_35mm)
        assert got is not None
        assert (got.lat_deg, got.lon_deg, got.rel_alt_m) == pytest.approx(
            (want.lat_deg, want.lon_deg, want.rel_alt_m)
        )
        assert (got.gimbal_yaw_deg, got.gimbal_pitch_deg) == pytest.approx(
            (want.gimbal_yaw_deg, want.gimbal_pitch_deg)
        )
        assert got.focal_len_35mm == pytest.approx(24.0) and not got.defaulted


def test_flight_files_match_each_other(tmp_path: Path) -> None:
    scene = build_scene(13, size_m=120.0)
    files = write_flight(tmp_path, scene, SMALL, name="tiny")
    with av.open(str(files.video)) as container:
        decoded = sum(1 for _ in container.decode(video=0))
    assert decoded == files.frames == len(load_srt(files.srt))
    truth = json.loads(files.truth.read_text())
    assert truth["seed"] == 13 and len(truth["true_track"]["t_s"]) == files.frames
    assert json.loads(files.registry.read_text()) == scene.registry_geojson()


def test_demo_registry_is_the_demo_scene_registry(repo_root: Path) -> None:
    path = repo_root / "configs" / "registry" / "demo-district.geojson"
    assert json.loads(path.read_text()) == build_scene(DEMO_SEED).registry_geojson()
    assert len(Registry.load(path).entries) >= 10


def _keys(model: BaseModel, data: Any, where: str) -> list[str]:
    """Fields of `model` missing from the YAML mapping `data`, recursively."""
    missing = []
    for name, value in model:
        if not isinstance(data, dict) or name not in data:
            missing.append(f"{where}.{name}")
        elif isinstance(value, BaseModel):
            missing += _keys(value, data[name], f"{where}.{name}")
    return missing


def test_reference_yaml_lists_every_default(repo_root: Path) -> None:
    doc = load_yaml_file(repo_root / "configs" / "reference" / "construction.yaml")
    section = doc.data["detectors"]["construction"]
    assert list(doc.data) == ["detectors"] and list(doc.data["detectors"]) == ["construction"]
    assert ConstructionConfig.model_validate(section) == ConstructionConfig()
    assert _keys(ConstructionConfig(), section, "construction") == []
    lines = (repo_root / "configs" / "reference" / "construction.yaml").read_text().splitlines()
    for path in _field_paths(ConstructionConfig(), ("detectors", "construction")):
        line = doc.lines[path]  # 1-based: the setting; the line above it must explain it
        assert lines[line - 2].strip().startswith("#"), (
            f"line {line} ({'.'.join(map(str, path))}) has no comment"
        )


def _field_paths(model: BaseModel, prefix: tuple[str, ...]) -> list[tuple[str, ...]]:
    out = []
    for name, value in model:
        out.append((*prefix, name))
        if isinstance(value, BaseModel):
            out += _field_paths(value, (*prefix, name))
    return out


def test_config_rejects_unknown_keys_and_bad_values() -> None:
    with pytest.raises(ValueError, match="extra"):
        ConstructionConfig.model_validate({"cue": {"hue": 3}})
    with pytest.raises(ValueError, match="drone_model 'dji_x' is not in drone_models"):
        ConstructionConfig.model_validate({"drone_model": "dji_x"})
    with pytest.raises(ValueError, match="hue_min must be below hue_max"):
        ConstructionConfig.model_validate({"cue": {"hue_min": 120, "hue_max": 100}})
    ok = ConstructionConfig.model_validate(
        {"drone_model": "dji_mavic_3", "geometry": {"ground_offset_m": 12}}
    )
    assert ok.camera.sensor_width_mm == 17.3 and ok.geometry.ground_offset_m == 12
