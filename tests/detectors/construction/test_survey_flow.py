"""The registry's change flow end to end: a survey alerts on new structures, an operator confirms them
(`gridwatch survey confirm`), and a later survey compared with the same base map does not alert on them
again; the first flight of an area alerts on nothing (it is the baseline).

Runs a gate seed's pair plus a third flight months later (another day: cars, sun, season, wet ground).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from alerts.evidence_config import EvidenceConfig
from alerts.survey_store import survey_store
from benchmarks.scenarios.survey import GATE_SEEDS, make_pair
from detectors.construction import ConstructionConfig, ConstructionDetector, FlightProcessor
from detectors.construction.events import ConstructionDetails, SurveyChangeDetails
from detectors.event import Event
from gridwatch.cli import main
from gridwatch.registered.construction import survey_recorder

pytest.importorskip("rasterio")
pytestmark = [pytest.mark.slow, pytest.mark.timeout(900)]  # three flights: ~3-5 minutes on 2 shared cores


def _change(event: Event) -> SurveyChangeDetails | None:
    """The survey change a construction event reports, if it is one."""
    return event.details.change if isinstance(event.details, ConstructionDetails) else None


def _fly(flight: object, config: ConstructionConfig, store_dir: Path) -> tuple[ConstructionDetector, list]:
    detector = ConstructionDetector(config)
    store = survey_store(EvidenceConfig.model_validate({"store": {"type": "local", "dir": str(store_dir)}}))
    detector.survey = survey_recorder(config, detector.registry, store)
    proc = FlightProcessor(detector, analysis_fps=0)
    for frame in flight.frames():  # type: ignore[attr-defined]
        proc.feed(frame)
    events = [e for e in proc.finish().events if _change(e) is not None]
    flight.texture = None  # type: ignore[attr-defined]
    return detector, events


def test_confirmed_structures_are_not_alerted_again(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    pair = make_pair(GATE_SEEDS[2])
    registry = tmp_path / "registry.geojson"
    registry.write_text(json.dumps(pair.registry_geojson()), encoding="utf-8")
    store = tmp_path / "evidence"
    cfg = ConstructionConfig.model_validate({"survey": {"enabled": True}, "registry": {"path": str(registry)},
                                             "cue": {"enabled": False}})

    detector, events = _fly(pair.before, cfg, store)
    baseline = detector.survey.results[pair.before.flight_id].summary  # type: ignore[union-attr]
    assert events == [] and baseline.previous_ids == () and baseline.mosaic_area_m2 > 5e4

    detector, events = _fly(pair.after, cfg, store)
    result = detector.survey.results[pair.after.flight_id]  # type: ignore[union-attr]
    assert result.summary.previous_ids == (baseline.survey_id,)
    new = [c for c in result.summary.changes if c.status == "new"]
    assert len(new) >= 6 and len(events) == len(new)

    changes_file = result.summary.write(tmp_path / "summary")["geojson"]
    assert main(["survey", "confirm", str(changes_file), "--registry", str(registry), "--ids", "new"]) == 0
    confirmed = capsys.readouterr().out.split()
    assert sorted(confirmed) == sorted(f"{result.summary.survey_id}/{c.change_id}" for c in new)

    # Months later, compared with the same base map: the structures are still change, now on record.
    later = ConstructionConfig.model_validate(
        {"survey": {"enabled": True, "compare_with": "baseline", "baseline_survey_id": baseline.survey_id},
         "registry": {"path": str(registry)}, "cue": {"enabled": False}})
    detector, events = _fly(pair.later(), later, store)
    third = detector.survey.results[f"survey-{pair.seed}-c"]  # type: ignore[union-attr]
    assert third.summary.previous_ids == (baseline.survey_id,)
    pending = [c for c in third.summary.changes if c.status == "pending_review"]
    report = (
        [(c.change_id, c.status, c.kind) for c in third.summary.changes],
        [(_change(e).change_kind, e.ground) for e in events]  # type: ignore[union-attr],
    )
    # Measured on this seed: 7 of the 9 confirmed structures seen again as pending_review, 2 listed as
    # `removed` (the third day's light makes them look like the ground around them: not alerted either),
    # and one alert. One structure fewer recognised, or one alert more, fails.
    assert len(pending) >= len(new) - 2, report
    assert len(events) <= 1, report
