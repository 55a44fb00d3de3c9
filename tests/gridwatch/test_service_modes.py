"""The service with cameras in worker processes (shared memory) gives the same alerts and evidence
clips as in-process cameras, and stops in order without losing the clip of an incident."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from alerts.reader import list_alerts
from gridwatch.config import load_config_text
from gridwatch.service import Service


@pytest.fixture(scope="module")
def fire_clip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from benchmarks.scenarios.fire import make_scenario, write_scenario

    return write_scenario(make_scenario("fire", 17, ()), tmp_path_factory.mktemp("modes")).video


@pytest.mark.slow
@pytest.mark.parametrize("workers", [0, 1])
def test_file_camera_alerts_with_a_clip(tmp_path: Path, fire_clip: Path, workers: int) -> None:
    text = f"""
service: {{reload_poll_s: 0, metrics: {{enabled: false}}, shutdown_timeout_s: 15}}
ingest: {{workers: {workers}}}
detectors:
  fire: {{analysis_fps: 5, mode: cues}}
cameras:
  - id: cam-m
    source: {{url: {fire_clip}, realtime: true, clip_buffer_s: 30}}
    detectors: {{fire: {{}}}}
    site: {{lat_deg: 34.8102, lon_deg: 113.2745}}
alerts:
  outbox: {{path: {tmp_path}/outbox.sqlite3}}
  evidence: {{store: {{type: local, dir: {tmp_path}/evidence}}, scratch_dir: {tmp_path}/evidence-tmp}}
"""
    loaded = load_config_text(text)
    service = Service(loaded)
    service.start()
    try:
        deadline = time.monotonic() + 90
        while not service.all_finished() and time.monotonic() < deadline:
            time.sleep(0.2)
        assert service.all_finished(), "the recording was not analysed to its end"
    finally:
        assert service.stop()
    rows = list_alerts(loaded.root.alerts.outbox, limit=10)
    start = next(r.alert() for r in rows if r.phase == "start")
    assert start["evidence"]["clip_uri"], start["evidence"]
    clips = list((tmp_path / "evidence").rglob("*-clip.mp4"))
    assert clips and clips[0].stat().st_size > 1000
