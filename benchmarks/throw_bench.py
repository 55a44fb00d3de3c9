"""Throw detector benchmark: can one core keep up with a 1080p 25 fps camera, and what does shrinking cost?

Run `python -m benchmarks.throw_bench [--out DIR] [--seconds S]`. It renders a 1080p throw scenario,
encodes it with libx264 (PyAV), and then, with OpenCV held to one thread so the figure means "per core":

- speed: decode (PyAV, one thread) and detector frames/s with the per-stage split, for each
  foreground method (running-average difference, MOG2) and processing width (960 = shrink by 2, 1920 =
  full resolution), and for the default configuration in steady rain (weather handling on);
- small objects: recall and floor accuracy on a scene of small objects (6-30 cm) at both widths, by
  object size, which is what shrinking the foreground stage costs.

`run()` returns the report rows and writes JSON + markdown through `benchmarks.report`; the lead
mounts it under `gridwatch bench throw`.
"""

from __future__ import annotations

import argparse
import itertools
import sys
import tempfile
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import av
import cv2
import numpy as np
from numpy.typing import NDArray

from benchmarks.report import environment, markdown_table, write_report
from benchmarks.scenarios.throw import ThrowScene
from benchmarks.scenarios.throw_score import AlertSummary, ThrowScore, score
from benchmarks.scenarios.throw_spec import ThrowScenarioSpec
from benchmarks.scenarios.video import write_h264
from detectors.event import Event
from detectors.throw import ThrowConfig, ThrowDetector
from detectors.throw.events import ThrowDetails
from ingest.frame import Frame

EPOCH_S = 1_700_000_000.0
"""Wall-clock time of a scenario's first frame (captured_at = EPOCH_S + pts)."""
CPU_CLOCK = time.thread_time
"""Speed figures are CPU seconds of the one thread doing the work: time on one core, even when other
processes share the machine (wall-clock fps are reported beside them)."""


@dataclass
class SceneRun:
    """What one pass of the detector over a video gave: events, stats and where the time went."""

    events: list[Event]
    detector: ThrowDetector
    frames: int
    detect_s: float
    decode_s: float


def detector_for(
    scene: ThrowScene,
    overrides: dict[str, Any] | None = None,
    camera_id: str = "bench-throw",
    clock: Callable[[], float] = time.perf_counter,
) -> ThrowDetector:
    """A detector configured as an operator would for this scene (calibration, sky mask) plus overrides.

    `clock` times its stages; the benchmark passes `time.thread_time` so that other processes on a
    shared machine do not inflate the figures (CPU seconds of this thread = time on one core).
    """
    cfg = scene.detector_overrides()
    for key, value in (overrides or {}).items():
        if isinstance(value, dict) and isinstance(cfg.get(key), dict):
            cfg[key] = {**cfg[key], **value}
        else:
            cfg[key] = value
    return ThrowDetector(camera_id, ThrowConfig.model_validate(cfg), stage_clock=clock)


def run_detector(
    detector: ThrowDetector,
    images: Iterable[NDArray[np.uint8]],
    fps: float,
    *,
    decode_timer: list[float] | None = None,
    clock: Callable[[], float] = time.perf_counter,
) -> SceneRun:
    """Feed BGR images as frames of one camera (pts = i / fps) and collect every event, flush included."""
    events: list[Event] = []
    detect_s = 0.0
    n = 0
    for n, image in enumerate(images, start=1):
        t = (n - 1) / fps
        frame = Frame(detector.camera_id, n - 1, EPOCH_S + t, t, image)
        t0 = clock()
        events += detector.process(frame, None)
        detect_s += clock() - t0
    events += detector.flush(EPOCH_S + n / fps)
    return SceneRun(events, detector, n, detect_s, sum(decode_timer) if decode_timer else 0.0)


def decode_frames(
    path: str | Path, timer: list[float], threads: int = 1, clock: Callable[[], float] = time.perf_counter
) -> Iterator[NDArray[np.uint8]]:
    """Decode a video with PyAV (FFmpeg) to BGR arrays, adding the decode time to `timer[0]`."""
    timer.append(0.0)
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        stream.codec_context.thread_count = threads
        it = container.decode(stream)
        while True:
            t0 = clock()
            try:
                frame = next(it)
            except StopIteration:
                return
            image = np.asarray(frame.to_ndarray(format="bgr24"), np.uint8)
            timer[0] += clock() - t0
            yield image


