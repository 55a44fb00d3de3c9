"""Rain streak population and wingbeat: the two signals that tell weather and birds from a fall."""

from __future__ import annotations

import math

import numpy as np

from detectors.throw.config import WeatherConfig
from detectors.throw.weather import BlobShape, StreakPopulation, blob_shapes
from detectors.throw.wingbeat import wingbeat

FPS = 25.0


def shapes(major: np.ndarray, minor: np.ndarray, angle_deg: np.ndarray) -> BlobShape:
    return BlobShape(major.astype(np.float64), minor.astype(np.float64), np.radians(angle_deg))


def shower(rng: np.random.Generator, n: int, angle_deg: float) -> BlobShape:
    return shapes(rng.uniform(5, 20, n), rng.uniform(0.9, 2.0, n), angle_deg + rng.normal(0, 3, n))


def test_moments_give_length_width_and_direction_of_each_blob() -> None:
    # a 1 px wide vertical streak 9 px long (label 1) and a 3x3 square (label 2)
    xs = np.concatenate([np.full(9, 10.0), 20 + np.tile([0.0, 1.0, 2.0], 3)])
    ys = np.concatenate([np.arange(9.0), 30 + np.repeat([0.0, 1.0, 2.0], 3)])
    labels = np.concatenate([np.full(9, 1), np.full(9, 2)]).astype(np.int32)
    count, centre, shape = blob_shapes(labels, xs, ys, 3)
    assert count[1:].tolist() == [9, 9]
    np.testing.assert_allclose(centre[1], [10.0, 4.0])
    assert math.isclose(shape.major_px[1], 9.0, rel_tol=1e-6) and math.isclose(shape.minor_px[1], 1.0, rel_tol=1e-6)
    assert math.isclose(abs(math.degrees(shape.angle_rad[1])), 90.0, abs_tol=1e-6)
    assert math.isclose(shape.major_px[2], shape.minor_px[2])


def test_a_shower_is_learned_and_its_streaks_flagged_but_not_a_thin_falling_object() -> None:
    rng = np.random.default_rng(1)
    pop = StreakPopulation(WeatherConfig())
    for _ in range(5):
        flagged = pop.classify(shower(rng, 200, 65.0))
    assert pop.active and flagged.mean() > 0.9
    # a falling object blurred into a vertical streak, 25 degrees off the wind's slant: not rain
    probe = shapes(np.array([9.0, 9.0, 3.0]), np.array([1.5, 1.5, 2.5]), np.array([90.0, 66.0, 66.0]))
    mixed = BlobShape(
        np.concatenate([probe.major_px, shower(rng, 100, 65.0).major_px]),
        np.concatenate([probe.minor_px, np.full(100, 1.2)]),
        np.concatenate([probe.angle_rad, np.full(100, math.radians(65.0))]),
    )
    flags = pop.classify(mixed)
    assert flags[:3].tolist() == [False, True, False]  # vertical: no; aligned thin: yes; round: no


def test_thin_blobs_in_every_direction_are_no_shower() -> None:
    rng = np.random.default_rng(2)
    pop = StreakPopulation(WeatherConfig())
    for _ in range(10):
        flagged = pop.classify(shapes(rng.uniform(5, 20, 150), np.full(150, 1.2), rng.uniform(-90, 90, 150)))
        assert not flagged.any()
    assert not pop.active


def test_the_rain_is_forgotten_after_it_stops_and_can_be_switched_off() -> None:
    rng = np.random.default_rng(3)
    cfg = WeatherConfig(streak_memory_frames=5)
    pop = StreakPopulation(cfg)
    pop.classify(shower(rng, 100, 80.0))
    assert pop.active
    for _ in range(6):
        pop.classify(shower(rng, 3, 80.0))
    assert not pop.active
    off = StreakPopulation(WeatherConfig(suppress_streaks=False))
    assert not off.classify(shower(rng, 300, 80.0)).any()


def test_a_wingbeat_is_found_at_its_frequency_and_a_fall_shows_none() -> None:
    t = np.arange(30) / FPS
    wings = np.abs(np.sin(2 * np.pi * 3.5 * t))  # wings up and down: the blob pulses at 7 Hz
    flap = 6.0 + 2.0 * wings
    shade = 30.0 + 12.0 * wings  # more wing, more dark pixels in the blob
    beat = wingbeat(t, flap.astype(np.float32), shade.astype(np.float32), (3.0, 15.0))
    assert beat.share > 0.6 and abs(beat.freq_hz - 7.0) < 0.5 and beat.amplitude > 0.1
    for seed in range(20):
        rng = np.random.default_rng(seed)
        blur = 3.0 + 0.08 * np.arange(30) + rng.choice([-1.0, 0.0, 1.0], 30)  # grows with speed, pixel noise
        shade_noise = 40.0 + rng.normal(0, 4, 30)
        still = wingbeat(t, blur.astype(np.float32), shade_noise.astype(np.float32), (3.0, 15.0))
        assert still.share < 0.5, (seed, still)
