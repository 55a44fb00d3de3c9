"""`gridwatch bench district`: the camera mix, the scorer, and a quick run of all three systems through the
CLI (figures are never asserted: performance comes from `gridwatch bench`, not from tests)."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from benchmarks.district import TUNING_SEEDS, DistrictSpec, fire_config
from benchmarks.district_report import (
    GRIDWATCH_GATED,
    GRIDWATCH_UNGATED,
    ULTRALYTICS,
    AfterWarmup,
    SystemRun,
    row,
    summary,
)
from benchmarks.district_score import Start, score_camera, summarise
from benchmarks.scenarios.district_mix import district, kinds_for, make_camera
from gridwatch.cli import main
from models.gating import GateStats
from tests.benchmarks.helpers import check_report


def test_the_mix_is_mostly_quiet_streets_with_a_few_fires() -> None:
    assert Counter(kinds_for(30)) == {"static": 14, "fire": 6, "traffic": 6, "night_lamps": 4}
    assert Counter(kinds_for(2)) == {"fire": 1, "static": 1}, "a tiny mix still has a fire"
    cams = district(30, 2026)
    assert [c.name for c in cams] == [c.name for c in district(30, 2026)], "drawn from (seed, index) alone"
    fires = [c for c in cams if c.kind == "fire"]
    assert all(c.ignition_s is not None and 8.0 <= c.ignition_s <= 16.0 for c in fires)
    assert all(c.clip.lighting == "night" for c in cams if c.kind == "night_lamps")
    assert all(c.clip.flame is None for c in cams if c.kind != "fire")
    short = make_camera("fire", 1, 0, duration_s=10.0).ignition_s
    assert short is not None and short <= 5.0, "a short clip ignites by half-way"


def truth(tmp_path: Path, fire: bool, ignition: float | None) -> Path:
    path = tmp_path / f"cam-{fire}.json"
    path.write_text(json.dumps({"camera": "cam", "kind": "fire" if fire else "static", "fire": fire,
                                "ignition_s": ignition}), encoding="utf-8")
    return path


def test_the_scorer_counts_found_fires_time_to_alert_and_false_alerts(tmp_path: Path) -> None:
    fire = truth(tmp_path, True, 10.0)
    early = Start("cam", "fire", 4.0)
    row = score_camera(fire, [Start("cam", "smoke", 13.5), early, Start("cam", "fire", 12.0)])
    assert row["found"] and row["time_to_alert_s"] == 2.0 and row["first_kind"] == "fire"
    assert row["false_alerts"] == 1, "a start before ignition is false"
    quiet = score_camera(truth(tmp_path, False, None), [Start("cam", "fire", 12.0)])
    assert not quiet["found"] and quiet["false_alerts"] == 1
    missed = score_camera(fire, [])
    s = summarise([row, quiet, missed])
    assert s["fires"] == 2 and s["fires_found"] == 1 and s["recall"] == 0.5
    assert s["time_to_alert_median_s"] == 2.0 and s["false_alerts"] == 2 and s["cameras_with_false_alerts"] == 2


def cam_row(system: str, camera: str, tta: float | None) -> dict[str, object]:
    return {"system": system, "camera": camera, "fire": True, "time_to_alert_s": tta}


def system_row(system: str, cameras_per_core: float, found: int, **extra: float) -> dict[str, object]:
    return {"system": system, "cameras_per_core": cameras_per_core, "recall": found / 2, "fires_found": found,
            "fires": 2, "false_alerts": 0, **extra}


def test_the_summary_compares_gated_with_ungated_and_ultralytics_on_the_same_cameras() -> None:
    rows = [system_row(GRIDWATCH_GATED, 6.0, 2), system_row(GRIDWATCH_UNGATED, 2.0, 2),
            system_row(ULTRALYTICS, 1.5, 1, cameras_per_core_predict_only=2.0)]
    cams = [cam_row(GRIDWATCH_GATED, "a", 3.0), cam_row(GRIDWATCH_UNGATED, "a", 2.0),
            cam_row(GRIDWATCH_GATED, "b", 1.0), cam_row(GRIDWATCH_UNGATED, "b", None)]
    s = summary(rows, cams)
    assert s["cameras_per_core_gated_over_ultralytics"] == 4.0
    assert s["cameras_per_core_gated_over_ultralytics_predict_only"] == 3.0
    assert s["cameras_per_core_gated_over_ungated"] == 3.0
    assert s["recall_gated_minus_ultralytics"] == 0.5
    assert s["time_to_alert_gated_minus_ungated_s"] == {"a": 1.0, "b": None}, "no difference when one missed"
    assert s["time_to_alert_gated_minus_ungated_worst_s"] == 1.0
    assert s["gridwatch gated: recall"] == "2/2" and s["Ultralytics predict: recall"] == "1/2"
    alone = summary(rows[:1], cams)
    assert "cameras_per_core_gated_over_ungated" not in alone and "recall_gated_minus_ultralytics" not in alone


def test_after_warmup_figures_count_only_the_cpu_and_camera_seconds_from_the_warmup_on() -> None:
    files: list[Any] = []
    whole = GateStats(input_px=300, full_frame_input_px=1000)
    gated = SystemRun(GRIDWATCH_GATED, {}, cpu_s=10.0, wall_s=1.0, frames=1, video_s=100.0, gate=whole,
                      after_warmup=AfterWarmup(6.0, 90.0, GateStats(input_px=180, full_frame_input_px=900)))
    ultra = SystemRun(ULTRALYTICS, {}, cpu_s=40.0, wall_s=1.0, frames=1, video_s=100.0,
                      after_warmup=AfterWarmup(36.0, 90.0))
    g, _ = row(gated, files)
    u, _ = row(ultra, files)
    assert (g["cameras_per_core"], g["cameras_per_core_after_warmup"]) == (10.0, 15.0)
    assert (g["model_input_share"], g["model_input_share_after_warmup"]) == (0.3, 0.2)
    assert u["cameras_per_core_after_warmup"] == 2.5 and "model_input_share_after_warmup" not in u
    s = summary([g, u], [])
    assert (s["cameras_per_core_gated_over_ultralytics"], s["cameras_per_core_gated_over_ultralytics_after_warmup"]) \
        == (4.0, 6.0)
    plain, _ = row(SystemRun(ULTRALYTICS, {}, cpu_s=40.0, wall_s=1.0, frames=1, video_s=100.0), files)
    assert "cameras_per_core_after_warmup" not in summary([g, plain], []) and \
        "cameras_per_core_gated_over_ultralytics_after_warmup" not in summary([g, plain], [])


def test_both_gridwatch_runs_use_the_shipped_fire_config_in_both_mode_differing_only_in_gating() -> None:
    spec = DistrictSpec(model=Path("m.onnx"), vid_stride=10)
    gated, ungated = fire_config(spec, True), fire_config(spec, False)
    assert gated.gating.enabled and not ungated.gating.enabled
    assert gated.mode == ungated.mode == "both" and gated.analysis_fps == 2.5
    assert gated.model_copy(update={"gating": ungated.gating}) == ungated


@pytest.mark.parametrize(("args", "says"), [
    (["--cameras", "0"], "--cameras must be at least 1"),
    (["--vid-stride", "0"], "--vid-stride must be at least 1"),
    (["--imgsz", "300"], "--imgsz must be a multiple of 32"),
    (["--seed", str(TUNING_SEEDS[0])], "tuned on"),
    (["--warmup-s", "-1"], "--warmup-s must be at least 0 and shorter than the clips"),
    (["--warmup-s", "30"], "--warmup-s must be at least 0 and shorter than the clips"),
    (["--model", "no/such/model.onnx"], "--model no/such/model.onnx is not a file"),
    (["--fetched", "fire-smoke", "--model", "m.onnx"], "give --model or --fetched, not both"),
])
def test_bench_district_refuses_meaningless_options_before_making_clips(
        args: list[str], says: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    clips = tmp_path / "clips"
    assert main(["bench", "district", "--no-progress", "--clips-dir", str(clips), "--out", str(tmp_path),
                 *args]) == 2
    assert says in capsys.readouterr().err
    assert not clips.exists() and not (tmp_path / "district.json").exists()


def test_bench_district_names_the_fetch_command_when_the_weights_were_not_fetched(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GRIDWATCH_CACHE", str(tmp_path / "empty-cache"))
    clips = tmp_path / "clips"
    assert main(["bench", "district", "--no-progress", "--fetched", "fire-smoke", "--clips-dir", str(clips),
                 "--out", str(tmp_path)]) == 1
    err = capsys.readouterr().err
    assert "fetched weights 'fire-smoke'" in err and "gridwatch models fetch fire-smoke" in err
    assert not clips.exists()


@pytest.mark.slow
def test_district_quick_runs_all_three_systems_and_writes_its_report(tmp_path: Path) -> None:
    assert main(["bench", "district", "--quick", "--no-progress", "--out", str(tmp_path)]) == 0
    payload = check_report(tmp_path, "district", min_pngs=2)
    systems = [r["system"] for r in payload["rows"]]
    assert systems == ["gridwatch gated", "gridwatch ungated", "Ultralytics predict"]
    gated = payload["rows"][0]
    assert gated["frames_analysed"] > 0 and 0 < gated["model_input_share"] <= 1
    assert sum(gated["paths"].values()) == gated["frames_analysed"]
    assert payload["rows"][1]["paths"] == {"ungated": payload["rows"][1]["frames_analysed"]}
    assert "cameras_per_core_gated_over_ultralytics" in payload["summary"]
    assert all(r["cameras_per_core_after_warmup"] > 0 for r in payload["rows"]), "every system after the warm-up"
    assert 0 < gated["model_input_share_after_warmup"] <= 1
    assert "cameras_per_core_gated_over_ultralytics_after_warmup" in payload["summary"]
    assert len(payload["cameras"]) == 6, "2 cameras x 3 systems"
