"""Grid lookup: which district area (street → community → grid → micro-grid) a position falls in, and so
which officer team gets the ticket.

The district publishes its finest cells as GeoJSON polygons (Shangjie: 1,887 micro-grids in 401 grids),
each feature carrying the ids and names of the levels above it. `GridIndex` loads them into shapely
geometries, prepared, in an STRtree (GEOS does the point-in-polygon work in C; we only pick the answer):
a lookup asks the tree for the cells whose polygon covers the point. Points on a shared boundary belong
to both neighbours; the first cell in file order wins, as it does where a badly drawn file overlaps.
Holes and MultiPolygons follow GeoJSON (first ring the outline, the others holes). Invalid polygons
(self-intersecting rings, ...) are refused at load with the feature named, because GEOS predicates on
invalid geometry give unreliable answers.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Any

import numpy as np
import shapely
from numpy.typing import ArrayLike, NDArray
from shapely.geometry import MultiPolygon, Polygon

from foundation.errors import ConfigError

_NO_CELL = np.iinfo(np.int64).max


class GridLevel(StrEnum):
    """The levels of the district's grid, coarsest first (街道 → 社区 → 网格 → 微网格)."""

    STREET = "street"
    COMMUNITY = "community"
    GRID = "grid"
    MICRO_GRID = "micro_grid"


@dataclass(frozen=True, slots=True)
class AreaRef:
    """One unit of one level: its id and its human name."""

    id: str
    name: str


@dataclass(frozen=True, slots=True)
class GridCell:
    """One cell of the grid file: its id and name, the areas of every configured level it lies in
    (coarsest first), and the officer team that answers for it."""

    cell_id: str
    name: str
    levels: tuple[tuple[GridLevel, AreaRef], ...] = ()
    officer_team: str | None = None

    def area(self, level: GridLevel) -> AreaRef | None:
        """This cell's unit of `level`, or None when the file does not describe that level."""
        return next((ref for lv, ref in self.levels if lv == level), None)


@dataclass(frozen=True, slots=True)
class CellShape:
    """A cell and its polygon(s) in the coordinates of the source file (lon, lat degrees)."""

    cell: GridCell
    geometry: Polygon | MultiPolygon


@dataclass(frozen=True)
class FeatureProperties:
    """Which GeoJSON feature properties hold the cell id and name, each level's id and name, and the
    officer team. A property named here must be on every feature (a silently empty field misroutes)."""

    id: str = "id"
    name: str = "name"
    levels: Mapping[GridLevel, tuple[str, str]] = field(default_factory=dict)
    """level -> (id property, name property)."""
    officer_team: str | None = None


class GridIndex:
    """Point-in-polygon index over grid cells, in the coordinates (lon, lat degrees) of the source file."""

    def __init__(self, shapes: Sequence[CellShape], *, source: str = "<memory>") -> None:
        self.source = source
        self.cells: list[GridCell] = [s.cell for s in shapes]
        self._by_id = {c.cell_id: c for c in self.cells}
        self._geoms: NDArray[np.object_] = np.asarray([s.geometry for s in shapes] or [], dtype=object)
        shapely.prepare(self._geoms)
        self._tree = shapely.STRtree(self._geoms)

    def __len__(self) -> int:
        return len(self.cells)

    @classmethod
    def from_geojson(cls, path: str | Path, properties: FeatureProperties | None = None) -> GridIndex:
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
        return cls(parse_feature_collection(data, source=str(p), properties=properties), source=str(p))

    # -- queries ------------------------------------------------------------------------------------

    def lookup(self, lat_deg: float, lon_deg: float) -> GridCell | None:
        """The cell containing (lat, lon) (boundary included), or None outside every cell."""
        lon, lat = float(lon_deg), float(lat_deg)
        if not (math.isfinite(lon) and math.isfinite(lat)) or not self.cells:
            return None
        hits = self._tree.query(shapely.Point(lon, lat), predicate="intersects")
        return self.cells[int(hits.min())] if hits.size else None

    def lookup_many(self, lat_deg: ArrayLike, lon_deg: ArrayLike) -> NDArray[np.int64]:
        """Indices into `cells` for many points (-1 where no cell contains the point), in one tree query."""
        lat = np.asarray(lat_deg, np.float64).ravel()
        lon = np.asarray(lon_deg, np.float64).ravel()
        if lat.shape != lon.shape:
            raise ValueError(f"lat and lon differ in size: {lat.size} != {lon.size}")
        out = np.full(lat.shape, _NO_CELL, np.int64)
        finite = np.flatnonzero(np.isfinite(lat) & np.isfinite(lon))
        if finite.size and self.cells:
            point_i, cell_i = self._tree.query(shapely.points(lon[finite], lat[finite]), predicate="intersects")
            np.minimum.at(out, finite[point_i], cell_i)  # the first cell in file order wins
        out[out == _NO_CELL] = -1
        return out

    def geometries(self) -> NDArray[np.object_]:
        """The cells' shapely polygons in `cells` order (prepared; do not modify)."""
        return self._geoms

    def cell(self, cell_id: str) -> GridCell | None:
        """The cell with this id (a camera site's fixed cell), or None when the file has no such cell."""
        return self._by_id.get(cell_id)


