"""Each real detector, run on a generated scene as a user would configure it, yields alerts whose every
documented field is filled.

"Documented" is the alert schema (`alerts/alert.schema.json`, generated from `alerts/schema.py`): the
fields are walked from the schema, so a field added there is checked here without editing this test.
A field may be null only where the schema's own description says so, listed in `MAY_BE_NULL` with the
reason. The kind-specific sub-object (`fire`, `throw`, `construction`) is read through the detector's
typed details (`detectors/<name>/events.py` → `alerts/kinds.py`): this is the check that would have
caught `fire.growth_ratio` always null (issue 14).

Scenes (no model anywhere, so `model` is null by the schema's "if any"): fire `cues` mode on the fire
scenario generator (`benchmarks/scenarios/fire.py`, TUNING seed 11, rendered without H.264 to stay fast;
not an accuracy gate, so no gate seed is spent); throw on the throw scenario generator
(`benchmarks/scenarios/throw.py`, development seed 21 as in tests/detectors/throw); construction on the
synthetic nadir flight of tests/detectors/construction/synth.py. The grid is one made-up cell around all
three places with every level and an officer team, so the grid fields can be filled (lookup accuracy is
tests/alerts/test_district.py's job).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from alerts.config import SiteConfig
from alerts.pipeline import AlertPipeline
from alerts.schema import Alert, load_schema
from benchmarks.scenarios.fire import make_scenario, render
from benchmarks.scenarios.throw import ThrowScene
from benchmarks.scenarios.throw_spec import ThrowScenarioSpec
from benchmarks.throw_bench import detector_for, run_detector
from detectors.construction import ConstructionDetector
from detectors.event import Event, EventKind, Phase
from detectors.fire import FireConfig, FireDetector
from detectors.geometry.geodesy import enu_to_wgs84
from detectors.geometry.ground import GroundCalibration
from ingest.frame import Frame
from tests.alerts.factories import MG_A_LAT, MG_A_LON, alerts_config
from tests.detectors.construction.synth import config as construction_config
from tests.detectors.construction.synth import flight

T0 = 1_760_000_000.0
FIRE_SEED = 11  # a TUNING seed of benchmarks/scenarios/fire.py (field presence, not accuracy)
THROW_SPEC = ThrowScenarioSpec(seed=21, duration_s=12.0, throws=2, min_throw_floor=6, birds_per_min=3.0)

MAY_BE_NULL: dict[str, str] = {
    "model": "schema: 'Model that contributed, if any'; every scene here runs weights-free",
    "evidence.clip_uri": "needs the source's packet ring (a ClipSource); the service e2e covers clips",
    "evidence.clip_start_pts_s": "as clip_uri",
    "evidence.clip_end_pts_s": "as clip_uri",
    "case_category.scheme": "schema: 'null if none' (the placeholder classes have no code list)",
    "case_category.major_code": "schema: 'null where not known'",
    "case_category.minor_code": "schema: 'null where not known'",
    "construction.change": "schema: 'absent otherwise' (only sites found as change between surveys)",
}
"""Documented fields that may be null on these scenes, with the schema's reason."""


def _grid_file(tmp: Path) -> Path:
    """One made-up cell (every level, an officer team) around the three scenes' places."""
    ring = [[110.0, 28.0], [125.0, 28.0], [125.0, 38.0], [110.0, 38.0], [110.0, 28.0]]
    props = {"id": "T-1-1-1-1", "name": "测试微网格", "street_id": "T-1", "street_name": "测试街道",
             "community_id": "T-1-1", "community_name": "测试社区", "grid_id": "T-1-1-1", "grid_name": "测试网格",
             "officer_team": "OT-TEST"}
    doc = {"type": "FeatureCollection",
           "features": [{"type": "Feature", "properties": props, "geometry": {"type": "Polygon", "coordinates": [ring]}}]}
    path = tmp / "grid.geojson"
    path.write_text(json.dumps(doc, ensure_ascii=False), encoding="utf-8")
    return path


def _pipeline(tmp: Path) -> AlertPipeline:
    grid = {"path": str(_grid_file(tmp)), "officer_team_property": "officer_team", "levels": {
        "street": {"id_property": "street_id", "name_property": "street_name"},
        "community": {"id_property": "community_id", "name_property": "community_name"},
        "grid": {"id_property": "grid_id", "name_property": "grid_name"},
        "micro_grid": {"id_property": "id", "name_property": "name"}}}
    return AlertPipeline(alerts_config(tmp, grid=grid), node_id="node-t", config_version="v-t")


