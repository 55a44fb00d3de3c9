"""Bounded drop-oldest queues, reconnect backoff, camera state accounting."""

from __future__ import annotations

import threading
import time

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from ingest.backoff import Backoff
from ingest.frame import Frame
from ingest.queues import DropOldestQueue, PerCameraQueues
from ingest.stats import STATS_LEN, CameraState, CameraStats


def _frame(camera_id: str, seq: int) -> Frame:
    return Frame(
        camera_id=camera_id,
        seq=seq,
        captured_at=float(seq),
        pts_s=float(seq),
        image=np.zeros((4, 4, 3), np.uint8),
    )


def test_drop_oldest_keeps_newest_and_counts_drops() -> None:
    q: DropOldestQueue[int] = DropOldestQueue(3, name="t")
    evicted = [q.put(i) for i in range(5)]
    assert evicted == [None, None, None, 0, 1]
    assert q.drain() == [2, 3, 4]
    s = q.stats()
    assert s.dropped == {"queue_full": 2} and s.put_total == 5 and s.get_total == 3 and s.high_water == 3


def test_put_never_blocks_while_consumer_is_stuck() -> None:
    q: DropOldestQueue[int] = DropOldestQueue(2)
    done = threading.Event()

    def producer() -> None:
        for i in range(10_000):
            q.put(i)
        done.set()

    threading.Thread(target=producer, daemon=True).start()
    assert done.wait(10), "put blocked with nobody consuming"
    assert q.drain() == [9998, 9999]
    assert q.stats().dropped["queue_full"] == 9998


def test_get_waits_then_times_out_and_close_wakes_waiters() -> None:
    q: DropOldestQueue[int] = DropOldestQueue(2)
    t0 = time.monotonic()
    assert q.get(timeout_s=0.1) is None
    assert time.monotonic() - t0 >= 0.09
    result: list[int | None] = []
    waiter = threading.Thread(target=lambda: result.append(q.get()))
    waiter.start()
    q.close()
    waiter.join(2)
    assert result == [None]


def test_get_returns_item_put_by_another_thread() -> None:
    q: DropOldestQueue[str] = DropOldestQueue(1)
    threading.Timer(0.05, q.put, args=("x",)).start()
    assert q.get(timeout_s=2) == "x"


def test_per_camera_queues_isolate_cameras() -> None:
    dropped: list[str] = []
    pcq = PerCameraQueues(2, on_drop=dropped.append)
    for i in range(5):
        pcq.sink(_frame("busy", i))
    pcq.sink(_frame("quiet", 0))
    assert [f.seq for f in pcq.queue("busy").drain()] == [3, 4]
    assert pcq.get("quiet", 0.1) is not None
    assert dropped == ["busy"] * 3
    assert pcq.stats()["quiet"].dropped == {}


def test_queue_rejects_zero_size() -> None:
    with pytest.raises(ValueError, match="maxsize"):
        DropOldestQueue(0)


class FakeRandom:
    """Deterministic stand-in for random.random."""

    def __init__(self, values: list[float]) -> None:
        self.values = values
        self.i = 0

    def __call__(self) -> float:
        v = self.values[self.i % len(self.values)]
        self.i += 1
        return v


def test_backoff_doubles_to_cap_and_resets() -> None:
    b = Backoff(0.5, 4.0, jitter=0.0)
    assert [b.next_s() for _ in range(6)] == [0.5, 1.0, 2.0, 4.0, 4.0, 4.0]
    b.reset()
    assert b.next_s() == 0.5


def test_backoff_jitter_spreads_waits_within_bounds() -> None:
    low = Backoff(1.0, 8.0, jitter=0.25, rand=FakeRandom([0.0]))
    high = Backoff(1.0, 8.0, jitter=0.25, rand=FakeRandom([1.0]))
    assert [low.next_s() for _ in range(3)] == [0.75, 1.5, 3.0]
    assert [high.next_s() for _ in range(3)] == [1.25, 2.5, 5.0]


@given(
    initial=st.floats(0.01, 10),
    cap_factor=st.floats(1, 100),
    jitter=st.floats(0, 1),
    draws=st.lists(st.floats(0, 1), min_size=1, max_size=80),
)
def test_backoff_never_exceeds_cap_plus_jitter(
    initial: float, cap_factor: float, jitter: float, draws: list[float]
) -> None:
    cap = initial * cap_factor
    b = Backoff(initial, cap, jitter, rand=FakeRandom(draws))
    for _ in draws:
        wait = b.next_s()
        assert 0 <= wait <= cap * (1 + jitter) + 1e-9


def test_stall_seconds_accumulate_per_kind() -> None:
    s = CameraStats()
    s.set_state(CameraState.STREAMING, now=100.0)
    s.set_state(CameraState.NO_PACKETS, now=110.0)
    s.set_state(CameraState.CANNOT_CONNECT, now=113.0)
    s.set_state(CameraState.STREAMING, now=120.0)
    s.set_state(CameraState.FROZEN, now=130.0)
    snap = s.snapshot("cam", now=135.0)
    assert snap.state is CameraState.FROZEN
    assert snap.stall_s == {"no_packets": 3.0, "cannot_connect": 7.0, "no_decode": 0.0, "frozen": 5.0}
    assert snap.last_frame_at is None and snap.last_frame_age_s() is None


def test_stats_live_in_a_given_vector_and_readers_do_not_write() -> None:
    buf = np.zeros(STATS_LEN, dtype=np.float64)
    writer = CameraStats(buf)
    writer.add("frames_delivered", 3)
    reader = CameraStats(buf, writer=False)
    assert reader.snapshot("c").frames_delivered == 3
    untouched = np.zeros(STATS_LEN, dtype=np.float64)
    CameraStats(untouched, writer=False)
    assert not untouched.any()
    with pytest.raises(ValueError, match="float64"):
        CameraStats(np.zeros(3))
