"""Sizing with gating: the `district` report's measured model share scales fire cameras' inference, and the
sizing is given with and without gating (arithmetic checked by hand on synthetic reports)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from benchmarks.deployment import Deployment
from benchmarks.measured import find_reports
from benchmarks.report import write_report
from benchmarks.sizing import size
from benchmarks.sizing_report import render_text

FIRE_SUB = {"role": "fire", "count": 100, "stream": {"width": 640, "height": 360, "fps": 25},
            "decode": "full", "detectors": {"fire": {"fps": 2}}}
THROW = {"role": "throw", "count": 10, "stream": {"width": 1920, "height": 1080, "fps": 25},
         "detectors": {"throw": {"fps": 25, "model": False, "process_width_px": 960}}}


def deployment(groups: list[dict[str, Any]], **node: Any) -> Deployment:
    base = {"cores": 10, "memory_gib": 64, "reserved_cores": 1, "target_utilisation": 0.5, "reserved_memory_gib": 4}
    return Deployment.model_validate({"name": "t", "node": {**base, **node}, "groups": groups})


def with_district(measured: Path, share: float = 0.25, change_ms: float = 1.0, **gated: Any) -> Path:
    env = {"when_utc": "2026-01-02T00:00:00Z", "cpu": "test CPU", "cores": 2, "git_commit": "t",
           "mix": {"static": 14, "fire": 6}}
    write_report(measured / "district", "district", env, [
        {"system": "gridwatch gated", "cameras_per_core": 10.0, "model_input_share": share,
         "change_ms_per_frame": change_ms, **gated},
        {"system": "gridwatch ungated", "cameras_per_core": 4.0},
    ])
    return measured


def test_without_a_district_report_every_frame_is_sized_whole(measured: Path) -> None:
    s = size(deployment([FIRE_SUB]), find_reports([measured]))
    assert s.gating is None and s.without_gating is None
    assert s.groups[0].inference_cores == pytest.approx(2 * 40 / 1000)
    assert "gating:                not measured" in render_text(s)


def test_gated_fire_cameras_pay_the_measured_share_plus_the_change_signal(measured: Path) -> None:
    reports = find_reports([with_district(measured, share=0.25, change_ms=1.0)])
    s = size(deployment([FIRE_SUB, THROW]), reports)
    fire, throw = s.groups
    # 2 fps x 40 ms x 0.25 + 2 fps x 1 ms = 0.022 cores, instead of 0.08
    assert fire.inference_cores == pytest.approx(2 * 40 / 1000 * 0.25 + 2 * 1.0 / 1000)
    assert throw.inference_cores == 0.0
    assert s.without_gating is not None
    assert s.without_gating.groups[0].inference_cores == pytest.approx(2 * 40 / 1000)
    assert s.nodes < s.without_gating.nodes
    summary = s.summary()
    assert summary["nodes_needed_without_gating"] == s.without_gating.nodes
    assert summary["gated_model_input_share"] == 0.25
    assert "without gating:" in render_text(s) and "district" in " ".join(s.sources)
    plain = size(deployment([FIRE_SUB, THROW]), reports, gated=False)
    assert plain.nodes == s.without_gating.nodes and plain.gating is None


def test_the_share_after_the_benchs_warmup_sizes_a_node_when_the_report_has_it(measured: Path) -> None:
    """A node runs its cameras for hours: each camera's start (its first-frame sweep) is not its cost."""
    reports = find_reports([with_district(measured, share=0.25, change_ms=0.0, model_input_share_after_warmup=0.2)])
    s = size(deployment([FIRE_SUB]), reports)
    assert s.summary()["gated_model_input_share"] == 0.2
    assert s.groups[0].inference_cores == pytest.approx(2 * 40 / 1000 * 0.2)
    assert s.gating is not None and "0.200 after warm-up" in s.gating.source


def test_a_gpu_node_serves_more_gated_cameras_per_gpu(measured: Path) -> None:
    gpu = {"name": "test GPU", "inference_img_per_s": 100}
    reports = find_reports([with_district(measured, share=0.25, change_ms=0.0)])
    s = size(deployment([FIRE_SUB], gpu=gpu), reports)
    assert s.groups[0].gpu_img_s == pytest.approx(0.5)
    assert s.without_gating is not None and s.without_gating.groups[0].gpu_img_s == pytest.approx(2.0)
    assert s.nodes_by_gpu < s.without_gating.nodes_by_gpu
