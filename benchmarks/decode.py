"""Decode benchmark: CPU seconds per camera-minute, and cameras per core, for each ingest lever.

Run `python -m benchmarks.decode [--seconds S] [--repeats N] [--out DIR]`; the lead mounts `run()` as
`gridwatch bench decode`. It encodes CCTV-like H.264 clips once (textured still scene, sensor noise,
a few moving objects; 25 fps, GOP 50 = one keyframe per 2 s; libx264 through PyAV; cached under
~/.cache/gridwatch/bench/decode) and decodes them through `ingest.files.iter_file_frames` with one
decoder thread, so one CPU-second is one core-second. Rows:

- 1080p and 720p main streams: full decode analysed at 25 fps and at 5 fps, keyframes only;
- 640x360 sub-stream: full decode at 25 and at 5 fps, keyframes only;
- resize at decode (1080p main scaled to 640x360 in the colour conversion);
- skip non-reference frames, on a 720p stream with B-frames (and full decode of that stream).

`cpu_s_per_cam_min` = process CPU time / clip minutes; `cams_per_core` = 60 / that: how many such
cameras one core decodes in real time (decode only: analysis and the rest of the pipeline are extra).
"""

from __future__ import annotations

import argparse
import hashlib
import os
import statistics
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import cv2
import numpy as np
from numpy.typing import NDArray

from benchmarks.report import environment, markdown_table, write_report
from benchmarks.scenarios.video import write_h264
from ingest.config import DecodeMode
from ingest.files import iter_file_frames

FPS = 25
GOP = 50
CACHE = Path.home() / ".cache" / "gridwatch" / "bench" / "decode"
SIZES: dict[str, tuple[int, int]] = {"1080p": (1920, 1080), "720p": (1280, 720), "360p": (640, 360)}


@dataclass(frozen=True)
class Case:
    """One measured configuration."""

    name: str
    clip: str
    mode: DecodeMode
    analysis_fps: float | None
    resize: tuple[int, int] | None = None


CASES: tuple[Case, ...] = (
    Case("1080p main, full decode, analyse 25 fps", "1080p", DecodeMode.FULL, None),
    Case("1080p main, full decode, analyse 5 fps", "1080p", DecodeMode.FULL, 5.0),
    Case("1080p main, full decode, 5 fps, resize to 640x360", "1080p", DecodeMode.FULL, 5.0, (640, 360)),
    Case("1080p main, keyframes only", "1080p", DecodeMode.KEYFRAMES, None),
    Case("720p main, full decode, analyse 25 fps", "720p", DecodeMode.FULL, None),
    Case("720p main, full decode, analyse 5 fps", "720p", DecodeMode.FULL, 5.0),
    Case("720p main, keyframes only", "720p", DecodeMode.KEYFRAMES, None),
    Case("640x360 sub-stream, analyse 25 fps", "360p", DecodeMode.FULL, None),
    Case("640x360 sub-stream, analyse 5 fps", "360p", DecodeMode.FULL, 5.0),
    Case("640x360 sub-stream, keyframes only", "360p", DecodeMode.KEYFRAMES, None),
    Case("720p with B-frames, full decode, 25 fps", "720p-b", DecodeMode.FULL, None),
    Case("720p with B-frames, skip non-reference", "720p-b", DecodeMode.SKIP_NONREF, None),
)


