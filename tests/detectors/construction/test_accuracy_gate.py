"""Accuracy gates of the construction detector on generated flights never used for tuning.

The flights (benchmarks/scenarios/drone.py, GATE_SEEDS; TUNING_SEEDS 1-3 were used to tune) are 1920x1080
H.264 at 1 fps over a district in Shangjie, Zhengzhou, drawn by the generator's own camera (OpenCV
projection, explicit focal in pixels, scipy rotations; no code shared with detectors/) with the camera
mounted 0.6-1.5 degrees off its reported attitude, a compass 1-3 degrees off, GNSS drift and an altitude
bias. The *true* focal is 0 %, +10 % or -10 % off what the user's configuration implies, so the
self-calibration has to find it. The detector is configured as a user configures it: the reference YAML
plus the flight's `drone_model` and registry file - one flight goes through `gridwatch replay` with a
config file, exactly as an operator runs it. Frames come through ingest (PyAV, DJI SRT parser). Only
`benchmarks.construction.score_flight` reads the truth.

Gated (issue 15): each figure measured on exactly these flights (`python -m benchmarks.construction --gate`,
2026-12-06, 2-core dev VM; the runs are seeded, the margins absorb OpenCV/BLAS differences between
machines), and never looser than the issue's targets:
- the focal is found within the measured error + 0.5 percentage point (measured worst: nadir 1.06 %,
  oblique 0.52 %), and the calibration is trusted on every flight;
- position error of the new blue roofs found, per flight: median within measured + 0.3 m (worst flight's
  median: nadir 0.89 m, oblique 0.48 m), worst within measured + 0.5 m (nadir 1.20 m, oblique 0.94 m),
  both inside the issue's targets (2.5 m at 100 m nadir, 5 m at 80 m oblique);
- found within 5 m: measured 30 of 30 new roofs (5 per flight, about 30-150 m²); gated at 29 of 30, and every
  roof from 50 m² up on every flight;
- no duplicate, no false site, no permitted roof alerted (measured: none on any flight);
- the true position inside the stated accuracy for at least 90 % of placed sites (measured 54/54), and the
  stated radii no wider than measured (median 3.49 m) + 0.5 m: honest, and not honest by being vague.
Scaffolds and the bare-soil construction site need a model (none ships): they are counted, not gated.
"""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest
import yaml

from benchmarks.construction import (
    GATE_CASES,
    REFERENCE_CONFIG,
    USER_OVERRIDES,
    FlightCase,
    FlightScore,
    run_and_score,
    score_flight,
)
from benchmarks.scenarios.drone import GATE_SEEDS, TUNING_SEEDS

pytestmark = pytest.mark.slow

MAX_ERROR_M = {"nadir": 2.5, "oblique": 5.0}
"""The issue's targets for the worst position error."""
MAX_FOCAL_ERROR = 0.02
ALWAYS_FOUND_M2 = 50.0
MIN_INSIDE_SHARE = 0.90
"""The issue's honesty requirement."""

# Measured on the gate flights (see the module docstring) and the margin each gate allows over it.
MEASURED_FOCAL_ERROR_PCT = {"nadir": 1.06, "oblique": 0.52}
FOCAL_MARGIN_PCT = 0.5
MEASURED_MEDIAN_ERROR_M = {"nadir": 0.89, "oblique": 0.48}
MEDIAN_MARGIN_M = 0.3
MEASURED_WORST_ERROR_M = {"nadir": 1.20, "oblique": 0.94}
WORST_MARGIN_M = 0.5
MEASURED_FOUND_WITHIN_5M = 30
FOUND_MARGIN = 1
MEASURED_STATED_MEDIAN_M = 3.49
STATED_MARGIN_M = 0.5

# Each focal offset flies once per flight kind, each gate seed once per kind (GATE_CASES); nadir +0 % goes
# through `gridwatch replay`. Tuned on TUNING_SEEDS = (1, 2, 3) only; gated on GATE_SEEDS = (101, 102, 103).
REPLAYED = FlightCase("nadir", GATE_SEEDS[0], 0.0)
CASES = [c for c in GATE_CASES if c != REPLAYED]
FLIGHT_TIMEOUT_S = 900  # a first run renders the flight too (about a minute on an idle core)

_RESULTS: dict[str, FlightScore] = {}


def test_gate_seeds_were_not_tuned_on() -> None:
    assert TUNING_SEEDS == (1, 2, 3) and GATE_SEEDS == (101, 102, 103)
    assert REPLAYED in GATE_CASES and len(CASES) == len(GATE_CASES) - 1
    assert not {c.seed for c in [*CASES, REPLAYED]} & set(TUNING_SEEDS)


