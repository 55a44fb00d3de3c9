"""Accuracy gate of construction by change between surveys, on generated before/after pairs.

The pairs come from `benchmarks/scenarios/survey.py`, which shares nothing with the detector (its own
camera model through OpenCV `projectPoints`, its own WGS-84, ground renderer and palette). Each pair runs
through the construction detector as a user configures it (`survey.enabled: true`, the district's
registry, mosaics kept in a local evidence store): the before flight becomes the baseline, the after
flight is compared with it. Only the scorer (`benchmarks.survey_bench.score`) reads the truth.

Tuning seeds (never gated on): `TUNING_SEEDS` in the scenario module (11-13, 21-26, 41-52, 61-88, 91-138).
Gate seeds: 31-36. `MEASURED` holds what `python -m benchmarks.survey_bench --out var/bench/survey-gate-r10` (all
six gate seeds, run once on 2026-12-07 at commit 4dd82e4 (round 10: deck lattice period measured away from strong
edges, deck proposals with the holes their closing encloses, a failing lattice part cut at necks under 6 m where
the lattice stops at the cut, ground in shade not yellower than the ground, cut zones grown per building box);
development machine, 2 cores, nearly idle, 7,264 ha per CPU-hour) gave per seed; each pair
holds 9 new structures (5 roofs of several colours incl. one of ~31 m2, 2 excavations, 1 dust net, 1 scaffold)
plus a permitted excavation and a pending-review roof, and distractors (cars moved, another sun and exposure,
season, wet ground). Six-seed figures: 49/54 found once (roof 27/30, excavation 11/12, dust net 6/6, scaffold
5/6; named right: 27, 10, 6, 5), no duplicate, no permitted or pending-review structure alerted, 0 false changes
over 0.59 km2, position error median 1.84 m, worst 3.91 m (measured by the scorer in the generator's own frame).
Against round 9: scaffolds 32:N8 and 34:N8 found (32's errors gain 2.8 m; 34's gain one and one of its
others moves 0.2 m: 2.4 before, 2.0 and 2.2 now); seeds 31, 33, 35 and 36 print identical lines. Still missed: 34:N1, 35:N3, 35:N4 (roofs), 36:N6 (excavation), 36:N8 (scaffold); not diagnosed (gate
seeds). Exposure: a round-10 helper's screen of generator worlds printed seed 36's truth (N6 10.5 m from a 17 m
building); nothing was run or tuned on it, `SHADE_WARMER_B_MAX` was chosen on dev seed 83 alone, and 36:N6 is
still missed.
Round 9 (d482374: ground the earlier mosaic showed under a tall registered building taken whole from one
keyframe, and the later one shows bare, is not scored, `registered_relief.hidden_before`; dev seed 67's permitted
excavation had alerted merged with such a strip): 47/54 (scaffold 3/6, excavation 11/12: seed 36's N6 lost),
0 false, median 1.79 m, worst 3.91 m, 3,842 ha per CPU-hour at load (lean_cover then ran for every tall
registered building in both mosaics over the whole canvas: 25% more survey CPU on 14 dev pairs).
Round 8 (ee4d0a9, round 8's narrower cut beside tall registered buildings, lattice decks, dust-net hue test):
48/54 (excavation 12/12, named 11), 0 false, median 1.81 m, worst 3.91 m, 4,800 ha per CPU-hour.
Round 7 (d2de7ea): 46/54 (dust net 5/6, scaffold 2/6), 0 false changes over 0.53 km2, median 1.93 m.
Round 6 (3fa0dde and before): 47/54 (scaffold 3/6: seed
36's scaffold is missed since round 7; not diagnosed, a gate seed), 1 false change (1.9 per km2), median 1.84 m.
Before the parked-cars rule (status
`vehicles`, chosen on seeds 61-88 only): 5 false changes (9.5 per km2). Before commit a1376fb (a faint lattice
of tubes names a scaffold and makes a region a thing): 46/54, scaffolds 2/6 named 0, excavations named 10,
median 1.93 m. Before commit f92e4f4 (scaffold and soil naming, grid rule, shade rule, relief search near
registered structures only): 45/54, 6 false (11.4 per km2), median 2.13 m, worst 4.07 m.

Round 10, scaffold decks (branch issue-16-r10a, f9374cb; gate seeds not run): diagnosed and tuned on development
seeds 67, 72, 84, 87 (scaffold N8 missed at c6ed88b); bench runs at c6ed88b and f9374cb on 41, 61, 62, 67, 69, 72,
75, 84, 87, 91, 95, 100, 105, 110, 115, 120, 125; on 44, 47, 50, 63, 66, 70, 78, 81, 130 (run at c6ed88b) the changed
areas replayed from the captured change maps are identical to c6ed88b's. Seeds 61-125 above (16): 133/144 -> 136/144 (scaffold 11/16 -> 14/16, named
10 -> 13; 67, 72, 84 now 9/9; 87:N8 still missed), 0 false changes over 1.55 km2 before and after; seed 41 8/9 -> 9/9.

Round 10 (branch issue-16-r10b, development seeds only): misses diagnosed on 73, 75, 79, 82, 83;
`regions.SHADE_WARMER_B_MAX` chosen on seed 83 alone (its excavation N6, soil in a tall building's new shadow,
was listed removed); checked on 45 61 62 64 67 69 73 75 79 82 83 94 99 100 105 107 110 112 116 119 120 125 127
134 (each pair flown once at c6ed88b, the change's comparison rerun on the same mosaics): 203/214 -> 204/214,
0 false changes over 2.34 km2 before and after. Gate seeds not run.

Round 10, decks joined to neighbouring change (branch issue-16-r10d; gate seeds not run): diagnosed on development
seeds 87 and 125 (their decks joined to a changed patch beside them), replaying change maps captured on
issue-16-r10a; unit scenes in test_survey_decks. Bench at 2ce00b1 and after, 2026-12-07, on 61, 67, 72, 84, 87, 91,
95, 100, 105, 110, 115, 120, 125: 111/117 -> 112/117 (scaffold 11/13 -> 12/13, named 11 -> 12: 125:N8 found, error
5.4 m; 87:N8 still missed), 0 false changes over 1.27 km2 before and after, every other seed's line unchanged. The
changed areas replayed from the captured maps of 41, 44, 47, 50, 62, 63, 66, 69, 70, 75, 78, 81, 130 (and the 13
above) are identical to 2ce00b1's except 125's.

The slow tests run `GATE_SEEDS[:2]` (about 6 CPU-minutes); `test_all_six_gate_seeds` (soak) runs all six.
Both assert the measured figures of the seeds they run, with the margins below.
"""

