"""Bounded queues that never block the producer: when full, the oldest item goes and the drop is counted.

Live video values freshness over completeness: a consumer that falls behind should see the newest frames,
and capture must never wait for analysis.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Generic, TypeVar

from ingest.frame import Frame

T = TypeVar("T")


@dataclass(frozen=True)
class QueueStats:
    """A snapshot of one queue's counters (read by the metrics module at scrape time)."""

    name: str
    depth: int
    capacity: int
    put_total: int
    get_total: int
    high_water: int
    dropped: dict[str, int] = field(default_factory=dict)


class DropOldestQueue(Generic[T]):
    """A bounded FIFO whose `put` never blocks: when full it evicts the oldest item (reason `queue_full`).

    Thread-safe. `put` returns the evicted item (or None) so the caller can attribute the drop, e.g. to
    the camera whose frame was lost. `drop(reason)` counts drops decided elsewhere under the same roof.
    """

    def __init__(self, maxsize: int, name: str = "queue") -> None:
        if maxsize < 1:
            raise ValueError(f"{name}: maxsize must be >= 1, got {maxsize}")
        self.name = name
        self.maxsize = maxsize
        self._items: deque[T] = deque()
        self._cond = threading.Condition(threading.Lock())
        self._put_total = 0
        self._get_total = 0
        self._high_water = 0
        self._dropped: dict[str, int] = {}
        self._closed = False

    def put(self, item: T) -> T | None:
        """Append `item`; if the queue was full, remove and return the oldest item (counted as dropped)."""
        with self._cond:
            evicted: T | None = None
            if len(self._items) >= self.maxsize:
                evicted = self._items.popleft()
                self._dropped["queue_full"] = self._dropped.get("queue_full", 0) + 1
            self._items.append(item)
            self._put_total += 1
            self._high_water = max(self._high_water, len(self._items))
            self._cond.notify()
            return evicted

    def get(self, timeout_s: float | None = None) -> T | None:
        """The oldest item, waiting up to `timeout_s` (None: forever); None on timeout or after `close()`."""
        deadline = None if timeout_s is None else time.monotonic() + timeout_s
        with self._cond:
            while not self._items:
                if self._closed:
                    return None
                remaining = None if deadline is None else deadline - time.monotonic()
                if remaining is not None and remaining <= 0:
                    return None
                self._cond.wait(remaining)
            self._get_total += 1
            return self._items.popleft()

    def get_nowait(self) -> T | None:
        """The oldest item, or None when empty."""
        with self._cond:
            if not self._items:
                return None
            self._get_total += 1
            return self._items.popleft()

    def drain(self, max_items: int | None = None) -> list[T]:
        """Take up to `max_items` items (all when None) without waiting, oldest first."""
        with self._cond:
            n = len(self._items) if max_items is None else min(max_items, len(self._items))
            out = [self._items.popleft() for _ in range(n)]
            self._get_total += n
            return out

    def drop(self, reason: str, count: int = 1) -> None:
        """Count `count` items lost for `reason` before they reached this queue (bounded reason labels)."""
        with self._cond:
            self._dropped[reason] = self._dropped.get(reason, 0) + count

    def close(self) -> None:
        """Wake every waiting `get`; later gets return None once the queue is empty."""
        with self._cond:
            self._closed = True
            self._cond.notify_all()

    def __len__(self) -> int:
        with self._cond:
            return len(self._items)

    def stats(self) -> QueueStats:
        with self._cond:
            return QueueStats(
                name=self.name,
                depth=len(self._items),
                capacity=self.maxsize,
                put_total=self._put_total,
                get_total=self._get_total,
                high_water=self._high_water,
                dropped=dict(self._dropped),
            )


class PerCameraQueues:
    """One `DropOldestQueue` of frames per camera, with a non-blocking `sink` for readers and pools.

    Use `sink` as the `sink` of a `CameraReader`, `CameraGroup` or `IngestPool`; consumers `get` frames per
    camera. A slow consumer of one camera costs that camera its oldest frames and nothing else.
    """

    def __init__(self, maxsize: int, on_drop: Callable[[str], None] | None = None) -> None:
        self.maxsize = maxsize
        self._queues: dict[str, DropOldestQueue[Frame]] = {}
        self._lock = threading.Lock()
        self._on_drop = on_drop

    def queue(self, camera_id: str) -> DropOldestQueue[Frame]:
        with self._lock:
            q = self._queues.get(camera_id)
            if q is None:
                q = self._queues[camera_id] = DropOldestQueue(self.maxsize, name=camera_id)
            return q

    def sink(self, frame: Frame) -> None:
        """Never blocks: a full camera queue loses its oldest frame."""
        if self.queue(frame.camera_id).put(frame) is not None and self._on_drop is not None:
            self._on_drop(frame.camera_id)

    def get(self, camera_id: str, timeout_s: float | None = None) -> Frame | None:
        return self.queue(camera_id).get(timeout_s)

    def camera_ids(self) -> list[str]:
        with self._lock:
            return list(self._queues)

    def stats(self) -> dict[str, QueueStats]:
        with self._lock:
            queues = dict(self._queues)
        return {cid: q.stats() for cid, q in queues.items()}

    def close(self) -> None:
        with self._lock:
            queues = list(self._queues.values())
        for q in queues:
            q.close()
