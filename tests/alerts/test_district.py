"""The made-up sample district at Shangjie's location: its files, lookups over 1,887 micro-grids, and the
district fields of an alert (every level, officer team, routing key, event class)."""

import collections
import json
import logging
from pathlib import Path
from typing import Any

import cv2
import jsonschema
import numpy as np
import pytest
import shapely

from alerts.config import CaseCategoriesConfig, GridConfig, SiteConfig
from alerts.enrich import GridLookup, grid_index_from_config
from alerts.grid import AreaRef, GridIndex, GridLevel
from alerts.pipeline import AlertPipeline
from alerts.schema import load_schema
from detectors.event import EventKind, GeoMethod
from foundation.yamlsafe import load_yaml_file
from tests.alerts.factories import MG_A_LAT, MG_A_LON, MG_B_LAT, MG_B_LON, alerts_config, event, throw_event

LEVELS = {
    "street": {"id_property": "street_id", "name_property": "street_name"},
    "community": {"id_property": "community_id", "name_property": "community_name"},
    "grid": {"id_property": "grid_id", "name_property": "grid_name"},
    "micro_grid": {"id_property": "id", "name_property": "name"},
}


def grid_config(repo_root: Path, datum: str = "wgs84") -> dict[str, Any]:
    name = "sample-district.geojson" if datum == "wgs84" else "sample-district.gcj02.geojson"
    return {"path": str(repo_root / "configs" / "grid" / name), "coordinates": datum, "levels": LEVELS,
            "officer_team_property": "officer_team"}


@pytest.fixture(scope="module")
def district(repo_root: Path) -> GridIndex:
    index = grid_index_from_config(GridConfig.model_validate(grid_config(repo_root)))
    assert index is not None
    return index


@pytest.fixture(scope="module")
def features(repo_root: Path) -> list[dict[str, Any]]:
    data = json.loads((repo_root / "configs" / "grid" / "sample-district.geojson").read_text(encoding="utf-8"))
    return list(data["features"])


def test_files_are_labelled_made_up_and_sit_at_shangjie(repo_root: Path, features: list[dict[str, Any]]) -> None:
    for name in ("sample-district.geojson", "sample-district.gcj02.geojson"):
        data = json.loads((repo_root / "configs" / "grid" / name).read_text(encoding="utf-8"))
        assert data["made_up"] is True and "MADE UP" in data["name"] and "MADE UP" in data["description"]
        assert "Shangjie" in data["description"]
        assert (repo_root / "configs" / "grid" / name).stat().st_size < 3_000_000
    assert "MADE UP" in (repo_root / "configs" / "grid" / "README.md").read_text(encoding="utf-8")
    coords = np.concatenate([np.asarray(f["geometry"]["coordinates"][0]) for f in features])
    lon, lat = coords.mean(axis=0)
    assert abs(lat - 34.80) < 0.02 and abs(lon - 113.29) < 0.02


def test_levels_and_counts_follow_the_real_district(district: GridIndex) -> None:
    assert len(district) == 1887
    levels = [dict(c.levels) for c in district.cells]
    grids = collections.Counter(lv[GridLevel.GRID].id for lv in levels)
    assert len(grids) == 401 and min(grids.values()) >= 2
    assert abs(1887 / 401 - np.mean(list(grids.values()))) < 1e-9
    assert len({lv[GridLevel.COMMUNITY].id for lv in levels}) == 62
    assert len({lv[GridLevel.STREET].id for lv in levels}) == 6
    for cell, lv in zip(district.cells, levels, strict=True):
        # each level nests in the one above (ids are hierarchical), and the micro-grid is the cell itself
        assert lv[GridLevel.MICRO_GRID] == AreaRef(cell.cell_id, cell.name)
        assert cell.cell_id.startswith(lv[GridLevel.GRID].id + "-")
        assert lv[GridLevel.GRID].id.startswith(lv[GridLevel.COMMUNITY].id + "-")
        assert lv[GridLevel.COMMUNITY].id.startswith(lv[GridLevel.STREET].id + "-")
        assert cell.officer_team
    # a grid id always comes with the same community (nesting is consistent across features)
    parents = {(lv[GridLevel.GRID].id, lv[GridLevel.COMMUNITY].id) for lv in levels}
    assert len(parents) == 401


