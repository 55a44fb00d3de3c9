"""A MADE-UP sample district at the location of Shangjie District (上街区), Zhengzhou, Henan.

    python -m benchmarks.scenarios.district [--out configs/grid] [--seed 2104]

writes `sample-district.geojson` (WGS-84, what gridwatch looks positions up in) and
`sample-district.gcj02.geojson` (the same polygons as Chinese map platforms draw them, converted vertex
by vertex with `alerts.gcj02`). Both are FeatureCollections of micro-grids; every feature carries its
whole chain of levels, so one point-in-polygon lookup gives all four.

What is real and what is made up:
- real: the location (the district lies around 34.80° N, 113.29° E), the four levels a ticket is routed
  through (street 街道 → community 社区 → grid 网格 → micro-grid 微网格), and the totals the district
  reports: 401 grids and 1,887 micro-grids (so about 4.7 micro-grids per grid);
- made up: the outline, every boundary, the number of streets (6) and communities (62), every name
  (streets are named after the Heavenly Stems 甲乙丙丁戊己 so nobody mistakes them for real ones), every
  id and every officer team. Do not route real tickets with this file.

How it is built (deterministic from the seed): a smooth irregular outline of about 60 km² is filled
with density-weighted sample points (two dense urban cores, sparse outskirts, so cells are small in the
centre and large outside, as real grids are, which are drawn by households). Each level is split into
its children by a centroidal Voronoi partition of its own samples (k-means on the samples, then the
Voronoi cells of the centres clipped to the parent), so children tile their parent exactly and have
roughly equal "population". How many children each parent gets is allocated by its population share
(largest remainder), which hits the totals exactly. Coordinates are rounded to 1e-6° (~0.1 m); shared
vertices round alike, so the tiling survives.

This is sample data for the demo, tests and benchmarks; it shares nothing with the lookup code that
reads it (alerts/grid.py) but the GCJ-02 transform, which the file is meant to be drawn with. Needs
shapely >= 2.2 on GEOS >= 3.14 (coverage cleaning); `tests/benchmarks/test_district_scenario.py` checks
that it rebuilds the committed files byte for byte.
"""

from __future__ import annotations

import argparse
import json
import math
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np
import shapely
from numpy.typing import NDArray
from scipy.spatial import cKDTree
from shapely.geometry import MultiPoint, MultiPolygon, Polygon
from shapely.geometry.base import BaseGeometry

from alerts.gcj02 import wgs84_to_gcj02_array

SEED = 2104
"""The seed of the committed files."""
CENTRE_LAT_DEG, CENTRE_LON_DEG = 34.800, 113.290
"""Shangjie District lies around here (WGS-84)."""
AREA_KM2 = 60.0
"""Made up: roughly a small urban district."""
STREETS = 6
"""Made up: street-level units (街道; the last one is called a town, 镇)."""
COMMUNITIES = 62
"""Made up: communities (社区; villages, 村, in the town)."""
GRIDS = 401
"""Real: the district's grid count."""
MICRO_GRIDS = 1887
"""Real: the district's micro-grid count."""
SAMPLES = 240_000
"""Density-weighted points the partition is computed from (more: smoother equal-population cells)."""

STREET_NAMES = ("甲", "乙", "丙", "丁", "戊", "己")
EARTH_RADIUS_M = 6_371_008.8
F64 = NDArray[np.float64]


@dataclass(frozen=True)
class Area:
    """One unit of one level: its id, name, shape (local metres) and its samples' indices."""

    id: str
    name: str
    shape: BaseGeometry
    samples: NDArray[np.int64]


@dataclass(frozen=True)
class MicroGrid:
    """A micro-grid with its whole chain of levels."""

    street: Area
    community: Area
    grid: Area
    micro: Area
    officer_team: str


# -- geometry in local metres ------------------------------------------------------------------------


def outline(rng: np.random.Generator) -> Polygon:
    """A smooth, irregular district outline of AREA_KM2, wider east-west, centred on (0, 0) metres."""
    theta = np.linspace(0.0, 2.0 * math.pi, 160, endpoint=False)
    radius = np.ones_like(theta)
    for k, amp in zip(range(2, 7), (0.10, 0.07, 0.05, 0.03, 0.02), strict=True):
        radius += amp * np.cos(k * theta + rng.uniform(0.0, 2.0 * math.pi))
    x, y = 1.4 * radius * np.cos(theta), radius * np.sin(theta)
    poly = Polygon(np.column_stack([x, y]))
    scale = math.sqrt(AREA_KM2 * 1e6 / poly.area)
    return Polygon(np.column_stack([x * scale, y * scale]))


