"""Runs the fire detector over the generated fire scenarios and the real media, and scores it.

Kept apart from the generator (`benchmarks.scenarios.fire`) so that the generator imports no detector code:
only this runner and scorer do. CLI: `python -m benchmarks.fire_score --out var/bench
[--seeds gate|tuning] [--real PATH]` writes `fire.json`/`fire.md`.
"""

from __future__ import annotations

import argparse
import json
import time
import xml.etree.ElementTree as ET
from collections.abc import Callable, Iterator, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import av
import numpy as np

from benchmarks.report import environment, write_report
from benchmarks.roboflow_colour import score_images, summarise
from benchmarks.scenarios.fire import (
    GATE_SEEDS,
    TUNING_SEEDS,
    FireScenario,
    ScenarioFiles,
    suite,
    write_scenario,
)
from detectors.event import Event, Phase
from detectors.fire import FireConfig, FireDetector
from ingest.frame import Frame

# --------------------------------------------------------------------------- running the detector


def sampled_frames(path: str | Path, analysis_fps: float, camera_id: str, t0: float = 1.7e9) -> Iterator[Frame]:
    """Decode a video with PyAV and yield Frames at `analysis_fps` (the first frame at or after each tick)."""
    next_t = 0.0
    seq = 0
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        for vf in container.decode(stream):
            pts = float(vf.pts * vf.time_base) if vf.pts is not None and vf.time_base else seq / analysis_fps
            if pts + 1e-6 < next_t:
                continue
            next_t = max(next_t + 1.0 / analysis_fps, pts)
            image = np.asarray(vf.to_ndarray(format="bgr24"), np.uint8)
            yield Frame(camera_id=camera_id, seq=seq, captured_at=t0 + pts, pts_s=pts, image=image)
            seq += 1


@dataclass
class RunResult:
    """Events of one detector run over one video, with detector time per analysed frame."""

    events: list[Event]
    frames: int
    detector_ms_per_frame: float
    t0: float


def run_video(
    path: str | Path,
    config: FireConfig,
    camera_id: str = "cam",
    t0: float = 1.7e9,
    on_frame: Callable[[Frame, FireDetector, list[Event]], None] | None = None,
) -> RunResult:
    """Run a fresh FireDetector (cues, no model) over a video at the config's analysis fps."""
    det = FireDetector(config, camera_id=camera_id)
    events: list[Event] = []
    spent = 0.0
    n = 0
    last = t0
    for frame in sampled_frames(path, config.analysis_fps, camera_id, t0):
        start = time.perf_counter()
        new = det.process(frame, None)
        spent += time.perf_counter() - start
        n += 1
        last = frame.captured_at
        events += new
        if on_frame is not None:
            on_frame(frame, det, new)
    events += det.flush(last)
    return RunResult(events, n, 1000 * spent / max(n, 1), t0)


def score_scenario(files: ScenarioFiles, result: RunResult, max_latency_s: float = 5.0) -> dict[str, Any]:
    """Latency from ignition to the first matching start event, and the false alerts of a run.

    A start event matches when its kind is the scenario's and its box overlaps the ground-truth box of
    the same moment (widened by half its size). Every other start event is a false alert.
    """
    truth = json.loads(files.truth.read_text(encoding="utf-8"))
    sc = files.scenario
    starts = [e for e in result.events if e.phase is Phase.START]
    gt = {round(b["t_s"], 2): b["xyxy"] for b in truth["boxes"]}
    latency: float | None = None
    false_alerts = 0
    for ev in starts:
        t = ev.trigger_captured_at - result.t0
        box = truth_box_at(gt, t, 0.5)
        ok = (
            truth["kind"] is not None
            and ev.kind.value == truth["kind"]
            and truth["ignition_s"] is not None
            and t >= truth["ignition_s"] - 0.01
            and box is not None
            and ev.box_xyxy is not None
            and overlaps_widened(ev.box_xyxy, box)
        )
        if ok and latency is None:
            latency = t - truth["ignition_s"]
        elif not ok:
            false_alerts += 1
    return {
        "scenario": sc.name,
        "category": sc.category,
        "size": f"{sc.width}x{sc.height}",
        "light": sc.lighting,
        "crf": sc.crf,
        "noise": sc.noise_sigma,
        "alerted": latency is not None,
        "latency_s": None if latency is None else round(latency, 2),
        "within_limit": latency is not None and latency <= max_latency_s,
        "false_alerts": false_alerts,
        "frames": result.frames,
        "detector_ms_per_frame": round(result.detector_ms_per_frame, 2),
    }


def truth_box_at(boxes: dict[float, list[float]], t: float, tolerance_s: float) -> list[float] | None:
    """The labelled box (by time) nearest `t`, if one lies within `tolerance_s` (the scorers of the fire
    suites share it; each states its own tolerance)."""
    if not boxes:
        return None
    key = min(boxes, key=lambda k: abs(k - t))
    return boxes[key] if abs(key - t) <= tolerance_s else None


