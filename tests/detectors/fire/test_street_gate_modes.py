"""Gate: `both` mode with the fetched trained weights on the independent street clips, against `model` and `cues`.

The clips are those of `test_street_gate.py` (generator `benchmarks.scenarios.fire_street`, written apart
from the detector; GATE_SEEDS only, never tuned on). Each mode runs as a user configures it: the fire
section of `configs/reference/fire.yaml` with its `mode` set and, for `model`/`both`, `model: fire-smoke`
(the fetched weights at `precision: auto`, i.e. INT8 since its stored agreement passed). All modes read the
same decoded frames and the same model detections (`benchmarks.fire_modes.score_street`); the street
scorer alone reads the ground truth, at the event level: a fire `start` on the flame after ignition is
found, every other `start` (a smoke `start` on the real plume included) is a false alert.

Measured on GATE_SEEDS (INT8, `python -m benchmarks.fire_modes --real ../shared/testdata-real --scenes none
--variants model,cues,both --skip speed,furg,intel,roboflow --street 110 109 ... 101`, 2 busy cores):
  model: fires 9/10 (street-fire-109 missed), median 2.13 s, worst 6.48 s; false alerts in 3/10 look-alike
         clips (street-distractor-106, -107, -108), 0 in fire clips;
  cues:  fires 10/10, median 2.60 s, worst 4.44 s; 0/10 look-alike clips; 1 false alert in fire clips
         (street-fire-108, the hi-vis jacket of test_street_gate.py);
  both (the shipped rule, with the still-smoke test `fusion.model_smoke_min_change: 2.0`; measured
         2026-12-06 beside both-any-smoke, `--variants both,both-any-smoke --skip speed,roboflow
         --precision int8 --street 101 ... 110`): fires 10/10, median 2.30 s, worst 3.88 s, 0/10 look-alike
         clips, 0 in fire clips. The threshold was chosen on TUNING_SEEDS 1-10 only: there every smoke
         track the model alone kept was a still band of sky at the top of the frame, its inside change
         above its ring -0.6 to 1.1 grey levels; FURG house6's real smoke read 4.4-4.9 (not tuned to it:
         2.0 is about twice the highest still value);
  both-any-smoke (the rule before, `model_smoke_min_change: 0`; same run): fires 10/10, median 2.30 s,
         worst 3.88 s; false alerts in 3/10 look-alike clips (-106, -107, -108: the model's smoke on a
         still band of sky), 0 in fire clips.
  both-smoke-rises (`both-any-smoke` with `fusion.model_smoke_must_rise: true`, an alternative rule; chosen on
         TUNING_SEEDS 1, 6, 7, 8, where every look-alike alert was a model-only smoke start on a still band
         of sky; measured once here, same command with `--variants model,cues,both,both-smoke-rises`):
         fires 10/10, median 2.30 s, worst 3.88 s, 0/10 look-alike clips, 0 in fire clips. It is not the
         default: on FURG house6 its first alert came at 4.6 s instead of 1.4 s (README "Measured").
  both-sky-grows (`both-any-smoke` with `fusion.model_smoke_top_edge_share: 0.03`: only smoke boxes along the top
         edge must grow or rise; band chosen on TUNING_SEEDS 1, 6, 7, 8; measured once here with
         `--variants both,both-smoke-rises,both-sky-grows`): fires 10/10, median 2.30 s, worst 3.88 s,
         0/10 look-alike clips, 0 in fire clips. Not the default either: FURG's first alert 4.6 s.
Asserted per mode: fires alerted at most one clip fewer, median and
worst at most LATENCY_MARGIN_S later, false-alert counts no higher than measured.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

from benchmarks.fire_detections import DetectionStore
from benchmarks.fire_modes import score_street, street_configs
from benchmarks.fire_street_score import summarise
from benchmarks.fire_variants import MAIN_VARIANTS
from tests.detectors.fire.test_street_gate import GATE_SEEDS, TUNING_SEEDS

MEASURED: dict[str, dict[str, Any]] = {
    "model": {"fires_alerted": 9, "latency_median_s": 2.13, "latency_worst_s": 6.48,
              "distractor_clips_with_false_alert": 3, "false_alerts_in_fire_clips": 0},
    "cues": {"fires_alerted": 10, "latency_median_s": 2.60, "latency_worst_s": 4.44,
             "distractor_clips_with_false_alert": 0, "false_alerts_in_fire_clips": 1},
    "both": {"fires_alerted": 10, "latency_median_s": 2.30, "latency_worst_s": 3.88,
             "distractor_clips_with_false_alert": 0, "false_alerts_in_fire_clips": 0},
    "both-any-smoke": {"fires_alerted": 10, "latency_median_s": 2.30, "latency_worst_s": 3.88,
                       "distractor_clips_with_false_alert": 3, "false_alerts_in_fire_clips": 0},
    "both-smoke-rises": {"fires_alerted": 10, "latency_median_s": 2.30, "latency_worst_s": 3.88,
                         "distractor_clips_with_false_alert": 0, "false_alerts_in_fire_clips": 0},
    "both-sky-grows": {"fires_alerted": 10, "latency_median_s": 2.30, "latency_worst_s": 3.88,
                       "distractor_clips_with_false_alert": 0, "false_alerts_in_fire_clips": 0},
}
FIRES_MARGIN = 1
"""Fires alerted may be one clip fewer than measured."""
LATENCY_MARGIN_S = 0.6
"""Median and worst time to alert may each be this much later than measured (frame timing, a busy host)."""


def _cache_dir() -> Path:
    root = Path(os.environ.get("GRIDWATCH_CACHE", Path.home() / ".cache" / "gridwatch"))
    return root / "test-clips" / "fire-street"


@pytest.fixture(scope="module")
def street(fire_store: DetectionStore) -> dict[str, dict[str, Any]]:
    rows = score_street(GATE_SEEDS, street_configs(names=(*MAIN_VARIANTS, "both-any-smoke", "both-smoke-rises",
                                                         "both-sky-grows")), fire_store,
                        _cache_dir())
    return {mode: {**summarise(r), "rows": r} for mode, r in rows.items()}


def test_gate_seeds_were_not_tuned_on() -> None:
    assert not set(GATE_SEEDS) & set(TUNING_SEEDS)


@pytest.mark.soak  # the model over 20 clips: 15-20 min on 2 cores, so outside `make test` (`pytest -m soak`);
# the cue mode on the same clips is gated in `make test` by test_street_gate.py
@pytest.mark.timeout(1800)
@pytest.mark.parametrize("mode", ["model", "cues", "both", "both-any-smoke", "both-smoke-rises", "both-sky-grows"])
def test_street_fires_alerted_latency_and_false_alerts_per_mode(street: dict[str, dict[str, Any]], mode: str) -> None:
    s, want = street[mode], MEASURED[mode]
    detail = [(r["clip"], r["latency_s"], r["false_alerts"]) for r in s["rows"]]
    assert s["fires"] == len(GATE_SEEDS) and s["distractor_clips"] == len(GATE_SEEDS)
    assert s["fires_alerted"] >= want["fires_alerted"] - FIRES_MARGIN, detail
    assert s["latency_median_s"] <= want["latency_median_s"] + LATENCY_MARGIN_S, detail
    assert s["latency_worst_s"] <= want["latency_worst_s"] + LATENCY_MARGIN_S, detail
    assert s["distractor_clips_with_false_alert"] <= want["distractor_clips_with_false_alert"], detail
    assert s["false_alerts_in_fire_clips"] <= want["false_alerts_in_fire_clips"], detail