from __future__ import annotations

import json
import math
import statistics
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import jsonschema
import numpy as np
import pytest

from alerts.kinds import construction_fields, survey_change
from alerts.schema import json_schema
from benchmarks.scenarios.survey import GATE_SEEDS, TUNING_SEEDS, make_pair
from benchmarks.survey_bench import PairRun, Score, run_pair, score
from detectors.construction.events import ConstructionDetails

pytest.importorskip("rasterio")
pytestmark = pytest.mark.timeout(900)  # the first test builds both pairs (1.5-3 minutes each on 2 shared cores)

SEEDS = GATE_SEEDS[:2]


@dataclass(frozen=True)
class Measured:
    """One gate seed's figures from the benchmark (errors rounded to 0.1 m as it prints them)."""

    found_by_kind: dict[str, int]
    named_right: int
    """Found structures whose alert names their kind."""
    false_changes: int
    errors_m: tuple[float, ...]


MEASURED: dict[int, Measured] = {
    31: Measured({"roof": 5, "bare_soil": 2, "dust_net": 1, "scaffold": 1}, 9, 0,
                 (0.8, 0.8, 1.2, 1.5, 1.6, 1.7, 2.1, 2.4, 2.4)),
    32: Measured({"roof": 5, "bare_soil": 2, "dust_net": 1, "scaffold": 1}, 9, 0,
                 (2.2, 2.3, 2.4, 2.7, 2.8, 3.0, 3.5, 3.5, 3.9)),
    33: Measured({"roof": 5, "bare_soil": 2, "dust_net": 1, "scaffold": 1}, 9, 0,
                 (0.4, 0.9, 1.0, 1.0, 1.0, 1.0, 1.4, 1.7, 1.8)),
    34: Measured({"roof": 4, "bare_soil": 2, "dust_net": 1, "scaffold": 1}, 8, 0,
                 (1.6, 1.9, 2.0, 2.2, 2.2, 2.3, 2.9, 3.6)),
    35: Measured({"roof": 3, "bare_soil": 2, "dust_net": 1, "scaffold": 1}, 6, 0,
                 (1.7, 1.8, 2.0, 2.1, 2.3, 2.4, 3.3)),
    36: Measured({"roof": 5, "bare_soil": 1, "dust_net": 1, "scaffold": 0}, 7, 0,
                 (0.9, 1.0, 1.2, 1.2, 1.2, 1.5, 1.5)),
}

