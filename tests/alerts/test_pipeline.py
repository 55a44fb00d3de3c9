"""Event -> Alert through the whole pipeline (real SQLite outbox, local evidence store, sample grid)."""

import json
import time
from pathlib import Path

import jsonschema
import pytest

from alerts.config import SiteConfig
from alerts.gcj02 import wgs84_to_gcj02
from alerts.outbox_rows import Ack, OutboxFullError
from alerts.pipeline import AlertPipeline
from alerts.schema import alert_id_for, load_schema
from detectors.event import EventKind, GeoMethod, Phase
from tests.alerts.factories import (
    MG_A_LAT,
    MG_A_LON,
    MG_B_LAT,
    MG_B_LON,
    alerts_config,
    event,
    fire_details,
    throw_event,
)

VALIDATOR = jsonschema.Draft202012Validator(load_schema())


@pytest.fixture
def grid_path(repo_root: Path) -> str:
    return str(repo_root / "configs" / "grid" / "sample-district.geojson")


def pipeline(tmp_path: Path, grid_path: str | None = None, **sections: object) -> AlertPipeline:
    if grid_path:
        sections.setdefault("grid", {"path": grid_path})
    cfg = alerts_config(tmp_path, **sections)
    return AlertPipeline(cfg, node_id="node-7", config_version="cfg-abc")


def test_fire_event_becomes_a_geotagged_valid_alert_in_the_outbox(tmp_path: Path, grid_path: str) -> None:
    p = pipeline(tmp_path, grid_path)
    ev = event(
        EventKind.FIRE, source_id="cam-12", incident_id="f-1", area_m2=4.5, details=fire_details(growth_ratio=1.8)
    )
    alert = p.handle(ev)
    assert alert is not None
    assert alert.alert_id == alert_id_for("cam-12", "fire", "f-1", "start", 0)
    assert (alert.kind, alert.phase, alert.update_seq, alert.source) == (
        EventKind.FIRE,
        Phase.START,
        0,
        "cam-12",
    )
    loc = alert.location
    assert loc is not None and (loc.lat, loc.lon, loc.crs) == (MG_A_LAT, MG_A_LON, "EPSG:4326")
    assert (loc.gcj02.lat, loc.gcj02.lon) == wgs84_to_gcj02(MG_A_LAT, MG_A_LON)
    assert (loc.geo_method, loc.accuracy_m) == (GeoMethod.GROUND_HOMOGRAPHY, 5.0)
    assert alert.grid_cell is not None and (alert.grid_cell.id, alert.grid_cell.source) == ("SJ-02-08-02-1", "lookup")
    assert alert.fire is not None and (alert.fire.area_m2, alert.fire.growth_ratio) == (4.5, 1.8)
    assert alert.throw is None and alert.construction is None
    assert alert.model is not None and alert.model.name == "fire-yolov8n"
    assert (alert.node_id, alert.config_version) == ("node-7", "cfg-abc")
    assert alert.reasons == {"frames_confirmed": 5, "mean_score": 0.81}
    row = p.outbox.get(alert.alert_id)
    assert row is not None and row.payload == alert.to_json_bytes() and row.status == "stored"
    VALIDATOR.validate(json.loads(row.payload))


def test_uncalibrated_camera_uses_its_site(tmp_path: Path, grid_path: str) -> None:
    p = pipeline(tmp_path, grid_path)
    fixed = SiteConfig(
        lat_deg=MG_A_LAT,
        lon_deg=MG_A_LON,
        accuracy_m=150.0,
        grid_cell_id="SJ-01-01-01-1",
        address_hint="12 Lake Rd, roof camera",
    )
    a = p.handle(event(source_id="cam-1", lat=None, lon=None), site=fixed)
    assert a is not None and a.location is not None
    assert (a.location.geo_method, a.location.accuracy_m) == (GeoMethod.CAMERA_POSITION, 150.0)
    assert a.location.address_hint == "12 Lake Rd, roof camera"
    assert a.grid_cell is not None and (a.grid_cell.id, a.grid_cell.name, a.grid_cell.source) == (
        "SJ-01-01-01-1",
        "甲01-01-1微网格",
        "site",
    )
    looked_up = SiteConfig(lat_deg=MG_B_LAT, lon_deg=MG_B_LON)
    b = p.handle(
        event(source_id="cam-2", incident_id="x", lat=None, lon=None, t=1_700_009_000.0), site=looked_up
    )
    assert (
        b is not None
        and b.grid_cell is not None
        and (b.grid_cell.id, b.grid_cell.source) == ("SJ-03-09-04-4", "lookup")
    )
    # a measured position outside every cell falls back to the camera's fixed cell
    c = p.handle(
        event(source_id="cam-3", incident_id="y", lat=34.90, lon=113.40, t=1_700_019_000.0), site=fixed
    )
    assert c is not None and c.grid_cell is not None and c.grid_cell.id == "SJ-01-01-01-1"
    assert c.location is not None and c.location.geo_method == GeoMethod.GROUND_HOMOGRAPHY
    d = p.handle(event(source_id="cam-4", incident_id="z", lat=None, lon=None, t=1_700_029_000.0))
    assert d is not None and d.location is None and d.grid_cell is None
    assert p.stats.without_location == 1
    VALIDATOR.validate(json.loads(d.to_json_bytes()))


