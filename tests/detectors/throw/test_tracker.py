"""Gravity-aware tracking: fast falls stay one track through clutter and missed frames."""

from __future__ import annotations

import numpy as np
import pytest

from detectors.throw.config import TrackingConfig
from detectors.throw.free_fall import G_M_S2
from detectors.throw.tracker import EndedTrack, FrameBlobs, GravityTracker

FPS = 25.0
PX_PER_M = 18.0
WH = (1920, 1080)


def down(xy: np.ndarray) -> np.ndarray:
    """One metre of fall is 18 px straight down everywhere (a flat, upright facade)."""
    return np.tile([0.0, PX_PER_M], (len(xy), 1))


def falling(n: int, x0: float = 900.0, y0: float = 100.0, vx_px_s: float = 20.0) -> np.ndarray:
    t = np.arange(n) / FPS
    return np.stack([x0 + vx_px_s * t, y0 + 0.5 * G_M_S2 * PX_PER_M * t * t], 1)


def feed(tracker: GravityTracker, frames: list[np.ndarray], rejected: set[int] = frozenset()) -> list[EndedTrack]:
    ended: list[EndedTrack] = []
    for i, xy in enumerate(frames):
        t = i / FPS
        if i in rejected:
            ended += tracker.miss(t, WH)
        else:
            ended += tracker.update(t, FrameBlobs.plain(xy, np.full(len(xy), 4, np.float32)), WH)
    return ended + tracker.end_all()


def longest(ended: list[EndedTrack]) -> EndedTrack:
    return max(ended, key=lambda e: len(e.points))


def test_fast_fall_is_one_track_although_it_moves_more_than_its_size_each_frame() -> None:
    path = falling(50)
    steps = np.linalg.norm(np.diff(path, axis=0), axis=1)
    assert steps[-10:].min() > 2 * 4  # the object jumps beyond twice its own 4 px size: no overlap to follow
    tracker = GravityTracker(TrackingConfig(), 200, down, G_M_S2)
    best = longest(feed(tracker, [p[None, :] for p in path]))
    assert len(best.points) == 50
    np.testing.assert_allclose(best.points[:, 1:3], path)


def test_clutter_next_to_the_path_does_not_steal_the_track() -> None:
    rng = np.random.default_rng(4)
    path = falling(45)
    frames = []
    for i, p in enumerate(path):
        bird = [860.0 + 9.0 * i, 230.0]  # level flight crossing the fall around frame 20
        windows = [[p[0] + 10.0, 400.0], [p[0] - 12.0, 260.0]]  # lit windows beside the path
        clutter = np.vstack([[bird], windows, rng.uniform([0, 0], WH, (5, 2))])
        frames.append(np.vstack([clutter, p[None, :]]))
    ended = feed(GravityTracker(TrackingConfig(), 200, down, G_M_S2), frames)
    matches = [e for e in ended if len(e.points) == 45 and np.allclose(e.points[:, 1:3], path)]
    assert len(matches) == 1


def test_a_small_object_is_not_linked_to_a_long_streak() -> None:
    tracker = GravityTracker(TrackingConfig(), 200, down, G_M_S2)
    for i in range(5):  # a 3 px leaf drifting down slowly
        tracker.update(i / FPS, FrameBlobs.plain(np.array([[500.0, 300.0 + i]]), np.array([3.0], np.float32)), WH)
    # a 20 px rain streak right where the leaf should be, and nothing else
    tracker.update(5 / FPS, FrameBlobs.plain(np.array([[500.0, 305.5]]), np.array([20.0], np.float32)), WH)
    leaf = longest(tracker.end_all())
    assert len(leaf.points) == 5


def test_missed_and_rejected_frames_are_bridged() -> None:
    path = falling(40)
    frames = [p[None, :] for p in path]
    frames[15] = np.zeros((0, 2))  # the object vanished against a window of its own colour
    frames[16] = np.zeros((0, 2))
    ended = feed(GravityTracker(TrackingConfig(max_missed_frames=3), 200, down, G_M_S2), frames, rejected={28})
    best = longest(ended)
    assert len(best.points) == 37
    assert len([e for e in ended if len(e.points) > 3]) == 1


