"""A throw tracked from rest (held or set on the sill first) is fitted from where it started to move."""

from __future__ import annotations

import numpy as np

from detectors.throw.config import TrajectoryConfig
from detectors.throw.facade_map import FlatScale
from detectors.throw.free_fall import G_M_S2
from detectors.throw.track_shape import moving_part
from detectors.throw.trajectory import fit_trajectory

FPS = 25.0
PX_PER_M = 8.0
FACADE = FlatScale(PX_PER_M, 540.0)


def rest_then_fall(rest_frames: int, fall_frames: int, seed: int = 3) -> np.ndarray:
    """(t, x, y) rows: still (0.3 px of centroid noise) for `rest_frames`, then a drop from rest at g."""
    rng = np.random.default_rng(seed)
    t = np.arange(rest_frames + fall_frames) / FPS
    fall_t = np.clip(t - (rest_frames - 1) / FPS, 0.0, None)
    y = 100.0 + 0.5 * G_M_S2 * PX_PER_M * fall_t**2 + rng.normal(0, 0.3, len(t))
    x = 400.0 + rng.normal(0, 0.3, len(t))
    return np.stack([t, x, y], 1)


def test_the_resting_start_is_cut_at_its_last_still_position() -> None:
    pts = rest_then_fall(12, 30)
    head, moving = moving_part(pts)
    assert 11 <= head <= 17  # the first 1.5 px of a drop from rest take about 5 frames at 8 px/m
    assert len(moving) == len(pts) - head


def test_the_fall_alone_reads_g_where_rest_and_fall_together_do_not() -> None:
    pts = rest_then_fall(20, 25)
    cfg = TrajectoryConfig()
    whole = fit_trajectory(pts, FACADE, cfg)
    _, moving = moving_part(pts)
    fall = fit_trajectory(moving, FACADE, cfg)
    assert not whole.accepted and whole.accel_ratio < 0.7  # the parabola through the rest flattens
    assert fall.accepted and abs(fall.accel_ratio - 1.0) < 0.1, fall.reasons()


def test_a_track_that_moves_from_its_first_position_keeps_every_position() -> None:
    pts = rest_then_fall(1, 50)[20:]  # first seen 0.8 s into its fall, 2.5 px a frame
    head, moving = moving_part(pts)
    assert head == 0 and len(moving) == len(pts)
