"""Accuracy gate for the throw detector on generated scenarios that were never used for tuning.

Thresholds (issue #7): recall >= 0.9 on throws from floor 3 and up; floor within ±1 for >= 0.9 of the
detected throws; no more than 1 false alert per hour of distractor video.

Seeds: unit tests and development used 0-999, tuning runs 1000-1999, benchmarks 7000-7999. Gate seeds
are 9500-9899. (A first gate on seeds 9100-9499 found one false alert: a slow leaf whose track, after a
gap, took two rain streaks. The tracker now keeps blob sizes consistent and the physics test wants the
drop seen, not inferred; those seeds are retired, not reused.)

Video tested in CI (in every part, alerts that match no throw count as false alerts):
- 2 x 90 s of 960x540 frames fed uncompressed, 18 throws each, all distractors at the default rates.
  960x540 is what the detector analyses of a 1080p camera by default (it shrinks by 2), so rendering at
  that size skips the decode and the shrink without changing what is tested.
- 24 s of 1080p H.264 (libx264 crf 26 through PyAV), decoded with FFmpeg and shrunk by the detector,
  6 throws from floor 3 up: compression and the full-resolution path.
- 300 s of 960x540 distractor-only video with doubled distractor rates and rain half the time.
In all 504 s = 0.14 h of video, so the budget of 1 false alert per hour allows none here.
The soak test (`-m soak`, excluded from CI) runs 2 h of distractor video and 1 h with 600 throws.
"""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from benchmarks.scenarios.throw import ThrowScenarioSpec, ThrowScene, ThrowScore
from benchmarks.scenarios.video import write_h264
from benchmarks.throw_bench import decode_frames, detector_for, run_detector, score_run

RECALL_MIN = 0.9
FLOOR_WITHIN_1_MIN = 0.9
MAX_FALSE_ALERTS_PER_HOUR = 1.0
GATE_MIN_FLOOR = 3

GATE_THROW_SEEDS = (9501, 9502)
GATE_ENCODED_SEED = 9601
GATE_DISTRACTOR_SEED = 9701
SOAK_DISTRACTOR_SEED = 9801
SOAK_THROW_SEED = 9802

THROW_SPECS = [ThrowScenarioSpec(seed=s, duration_s=90.0, throws=18) for s in GATE_THROW_SEEDS]
ENCODED_SPEC = ThrowScenarioSpec(
    seed=GATE_ENCODED_SEED,
    duration_s=24.0,
    width_px=1920,
    height_px=1080,
    throws=6,
    min_throw_floor=GATE_MIN_FLOOR,
)
DISTRACTOR_SPEC = ThrowScenarioSpec(
    seed=GATE_DISTRACTOR_SEED,
    duration_s=300.0,
    throws=0,
    birds_per_min=4.0,
    insects_per_min=2.0,
    leaves_per_min=4.0,
    people_per_min=12.0,
    cars_per_min=6.0,
    light_switches_per_min=12.0,
    curtains_per_min=4.0,
    rain_share=0.5,
    heavy_rain_bursts_per_hour=12.0,
    flashes_per_hour=12.0,
    exposure_steps_per_hour=40.0,
    gusts_per_hour=24.0,
)
CI_HOURS = (
    sum(s.duration_s for s in THROW_SPECS) + ENCODED_SPEC.duration_s + DISTRACTOR_SPEC.duration_s
) / 3600


def _report(name: str, s: ThrowScore) -> None:
    print(f"\n{name}: {s.as_dict()}")


def _check_throws(s: ThrowScore) -> None:
    assert s.recall_gate >= RECALL_MIN, s.as_dict()
    assert s.floor_accuracy >= FLOOR_WITHIN_1_MIN, s.as_dict()


def _false_alert_budget(hours: float) -> int:
    return math.floor(MAX_FALSE_ALERTS_PER_HOUR * hours)


def test_ci_hours_are_as_stated() -> None:
    assert pytest.approx(0.14) == CI_HOURS
    assert _false_alert_budget(CI_HOURS) == 0


@pytest.mark.slow
@pytest.mark.timeout(900)
@pytest.mark.parametrize("spec", THROW_SPECS, ids=[f"seed{s.seed}" for s in THROW_SPECS])
def test_gate_throws_uncompressed(spec: ThrowScenarioSpec) -> None:
    scene = ThrowScene(spec)
    s = score_run(scene, run_detector(detector_for(scene), scene.frames(), spec.fps), GATE_MIN_FLOOR)
    _report(f"throws seed {spec.seed}", s)
    assert s.throws_gate >= 12
    _check_throws(s)
    assert s.false_alerts <= _false_alert_budget(CI_HOURS)


@pytest.mark.slow
@pytest.mark.timeout(900)
def test_gate_throws_in_compressed_full_hd(tmp_path: Path) -> None:
    scene = ThrowScene(ENCODED_SPEC)
    video = tmp_path / "gate.mp4"
    write_h264(video, scene.frames(), ENCODED_SPEC.fps, crf=26)
    timer: list[float] = []
    det = detector_for(scene)
    s = score_run(scene, run_detector(det, decode_frames(video, timer), ENCODED_SPEC.fps), GATE_MIN_FLOOR)
    _report("encoded 1080p", s)
    assert det.stats.frames == ENCODED_SPEC.n_frames
    assert s.throws_gate == 6
    _check_throws(s)
    assert s.false_alerts <= _false_alert_budget(CI_HOURS)


@pytest.mark.slow
@pytest.mark.timeout(900)
def test_gate_distractors_raise_no_false_alerts() -> None:
    scene = ThrowScene(DISTRACTOR_SPEC)
    det = detector_for(scene)
    s = score_run(scene, run_detector(det, scene.frames(), DISTRACTOR_SPEC.fps))
    _report("distractors", s)
    assert det.stats.candidates > 0  # distractors did reach the physics test and were judged there
    assert s.false_alerts <= _false_alert_budget(CI_HOURS), s.false_alert_kinds


@pytest.mark.soak
@pytest.mark.timeout(6 * 3600)
def test_soak_two_hours_of_distractors_and_an_hour_of_throws() -> None:
    distractors = ThrowScenarioSpec(
        **{**DISTRACTOR_SPEC.__dict__, "seed": SOAK_DISTRACTOR_SEED, "duration_s": 7200.0}
    )
    throws = ThrowScenarioSpec(seed=SOAK_THROW_SEED, duration_s=3600.0, throws=600)
    hours = (distractors.duration_s + throws.duration_s) / 3600
    false = 0
    for spec in (distractors, throws):
        scene = ThrowScene(spec)
        s = score_run(scene, run_detector(detector_for(scene), scene.frames(), spec.fps), GATE_MIN_FLOOR)
        _report(f"soak seed {spec.seed}", s)
        false += s.false_alerts
        if spec.throws:
            _check_throws(s)
    assert false <= _false_alert_budget(hours)
