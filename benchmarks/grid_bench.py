"""Grid lookup and GCJ-02 speed for the alerts benchmark: point-in-polygon lookups per second over a jittered
mesh and over the sample district's micro-grids (vectorised and one at a time), and vectorised WGS-84 ->
GCJ-02 conversions per second. Rows for `benchmarks.alerts_bench.run`.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import shapely
from shapely.geometry import Polygon

from alerts.gcj02 import wgs84_to_gcj02_array
from alerts.grid import CellShape, GridCell, GridIndex

DISTRICT_GRID = Path(__file__).resolve().parents[1] / "configs" / "grid" / "sample-district.geojson"


def _mesh(cells_x: int, cells_y: int, rng: np.random.Generator) -> tuple[list[CellShape], tuple[float, ...]]:
    """A jittered mesh of cells_x * cells_y quadrilaterals (~200 m cells) and its bounds."""
    step = 0.002
    xs = 120.0 + np.arange(cells_x + 1) * step
    ys = 30.0 + np.arange(cells_y + 1) * step
    gx, gy = np.meshgrid(xs, ys)
    gx[1:-1, 1:-1] += rng.uniform(-0.3, 0.3, (cells_y - 1, cells_x - 1)) * step
    gy[1:-1, 1:-1] += rng.uniform(-0.3, 0.3, (cells_y - 1, cells_x - 1)) * step
    shapes = []
    for j in range(cells_y):
        for i in range(cells_x):
            ring = [(gx[j, i], gy[j, i]), (gx[j, i + 1], gy[j, i + 1]),
                    (gx[j + 1, i + 1], gy[j + 1, i + 1]), (gx[j + 1, i], gy[j + 1, i])]
            shapes.append(CellShape(GridCell(f"c{j}-{i}", f"cell {j}/{i}"), Polygon(ring)))
    return shapes, (xs[0], ys[0], xs[-1], ys[-1])


def _time_lookups(
    name: str, shapes: Sequence[CellShape], bounds: tuple[float, ...], points: int, rng: np.random.Generator
) -> dict[str, Any]:
    t0 = time.perf_counter()
    index = GridIndex(shapes)
    build_s = time.perf_counter() - t0
    lon = rng.uniform(bounds[0], bounds[2], points)
    lat = rng.uniform(bounds[1], bounds[3], points)
    t1, c1 = time.perf_counter(), time.process_time()
    found = index.lookup_many(lat, lon)
    many_s, many_cpu_s = time.perf_counter() - t1, time.process_time() - c1
    n_single = min(points, 20_000)
    t2, c2 = time.perf_counter(), time.process_time()
    for k in range(n_single):
        index.lookup(lat[k], lon[k])
    single_s, single_cpu_s = time.perf_counter() - t2, time.process_time() - c2
    return {
        "section": "grid",
        "cells_from": name,
        "cells": len(shapes),
        "points": points,
        "index_build_s": build_s,
        "lookups_per_s": points / many_s,
        "lookups_per_cpu_s": points / max(many_cpu_s, 1e-9),
        "single_lookups_per_s": n_single / single_s,
        "single_lookups_per_cpu_s": n_single / max(single_cpu_s, 1e-9),
        "single_lookup_us": single_s / n_single * 1e6,
        "found_share": float((found >= 0).mean()),
    }


def bench_grid(cells_x: int, cells_y: int, points: int, seed: int = 7101) -> dict[str, Any]:
    """Lookups per second over a jittered mesh of cells_x * cells_y quadrilaterals: `lookups_per_s` in one
    `lookup_many` call (vectorised), `single_lookups_per_s` one `lookup` at a time (what each alert does)."""
    rng = np.random.default_rng(seed)
    shapes, bounds = _mesh(cells_x, cells_y, rng)
    return _time_lookups(f"jittered mesh {cells_x}x{cells_y}", shapes, bounds, points, rng)


def bench_district_grid(points: int, seed: int = 7103) -> dict[str, Any]:
    """The same over the sample district's 1,887 micro-grids (configs/grid/sample-district.geojson, made
    up), points uniform over its bounding box."""
    rng = np.random.default_rng(seed)
    index = GridIndex.from_geojson(DISTRICT_GRID)
    shapes = [CellShape(cell, geom) for cell, geom in zip(index.cells, index.geometries(), strict=True)]
    bounds = tuple(float(v) for v in shapely.total_bounds(index.geometries()))
    return _time_lookups("sample district micro-grids", shapes, bounds, points, rng)


def bench_gcj02(points: int, seed: int = 7102) -> dict[str, Any]:
    rng = np.random.default_rng(seed)
    lat = rng.uniform(18.0, 53.0, points)
    lon = rng.uniform(74.0, 134.0, points)
    t0 = time.perf_counter()
    wgs84_to_gcj02_array(lat, lon)
    dt = time.perf_counter() - t0
    return {"section": "gcj02", "points": points, "conversions_per_s": points / dt}