def overlaps_widened(a: Sequence[float], b: Sequence[float]) -> bool:
    """Whether box `a` overlaps truth box `b` widened by half its size each way (a plume's alert box is
    rarely the labeller's box)."""
    bw, bh = b[2] - b[0], b[3] - b[1]
    wb = (b[0] - bw / 2, b[1] - bh / 2, b[2] + bw / 2, b[3] + bh / 2)
    return a[0] < wb[2] and a[2] > wb[0] and a[1] < wb[3] and a[3] > wb[1]


# --------------------------------------------------------------------------- real footage


def furg_boxes(xml_path: str | Path) -> dict[int, list[tuple[int, int, int, int]]]:
    """FURG fire labels (OpenCV FileStorage XML): frame number -> flame boxes as (x1, y1, x2, y2)."""
    root = ET.parse(str(xml_path)).getroot()  # noqa: S314 - a local, trusted dataset file
    out: dict[int, list[tuple[int, int, int, int]]] = {}
    frames = root.find("frames")
    for entry in frames if frames is not None else []:
        num = entry.findtext("frameNumber")
        if num is None:
            continue
        boxes = []
        ann = entry.find("annotations")
        for item in ann if ann is not None else []:
            x, y, w, h = (int(v) for v in (item.text or "").split())
            boxes.append((x, y, x + w, y + h))
        out[int(num)] = boxes
    return out


def furg_time_to_alert(video: str | Path, config: FireConfig) -> dict[str, Any]:
    """Run the cues over the FURG clip (fire from frame 0); report the first fire start and its box."""
    result = run_video(video, config, camera_id="furg-house6")
    starts = [e for e in result.events if e.phase is Phase.START and e.kind.value == "fire"]
    first = starts[0] if starts else None
    return {
        "frames": result.frames,
        "fire_incidents": len(starts),
        "first_alert_s": None if first is None else round(first.trigger_captured_at - result.t0, 2),
        "first_box": None if first is None else [round(v, 1) for v in (first.box_xyxy or ())],
        "first_reasons": None if first is None else dict(first.reasons),
        "detector_ms_per_frame": round(result.detector_ms_per_frame, 2),
    }


# --------------------------------------------------------------------------- CLI


def run_suite(scenarios: Sequence[FireScenario], work_dir: Path, config: FireConfig) -> list[dict[str, Any]]:
    rows = []
    for sc in scenarios:
        files = write_scenario(sc, work_dir)
        rows.append(score_scenario(files, run_video(files.video, config)))
    return rows


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description="Fire detector accuracy and speed on generated scenarios.")
    ap.add_argument("--out", default="var/bench", help="report directory")
    ap.add_argument("--seeds", choices=("gate", "tuning"), default="tuning", help="which seed set to run")
    ap.add_argument("--count", type=int, default=2, help="how many seeds of the set (each makes 9 clips)")
    ap.add_argument("--smoke", action="store_true", help="enable the experimental smoke cue")
    ap.add_argument("--real", default=None, help="path of testdata-real, to add the FURG and Roboflow figures")
    args = ap.parse_args(argv)

    seeds = (GATE_SEEDS if args.seeds == "gate" else TUNING_SEEDS)[: args.count]
    config = FireConfig.model_validate({"smoke": {"enabled": bool(args.smoke)}})
    out = Path(args.out)
    started = time.perf_counter()
    rows = run_suite(suite(seeds), out / "fire-scenarios", config)
    fires = [r for r in rows if r["category"] == "fire"]
    smokes = [r for r in rows if r["category"] == "smoke"]
    distract = [r for r in rows if r["category"] == "distractor"]
    lat = [r["latency_s"] for r in fires if r["latency_s"] is not None]
    summary: dict[str, Any] = {
        "seeds": list(seeds),
        "fire_within_5s": f"{sum(r['within_limit'] for r in fires)}/{len(fires)}",
        "fire_latency_median_s": round(float(np.median(lat)), 2) if lat else None,
        "fire_latency_max_s": max(lat) if lat else None,
        "smoke_within_5s": f"{sum(r['within_limit'] for r in smokes)}/{len(smokes)}",
        "distractor_false_alerts": sum(r["false_alerts"] for r in distract),
        "false_alerts_in_fire_clips": sum(r["false_alerts"] for r in fires + smokes),
        "detector_ms_per_frame_median": round(float(np.median([r["detector_ms_per_frame"] for r in rows])), 2),
        "wall_s": round(time.perf_counter() - started, 1),
    }
    if args.real:
        real = Path(args.real)
        summary["furg_house6"] = furg_time_to_alert(real / "furg-fire" / "house6.mp4", config)
        summary["roboflow_flame_cue"] = asdict(summarise(score_images(real / "roboflow-fire-wrpgm", config)))
    jpath, mpath = write_report(out, "fire", environment(), rows, summary)
    print(mpath.read_text(encoding="utf-8"))
    print(f"wrote {jpath} and {mpath}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
