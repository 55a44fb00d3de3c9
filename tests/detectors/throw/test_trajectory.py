"""The physics test on synthetic tracks: free falls pass with their release height; the rest say why not."""

from __future__ import annotations

import numpy as np
import pytest

from detectors.geometry.facade import FacadeCalibration, FacadeMapper
from detectors.throw.config import TrajectoryConfig
from detectors.throw.facade_map import FlatScale
from detectors.throw.free_fall import G_M_S2, fall_start
from detectors.throw.trajectory import fit_trajectory

FPS = 25.0
PX_PER_M = 10.0
FRAME_H = 1000.0
RNG_SEED = 11


def track(height_m: np.ndarray, along_m: np.ndarray, t0: float = 100.0, noise_px: float = 0.5) -> np.ndarray:
    """(t, x, y) rows in a FlatScale camera (10 px/m, image y down) with centroid noise."""
    rng = np.random.default_rng(RNG_SEED)
    t = t0 + np.arange(len(height_m)) / FPS
    x = along_m * PX_PER_M + rng.normal(0, noise_px, len(t))
    y = FRAME_H - height_m * PX_PER_M + rng.normal(0, noise_px, len(t))
    return np.stack([t, x, y], 1)


def fall(h0: float, n: int, *, v0_up: float = 0.0, vx: float = 0.5, skip: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Heights and along-positions of a drag-free fall from h0, seen from frame `skip` on."""
    t = (np.arange(n) + skip) / FPS
    return h0 + v0_up * t - 0.5 * G_M_S2 * t * t, 20.0 + vx * t


SCALE = FlatScale(PX_PER_M, FRAME_H)
CFG = TrajectoryConfig()


def test_free_fall_is_accepted_with_its_numbers() -> None:
    h, a = fall(30.0, 40)
    fit = fit_trajectory(track(h, a), SCALE, CFG)
    assert fit.accepted, fit.reasons()
    assert fit.accel_m_s2 == pytest.approx(G_M_S2, rel=0.1)
    assert fit.expected_accel_px_s2 == pytest.approx(G_M_S2 * PX_PER_M)
    assert fit.release_height_m == pytest.approx(30.0, abs=0.5)
    assert fit.release_along_m == pytest.approx(20.0, abs=0.3)
    reasons = fit.reasons()
    for key in ("accel_m_s2", "accel_ratio", "drop_m", "residual_px", "n_points", "verdict"):
        assert key in reasons
    assert reasons["verdict"] == "accepted"
    assert 0.5 < fit.confidence <= 1.0


def test_release_height_is_extrapolated_when_the_first_frames_were_missed() -> None:
    # dropped from 24 m, first seen 0.4 s later (10 frames) after it fell ~0.8 m
    h, a = fall(24.0, 30, skip=10)
    fit = fit_trajectory(track(h, a, t0=100.4), SCALE, CFG)
    assert fit.accepted, fit.reasons()
    assert fit.release_height_m == pytest.approx(24.0, abs=0.4)
    assert fit.release_t_s == pytest.approx(100.0, abs=0.06)


def test_thrown_up_object_is_placed_near_the_window_not_the_apex() -> None:
    # thrown up at 2 m/s from 15 m and seen from the start: the first point is taken as the release
    h, a = fall(15.0, 35, v0_up=2.0)
    fit = fit_trajectory(track(h, a), SCALE, CFG)
    assert fit.accepted, fit.reasons()
    assert fit.release_height_m == pytest.approx(15.0, abs=0.3)
    assert fit.release_height_sigma_m > 0


def test_landing_time_is_where_the_parabola_meets_the_ground() -> None:
    h, a = fall(20.0, 25)
    fit = fit_trajectory(track(h, a), SCALE, CFG)
    assert fit.landing_t_s == pytest.approx(100.0 + np.sqrt(2 * 20.0 / G_M_S2), abs=0.05)


@pytest.mark.parametrize(
    ("name", "heights", "alongs", "reason"),
    [
        # a leaf: 1.2 m/s terminal speed with sideways flutter
        ("leaf", 25.0 - 1.2 * np.arange(60) / FPS, 20 + 0.8 * np.sin(np.arange(60) / 6), "incoherent"),
        (
            "small leaf drop",
            25.0 - 1.2 * np.arange(40) / FPS,
            20 + 0.1 * np.sin(np.arange(40) / 6),
            "drop_too_small",
        ),
        # paper falling a little faster for long enough to drop 5 m: too slow and no acceleration
        ("paper", 30.0 - 2.5 * np.arange(60) / FPS, 20 + 0.3 * np.arange(60) / FPS, "accel_too_low"),
        # rain: a constant-velocity streak at 9 m/s
        ("rain", 30.0 - 9.0 * np.arange(20) / FPS, 20 + 0.5 * np.arange(20) / FPS, "accel_too_low"),
        # a bird in level flight, 10 m/s sideways
        (
            "bird level",
            20.0 + 0.1 * np.sin(np.arange(40) / 3),
            5 + 10.0 * np.arange(40) / FPS,
            "drop_too_small",
        ),
        # a bird gliding down at constant speed
        ("bird glide", 30.0 - 3.0 * np.arange(50) / FPS, 5 + 8.0 * np.arange(50) / FPS, "accel_too_low"),
        # something rising
        ("rising", 10.0 + 2.0 * np.arange(30) / FPS, np.full(30, 20.0), "not_downward"),
    ],
)
def test_distractors_are_rejected_with_a_reason(
    name: str, heights: np.ndarray, alongs: np.ndarray, reason: str
) -> None:
    fit = fit_trajectory(track(heights, alongs), SCALE, CFG)
    assert not fit.accepted, name
    assert fit.reason == reason, (name, fit.reasons())
    assert fit.reasons()["verdict"] == reason
    assert fit.confidence == 0.0


def test_wandering_insect_is_incoherent() -> None:
    rng = np.random.default_rng(3)
    n = 40
    t = np.arange(n) / FPS
    h = 30.0 - 0.5 * G_M_S2 * t * t + np.cumsum(rng.normal(0, 0.4, n))
    a = 20.0 + np.cumsum(rng.normal(0, 0.4, n))
    fit = fit_trajectory(track(h, a), SCALE, CFG)
    assert fit.reason == "incoherent", fit.reasons()
    assert fit.residual_px > CFG.max_residual_px


def test_a_drop_inferred_from_two_blobs_after_a_gap_is_not_a_fall() -> None:
    # a leaf drifting down at 1 m/s for 15 frames, then two rain streaks far below, after gaps
    t_leaf = np.arange(15) / FPS
    heights = np.concatenate([30.0 - 1.0 * t_leaf, [28.2, 26.9]])
    alongs = np.concatenate([20.0 + 0.2 * t_leaf, [20.3, 20.9]])
    pts = track(heights, alongs)
    pts[15:, 0] = 100.0 + np.array([19, 23]) / FPS
    fit = fit_trajectory(pts, SCALE, CFG)
    assert fit.reason == "drop_not_observed", fit.reasons()


def test_falling_object_flying_sideways_like_a_bird_is_rejected() -> None:
    h, a = fall(30.0, 40, vx=14.0)
    fit = fit_trajectory(track(h, a), SCALE, CFG)
    assert fit.reason == "too_fast_sideways", fit.reasons()


def test_short_tracks_are_not_judged() -> None:
    h, a = fall(30.0, 6)
    assert fit_trajectory(track(h, a), SCALE, CFG).reason == "too_few_points"
    h, a = fall(30.0, 12)
    short = TrajectoryConfig(min_duration_s=1.0)
    assert fit_trajectory(track(h, a), SCALE, short).reason == "too_short"


def test_acceleration_is_judged_on_the_facade_not_in_pixels() -> None:
    # the same fall seen in strong perspective: the top of the facade is compressed in the image
    true_h = np.array([[8.0, 0.5, 300.0], [0.2, -14.0, 1000.0], [0.0, 0.006, 1.0]])

    def project(q: np.ndarray) -> np.ndarray:
        p = np.hstack([q, np.ones((len(q), 1))]) @ true_h.T
        return p[:, :2] / p[:, 2:3]

    facade_pts = np.array([[0.0, 0.0], [60.0, 0.0], [60.0, 54.0], [0.0, 54.0]])
    cal = FacadeCalibration(
        image_points_px=[tuple(p) for p in project(facade_pts)],
        facade_points_m=[tuple(p) for p in facade_pts],
    )
    mapper = FacadeMapper(cal)
    h, a = fall(50.0, 50)
    t = 100.0 + np.arange(50) / FPS
    pts = np.column_stack([t, project(np.stack([a, h], 1))])
    fit = fit_trajectory(pts, mapper, CFG)
    assert fit.accepted, fit.reasons()
    assert fit.accel_m_s2 == pytest.approx(G_M_S2, rel=0.02)
    # in pixels the fall does not look like g x a single scale: the local scale changes by > 15 %
    scales = mapper.px_per_m_vertical(pts[[0, -1], 1:3])
    assert scales[1] / scales[0] > 1.15


def test_one_wrong_blob_does_not_sink_a_real_fall() -> None:
    h, a = fall(30.0, 40)
    pts = track(h, a)
    pts[20, 2] += 25.0  # the tracker took a neighbour's blob for one frame
    fit = fit_trajectory(pts, SCALE, CFG)
    assert fit.accepted, fit.reasons()
    assert fit.n_points == 39


def test_a_chain_of_two_steady_speeds_is_not_a_fall() -> None:
    # a slow snowflake for 12 frames, then a faster, nearer one it passed: no acceleration within either
    t = np.arange(30) / FPS
    v = np.where(t < 12 / FPS, 3.0, 7.0)
    heights = 40.0 - np.concatenate([[0.0], np.cumsum(v[:-1] / FPS)])
    pts = track(heights, np.full(30, 20.0), noise_px=0.3)
    fit = fit_trajectory(pts, SCALE, CFG)
    assert fit.reason == "speed_steps", fit.reasons()
    # the same heights spread as a real fall's speed grows pass
    h, a = fall(40.0, 30)
    assert fit_trajectory(track(h, a, noise_px=0.3), SCALE, CFG).accepted


def test_an_acceleration_the_track_cannot_pin_down_is_not_trusted() -> None:
    h, a = fall(30.0, 12, skip=20)
    noisy = track(h, a, noise_px=1.8)
    fit = fit_trajectory(noisy, SCALE, CFG)
    assert fit.reason == "accel_uncertain", fit.reasons()
    assert fit.accel_sigma_m_s2 > CFG.max_accel_sigma_ratio * G_M_S2
    longer_h, longer_a = fall(30.0, 40, skip=10)
    assert fit_trajectory(track(longer_h, longer_a, noise_px=0.5), SCALE, CFG).accepted


def test_a_swoop_along_the_top_floors_is_sideways_not_a_fall() -> None:
    # the bird: 0.62 g, 7.97 m/s sideways, 2.64 m of drop, every threshold passed at its edge
    t = np.arange(18) / FPS
    heights = 50.0 - 0.5 * 0.62 * G_M_S2 * t * t - 0.25 * t
    alongs = 5.0 + 7.97 * t
    fit = fit_trajectory(track(heights, alongs, noise_px=0.3), SCALE, TrajectoryConfig(min_drop_m=1.0))
    assert fit.sideways_ratio > CFG.max_sideways_ratio
    assert fit.reason == "sideways_path", fit.reasons()


def test_fall_start_reads_the_release_from_the_first_positions() -> None:
    h, a = fall(30.0, 20, skip=8)  # first seen 0.32 s after it was dropped
    start = fall_start(track(h, a, noise_px=0.3), SCALE)
    assert start.unseen_s() == pytest.approx(8 / FPS, abs=0.06)
    h0, a0 = fall(30.0, 20, v0_up=1.5)  # thrown up: still rising when first seen
    assert fall_start(track(h0, a0, noise_px=0.3), SCALE).unseen_s() == 0.0


def dragged_fall(h0: float, n: int, skip: int, terminal_m_s: float) -> tuple[np.ndarray, np.ndarray]:
    """Heights and along-positions of a fall with quadratic drag (fine Euler steps), seen from frame `skip`."""
    k = G_M_S2 / terminal_m_s**2
    dt = 1e-4
    steps_per_frame = round(1 / (FPS * dt))
    h, v, heights = h0, 0.0, []
    for i in range((n + skip) * steps_per_frame):
        if i % steps_per_frame == 0:
            heights.append(h)
        v += (G_M_S2 - k * v * v) * dt
        h -= v * dt
    hs = np.array(heights[skip:])
    return hs, 20.0 + 0.3 * np.arange(n) / FPS


@pytest.mark.parametrize("skip_frames", [5, 10, 15])
def test_release_window_holds_the_release_of_a_long_fall_with_drag(skip_frames: int) -> None:
    # a light object (terminal speed 25 m/s) from 45 m, first seen 0.2-0.6 s after its release, tracked
    # for 2.4 s: the whole track's parabola reads drag as a < g and its apex alone put the release early
    h, a = dragged_fall(45.0, 60, skip_frames, terminal_m_s=25.0)
    t_release = 100.0 - skip_frames / FPS
    fit = fit_trajectory(track(h, a, t0=100.0, noise_px=0.3), SCALE, CFG)
    assert fit.accepted, fit.reasons()
    lo, hi = fit.release_window_s
    assert lo <= t_release <= hi, (lo, t_release, hi)
    assert hi - lo <= 1.5  # a window an officer can still use
    assert lo <= fit.release_t_s <= hi
