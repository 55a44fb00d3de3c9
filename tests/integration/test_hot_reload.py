"""Hot reload of a running service (a real subprocess): a threshold change takes effect and shows in the
next alert's config version; an invalid file changes nothing and is counted."""

from __future__ import annotations

import signal
import time
from pathlib import Path

import pytest

from alerts.config import OutboxConfig
from alerts.reader import list_alerts
from gridwatch.config import config_version
from tests.infra.ports import free_port
from tests.infra.service import GridwatchProcess

pytestmark = [pytest.mark.integration, pytest.mark.slow]

REPO = Path(__file__).resolve().parents[2]
FULL_FRAME_MASK = "[[[0, 0], [1, 0], [1, 1], [0, 1]]]"


def config_text(work: Path, clip: Path, port: int, masks: str) -> str:
    return f"""
service:
  node_id: reload-node
  reload_poll_s: 1
  metrics: {{enabled: true, address: 127.0.0.1, port: {port}}}
detectors:
  fire: {{analysis_fps: 5, mode: cues, masks: {masks}}}
cameras:
  - id: cam-reload
    source: {{url: {clip}, realtime: true, loop: true}}
    detectors: {{fire: {{}}}}
    site: {{lat_deg: 34.8102, lon_deg: 113.2745}}
alerts:
  outbox: {{path: {work}/outbox.sqlite3}}
  evidence: {{enabled: false}}
"""


def wait_for(predicate, timeout_s: float, what: str) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.5)
    raise AssertionError(f"timed out after {timeout_s} s waiting for {what}")


def test_threshold_change_applies_and_invalid_file_changes_nothing(tmp_path: Path) -> None:
    from benchmarks.scenarios.fire import make_scenario, write_scenario

    clip = write_scenario(make_scenario("fire", 31, ()), tmp_path / "media").video
    port = free_port()
    cfg = tmp_path / "reload.yaml"
    masked = config_text(tmp_path, clip, port, FULL_FRAME_MASK)
    cfg.write_text(masked, encoding="utf-8")
    proc = GridwatchProcess(cfg, tmp_path, http_port=port).start()
    outbox = OutboxConfig(path=tmp_path / "outbox.sqlite3")
    try:
        proc.wait_ready()
        # The whole frame is masked: a full pass over the clip (ignition included) gives no alert.
        wait_for(lambda: proc.json("/status")["cameras"]["cam-reload"]["frames_analysed"] > 70, 60,
                 "one pass over the clip")
        assert proc.json("/status")["cameras"]["cam-reload"]["alerts_written"] == 0

        unmasked = config_text(tmp_path, clip, port, "[]")
        cfg.write_text(unmasked, encoding="utf-8")  # picked up by the file watcher
        new_version = config_version(unmasked)
        wait_for(lambda: proc.json("/status")["config_version"] == new_version, 30, "the reload")
        wait_for(lambda: bool(list_alerts(outbox, limit=5)), 90, "an alert after the reload")
        alert = list_alerts(outbox, limit=5)[-1].alert()
        assert alert["config_version"] == new_version
        assert alert["kind"] == "fire"

        cfg.write_text(unmasked.replace("analysis_fps: 5", "analysis_fps: fast"), encoding="utf-8")
        proc.signal(signal.SIGHUP)
        wait_for(lambda: proc.json("/status")["reloads"]["failed"] >= 1, 30, "the rejected reload")
        status = proc.json("/status")
        assert status["config_version"] == new_version
        assert any("analysis_fps" in e for e in status["last_reload_error"])
        assert proc.proc is not None and proc.proc.poll() is None
        _, metrics = proc.get("/metrics")
        assert 'gridwatch_config_reloads_total{outcome="failed"}' in metrics.decode()
        assert f'gridwatch_config_info{{version="{new_version}"}} 1.0' in metrics.decode()
    finally:
        assert proc.stop() == 0, proc.log_text()[-3000:]
    assert "config reload (SIGHUP) rejected" in proc.log_text()
