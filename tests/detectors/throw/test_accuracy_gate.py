"""Accuracy gate for the throw detector on generator A's scenes, with seeds that were never used for tuning.

Generator A (`benchmarks/scenarios/throw.py`) is the one the detector was tuned on (seeds 1000-1999); the
gates on the independent generator B, by weather and camera habit, and its distractor soak live in
`test_weather_gate.py`. Seeds: unit tests and development used 0-999, tuning runs 1000-1999, benchmarks
7000-7999. Gate seeds are 9500-9899 (9100-9499 retired after a first gate found a false alert).

Scoring is strict (`benchmarks/scenarios/throw_score.py`): one-to-one assignment, every unmatched alert is
false wherever it falls, an alert without a facade position cannot match.

Video tested in CI:
- 2 x 90 s of 960x540 frames fed uncompressed, 18 throws each, all distractors at the default rates
  (light rain 15 % of the time, heavy rain bursts, flashes, exposure steps, gusts). 960x540 is what the
  detector analyses of a 1080p camera by default (it shrinks by 2).
- 24 s of 1080p H.264 (libx264 crf 26 through PyAV), decoded with FFmpeg and shrunk by the detector,
  6 throws from floor 3 up: compression and the full-resolution path.
The gates assert the measured figures (EXPECTED, on these seeds) with a margin of one throw.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from benchmarks.scenarios.throw import ThrowScene
from benchmarks.scenarios.throw_score import ThrowScore
from benchmarks.scenarios.throw_spec import ThrowScenarioSpec
from benchmarks.scenarios.video import write_h264
from benchmarks.throw_bench import decode_frames, detector_for, run_detector, score_run

GATE_MIN_FLOOR = 3
MARGIN_THROWS = 1

GATE_THROW_SEEDS = (9501, 9502)
GATE_ENCODED_SEED = 9601

THROW_SPECS = [ThrowScenarioSpec(seed=s, duration_s=90.0, throws=18) for s in GATE_THROW_SEEDS]
ENCODED_SPEC = ThrowScenarioSpec(
    seed=GATE_ENCODED_SEED,
    duration_s=24.0,
    width_px=1920,
    height_px=1080,
    throws=6,
    min_throw_floor=GATE_MIN_FLOOR,
)
EXPECTED: dict[int, tuple[int, int, int, int]] = {
    # seed: (throws from floor >= 3, detected, floor within 1 among detected, false alerts), measured at
    # 46c05cb and again, the same, at e946758 (release read at g) and at 7415f63 (a fall must be seen late)
    # with the default configuration plus the scene's calibration
    9501: (18, 18, 18, 0),
    9502: (15, 15, 15, 0),
    9601: (6, 6, 6, 0),
}


def _check(seed: int, s: ThrowScore) -> None:
    print(f"\nseed {seed}: {s.as_dict()}")
    throws, detected, floor_ok, false = EXPECTED[seed]
    assert s.throws_gate == throws, s.as_dict()
    assert s.detected_gate >= detected - MARGIN_THROWS, s.as_dict()
    assert s.floor_within_1_gate >= floor_ok - MARGIN_THROWS, s.as_dict()
    assert s.false_alerts <= false, s.false_alert_kinds


@pytest.mark.slow
@pytest.mark.timeout(900)
@pytest.mark.parametrize("spec", THROW_SPECS, ids=[f"seed{s.seed}" for s in THROW_SPECS])
def test_gate_throws_uncompressed(spec: ThrowScenarioSpec) -> None:
    scene = ThrowScene(spec)
    _check(spec.seed, score_run(scene, run_detector(detector_for(scene), scene.frames(), spec.fps), GATE_MIN_FLOOR))


@pytest.mark.slow
@pytest.mark.timeout(900)
def test_gate_throws_in_compressed_full_hd(tmp_path: Path) -> None:
    scene = ThrowScene(ENCODED_SPEC)
    video = tmp_path / "gate.mp4"
    write_h264(video, scene.frames(), ENCODED_SPEC.fps, crf=26)
    timer: list[float] = []
    det = detector_for(scene)
    s = score_run(scene, run_detector(det, decode_frames(video, timer), ENCODED_SPEC.fps), GATE_MIN_FLOOR)
    assert det.stats.frames == ENCODED_SPEC.n_frames
    _check(ENCODED_SPEC.seed, s)
