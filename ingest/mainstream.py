"""Records a camera's main stream (packets only, no decode) for evidence clips while analysis reads the sub-stream.

Runs in its own thread beside the `CameraReader`, sharing its stop event; its failures never stop analysis.
"""

from __future__ import annotations

import logging
import threading
import time

import av

from ingest.backoff import Backoff
from ingest.clips import PacketRing
from ingest.config import SourceConfig
from ingest.credentials import redact
from ingest.decode import OpenError, open_input
from ingest.failurelog import FailureLog

log = logging.getLogger(__name__)


class MainStreamRecorder:
    """With a sub-stream for analysis, records the main stream's packets (no decode) for evidence clips."""

    def __init__(self, camera_id: str, cfg: SourceConfig, ring: PacketRing, stop: threading.Event) -> None:
        self.camera_id = camera_id
        self.cfg = cfg
        self.ring = ring
        self._stop = stop
        self._backoff = Backoff(cfg.backoff_initial_s, cfg.backoff_max_s, cfg.backoff_jitter)
        self._failures = FailureLog(camera_id, "main stream (clips)")
        self.thread = threading.Thread(target=self._run, name=f"rec-{camera_id}", daemon=True)

    def start(self) -> None:
        self.thread.start()

    def _run(self) -> None:
        url = self.cfg.url_text()
        while not self._stop.is_set():
            try:
                self._record(url)
            except OpenError as exc:
                self._failures.failed(exc.reason, redact(str(exc), [url]), self._backoff.initial_s)
            except (av.FFmpegError, OSError) as exc:
                self._failures.failed("read error", redact(str(exc), [url]), self._backoff.initial_s)
            except Exception:
                log.exception("camera %s: main-stream recorder error", self.camera_id)
            self._stop.wait(self._backoff.next_s())

    def _record(self, url: str) -> None:
        cfg = self.cfg
        container = open_input(
            url,
            camera_id=self.camera_id,
            is_stream=True,
            transport=cfg.transport,
            open_timeout_s=cfg.open_timeout_s,
            read_timeout_s=cfg.read_timeout_s,
        )
        try:
            stream = container.streams.video[0]
            self.ring.new_segment(stream)
            first = True
            for packet in container.demux(stream):
                if self._stop.is_set():
                    return
                self.ring.append(packet, time.time())
                if first:
                    first = False
                    self._backoff.reset()
                    self._failures.recovered()
        finally:
            container.close()
