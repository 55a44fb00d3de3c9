"""The drone scenario generator (its own camera, scene, DJI SRT, video, cache) and the construction config files."""

from __future__ import annotations

import ast
import json
import math
import re
from pathlib import Path
from typing import Any

import av
import numpy as np
import pytest
from pydantic import BaseModel

from benchmarks.scenarios import drone
from benchmarks.scenarios.drone import GATE_SEEDS, TUNING_SEEDS, cached_flight, registry_geojson
from benchmarks.scenarios.drone_flight import FlightPlan, nadir_plan, oblique_plan, plan_flight
from benchmarks.scenarios.drone_scene import SHANGJIE_LAT_DEG, SHANGJIE_LON_DEG, build_scene
from benchmarks.scenarios.drone_srt import srt_text
from benchmarks.scenarios.sim_camera import SimCamera, SimPose, project, ray_hits_plane
from detectors.construction import ConstructionConfig, Registry
from foundation.yamlsafe import load_yaml_file
from ingest.srt import parse_srt

GENERATOR = [Path(drone.__file__).parent / name for name in drone.GENERATOR_FILES]


def test_tuning_and_gate_seeds_are_disjoint() -> None:
    assert not set(TUNING_SEEDS) & set(GATE_SEEDS)


def test_the_generator_shares_no_code_with_the_detector() -> None:
    """No camera model, colour rule or constant in common: the generator imports nothing of ours but itself."""
    ours = {"foundation", "ingest", "models", "detectors", "alerts", "gridwatch"}
    for path in GENERATOR:
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else (
                [node.module or ""] if isinstance(node, ast.ImportFrom) else [])
            for name in names:
                assert name.split(".")[0] not in ours, f"{path.name} imports {name}"


def test_sim_camera_by_hand() -> None:
    cam = SimCamera(1000, 800, 1000.0)
    nadir = SimPose(0.0, 0.0, 100.0, 0.0, -90.0)
    # Image top is north, right is east; 100 px at f = 1000 px from 100 m is 10 m.
    assert project(cam, nadir, np.array([[10.0, 0, 0], [0, 10.0, 0]])) == pytest.approx(
        np.array([[600.0, 400.0], [500.0, 300.0]]))
    assert project(cam, SimPose(0, 0, 100, 90.0, -90.0), np.array([[10.0, 0, 0]])) == pytest.approx(
        np.array([[500.0, 300.0]]))  # heading east: east is up the image
    # 45 degrees down looking north: the centre ray meets the ground 100 m north.
    assert ray_hits_plane(cam, SimPose(0, 0, 100, 0.0, -45.0), np.array([[500.0, 400.0]]), 0.0) == pytest.approx(
        np.array([[0.0, 100.0]]))
    # A camera mounted 1 degree off about the image x axis looks 100 tan(1) m further north; a compass 90 deg
    # off turns the whole view clockwise (the image top looks east).
    tilted = SimPose(0, 0, 100, 0.0, -90.0, boresight_deg=(1.0, 0.0, 0.0))
    assert ray_hits_plane(cam, tilted, np.array([[500.0, 400.0]]), 0.0)[0] == pytest.approx(
        [0.0, 100 * math.tan(math.radians(1.0))])
    turned = SimPose(0, 0, 100, 0.0, -90.0, compass_error_deg=90.0)
    assert ray_hits_plane(cam, turned, np.array([[500.0, 300.0]]), 0.0)[0] == pytest.approx([10.0, 0.0], abs=1e-9)


def test_scene_is_deterministic_and_has_what_a_survey_must_find() -> None:
    a, b = build_scene(11), build_scene(11)
    assert [s.id for s in a.structures] == [s.id for s in b.structures]
    assert np.array_equal(a.ground, b.ground)
    assert abs(a.origin_lat_deg - SHANGJIE_LAT_DEG) < 0.02 and abs(a.origin_lon_deg - SHANGJIE_LON_DEG) < 0.02
    kinds = {(s.kind, s.status) for s in a.structures}
    assert {("building", "registered"), ("steel_roof", "new"), ("steel_roof", "registered")} <= kinds
    new_roofs = [s for s in a.structures if s.kind == "steel_roof" and s.status == "new"]
    assert any(s.on for s in new_roofs)  # a rooftop addition
    assert min(s.area_m2 for s in new_roofs) < 36.0  # small sheds count
    distractors = {s.kind for s in a.structures if s.status == "distractor"}
    assert {"car", "pool", "court", "tarp", "solar"} <= distractors
    assert {"roof_red", "roof_grey", "roof_white", "roof_green"} & distractors
    assert {s.kind for s in a.structures if s.needs_model} == {"excavation", "scaffold"}
    reg = Registry.from_geojson(registry_geojson(a))
    assert {e.id for e in reg.entries} == {s.id for s in a.structures if s.status == "registered"}
    assert all(e.height_m for e in reg.entries if e.kind == "building")


SMALL_CAM = SimCamera(480, 270, 333.0)