SITE = SiteConfig(lat_deg=MG_A_LAT, lon_deg=MG_A_LON, accuracy_m=30.0, address_hint="测试路 1 号")


def _fire_events() -> list[Event]:
    sc = make_scenario("fire", FIRE_SEED)
    pts = []
    for (x, y), (east, north) in zip([(0, sc.height), (sc.width, sc.height), (0, sc.height // 2),
                                       (sc.width, sc.height // 2)], [(0, 0), (30, 0), (0, 40), (30, 40)], strict=True):
        lat, lon = enu_to_wgs84(MG_A_LAT, MG_A_LON, east, north)
        pts.append({"image_xy_px": (x, y), "lat_deg": float(lat), "lon_deg": float(lon)})
    cfg = FireConfig.model_validate({"mode": "cues"})
    det = FireDetector(cfg, ground=GroundCalibration.model_validate({"points": pts}), camera_id="cam-fire")
    step = max(1, round(sc.fps / cfg.analysis_fps))
    events: list[Event] = []
    last = T0
    for i, (image, _) in enumerate(render(sc)):
        if i % step:
            continue
        frame = Frame("cam-fire", i, T0 + i / sc.fps, i / sc.fps, image)
        events += det.process(frame, None)
        last = frame.captured_at
    return events + det.flush(last + 1.0)


def _throw_events() -> list[Event]:
    scene = ThrowScene(THROW_SPEC)
    return run_detector(detector_for(scene, camera_id="cam-throw"), scene.frames(), THROW_SPEC.fps).events


def _construction_events() -> list[Event]:
    det = ConstructionDetector(construction_config())
    events: list[Event] = []
    for frame in flight():
        events += det.process(frame, None)
    return events + det.flush(now=1.78e9 + 100)


def _walk(value: Any, schema: dict[str, Any], defs: dict[str, Any], path: str) -> Iterator[tuple[str, Any]]:
    """(dotted path, value) of every documented field under `value`, nested objects included."""
    if "$ref" in schema:
        schema = defs[schema["$ref"].rsplit("/", 1)[-1]]
    options = schema.get("anyOf", [])
    ref = next((o for o in options if "$ref" in o), None)
    if ref is not None:
        schema = defs[ref["$ref"].rsplit("/", 1)[-1]]
    for name in schema.get("properties", {}) if isinstance(value, dict) else ():
        field_path = f"{path}.{name}" if path else name
        yield field_path, value.get(name)
        yield from _walk(value.get(name), schema["properties"][name], defs, field_path)


def _empty_fields(alert: Alert) -> list[str]:
    schema = load_schema()
    own = {"fire": "fire", "smoke": "fire", "throw": "throw", "construction": "construction"}[alert.kind.value]
    others = {"fire", "throw", "construction"} - {own}  # schema: "Kind `x` only"
    data = json.loads(alert.model_dump_json())
    empty = []
    for path, value in _walk(data, schema, schema["$defs"], ""):
        top = path.split(".")[0]
        if top in others or path in MAY_BE_NULL:
            continue
        if path == "ended_at" and alert.phase is not Phase.END:
            continue  # schema: "phase end only"
        if path == "location.address_hint" and alert.kind is EventKind.CONSTRUCTION:
            continue  # schema: "from the camera's site, if any": a drone flight has no site
        if value is None or value in ([], {}):
            empty.append(path)
    return empty


@pytest.mark.parametrize(
    ("kind", "run", "site"),
    [("fire", _fire_events, SITE), ("throw", _throw_events, SITE), ("construction", _construction_events, None)],
)
def test_every_documented_field_of_a_real_detectors_alerts_is_filled(
    tmp_path: Path, kind: str, run: Any, site: SiteConfig | None
) -> None:
    events: list[Event] = run()
    assert {e.phase for e in events} >= {Phase.START, Phase.END}, [(e.kind, e.phase) for e in events]
    pipeline = _pipeline(tmp_path)
    try:
        alerts = [a for e in events if (a := pipeline.handle(e, site=site)) is not None]
    finally:
        pipeline.close()
    # a construction site's end is not alerted by default (alerts.dedup.construction.emit_end)
    assert {a.phase for a in alerts} >= ({Phase.START} if kind == "construction" else {Phase.START, Phase.END})
    assert {a.kind.value for a in alerts} <= ({"fire", "smoke"} if kind == "fire" else {kind})
    problems = {f"{a.phase.value}#{a.update_seq}": empty for a in alerts if (empty := _empty_fields(a))}
    assert problems == {}
