"""Sizing from measured reports: the arithmetic, the limits (CPU, memory, GPU), and what is missing."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from benchmarks.deployment import Deployment, load_deployment
from benchmarks.measured import find_reports
from benchmarks.sizing import missing_suites, size
from benchmarks.sizing_costs import MissingFiguresError, rect_pixels
from foundation.errors import ConfigError

REPO = Path(__file__).resolve().parents[2]
DISTRICT = REPO / "configs" / "deployments" / "district-example.yaml"


def deployment(groups: list[dict[str, Any]], **node: Any) -> Deployment:
    base = {"cores": 10, "memory_gib": 64, "reserved_cores": 1, "target_utilisation": 0.5, "reserved_memory_gib": 4}
    return Deployment.model_validate({"name": "t", "node": {**base, **node}, "groups": groups})


FIRE_SUB = {"role": "fire", "count": 100, "stream": {"width": 640, "height": 360, "fps": 25},
            "decode": "full", "detectors": {"fire": {"fps": 2}}}
THROW = {"role": "throw", "count": 10, "stream": {"width": 1920, "height": 1080, "fps": 25},
         "detectors": {"throw": {"fps": 25, "model": False, "process_width_px": 960}}}


def test_a_camera_like_the_pipeline_run_costs_what_the_pipeline_measured(measured: Path) -> None:
    # The pipeline ran 640x360 cameras at 2 fps for 60 CPU ms per analysed frame: decode + inference + the
    # rest must add back up to 2 x 60 ms = 0.12 cores per camera.
    s = size(deployment([FIRE_SUB]), find_reports([measured]))
    (g,) = s.groups
    assert g.cores_per_camera == pytest.approx(0.12, rel=1e-6)
    assert g.inference_cores == pytest.approx(2 * 40 / 1000)
    assert s.usable_cores == pytest.approx((10 - 1) * 0.5)
    assert g.cameras_per_node == 37  # floor(4.5 / 0.12)
    assert s.nodes_by_cpu == 3 and s.nodes == 3  # 100 x 0.12 = 12 cores over 4.5 usable
    assert s.cameras_per_node == pytest.approx(100 / 3)


def test_faster_cores_and_larger_fleets_move_the_answer_the_right_way(measured: Path) -> None:
    reports = find_reports([measured])
    base = size(deployment([FIRE_SUB]), reports)
    fast = size(deployment([FIRE_SUB], cpu_speed_vs_measured=2.0), reports)
    big = size(deployment([{**FIRE_SUB, "count": 1000}]), reports)
    assert fast.groups[0].cores_per_camera == pytest.approx(base.groups[0].cores_per_camera / 2)
    assert fast.nodes < base.nodes < big.nodes


def test_throw_cameras_use_the_throw_detector_and_full_rate_decode(measured: Path) -> None:
    s = size(deployment([THROW]), find_reports([measured]))
    (g,) = s.groups
    assert g.inference_cores == 0.0
    assert g.detector_cores == pytest.approx(25 * 10 / 1000)
    # 1080p measured: 0.08 cores at 5 fps, 0.1 at 25 -> 0.075 fixed + 0.001 per analysed fps
    assert g.decode_cores == pytest.approx(0.075 + 25 * 0.001)
    assert not s.warnings


def test_keyframe_decoding_caps_the_analysis_rate_at_one_frame_per_gop(measured: Path) -> None:
    group = {**FIRE_SUB, "decode": "keyframes", "stream": {"width": 1920, "height": 1080, "gop_s": 1},
             "detectors": {"fire": {"fps": 5}}}
    s = size(deployment([group]), find_reports([measured]))
    (g,) = s.groups
    assert g.group.analysis_fps == 1.0
    assert g.decode_cores == pytest.approx(0.01 * 2)  # measured at GOP 2 s: twice the keyframes
    assert any("keyframe-only decoding gives 1 fps" in n for n in g.notes)


def test_a_gpu_node_keeps_only_pre_and_post_processing_on_the_cpu_and_is_bounded_by_the_gpu(measured: Path) -> None:
    gpu = {"name": "test GPU", "inference_img_per_s": 100}
    s = size(deployment([FIRE_SUB], gpu=gpu), find_reports([measured]))
    (g,) = s.groups
    assert g.inference_cores == pytest.approx(2 * (40 - 30) / 1000)
    assert g.cameras_per_node == 25 and g.limited_by == "gpu"  # 100 img/s x 0.5 / 2 fps
    assert s.nodes_by_gpu == 4 and s.nodes == 4


def test_memory_can_be_the_limit(measured: Path) -> None:
    s = size(deployment([{**THROW, "count": 1000}], cores=1000, memory_gib=12), find_reports([measured]))
    assert s.groups[0].limited_by == "memory"
    assert s.nodes_by_memory > s.nodes_by_cpu and s.nodes == s.nodes_by_memory


def test_missing_reports_are_named(measured: Path) -> None:
    reports = find_reports([measured])
    del reports["throw"], reports["pipeline"]
    dep = deployment([FIRE_SUB, THROW])
    assert missing_suites(dep, reports) == ["pipeline", "throw"]
    with pytest.raises(MissingFiguresError) as err:
        size(dep, reports)
    assert err.value.suites == ["pipeline", "throw"]


def test_the_newest_report_of_a_suite_wins(measured: Path, tmp_path: Path) -> None:
    newer = tmp_path / "newer" / "throw.json"
    newer.parent.mkdir()
    text = (measured / "throw" / "throw.json").read_text().replace("2026-01-01", "2026-02-01")
    newer.write_text(text.replace('"detector_ms": 10.0', '"detector_ms": 20.0'))
    reports = find_reports([measured, tmp_path / "newer"])
    assert reports["throw"].path == newer
    assert size(deployment([THROW]), reports).groups[0].detector_cores == pytest.approx(25 * 20 / 1000)


def test_rect_input_pixels_follow_the_frame_shape() -> None:
    assert rect_pixels(640, 1920, 1080) == 640 * 384
    assert rect_pixels(640, 640, 360) == 640 * 384
    assert rect_pixels(320, 1080, 1920) == 320 * 192


def test_the_district_example_describes_3082_cameras() -> None:
    dep = load_deployment(DISTRICT)
    assert dep.cameras == 3082
    assert dep.grid is not None and dep.grid.resolve() == REPO / "configs" / "grid" / "sample-district.geojson"
    assert dep.grid_cells() == 1887
    assert {"throw", "fire"} <= {d for g in dep.groups for d in g.detectors}


def test_an_invalid_deployment_names_the_line_and_key(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: x\nnode: {cores: 8, memory_gib: 16}\ngroups:\n  - role: a\n    count: -3\n"
                   "    stream: {width: 640, height: 360}\n    detectors: {fire: {fps: 2}}\n")
    with pytest.raises(ConfigError) as err:
        load_deployment(bad)
    assert any(":5:" in p and "groups[0].count" in p for p in err.value.problems), err.value.problems
