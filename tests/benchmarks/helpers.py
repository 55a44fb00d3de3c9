"""Helpers of the benchmark tests: synthetic measured reports for sizing, and a check of written reports."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from benchmarks.decode import CASES
from benchmarks.report import write_report

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"

# Decode cost in CPU-s per camera-minute by (clip, mode, analysis fps); 6.0 = 0.1 cores.
DECODE_COST = {
    ("1080p", "full", 25.0): 6.0, ("1080p", "full", 5.0): 4.8, ("1080p", "keyframes", None): 0.6,
    ("720p", "full", 25.0): 2.7, ("720p", "full", 5.0): 2.1, ("720p", "keyframes", None): 0.27,
    ("360p", "full", 25.0): 0.6, ("360p", "full", 5.0): 0.48, ("360p", "keyframes", None): 0.06,
}


def synthetic_reports(root: Path) -> Path:
    """Reports as the suites write them, with round figures a test can check by hand:
    decode (above), inference 40 CPU ms per 640x384 image (30 model only), the pipeline at 60 CPU ms per
    analysed frame (4 cameras, 640x360, 2 fps, 300 MiB), the throw detector at 10 ms per frame."""
    env: dict[str, Any] = {"when_utc": "2026-01-01T00:00:00Z", "cpu": "test CPU", "cores": 2, "git_commit": "t"}
    rows = []
    for case in CASES:
        fps = case.analysis_fps or (25.0 if case.mode.value == "full" else None)  # None: every frame
        key = (case.clip, case.mode.value, fps)
        if case.resize is None and key in DECODE_COST:
            rows.append({"case": case.name, "cpu_s_per_cam_min": DECODE_COST[key]})
    write_report(root / "decode", "decode", env, rows)
    write_report(root / "compare", "compare", env, [
        {"method": "model only (ORT run on a ready tensor)", "batch": 4, "input": "640x384", "img_s": 30.0,
         "cpu_ms_per_img": 30.0},
        {"method": "gridwatch DynamicBatcher (B cameras)", "batch": 4, "input": "640x384", "img_s": 25.0,
         "cpu_ms_per_img": 40.0},
    ])
    spec = {"cameras": 4, "width": 640, "height": 360, "stream_fps": 25.0, "analysis_fps": 2.0, "decode": "full",
            "imgsz": 640}
    write_report(root / "pipeline", "pipeline", {**env, "pipeline_spec": spec}, [{"camera": "c0"}],
                 summary={"cameras": 4, "cpu_ms_per_analysed_frame": 60.0, "service_rss_mib": 300.0,
                          "target_fps_per_camera": 2.0})
    write_report(root / "throw", "throw", env, [
        {"section": "speed", "method": "difference", "process_width_px": 960, "detector_ms": 10.0, "decode_ms": 8.0},
        {"section": "speed", "method": "difference", "process_width_px": 1920, "detector_ms": 30.0, "decode_ms": 8.0},
    ])
    return root


def check_report(out: Path, suite: str, min_pngs: int = 1) -> dict[str, Any]:
    """The files every suite writes: JSON with environment and rows, markdown with its table and plots, PNGs."""
    payload: dict[str, Any] = json.loads((out / f"{suite}.json").read_text(encoding="utf-8"))
    assert payload["suite"] == suite
    assert payload["rows"], f"{suite}: no rows"
    assert payload["environment"]["cores"] and payload["environment"]["cpu"]
    md = (out / f"{suite}.md").read_text(encoding="utf-8")
    assert md.startswith(f"# gridwatch bench {suite}") and "|---" in md and "Environment:" in md
    pngs = sorted(out.glob("*.png"))
    assert len(pngs) >= min_pngs, f"{suite}: {len(pngs)} plot(s)"
    for png in pngs:
        assert png.read_bytes()[:8] == PNG_MAGIC
        assert f"]({png.name})" in md
    return payload
