"""Registry statuses and the change flow: permitted works never alert, confirmed structures are added as
pending_review (atomically, everything else kept) and are known from then on, whatever they turn into."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from detectors.construction.registry import Registry, add_pending_review, pending_review_feature
from detectors.construction.registry_entries import EntryStatus, StructureKind
from detectors.geometry.geodesy import enu_to_wgs84
from foundation.errors import ConfigError

LAT, LON = 34.80, 113.29


def rect_lonlat(e0: float, n0: float, e1: float, n1: float) -> list[list[float]]:
    lat, lon = enu_to_wgs84(LAT, LON, np.array([e0, e1, e1, e0, e0]), np.array([n0, n0, n1, n1, n0]))
    return [[float(a), float(b)] for a, b in zip(lon, lat, strict=True)]


def feature(fid: str, kind: str, ring: list[list[float]], **props: object) -> dict:
    return {"type": "Feature", "properties": {"id": fid, "kind": kind, **props},
            "geometry": {"type": "Polygon", "coordinates": [ring]}}


def square_m(e: float, n: float, side: float) -> np.ndarray:
    return np.array([[e, n], [e + side, n], [e + side, n + side], [e, n + side]], float)


DOC = {
    "type": "FeatureCollection",
    "features": [
        feature("B1", "building", rect_lonlat(0, 0, 30, 20), height_m=18.0),
        feature("SITE-7", "excavation", rect_lonlat(100, 0, 140, 30), permit="ZZSJ-2026-007"),
        feature("R-3", "steel_roof", rect_lonlat(200, 0, 210, 8), status="pending_review", source="survey"),
    ],
}


def test_statuses_are_read_and_permit_means_permitted() -> None:
    reg = Registry.from_geojson(DOC)
    assert [e.status for e in reg.entries] == [EntryStatus.REGISTERED, EntryStatus.PERMITTED,
                                              EntryStatus.PENDING_REVIEW]
    bad = {"type": "FeatureCollection", "features": [feature("X", "building", rect_lonlat(0, 0, 1, 1), status="ok")]}
    with pytest.raises(ConfigError) as err:
        Registry.from_geojson(bad, source="reg.geojson")
    assert "features[0] (id X): properties.status 'ok' is not one of" in str(err.value)


def test_permitted_works_cover_every_kind_registered_ones_only_their_own() -> None:
    local = Registry.from_geojson(DOC).local(LAT, LON, 1000.0)
    # The permitted site grows a scaffold, then a roof: known, because it is permitted.
    for kind in (StructureKind.SCAFFOLD, StructureKind.STEEL_ROOF, StructureKind.EXCAVATION):
        m = local.match(square_m(110, 5, 12), kind, 0.5, 2.0)
        assert m.known and m.reason == EntryStatus.PERMITTED and m.covered_by_id == "SITE-7"
    # A roof on the registered building is new (a rooftop addition), and says what it stands on.
    m = local.match(square_m(5, 5, 6), StructureKind.STEEL_ROOF, 0.5, 2.0)
    assert not m.known and m.reason is None and m.on_id == "B1"
    # The pending-review roof: known, as pending review, also if it is now seen as soil being dug.
    m = local.match(square_m(201, 1, 7), StructureKind.EXCAVATION, 0.5, 2.0)
    assert m.known and m.reason == EntryStatus.PENDING_REVIEW
    # Half outside the permitted site is not covered enough.
    assert not local.match(square_m(132, 5, 20), StructureKind.SCAFFOLD, 0.5, 2.0).known


def test_heights_near_and_holds_find_the_building_under_a_point() -> None:
    local = Registry.from_geojson(DOC).local(LAT, LON, 1000.0)
    near = local.heights_near((15.0, 10.0), 5.0)
    assert [(local.entries[i].id, h) for i, h in near] == [("B1", 18.0)]
    i = near[0][0]
    assert local.holds(i, (15.0, 10.0)) and not local.holds(i, (31.0, 10.0))


def test_add_pending_review_is_atomic_keeps_the_rest_and_skips_known_ids(tmp_path: Path) -> None:
    path = tmp_path / "registry.geojson"
    path.write_text(json.dumps(DOC | {"name": "Shangjie registry"}), encoding="utf-8")
    new = pending_review_feature("survey-b/C3", StructureKind.STEEL_ROOF, np.array(rect_lonlat(300, 0, 306, 5)),
                                 {"change_kind": "roof", "alert_incident": "construction-change-x-C3"})
    added = add_pending_review(path, [new, feature("R-3", "steel_roof", rect_lonlat(0, 0, 1, 1))])
    assert added == ["survey-b/C3"]
    doc = json.loads(path.read_text(encoding="utf-8"))
    assert doc["name"] == "Shangjie registry" and len(doc["features"]) == 4
    assert doc["features"][-1]["properties"]["status"] == "pending_review"
    assert doc["features"][-1]["properties"]["change_kind"] == "roof"
    local = Registry.load(path).local(LAT, LON, 1000.0)
    assert local.match(square_m(300.5, 0.5, 5), StructureKind.SCAFFOLD, 0.5, 2.0).reason == EntryStatus.PENDING_REVIEW
    assert not list(tmp_path.glob(".tmp-*"))
    # A bad feature changes nothing.
    before = path.read_bytes()
    with pytest.raises(ConfigError):
        add_pending_review(path, [{"type": "Feature", "properties": {"id": "bad", "kind": "shed"},
                                   "geometry": {"type": "Polygon", "coordinates": [rect_lonlat(0, 0, 1, 1)]}}])
    assert path.read_bytes() == before