def test_a_gap_longer_than_allowed_ends_the_track() -> None:
    path = falling(40)
    frames = [p[None, :] if not 15 <= i < 20 else np.zeros((0, 2)) for i, p in enumerate(path)]
    cfg = TrackingConfig(max_missed_frames=2, falling_max_missed_frames=2)
    ended = feed(GravityTracker(cfg, 200, down, G_M_S2), frames)
    long_ones = sorted(len(e.points) for e in ended if len(e.points) > 3)
    assert long_ones == [15, 20]
    assert any(e.why == "lost" for e in ended)


def test_single_blobs_die_at_their_first_miss_and_the_table_is_bounded() -> None:
    rng = np.random.default_rng(9)
    tracker = GravityTracker(TrackingConfig(max_tracks=16), 200, down, G_M_S2)
    for i in range(10):  # rain: 40 unrelated specks per frame
        tracker.update(i / FPS, FrameBlobs.plain(rng.uniform([0, 0], WH, (40, 2)), np.ones(40, np.float32)), WH)
        assert tracker.active <= 16
    assert tracker.dropped_births > 0
    tracker.update(10 / FPS, FrameBlobs.plain(np.zeros((0, 2)), np.zeros(0, np.float32)), WH)
    tracker.update(11 / FPS, FrameBlobs.plain(np.zeros((0, 2)), np.zeros(0, np.float32)), WH)
    assert tracker.active == 0


def test_reconfigure_keeps_live_tracks() -> None:
    path = falling(30)
    tracker = GravityTracker(TrackingConfig(), 200, down, G_M_S2)
    for i, p in enumerate(path[:15]):
        tracker.update(i / FPS, FrameBlobs.plain(p[None, :], np.ones(1, np.float32)), WH)
    tracker.reconfigure(TrackingConfig(gate_px=8.0, max_tracks=32), 150)
    assert tracker.active == 1
    for i, p in enumerate(path[15:], start=15):
        tracker.update(i / FPS, FrameBlobs.plain(p[None, :], np.ones(1, np.float32)), WH)
    assert len(longest(tracker.end_all()).points) == 30


def _streak_frame(xy: np.ndarray, streak: np.ndarray) -> FrameBlobs:
    n = len(xy)
    return FrameBlobs(xy, np.full(n, 4, np.float32), np.zeros(n, np.float32), streak)


def test_rain_streaks_never_start_tracks() -> None:
    rng = np.random.default_rng(2)
    tracker = GravityTracker(TrackingConfig(), 200, down, G_M_S2)
    for i in range(20):
        xy = rng.uniform([0, 0], WH, (300, 2))
        tracker.update(i / FPS, _streak_frame(xy, np.ones(300, bool)), WH)
        assert tracker.active == 0


def test_a_fall_blurred_into_a_streak_keeps_its_track_but_prefers_a_plain_blob() -> None:
    path = falling(30)
    tracker = GravityTracker(TrackingConfig(), 200, down, G_M_S2)
    off = np.array([1.5, 0.0])
    for i, p in enumerate(path):
        if i < 15:
            frame = _streak_frame(p[None, :], np.zeros(1, bool))
        elif i % 2 == 0:  # late in the fall the object itself is a streak, alone in its gate
            frame = _streak_frame(p[None, :], np.ones(1, bool))
        else:  # the object (a plain blob, a little off) and a rain streak right on the predicted path
            frame = _streak_frame(np.vstack([p, p + off]), np.array([True, False]))
        tracker.update(i / FPS, frame, WH)
    best = longest(tracker.end_all())
    assert len(best.points) == 30
    np.testing.assert_allclose(best.points[16::2, 1:3], path[16::2])
    np.testing.assert_allclose(best.points[15::2, 1:3], path[15::2] + off)


