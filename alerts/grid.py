"""Grid-cell lookup: which district grid cell (and so which grid officer) a position falls in.

The district publishes its cells as GeoJSON polygons (thousands of them: 401 cells, 1,887 micro-grids).
`GridIndex` keeps every ring edge of every cell in flat numpy arrays, grouped per cell, plus a uniform
bucket grid over the cells' bounding boxes. A lookup visits one bucket, filters the few candidate cells
by bounding box and runs an even-odd ray cast over each candidate's edges, vectorised. Holes and
MultiPolygons are handled by the even-odd rule over all rings of a cell. Cells are expected not to
overlap; where they do, the first cell in file order wins.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from foundation.errors import ConfigError

Ring = Sequence[Sequence[float]]


@dataclass(frozen=True, slots=True)
class GridCell:
    """One grid cell: its id (what tickets are routed by) and its human name."""

    cell_id: str
    name: str


@dataclass(frozen=True, slots=True)
class CellShape:
    """A cell's rings as (lon, lat) sequences: outer rings and holes alike (even-odd rule)."""

    cell: GridCell
    rings: tuple[Ring, ...]


class GridIndex:
    """Point-in-polygon index over grid cells, in the coordinates (lon, lat degrees) of the source file."""

    def __init__(self, shapes: Sequence[CellShape], *, source: str = "<memory>") -> None:
        self.source = source
        self.cells: list[GridCell] = [s.cell for s in shapes]
        edges: list[NDArray[np.float64]] = []
        starts = [0]
        bboxes = np.zeros((len(shapes), 4), np.float64)
        for i, shape in enumerate(shapes):
            cell_edges = [_ring_edges(ring) for ring in shape.rings]
            stacked = np.concatenate(cell_edges) if cell_edges else np.zeros((0, 4))
            edges.append(stacked)
            starts.append(starts[-1] + len(stacked))
            pts = np.concatenate([np.asarray(r, np.float64)[:, :2] for r in shape.rings])
            bboxes[i] = (pts[:, 0].min(), pts[:, 1].min(), pts[:, 0].max(), pts[:, 1].max())
        self._edges = np.concatenate(edges) if edges else np.zeros((0, 4), np.float64)
        self._edge_start = np.asarray(starts, np.int64)
        self._bbox = bboxes
        self._build_buckets()

    def __len__(self) -> int:
        return len(self.cells)

    # -- construction -------------------------------------------------------------------------------

    @classmethod
    def from_geojson(
        cls, path: str | Path, *, id_property: str = "id", name_property: str = "name"
    ) -> GridIndex:
        """Load a FeatureCollection of Polygon/MultiPolygon cells; errors name the file and feature."""
        p = Path(path)
        try:
            data = json.loads(p.read_text(encoding="utf-8"))
        except FileNotFoundError as exc:
            raise ConfigError(f"{p}: grid GeoJSON not found") from exc
        except (OSError, UnicodeDecodeError) as exc:
            raise ConfigError(f"{p}: cannot read grid GeoJSON ({exc})") from exc
        except json.JSONDecodeError as exc:
            raise ConfigError(f"{p}:{exc.lineno}: not valid JSON ({exc.msg})") from exc
        return cls(
            parse_feature_collection(
                data, source=str(p), id_property=id_property, name_property=name_property
            ),
            source=str(p),
        )

    def _build_buckets(self) -> None:
        n = len(self.cells)
        if n == 0:
            self._origin = np.zeros(2)
            self._bucket_size = np.ones(2)
            self._nb = (1, 1)
            self._bucket_ptr = np.zeros(2, np.int64)
            self._bucket_cells = np.zeros(0, np.int64)
            return
        lo = self._bbox[:, :2].min(axis=0)
        hi = self._bbox[:, 2:].max(axis=0)
        span = np.maximum(hi - lo, 1e-9)
        # About two buckets per cell, shaped like the district, so a bucket holds a handful of cells.
        target = max(1.0, 2.0 * n)
        aspect = span[0] / span[1]
        nx = max(1, min(4096, round(math.sqrt(target * aspect))))
        ny = max(1, min(4096, round(target / nx)))
        self._origin = lo
        self._bucket_size = span / np.array([nx, ny], np.float64)
        self._nb = (nx, ny)
        ix0, iy0 = self._bucket_of(self._bbox[:, 0], self._bbox[:, 1])
        ix1, iy1 = self._bucket_of(self._bbox[:, 2], self._bbox[:, 3])
        members: list[NDArray[np.int64]] = []
        cell_ids: list[NDArray[np.int64]] = []
        for c in range(n):
            xs = np.arange(ix0[c], ix1[c] + 1)
            ys = np.arange(iy0[c], iy1[c] + 1)
            b = (ys[:, None] * nx + xs[None, :]).ravel()
            members.append(b)
            cell_ids.append(np.full(b.shape, c, np.int64))
        bucket = np.concatenate(members)
        cells = np.concatenate(cell_ids)
        order = np.lexsort((cells, bucket))  # by bucket, then file order inside a bucket
        bucket, cells = bucket[order], cells[order]
        self._bucket_ptr = np.searchsorted(bucket, np.arange(nx * ny + 1)).astype(np.int64)
        self._bucket_cells = cells

    def _bucket_of(
        self, lon: NDArray[np.float64], lat: NDArray[np.float64]
    ) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
        nx, ny = self._nb
        ix = np.floor((lon - self._origin[0]) / self._bucket_size[0]).astype(np.int64)
        iy = np.floor((lat - self._origin[1]) / self._bucket_size[1]).astype(np.int64)
        return np.clip(ix, 0, nx - 1), np.clip(iy, 0, ny - 1)

    # -- queries ------------------------------------------------------------------------------------

    def lookup(self, lat_deg: float, lon_deg: float) -> GridCell | None:
        """The cell containing (lat, lon), or None outside every cell."""
        idx = self._lookup_index(float(lon_deg), float(lat_deg))
        return None if idx < 0 else self.cells[idx]

    def lookup_many(self, lat_deg: ArrayLike, lon_deg: ArrayLike) -> NDArray[np.int64]:
        """Indices into `cells` for many points (-1 where no cell contains the point)."""
        lat = np.asarray(lat_deg, np.float64).ravel()
        lon = np.asarray(lon_deg, np.float64).ravel()
        out = np.full(lat.shape, -1, np.int64)
        for i in range(lat.size):
            out[i] = self._lookup_index(float(lon[i]), float(lat[i]))
        return out

    def _lookup_index(self, lon: float, lat: float) -> int:
        if not self.cells or not (math.isfinite(lon) and math.isfinite(lat)):
            return -1
        nx, ny = self._nb
        fx = (lon - self._origin[0]) / self._bucket_size[0]
        fy = (lat - self._origin[1]) / self._bucket_size[1]
        if fx < 0 or fy < 0 or fx > nx or fy > ny:
            return -1
        b = min(int(fy), ny - 1) * nx + min(int(fx), nx - 1)
        cand = self._bucket_cells[self._bucket_ptr[b] : self._bucket_ptr[b + 1]]
        if cand.size == 0:
            return -1
        box = self._bbox[cand]
        cand = cand[(box[:, 0] <= lon) & (lon <= box[:, 2]) & (box[:, 1] <= lat) & (lat <= box[:, 3])]
        for c in cand:
            e = self._edges[self._edge_start[c] : self._edge_start[c + 1]]
            if _inside(e, lon, lat):
                return int(c)
        return -1


