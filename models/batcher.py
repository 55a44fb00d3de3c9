"""The cross-camera dynamic batcher: frames from many cameras, one model, full batches, no waiting.

Each camera's analysis thread calls `submit(camera_id, image)` and waits on the returned Future. One
dispatcher thread per model forms batches:

- a batch goes as soon as `max_batch` frames can be taken, or when its oldest frame has waited
  `max_delay_ms` (so a silent camera never holds the others back longer than that);
- one camera may fill at most `max_share` of a batch (at least one frame); its other frames wait for
  the next batch, so a full-rate camera cannot starve the rest;
- frames are taken oldest first, so each camera's frames are inferred and answered in order;
- a frame still queued past its deadline fails with `StaleFrameError` (reason `stale`); when the queue
  is full the oldest frame fails with `QueueOverflowError` (reason `overflow`): fresh frames beat old ones;
- `stop()` refuses new frames, runs what is queued, and fails anything left at its timeout.

Gated inference submits crops as well as whole frames (`input_hw`: the model input size a crop runs at).
A crop is one request like a frame, so every rule above holds for crops: they count towards their
camera's share, they have deadlines, and they are dropped oldest first. A batch mixing sizes runs one
inference call per input size, in submission order.

Several batchers (one per model) run side by side; each has its own thread and stats.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from concurrent.futures import Future
from dataclasses import dataclass, field

import numpy as np
from numpy.typing import NDArray

from foundation.errors import ModelError
from foundation.histogram import Histogram
from models.config import BatcherConfig
from models.detections import Detections
from models.predictor import Predictor

log = logging.getLogger(__name__)

DELAY_BUCKETS_S = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5)
INFERENCE_BUCKETS_S = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0)


class FrameDroppedError(ModelError):
    """A submitted frame was not inferred; `reason` is the metric label (stale, overflow, stopped)."""

    reason = "dropped"

    def __init__(self, message: str, camera_id: str) -> None:
        super().__init__(message, retryable=True)
        self.camera_id = camera_id


class StaleFrameError(FrameDroppedError):
    """The frame waited in the queue past its deadline; a fresher frame is worth more."""

    reason = "stale"


class QueueOverflowError(FrameDroppedError):
    """The queue was full and this was its oldest frame."""

    reason = "overflow"


class BatcherStoppedError(FrameDroppedError):
    """The batcher was stopping or stopped before this frame could run."""

    reason = "stopped"


@dataclass
class BatcherStats:
    """Counters of one batcher; `snapshot()` returns a copy safe to read while the batcher runs.

    Labels are bounded: `dropped` is keyed by (camera_id, reason) with reason in stale, overflow,
    stopped, error; `batch_size` buckets are 1..max_batch.
    """

    model: str
    max_batch: int
    submitted: int = 0
    completed: int = 0
    batches: int = 0
    queued: int = 0
    batch_size: Histogram = field(default_factory=lambda: Histogram(()))
    inference_s: Histogram = field(default_factory=lambda: Histogram(INFERENCE_BUCKETS_S))
    queue_delay_s: Histogram = field(default_factory=lambda: Histogram(DELAY_BUCKETS_S))
    dropped: dict[tuple[str, str], int] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not self.batch_size.bounds:
            self.batch_size = Histogram(tuple(float(b) for b in range(1, self.max_batch + 1)))

    def drop(self, camera_id: str, reason: str, n: int = 1) -> None:
        key = (camera_id, reason)
        self.dropped[key] = self.dropped.get(key, 0) + n

    def dropped_by_reason(self) -> dict[str, int]:
        out: dict[str, int] = {}
        for (_, reason), n in self.dropped.items():
            out[reason] = out.get(reason, 0) + n
        return out

    def snapshot(self) -> BatcherStats:
        return BatcherStats(
            model=self.model, max_batch=self.max_batch, submitted=self.submitted, completed=self.completed,
            batches=self.batches, queued=self.queued, batch_size=self.batch_size.copy(),
            inference_s=self.inference_s.copy(), queue_delay_s=self.queue_delay_s.copy(),
            dropped=dict(self.dropped),
        )


def _fail(future: Future[Detections], exc: FrameDroppedError) -> None:
    """Fail a queued frame's future unless its caller already cancelled it."""
    if future.set_running_or_notify_cancel():
        future.set_exception(exc)


@dataclass(slots=True)
class _Request:
    camera_id: str
    image: NDArray[np.uint8]
    future: Future[Detections]
    enqueued_s: float
    deadline_s: float
    input_hw: tuple[int, int] | None = None