def test_lookups_over_the_district_agree_with_opencv(features: list[dict[str, Any]], district: GridIndex) -> None:
    """Random points over the district's bounding box; OpenCV's pointPolygonTest is the oracle both for
    the cell found and for points found in no cell."""
    rings = [np.asarray(f["geometry"]["coordinates"][0], np.float64) for f in features]
    assert all(f["geometry"]["type"] == "Polygon" and len(f["geometry"]["coordinates"]) == 1 for f in features)
    lo = np.min([r.min(axis=0) for r in rings], axis=0)
    hi = np.max([r.max(axis=0) for r in rings], axis=0)
    boxes = np.array([[*r.min(axis=0), *r.max(axis=0)] for r in rings])
    rng = np.random.default_rng(2105)
    px, py = rng.uniform(lo[0], hi[0], 4000), rng.uniform(lo[1], hi[1], 4000)
    got = district.lookup_many(py, px)
    scale = 1e5  # degrees -> ~1 m units, kept small for OpenCV's float32

    def inside(c: int, k: int) -> float:
        poly = ((rings[c] - lo) * scale).astype(np.float32)
        return float(cv2.pointPolygonTest(poly, ((px[k] - lo[0]) * scale, (py[k] - lo[1]) * scale), True))

    found = checked = 0
    for k in range(px.size):
        if got[k] >= 0:
            found += 1
            d = inside(int(got[k]), k)
            assert d > -1e-2, f"point {k} reported in {district.cells[got[k]]} but OpenCV puts it outside"
            checked += d > 1e-2
        else:
            near = np.flatnonzero((boxes[:, 0] <= px[k]) & (px[k] <= boxes[:, 2])
                                  & (boxes[:, 1] <= py[k]) & (py[k] <= boxes[:, 3]))
            assert all(inside(int(c), k) < 1e-2 for c in near), f"point {k} is inside a cell OpenCV knows"
    assert 0.5 * px.size < found < px.size and checked > 0.99 * found


def test_gcj02_variant_gives_the_same_cells(
    repo_root: Path, district: GridIndex, features: list[dict[str, Any]]
) -> None:
    """WGS-84 positions looked up in the GCJ-02 file (converted first) land in the same micro-grids, but
    within a metre of a boundary, where the files' 1e-6° (~0.1 m) rounding may tip a point either way."""
    gcj = grid_index_from_config(GridConfig.model_validate(grid_config(repo_root, "gcj02")))
    wgs, converted = GridLookup(district, "wgs84"), GridLookup(gcj, "gcj02")
    outlines = {f["properties"]["id"]: shapely.LineString(f["geometry"]["coordinates"][0]) for f in features}
    rng = np.random.default_rng(2106)
    lats, lons = rng.uniform(34.775, 34.825, 1000), rng.uniform(113.25, 113.33, 1000)
    compared = 0
    for lat, lon in zip(lats, lons, strict=True):
        x, y = wgs.lookup(lat, lon), converted.lookup(lat, lon)
        ref = x or y
        if ref is not None and outlines[ref.id].distance(shapely.Point(lon, lat)) * 111_000 < 1.0:
            continue
        assert (x.id if x else None) == (y.id if y else None), (lat, lon)
        compared += x is not None
    assert compared > 500


def pipeline(tmp_path: Path, repo_root: Path, **sections: Any) -> AlertPipeline:
    cfg = alerts_config(tmp_path, grid=grid_config(repo_root), evidence={"enabled": False}, **sections)
    return AlertPipeline(cfg, node_id="node-sj", config_version="cfg-sj")


def test_an_alert_carries_every_level_the_team_the_routing_key_and_the_category(
    tmp_path: Path, repo_root: Path
) -> None:
    p = pipeline(tmp_path, repo_root)
    a = p.handle(event(EventKind.FIRE, source_id="cam-1", incident_id="f1"))
    assert a is not None and a.grid_levels is not None and a.grid_cell is not None
    levels = a.grid_levels
    assert (levels.street and levels.community and levels.grid and levels.micro_grid) is not None
    assert [levels.street.id, levels.community.id, levels.grid.id, levels.micro_grid.id] == [  # type: ignore[union-attr]
        "SJ-02", "SJ-02-08", "SJ-02-08-02", "SJ-02-08-02-1"]
    assert levels.community.name == "乙08社区" and levels.micro_grid.name == "乙08-02-1微网格"  # type: ignore[union-attr]
    assert (a.grid_cell.id, a.grid_cell.source) == ("SJ-02-08-02-1", "lookup")
    assert a.officer_team == "OT-0548"
    assert a.routing_key == "SJ-02-08-02-1/fire"
    assert a.case_category is not None
    assert (a.case_category.major_name, a.case_category.minor_name, a.case_category.placeholder) == (
        "突发事件", "火灾", True)
    c = p.handle(event(EventKind.CONSTRUCTION, source_id="drone-1", incident_id="c1", lat=MG_B_LAT, lon=MG_B_LON,
                       method=GeoMethod.DRONE_RAY))
    assert c is not None and c.routing_key == "SJ-03-09-04-4/construction"
    assert c.case_category is not None and (c.case_category.major_code, c.case_category.minor_code,
                                            c.case_category.minor_name, c.case_category.placeholder) == (
        "01", "0101", "私搭乱建", False)
    t = p.handle(throw_event(source_id="cam-2", incident_id="t1"))
    assert t is not None and t.case_category is not None and t.case_category.minor_name == "高空抛物"
    validator = jsonschema.Draft202012Validator(load_schema())
    for alert in (a, c, t):
        validator.validate(json.loads(alert.to_json_bytes()))


