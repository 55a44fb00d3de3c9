"""Grid lookup: holes and MultiPolygons, shared boundaries, errors, and agreement with OpenCV as the oracle.

The sample district itself (levels, counts, GCJ-02 variant) is tested in test_district.py.
"""

import json
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import pytest
from shapely.geometry import Polygon

from alerts.enrich import GridLookup
from alerts.gcj02 import wgs84_to_gcj02
from alerts.grid import AreaRef, CellShape, FeatureProperties, GridCell, GridIndex, GridLevel
from foundation.errors import ConfigError


def _feature(cell_id: str, geometry: dict[str, Any], **props: Any) -> dict[str, Any]:
    return {"type": "Feature", "properties": {"id": cell_id, **props}, "geometry": geometry}


def _square(x0: float, y0: float, x1: float, y1: float) -> list[list[float]]:
    return [[x0, y0], [x1, y0], [x1, y1], [x0, y1], [x0, y0]]


# A ring cell with a hole, the park cell filling the hole, a MultiPolygon cell with a detached island,
# and a plain square: the shapes a district file has besides simple cells.
SHAPES = {
    "type": "FeatureCollection",
    "features": [
        _feature("RING", {"type": "Polygon", "coordinates": [_square(0, 0, 3, 3), _square(1, 1, 2, 2)]}),
        _feature("PARK", {"type": "Polygon", "coordinates": [_square(1, 1, 2, 2)]}),
        _feature(
            "ISLANDS",
            {"type": "MultiPolygon", "coordinates": [[_square(3, 0, 4, 3)], [[[5, 1], [6, 1], [5.5, 2], [5, 1]]]]},
        ),
        _feature("EAST", {"type": "Polygon", "coordinates": [_square(6, 0, 7, 3)]}),
    ],
}


@pytest.fixture(scope="module")
def shapes(tmp_path_factory: pytest.TempPathFactory) -> GridIndex:
    path = tmp_path_factory.mktemp("grid") / "shapes.geojson"
    path.write_text(json.dumps(SHAPES))
    return GridIndex.from_geojson(path)


@pytest.mark.parametrize(
    ("lon", "lat", "cell"),
    [
        (0.5, 0.5, "RING"),
        (1.5, 1.5, "PARK"),  # inside RING's hole
        (3.5, 1.5, "ISLANDS"),
        (5.5, 1.3, "ISLANDS"),  # the detached triangle
        (4.5, 1.5, None),  # between ISLANDS' parts
        (5.9, 1.9, None),  # beside the triangle, inside its bounding box
        (6.5, 2.9, "EAST"),
        (8.0, 1.0, None),
    ],
)
def test_holes_and_multipolygons(shapes: GridIndex, lon: float, lat: float, cell: str | None) -> None:
    found = shapes.lookup(lat, lon)
    assert (found.cell_id if found else None) == cell


def test_a_point_on_a_shared_boundary_goes_to_the_first_cell_in_file_order(shapes: GridIndex) -> None:
    found = [shapes.lookup(1.5, 1.0), shapes.lookup(1.0, 3.0), shapes.lookup(0.0, 0.0)]
    assert [c.cell_id if c else None for c in found] == ["RING", "RING", "RING"]
    assert shapes.lookup_many([1.5, 1.0, 0.0], [1.0, 3.0, 0.0]).tolist() == [0, 0, 0]


def test_lookup_many_matches_single_lookups_and_skips_non_finite(shapes: GridIndex) -> None:
    rng = np.random.default_rng(1)
    lon = np.concatenate([rng.uniform(-0.5, 7.5, 500), [np.nan, 1.0, np.inf]])
    lat = np.concatenate([rng.uniform(-0.5, 3.5, 500), [1.0, np.nan, 1.0]])
    idx = shapes.lookup_many(lat, lon)
    for i in range(lon.size):
        single = shapes.lookup(lat[i], lon[i])
        assert (shapes.cells[idx[i]] if idx[i] >= 0 else None) == single
    assert idx[-3:].tolist() == [-1, -1, -1]
    assert {c.cell_id for c in shapes.cells} == {shapes.cells[i].cell_id for i in idx[idx >= 0]}