# -- parsing ----------------------------------------------------------------------------------------


def parse_feature_collection(
    data: Any, *, source: str, properties: FeatureProperties | None = None
) -> list[CellShape]:
    """Validate GeoJSON cells and return their shapes; every problem is reported with the feature index."""
    props_spec = properties or FeatureProperties()
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
        if not isinstance(props, Mapping):
            problems.append(f"{where}: `properties` is not an object")
            continue
        raw_id = props.get(props_spec.id)
        if raw_id is None or str(raw_id).strip() == "":
            problems.append(f"{where}: property `{props_spec.id}` (the cell id) is missing")
            continue
        cell_id = str(raw_id)
        if cell_id in seen:
            problems.append(f"{where}: cell id {cell_id!r} already used by features[{seen[cell_id]}]")
            continue
        seen[cell_id] = i
        try:
            cell = _cell(cell_id, props, props_spec)
            geometry = _geometry(feature.get("geometry"))
        except ValueError as exc:
            problems.append(f"{where} (cell {cell_id}): {exc}")
            continue
        shapes.append(CellShape(cell, geometry))
    if problems:
        raise ConfigError(f"{source}: {len(problems)} problem(s) in grid GeoJSON", problems)
    return shapes


def _cell(cell_id: str, props: Mapping[str, Any], spec: FeatureProperties) -> GridCell:
    name = props.get(spec.name)
    levels = []
    for level in GridLevel:  # coarsest first, whatever order the config lists them in
        if level not in spec.levels:
            continue
        id_key, name_key = spec.levels[level]
        level_id, level_name = _text(props, id_key), _text(props, name_key)
        if level_id is None or level_name is None:
            missing = [k for k, v in ((id_key, level_id), (name_key, level_name)) if v is None]
            raise ValueError(f"{level.value} level: property {', '.join(f'`{k}`' for k in missing)} missing")
        levels.append((level, AreaRef(level_id, level_name)))
    team = None
    if spec.officer_team is not None:
        team = _text(props, spec.officer_team)
        if team is None:
            raise ValueError(f"property `{spec.officer_team}` (the officer team) is missing")
    return GridCell(cell_id, str(name) if name is not None else cell_id, tuple(levels), team)


def _text(props: Mapping[str, Any], key: str) -> str | None:
    value = props.get(key)
    return None if value is None or str(value).strip() == "" else str(value)


def _geometry(geometry: Any) -> Polygon | MultiPolygon:
    if not isinstance(geometry, Mapping):
        raise ValueError("geometry is missing")
    kind = geometry.get("type")
    coords = geometry.get("coordinates")
    if kind == "Polygon":
        geom: Polygon | MultiPolygon = _polygon(coords)
    elif kind == "MultiPolygon":
        if not isinstance(coords, list) or not coords:
            raise ValueError("MultiPolygon has no polygons")
        geom = MultiPolygon([_polygon(p) for p in coords])
    else:
        raise ValueError(f"geometry type must be Polygon or MultiPolygon, got {kind!r}")
    if not geom.is_valid:
        raise ValueError(f"invalid polygon ({shapely.is_valid_reason(geom)}); repair it, e.g. make_valid")
    return geom


def _polygon(rings: Any) -> Polygon:
    if not isinstance(rings, list) or not rings:
        raise ValueError("polygon has no rings")
    outer, *holes = (_ring(r) for r in rings)
    return Polygon(outer, holes)


def _ring(ring: Any) -> NDArray[np.float64]:
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
    return pts