def density(x: F64, y: F64, cores: F64) -> F64:
    """Relative population density: two urban cores (rows of `cores`: x, y, sigma_m, weight) on a floor."""
    d = np.full_like(x, 0.12)
    for cx, cy, sigma, weight in cores:
        d += weight * np.exp(-((x - cx) ** 2 + (y - cy) ** 2) / (2.0 * sigma**2))
    return d


def sample_points(poly: Polygon, n: int, cores: F64, rng: np.random.Generator) -> F64:
    """n points inside poly, drawn with probability proportional to `density` (rejection sampling)."""
    x0, y0, x1, y1 = poly.bounds
    peak = float(density(np.asarray(cores[:, 0]), np.asarray(cores[:, 1]), cores).max())
    got: list[F64] = []
    total = 0
    shapely.prepare(poly)
    while total < n:
        x = rng.uniform(x0, x1, 4 * n)
        y = rng.uniform(y0, y1, 4 * n)
        keep = shapely.contains_xy(poly, x, y) & (rng.uniform(0.0, peak, x.size) < density(x, y, cores))
        pts = np.column_stack([x[keep], y[keep]])
        got.append(pts)
        total += len(pts)
    return np.concatenate(got)[:n]


def kmeans(points: F64, k: int, rng: np.random.Generator, iterations: int = 25) -> tuple[F64, NDArray[np.int64]]:
    """Lloyd's k-means: k centres of `points` and each point's label. No cluster is left empty."""
    centres = points[rng.choice(len(points), size=k, replace=False)].copy()
    labels = np.zeros(len(points), np.int64)
    for _ in range(iterations):
        labels = cKDTree(centres).query(points)[1].astype(np.int64)
        counts = np.bincount(labels, minlength=k)
        for c in np.flatnonzero(counts == 0):  # re-seed an empty cluster inside the largest one
            big = int(np.argmax(counts))
            members = np.flatnonzero(labels == big)
            centres[c] = points[members[rng.integers(len(members))]]
            counts = np.bincount(labels, minlength=k)
        sums = np.zeros_like(centres)
        np.add.at(sums, labels, points)
        nonempty = counts > 0
        centres[nonempty] = sums[nonempty] / counts[nonempty, None]
    labels = cKDTree(centres).query(points)[1].astype(np.int64)
    return centres, labels


def split(
    shape: BaseGeometry, points: F64, k: int, rng: np.random.Generator
) -> list[tuple[BaseGeometry, NDArray[np.int64]]]:
    """Cut `shape` into k pieces of about equal sample count (centroidal Voronoi cells clipped to it).

    Pieces come back ordered north to south, then west to east, so numbering reads like a map.
    """
    if k == 1:
        return [(shape, np.arange(len(points), dtype=np.int64))]
    centres, labels = kmeans(points, k, rng)
    x0, y0, x1, y1 = shape.bounds
    frame = shapely.box(x0 - 1000.0, y0 - 1000.0, x1 + 1000.0, y1 + 1000.0)
    cells = shapely.voronoi_polygons(MultiPoint(centres), extend_to=frame, ordered=True)
    pieces = []
    for i, cell in enumerate(cells.geoms):
        piece = _polygonal(shapely.intersection(cell, shape))
        members = np.flatnonzero(labels == i)
        if piece.is_empty or members.size == 0:
            raise RuntimeError(f"empty piece {i} of {k}: change the seed")
        pieces.append((piece, members))
    order = sorted(range(k), key=lambda i: (-round(centres[i, 1] / 250.0), centres[i, 0]))
    return [pieces[i] for i in order]


def _polygonal(geom: BaseGeometry) -> BaseGeometry:
    """Only the polygon parts of an intersection (drop stray lines and points where edges touch)."""
    if isinstance(geom, Polygon | MultiPolygon):
        return geom
    parts = [g for g in getattr(geom, "geoms", []) if isinstance(g, Polygon) and not g.is_empty]
    return MultiPolygon(parts) if len(parts) > 1 else (parts[0] if parts else Polygon())