MISSES_MARGIN_PER_PAIR = 0.5
"""One structure missed more than measured per two pairs passes; two more fail (18 structures per two)."""
FALSE_MARGIN_PER_PAIR = 0.5
"""One false change more than measured per two pairs (~0.19 km2 compared: ~5 per km2) passes; two fail."""
ERROR_MEDIAN_MARGIN_M = 0.5
ERROR_WORST_MARGIN_M = 1.0


def test_gate_seeds_were_never_tuning_seeds() -> None:
    assert not set(GATE_SEEDS) & set(TUNING_SEEDS)
    assert set(MEASURED) == set(GATE_SEEDS)


def _run(seeds: Sequence[int], tmp_path_factory: pytest.TempPathFactory) -> list[tuple[PairRun, Score]]:
    out = []
    for seed in seeds:
        run = run_pair(make_pair(seed), tmp_path_factory.mktemp(f"survey-{seed}"))
        out.append((run, score(run)))
    return out


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> list[tuple[PairRun, Score]]:
    return _run(SEEDS, tmp_path_factory)


def _margin(per_pair: float, runs: Sequence[tuple[PairRun, Score]]) -> int:
    return math.floor(per_pair * len(runs))


def check_found(runs: Sequence[tuple[PairRun, Score]]) -> None:
    """Every new structure alerted once, as often as measured, kind by kind, and named as what it is."""
    report = {r.seed: {"missed": s.missed, "duplicated": s.duplicated} for r, s in runs}
    assert all(not s.duplicated for _, s in runs), report
    once = sum(sum(1 for n in s.found.values() if n == 1) for _, s in runs)
    expected = sum(sum(MEASURED[r.seed].found_by_kind.values()) for r, _ in runs)
    assert once >= expected - _margin(MISSES_MARGIN_PER_PAIR, runs), (once, expected, report)
    for kind in ("roof", "bare_soil", "dust_net", "scaffold"):
        found = sum(1 for _, s in runs for t, n in s.found.items() if n >= 1 and s.kinds[t] == kind)
        measured = sum(MEASURED[r.seed].found_by_kind[kind] for r, _ in runs)
        assert found >= measured - _margin(MISSES_MARGIN_PER_PAIR, runs), (kind, found, measured, report)
    named = sum(1 for _, s in runs for t, n in s.found.items() if n >= 1 and s.named.get(t) == s.kinds[t])
    measured_named = sum(MEASURED[r.seed].named_right for r, _ in runs)
    assert named >= measured_named - _margin(MISSES_MARGIN_PER_PAIR, runs), (named, measured_named, report)
    found_kinds = {s.kinds[t] for _, s in runs for t, n in s.found.items() if n >= 1 and s.named.get(t) == s.kinds[t]}
    assert found_kinds >= {"roof", "bare_soil", "dust_net", "scaffold"}, found_kinds


def check_filtered(runs: Sequence[tuple[PairRun, Score]]) -> None:
    """Permitted and pending-review structures are seen, listed with their status, and never alerted."""
    assert all(not s.filtered_alerted for _, s in runs), [(r.seed, s.filtered_alerted) for r, s in runs]
    for run, _ in runs:
        statuses = {c.status for c in run.result.summary.changes}
        assert {"permitted", "pending_review"} & statuses, statuses


