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

Gated (issue 15; the margins are stated next to each figure):
- the focal is found within 2 % and the calibration is trusted on every flight;
- position error of every new blue roof found: at most 2.5 m at 100 m nadir and 5 m at 80 m oblique
  (the issue's targets; measured on the tuning seeds: see README);
- every new blue roof from 50 m² up is found, and at least 85 % of all of them (down to ~30 m²);
- no duplicate site and no false site (registered, permitted, distractor or nothing) on any flight;
- at least 90 % of the sites matched to a structure lie within their stated accuracy.
Scaffolds and the bare-soil construction site need a model (none ships): they are counted, not gated.
"""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest
import yaml

from benchmarks.construction import (
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
MAX_FOCAL_ERROR = 0.02
MIN_FOUND_SHARE = 0.85
ALWAYS_FOUND_M2 = 50.0
MIN_INSIDE_SHARE = 0.90

# Each focal offset flies once per flight kind, each gate seed at least once per kind; nadir +0 % goes
# through `gridwatch replay`.
CASES = [
    FlightCase("nadir", GATE_SEEDS[1], +0.1),
    FlightCase("nadir", GATE_SEEDS[2], -0.1),
    FlightCase("oblique", GATE_SEEDS[0], +0.1),
    FlightCase("oblique", GATE_SEEDS[1], -0.1),
    FlightCase("oblique", GATE_SEEDS[2], 0.0),
]
REPLAYED = FlightCase("nadir", GATE_SEEDS[0], 0.0)
FLIGHT_TIMEOUT_S = 900  # a first run renders the flight too (about a minute on an idle core)

_RESULTS: dict[str, FlightScore] = {}


def test_gate_seeds_were_not_tuned_on() -> None:
    assert not {c.seed for c in [*CASES, REPLAYED]} & set(TUNING_SEEDS)


def check_flight(kind: str, score: FlightScore) -> None:
    where = f"{score.case}: {score.row()}"
    cal = score.calibration
    assert cal.get("status") == "calibrated" and cal.get("used"), where
    assert abs(cal["focal_px"] / score.true_focal_px - 1) < MAX_FOCAL_ERROR, where
    assert score.duplicates == 0, where
    assert score.false_sites == 0, where
    assert score.max_error_m <= MAX_ERROR_M[kind], where
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
    found = sum(len(s.found) for s in every)
    new = sum(s.new_findable for s in every)
    assert found >= MIN_FOUND_SHARE * new, [s.row() for s in every]
    inside = sum(s.inside for s in every)
    placed = sum(s.placed for s in every)
    assert placed >= 30 and inside >= MIN_INSIDE_SHARE * placed, [s.row() for s in every]
