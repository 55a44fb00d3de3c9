"""The CLI's small commands, run as a user would: models inspect, alerts list, usage errors."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def gridwatch(*args: str, cwd: Path = REPO) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    return subprocess.run([sys.executable, "-m", "gridwatch", *args], capture_output=True, text=True,
                          env=env, cwd=cwd, timeout=300)


def test_models_inspect_reports_the_ultralytics_metadata() -> None:
    from tests.infra.models import cached_model

    result = gridwatch("models", "inspect", "--json", str(cached_model("yolov8n.yaml", 320)))
    assert result.returncode == 0, result.stderr
    info = json.loads(result.stdout)
    assert info["task"] == "detect"
    assert list(info["imgsz"]) == [320, 320]


def test_models_inspect_on_a_broken_file_is_a_clear_error(tmp_path: Path) -> None:
    bad = tmp_path / "broken.onnx"
    bad.write_bytes(b"not a model at all")
    result = gridwatch("models", "inspect", str(bad))
    assert result.returncode == 1
    assert "broken.onnx" in result.stderr and "Traceback" not in result.stderr


def test_alerts_list_reads_the_outbox(tmp_path: Path) -> None:
    from alerts.config import AlertsConfig, OutboxConfig
    from alerts.pipeline import AlertPipeline
    from tests.alerts.factories import event as make_event  # the alerts tests' own factory

    cfg = AlertsConfig(outbox=OutboxConfig(path=tmp_path / "outbox.sqlite3"), evidence={"enabled": False})
    pipeline = AlertPipeline(cfg, node_id="n1", config_version="v1")
    pipeline.start()
    assert pipeline.handle(make_event()) is not None
    pipeline.close()
    config = tmp_path / "cfg.yaml"
    config.write_text(f"alerts:\n  outbox: {{path: {tmp_path}/outbox.sqlite3}}\n  evidence: {{enabled: false}}\n")
    result = gridwatch("alerts", "list", "--config", str(config), "--json")
    assert result.returncode == 0, result.stderr
    rows = [json.loads(line) for line in result.stdout.splitlines()]
    assert len(rows) == 1 and rows[0]["node_id"] == "n1" and rows[0]["config_version"] == "v1"


def test_usage_error_exits_two() -> None:
    result = gridwatch("replay")
    assert result.returncode == 2
    assert "usage" in result.stderr