def _ring_edges(ring: Ring) -> NDArray[np.float64]:
    """(N, 4) edges x1, y1, x2, y2 of a ring (closed or not)."""
    pts = np.asarray(ring, np.float64)[:, :2]
    if not np.array_equal(pts[0], pts[-1]):
        pts = np.vstack([pts, pts[:1]])
    return np.hstack([pts[:-1], pts[1:]])


def _inside(edges: NDArray[np.float64], x: float, y: float) -> bool:
    """Even-odd ray cast towards +x over all ring edges of one cell."""
    y1, y2 = edges[:, 1], edges[:, 3]
    straddle = (y1 > y) != (y2 > y)
    if not straddle.any():
        return False
    e = edges[straddle]
    x_cross = e[:, 0] + (y - e[:, 1]) * (e[:, 2] - e[:, 0]) / (e[:, 3] - e[:, 1])
    return bool(np.count_nonzero(x < x_cross) & 1)


def parse_feature_collection(
    data: Any, *, source: str, id_property: str = "id", name_property: str = "name"
) -> list[CellShape]:
    """Validate GeoJSON cells and return their shapes; every problem is reported with the feature index."""
    if not isinstance(data, Mapping) or data.get("type") != "FeatureCollection":
        raise ConfigError(f"{source}: grid GeoJSON must be a FeatureCollection")
    features = data.get("features")
    if not isinstance(features, list):
        raise ConfigError(f"{source}: FeatureCollection has no `features` list")
    problems: list[str] = []
    shapes: list[CellShape] = []
    seen: dict[str, int] = {}
    for i, feature in enumerate(features):
        where = f"features[{i}]"
        if not isinstance(feature, Mapping):
            problems.append(f"{where}: not an object")
            continue
        props = feature.get("properties") or {}
        raw_id = props.get(id_property) if isinstance(props, Mapping) else None
        if raw_id is None or str(raw_id).strip() == "":
            problems.append(f"{where}: property `{id_property}` (the cell id) is missing")
            continue
        cell_id = str(raw_id)
        if cell_id in seen:
            problems.append(f"{where}: cell id {cell_id!r} already used by features[{seen[cell_id]}]")
            continue
        seen[cell_id] = i
        name = props.get(name_property)
        geometry = feature.get("geometry")
        try:
            rings = _geometry_rings(geometry)
        except ValueError as exc:
            problems.append(f"{where} (cell {cell_id}): {exc}")
            continue
        shapes.append(CellShape(GridCell(cell_id, str(name) if name is not None else cell_id), tuple(rings)))
    if problems:
        raise ConfigError(f"{source}: {len(problems)} problem(s) in grid GeoJSON", problems)
    return shapes


