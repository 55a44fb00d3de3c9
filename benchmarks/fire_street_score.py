"""Score the fire detector on the independent street clips (`fire_street`), configured as a user would.

The detector reads the clip through PyAV at its `analysis_fps` (first frame at or after each tick, as the
service samples a camera), with the settings of `configs/reference/fire.yaml` (the shipped defaults) or
any other file. This module is the only reader of the ground truth: an alert counts as found when it is a
fire `start` at or after ignition whose box overlaps the flame's true box of that moment (widened by half
its size); every other `start` is a false alert.

CLI: `python -m benchmarks.fire_street_score --seeds 1 2 3 [--config FILE] [--cache DIR]`.
"""

from __future__ import annotations

import argparse
import json
import time
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import av
import numpy as np

from benchmarks.fire_score import overlaps_widened, truth_box_at
from benchmarks.scenarios.fire_street import ClipFiles, suite, write_clip
from detectors.event import Event, Phase
from detectors.fire import FireConfig, FireDetector
from foundation.yamlsafe import load_yaml_file
from ingest.frame import Frame

REFERENCE_CONFIG = Path(__file__).resolve().parents[1] / "configs" / "reference" / "fire.yaml"
T0 = 1.7e9
"""Capture time of a clip's first frame (UTC epoch seconds); any fixed value works."""


def load_fire_config(path: str | Path = REFERENCE_CONFIG) -> FireConfig:
    """The `detectors.fire` section of a YAML config file, validated as the service validates it."""
    doc = load_yaml_file(path)
    section = (doc.data or {}).get("detectors", {}).get("fire", {})
    return FireConfig.model_validate(section)


@dataclass
class ClipRun:
    """What the detector did on one clip: its events, frames analysed, CPU time and rejection counters."""

    events: list[Event]
    frames: int
    cpu_ms_per_frame: float
    rejected: dict[str, int]


def sampled(path: Path, analysis_fps: float, camera_id: str) -> Iterator[Frame]:
    """Decode with PyAV and keep the first frame at or after each analysis tick."""
    next_t = 0.0
    seq = 0
    with av.open(str(path)) as container:
        for vf in container.decode(video=0):
            pts = float(vf.pts * vf.time_base) if vf.pts is not None and vf.time_base else seq / analysis_fps
            if pts + 1e-6 < next_t:
                continue
            next_t = max(next_t + 1.0 / analysis_fps, pts)
            image = np.asarray(vf.to_ndarray(format="bgr24"), np.uint8)
            yield Frame(camera_id=camera_id, seq=seq, captured_at=T0 + pts, pts_s=pts, image=image)
            seq += 1


def run_clip(path: Path, config: FireConfig, camera_id: str = "street") -> ClipRun:
    """A fresh detector over one clip; CPU time counts only the detector's own `process` calls."""
    det = FireDetector(config, camera_id=camera_id)
    events: list[Event] = []
    cpu = 0.0
    n = 0
    last = T0
    for frame in sampled(path, config.analysis_fps, camera_id):
        start = time.process_time()
        events += det.process(frame, None)
        cpu += time.process_time() - start
        n += 1
        last = frame.captured_at
    events += det.flush(last)
    return ClipRun(events, n, 1000.0 * cpu / max(n, 1), dict(det.stats.rejected))


def score_clip(files: ClipFiles, run: ClipRun) -> dict[str, Any]:
    """Time to the first matching fire alert (None: missed) and the count of false alerts."""
    truth = json.loads(files.truth.read_text(encoding="utf-8"))
    boxes = {round(b["t_s"], 3): b["xyxy"] for b in truth["boxes"]}
    ignition = truth["ignition_s"]
    latency: float | None = None
    false_alerts = 0
    for ev in (e for e in run.events if e.phase is Phase.START):
        t = ev.trigger_captured_at - T0
        box = truth_box_at(boxes, t, 0.25)
        found = (
            truth["kind"] == "fire"
            and ev.kind.value == "fire"
            and ignition is not None
            and t >= ignition - 1e-3
            and box is not None
            and ev.box_xyxy is not None
            and overlaps_widened(ev.box_xyxy, box)
        )
        if found and latency is None:
            latency = t - ignition
        elif not found:
            false_alerts += 1
    clip = files.clip
    return {
        "clip": clip.name,
        "category": clip.category,
        "fps": clip.fps,
        "light": clip.lighting,
        "codec": f"{clip.codec}@{clip.bitrate_kbps}k",
        "style": clip.flame.style if clip.flame else "-",
        "distractors": ",".join(clip.distractors),
        "alerted": latency is not None,
        "latency_s": None if latency is None else round(latency, 2),
        "false_alerts": false_alerts,
        "frames": run.frames,
        "cpu_ms_per_frame": round(run.cpu_ms_per_frame, 2),
        "rejected": run.rejected,
    }


def summarise(rows: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """Fires alerted, median and worst time to alert, false alerts on look-alike clips and in fire clips."""
    fires = [r for r in rows if r["category"] == "fire"]
    others = [r for r in rows if r["category"] != "fire"]
    lat = sorted(r["latency_s"] for r in fires if r["latency_s"] is not None)
    rejected: Counter[str] = Counter()
    for r in rows:
        rejected.update(r["rejected"])
    return {
        "fires_alerted": sum(r["alerted"] for r in fires),
        "fires": len(fires),
        "latency_median_s": round(float(np.median(lat)), 2) if lat else None,
        "latency_worst_s": lat[-1] if lat else None,
        "distractor_clips_with_false_alert": sum(r["false_alerts"] > 0 for r in others),
        "distractor_clips": len(others),
        "distractor_false_alerts": sum(r["false_alerts"] for r in others),
        "false_alerts_in_fire_clips": sum(r["false_alerts"] for r in fires),
        "cpu_ms_per_frame_median": round(float(np.median([r["cpu_ms_per_frame"] for r in rows])), 2) if rows else None,
        "rejected": dict(rejected),
    }


def score_seeds(seeds: Sequence[int], cache: Path, config: FireConfig) -> list[dict[str, Any]]:
    """Write (or reuse) the clips of `seeds` under `cache` and score the detector on each."""
    rows = []
    for clip in suite(seeds):
        files = write_clip(clip, cache)
        rows.append(score_clip(files, run_clip(files.video, config)))
    return rows


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description="Fire detector on the independent street clips.")
    ap.add_argument("--seeds", type=int, nargs="+", required=True)
    ap.add_argument("--config", default=str(REFERENCE_CONFIG), help="YAML file with a detectors.fire section")
    ap.add_argument("--cache", default="var/street", help="where clips are written and reused")
    ap.add_argument("--json", default=None, help="also write rows and summary to this file")
    args = ap.parse_args(argv)
    rows = score_seeds(args.seeds, Path(args.cache), load_fire_config(args.config))
    for r in rows:
        print({k: v for k, v in r.items() if k != "rejected"}, r["rejected"])
    summary = summarise(rows)
    print(json.dumps(summary, indent=1))
    if args.json:
        Path(args.json).write_text(json.dumps({"rows": rows, "summary": summary}, indent=1), encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
