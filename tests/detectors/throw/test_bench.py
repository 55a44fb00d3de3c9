"""The throw benchmark runs end to end on a tiny clip and writes its report (no speed is asserted)."""

from __future__ import annotations

import json
from pathlib import Path

from benchmarks.throw_bench import run


def test_bench_writes_speed_and_small_object_rows(tmp_path: Path) -> None:
    rows = run(tmp_path, seconds=1.0, small_object_seconds=1.0, widths=(960,), methods=("difference",), seed=7901)
    speed = [r for r in rows if r["section"] == "speed"]
    small = [r for r in rows if r["section"] == "small_objects"]
    assert [r["weather"] for r in speed] == ["clear", "rain 400/frame"] and speed[0]["frames"] == 25
    for key in (
        "decode_ms",
        "detector_ms",
        "detector_fps",
        "prepare_ms",
        "stabilise_ms",
        "subtract_ms",
        "blobs_ms",
        "track_ms",
        "judge_ms",
    ):
        assert speed[0][key] > 0, key
    assert {r["object_size_m"] for r in small} == {"0.00-0.12", "0.12-0.20", "0.20-1.00"}
    report = json.loads((tmp_path / "throw.json").read_text())
    assert report["suite"] == "throw" and report["environment"]["cores"]
    assert report["summary"]["opencv_threads"] == 1
    assert report["summary"]["default_config_fps_with_decode_in_rain"] > 0
    assert (tmp_path / "throw.md").read_text().startswith("# gridwatch bench throw")