def allocate(total: int, weights: Sequence[float], minimum: int) -> list[int]:
    """Split `total` into integers proportional to weights, each at least `minimum` (largest remainder)."""
    n = len(weights)
    if total < minimum * n:
        raise ValueError(f"cannot give {n} parts at least {minimum} each out of {total}")
    w = np.asarray(weights, np.float64) / float(np.sum(weights))
    share = minimum + w * (total - minimum * n)
    counts = np.floor(share).astype(int)
    for i in np.argsort(-(share - counts), kind="stable")[: total - int(counts.sum())]:
        counts[i] += 1
    return [int(c) for c in counts]


# -- the district ------------------------------------------------------------------------------------


def build(seed: int = SEED) -> list[MicroGrid]:
    """Every micro-grid of the sample district with its chain of levels (shapes in local metres)."""
    rng = np.random.default_rng(seed)
    district = outline(rng)
    x0, y0, x1, y1 = district.bounds
    cores = np.array(
        [
            [x0 + 0.38 * (x1 - x0), y0 + 0.62 * (y1 - y0), 1500.0, 1.0],
            [x0 + 0.68 * (x1 - x0), y0 + 0.45 * (y1 - y0), 1100.0, 0.6],
        ]
    )
    pts = sample_points(district, SAMPLES, cores, rng)
    streets = split(district, pts, STREETS, rng)
    street_pop = [len(m) for _, m in streets]
    communities_per_street = allocate(COMMUNITIES, street_pop, minimum=3)
    grids_per_street = allocate(GRIDS, street_pop, minimum=20)
    grids: list[tuple[Area, Area, Area]] = []
    for s, ((s_shape, s_members), n_comm, n_grids) in enumerate(
        zip(streets, communities_per_street, grids_per_street, strict=True), start=1
    ):
        town = s == STREETS
        street = Area(f"SJ-{s:02d}", f"{STREET_NAMES[s - 1]}{'镇' if town else '街道'}", s_shape, s_members)
        comms = split(s_shape, pts[s_members], n_comm, rng)
        grids_per_comm = allocate(n_grids, [len(m) for _, m in comms], minimum=2)
        for c, ((c_shape, c_local), n_g) in enumerate(zip(comms, grids_per_comm, strict=True), start=1):
            c_members = s_members[c_local]
            prefix = f"{STREET_NAMES[s - 1]}{c:02d}"
            community = Area(f"{street.id}-{c:02d}", f"{prefix}{'村' if town else '社区'}", c_shape, c_members)
            for g, (g_shape, g_local) in enumerate(split(c_shape, pts[c_members], n_g, rng), start=1):
                grid = Area(f"{community.id}-{g:02d}", f"{prefix}-{g:02d}网格", g_shape, c_members[g_local])
                grids.append((street, community, grid))
    # Micro-grids are drawn by households: a grid's share of the population, with some spread.
    spread = rng.lognormal(0.0, 0.25, len(grids))
    micro_per_grid = allocate(MICRO_GRIDS, [len(g.samples) * f for (_, _, g), f in zip(grids, spread, strict=True)], 2)
    out: list[MicroGrid] = []
    for (street, community, grid), n_m in zip(grids, micro_per_grid, strict=True):
        for m, (m_shape, m_local) in enumerate(split(grid.shape, pts[grid.samples], n_m, rng), start=1):
            name = f"{grid.name.removesuffix('网格')}-{m}微网格"
            micro = Area(f"{grid.id}-{m}", name, m_shape, grid.samples[m_local])
            out.append(MicroGrid(street, community, grid, micro, f"OT-{len(out) + 1:04d}"))
    cleaned = edge_matched([mg.micro.shape for mg in out])
    return [replace(mg, micro=replace(mg.micro, shape=shape)) for mg, shape in zip(out, cleaned, strict=True)]


def edge_matched(shapes: Sequence[BaseGeometry]) -> list[BaseGeometry]:
    """The micro-grids as an exact coverage: vertices on a 1 mm lattice and every shared edge identical.

    Clipping each level separately leaves T-junctions (a neighbour's vertex on one's edge) and last-bit
    differences; once rounded to degrees those would open centimetre gaps and overlaps along boundaries.
    """
    snapped = shapely.transform(np.asarray(shapes, dtype=object), lambda xy: np.round(xy, 3))
    cleaned = shapely.coverage_clean(snapped, snapping_distance=0.01)
    if not bool(shapely.coverage_is_valid(cleaned)):
        raise RuntimeError("micro-grids do not form an edge-matched coverage")
    return list(cleaned)


# -- GeoJSON -----------------------------------------------------------------------------------------