def check_flight(kind: str, score: FlightScore) -> None:
    where = f"{score.case}: {score.row()}"
    cal = score.calibration
    assert cal.get("status") == "calibrated" and cal.get("used"), where
    assert abs(cal["focal_px"] / score.true_focal_px - 1) < MAX_FOCAL_ERROR, where
    assert 100 * abs(score.focal_error) <= MEASURED_FOCAL_ERROR_PCT[kind] + FOCAL_MARGIN_PCT, where
    assert score.duplicates == 0, where
    assert score.false_sites == 0 and not score.permitted_alerted, where
    assert score.max_error_m <= MAX_ERROR_M[kind], where
    assert score.max_error_m <= MEASURED_WORST_ERROR_M[kind] + WORST_MARGIN_M, where
    assert score.median_error_m <= MEASURED_MEDIAN_ERROR_M[kind] + MEDIAN_MARGIN_M, where
    big = [sid for sid in score.missed if score.areas[sid.split("(")[0]] >= ALWAYS_FOUND_M2]
    assert not big, where
    assert score.new_sites == score.starts, where  # every new site was alerted once


@pytest.fixture(scope="module")
def gate_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("gate")


def flight_score(case: FlightCase, out: Path) -> FlightScore:
    if case.name not in _RESULTS:
        _RESULTS[case.name], _ = run_and_score(case, out)
        print(_RESULTS[case.name].row())
    return _RESULTS[case.name]


@pytest.mark.timeout(FLIGHT_TIMEOUT_S)
@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_gate_flight(case: FlightCase, gate_dir: Path) -> None:
    check_flight(case.kind, flight_score(case, gate_dir))


def replay_flight(case: FlightCase, workdir: Path) -> tuple[FlightScore, list[dict[str, object]]]:
    """The flight through `gridwatch replay` with a config file an operator would write."""
    from gridwatch.config import load_config
    from gridwatch.replay import replay

    files = case.files()
    reference = yaml.safe_load(REFERENCE_CONFIG.read_text(encoding="utf-8"))
    overrides = yaml.safe_load(USER_OVERRIDES[case.kind])
    overrides["registry"] = {"path": str(files.registry)}
    config = {
        "service": {"metrics": {"enabled": False}},
        "detectors": reference["detectors"],
        "cameras": [{"id": "drone-01", "source": {"url": str(files.video), "telemetry": str(files.srt)},
                     "detectors": {"construction": overrides}}],
        "alerts": {"outbox": {"path": str(workdir / "outbox.sqlite3")}, "dedup": {"enabled": False}},
    }
    path = workdir / "flight.yaml"
    path.write_text(yaml.safe_dump(config, sort_keys=False), encoding="utf-8")
    out = io.StringIO()
    replay(files.video, load_config(path), "drone-01", telemetry=files.srt, out=out, evidence_dir=workdir / "ev")
    alerts = [json.loads(line) for line in out.getvalue().splitlines()]
    summaries = list((workdir / "ev").glob("*.geojson"))
    assert len(summaries) == 1, summaries
    starts = sum(1 for a in alerts if a["phase"] == "start")
    return score_flight(files.truth, summaries[0], starts, case.name), alerts


@pytest.fixture(scope="module")
def replayed(tmp_path_factory: pytest.TempPathFactory) -> tuple[FlightScore, list[dict[str, object]]]:
    return replay_flight(REPLAYED, tmp_path_factory.mktemp("replay"))


@pytest.mark.timeout(FLIGHT_TIMEOUT_S)
def test_gate_flight_through_gridwatch_replay(replayed: tuple[FlightScore, list[dict[str, object]]]) -> None:
    score, alerts = replayed
    print(score.row())
    check_flight(REPLAYED.kind, score)
    assert alerts and all(a["location"]["geo_method"] == "drone_ray" for a in alerts)  # type: ignore[index]


@pytest.mark.timeout(len(CASES) * FLIGHT_TIMEOUT_S)
def test_gate_totals(gate_dir: Path, replayed: tuple[FlightScore, list[dict[str, object]]]) -> None:
    every = [*(flight_score(c, gate_dir) for c in CASES), replayed[0]]
    rows = [s.row() for s in every]
    within = sum(s.found_within for s in every)
    assert sum(s.new_findable for s in every) == MEASURED_FOUND_WITHIN_5M, rows
    assert within >= MEASURED_FOUND_WITHIN_5M - FOUND_MARGIN, rows
    inside = sum(s.inside for s in every)
    placed = sum(s.placed for s in every)
    assert placed >= 30 and inside >= MIN_INSIDE_SHARE * placed, rows
    stated = sorted(x for s in every for x in s.stated_m)
    assert stated[len(stated) // 2] <= MEASURED_STATED_MEDIAN_M + STATED_MARGIN_M, rows
