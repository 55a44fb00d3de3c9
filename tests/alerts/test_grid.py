"""Grid-cell lookup: the sample district, holes and MultiPolygons, errors, and agreement with OpenCV."""

import json
from pathlib import Path

import cv2
import numpy as np
import pytest

from alerts.enrich import GridLookup
from alerts.gcj02 import wgs84_to_gcj02
from alerts.grid import CellShape, GridCell, GridIndex
from foundation.errors import ConfigError


@pytest.fixture(scope="module")
def sample(repo_root: Path) -> GridIndex:
    return GridIndex.from_geojson(repo_root / "configs" / "grid" / "sample-district.geojson")


@pytest.mark.parametrize(
    ("lat", "lon", "cell"),
    [
        (30.2475, 120.1925, "GW-01"),
        (30.2475, 120.1975, "GW-02"),
        (30.2475, 120.2025, "GW-03"),
        (30.2525, 120.1925, "GW-04"),
        (30.2505, 120.1975, "GW-05"),  # in GW-05's ring, south of its hole
        (30.2525, 120.1975, "GW-07"),  # inside GW-05's hole: the park cell
        (30.2525, 120.2025, "GW-06"),
        (30.2515, 120.2065, "GW-06"),  # the detached island part of GW-06's MultiPolygon
        (30.2600, 120.1925, None),  # north of the district
        (30.2515, 120.2055, None),  # between GW-06 and its island
    ],
)
def test_sample_district_known_points(sample: GridIndex, lat: float, lon: float, cell: str | None) -> None:
    found = sample.lookup(lat, lon)
    assert (found.cell_id if found else None) == cell


def test_sample_district_names_and_count(sample: GridIndex) -> None:
    assert len(sample) == 7
    assert sample.lookup(30.2525, 120.1975) == GridCell("GW-07", "示范街道 第07网格 (Central Park)")


def test_lookup_many_matches_single_lookups(sample: GridIndex) -> None:
    rng = np.random.default_rng(1)
    lat = rng.uniform(30.244, 30.256, 500)
    lon = rng.uniform(120.189, 120.208, 500)
    idx = sample.lookup_many(lat, lon)
    for i in range(500):
        single = sample.lookup(lat[i], lon[i])
        assert (sample.cells[idx[i]] if idx[i] >= 0 else None) == single


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
            shapes.append(CellShape(GridCell(f"c{j}-{i}", f"cell {j}/{i}"), ([*quad, quad[0]],)))
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


def test_gcj02_grid_is_looked_up_with_converted_positions(tmp_path: Path) -> None:
    """A grid drawn on a Chinese map platform (GCJ-02): the WGS-84 position must be converted first."""
    w_lat, w_lon = 30.2500, 120.2000
    g_lat, g_lon = wgs84_to_gcj02(w_lat, w_lon)
    d = 0.0005  # ~50 m square around the GCJ-02 position; the WGS-84 point lies ~500 m away from it
    ring = [
        [g_lon - d, g_lat - d],
        [g_lon + d, g_lat - d],
        [g_lon + d, g_lat + d],
        [g_lon - d, g_lat + d],
        [g_lon - d, g_lat - d],
    ]
    path = tmp_path / "gcj.geojson"
    path.write_text(
        json.dumps(
            {
                "type": "FeatureCollection",
                "features": [
                    {
                        "type": "Feature",
                        "properties": {"code": "Z1", "title": "Zone 1"},
                        "geometry": {"type": "Polygon", "coordinates": [ring]},
                    }
                ],
            }
        )
    )
    index = GridIndex.from_geojson(path, id_property="code", name_property="title")
    assert GridLookup(index, "wgs84").lookup(w_lat, w_lon) is None
    found = GridLookup(index, "gcj02").lookup(w_lat, w_lon)
    assert found is not None and (found.id, found.name, found.source) == ("Z1", "Zone 1", "lookup")


def _write(tmp_path: Path, data: object) -> Path:
    p = tmp_path / "grid.geojson"
    p.write_text(json.dumps(data) if not isinstance(data, str) else data)
    return p


def test_errors_name_the_file_and_every_bad_feature(tmp_path: Path) -> None:
    sq = [[[0, 0], [1, 0], [1, 1], [0, 0]]]
    p = _write(
        tmp_path,
        {
            "type": "FeatureCollection",
            "features": [
                {
                    "type": "Feature",
                    "properties": {"id": "A"},
                    "geometry": {"type": "Polygon", "coordinates": sq},
                },
                {
                    "type": "Feature",
                    "properties": {"id": "A"},
                    "geometry": {"type": "Polygon", "coordinates": sq},
                },
                {
                    "type": "Feature",
                    "properties": {"name": "no id"},
                    "geometry": {"type": "Polygon", "coordinates": sq},
                },
                {
                    "type": "Feature",
                    "properties": {"id": "B"},
                    "geometry": {"type": "Point", "coordinates": [0, 0]},
                },
                {
                    "type": "Feature",
                    "properties": {"id": "C"},
                    "geometry": {"type": "Polygon", "coordinates": [[[0, 0]]]},
                },
                {
                    "type": "Feature",
                    "properties": {"id": "D"},
                    "geometry": {"type": "Polygon", "coordinates": [[[0, 0], [200, 0], [1, 1], [0, 0]]]},
                },
            ],
        },
    )
    with pytest.raises(ConfigError) as err:
        GridIndex.from_geojson(p)
    text = str(err.value)
    assert str(p) in text
    assert "features[1]: cell id 'A' already used by features[0]" in text
    assert "features[2]: property `id`" in text
    assert "features[3] (cell B): geometry type must be Polygon or MultiPolygon" in text
    assert "features[4] (cell C): a ring needs at least 4 positions" in text
    assert "features[5] (cell D): ring coordinates must be [lon, lat] degrees" in text


def test_invalid_json_and_missing_file(tmp_path: Path) -> None:
    p = _write(tmp_path, '{"type": "FeatureCollection",\n "features": [,]}')
    with pytest.raises(ConfigError, match=r"grid.geojson:2: not valid JSON"):
        GridIndex.from_geojson(p)
    with pytest.raises(ConfigError, match="not found"):
        GridIndex.from_geojson(tmp_path / "absent.geojson")