def test_empty_index_finds_nothing() -> None:
    index = GridIndex([])
    assert len(index) == 0 and index.lookup(1.0, 1.0) is None
    assert index.lookup_many([1.0], [1.0]).tolist() == [-1]


def test_thousands_of_irregular_cells_agree_with_opencv() -> None:
    """A jittered 60x40 mesh of quadrilaterals (2,400 cells); OpenCV's pointPolygonTest is the oracle."""
    rng = np.random.default_rng(7)
    nx, ny = 60, 40
    xs = 120.0 + np.arange(nx + 1) * 0.002
    ys = 30.0 + np.arange(ny + 1) * 0.002
    gx, gy = np.meshgrid(xs, ys)
    gx[1:-1, 1:-1] += rng.uniform(-0.0006, 0.0006, (ny - 1, nx - 1))
    gy[1:-1, 1:-1] += rng.uniform(-0.0006, 0.0006, (ny - 1, nx - 1))
    shapes, quads = [], []
    for j in range(ny):
        for i in range(nx):
            quad = [
                (gx[j, i], gy[j, i]),
                (gx[j, i + 1], gy[j, i + 1]),
                (gx[j + 1, i + 1], gy[j + 1, i + 1]),
                (gx[j + 1, i], gy[j + 1, i]),
            ]
            quads.append(np.asarray(quad, np.float64))
            shapes.append(CellShape(GridCell(f"c{j}-{i}", f"cell {j}/{i}"), Polygon(quad)))
    index = GridIndex(shapes)
    px = rng.uniform(xs[0], xs[-1], 3000)
    py = rng.uniform(ys[0], ys[-1], 3000)
    got = index.lookup_many(py, px)
    scale = 1e5  # OpenCV works in float32: scale degrees to keep precision
    checked = 0
    for k in range(3000):
        c = got[k]
        assert c >= 0, f"point {k} found in no cell although the mesh covers the area"
        poly = ((quads[c] - [120.0, 30.0]) * scale).astype(np.float32)
        d = cv2.pointPolygonTest(poly, ((px[k] - 120.0) * scale, (py[k] - 30.0) * scale), True)
        if abs(d) > 1e-2:  # skip points within float32 noise of an edge
            assert d > 0, f"point {k} reported in {index.cells[c]} but OpenCV puts it outside"
            checked += 1
    assert checked > 2900


def test_levels_and_officer_team_come_from_the_configured_properties(tmp_path: Path) -> None:
    props = {"s": "S1", "sn": "Street 1", "g": "G7", "gn": "Grid 7", "team": "OT-9"}
    path = tmp_path / "levels.geojson"
    path.write_text(json.dumps({"type": "FeatureCollection", "features": [
        _feature("M1", {"type": "Polygon", "coordinates": [_square(0, 0, 1, 1)]}, name="Micro 1", **props)
    ]}))
    spec = FeatureProperties(
        levels={GridLevel.GRID: ("g", "gn"), GridLevel.STREET: ("s", "sn"), GridLevel.MICRO_GRID: ("id", "name")},
        officer_team="team",
    )
    cell = GridIndex.from_geojson(path, spec).lookup(0.5, 0.5)
    assert cell is not None and cell.officer_team == "OT-9"
    assert [lv for lv, _ in cell.levels] == [GridLevel.STREET, GridLevel.GRID, GridLevel.MICRO_GRID]  # coarsest first
    assert cell.area(GridLevel.GRID) == AreaRef("G7", "Grid 7") and cell.area(GridLevel.COMMUNITY) is None
    plain = GridIndex.from_geojson(path).lookup(0.5, 0.5)
    assert plain == GridCell("M1", "Micro 1")  # no levels unless configured


