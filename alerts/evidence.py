"""Evidence for an alert: a clean and an annotated JPEG snapshot, and for throw/fire a short clip.

Writing evidence must never delay or lose an alert. So `EvidenceWriter.plan()` only decides the keys and
URIs that go into the alert (URIs are deterministic), and a background thread does the work after the
alert is in the outbox: JPEG encoding, the clip cut once its post-roll has been recorded, the upload,
and the periodic retention sweep. The job queue is bounded: when it is full an alert goes out without
evidence URIs and the skip is counted (`EvidenceStats.skipped["queue_full"]`). A job that fails is
logged with its camera id and counted; its URI then points at nothing, which the stats make visible.
With an S3 store, a finished job is spooled locally and uploaded in the background (alerts/evidence_spool.py),
so a store outage delays the objects, never the alerts, and loses nothing the spool can hold.

Objects carry small metadata where the store keeps any (S3): the alert id, the kind and the source id
(percent-encoded, as S3 metadata is ASCII). Never a camera URL or anything from the config.
"""

from __future__ import annotations

import heapq
import itertools
import logging
import re
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from urllib.parse import quote

import cv2
import numpy as np
from numpy.typing import NDArray

from alerts.clips import ClipSource
from alerts.evidence_config import EvidenceConfig
from alerts.evidence_store import EvidenceStore, SweepResult, make_store, sweep
from alerts.kinds import BUILTIN, AlertKinds
from alerts.schema import Evidence
from detectors.event import Event
from foundation.errors import ConfigError, GridwatchError, PublishError
from ingest.frame import Frame

log = logging.getLogger(__name__)

_SAFE = re.compile(r"[^A-Za-z0-9._-]+")


@dataclass
class EvidenceStats:
    """Counters the metrics registry reads (labels: reason/outcome)."""

    written: Counter[str] = field(default_factory=Counter)  # snapshot | annotated | clip
    bytes_written: int = 0
    failed: Counter[str] = field(default_factory=Counter)  # snapshot | clip | sweep
    skipped: Counter[str] = field(
        default_factory=Counter
    )  # queue_full | no_clip_source | no_window | shutdown
    queue_depth: int = 0
    swept_files: int = 0
    swept_bytes: int = 0
    store_bytes: int = 0


def safe_part(text: str) -> str:
    """A key segment from free text (camera ids may contain '/' or spaces)."""
    return _SAFE.sub("_", text).strip("._") or "unknown"


def annotate(
    image: NDArray[np.uint8],
    *,
    box_xyxy: tuple[float, float, float, float] | None,
    label: str,
    colour: tuple[int, int, int],
    trajectory_px: NDArray[np.float64] | None = None,
) -> NDArray[np.uint8]:
    """A copy of the frame with the box, its label and the trajectory (if any) drawn."""
    out = np.ascontiguousarray(image.copy())
    h, w = out.shape[:2]
    thick = max(2, round(min(h, w) / 300))
    if trajectory_px is not None and len(trajectory_px) > 1:
        pts = np.round(trajectory_px[:, 1:3]).astype(np.int32).reshape(-1, 1, 2)
        cv2.polylines(out, [pts], isClosed=False, color=colour, thickness=thick, lineType=cv2.LINE_AA)
        for p in pts[:, 0]:
            cv2.circle(out, (int(p[0]), int(p[1])), thick + 1, colour, -1, lineType=cv2.LINE_AA)
    anchor = (4, 4 + 20)
    if box_xyxy is not None:
        x1, y1, x2, y2 = (round(v) for v in box_xyxy)
        cv2.rectangle(out, (x1, y1), (x2, y2), colour, thick, lineType=cv2.LINE_AA)
        anchor = (max(0, x1), max(16, y1 - 6))
    scale = max(0.5, min(h, w) / 700)
    cv2.putText(out, label, anchor, cv2.FONT_HERSHEY_SIMPLEX, scale, (0, 0, 0), thick + 2, cv2.LINE_AA)
    cv2.putText(out, label, anchor, cv2.FONT_HERSHEY_SIMPLEX, scale, colour, thick, cv2.LINE_AA)
    return out


