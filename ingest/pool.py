"""Ingest worker processes for city scale: many cameras per process, many processes across cores.

The service creates one shared-memory ring per camera (see `ingest.shm`), spawns `workers` processes
that decode their share of the cameras into those rings, and runs three threads of its own: a drain
that copies new frames out of the rings and calls `sink` (no pickling of images), a supervisor that
restarts a worker that died or stopped beating (its cameras resume; their counters and frame numbering
continue, because both live in the ring), and a log listener that re-emits the workers' log records.

`IngestPool` and `CameraGroup` (in-process) offer the same interface and deliver the same `Frame`s.
"""

from __future__ import annotations

import contextlib
import logging
import multiprocessing as mp
import os
import queue
import secrets
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

import numpy as np

from foundation.errors import ConfigError, SourceError
from ingest.backoff import Backoff
from ingest.config import IngestConfig, SourceConfig
from ingest.reader import Sink
from ingest.shm import SharedCounters, SharedFrameRing
from ingest.stats import CameraState, CameraStats, CameraStatsSnapshot
from ingest.worker import WorkerCamera, WorkerSpec, worker_main

log = logging.getLogger(__name__)

_STABLE_S = 60.0


@dataclass(frozen=True)
class PoolStats:
    """Worker-level counters (cameras have their own snapshots)."""

    workers: int
    workers_alive: int
    worker_restarts: int
    cameras: int


@dataclass
class _Worker:
    index: int
    cameras: list[WorkerCamera]
    backoff: Backoff
    proc: Any = None
    conn: Connection | None = None
    started_m: float = 0.0
    restart_at_m: float | None = None
    clip_lock: threading.Lock = field(default_factory=threading.Lock)
    next_req: int = 0


def slot_bytes_for(source: SourceConfig, cfg: IngestConfig) -> int:
    """Bytes of one frame slot: exact when the camera resizes to a fixed size, else the configured maximum."""
    if source.resize_width is not None and source.resize_height is not None:
        return source.resize_width * source.resize_height * 3
    w = max(cfg.max_frame_width, source.resize_width or 0)
    h = max(cfg.max_frame_height, source.resize_height or 0)
    return w * h * 3