def test_gcj02_grid_is_looked_up_with_converted_positions(tmp_path: Path) -> None:
    """A grid drawn on a Chinese map platform (GCJ-02): the WGS-84 position must be converted first."""
    w_lat, w_lon = 34.8000, 113.2900
    g_lat, g_lon = wgs84_to_gcj02(w_lat, w_lon)
    d = 0.0005  # ~50 m square around the GCJ-02 position; the WGS-84 point lies several hundred m away
    path = tmp_path / "gcj.geojson"
    path.write_text(json.dumps({"type": "FeatureCollection", "features": [{
        "type": "Feature",
        "properties": {"code": "Z1", "title": "Zone 1"},
        "geometry": {"type": "Polygon", "coordinates": [_square(g_lon - d, g_lat - d, g_lon + d, g_lat + d)]},
    }]}))
    index = GridIndex.from_geojson(path, FeatureProperties(id="code", name="title"))
    assert GridLookup(index, "wgs84").lookup(w_lat, w_lon) is None
    found = GridLookup(index, "gcj02").lookup(w_lat, w_lon)
    assert found is not None and (found.id, found.name, found.source) == ("Z1", "Zone 1", "lookup")


def _write(tmp_path: Path, data: object) -> Path:
    p = tmp_path / "grid.geojson"
    p.write_text(json.dumps(data) if not isinstance(data, str) else data)
    return p


def test_errors_name_the_file_and_every_bad_feature(tmp_path: Path) -> None:
    sq = {"type": "Polygon", "coordinates": [[[0, 0], [1, 0], [1, 1], [0, 0]]]}
    bowtie = {"type": "Polygon", "coordinates": [[[0, 0], [1, 1], [1, 0], [0, 1], [0, 0]]]}
    p = _write(tmp_path, {"type": "FeatureCollection", "features": [
        _feature("A", sq),
        _feature("A", sq),
        {"type": "Feature", "properties": {"name": "no id"}, "geometry": sq},
        _feature("B", {"type": "Point", "coordinates": [0, 0]}),
        _feature("C", {"type": "Polygon", "coordinates": [[[0, 0]]]}),
        _feature("D", {"type": "Polygon", "coordinates": [[[0, 0], [200, 0], [1, 1], [0, 0]]]}),
        _feature("E", bowtie),
    ]})
    with pytest.raises(ConfigError) as err:
        GridIndex.from_geojson(p)
    text = str(err.value)
    assert str(p) in text and "6 problem(s)" in text
    assert "features[1]: cell id 'A' already used by features[0]" in text
    assert "features[2]: property `id`" in text
    assert "features[3] (cell B): geometry type must be Polygon or MultiPolygon" in text
    assert "features[4] (cell C): a ring needs at least 4 positions" in text
    assert "features[5] (cell D): ring coordinates must be [lon, lat] degrees" in text
    assert "features[6] (cell E): invalid polygon (Self-intersection" in text


def test_a_configured_level_or_team_missing_on_a_feature_is_an_error(tmp_path: Path) -> None:
    sq = {"type": "Polygon", "coordinates": [_square(0, 0, 1, 1)]}
    p = _write(tmp_path, {"type": "FeatureCollection", "features": [
        _feature("A", sq, grid_id="G1", grid_name="Grid 1", team="T1"),
        _feature("B", sq, grid_id="G1", team="T1"),
        _feature("C", sq, grid_id="G1", grid_name="Grid 1", team=" "),
    ]})
    spec = FeatureProperties(levels={GridLevel.GRID: ("grid_id", "grid_name")}, officer_team="team")
    with pytest.raises(ConfigError) as err:
        GridIndex.from_geojson(p, spec)
    text = str(err.value)
    assert "features[1] (cell B): grid level: property `grid_name` missing" in text
    assert "features[2] (cell C): property `team` (the officer team) is missing" in text
    assert "features[0]" not in text


def test_invalid_json_and_missing_file(tmp_path: Path) -> None:
    p = _write(tmp_path, '{"type": "FeatureCollection",\n "features": [,]}')
    with pytest.raises(ConfigError, match=r"grid.geojson:2: not valid JSON"):
        GridIndex.from_geojson(p)
    with pytest.raises(ConfigError, match="not found"):
        GridIndex.from_geojson(tmp_path / "absent.geojson")