def alerts(events: Sequence[Event]) -> list[AlertSummary]:
    """One summary per incident from its last event (the end, or the start when it never ended)."""
    last: dict[str, Event] = {}
    first: dict[str, Event] = {}
    for e in events:
        last[e.incident_id] = e
        first.setdefault(e.incident_id, e)
    out = []
    for e in last.values():
        assert isinstance(e.details, ThrowDetails)
        traj = e.details.trajectory_px
        out.append(
            AlertSummary(
                first_t_s=float(traj[0][0]),
                last_t_s=float(traj[-1][0]),
                floor=e.facade.floor if e.facade else None,
                along_m=e.facade.along_m if e.facade else None,
                release_t_s=e.details.release_pts_s,
                alert_t_s=first[e.incident_id].trigger_captured_at - EPOCH_S,
            )
        )
    return out


def score_run(scene: ThrowScene, run: SceneRun, gate_min_floor: int = 3) -> ThrowScore:
    truth = scene.truth()
    return score(
        truth["throws"],
        alerts(run.events),
        scene.spec.duration_s / 3600,
        gate_min_floor,
        truth["distractors"],
    )


def _speed_rows(video: Path, scene: ThrowScene, widths: Sequence[int], methods: Sequence[str]) -> list[dict[str, Any]]:
    rows = []
    for method in methods:
        for width in widths:
            det = detector_for(scene, {"foreground": {"method": method, "process_width_px": width}}, clock=CPU_CLOCK)
            timer: list[float] = []
            wall0 = time.perf_counter()
            run = run_detector(
                det,
                decode_frames(video, timer, clock=CPU_CLOCK),
                scene.spec.fps,
                decode_timer=timer,
                clock=CPU_CLOCK,
            )
            wall_s = time.perf_counter() - wall0
            stages = det.stats.stage_seconds
            row: dict[str, Any] = {
                "weather": "clear",
                "method": method,
                "process_width_px": width,
                "frames": run.frames,
                "decode_ms": 1000 * run.decode_s / run.frames,
                "detector_ms": 1000 * run.detect_s / run.frames,
                "detector_fps": run.frames / run.detect_s,
                "decode_plus_detector_fps": run.frames / (run.detect_s + run.decode_s),
                "wall_fps_shared_machine": run.frames / wall_s,
            }
            for stage in ("prepare", "stabilise", "subtract", "blobs", "track", "judge"):
                row[f"{stage}_ms"] = 1000 * stages.get(stage, 0.0) / run.frames
            sc = score_run(scene, run)
            row.update(recall_floor3=sc.recall_gate, floor_within_1=sc.floor_accuracy, false_alerts=sc.false_alerts)
            rows.append(row)
            print(
                f"  speed {method} @ {width}px: detector {row['detector_fps']:.0f} fps, "
                f"with decode {row['decode_plus_detector_fps']:.0f} fps",
                file=sys.stderr,
            )
    return rows


def _small_object_rows(video: Path, scene: ThrowScene, widths: Sequence[int]) -> list[dict[str, Any]]:
    rows = []
    truths = scene.truth()["throws"]
    edges = [0.0, 0.12, 0.2, 1.0]
    for width in widths:
        det = detector_for(scene, {"foreground": {"process_width_px": width}})
        timer: list[float] = []
        run = run_detector(det, decode_frames(video, timer), scene.spec.fps, decode_timer=timer)
        sums = alerts(run.events)
        for lo, hi in itertools.pairwise(edges):
            band = [t for t in truths if lo <= t["size_m"] < hi and t["floor"] >= 3]
            sc = score(band, sums, scene.spec.duration_s / 3600)
            rows.append(
                {
                    "process_width_px": width,
                    "object_size_m": f"{lo:.2f}-{hi:.2f}",
                    "throws": len(band),
                    "detected": sc.detected_gate,
                    "recall": sc.recall_gate,
                    "floor_within_1": sc.floor_accuracy,
                }
            )
        print(f"  small objects @ {width}px done", file=sys.stderr)
    return rows