def check_false(runs: Sequence[tuple[PairRun, Score]]) -> None:
    false = sum(len(s.false_changes) for _, s in runs)
    km2 = sum(s.compared_km2 for _, s in runs)
    assert km2 > 0.07 * len(runs)  # each pair compares ~8-9.5 ha
    allowed = sum(MEASURED[r.seed].false_changes for r, _ in runs) + _margin(FALSE_MARGIN_PER_PAIR, runs)
    assert false <= allowed, (
        f"{false} false changes over {km2:.3f} km2 ({false / km2:.1f} per km2), {allowed} allowed",
        [(r.seed, c.change_id, c.kind, round(c.area_m2)) for r, s in runs for c in s.false_changes],
    )


def check_position(runs: Sequence[tuple[PairRun, Score]]) -> None:
    errors = [e for _, s in runs for e in s.errors_m.values()]
    measured = [e for r, _ in runs for e in MEASURED[r.seed].errors_m]
    assert statistics.median(errors) <= statistics.median(measured) + ERROR_MEDIAN_MARGIN_M, sorted(errors)
    assert max(errors) <= max(measured) + ERROR_WORST_MARGIN_M, sorted(errors)


@pytest.mark.slow
def test_every_new_structure_is_alerted_once(runs: list[tuple[PairRun, Score]]) -> None:
    check_found(runs)


@pytest.mark.slow
def test_permitted_and_pending_review_structures_are_not_alerted(runs: list[tuple[PairRun, Score]]) -> None:
    check_filtered(runs)


@pytest.mark.slow
def test_false_changes_per_km2(runs: list[tuple[PairRun, Score]]) -> None:
    check_false(runs)


@pytest.mark.slow
def test_position_error(runs: list[tuple[PairRun, Score]]) -> None:
    check_position(runs)


@pytest.mark.soak
@pytest.mark.timeout(3600)
def test_all_six_gate_seeds(tmp_path_factory: pytest.TempPathFactory) -> None:
    six = _run(GATE_SEEDS, tmp_path_factory)
    check_found(six)
    check_filtered(six)
    check_false(six)
    check_position(six)


@pytest.mark.slow
def test_alerts_carry_before_and_after_crops_and_validate(runs: list[tuple[PairRun, Score]]) -> None:
    validator = jsonschema.Draft202012Validator(
        json_schema()["$defs"]["ConstructionInfo"] | {"$defs": json_schema()["$defs"]}
    )
    run, _ = runs[0]
    new = [c for c in run.result.summary.changes if c.status == "new"]
    assert len(run.events) == len(new) > 0
    for event in run.events:
        assert isinstance(event.details, ConstructionDetails)
        change = survey_change(event.details.change)
        assert change is not None and change.survey_id == run.result.summary.survey_id
        assert change.previous_survey_ids == [run.result.summary.previous_ids[0]]
        for uri in (change.before_crop_uri, change.after_crop_uri):
            assert uri is not None and Path(uri.removeprefix("file://")).stat().st_size > 1000
        info = construction_fields(event)["construction"]
        validator.validate(json.loads(info.model_dump_json()))
        assert event.snapshot is not None and event.snapshot.image.shape[1] > event.snapshot.image.shape[0]
        assert event.ground is not None and math.isfinite(event.ground.accuracy_m)


@pytest.mark.slow
def test_the_survey_summary_maps_the_changes(runs: list[tuple[PairRun, Score]], tmp_path: Path) -> None:
    run, _ = runs[0]
    written = run.result.summary.write(tmp_path)
    doc = json.loads(written["geojson"].read_text())
    layers = [f["properties"]["layer"] for f in doc["features"]]
    assert layers[0] == "mosaic" and layers.count("change") == len(run.result.summary.changes)
    assert written["png"].stat().st_size > 10_000
    stored = run.store_dir / "surveys" / run.result.summary.survey_id
    assert {p.name for p in stored.iterdir()} >= {
        "mosaic.tif",
        "views.tif",
        "survey.json",
        "changes.geojson",
        "map.png",
        "summary.txt",
        "changes",
    }
    assert np.isfinite(run.result.summary.registration_rms_m) and run.result.summary.registration_rms_m < 0.6