class DynamicBatcher:
    """Batches frames from many cameras into one model's inference calls (see the module docstring)."""

    def __init__(self, model: Predictor, cfg: BatcherConfig) -> None:
        self.model = model
        self.cfg = cfg
        self.name = model.name
        self._per_camera_cap = max(1, int(cfg.max_share * cfg.max_batch + 1e-9))
        self._pending: deque[_Request] = deque()
        self._cond = threading.Condition()
        self._stats = BatcherStats(model=self.name, max_batch=cfg.max_batch)
        self._thread: threading.Thread | None = None
        self._accepting = False
        self._stopping = False

    # -- producer side ---------------------------------------------------------------------------

    def start(self) -> DynamicBatcher:
        """Start the dispatcher thread; returns self."""
        with self._cond:
            if self._thread is not None:
                return self
            self._accepting = True
            self._thread = threading.Thread(target=self._run, name=f"gw-batcher-{self.name}", daemon=True)
            self._thread.start()
        log.info("batcher %s: started (max_batch=%d max_delay_ms=%g per-camera cap=%d queue=%d)", self.name,
                 self.cfg.max_batch, self.cfg.max_delay_ms, self._per_camera_cap, self.cfg.queue_size)
        return self

    def submit(
        self, camera_id: str, image: NDArray[np.uint8], *, deadline_s: float | None = None,
        input_hw: tuple[int, int] | None = None,
    ) -> Future[Detections]:
        """Queue one frame (or crop); never blocks. The future gives its Detections or a FrameDroppedError.

        `deadline_s` is the time budget in seconds from now (default `request_timeout_ms`): a frame
        not taken into a batch by then is stale. `input_hw` runs the image at that model input size
        (crops of gated inference) instead of the model's own.
        """
        fut: Future[Detections] = Future()
        now = time.monotonic()
        budget_s = self.cfg.request_timeout_ms / 1000.0 if deadline_s is None else deadline_s
        victim: _Request | None = None
        with self._cond:
            if not self._accepting:
                self._stats.drop(camera_id, BatcherStoppedError.reason)
                fut.set_exception(BatcherStoppedError(
                    f"camera {camera_id}: batcher for model {self.name} is not running", camera_id))
                return fut
            self._stats.submitted += 1
            self._pending.append(_Request(camera_id, image, fut, now, now + budget_s, input_hw))
            if len(self._pending) > self.cfg.queue_size:
                victim = self._pending.popleft()
                self._stats.drop(victim.camera_id, QueueOverflowError.reason)
            self._stats.queued = len(self._pending)
            self._cond.notify()
        if victim is not None:
            log.debug("batcher %s: camera %s: queue full, dropped its oldest frame",
                      self.name, victim.camera_id)
            _fail(victim.future, QueueOverflowError(
                f"camera {victim.camera_id}: dropped by model {self.name}'s batcher, queue full "
                f"({self.cfg.queue_size} frames)", victim.camera_id))
        return fut

    def stop(self, timeout_s: float = 5.0) -> None:
        """Refuse new frames, infer the queued ones, and join; what is left after `timeout_s` fails."""
        with self._cond:
            self._accepting = False
            self._stopping = True
            thread = self._thread
            self._cond.notify_all()
        if thread is not None:
            thread.join(timeout_s)
            if thread.is_alive():
                log.warning("batcher %s: dispatcher did not finish within %.1f s", self.name, timeout_s)
        with self._cond:
            left = list(self._pending)
            self._pending.clear()
            self._stats.queued = 0
            for req in left:
                self._stats.drop(req.camera_id, BatcherStoppedError.reason)
        for req in left:
            _fail(req.future, BatcherStoppedError(
                f"camera {req.camera_id}: model {self.name}'s batcher stopped before the frame ran",
                req.camera_id))
        log.info("batcher %s: stopped (%d frame(s) left unrun)", self.name, len(left))

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def stats(self) -> BatcherStats:
        """A consistent copy of the counters."""
        with self._cond:
            return self._stats.snapshot()

    # -- dispatcher side -------------------------------------------------------------------------

    def _expire(self, now: float) -> list[_Request]:
        """Remove frames past their deadline (lock held)."""
        if not any(r.deadline_s < now for r in self._pending):
            return []
        stale = [r for r in self._pending if r.deadline_s < now]
        self._pending = deque(r for r in self._pending if r.deadline_s >= now)
        for r in stale:
            self._stats.drop(r.camera_id, StaleFrameError.reason)
        return stale

    def _select(self) -> list[_Request]:
        """Oldest-first frames for one batch, at most `_per_camera_cap` per camera (lock held)."""
        taken: list[_Request] = []
        per_camera: dict[str, int] = {}
        for req in self._pending:
            n = per_camera.get(req.camera_id, 0)
            if n < self._per_camera_cap:
                per_camera[req.camera_id] = n + 1
                taken.append(req)
                if len(taken) == self.cfg.max_batch:
                    break
        return taken

    def _next_batch(self) -> tuple[list[_Request] | None, list[_Request]]:
        """Wait until a batch is due or frames went stale; (batch or None when stopping, stale frames)."""
        delay_s = self.cfg.max_delay_ms / 1000.0
        with self._cond:
            while True:
                now = time.monotonic()
                stale = self._expire(now)
                if stale:
                    self._stats.queued = len(self._pending)
                    return [], stale
                if not self._pending:
                    if self._stopping:
                        return None, []
                    self._cond.wait()
                    continue
                batch = self._select()
                due_s = self._pending[0].enqueued_s + delay_s
                if len(batch) >= self.cfg.max_batch or now >= due_s or self._stopping:
                    chosen = {id(r) for r in batch}
                    self._pending = deque(r for r in self._pending if id(r) not in chosen)
                    self._stats.queued = len(self._pending)
                    return batch, []
                wake_s = min(due_s, *(r.deadline_s for r in self._pending))
                self._cond.wait(max(wake_s - now, 0.0) + 1e-4)

    def _fail_stale(self, stale: list[_Request]) -> None:
        now = time.monotonic()
        for req in stale:
            _fail(req.future, StaleFrameError(
                f"camera {req.camera_id}: frame waited {now - req.enqueued_s:.3f} s for model {self.name}, "
                f"past its deadline", req.camera_id))
        log.debug("batcher %s: %d stale frame(s) dropped", self.name, len(stale))

    def _infer(self, batch: list[_Request]) -> None:
        start = time.monotonic()
        live = [r for r in batch if r.future.set_running_or_notify_cancel()]
        if len(live) < len(batch):
            with self._cond:
                for req in batch:
                    if req.future.cancelled():
                        self._stats.drop(req.camera_id, "cancelled")
        if not live:
            return
        t0 = time.perf_counter()
        try:
            results = self._predict(live)
        except ModelError as exc:
            with self._cond:
                for req in live:
                    self._stats.drop(req.camera_id, "error")
            log.error("batcher %s: inference failed for %d frame(s): %s", self.name, len(live), exc)
            for req in live:
                req.future.set_exception(exc)
            return
        elapsed = time.perf_counter() - t0
        with self._cond:
            self._stats.batches += 1
            self._stats.completed += len(live)
            self._stats.batch_size.observe(float(len(live)))
            self._stats.inference_s.observe(elapsed)
            for req in live:
                self._stats.queue_delay_s.observe(start - req.enqueued_s)
        for req, det in zip(live, results, strict=True):
            req.future.set_result(det)

    def _predict(self, live: list[_Request]) -> list[Detections]:
        """One inference call per input size in the batch; results in the batch's order."""
        sizes = list(dict.fromkeys(r.input_hw for r in live))
        if sizes == [None]:
            return self.model.predict([r.image for r in live])
        results: list[Detections | None] = [None] * len(live)
        for hw in sizes:
            idx = [i for i, r in enumerate(live) if r.input_hw == hw]
            images = [live[i].image for i in idx]
            part = self.model.predict(images) if hw is None else self.model.predict(images, input_hw=hw)
            for i, det in zip(idx, part, strict=True):
                results[i] = det
        return [r if r is not None else Detections.empty() for r in results]

    def _run(self) -> None:
        while True:
            batch: list[_Request] | None = None
            try:
                batch, stale = self._next_batch()
                if stale:
                    self._fail_stale(stale)
                if batch is None:
                    return
                if batch:
                    self._infer(batch)
            except Exception as exc:  # the worker's top loop: log, fail this batch, keep serving
                log.exception("batcher %s: unexpected error", self.name)
                for req in batch or []:
                    if not req.future.done():
                        req.future.set_exception(ModelError(f"model {self.name}: batch failed: {exc}"))
                with self._cond:
                    for req in batch or []:
                        self._stats.drop(req.camera_id, "error")
                time.sleep(0.01)
