"""Accuracy gates on the independent generator: weather, camera habits, and 20 minutes of distractors.

Scenes come from `benchmarks/scenarios/facade_weather.py` (generator B: a flat facade texture laid into
the frame by a homography, its own physics, birds, rain, snow and infrared night), which shares no code
with the detector or with `benchmarks/scenarios/throw.py` (generator A, which the detector was tuned on).
The detector is configured as an operator would: the facade's four corners and a sky mask; the rest is
default (the OSD mask included). Scoring is strict (`benchmarks/scenarios/throw_score.py`): one alert per
throw, every other alert false, no facade position no match.

Seeds (never gate on a tuning seed):
- generator A 1000-1999: tuning (this round's weather work used 1101-1107);
- generator B 2000-2099: development (renders looked at, the detector run on 2001-2003; the missed-throw
  diagnosis behind EXPECTED_AT ran on 2001-2005, clear, and 2002/2004 in heavy rain and snow);
- generator B 2101-2107: the figures reported by `python -m benchmarks.throw_weather` (1280x720);
- generator B 2200-2299: these gates; 2900-2917: the 3 h soak; 2950-2951: the 20-minute soak here.

The gates assert the figures measured on these seeds (commit noted in EXPECTED_AT) with a stated margin:
one throw for recall and for floor accuracy per scene, no extra false alert. Scenes render at 960x540,
the size the detector analyses a 1080p camera at, to keep the suite cheap; the reported figures use
1280x720.
"""

from __future__ import annotations

import os
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import cv2
import pytest

from benchmarks.scenarios.facade_weather import FacadeWeatherScene, WeatherSceneSpec, cached_video
from benchmarks.scenarios.throw_score import ThrowScore
from benchmarks.throw_weather import (
    CONDITIONS,
    HABITS,
    SOAK_DISTRACTORS,
    base_spec,
    decoded_with_pts,
    detector_for_scene,
    play,
    play_encoded,
    run_timed,
    score_scene,
)

GATE_SIZE = (960, 540)
RECALL_MARGIN_THROWS = 1
FLOOR_MARGIN_THROWS = 1
EXPECTED_AT = "5ce83ce"
"""The detector code the EXPECTED weather and habit figures were measured with (re-measure when it changes).
At 46c05cb they were clear 6, light rain 4, heavy rain 4, snow 6 (+1 false alert), night 5 of 8; habits
3,3,2,4,4,2,3,3,3 of 5. 5ce83ce (falling tracks coast over 6 unseen frames, the resting head is cut before
the fit; diagnosed on development seeds 2002-2005) raised clear, night and the habit rows and removed
snow's false alert; the rain rows did not move (their misses are not diagnosed yet)."""

WEATHER_SEEDS = {name: 2201 + k for k, name in enumerate(CONDITIONS)}
WEATHER_SECONDS, WEATHER_THROWS = 60.0, 8
EXPECTED_WEATHER: dict[str, tuple[int, int, int, int]] = {
    # condition: (throws from floor >= 3, detected, floor within 1 among detected, false alerts)
    "clear": (8, 7, 7, 0),
    "rain_light": (8, 4, 4, 0),
    "rain_heavy": (8, 4, 4, 0),
    "snow": (8, 6, 6, 0),
    "night_ir": (8, 7, 7, 0),
}

HABIT_NAMES = list(HABITS)
HABIT_SEED = 2211
HABIT_SECONDS, HABIT_THROWS = 40.0, 5
EXPECTED_HABITS: dict[str, tuple[int, int, int, int]] = {
    # habit: as EXPECTED_WEATHER; one seed for all, so each row reads against the baseline (the fps rows
    # render the same throws at another frame rate)
    "baseline (raw frames)": (5, 4, 4, 0),
    "H.264 800 kbps": (5, 3, 3, 0),
    "H.265 400 kbps": (5, 2, 2, 0),
    "15 fps": (5, 5, 5, 0),
    "30 fps": (5, 4, 4, 0),
    "variable frame timing (±35 %, 8 % dropped)": (5, 4, 4, 0),
    "interlaced fields": (5, 4, 4, 0),
    "OSD not masked": (5, 4, 4, 0),
    "auto-exposure pumping ±12 %": (5, 4, 4, 0),
}