def encode_jpeg(image: NDArray[np.uint8], quality: int, max_width_px: int | None = None) -> bytes:
    if max_width_px is not None and image.shape[1] > max_width_px:
        f = max_width_px / image.shape[1]
        size = (max_width_px, max(1, round(image.shape[0] * f)))
        image = np.asarray(cv2.resize(image, size, interpolation=cv2.INTER_AREA), np.uint8)
    ok, buf = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, int(quality)])
    if not ok:
        raise GridwatchError("JPEG encoding failed")
    return bytes(buf.tobytes())


@dataclass(frozen=True)
class SnapshotJob:
    source_id: str
    metadata: dict[str, str]
    frame: Frame
    clean_key: str
    annotated_key: str
    box_xyxy: tuple[float, float, float, float] | None
    label: str
    colour: tuple[int, int, int]
    trajectory_px: NDArray[np.float64] | None
    drawn_by_detector: NDArray[np.uint8] | None = None
    """The detector's own annotated picture (Event.evidence_image); used instead of `annotate` when set."""


@dataclass(frozen=True)
class ClipJob:
    source_id: str
    metadata: dict[str, str]
    clip_source: ClipSource
    start_pts_s: float
    end_pts_s: float
    key: str


EvidenceJob = SnapshotJob | ClipJob


@dataclass(frozen=True)
class EvidencePlan:
    """The URIs for an alert and the jobs that will make them true."""

    evidence: Evidence
    jobs: tuple[tuple[float, EvidenceJob], ...]  # (due monotonic time, job)


