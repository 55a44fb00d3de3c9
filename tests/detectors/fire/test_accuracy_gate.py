"""Accuracy gate on generated scenarios the detector was NOT tuned on (`GATE_SEEDS`).

Asserted thresholds (default `FireConfig`, weights-free cues, analysis at 5 fps, real H.264):
  - every fire scenario raises a fire `start` event whose box overlaps the flame within 5.0 s of ignition;
  - zero `start` events (fire or smoke) on every distractor scenario (red car, orange sign, blinking amber
    light, sunset sky, person in red, and car + amber light together);
  - no false `start` event in the fire scenarios either (before ignition, or away from the flame).
Performance is not asserted here; `python -m benchmarks.fire_score` reports timings.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from benchmarks.fire_score import run_video, score_scenario
from benchmarks.scenarios.fire import GATE_SEEDS, FireScenario, ScenarioFiles, suite, write_scenario
from detectors.fire import FireConfig

MAX_LATENCY_S = 5.0
GATE = [s for s in suite(GATE_SEEDS) if s.category != "smoke"]


@pytest.fixture(scope="module")
def gate_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("fire-gate")


def _score(sc: FireScenario, out: Path) -> dict[str, object]:
    files: ScenarioFiles = write_scenario(sc, out)
    return score_scenario(files, run_video(files.video, FireConfig()), max_latency_s=MAX_LATENCY_S)


@pytest.mark.slow
@pytest.mark.parametrize("scenario", [s for s in GATE if s.category == "fire"], ids=lambda s: s.name)
def test_every_fire_is_alerted_within_5_s(scenario: FireScenario, gate_dir: Path) -> None:
    row = _score(scenario, gate_dir)
    assert row["alerted"], f"{scenario.name}: no fire alert ({row})"
    assert row["within_limit"], f"{scenario.name}: alert after {row['latency_s']} s ({row})"
    assert row["false_alerts"] == 0, row


@pytest.mark.slow
@pytest.mark.parametrize("scenario", [s for s in GATE if s.category == "distractor"], ids=lambda s: s.name)
def test_distractors_raise_no_alert(scenario: FireScenario, gate_dir: Path) -> None:
    row = _score(scenario, gate_dir)
    assert row["false_alerts"] == 0, f"{scenario.name}: {row}"