def test_by_default_a_fall_survives_crossing_a_band_of_its_own_brightness() -> None:
    # a white bag over a white spandrel: gone for 5 frames every storey (generator B's missed throws)
    path = falling(60)
    seen = [i for i in range(60) if i < 10 or (i - 10) % 12 >= 5]
    frames = [p[None, :] if i in seen else np.zeros((0, 2)) for i, p in enumerate(path)]
    best = longest(feed(GravityTracker(TrackingConfig(), 200, down, G_M_S2), frames))
    assert len(best.points) == len(seen)
    np.testing.assert_allclose(best.points[:, 1:3], path[seen])
    short_coast = TrackingConfig(falling_max_missed_frames=3)
    assert len(longest(feed(GravityTracker(short_coast, 200, down, G_M_S2), frames)).points) == 10


def test_a_slow_track_does_not_get_the_falling_coast() -> None:
    # laundry or a person: 1 m/s sideways, unseen for 5 frames, then a blob where it would be
    t = np.arange(30) / FPS
    path = np.stack([500.0 + PX_PER_M * t, 300.0 + 0 * t], 1)
    frames = [p[None, :] if not 10 <= i < 15 else np.zeros((0, 2)) for i, p in enumerate(path)]
    ended = feed(GravityTracker(TrackingConfig(), 200, down, G_M_S2), frames)
    assert sorted(len(e.points) for e in ended if len(e.points) > 3) == [10, 15]


def _with_density(xy: np.ndarray, density: float) -> FrameBlobs:
    plain = FrameBlobs.plain(xy, np.ones(len(xy), np.float32))
    return FrameBlobs(plain.xy, plain.size_px, plain.contrast, plain.streak, density)


def test_a_track_records_the_chance_of_a_stray_blob_in_its_gate() -> None:
    """Each frame a track lives it records 1 - exp(-density x gate area); a coasting gate grows, so does it."""
    cfg = TrackingConfig()
    tracker = GravityTracker(cfg, 40, down, G_M_S2)
    density = 1e-4
    path = falling(10)
    for i, p in enumerate(path):
        tracker.update(i / FPS, _with_density(p[None, :], density), WH)
    tracker.update(10 / FPS, _with_density(np.zeros((0, 2)), density), WH)  # a frame coasted over
    (slot,) = np.flatnonzero(tracker.alive)
    series = tracker.chance_series(int(slot))
    assert len(series) == 10  # every frame after its birth
    assert series[-1, 0] == pytest.approx(10 / FPS)
    smallest = -np.expm1(-density * np.pi * cfg.gate_px**2)
    assert np.all(series[:, 1] >= smallest * 0.999) and np.all(series[:, 1] < 1)
    assert series[-1, 1] > series[-2, 1]  # the coasted frame's gate was wider
    (ended,) = tracker.end_all()
    assert np.array_equal(ended.chance, series)


def test_the_chance_ring_keeps_the_latest_frames_oldest_first() -> None:
    tracker = GravityTracker(TrackingConfig(), 5, down, G_M_S2)
    path = falling(8)
    for i, p in enumerate(path[:4]):
        tracker.update(i / FPS, _with_density(p[None, :], 1e-4), WH)
    for i in range(4, 7):  # coasting: frames lived grow past the ring's length, positions do not
        tracker.update(i / FPS, _with_density(np.zeros((0, 2)), 1e-4), WH)
    (slot,) = np.flatnonzero(tracker.alive)
    series = tracker.chance_series(int(slot))
    assert np.allclose(series[:, 0], np.arange(2, 7) / FPS)  # 6 frames lived, the first overwritten


def test_no_blob_density_means_no_chance() -> None:
    tracker = GravityTracker(TrackingConfig(), 40, down, G_M_S2)
    feed_frames = [p[None, :] for p in falling(10)]
    (ended,) = feed(tracker, feed_frames)
    assert len(ended.chance) == 9  # every frame after its birth
    assert np.all(ended.chance[:, 1] == 0.0)
