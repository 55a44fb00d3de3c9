"""Stopping many cameras waits for the slowest, not for the sum: a cluster hand-over of 20 in-process
cameras (`ingest.workers: 0`, one source each) must finish within `cluster.revoke_wait_s`, or another
node starts them while they still run here. Under load the old one-after-another stop took 3.5 s for 20
cameras (cluster e2e, revoke_wait_s 2.5)."""

from __future__ import annotations

import threading
import time
from pathlib import Path

from gridwatch.config import load_config_text
from gridwatch.service import Service
from ingest.stats import CameraState, CameraStatsSnapshot

STOP_LAG_S = 0.2
"""How long a fake source's thread takes to notice it was asked to stop (a reader waits for its next
packet before it looks)."""


class FakeLaggingSource:
    """Fake: a source whose thread ends STOP_LAG_S after it is asked to stop."""

    def __init__(self) -> None:
        self.asked = threading.Event()
        self.asked_at = 0.0

    def start(self) -> None:
        return None

    def request_stop(self) -> None:
        if not self.asked.is_set():
            self.asked_at = time.monotonic()
            self.asked.set()

    def stop(self, timeout_s: float = 10.0) -> None:
        self.request_stop()
        time.sleep(max(0.0, min(timeout_s, self.asked_at + STOP_LAG_S - time.monotonic())))

    def states(self) -> dict[str, CameraState]:
        return {}

    def stats(self) -> dict[str, CameraStatsSnapshot]:
        return {}

    def write_clip(self, camera_id: str, start_utc_s: float, end_utc_s: float, out_path: str | Path, *,
                   wait_s: float = 0.0) -> Path:
        raise AssertionError("not used")


def _service(tmp_path: Path) -> Service:
    text = f"""
service: {{reload_poll_s: 0, metrics: {{enabled: false}}, shutdown_timeout_s: 10}}
ingest: {{workers: 0}}
cameras: []
alerts:
  outbox: {{path: {tmp_path}/outbox.sqlite3}}
"""
    return Service(load_config_text(text))


def test_twenty_sources_stop_side_by_side(tmp_path: Path) -> None:
    service = _service(tmp_path)
    fakes = {f"cam-{i:02d}": FakeLaggingSource() for i in range(20)}
    service._sources.update(fakes)  # the sources as `_start_cameras` keeps them with workers: 0
    t0 = time.monotonic()
    service._stop_sources(sorted(fakes))
    took_s = time.monotonic() - t0
    assert all(f.asked.is_set() for f in fakes.values()) and not service._sources
    # One after another this is 20 x 0.2 = 4 s; side by side one lag plus scheduling.
    assert took_s < 4 * STOP_LAG_S, f"20 sources took {took_s:.2f} s to stop"
    assert max(f.asked_at for f in fakes.values()) - t0 < STOP_LAG_S / 2, "every source is asked first"
