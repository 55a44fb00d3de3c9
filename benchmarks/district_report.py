"""What `gridwatch bench district` reports: each system's row, the comparison, the per-camera table and plots.

`benchmarks.district` runs the systems on the clips and hands each run here as a `SystemRun`; scoring one
camera's alerts against its truth is `benchmarks.district_score`.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from benchmarks import plots
from benchmarks.district_score import Start, score_camera, summarise
from benchmarks.report import markdown_table
from benchmarks.scenarios.district_mix import CameraFiles
from models.gating import GateStats

GRIDWATCH_GATED = "gridwatch gated"
GRIDWATCH_UNGATED = "gridwatch ungated"
ULTRALYTICS = "Ultralytics predict"


@dataclass
class SystemRun:
    """What one system did on all cameras: incident starts, CPU, wall time and its own counters."""

    system: str
    starts: dict[str, list[Start]]
    cpu_s: float
    wall_s: float
    frames: int
    video_s: float
    detector_cpu_s: float = 0.0
    gate: GateStats = field(default_factory=GateStats)
    camera_gates: dict[str, GateStats] = field(default_factory=dict)
    change_ms_per_frame: float | None = None
    load_avg: tuple[float, float] = (0.0, 0.0)
    after_warmup: AfterWarmup | None = None


@dataclass(frozen=True)
class AfterWarmup:
    """What a system spent from `DistrictSpec.warmup_s` on (`benchmarks.district` says how it is read)."""

    cpu_s: float
    video_s: float
    gate: GateStats = field(default_factory=GateStats)


def row(run: SystemRun, files: Sequence[CameraFiles]) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    cams = [score_camera(cf.truth, run.starts.get(cf.camera.name, [])) for cf in files]
    for c in cams:
        g = run.camera_gates.get(str(c["camera"]))
        if g is not None:
            c["paths"] = paths(g)
            c["model_input_share"] = round(g.input_px / max(g.full_frame_input_px, 1), 3)
    s = summarise(cams)
    per_cam_s = run.cpu_s / run.video_s
    row: dict[str, Any] = {
        "system": run.system,
        "cpu_s": round(run.cpu_s, 1),
        "wall_s": round(run.wall_s, 1),
        "frames_analysed": run.frames,
        "cpu_ms_per_camera_s": round(1000.0 * per_cam_s, 2),
        "cameras_per_core": round(1.0 / per_cam_s, 2),
        **s,
    }
    w = run.after_warmup
    if w is not None and w.video_s > 0 and w.cpu_s > 0:
        row["cpu_ms_per_camera_s_after_warmup"] = round(1000.0 * w.cpu_s / w.video_s, 2)
        row["cameras_per_core_after_warmup"] = round(w.video_s / w.cpu_s, 2)
        if w.gate.full_frame_input_px:
            row["model_input_share_after_warmup"] = round(w.gate.input_px / w.gate.full_frame_input_px, 3)
    if run.system == ULTRALYTICS:
        alone = (run.cpu_s - run.detector_cpu_s) / run.video_s
        row["cameras_per_core_predict_only"] = round(1.0 / alone, 2)
    row["detector_cpu_ms_per_camera_s"] = round(1000.0 * run.detector_cpu_s / run.video_s, 2)
    if run.gate.full_frame_input_px:
        row["model_input_share"] = round(run.gate.input_px / run.gate.full_frame_input_px, 3)
        row["change_ms_per_frame"] = run.change_ms_per_frame
        row["paths"] = paths(run.gate)
        row["cues_rested"] = run.gate.cues_rested
        row["regions_reused"] = run.gate.reused
        row["incidents_held"] = run.gate.incidents_held
        row["incident_looks"] = run.gate.incident_looks
    row["load_avg_1m"] = f"{run.load_avg[0]:.1f} -> {run.load_avg[1]:.1f}"
    return row, [{"system": run.system, **c} for c in cams]


def paths(g: GateStats) -> dict[str, int]:
    paths = Counter[str]()
    for (path, _), n in g.frames.items():
        paths[path] += n
    return dict(sorted(paths.items()))


def summary(rows: Sequence[dict[str, Any]], per_camera: Sequence[dict[str, Any]]) -> dict[str, Any]:
    by = {r["system"]: r for r in rows}
    out: dict[str, Any] = {}
    g, u, ul = by.get(GRIDWATCH_GATED), by.get(GRIDWATCH_UNGATED), by.get(ULTRALYTICS)
    if g and ul:
        out["cameras_per_core_gated_over_ultralytics"] = round(g["cameras_per_core"] / ul["cameras_per_core"], 2)
        out["cameras_per_core_gated_over_ultralytics_predict_only"] = round(
            g["cameras_per_core"] / ul["cameras_per_core_predict_only"], 2)
        if "cameras_per_core_after_warmup" in g and "cameras_per_core_after_warmup" in ul:
            out["cameras_per_core_gated_over_ultralytics_after_warmup"] = round(
                g["cameras_per_core_after_warmup"] / ul["cameras_per_core_after_warmup"], 2)
        out["recall_gated_minus_ultralytics"] = round((g["recall"] or 0.0) - (ul["recall"] or 0.0), 3)
    if g and u:
        out["cameras_per_core_gated_over_ungated"] = round(g["cameras_per_core"] / u["cameras_per_core"], 2)
        if "cameras_per_core_after_warmup" in g and "cameras_per_core_after_warmup" in u:
            out["cameras_per_core_gated_over_ungated_after_warmup"] = round(
                g["cameras_per_core_after_warmup"] / u["cameras_per_core_after_warmup"], 2)
        diffs = tta_diffs(per_camera, GRIDWATCH_GATED, GRIDWATCH_UNGATED)
        out["time_to_alert_gated_minus_ungated_s"] = diffs
        found = [d for d in diffs.values() if d is not None]
        out["time_to_alert_gated_minus_ungated_worst_s"] = max(found) if found else None
    for r in rows:
        out[f"{r['system']}: cameras per core"] = r["cameras_per_core"]
        out[f"{r['system']}: recall"] = f"{r['fires_found']}/{r['fires']}"
        out[f"{r['system']}: false alerts"] = r["false_alerts"]
    return out


def tta_diffs(per_camera: Sequence[dict[str, Any]], a: str, b: str) -> dict[str, float | None]:
    ta = {r["camera"]: r["time_to_alert_s"] for r in per_camera if r["system"] == a and r["fire"]}
    tb = {r["camera"]: r["time_to_alert_s"] for r in per_camera if r["system"] == b and r["fire"]}
    return {cam: (round(ta[cam] - tb[cam], 2) if ta.get(cam) is not None and tb.get(cam) is not None else None)
            for cam in sorted(ta)}


def plot(rows: Sequence[dict[str, Any]], per_camera: Sequence[dict[str, Any]], out: Path) -> list[Path]:
    cams = {str(r["system"]): float(r["cameras_per_core"]) for r in rows}
    for r in rows:
        if "cameras_per_core_predict_only" in r:
            cams[f"{r['system']} (predict only, no detector)"] = float(r["cameras_per_core_predict_only"])
    tta: dict[str, dict[str, float]] = {}
    for r in per_camera:
        if r["fire"]:
            tta.setdefault(str(r["camera"]).rsplit("-", 2)[-2], {})[str(r["system"])] = (
                float(r["time_to_alert_s"]) if r["time_to_alert_s"] is not None else 0.0)
    return [
        plots.hbars(cams, out / "district_cameras_per_core.png", xlabel="cameras per core (CPU time)",
                    title="Cameras one core keeps up with, same clips, model and analysed rate"),
        plots.grouped_bars(tta, out / "district_time_to_alert.png", ylabel="seconds after ignition (0: missed)",
                           title="Time to alert per fire camera"),
    ]


def append_cameras(mpath: Path, per_camera: Sequence[dict[str, Any]]) -> None:
    fires = [r for r in per_camera if r["fire"] or r["false_alerts"]]
    with mpath.open("a", encoding="utf-8") as fh:
        fh.write("\nFire cameras and cameras with false alerts:\n\n" + markdown_table(fires))


def add_cameras_json(jpath: Path, per_camera: Sequence[dict[str, Any]]) -> None:
    payload = json.loads(jpath.read_text(encoding="utf-8"))
    payload["cameras"] = list(per_camera)
    jpath.write_text(json.dumps(payload, indent=2, default=str), encoding="utf-8")


def table(result: dict[str, Any]) -> str:
    cols = ["system", "cameras_per_core", "cpu_ms_per_camera_s", "cameras_per_core_after_warmup", "recall",
            "fires_found", "fires", "time_to_alert_median_s", "time_to_alert_worst_s", "false_alerts",
            "model_input_share", "load_avg_1m"]
    return markdown_table(result["rows"], cols)