def small(plan: FlightPlan) -> FlightPlan:
    return FlightPlan(**{**plan.__dict__, "camera": SMALL_CAM, "speed_m_s": 40.0, "line_spacing_m": 120.0})


@pytest.mark.parametrize("layout", ["bracket", "p4rtk"])
def test_srt_layouts_parse_back_through_ingest(layout: str) -> None:
    scene = build_scene(12, size_m=120.0, surround_margin_m=60.0)
    plan = small(nadir_plan(1331.0) if layout == "bracket" else oblique_plan(1280.0))
    track = plan_flight(scene, plan)
    text = srt_text(track, plan)
    block = text.split("\n\n")[3]
    if layout == "bracket":
        assert re.search(r"FrameCnt: 4, DiffTime: 1000ms\n\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3}\n", block)
        assert "[focal_len: 24.00]" in block
    else:
        assert re.search(r"GPS \(\d+\.\d{6}, \d+\.\d{6}, 18\), HOME .* H [\d.]+m, .*G\.PRY \(-5\d\.\d°", block)
        assert "focal_len" not in block
    parsed = parse_srt(text)
    assert len(parsed) == len(track)
    m = track.measured
    for i in (0, 5, len(track) - 1):
        got = parsed.pose_at(float(track.t_s[i]))
        assert got is not None and not got.defaulted
        assert (got.lat_deg, got.lon_deg) == pytest.approx((m["lat"][i], m["lon"][i]), abs=2e-6)
        assert got.rel_alt_m == pytest.approx(m["rel_alt"][i], abs=0.01)
        assert (got.gimbal_pitch_deg, got.gimbal_yaw_deg) == pytest.approx((m["pitch"][i], m["yaw"][i]), abs=0.06)
        assert (got.focal_len_35mm is None) == (layout == "p4rtk")


def test_telemetry_is_the_truth_plus_constant_offsets_and_drift() -> None:
    scene = build_scene(12, size_m=120.0, surround_margin_m=60.0)
    plan = small(nadir_plan(1331.0))
    track = plan_flight(scene, plan)
    off = track.offsets
    assert 0.4 * 1.5 <= abs(off["boresight_x_deg"]) <= 1.5 and abs(off["compass_deg"]) <= 3.0
    true_pitch = np.array([p.elevation_deg for p in track.true_poses])
    assert np.abs(track.measured["pitch"] - true_pitch).max() < 1.0  # the mounting error is not in the SRT
    assert all(p.boresight_deg[0] == off["boresight_x_deg"] for p in track.true_poses)


def test_flight_files_are_cached_and_match_each_other(tmp_path: Path) -> None:
    plan = small(nadir_plan(1331.0))
    files = cached_flight(13, plan, "tiny", cache_dir=tmp_path)
    with av.open(str(files.video)) as container:
        decoded = sum(1 for _ in container.decode(video=0))
    truth = json.loads(files.truth.read_text())
    assert decoded == files.frames == len(parse_srt(files.srt.read_text())) == truth["frames"]
    assert truth["seed"] == 13 and truth["plan"]["camera"]["focal_px"] == 333.0
    assert json.loads(files.registry.read_text()) == registry_geojson(build_scene(13))
    stamp = files.video.stat().st_mtime_ns
    again = cached_flight(13, plan, "tiny", cache_dir=tmp_path)
    assert again.video == files.video and again.video.stat().st_mtime_ns == stamp  # not rendered twice


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
    with pytest.raises(ValueError, match="extra"):
        ConstructionConfig.model_validate({"calibration": {"focal": 3}})
    with pytest.raises(ValueError, match="drone_model 'dji_x' is not in drone_models"):
        ConstructionConfig.model_validate({"drone_model": "dji_x"})
    with pytest.raises(ValueError, match="hue_min must be below hue_max"):
        ConstructionConfig.model_validate({"cue": {"hue_min": 120, "hue_max": 100}})
    with pytest.raises(ValueError, match="first_attempt_frames must not exceed give_up_frames"):
        ConstructionConfig.model_validate({"calibration": {"first_attempt_frames": 500, "give_up_frames": 100}})
    ok = ConstructionConfig.model_validate(
        {"drone_model": "dji_phantom_4_rtk", "geometry": {"ground_offset_m": 12, "accuracy_confidence": 0.95}}
    )
    assert ok.camera.sensor_width_mm == 13.2 and ok.geometry.ground_offset_m == 12


def test_the_demo_registry_is_the_demo_drone_scenes(repo_root: Path) -> None:
    """configs/registry/demo-district.geojson is what `python -m benchmarks.scenarios.drone` writes for the
    demo scene (seed 7): it must follow the scene when the generator changes."""
    shipped = json.loads((repo_root / "configs/registry/demo-district.geojson").read_text(encoding="utf-8"))
    scene = registry_geojson(build_scene(drone.DEMO_SEED))
    assert shipped["features"] == scene["features"]
    assert len(Registry.from_geojson(shipped, source="demo").entries) == len(scene["features"]) > 0