class EvidenceWriter:
    """Plans evidence per alert and writes it on a background thread (see the module docstring)."""

    def __init__(
        self,
        config: EvidenceConfig,
        store: EvidenceStore | None = None,
        *,
        monotonic: Callable[[], float] = time.monotonic,
        wall_clock: Callable[[], float] = time.time,
        kinds: AlertKinds = BUILTIN,
    ) -> None:
        self.config = config
        self.kinds = kinds
        self.store = store if store is not None else make_store(config)
        self.stats = EvidenceStats()
        self._mono = monotonic
        self._wall = wall_clock
        self._heap: list[tuple[float, int, EvidenceJob]] = []
        self._counter = itertools.count()
        self._cv = threading.Condition()
        self._busy = 0
        self._stopping = False
        self._thread: threading.Thread | None = None
        self._next_sweep = 0.0
        try:
            config.scratch_dir.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise ConfigError(f"alerts.evidence.scratch_dir: cannot create {config.scratch_dir}: "
                              f"{exc.strerror or exc}") from exc

    # -- planning (caller's thread) -----------------------------------------------------------------

    def has_room(self, n_jobs: int) -> bool:
        with self._cv:
            return len(self._heap) + n_jobs <= self.config.queue_max_jobs

    def plan(self, alert_id: str, event: Event, clip_source: ClipSource | None) -> EvidencePlan:
        """Keys, URIs and jobs for one alert; no I/O. Returns an empty plan when evidence is off or full."""
        cfg = self.config
        if not cfg.enabled:
            return EvidencePlan(Evidence(), ())
        day = datetime.fromtimestamp(event.trigger_captured_at, tz=UTC).strftime("%Y/%m/%d")
        base = f"{day}/{event.kind.value}/{safe_part(event.source_id)}/{alert_id}"
        metadata = object_metadata(alert_id, event)
        jobs: list[tuple[float, EvidenceJob]] = []
        now = self._mono()
        ev: dict[str, object] = {}
        if event.snapshot is not None:
            snap = SnapshotJob(
                source_id=event.source_id,
                metadata=metadata,
                frame=event.snapshot,
                clean_key=f"{base}-snapshot.jpg",
                annotated_key=f"{base}-annotated.jpg",
                box_xyxy=event.box_xyxy,
                label=f"{event.kind.value} {event.confidence:.2f}",
                colour=self.kinds.colour_bgr(event),
                trajectory_px=self.kinds.overlay(event),
                drawn_by_detector=event.evidence_image,
            )
            jobs.append((now, snap))
            ev["snapshot_uri"] = self.store.uri_for(snap.clean_key)
            ev["snapshot_annotated_uri"] = self.store.uri_for(snap.annotated_key)
        if event.kind in cfg.clip_kinds and event.phase in cfg.clip_phases:
            if clip_source is None:
                self.stats.skipped["no_clip_source"] += 1
            elif event.evidence_window_s is None:
                self.stats.skipped["no_window"] += 1
            else:
                start, end = clip_window(event.evidence_window_s, cfg.clip_pre_roll_s, cfg.clip_post_roll_s)
                # Wait until the source has recorded the post-roll: the trigger frame's pts tells how far
                # the stream is now; without a snapshot assume the window ends now.
                now_pts = event.snapshot.pts_s if event.snapshot is not None else event.evidence_window_s[1]
                due = now + max(0.0, end - now_pts) + cfg.clip_wait_margin_s
                clip = ClipJob(event.source_id, metadata, clip_source, start, end, f"{base}-clip.mp4")
                jobs.append((due, clip))
                ev.update(clip_uri=self.store.uri_for(clip.key), clip_start_pts_s=start, clip_end_pts_s=end)
        if jobs and not self.has_room(len(jobs)):
            self.stats.skipped["queue_full"] += 1
            log.warning(
                "camera %s: evidence queue full (%d jobs); alert %s goes without evidence",
                event.source_id,
                cfg.queue_max_jobs,
                alert_id,
            )
            return EvidencePlan(Evidence(), ())
        return EvidencePlan(Evidence.model_validate(ev), tuple(jobs))

    def submit(self, plan: EvidencePlan) -> None:
        """Queue the plan's jobs (call after the alert is safely in the outbox)."""
        if not plan.jobs:
            return
        with self._cv:
            for due, job in plan.jobs:
                heapq.heappush(self._heap, (due, next(self._counter), job))
            self.stats.queue_depth = len(self._heap)
            self._cv.notify_all()

    # -- background thread --------------------------------------------------------------------------

    def start(self) -> None:
        if self._thread is not None:
            return
        self.store.start()
        self._stopping = False
        self._thread = threading.Thread(target=self._run, name="alerts-evidence", daemon=True)
        self._thread.start()

    def stop(self, timeout_s: float = 10.0) -> bool:
        """Run every queued job now (clips get what the source has), then stop. True if all ran in time."""
        deadline = self._mono() + timeout_s
        with self._cv:
            self._stopping = True
            self._cv.notify_all()
        if self._thread is not None:
            self._thread.join(max(0.0, deadline - self._mono()))
            alive = self._thread.is_alive()
            self._thread = None
            if alive:
                return False
        with self._cv:
            left = len(self._heap)
            if left:
                self.stats.skipped["shutdown"] += left
                self._heap.clear()
                self.stats.queue_depth = 0
        uploaded = self.store.stop(max(0.5, deadline - self._mono()))  # spooled evidence waits for the next start
        return left == 0 and uploaded

    def flush(self, timeout_s: float) -> bool:
        """Wait until every queued job has run (jobs not yet due still wait for their time)."""
        deadline = self._mono() + timeout_s
        with self._cv:
            while self._heap or self._busy:
                left = deadline - self._mono()
                if left <= 0:
                    return False
                self._cv.wait(min(left, 0.05))
        return True

    def _run(self) -> None:
        while True:
            job: EvidenceJob | None = None
            with self._cv:
                while True:
                    now = self._mono()
                    if self._heap and (self._stopping or self._heap[0][0] <= now):
                        _, _, job = heapq.heappop(self._heap)
                        self._busy += 1
                        self.stats.queue_depth = len(self._heap)
                        break
                    if self._stopping:
                        return
                    wait = self._heap[0][0] - now if self._heap else 1.0
                    if now >= self._next_sweep:
                        break
                    self._cv.wait(min(wait, max(0.05, self._next_sweep - now)))
            if job is None:
                self._sweep_now()
                continue
            try:
                self._execute(job)
            except Exception:  # top of the worker loop: count, log with traceback, keep serving
                what = "snapshot" if isinstance(job, SnapshotJob) else "clip"
                self.stats.failed[what] += 1
                log.exception("camera %s: writing %s evidence failed", job.source_id, what)
            finally:
                with self._cv:
                    self._busy -= 1
                    self._cv.notify_all()

    def _execute(self, job: EvidenceJob) -> None:
        cfg = self.config
        if isinstance(job, SnapshotJob):
            clean = encode_jpeg(job.frame.image, cfg.jpeg_quality, cfg.snapshot_max_width_px)
            self.store.put_bytes(job.clean_key, clean, "image/jpeg", job.metadata)
            drawn = job.drawn_by_detector
            if drawn is None:
                drawn = annotate(
                    job.frame.image,
                    box_xyxy=job.box_xyxy,
                    label=job.label,
                    colour=job.colour,
                    trajectory_px=job.trajectory_px,
                )
            annotated = encode_jpeg(drawn, cfg.jpeg_quality, cfg.snapshot_max_width_px)
            self.store.put_bytes(job.annotated_key, annotated, "image/jpeg", job.metadata)
            self.stats.written["snapshot"] += 1
            self.stats.written["annotated"] += 1
            self.stats.bytes_written += len(clean) + len(annotated)
            return
        tmp = cfg.scratch_dir / f"{safe_part(job.key)}"
        try:
            path = job.clip_source.write_clip(job.start_pts_s, job.end_pts_s, tmp)
            size = path.stat().st_size
            self.store.put_file(job.key, path, "video/mp4", job.metadata)
        finally:
            tmp.unlink(missing_ok=True)
        self.stats.written["clip"] += 1
        self.stats.bytes_written += size

    def _sweep_now(self) -> SweepResult | None:
        cfg = self.config
        self._next_sweep = self._mono() + cfg.retention_sweep_interval_s
        try:
            result = self.sweep()
        except PublishError as exc:  # the store is down or refuses us: the cause is in the message
            self.stats.failed["sweep"] += 1
            log.warning("evidence retention sweep failed; next try in %.0f s: %s", cfg.retention_sweep_interval_s, exc)
            return None
        except Exception:  # top of the worker loop for the sweep: count and log, retry next interval
            self.stats.failed["sweep"] += 1
            log.exception("evidence retention sweep failed")
            return None
        return result

    def sweep(self) -> SweepResult:
        """Apply retention by age and total size now (also runs every retention_sweep_interval_s)."""
        cfg = self.config
        result = sweep(
            self.store,
            now_s=self._wall(),
            max_age_s=cfg.retention_max_age_s,
            max_total_bytes=int(cfg.retention_max_total_mb * 1024 * 1024),
            keep_prefixes=tuple(cfg.retention_keep_prefixes),
        )
        self.stats.swept_files += result.deleted_files
        self.stats.swept_bytes += result.deleted_bytes
        self.stats.store_bytes = result.kept_bytes
        if result.deleted_files:
            log.info(
                "evidence retention removed %d files (%d bytes); %d bytes kept",
                result.deleted_files,
                result.deleted_bytes,
                result.kept_bytes,
            )
        return result


def object_metadata(alert_id: str, event: Event) -> dict[str, str]:
    """What an evidence object says about itself (ASCII, as S3 user metadata must be)."""
    return {"alert-id": alert_id, "kind": event.kind.value, "source": quote(event.source_id, safe="")}


def clip_window(window_s: tuple[float, float], pre_roll_s: float, post_roll_s: float) -> tuple[float, float]:
    """An event's evidence window widened by the pre- and post-roll (never before pts 0)."""
    return max(0.0, window_s[0] - pre_roll_s), window_s[1] + post_roll_s