def cctv_frames(width: int, height: int, n: int, seed: int = 7) -> Iterator[NDArray[np.uint8]]:
    """A fixed camera's view: a still textured scene with sensor noise and a few objects moving across."""
    rng = np.random.default_rng(seed)
    coarse = rng.integers(30, 220, size=(height // 24 + 1, width // 24 + 1, 3), dtype=np.uint8)
    scene = cv2.resize(coarse, (width, height), interpolation=cv2.INTER_CUBIC)
    edges = rng.integers(0, 2, size=(height // 6 + 1, width // 6 + 1), dtype=np.uint8) * 40
    detail = cv2.resize(edges, (width, height), interpolation=cv2.INTER_NEAREST)[..., None].astype(np.int16)
    scene = np.clip(scene.astype(np.int16) + detail, 0, 255).astype(np.uint8)
    noise = [rng.normal(0, 2.0, size=(height, width, 1)).astype(np.int16) for _ in range(6)]
    s = width / 1920
    movers = [  # (x0, y0, vx, vy, w, h, colour): cars, people, a cyclist, in pixels of a 1080p frame
        (0, 700, 14, 0, 220, 110, (40, 40, 200)),
        (1900, 820, -11, 0, 260, 120, (200, 200, 200)),
        (300, 500, 2, 1, 40, 100, (60, 120, 60)),
        (1500, 450, -3, 1, 45, 110, (90, 60, 30)),
        (800, 950, 6, -1, 90, 80, (20, 180, 220)),
        (100, 300, 5, 0, 60, 60, (150, 20, 150)),
    ]
    for i in range(n):
        img = scene.copy()
        for x0, y0, vx, vy, w, h, colour in movers:
            x = int(((x0 + vx * i) % 2100 - 100) * s)
            y = int((y0 + vy * i) * s) % height
            cv2.rectangle(img, (x, y), (x + int(w * s), y + int(h * s)), colour, thickness=-1)
        yield np.clip(img.astype(np.int16) + noise[i % len(noise)], 0, 255).astype(np.uint8)


def clip_path(name: str, seconds: float, cache_dir: Path) -> Path:
    """The cached clip `name` of `seconds`, encoded now if missing."""
    bframes = 2 if name.endswith("-b") else 0
    width, height = SIZES[name.removesuffix("-b")]
    key = hashlib.sha256(f"v1-{name}-{seconds}-{FPS}-{GOP}-{bframes}".encode()).hexdigest()[:10]
    path = cache_dir / f"{name}-{seconds:g}s-{key}.mp4"
    if not path.exists():
        cache_dir.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp.mp4")
        n = int(seconds * FPS)
        write_h264(
            tmp, cctv_frames(width, height, n), FPS, gop=GOP, bframes=bframes, crf=23, preset="veryfast"
        )
        tmp.rename(path)
    return path


def measure(case: Case, path: Path, seconds: float) -> dict[str, Any]:
    """Decode `path` as `case` says; CPU time of this process (one decoder thread)."""
    cpu0, wall0 = time.process_time(), time.perf_counter()
    frames = 0
    for _ in iter_file_frames(
        path,
        "bench",
        analysis_fps=case.analysis_fps,
        decode=case.mode,
        decode_threads=1,
        resize_width=case.resize[0] if case.resize else None,
        resize_height=case.resize[1] if case.resize else None,
    ):
        frames += 1
    cpu_s = time.process_time() - cpu0
    wall_s = time.perf_counter() - wall0
    per_min = cpu_s / (seconds / 60.0)
    return {"cpu_s": cpu_s, "wall_s": wall_s, "frames_out": frames, "cpu_s_per_cam_min": per_min}


def run(
    out_dir: str | Path | None = None,
    seconds: float = 10.0,
    repeats: int = 3,
    cases: Sequence[Case] = CASES,
    cache_dir: Path = CACHE,
) -> dict[str, Any]:
    """Measure every case (median of `repeats`), write `decode.json`/`decode.md` to `out_dir` if given."""
    rows: list[dict[str, Any]] = []
    clips = {c.clip: clip_path(c.clip, seconds, cache_dir) for c in cases}
    load_before = os.getloadavg()[0]
    for case in cases:
        runs = [measure(case, clips[case.clip], seconds) for _ in range(repeats)]
        per_min = statistics.median(r["cpu_s_per_cam_min"] for r in runs)
        rows.append(
            {
                "case": case.name,
                "stream_kbps": round(clips[case.clip].stat().st_size * 8 / 1000 / seconds),
                "frames_out": runs[0]["frames_out"],
                "cpu_s_per_cam_min": round(per_min, 3),
                "cams_per_core": round(60.0 / per_min, 1) if per_min > 0 else float("inf"),
                "ms_per_source_s": round(1000 * per_min / 60.0, 2),
            }
        )
    notes = [
        f"clips: {seconds:g} s, {FPS} fps, GOP {GOP}, libx264 veryfast crf 23, CCTV-like (still scene, "
        f"noise, 6 moving objects); one decoder thread; median of {repeats} run(s)",
        "cams_per_core = 60 / cpu_s_per_cam_min: real-time streams one core can decode (decode and colour "
        "conversion of analysed frames only; not inference)",
        "a keyframe-only camera still receives and demuxes every packet; only keyframes are decoded",
        f"machine load average (1 min) {load_before:.1f} before and {os.getloadavg()[0]:.1f} after the run: "
        "CPU time per task grows when other processes share the cores",
    ]
    summary = {
        r["case"]: f"{r['cpu_s_per_cam_min']} CPU-s/cam-min, {r['cams_per_core']} cams/core" for r in rows
    }
    env = environment()
    if out_dir is not None:
        write_report(out_dir, "decode", env, rows, summary=None, notes=notes)
    return {"rows": rows, "summary": summary, "notes": notes, "environment": env}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description="CPU cost of decoding camera streams with each ingest lever")
    ap.add_argument("--seconds", type=float, default=10.0, help="clip length in seconds (default 10)")
    ap.add_argument(
        "--repeats", type=int, default=3, help="runs per case; the median is reported (default 3)"
    )
    ap.add_argument("--out", type=Path, default=None, help="write decode.json and decode.md here")
    ap.add_argument("--cache", type=Path, default=CACHE, help="where generated clips are kept")
    args = ap.parse_args(argv)
    report = run(args.out, seconds=args.seconds, repeats=args.repeats, cache_dir=args.cache)
    print(markdown_table(report["rows"]))
    for note in report["notes"]:
        print(f"- {note}")
    env = report["environment"]
    print(
        f"\nEnvironment: {env['cpu']}, {env['cores']} cores, PyAV {env['pyav']}, commit {env['git_commit']}"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
