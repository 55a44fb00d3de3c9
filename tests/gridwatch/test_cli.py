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


def test_alerts_list_filters_and_groups_by_community(tmp_path: Path) -> None:
    """"Everything in this community since a day": the district's levels as filters and as groups."""
    from alerts.pipeline import AlertPipeline
    from detectors.event import EventKind
    from tests.alerts.factories import MG_B_LAT, MG_B_LON, alerts_config, event
    from tests.alerts.test_district import grid_config

    cfg = alerts_config(tmp_path, grid=grid_config(REPO), evidence={"enabled": False})
    pipeline = AlertPipeline(cfg, node_id="n1", config_version="v1")
    assert pipeline.handle(event(EventKind.FIRE, source_id="cam-a", incident_id="f1"))
    assert pipeline.handle(event(EventKind.SMOKE, source_id="cam-b", incident_id="s1"))
    assert pipeline.handle(event(EventKind.FIRE, source_id="cam-c", incident_id="f2", lat=MG_B_LAT, lon=MG_B_LON))
    pipeline.close()
    config = tmp_path / "cfg.yaml"
    config.write_text(f"alerts:\n  outbox: {{path: {tmp_path}/outbox.sqlite3}}\n  evidence: {{enabled: false}}\n")
    listed = gridwatch("alerts", "list", "--config", str(config), "--community", "乙08社区", "--since", "24h")
    assert listed.returncode == 0, listed.stderr
    lines = listed.stdout.splitlines()
    assert len(lines) == 2 and all("grid SJ-02-08-02-1 (乙08社区) team OT-0548" in line for line in lines)
    assert "(2 shown" in listed.stderr
    grouped = gridwatch("alerts", "list", "--config", str(config), "--group-by", "community", "--kind", "fire")
    assert grouped.returncode == 0, grouped.stderr
    rows = [line.split() for line in grouped.stdout.splitlines()[1:]]
    # cam-b's smoke joins cam-a's fire incident next to it and is reported as kind fire (alerts/dedup.py):
    # two fire alerts, one incident, in 乙08社区.
    assert [r[:4] for r in rows] == [["SJ-02-08", "乙08社区", "2", "1"], ["SJ-03-09", "丙09社区", "1", "1"]]
    bad = gridwatch("alerts", "list", "--config", str(config), "--since", "last tuesday")
    assert bad.returncode == 2 and "--since 'last tuesday'" in bad.stderr and "Traceback" not in bad.stderr


def test_since_accepts_today_durations_and_iso_times() -> None:
    from datetime import datetime, timedelta, timezone

    import pytest

    from foundation.errors import ConfigError
    from gridwatch.alerts_cmd import parse_since

    cst = timezone(timedelta(hours=8))
    now = datetime(2026, 11, 28, 10, 30, tzinfo=cst)
    assert parse_since("today", now) == datetime(2026, 11, 28, tzinfo=cst).timestamp()
    assert parse_since("90m", now) == (now - timedelta(minutes=90)).timestamp()
    assert parse_since("7d", now) == (now - timedelta(days=7)).timestamp()
    assert parse_since("2026-11-28T02:00:00+00:00", now) == datetime(2026, 11, 28, 10, tzinfo=cst).timestamp()
    assert parse_since("2026-11-28", now) == datetime(2026, 11, 28).astimezone().timestamp()  # naive: local
    with pytest.raises(ConfigError, match="expected `today`"):
        parse_since("yesterday-ish", now)
