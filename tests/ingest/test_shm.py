"""The shared-memory frame ring: round trip, overrun and torn-read accounting, oversize frames."""

from __future__ import annotations

import secrets
from collections.abc import Iterator

import numpy as np
import pytest

from ingest.frame import Frame, Pose
from ingest.shm import SharedCounters, SharedFrameRing
from ingest.stats import CameraStats


@pytest.fixture
def ring() -> Iterator[SharedFrameRing]:
    r = SharedFrameRing.create(f"gwtest{secrets.token_hex(4)}", n_slots=3, slot_bytes=64 * 48 * 3)
    try:
        yield r
    finally:
        r.close()


def frame(seq: int, pose: Pose | None = None, size: tuple[int, int] = (48, 64)) -> Frame:
    img = np.full((*size, 3), seq % 256, dtype=np.uint8)
    img[0, 0] = (1, 2, 3)
    return Frame(
        camera_id="cam",
        seq=seq,
        captured_at=1000.0 + seq,
        pts_s=seq * 0.04,
        image=img,
        pose=pose,
        keyframe=seq % 25 == 0,
        meta={"gain": 1.5},
    )


def test_round_trip_through_an_attached_ring(ring: SharedFrameRing) -> None:
    pose = Pose(
        lat_deg=30.5,
        lon_deg=120.25,
        rel_alt_m=80.0,
        gimbal_pitch_deg=-70.0,
        family="bracket",
        defaulted=("gimbal_roll_deg",),
        t_s=1.5,
    )
    writer = SharedFrameRing.attach(ring.name)
    writer.write(frame(0, pose))
    writer.write(frame(1))
    frames, nxt = ring.read_new("cam", 0)
    assert nxt == 2 and [f.seq for f in frames] == [0, 1]
    got = frames[0]
    assert got.pose == pose and got.keyframe and got.meta == {"gain": 1.5}
    assert got.captured_at == 1000.0 and got.pts_s == 0.0
    assert np.array_equal(got.image, frame(0).image) and not got.image.flags.writeable
    assert ring.read_new("cam", nxt) == ([], 2)
    writer.close()


def test_slow_reader_loses_oldest_frames_and_they_are_counted(ring: SharedFrameRing) -> None:
    for i in range(10):
        ring.write(frame(i))
    frames, nxt = ring.read_new("cam", 0)
    assert [f.seq for f in frames] == [7, 8, 9] and nxt == 10
    assert CameraStats(ring.stats_view, writer=False).snapshot("cam").drops["ring_overrun"] == 7


def test_read_during_write_is_discarded_as_torn(ring: SharedFrameRing) -> None:
    ring.write(frame(0))
    ring.write(frame(1))
    ring._hdr[1][0] = 2 * 1 + 1  # slot of frame 1 caught mid-write (odd sequence lock)
    frames, _ = ring.read_new("cam", 0)
    assert [f.seq for f in frames] == [0]
    assert CameraStats(ring.stats_view, writer=False).snapshot("cam").drops["torn_read"] == 1


def test_frame_larger_than_a_slot_is_dropped_not_written(ring: SharedFrameRing) -> None:
    ring.write(frame(0, size=(480, 640)))
    assert ring.write_count == 0
    assert CameraStats(ring.stats_view, writer=False).snapshot("cam").drops["too_large"] == 1


def test_heartbeat_and_stats_are_shared(ring: SharedFrameRing) -> None:
    other = SharedFrameRing.attach(ring.name)
    other.beat(1234.5)
    CameraStats(other.stats_view).add("frames_decoded", 7)
    assert ring.heartbeat_at == 1234.5
    assert CameraStats(ring.stats_view, writer=False).get("frames_decoded") == 7
    other.close()


def test_write_counts_are_published_for_the_drain(ring: SharedFrameRing) -> None:
    counters = SharedCounters.create(f"gwtestn{secrets.token_hex(4)}", 4)
    try:
        writer = SharedFrameRing.attach(ring.name)
        attached = SharedCounters.attach(counters.name, 4)  # what a worker process does
        writer.notify_into(attached, 2)
        writer.write(frame(0))
        writer.write(frame(1))
        assert counters.values.tolist() == [0.0, 0.0, 2.0, 0.0]
        writer.close()
        attached.close()
    finally:
        counters.close()