def test_throw_and_construction_fields(tmp_path: Path, grid_path: str) -> None:
    p = pipeline(tmp_path, grid_path)
    t = p.handle(throw_event(source_id="cam-facade", incident_id="t1"))
    assert t is not None and t.throw is not None
    assert (t.throw.floor, t.throw.floor_uncertainty, t.throw.facade_column) == (11, 1, "B")
    assert t.throw.trajectory_px == [(0.0, 100.0, 20.0), (0.1, 101.0, 40.0), (0.2, 102.0, 80.0)]
    assert t.location is not None and t.location.geo_method == GeoMethod.FACADE_HOMOGRAPHY
    fp = ((113.2741, 34.8098), (113.2746, 34.8098), (113.2746, 34.8102), (113.2741, 34.8102))
    c = p.handle(
        event(
            EventKind.CONSTRUCTION,
            source_id="flight-20240501-01",
            incident_id="s1",
            footprint_lonlat=fp,
            area_m2=1850.0,
            method=GeoMethod.DRONE_RAY,
        )
    )
    assert c is not None and c.construction is not None and c.construction.footprint is not None
    ring = c.construction.footprint.coordinates[0]
    assert ring[0] == ring[-1] == (113.2741, 34.8098) and len(ring) == 5
    assert c.construction.area_m2 == 1850.0
    for a in (t, c):
        VALIDATOR.validate(json.loads(a.to_json_bytes()))


def test_two_cameras_one_fire_gives_one_incident_and_handling_twice_is_idempotent(tmp_path: Path) -> None:
    p = pipeline(tmp_path)
    a = p.handle(event(source_id="cam-A", incident_id="a1"))
    b = p.handle(event(source_id="cam-B", incident_id="b1", lat=MG_A_LAT + 0.0003, t=1_700_000_010.0))
    assert a is not None and b is not None
    assert b.incident_id == a.incident_id and (b.phase, b.update_seq) == (Phase.UPDATE, 1)
    assert b.incident_sources == ["cam-A", "cam-B"] and b.source_incident_id == "b1"
    assert p.stats.merged == 1
    # the same detector event handled again (e.g. a replayed file) maps to the same alert id and row
    total = p.outbox.stats().total
    again = p.handle(event(source_id="cam-C", incident_id="c1", lat=30.2, lon=120.0))
    assert again is not None and p.outbox.stats().total == total + 1
    p2 = p.handle(
        event(source_id="cam-C", incident_id="c1", lat=30.2, lon=120.0, phase=Phase.UPDATE, t=1_700_000_100.0)
    )
    assert p2 is not None and p2.alert_id != again.alert_id and p2.incident_id == again.incident_id


def test_full_outbox_refuses_loudly_and_leaves_dedup_unchanged(tmp_path: Path) -> None:
    p = pipeline(tmp_path, outbox={"max_rows": 10}, kafka={"bootstrap_servers": ["127.0.0.1:1"]})
    for i in range(10):
        assert p.handle(event(source_id=f"cam-{i}", incident_id="x", lat=30.0 + i, lon=120.0)) is not None
    ev = event(source_id="cam-new", incident_id="n1", lat=31.5, lon=121.0)
    with pytest.raises(OutboxFullError):
        p.handle(ev)
    assert p.stats.refused["outbox_full"] == 1 and len(p.deduper) == 10
    rows = p.outbox.pending(5)
    p.outbox.mark_sent([Ack(r.seq, 0, r.seq, 1.0) for r in rows])
    retry = p.handle(ev)
    assert retry is not None and retry.phase == Phase.START  # as if the refused attempt never happened


def test_incidents_survive_a_restart(tmp_path: Path) -> None:
    cfg_args = {
        "dedup": {
            "construction": {"radius_m": 40, "window_s": 90 * 86400, "cooldown_s": 0, "emit_end": False}
        }
    }
    now = time.time()
    p = pipeline(tmp_path, **cfg_args)
    first = p.handle(event(EventKind.CONSTRUCTION, source_id="flight-1", incident_id="s1", t=now - 3 * 86400))
    p.close()
    p2 = pipeline(tmp_path, **cfg_args)  # restores incidents seen within the longest window
    later = p2.handle(event(EventKind.CONSTRUCTION, source_id="flight-2", incident_id="s3", t=now))
    assert first is not None and later is not None
    assert later.incident_id == first.incident_id and later.phase == Phase.UPDATE