def to_lonlat(x: F64, y: F64) -> tuple[F64, F64]:
    """Local east/north metres -> WGS-84 lon, lat (equirectangular about the centre; fine over 10 km)."""
    lat = CENTRE_LAT_DEG + np.degrees(y / EARTH_RADIUS_M)
    lon = CENTRE_LON_DEG + np.degrees(x / (EARTH_RADIUS_M * math.cos(math.radians(CENTRE_LAT_DEG))))
    return lon, lat


def _rings(geom: BaseGeometry, datum: str) -> list[list[list[list[float]]]]:
    polygons = list(geom.geoms) if isinstance(geom, MultiPolygon) else [geom]
    out = []
    for poly in polygons:
        rings = []
        for ring in (poly.exterior, *poly.interiors):
            xy = np.asarray(ring.coords)
            lon, lat = to_lonlat(xy[:, 0], xy[:, 1])
            if datum == "gcj02":
                lat, lon = wgs84_to_gcj02_array(lat, lon)
            rings.append(np.column_stack([np.round(lon, 6), np.round(lat, 6)]).tolist())
        out.append(rings)
    return out


def feature_collection(micro_grids: Sequence[MicroGrid], datum: str, seed: int = SEED) -> dict[str, Any]:
    """The FeatureCollection of micro-grids in `datum` (`wgs84` or `gcj02`)."""
    features = []
    for mg in micro_grids:
        polys = _rings(mg.micro.shape, datum)
        geometry = (
            {"type": "Polygon", "coordinates": polys[0]}
            if len(polys) == 1
            else {"type": "MultiPolygon", "coordinates": polys}
        )
        props = {
            "id": mg.micro.id,
            "name": mg.micro.name,
            "street_id": mg.street.id,
            "street_name": mg.street.name,
            "community_id": mg.community.id,
            "community_name": mg.community.name,
            "grid_id": mg.grid.id,
            "grid_name": mg.grid.name,
            "officer_team": mg.officer_team,
        }
        features.append({"type": "Feature", "properties": props, "geometry": geometry})
    datum_name = {"wgs84": "WGS-84 (EPSG:4326)", "gcj02": "GCJ-02 (as Chinese map platforms draw it)"}[datum]
    return {
        "type": "FeatureCollection",
        "name": f"gridwatch sample district, MADE UP, {datum_name}",
        "description": (
            "MADE UP sample data: a fictitious district at the location of Shangjie District (上街区), "
            "Zhengzhou, with its levels (street 街道, community 社区, grid 网格, micro-grid 微网格) and its "
            f"totals ({GRIDS} grids, {MICRO_GRIDS} micro-grids). Outline, boundaries, names, ids and officer "
            "teams are invented; one feature per micro-grid. Generated by "
            f"`python -m benchmarks.scenarios.district --seed {seed}`."
        ),
        "made_up": True,
        "datum": datum,
        "features": features,
    }


def render(collection: dict[str, Any]) -> str:
    """Compact JSON, one feature per line (small, and diffs stay readable)."""
    head = {k: v for k, v in collection.items() if k != "features"}
    lines = [json.dumps(f, ensure_ascii=False, separators=(",", ":")) for f in collection["features"]]
    body = json.dumps(head, ensure_ascii=False, indent=1)[:-2]
    return body + ',\n "features": [\n' + ",\n".join(lines) + "\n ]\n}\n"


FILES = {"wgs84": "sample-district.geojson", "gcj02": "sample-district.gcj02.geojson"}


def write(out_dir: Path, seed: int = SEED) -> dict[str, Path]:
    """Build the district and write both files into out_dir; returns datum -> path."""
    micro_grids = build(seed)
    out_dir.mkdir(parents=True, exist_ok=True)
    written = {}
    for datum, name in FILES.items():
        path = out_dir / name
        path.write_text(render(feature_collection(micro_grids, datum, seed)), encoding="utf-8")
        written[datum] = path
    return written


def main(argv: Sequence[str] | None = None) -> int:
    """Write the made-up sample district (WGS-84 and GCJ-02 GeoJSON)."""
    ap = argparse.ArgumentParser(prog="python -m benchmarks.scenarios.district", description=main.__doc__)
    ap.add_argument("--out", type=Path, default=Path("configs/grid"), help="directory (default configs/grid)")
    ap.add_argument("--seed", type=int, default=SEED, help=f"seed (default {SEED}, the committed files)")
    args = ap.parse_args(argv)
    for datum, path in write(args.out, args.seed).items():
        print(f"{datum}: {path} ({path.stat().st_size / 1e6:.2f} MB)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
