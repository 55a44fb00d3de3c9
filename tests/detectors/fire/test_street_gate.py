"""Gate: the weights-free flame cue (`mode: cues`, the shipped reference config) on independent street clips.

The clips come from `benchmarks.scenarios.fire_street`, a generator written apart from the detector
(no shared code, colour rule or constant; checked below): 1280x720, 10-30 fps, libx264/libx265 at
0.5-1.5 Mbit/s, day/dusk/night, flames from about 13x26 px growing to 55-80 px wide with smoke, next to
a blinking amber lamp, an orange sign, a sodium light, a red car, a person in red or a car with its
lights on. Each seed gives one fire clip (two look-alikes in view) and one clip of three look-alikes.

TUNING_SEEDS were looked at while choosing the cue's defaults; GATE_SEEDS were first run after those
defaults were fixed, and are only ever used here. A gate seed looked at for tuning moves to TUNING_SEEDS.

Measured on GATE_SEEDS (defaults of configs/reference/fire.yaml, first run after the defaults were fixed):
  fires alerted 10/10, median time to alert 2.60 s, worst 4.44 s;
  look-alike clips with a false alert 0/10; false alerts inside fire clips 1 (street-fire-108: a person
  in a hi-vis jacket pausing in front of a sunlit beige facade, which is flame-coloured and bright);
  blobs rejected as `static` 14 % (the rest `dim`, `onset`, drift).
Before issue 14 (outline flicker only) the same clips gave 5/10 fires (median 4.84 s, worst 8.68 s among
those alerted), a false alert in 1/10 look-alike clips and the same one in street-fire-108, and 84 % of
rejected blobs counted as `static`.
Asserted, with margins: at least 9/10 fires alerted (one clip), median <= 3.2 s (+0.6 s), worst <= 5.5 s
(+1.06 s); no false alert in look-alike clips (measured 0), at most 1 inside fire clips (measured 1);
`static` at most 30 % of rejections (measured 14 %).
"""

from __future__ import annotations

import ast
import os
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

import pytest

from benchmarks.fire_street_score import load_fire_config, run_clip, score_clip, summarise
from benchmarks.scenarios.fire_street import StreetClip, suite, write_clip

TUNING_SEEDS: tuple[int, ...] = tuple(range(1, 11))
"""Looked at while choosing the flame-cue defaults (inner change, hot core); never gated on."""

GATE_SEEDS: tuple[int, ...] = tuple(range(101, 111))
"""Only for this gate; never tune on these."""

GENERATOR_MODULES = ("fire_street", "street_scene", "street_fire", "street_actors", "street_paint", "street_noise")


def _cache_dir() -> Path:
    root = Path(os.environ.get("GRIDWATCH_CACHE", Path.home() / ".cache" / "gridwatch"))
    return root / "test-clips" / "fire-street"


def _score(clip: StreetClip) -> dict[str, Any]:
    files = write_clip(clip, _cache_dir())
    return score_clip(files, run_clip(files.video, load_fire_config()))


@pytest.fixture(scope="module")
def gate_rows() -> list[dict[str, Any]]:
    clips = suite(GATE_SEEDS)
    # Two workers: drawing and encoding a 1280x720 clip takes a few CPU seconds; later runs reuse the cache.
    with ProcessPoolExecutor(max_workers=2) as pool:
        return list(pool.map(_score, clips))


def test_gate_and_tuning_seeds_are_apart() -> None:
    assert not set(GATE_SEEDS) & set(TUNING_SEEDS)


def _imports(path: Path) -> list[str]:
    names: list[str] = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.append(node.module)
    return names


def test_generator_shares_no_code_with_the_detector() -> None:
    folder = Path(__file__).resolve().parents[3] / "benchmarks" / "scenarios"
    for name in GENERATOR_MODULES:
        imported = _imports(folder / f"{name}.py")
        ours = [m for m in imported if m.split(".")[0] in {"detectors", "models", "alerts", "gridwatch", "ingest"}]
        assert not ours, f"{name} imports {ours}"
        assert "benchmarks.scenarios.fire" not in imported, f"{name} imports the old generator"


@pytest.mark.slow
@pytest.mark.timeout(900)
def test_fires_are_alerted_soon_on_gate_seeds(gate_rows: list[dict[str, Any]]) -> None:
    s = summarise(gate_rows)
    detail = [(r["clip"], r["latency_s"], r["rejected"]) for r in gate_rows if r["category"] == "fire"]
    assert s["fires"] == len(GATE_SEEDS)
    assert s["fires_alerted"] >= len(GATE_SEEDS) - 1, detail
    assert s["latency_median_s"] is not None and s["latency_median_s"] <= 3.2, detail
    assert s["latency_worst_s"] is not None and s["latency_worst_s"] <= 5.5, detail


@pytest.mark.slow
@pytest.mark.timeout(900)
def test_look_alikes_raise_no_fire_alert_on_gate_seeds(gate_rows: list[dict[str, Any]]) -> None:
    s = summarise(gate_rows)
    detail = [(r["clip"], r["distractors"], r["false_alerts"]) for r in gate_rows if r["false_alerts"]]
    assert s["distractor_clips"] == len(GATE_SEEDS)
    assert s["distractor_false_alerts"] == 0, detail
    assert s["false_alerts_in_fire_clips"] <= 1, detail


@pytest.mark.slow
@pytest.mark.timeout(900)
def test_rejections_are_counted_by_reason(gate_rows: list[dict[str, Any]]) -> None:
    """The counters an operator reads say why blobs were dropped: not all 'static' any more."""
    s = summarise(gate_rows)
    rejected = s["rejected"]
    for reason in ("onset", "dim", "static"):
        assert rejected.get(reason, 0) > 0, rejected
    assert rejected["static"] <= 0.3 * sum(rejected.values()), rejected
