"""Track time-series measures: growth, drift, on/off share and periodicity."""

from __future__ import annotations

import math

import numpy as np

from detectors.fire.temporal import drift, growth_rate_per_s, off_share, periodicity


def test_growth_rate_recovers_exponential_growth() -> None:
    t = np.linspace(0, 4, 21)
    areas = 100.0 * np.exp(math.log(1.3) * t)  # +30 % per second
    assert abs(growth_rate_per_s(t, areas) - 0.3) < 1e-6
    assert abs(growth_rate_per_s(t, np.full_like(t, 50.0))) < 1e-12
    assert growth_rate_per_s(t[:2], areas[:2]) == 0.0  # too few points to say


def test_drift_separates_a_mover_from_a_jittering_fire() -> None:
    t = np.arange(8) * 0.2
    sizes = np.full(8, 20.0)
    car = np.column_stack([100 + 60 * t, np.full(8, 200.0)])  # 60 px/s for 1.4 s: 84 px = 4.2 sizes
    assert abs(drift(t, car, sizes) - 4.2) < 1e-6
    rng = np.random.default_rng(0)
    fire = np.column_stack([100 + rng.normal(0, 6, 8), 200 + rng.normal(0, 3, 8)])
    assert drift(t, fire, sizes) < 0.6
    windows = np.array([[100, 200], [140, 200], [100, 200], [140, 200], [100, 200], [140, 200]], float)
    assert drift(t[:6], windows, sizes[:6]) < 0.6  # jumping between two burning windows is no trend


def test_off_share_counts_dark_frames() -> None:
    lamp = np.array([50, 52, 0, 1, 49, 51, 0, 0], float)
    assert off_share(lamp) == 0.5
    assert off_share(np.array([40, 55, 38, 60, 47], float)) == 0.0
    assert off_share(np.zeros(5)) == 1.0


def test_periodicity_high_for_a_blinking_lamp_low_for_flicker() -> None:
    lamp = np.tile([60.0, 60.0, 60.0, 0.0, 0.0, 0.0], 4)
    assert periodicity(lamp) > 0.9
    rng = np.random.default_rng(3)
    flicker = 100 + rng.normal(0, 15, 24)
    assert periodicity(flicker) < 0.6
    assert periodicity(np.full(24, 7.0)) == 0.0
    assert periodicity(lamp[:5]) == 0.0  # too short