def test_without_levels_configured_or_outside_the_grid_the_new_fields_are_null(
    tmp_path: Path, repo_root: Path
) -> None:
    plain = alerts_config(tmp_path, grid={"path": grid_config(repo_root)["path"]}, evidence={"enabled": False},
                          case_categories={"fire": None})
    p = AlertPipeline(plain, node_id="n", config_version="c")
    a = p.handle(event(source_id="cam-1", incident_id="f1"))
    assert a is not None and a.grid_cell is not None and a.grid_cell.id == "SJ-02-08-02-1"
    assert (a.grid_levels, a.officer_team, a.case_category) == (None, None, None)
    assert a.routing_key == "SJ-02-08-02-1/fire"  # the cell id stands in for the finest level
    outside = p.handle(event(source_id="cam-2", incident_id="f2", lat=34.95, lon=113.29, t=1_700_100_000.0))
    assert outside is not None and (outside.grid_cell, outside.grid_levels, outside.routing_key) == (None, None, None)


def test_a_site_fixed_cell_gets_its_levels_from_the_grid(
    tmp_path: Path, repo_root: Path, caplog: pytest.LogCaptureFixture
) -> None:
    p = pipeline(tmp_path, repo_root)
    fixed = SiteConfig(lat_deg=MG_A_LAT, lon_deg=MG_A_LON, grid_cell_id="SJ-06-01-01-1")
    a = p.handle(event(source_id="cam-1", lat=None, lon=None), site=fixed)
    assert a is not None and a.grid_cell is not None and a.grid_levels is not None
    assert (a.grid_cell.source, a.grid_levels.street.id, a.routing_key) == (  # type: ignore[union-attr]
        "site", "SJ-06", "SJ-06-01-01-1/fire")
    assert a.grid_levels.street.name == "己镇"  # type: ignore[union-attr]
    unknown = SiteConfig(lat_deg=MG_A_LAT, lon_deg=MG_A_LON, grid_cell_id="NOT-IN-FILE")
    with caplog.at_level(logging.WARNING, logger="alerts.enrich"):
        b = p.handle(event(source_id="cam-2", incident_id="x", lat=None, lon=None), site=unknown)
        p.handle(event(source_id="cam-3", incident_id="y", lat=None, lon=None), site=unknown)
    assert b is not None and b.grid_cell is not None and (b.grid_cell.id, b.grid_levels) == ("NOT-IN-FILE", None)
    assert sum("NOT-IN-FILE" in r.getMessage() for r in caplog.records) == 1  # warned once, not per alert


def test_every_kind_has_a_category_entry_and_unknown_kinds_raise() -> None:
    cats = CaseCategoriesConfig()
    assert set(CaseCategoriesConfig.model_fields) == {k.value for k in EventKind}
    assert all(cats.for_kind(k) is not None for k in EventKind)
    assert all((c := cats.for_kind(k)) is not None and c.placeholder for k in EventKind if k != EventKind.CONSTRUCTION)


def test_reference_file_documents_the_category_defaults_and_the_sample_grid(repo_root: Path) -> None:
    path = repo_root / "configs" / "reference" / "alerts.yaml"
    doc = load_yaml_file(path)
    section = doc.data["alerts"]
    assert CaseCategoriesConfig.model_validate(section["case_categories"]) == CaseCategoriesConfig()
    grid = GridConfig.model_validate(section["grid"])
    assert grid.levels.model_dump() == GridConfig.model_validate({"levels": LEVELS}).levels.model_dump()
    lines = path.read_text(encoding="utf-8").splitlines()
    for key in ("grid", "case_categories"):
        for name in section[key]:
            line = doc.lines[("alerts", key, name)]
            assert lines[line - 2].strip().startswith("#"), f"alerts.{key}.{name} (line {line}) has no comment"


def test_demo_and_deployment_use_the_sample_district(repo_root: Path, district: GridIndex) -> None:
    demo = load_yaml_file(repo_root / "configs" / "demo.yaml").data
    assert demo["alerts"]["grid"]["path"].endswith("/grid/sample-district.geojson")
    assert demo["alerts"]["grid"]["levels"] == LEVELS
    sites = {c["id"]: c["site"] for c in demo["cameras"]}
    cells = {cam: district.lookup(s["lat_deg"], s["lon_deg"]) for cam, s in sites.items()}
    assert {cam: c.cell_id if c else None for cam, c in cells.items()} == {
        "demo-fire": "SJ-02-08-02-1", "demo-street": "SJ-03-09-04-4"}
    dep = load_yaml_file(repo_root / "configs" / "deployments" / "district-example.yaml").data
    assert dep["grid"] == "../grid/sample-district.geojson"
