"""A camera's runtime in the service: its frame queue, its analysis thread, its clip adapter.

Capture never waits on analysis: frames arrive in a bounded drop-oldest queue (a file replayed as fast
as possible is the exception: there the sink waits, because every frame of a recording counts). One
camera's failure stays in its own thread: an exception in a detector is logged with the traceback and
counted, and the next frame is analysed as usual.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import Counter, deque
from collections.abc import Callable
from pathlib import Path

from alerts.clips import ClipSource
from alerts.config import SiteConfig
from alerts.outbox_rows import OutboxFullError
from alerts.pipeline import AlertPipeline
from detectors.analysis import CameraAnalysis
from detectors.event import Event
from foundation.errors import SourceError
from gridwatch.config import ResolvedCamera
from ingest.frame import Frame
from ingest.queues import DropOldestQueue
from ingest.stats import CameraState

log = logging.getLogger(__name__)

ClipWriter = Callable[..., Path]
"""`(camera_id, start_utc_s, end_utc_s, out_path, *, wait_s) -> Path`, from the ingest frame source."""

_RETRY_LIMIT = 1000
"""Events kept for retry while the outbox refuses them (full); beyond this the oldest are counted lost."""


class CameraClips(ClipSource):
    """The alerts package's clip protocol for one live camera.

    Detectors give clip windows in stream time (pts); the ingest packet ring indexes by UTC capture time.
    The offset between the two is taken from the frames this camera delivered.
    """

    def __init__(self, camera_id: str, writer: ClipWriter, more_coming: Callable[[], bool]) -> None:
        """`more_coming` says whether the source can still deliver packets (not ended, not stopping)."""
        self.camera_id = camera_id
        self.writer = writer
        self.more_coming = more_coming
        self.offset_s: float | None = None

    def observe(self, frame: Frame) -> None:
        self.offset_s = frame.captured_at - frame.pts_s

    def write_clip(self, start_pts_s: float, end_pts_s: float, out_path: Path) -> Path:
        if self.offset_s is None:
            raise SourceError(f"camera {self.camera_id}: no frame seen yet, cannot place a clip window")
        start_utc, end_utc = start_pts_s + self.offset_s, end_pts_s + self.offset_s
        # Post-roll may still be arriving; a source that ended or is stopping sends no more.
        wait_s = max(0.0, end_utc - time.time()) + 2.0 if self.more_coming() else 0.0
        return self.writer(self.camera_id, start_utc, end_utc, out_path, wait_s=wait_s)


class CameraRunner:
    """Pulls one camera's frames from its queue, analyses them, and hands events to the alerts pipeline."""

    def __init__(
        self,
        camera: ResolvedCamera,
        analysis: CameraAnalysis,
        alerts: AlertPipeline,
        queue: DropOldestQueue[Frame],
        *,
        clips: CameraClips | None,
        source_state: Callable[[], CameraState | None],
        on_source_end: Callable[[CameraRunner], None] | None = None,
    ) -> None:
        self.camera = camera
        self.analysis = analysis
        self.alerts = alerts
        self.queue = queue
        self.clips = clips
        self.source_state = source_state
        self.on_source_end = on_source_end
        self.errors = 0
        self.events_lost = 0
        self.alerts_written = 0
        self.events: Counter[tuple[str, str]] = Counter()
        """Events emitted by this camera's detectors, by (kind, phase), for metrics."""
        self.frame_to_event_s: deque[float] = deque(maxlen=10_000)
        """Capture-to-event latencies not yet read by the metrics collector."""
        self._retry: deque[Event] = deque()
        self._stop = threading.Event()
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._run, name=f"analysis-{camera.id}", daemon=True)
        self._lock = threading.Lock()

    @property
    def site(self) -> SiteConfig | None:
        return self.camera.config.site

    def start(self) -> None:
        self._thread.start()

    def request_stop(self) -> None:
        self._stop.set()

    def join(self, timeout_s: float) -> bool:
        self._thread.join(timeout_s)
        return not self._thread.is_alive()

    @property
    def alive(self) -> bool:
        return self._thread.is_alive()

    @property
    def finished(self) -> bool:
        """True once the source ended (a file without loop) and every frame was analysed."""
        return self._done.is_set()

    def _run(self) -> None:
        cam = self.camera.id
        while not self._stop.is_set():
            frame = self.queue.get(timeout_s=0.2)
            if frame is None:
                self._retry_events()
                if self.source_state() in (CameraState.ENDED, CameraState.FAILED) and len(self.queue) == 0:
                    self._end_of_source()
                    break
                continue
            if self.clips is not None:
                self.clips.observe(frame)
            try:
                events = self.analysis.analyse(frame)
            except Exception:
                self.errors += 1
                log.exception("camera %s: analysis of frame %d failed; continuing", cam, frame.seq)
                continue
            self.deliver(events)

    def _end_of_source(self) -> None:
        """A recording ended: its incidents end too (a drone flight gets its summary), then done."""
        try:
            self.flush(time.time())
            if self.on_source_end is not None:
                self.on_source_end(self)
        except Exception:
            log.exception("camera %s: finishing after the end of the source failed", self.camera.id)
        self._done.set()

    def deliver(self, events: list[Event]) -> None:
        """Hand events to the alerts pipeline; events the full outbox refused are retried later, in order."""
        with self._lock:
            now = time.time()
            for event in events:
                self.events[(event.kind.value, event.phase.value)] += 1
                self.frame_to_event_s.append(max(0.0, now - event.trigger_captured_at))
            self._retry.extend(events)
            self._retry_events_locked()

    def _retry_events(self) -> None:
        with self._lock:
            self._retry_events_locked()

    def _retry_events_locked(self) -> None:
        while self._retry:
            event = self._retry[0]
            try:
                alert = self.alerts.handle(event, site=self.site, clip_source=self.clips)
            except OutboxFullError:
                if len(self._retry) > _RETRY_LIMIT:
                    self._retry.popleft()
                    self.events_lost += 1
                    log.error("camera %s: outbox full for too long; an %s event was lost", self.camera.id,
                              event.kind.value)
                return
            except Exception:
                self._retry.popleft()
                self.errors += 1
                log.exception("camera %s: turning a %s event into an alert failed", self.camera.id,
                              event.kind.value)
                continue
            self._retry.popleft()
            if alert is not None:
                self.alerts_written += 1

    def flush(self, now: float) -> None:
        """End the detectors' open incidents and deliver the end events (after the thread stopped)."""
        self.deliver(self.analysis.flush(now))

    @property
    def pending_events(self) -> int:
        return len(self._retry)
