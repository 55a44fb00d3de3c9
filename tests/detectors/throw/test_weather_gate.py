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
  diagnosis behind 5ce83ce ran on 2001-2005, clear, and 2002/2004 in heavy rain and snow; the rain
  diagnosis and the release window of EXPECTED_AT ran on 2011-2015: heavy rain 2011-2013, light rain
  2014-2015, clear 2011-2014);
- generator B 2101-2107: the figures reported by `python -m benchmarks.throw_weather` (1280x720);
- generator B 2200-2299: these gates; 2950-2951: the 20-minute soak here;
- generator B 2900-2903: tuning (the first 40 minutes of a 3 h soak; its two false alerts, seeds 2901 and
  2902, were diagnosed and `trajectory.min_late_seen_share` set from them); 2904-2917 are spent (that run
  stopped at 2904 on a generator bug, fixed in 754e24c); 3100-3117: the 3 h soak run once, never tuned on
  (a held-out record: its alerts are not opened).
- generator B 3200-3213: tuning (issue 17, round 6), 960x540: 10-minute soak chunks (distractor rates of
  `SOAK_DISTRACTORS`) in heavy rain 3200-3204 and infrared night 3205-3209, of which only 3200 (3 false
  alerts) and 3205 (2) were run to the end; 120 s scenes with 12 throws in heavy rain 3210, 3212, 3213 and
  infrared night 3211. `trajectory.min_late_seen_chance_z`, `min_size_kept_ratio` and
  `min_release_height_m` were set from these; 3300-3317: the 3 h soak started at 41282f0, never tuned on.
- generator B 3400-3413 and 3499: tuning (issue 17, round 7), 960x540: 10-minute soak chunks (rates of
  `SOAK_DISTRACTORS`) in heavy rain 3400-3405 and infrared night 3406-3411, of which 3400 and 3401 were run
  to the end (3 and 2 false alerts at main), 3402 and 3406 (0 each at f789faa), the rest not rendered;
  120 s scenes with 12 throws in heavy rain 3412 and infrared night 3413; 3499 (4 s, heavy rain, a smoke
  test of the diagnosis script). `trajectory.max_sideways_gain_ratio` and `max_late_streak_share` were set
  from these, 3200's chain and 2901's (the unit tests hold both) and the throws of 3210-3211.
- generator B 3500-3517: the 3 h soak run once at 54119a3 (the detector of 26a6fe8), never looked at or
  tuned on (a held-out record): 8 false alerts in 3.0 h (2.7 per hour).
- generator B 3600-3611: tuning (issue 17, round 8), 960x540, 10-minute soak chunks (rates of
  `SOAK_DISTRACTORS`): infrared night 3600-3607, snow 3608-3611. Run to the end at main (c9fd264): 3600
  (2 false alerts), 3601 (0), 3602 (1), 3603 (1), 3608 (0), 3609 (0); the four alerts, chains over a car,
  laundry and a person, fitted 1.12-1.45 g, and `trajectory.faster_than_g_tolerance_ratio` and
  `faster_than_g_sigmas` were set from them and from the throws found on generator A's tuning seeds
  1101-1102 (90 s, 18 throws each, run with the check off: up to 1.10 g). With the check (8f91239): 3600 1
  (its second chain fits 1.21 g at 11 positions, then 1.04 g at 12 and passes), 3602 0, 3603 0, 3604 0
  (not run before). 3605-3607 and 3610-3611 were not rendered. Heavy-rain tuning scenes 3210, 3212, 3213
  and 3412 (120 s, 12 throws) found the same throws with the check on and off.
- generator B 3700-3717: the 3 h soak started once at 08b177f (the detector of 8f91239), 2026-12-07 13:23
  -13:58 UTC, `--workers 2`, `nice -n 5`; never looked at or tuned on (a held-out record): 3 false alerts in
  3.0 h (1.0 per hour), all on heavy-rain chunk 3712.
- generator B 3800, 3801 and 3403-3405: tuning (issue 17, round 9), 960x540, 10-minute heavy-rain soak chunks
  (rates of `SOAK_DISTRACTORS`), run at main by a session whose branch was lost (as reported): 1 false alert, on
  3404 (a chain over a bird, laundry and a person at 156.5 s, z 0.69). Re-run here (3404, and IR-night 3600,
  the 120 s scenes 3210-3213, 3412-3413 and generator A's 1101-1102, each with the old and the new setting on
  the same frames): `trajectory.min_late_seen_chance_z` 0.5 -> 0.9 removes 3404's chain and no other alert
  changes (3600 keeps its chain: z 4.0). 3802-3899 are reserved for tuning and were not rendered.
