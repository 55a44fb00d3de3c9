"""The README's first command: the embedded demo runs end to end and prints at least one alert."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]


@pytest.mark.slow
def test_demo_exits_zero_and_prints_a_fire_alert(tmp_path: Path) -> None:
    from gridwatch.demo import DEMO_MODEL_IMGSZ
    from tests.infra.models import cached_model

    # The demo exports this same seeded model itself when missing; reuse the test cache's copy.
    shutil.copy(cached_model("yolov8n.yaml", DEMO_MODEL_IMGSZ), tmp_path / f"yolov8n-{DEMO_MODEL_IMGSZ}.onnx")
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    result = subprocess.run([sys.executable, "-m", "gridwatch", "demo", "--workdir", str(tmp_path)],
                            capture_output=True, text=True, env=env, cwd=tmp_path, timeout=600)
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-3000:]
    assert "alert(s) in the outbox" in result.stdout
    lines = [ln for ln in result.stdout.splitlines() if " fire " in ln and "demo-fire" in ln]
    assert any(" start " in ln for ln in lines), result.stdout
    # the demo camera stands in micro-grid SJ-02-08-02-1 of the made-up sample district at Shangjie
    assert all("grid SJ-02-08-02-1 (乙08社区) team OT-0548" in ln for ln in lines), lines
    assert not any("demo-street" in ln for ln in result.stdout.splitlines()), "distractor camera alerted"
