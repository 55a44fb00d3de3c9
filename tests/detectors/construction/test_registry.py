"""The registry of known/permitted structures: loading, errors, matching by kind, roof planes."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from detectors.construction.registry import Registry
from detectors.construction.registry_entries import StructureKind
from detectors.geometry.geodesy import enu_to_wgs84
from foundation.errors import ConfigError
from tests.detectors.construction.synth import LAT, LON, nadir_pose, view_of


def rect_lonlat(e0: float, n0: float, e1: float, n1: float) -> list[list[float]]:
    lat, lon = enu_to_wgs84(LAT, LON, np.array([e0, e1, e1, e0, e0]), np.array([n0, n0, n1, n1, n0]))
    return [[float(a), float(b)] for a, b in zip(lon, lat, strict=True)]


def feature(fid: str, kind: str, ring: list[list[float]], **props: object) -> dict:
    return {
        "type": "Feature",
        "properties": {"id": fid, "kind": kind, **props},
        "geometry": {"type": "Polygon", "coordinates": [ring]},
    }


def collection(*features: dict) -> dict:
    return {"type": "FeatureCollection", "features": list(features)}


def square_m(e: float, n: float, side: float) -> np.ndarray:
    return np.array([[e, n], [e + side, n], [e + side, n + side], [e, n + side]], float)


REG = collection(
    feature("B1", "building", rect_lonlat(0, 0, 30, 20), height_m=15.0),
    feature("R1", "steel_roof", rect_lonlat(50, 0, 60, 8), permit="P-7"),
    {
        "type": "Feature",
        "id": "M1",
        "properties": {"kind": "scaffold"},
        "geometry": {
            "type": "MultiPolygon",
            "coordinates": [[rect_lonlat(100, 0, 101, 20)], [rect_lonlat(0, -3, 30, -2)]],
        },
    },
    feature("FAR", "building", rect_lonlat(9000, 9000, 9010, 9010), height_m=9.0),
)


def test_load_and_local_view(tmp_path: Path) -> None:
    path = tmp_path / "reg.geojson"
    path.write_text(json.dumps(REG))
    reg = Registry.load(path)
    assert [e.id for e in reg.entries] == ["B1", "R1", "M1", "M1", "FAR"]
    assert reg.entries[0].height_m == 15.0 and reg.entries[1].permit == "P-7"
    local = reg.local(LAT, LON, radius_m=1000.0)
    assert [e.id for e in local.entries] == ["B1", "R1", "M1", "M1"]
    # ENU rings come back where they were put (closing vertex dropped).
    assert np.allclose(local.rings[0], [[0, 0], [30, 0], [30, 20], [0, 20]], atol=0.01)


@pytest.mark.parametrize(
    ("doc", "needle"),
    [
        ({"type": "Feature"}, "FeatureCollection"),
        (
            collection(feature("X", "shed", rect_lonlat(0, 0, 1, 1))),
            "features[0] (id X): properties.kind 'shed'",
        ),
        (
            collection({"type": "Feature", "properties": {"kind": "building"}}),
            "features[0] (id #0): geometry is missing",
        ),
        (collection(feature("Y", "building", [[0, 0], [1, 1]])), "at least 4"),
        (collection(feature("Z", "building", [[200, 0], [1, 1], [1, 2], [200, 0]])), "within range"),
        (collection(feature("H", "building", rect_lonlat(0, 0, 1, 1), height_m="tall")), "height_m"),
    ],
)
def test_invalid_registry_names_the_feature(doc: dict, needle: str) -> None:
    with pytest.raises(ConfigError) as err:
        Registry.from_geojson(doc, source="reg.geojson")
    assert needle in str(err.value)
    assert "reg.geojson" in str(err.value)


def test_unreadable_files(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="not found"):
        Registry.load(tmp_path / "missing.geojson")
    bad = tmp_path / "bad.geojson"
    bad.write_text('{"type": "FeatureCollection",\n "features": [,]}')
    with pytest.raises(ConfigError, match=r"bad.geojson:2: registry is not valid JSON"):
        Registry.load(bad)


def test_known_only_for_the_same_kind() -> None:
    local = Registry.from_geojson(REG).local(LAT, LON, 1000.0)
    # A registered steel roof seen 1 m off: known.
    m = local.match(square_m(50.8, 0.5, 8), StructureKind.STEEL_ROOF, 0.5, 2.0)
    assert m.known and m.same_kind_id == "R1" and m.same_kind_overlap > 0.95
    # A new blue shed on the registered building: new, and it says what it stands on.
    m = local.match(square_m(10, 5, 6), StructureKind.STEEL_ROOF, 0.5, 2.0)
    assert not m.known and m.on_id == "B1" and m.on_kind == StructureKind.BUILDING and m.on_overlap == 1.0
    # The registered roof extended to four times its size: most of the site is not on record -> new.
    grown = np.array([[50, 0], [70, 0], [70, 16], [50, 16]], float)
    m = local.match(grown, StructureKind.STEEL_ROOF, 0.5, 2.0)
    assert not m.known and m.same_kind_id == "R1" and 0.2 < m.same_kind_overlap < 0.5
    # Nothing registered there.
    assert not local.match(square_m(200, 200, 5), StructureKind.SCAFFOLD, 0.5, 2.0).known


def test_box_comparison_for_model_boxes() -> None:
    local = Registry.from_geojson(REG).local(LAT, LON, 1000.0)
    view = view_of(nadir_pose(100.0, lat=LAT, lon=LON))
    # The registered scaffold strip M1 (100..101 east, 0..20 north) as a model box in the image.
    strip = local.rings[2]
    px = view.ground_to_pixel(strip)
    box = np.array([[px[:, 0].min() - 2, px[:, 1].min() - 2], [px[:, 0].max() + 2, px[:, 1].max() + 2]])
    quad = np.array([box[0], [box[1, 0], box[0, 1]], box[1], [box[0, 0], box[1, 1]]])
    footprint = view.pixel_to_ground(quad)
    m = local.match(footprint, StructureKind.SCAFFOLD, 0.5, 2.0, box_in=(view, quad, 0.0))
    assert m.known and m.same_kind_id == "M1"
    # The same box 40 px to the side is a different scaffold.
    moved = quad + np.array([40.0, 0.0])
    m = local.match(view.pixel_to_ground(moved), StructureKind.SCAFFOLD, 0.5, 2.0, box_in=(view, moved, 0.0))
    assert not m.known


def test_roof_heights_follow_the_ray() -> None:
    local = Registry.from_geojson(REG).local(LAT, LON, 1000.0)
    # Camera 100 m above (15, 10), the middle of the 15 m tall building B1.
    lat, lon = enu_to_wgs84(LAT, LON, 15.0, 10.0)
    view = view_of(nadir_pose(100.0, lat=float(lat), lon=float(lon)))
    centre = np.array([[640.0, 360.0]])
    assert local.roof_heights(view, centre)[0] == 15.0
    # 40 m east of the camera is open ground.
    far = view.ground_to_pixel(np.array([[55.0, 30.0]]))
    assert local.roof_heights(view, far)[0] == 0.0
    # Just outside the wall (31 m east on the roof plane): ground, unless the reach covers it.
    beside = view.ground_to_pixel(np.array([[31.5, 10.0]]), 15.0)
    assert local.roof_heights(view, beside)[0] == 0.0
    assert local.roof_heights(view, beside, 2.0)[0] == 15.0