def _geometry_rings(geometry: Any) -> list[Ring]:
    if not isinstance(geometry, Mapping):
        raise ValueError("geometry is missing")
    kind = geometry.get("type")
    coords = geometry.get("coordinates")
    if kind == "Polygon":
        polygons: Iterable[Any] = [coords]
    elif kind == "MultiPolygon":
        if not isinstance(coords, list) or not coords:
            raise ValueError("MultiPolygon has no polygons")
        polygons = coords
    else:
        raise ValueError(f"geometry type must be Polygon or MultiPolygon, got {kind!r}")
    rings: list[Ring] = []
    for polygon in polygons:
        if not isinstance(polygon, list) or not polygon:
            raise ValueError("polygon has no rings")
        for ring in polygon:
            rings.append(_check_ring(ring))
    return rings


def _check_ring(ring: Any) -> Ring:
    if not isinstance(ring, list) or len(ring) < 4:
        raise ValueError("a ring needs at least 4 positions (first = last)")
    try:
        pts = np.asarray([[float(p[0]), float(p[1])] for p in ring], np.float64)
    except (TypeError, ValueError, IndexError) as exc:
        raise ValueError("ring positions must be [lon, lat] numbers") from exc
    if not np.isfinite(pts).all():
        raise ValueError("ring has non-finite coordinates")
    if (np.abs(pts[:, 0]) > 180).any() or (np.abs(pts[:, 1]) > 90).any():
        raise ValueError("ring coordinates must be [lon, lat] degrees (lon within ±180, lat within ±90)")
    return [tuple(p) for p in pts.tolist()]