def run(
    out_dir: str | Path = "out/bench",
    *,
    seconds: float = 20.0,
    small_object_seconds: float = 40.0,
    widths: Sequence[int] = (960, 1920),
    methods: Sequence[str] = ("difference", "mog2"),
    seed: int = 7001,
    rain_streaks: int = 400,
) -> list[dict[str, Any]]:
    """Measure speed (per core) and the small-object cost of shrinking; write `throw.json`/`throw.md`."""
    threads = cv2.getNumThreads()
    cv2.setNumThreads(1)
    try:
        with tempfile.TemporaryDirectory(prefix="gridwatch-throw-bench-") as tmp:
            spec = ThrowScenarioSpec(
                seed=seed,
                duration_s=seconds,
                width_px=1920,
                height_px=1080,
                throws=max(1, round(seconds / 5)),
            )
            scene = ThrowScene(spec)
            video = Path(tmp) / "speed.mp4"
            write_h264(video, scene.frames(), spec.fps, crf=23)
            rows = _speed_rows(video, scene, widths, methods)
            rain_spec = replace(spec, seed=seed + 2, steady_rain_streaks=rain_streaks)
            rain_scene = ThrowScene(rain_spec)
            rain_video = Path(tmp) / "rain.mp4"
            write_h264(rain_video, rain_scene.frames(), rain_spec.fps, crf=23)
            rows += [
                {**r, "weather": f"rain {rain_streaks}/frame"}
                for r in _speed_rows(rain_video, rain_scene, widths[:1], ("difference",))
            ]
            small_spec = ThrowScenarioSpec(
                seed=seed + 1,
                duration_s=small_object_seconds,
                width_px=1920,
                height_px=1080,
                throws=max(1, round(small_object_seconds / 4)),
                min_throw_floor=3,
                object_size_m=(0.06, 0.3),
            )
            small_scene = ThrowScene(small_spec)
            small_video = Path(tmp) / "small.mp4"
            write_h264(small_video, small_scene.frames(), small_spec.fps, crf=23)
            small_rows = _small_object_rows(small_video, small_scene, widths)
    finally:
        cv2.setNumThreads(threads)
    clear = [r for r in rows if r["weather"] == "clear"]
    best = max(r["decode_plus_detector_fps"] for r in clear if r["method"] == "difference")
    summary = {
        "budget_fps_per_camera": 25.0,
        "default_config_fps_with_decode": round(
            next(
                r["decode_plus_detector_fps"]
                for r in clear
                if r["method"] == "difference" and r["process_width_px"] == 960
            ),
            1,
        ),
        "default_config_fps_with_decode_in_rain": round(
            next(r["decode_plus_detector_fps"] for r in rows if r["weather"] != "clear"), 1
        ),
        "best_fps_with_decode": round(best, 1),
        "opencv_threads": 1,
        "decoder_threads": 1,
    }
    notes = [
        f"speed: {seconds:.0f} s of generated 1080p25 video (seed {seed}), H.264 crf 23; one OpenCV "
        "thread, one decoder thread, CPU time of the working thread, so fps is per core",
        f"rain: the same length of video with {rain_streaks} rain streaks per frame (seed {seed + 2}), weather "
        "handling on (the default)",
        f"small objects: {small_object_seconds:.0f} s, objects 6-30 cm released from floors >= 3 (seed {seed + 1})",
        "stages: prepare = grey + shrink, stabilise = LK shift, subtract = background + threshold, blobs = "
        "contours, track = gravity tracker, judge = trajectory fits and events",
    ]
    all_rows = [{"section": "speed", **r} for r in rows] + [{"section": "small_objects", **r} for r in small_rows]
    write_report(out_dir, "throw", environment(), all_rows, summary, notes)
    return all_rows


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.throw_bench", description=__doc__.splitlines()[0])
    parser.add_argument("--out", default="out/bench", help="report directory (default out/bench)")
    parser.add_argument("--seconds", type=float, default=20.0, help="length of the speed clip (s)")
    parser.add_argument("--small-seconds", type=float, default=40.0, help="length of the small-object clip (s)")
    parser.add_argument("--seed", type=int, default=7001, help="scenario seed (benchmark seeds are 7000+)")
    args = parser.parse_args(argv)
    rows = run(args.out, seconds=args.seconds, small_object_seconds=args.small_seconds, seed=args.seed)
    print(markdown_table([r for r in rows if r["section"] == "speed"]))
    print(markdown_table([r for r in rows if r["section"] == "small_objects"]))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
