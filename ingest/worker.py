"""The body of an ingest worker process: many `CameraReader` threads writing into shared-memory rings.

Started by `IngestPool` (spawn). It attaches the rings the service created, runs one reader per camera,
beats a heartbeat into each ring, answers clip requests over its control pipe, forwards its log records
to the service through a queue, and exits when told to or when the service process is gone.
"""

from __future__ import annotations

import logging
import logging.handlers
import os
import threading
import time
from dataclasses import dataclass
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

from foundation.errors import SourceError
from ingest.config import SourceConfig, TelemetryDefaults
from ingest.reader import CameraReader
from ingest.shm import SharedCounters, SharedFrameRing
from ingest.stats import CameraState, CameraStats

log = logging.getLogger(__name__)

HEARTBEAT_S = 0.5


@dataclass(frozen=True)
class WorkerCamera:
    """One camera as handed to a worker: its id, source settings and the name of its shared ring."""

    camera_id: str
    source: SourceConfig
    ring_name: str
    index: int
    """Position of the camera in the pool's shared write counters."""


def _setup_logging(log_queue: Any, level: int) -> None:
    root = logging.getLogger()
    for handler in list(root.handlers):
        root.removeHandler(handler)
    root.addHandler(logging.handlers.QueueHandler(log_queue))
    root.setLevel(level)


@dataclass(frozen=True)
class WorkerSpec:
    """Everything a worker process is started with (pickled once, at spawn; no images ever)."""

    worker_index: int
    cameras: list[WorkerCamera]
    counters_name: str
    counters_len: int
    telemetry_defaults: TelemetryDefaults
    log_level: int
    parent_pid: int


def worker_main(spec: WorkerSpec, conn: Connection, log_queue: Any) -> None:
    """Run until a `stop` message, a closed control pipe or the parent's death."""
    _setup_logging(log_queue, spec.log_level)
    worker_index = spec.worker_index
    rings: list[SharedFrameRing] = []
    readers: dict[str, CameraReader] = {}
    counters = SharedCounters.attach(spec.counters_name, spec.counters_len)
    try:
        for cam in spec.cameras:
            ring = SharedFrameRing.attach(cam.ring_name)
            ring.notify_into(counters, cam.index)
            rings.append(ring)
            readers[cam.camera_id] = _reader_on_ring(cam, ring, spec.telemetry_defaults)
        for reader in readers.values():
            reader.start()
        log.info("ingest worker %d (pid %d) serving %d camera(s)", worker_index, os.getpid(), len(readers))
        _serve(spec, conn, rings, readers)
    finally:
        for reader in readers.values():
            reader.request_stop()
        deadline = time.monotonic() + 5.0
        for reader in readers.values():
            reader.join(max(0.0, deadline - time.monotonic()))
        readers.clear()  # drop the readers' stats views before unmapping
        for ring in rings:
            ring.close()
        counters.close()
        log.info("ingest worker %d stopped", worker_index)


def _reader_on_ring(cam: WorkerCamera, ring: SharedFrameRing, defaults: TelemetryDefaults) -> CameraReader:
    """A reader writing into `ring`, carrying on the sequence and counters of a worker that died before."""
    stats = CameraStats(ring.stats_view)
    delivered = stats.get("frames_delivered") > 0
    first_seq = int(stats.get("last_seq")) + 1 if delivered else 0
    if stats.get("connects") > 0:
        stats.add("reconnects")  # this worker replaces one that died: its cameras reconnect
    stats.set_state(CameraState.CONNECTING)
    return CameraReader(
        cam.camera_id, cam.source, ring.write, stats=stats, first_seq=first_seq, telemetry_defaults=defaults
    )


def _serve(
    spec: WorkerSpec, conn: Connection, rings: list[SharedFrameRing], readers: dict[str, CameraReader]
) -> None:
    """Heartbeat the rings and answer control messages until `stop`, a closed pipe or the parent's death."""
    send_lock = threading.Lock()
    while True:
        now = time.time()
        for ring in rings:
            ring.beat(now)
        if os.getppid() != spec.parent_pid:
            log.warning("ingest worker %d: service process is gone; exiting", spec.worker_index)
            return
        try:
            if not conn.poll(HEARTBEAT_S):
                continue
            msg = conn.recv()
        except (EOFError, OSError):
            return
        if msg[0] == "stop":
            return
        if msg[0] == "clip":
            threading.Thread(
                target=_clip, args=(readers, msg, conn, send_lock), name=f"clip-{msg[1]}", daemon=True
            ).start()


def _clip(
    readers: dict[str, CameraReader], msg: tuple[Any, ...], conn: Connection, lock: threading.Lock
) -> None:
    _, req_id, camera_id, start_utc_s, end_utc_s, out_path, wait_s = msg
    reply: tuple[Any, ...]
    try:
        reader = readers.get(camera_id)
        if reader is None:
            raise SourceError(f"camera {camera_id}: not served by this worker")
        path = reader.write_clip(start_utc_s, end_utc_s, Path(out_path), wait_s=wait_s)
        reply = ("clip_ok", req_id, str(path))
    except SourceError as exc:
        reply = ("clip_err", req_id, str(exc))
    with lock:
        try:
            conn.send(reply)
        except (OSError, EOFError):
            log.warning("camera %s: clip reply could not be sent (service gone)", camera_id)