SOAK_SEEDS = (2950, 2951)
SOAK_CONDITIONS = ("rain_heavy", "night_ir")
SOAK_CHUNK_S = 600.0
EXPECTED_SOAK_FALSE_ALERTS = 1
"""As measured at 46c05cb (NOT re-measured at EXPECTED_AT: its 40-minute first run did not fit that round):
one false alert (a track over laundry, a leaf and a person) in the 20 minutes,
3 per hour. The issue's target, under 1 per distractor-hour, would be 0 here: NOT met yet. Lower this to 0
when the laundry false alerts are fixed."""


def _check(s: ThrowScore, expected: tuple[int, int, int, int]) -> None:
    throws, detected, floor_ok, false = expected
    assert s.throws_gate == throws, s.as_dict()
    assert s.detected_gate >= detected - RECALL_MARGIN_THROWS, s.as_dict()
    assert s.floor_within_1_gate >= floor_ok - FLOOR_MARGIN_THROWS, s.as_dict()
    assert s.false_alerts <= false, s.as_dict()


@pytest.mark.slow
@pytest.mark.timeout(600)
@pytest.mark.parametrize("condition", list(CONDITIONS))
def test_gate_by_weather(condition: str) -> None:
    cv2.setNumThreads(1)
    spec = base_spec(
        WEATHER_SEEDS[condition], WEATHER_SECONDS, WEATHER_THROWS, GATE_SIZE, min_throw_floor=3, **CONDITIONS[condition]
    )
    s = play(spec)
    print(f"\n{condition}: {s.as_dict()}")
    _check(s, EXPECTED_WEATHER[condition])


@pytest.mark.slow
@pytest.mark.timeout(600)
@pytest.mark.parametrize("habit", HABIT_NAMES)
def test_gate_by_camera_habit(habit: str, tmp_path: Path) -> None:
    cv2.setNumThreads(1)
    change, codec, kbps, overrides = HABITS[habit]
    spec = base_spec(HABIT_SEED, HABIT_SECONDS, HABIT_THROWS, GATE_SIZE, min_throw_floor=3, **change)
    s = play(spec, overrides) if codec is None else play_encoded(spec, codec, kbps, overrides, workdir=tmp_path)
    print(f"\n{habit}: {s.as_dict()}")
    _check(s, EXPECTED_HABITS[habit])


def _soak_chunk(spec: WeatherSceneSpec) -> ThrowScore:
    cv2.setNumThreads(1)
    video = cached_video(spec)
    scene = FacadeWeatherScene(spec)
    return score_scene(scene, run_timed(detector_for_scene(scene), decoded_with_pts(video)))


@pytest.mark.soak  # about 6 min from the cache, 40 min on a first run: outside `make test` (`pytest -m soak`)
@pytest.mark.timeout(2400)
def test_twenty_minutes_of_distractors_false_alerts_as_measured() -> None:
    """The 3 h soak's CI version: 2 x 10 min (heavy rain, infrared night), rendered once and cached.

    The first run renders and encodes (about 4 CPU-minutes per chunk, the two chunks in parallel); later
    runs decode the cached files (`$GRIDWATCH_CACHE/scenarios/facade-weather`)."""
    specs = [
        base_spec(seed, SOAK_CHUNK_S, 0, GATE_SIZE, **{**SOAK_DISTRACTORS, **CONDITIONS[cond]})
        for seed, cond in zip(SOAK_SEEDS, SOAK_CONDITIONS, strict=True)
    ]
    workers = min(2, os.cpu_count() or 1)
    with ProcessPoolExecutor(workers) as ex:
        scores = list(ex.map(_soak_chunk, specs))
    false = sum(s.false_alerts for s in scores)
    kinds = [k for s in scores for k in s.false_alert_kinds]
    print(f"\nsoak 20 min: {false} false alerts {kinds}")
    assert sum(s.hours for s in scores) == pytest.approx(20 / 60)
    assert false <= EXPECTED_SOAK_FALSE_ALERTS, kinds