- generator B 3900-3917: the 3 h soak started once at 16:12 UTC 2026-12-07 (the detector of 840deb3, round
  9's chance-z 0.9, run from a `git archive` copy of it), `--workers 2`, `nice -n 5`, ended 17:05; never looked
  at or tuned on (a held-out record): 1 false alert in 3.0 h (0.33 per hour), on snow chunk 3913.

The gates assert the figures measured on these seeds (commit noted in EXPECTED_AT) with a stated margin:
one throw for recall and for floor accuracy per scene, no extra false alert. Scenes render at 960x540,
the size the detector analyses a 1080p camera at, to keep the suite cheap; the reported figures use
1280x720.

Each weather row has its own seed, so rows differ by their throws as well as by their weather. Read the
rain rows with that in mind: on the same throws rain costs little (measured at b7a7b8a, 60 s, 8 throws
from floor 3 up): seed 2201 gives 7/8 clear, 7/8 light rain, 7/8 heavy rain; seed 2202 gives 4/8 clear
and 4/8 light rain; seed 2203 gives 6/8 clear and 4/8 heavy rain. Every rain miss on the development
seeds 2011-2015 (7 of 30 throws) was missed in clear weather too (2015, which missed none, was not run
clear): objects within a few grey levels of the wall behind them (seed 2012's throw from floor 14:
|frame - background| 5-17 grey levels at most frames against a threshold of 14-36), not streak handling. Heavy rain on 2203 loses two throws that clear weather finds; not diagnosed
(a gate seed).
"""

from __future__ import annotations

import os
import time
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
EXPECTED_AT = "26a6fe8"  # and the round-8 check (faster_than_g): heavy rain 3 of 8 there; round 9 the same
"""The detector code the EXPECTED weather and habit figures were measured with (re-measure when it changes).
At 46c05cb they were clear 6, light rain 4, heavy rain 4, snow 6 (+1 false alert), night 5 of 8; habits
3,3,2,4,4,2,3,3,3 of 5. 5ce83ce (falling tracks coast over 6 unseen frames, the resting head is cut before
the fit; diagnosed on development seeds 2002-2005) raised clear, night and the habit rows and removed
snow's false alert. e946758 (the release read from the first positions at g, and a release window) moved
release heights and times: every weather and habit row re-measured there gave the same throws found, the
same floors within 1 and no false alert (one floor error of -1 under interlacing, still within 1). The
H.265 row ran past this test's 600 s limit on the shared 2-core machine at load ~13 (libx265); measured
through the same `play_encoded` without the limit it gave 2 of 5, as before. 7415f63 (a fall must be seen
late: `trajectory.min_late_seen_share`) re-measured every weather row and the habit rows but H.265 in this
test (`pytest -k "gate_by_weather or (gate_by_camera_habit and not H.265)"`): the same throws found, the
same floors, no false alert; H.265 through `play_encoded` without the limit: 2 of 5, floors right, no false alert, as before. 41282f0 (issue 17
round 6: the chance-chain count test, the shrinking-blob test, the below-ground release test; tuned on seeds
3200-3213) re-measured every weather and habit row here, H.265 included (within the limit, at load ~16-20),
and generator A's gate: the same throws found, the same floors, no false alert. On the way, fa64a89 (the
first form of the chance test, a discount of the late seen share) lost one heavy-rain throw (3 of 8, within
the margin); its count form (b288396) found 4 of 8 again, as the figures say. 26a6fe8 (issue 17 round
7: a fall may not gain sideways speed, `trajectory.max_sideways_gain_ratio`, nor be mostly rain streaks
late, `max_late_streak_share`; tuned on seeds 2901, 3200, 3210-3211 and 3400-3413) re-measured every
weather and habit row here, H.265 included, and generator A's gate (`test_accuracy_gate.py`: 18/18,
15/15, 6/6): the same throws found, the same floors, no false alert (f789faa, the first check alone,
gave the same on every row too). Round 8 (issue 17: a calibrated track may not fall faster than g,
`trajectory.faster_than_g_tolerance_ratio` 0.1 and `faster_than_g_sigmas` 1.35; tuned on seeds 3600-3603
and generator A's 1101-1102) re-measured every weather and habit row here, H.265 included, and generator A's
gate (18/18, 15/15, 6/6) on the shared 2-core machine at load ~14: every row the same except heavy rain, 3 of 8
found (was 4; within the margin, floors right, no false alert; not diagnosed: a gate seed). A first setting
(0.05 g, 1.2 standard errors) gave the same rows but generator A's seed 9501 at 17 of 18. A sticky form (a
track once too fast never judged again; it removed tuning seed 3600's last chain, and no throw on tuning seeds
1101-1102, 3210-3211, 3412-3413 was ever too fast before its alert) lost a throw on each of generator A's gate
seeds (9501 17/18, 9502 14/15) and was dropped. Round 9 (issue 17: `trajectory.min_late_seen_chance_z` 0.5 -> 0.9;
tuned on seeds 3404 and 3210-3213, 3412-3413, 1101-1102) re-measured every weather and habit row here, H.265
included, and generator A's gate (18/18, 15/15, 6/6) at 840deb3 on the shared 2-core machine at load ~10-17: every
row the same throws found, the same floors, no false alert; the 20-minute soak below 0 false alerts (detector CPU
130 s and 108 s per chunk, the chunks rendered anew: 1,601 s wall for this file, 179 s for generator A's)."""

WEATHER_SEEDS = {name: 2201 + k for k, name in enumerate(CONDITIONS)}
WEATHER_SECONDS, WEATHER_THROWS = 60.0, 8
EXPECTED_WEATHER: dict[str, tuple[int, int, int, int]] = {
    # condition: (throws from floor >= 3, detected, floor within 1 among detected, false alerts)
    "clear": (8, 7, 7, 0),
    "rain_light": (8, 4, 4, 0),
    "rain_heavy": (8, 3, 3, 0),  # 4 before round 8's faster-than-g check (26a6fe8)
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
EXPECTED_SOAK_FALSE_ALERTS = 0
"""Measured at 4094253 (2026-12-07, the throw detector of 41282f0): no false alert in the 20 minutes, detector
CPU 136 s and 115 s per chunk from the cache; again 0 in the full `.ci/run` at fe85808, detector of 26a6fe8, 134 s
wall for the test (earlier: 0 at e946758; one, a track over laundry, a leaf and a
person, at 46c05cb). No margin: the input is the same cached video every run, and one false alert here is
already 3 per hour, three times the issue's target of under 1 per distractor-hour."""


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


def _soak_chunk(spec: WeatherSceneSpec) -> tuple[ThrowScore, float]:
    """One chunk's score and the CPU seconds its detector run took (decode included, render not)."""
    cv2.setNumThreads(1)
    video = cached_video(spec)
    scene = FacadeWeatherScene(spec)
    t0 = time.process_time()
    score = score_scene(scene, run_timed(detector_for_scene(scene), decoded_with_pts(video)))
    return score, time.process_time() - t0


@pytest.mark.slow  # from the cache ~2.3 min wall on two idle cores; a first run renders ~4 CPU-min per chunk
@pytest.mark.timeout(2400)
def test_twenty_minutes_of_distractors_false_alerts_as_measured() -> None:
    """The 3 h soak's CI version: 2 x 10 min (heavy rain, infrared night), rendered once and cached.

    The first run renders and encodes (about 4 CPU-minutes per chunk, the two chunks in parallel); later
    runs decode the cached files (`$GRIDWATCH_CACHE/scenarios/facade-weather`), encoded for fast decoding,
    and cost a decode and a detector run per chunk (CPU seconds printed; 136 s and 115 s measured), the two
    chunks in two processes."""
    specs = [
        base_spec(seed, SOAK_CHUNK_S, 0, GATE_SIZE, **{**SOAK_DISTRACTORS, **CONDITIONS[cond]})
        for seed, cond in zip(SOAK_SEEDS, SOAK_CONDITIONS, strict=True)
    ]
    workers = min(2, os.cpu_count() or 1)
    with ProcessPoolExecutor(workers) as ex:
        runs = list(ex.map(_soak_chunk, specs))
    scores = [s for s, _ in runs]
    false = sum(s.false_alerts for s in scores)
    kinds = [k for s in scores for k in s.false_alert_kinds]
    print(f"\nsoak 20 min: {false} false alerts {kinds}; detector CPU s per chunk {[round(c) for _, c in runs]}")
    assert sum(s.hours for s in scores) == pytest.approx(20 / 60)
    assert false <= EXPECTED_SOAK_FALSE_ALERTS, kinds