class IngestPool:
    """Cameras decoded in `cfg.workers` processes; frames delivered to `sink` in this process.

    `sink` is called from the pool's drain thread; it should not block for long (a slow sink makes the
    rings overrun, which drops the oldest frames and counts them, but never slows capture).
    """

    def __init__(self, cameras: Mapping[str, SourceConfig], cfg: IngestConfig, sink: Sink) -> None:
        if cfg.workers < 1:
            raise ConfigError("ingest.workers must be >= 1 for a worker pool (0 means in-process cameras)")
        if len(cameras) > cfg.workers * cfg.cameras_per_worker:
            raise ConfigError(
                f"ingest: {len(cameras)} cameras exceed workers x cameras_per_worker "
                f"= {cfg.workers} x {cfg.cameras_per_worker}; raise ingest.workers"
            )
        self.cameras = dict(cameras)
        self.cfg = cfg
        self.sink = sink
        self._ctx = mp.get_context("spawn")
        self._rings: dict[str, SharedFrameRing] = {}
        self._stats: dict[str, CameraStats] = {}
        self._next: dict[str, int] = {}
        self._workers: list[_Worker] = []
        self._worker_of: dict[str, _Worker] = {}
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self._log_queue: Any = None
        self._restarts = 0
        self._lock = threading.Lock()
        self._started = False
        self._counters: SharedCounters | None = None
        self._order: list[str] = []

    # -- lifecycle -------------------------------------------------------------------------------------

    def start(self) -> None:
        if self._started:
            raise RuntimeError("IngestPool already started")
        self._started = True
        token = secrets.token_hex(4)
        n_workers = min(self.cfg.workers, max(1, len(self.cameras)))
        groups: list[list[WorkerCamera]] = [[] for _ in range(n_workers)]
        try:
            self._counters = SharedCounters.create(f"gw{token}_n", len(self.cameras))
            for i, (cid, source) in enumerate(self.cameras.items()):
                ring = SharedFrameRing.create(
                    f"gw{token}_{i}", self.cfg.ring_slots, slot_bytes_for(source, self.cfg)
                )
                self._rings[cid] = ring
                self._stats[cid] = CameraStats(ring.stats_view, writer=False)
                self._next[cid] = 0
                self._order.append(cid)
                groups[i % n_workers].append(WorkerCamera(cid, source, ring.name, i))
        except OSError as exc:
            self._close_rings()
            raise SourceError(
                f"ingest: cannot create shared memory for camera frames: {exc} (is /dev/shm large enough?)"
            ) from exc
        self._log_queue = self._ctx.Queue()
        self._start_thread(self._log_listener, "ingest-logs")
        for index, group in enumerate(groups):
            w = _Worker(index, group, Backoff(1.0, self.cfg.worker_restart_backoff_max_s, 0.2))
            self._workers.append(w)
            for cam in group:
                self._worker_of[cam.camera_id] = w
            self._spawn(w)
        self._start_thread(self._drain, "ingest-drain")
        self._start_thread(self._supervise, "ingest-supervisor")

    def request_stop(self) -> None:
        """Ask every worker to stop without waiting (once; `stop` then waits for them)."""
        if self._stop.is_set():
            return
        self._stop.set()
        for w in self._workers:
            if w.conn is not None:
                with contextlib.suppress(OSError, EOFError, ValueError):
                    w.conn.send(("stop",))

    def stop(self, timeout_s: float = 10.0) -> None:
        """Stop workers (ask, then terminate, then kill), stop the threads, free the shared memory."""
        deadline = time.monotonic() + timeout_s
        self.request_stop()
        for w in self._workers:
            self._end_worker(w, deadline)
        if self._log_queue is not None:
            self._log_queue.put(None)
        for t in self._threads:
            t.join(max(0.1, deadline - time.monotonic()))
        for stats in self._stats.values():  # the workers are gone: this process is the only writer now
            if stats.state not in (CameraState.FAILED, CameraState.ENDED):
                stats.set_state(CameraState.STOPPED)
        self._stats.clear()
        self._close_rings()
        if self._log_queue is not None:
            self._log_queue.close()
            self._log_queue.join_thread()
            self._log_queue = None

    @staticmethod
    def _end_worker(w: _Worker, deadline: float) -> None:
        """Wait for an asked worker until `deadline`, then terminate it, then kill it; close its pipe."""
        if w.proc is None:
            return
        w.proc.join(max(0.1, deadline - time.monotonic()))
        if w.proc.is_alive():
            log.warning("ingest worker %d did not stop in time; terminating", w.index)
            w.proc.terminate()
            w.proc.join(2.0)
        if w.proc.is_alive():
            w.proc.kill()
            w.proc.join(2.0)
        if w.conn is not None:
            w.conn.close()

    # -- status ----------------------------------------------------------------------------------------

    def states(self) -> dict[str, CameraState]:
        return {cid: snap.state for cid, snap in self.stats().items()}

    def stats(self) -> dict[str, CameraStatsSnapshot]:
        """Per-camera snapshots read straight from the shared rings (no message to the workers)."""
        out: dict[str, CameraStatsSnapshot] = {}
        now = time.time()
        for cid, stats in list(self._stats.items()):
            snap = stats.snapshot(cid, now)
            w = self._worker_of[cid]
            down = w.proc is None or not w.proc.is_alive()
            if down and snap.state not in (CameraState.FAILED, CameraState.ENDED, CameraState.STOPPED):
                snap = CameraStatsSnapshot(**{**snap.__dict__, "state": CameraState.CONNECTING})
            out[cid] = snap
        return out

    def pool_stats(self) -> PoolStats:
        alive = sum(1 for w in self._workers if w.proc is not None and w.proc.is_alive())
        return PoolStats(
            workers=len(self._workers),
            workers_alive=alive,
            worker_restarts=self._restarts,
            cameras=len(self.cameras),
        )

    def worker_pids(self) -> dict[str, int | None]:
        """The pid of the process serving each camera (for diagnostics and outage tests)."""
        return {cid: (w.proc.pid if w.proc is not None else None) for cid, w in self._worker_of.items()}

    def write_clip(
        self,
        camera_id: str,
        start_utc_s: float,
        end_utc_s: float,
        out_path: str | Path,
        *,
        wait_s: float = 0.0,
        timeout_s: float = 30.0,
    ) -> Path:
        """Ask the camera's worker to remux its buffered packets of [start, end] into `out_path`.

        The packet ring lives where the camera is demuxed (the worker); the file is written by the worker,
        so `out_path` must be on a filesystem both processes see (normally the same host).
        """
        w = self._worker_of.get(camera_id)
        if w is None:
            raise SourceError(f"camera {camera_id}: not in this ingest pool")
        with w.clip_lock:
            conn = w.conn
            if conn is None or w.proc is None or not w.proc.is_alive():
                raise SourceError(
                    f"camera {camera_id}: its ingest worker is restarting; no clip", retryable=True
                )
            w.next_req += 1
            req = w.next_req
            try:
                conn.send(("clip", req, camera_id, start_utc_s, end_utc_s, str(out_path), wait_s))
                deadline = time.monotonic() + wait_s + timeout_s
                while True:
                    remaining = deadline - time.monotonic()
                    if remaining <= 0 or not conn.poll(remaining):
                        raise SourceError(
                            f"camera {camera_id}: clip not written within {timeout_s:.0f} s", retryable=True
                        )
                    reply = conn.recv()
                    if reply[1] == req:
                        break
            except (OSError, EOFError) as exc:
                raise SourceError(
                    f"camera {camera_id}: ingest worker went away during a clip request", retryable=True
                ) from exc
        if reply[0] == "clip_ok":
            return Path(reply[2])
        raise SourceError(str(reply[2]))

    # -- internals -------------------------------------------------------------------------------------

    def _start_thread(self, target: Any, name: str) -> None:
        t = threading.Thread(target=target, name=name, daemon=True)
        t.start()
        self._threads.append(t)

    def _spawn(self, w: _Worker) -> None:
        parent_conn, child_conn = self._ctx.Pipe(duplex=True)
        level = logging.getLogger("ingest").getEffectiveLevel()
        assert self._counters is not None
        spec = WorkerSpec(
            w.index, w.cameras, self._counters.name, len(self._order), self.cfg.telemetry, level, os.getpid()
        )
        proc = self._ctx.Process(
            target=worker_main,
            args=(spec, child_conn, self._log_queue),
            name=f"gridwatch-ingest-{w.index}",
            daemon=True,
        )
        proc.start()
        child_conn.close()
        w.proc, w.conn, w.started_m, w.restart_at_m = proc, parent_conn, time.monotonic(), None

    def _drain(self) -> None:
        interval_s = self.cfg.poll_interval_ms / 1000.0
        assert self._counters is not None
        counts = self._counters.values
        seen = np.zeros_like(counts)
        while not self._stop.is_set():
            try:
                changed = np.flatnonzero(counts != seen)  # cameras with new frames: one vector compare
                for i in changed:
                    cid = self._order[i]
                    seen[i] = counts[i]
                    frames, self._next[cid] = self._rings[cid].read_new(cid, self._next[cid])
                    for frame in frames:
                        self.sink(frame)
                if not len(changed):
                    self._stop.wait(interval_s)
            except Exception:
                log.exception("ingest drain: frame delivery failed; continuing")
                self._stop.wait(interval_s)

    def _supervise(self) -> None:
        while not self._stop.wait(0.5):
            try:
                for w in self._workers:
                    self._check(w)
            except Exception:
                log.exception("ingest supervisor error; continuing")

    def _check(self, w: _Worker) -> None:
        now_m = time.monotonic()
        if w.proc is not None and w.proc.is_alive():
            if now_m - w.started_m > _STABLE_S:
                w.backoff.reset()
            beats = [self._rings[c.camera_id].heartbeat_at for c in w.cameras]
            last = min(beats) if beats else time.time()
            age = time.time() - last
            if last > 0 and age > self.cfg.worker_heartbeat_timeout_s:
                log.error(
                    "ingest worker %d (pid %s, %d camera(s)) silent for %.0f s; killing it",
                    w.index,
                    w.proc.pid,
                    len(w.cameras),
                    age,
                )
                w.proc.kill()
            return
        if self._stop.is_set():
            return
        if w.restart_at_m is None:
            wait_s = w.backoff.next_s()
            code = w.proc.exitcode if w.proc is not None else None
            log.error(
                "ingest worker %d (%d camera(s)) exited with code %s; restarting in %.1f s",
                w.index,
                len(w.cameras),
                code,
                wait_s,
            )
            w.restart_at_m = now_m + wait_s
            if w.conn is not None:
                w.conn.close()
                w.conn = None
            return
        if now_m >= w.restart_at_m:
            with w.clip_lock:
                self._spawn(w)
            with self._lock:
                self._restarts += 1
            log.info("ingest worker %d restarted (pid %s)", w.index, w.proc.pid if w.proc else None)

    def _log_listener(self) -> None:
        q = self._log_queue
        while True:
            try:
                record = q.get(timeout=0.5)
            except queue.Empty:
                if self._stop.is_set():
                    return
                continue
            except (EOFError, OSError):
                return
            if record is None:
                return
            logging.getLogger(record.name).handle(record)

    def _close_rings(self) -> None:
        for ring in self._rings.values():
            ring.close()
        self._rings.clear()
        if self._counters is not None:
            self._counters.close()
            self._counters = None
