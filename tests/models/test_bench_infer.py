"""The inference benchmark runs end to end and writes its report (structure only: no figure is asserted)."""

from __future__ import annotations

import json
from pathlib import Path

from benchmarks.infer import compare, run


def test_benchmark_runs_and_reports(tmp_path: Path, demo_v8: Path) -> None:
    result = run(demo_v8, batches=(1, 2), seconds=0.05, frames=2, int8=False, ultralytics=False,
                 out_dir=tmp_path)
    kinds = {(r["variant"], r["stage"], r["batch"]) for r in result["rows"]}
    assert ("fp32 640x640", "model only", 2) in kinds and ("fp32 rect 640x384", "pipeline", 1) in kinds
    assert all(r["img_s"] > 0 and r["cpu_ms_per_img"] >= 0 for r in result["rows"])
    assert "pipeline / model only (fp32), batch 2" in result["summary"]
    report = json.loads((tmp_path / "infer.json").read_text())
    assert report["environment"]["model_sha256"] and (tmp_path / "infer.md").is_file()
    table = compare(tmp_path / "infer.json", tmp_path / "infer.json")
    assert "| fp32 640x640 | model only | 2 |" in table
    assert sum(line.endswith("| 1 |") for line in table.splitlines()) == len(result["rows"])  # after/before
