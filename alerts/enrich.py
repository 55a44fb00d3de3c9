"""Enrichment: where an event is (WGS-84 + GCJ-02, method, accuracy), where in the district's grid
(every level, the officer team, the routing key) and the platform's event class. The kind-specific
fields of the alert come from the event's typed details (`alerts/kinds.py`).

Position precedence: the event's own ground position (homography, facade or drone ray) if it has one,
else the camera's configured site (method `camera_position`, the site's accuracy radius), else none.
Grid cell precedence: a lookup of a measured ground position; else the site's fixed cell; else a lookup
of the site position. A cell found from a measured position beats the camera's fixed cell because a
camera can see across a cell boundary. A site's fixed cell gets its levels and officer team from the
grid file when the file has that cell.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass
from typing import Literal

from alerts.config import CaseCategoriesConfig, GridConfig, SiteConfig
from alerts.dedup import Position
from alerts.gcj02 import wgs84_to_gcj02
from alerts.grid import FeatureProperties, GridCell, GridIndex, GridLevel
from alerts.schema import (
    CaseCategory,
    GcjPoint,
    GridArea,
    GridCellRef,
    GridLevels,
    Location,
)
from detectors.event import Event, EventKind, GeoMethod

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Geotag:
    """A resolved position, how it was obtained and the human address hint."""

    position: Position
    method: GeoMethod
    address_hint: str | None = None


def resolve_geotag(event: Event, site: SiteConfig | None) -> Geotag | None:
    """The event's position (see the module docstring), or None when neither event nor site has one."""
    hint = site.address_hint if site is not None else None
    g = event.ground
    if g is not None and math.isfinite(g.lat_deg) and math.isfinite(g.lon_deg):
        return Geotag(Position(g.lat_deg, g.lon_deg, max(0.0, g.accuracy_m)), g.method, hint)
    if site is not None:
        return Geotag(Position(site.lat_deg, site.lon_deg, site.accuracy_m), GeoMethod.CAMERA_POSITION, hint)
    return None


def location_of(tag: Geotag) -> Location:
    """The wire location: WGS-84 canonical plus its GCJ-02 display position (converted once, here)."""
    p = tag.position
    g_lat, g_lon = wgs84_to_gcj02(p.lat_deg, p.lon_deg)
    return Location(
        lat=p.lat_deg,
        lon=p.lon_deg,
        gcj02=GcjPoint(lat=g_lat, lon=g_lon),
        geo_method=tag.method,
        accuracy_m=p.accuracy_m,
        address_hint=tag.address_hint,
    )


def grid_index_from_config(config: GridConfig) -> GridIndex | None:
    """The grid index the config describes (levels and officer team included), or None without a path."""
    if config.path is None:
        return None
    levels = {
        GridLevel(name): (spec.id_property, spec.name_property)
        for name, spec in config.levels
        if spec is not None
    }
    props = FeatureProperties(
        id=config.id_property, name=config.name_property, levels=levels, officer_team=config.officer_team_property
    )
    return GridIndex.from_geojson(config.path, props)


@dataclass(frozen=True)
class Placement:
    """Where in the district's grid an incident lies: the cell as the wire has it since 1.0, the levels
    (None when the grid file describes none, or for a site's cell the file lacks) and the officer team."""

    cell: GridCellRef
    levels: GridLevels | None = None
    officer_team: str | None = None

    def finest_area_id(self) -> str:
        """The id of the finest level known, else the cell's id (what the routing key starts with)."""
        if self.levels is not None:
            for area in (self.levels.micro_grid, self.levels.grid, self.levels.community, self.levels.street):
                if area is not None:
                    return area.id
        return self.cell.id


class GridLookup:
    """Grid resolution over an optional index whose polygons are in WGS-84 or GCJ-02."""

    def __init__(self, index: GridIndex | None, coordinates: Literal["wgs84", "gcj02"] = "wgs84") -> None:
        self.index = index
        self.coordinates = coordinates
        self._unknown_site_cells: set[str] = set()

    def place_at(self, lat_deg: float, lon_deg: float) -> Placement | None:
        """The placement of a WGS-84 position, or None outside every cell (or without a grid)."""
        if self.index is None:
            return None
        if self.coordinates == "gcj02":
            lat_deg, lon_deg = wgs84_to_gcj02(lat_deg, lon_deg)
        cell = self.index.lookup(lat_deg, lon_deg)
        return None if cell is None else _placement(cell, "lookup")

    def lookup(self, lat_deg: float, lon_deg: float) -> GridCellRef | None:
        """The cell of a WGS-84 position (the 1.0 field), or None."""
        placed = self.place_at(lat_deg, lon_deg)
        return None if placed is None else placed.cell

    def place(self, tag: Geotag | None, site: SiteConfig | None) -> Placement | None:
        """The placement of an event (precedence in the module docstring)."""
        measured = tag is not None and tag.method != GeoMethod.CAMERA_POSITION
        if measured and tag is not None:
            found = self.place_at(tag.position.lat_deg, tag.position.lon_deg)
            if found is not None:
                return found
        if site is not None and site.grid_cell_id is not None:
            return self._site_cell(site, site.grid_cell_id)
        if site is not None:
            return self.place_at(site.lat_deg, site.lon_deg)
        return None

    def _site_cell(self, site: SiteConfig, cell_id: str) -> Placement:
        cell = self.index.cell(cell_id) if self.index is not None else None
        if cell is not None:
            return _placement(cell, "site", name=site.grid_cell_name)
        if self.index is not None and cell_id not in self._unknown_site_cells:
            self._unknown_site_cells.add(cell_id)
            log.warning("site grid cell %r is not in %s: its alerts carry no levels", cell_id, self.index.source)
        return Placement(GridCellRef(id=cell_id, name=site.grid_cell_name or cell_id, source="site"))


def _placement(cell: GridCell, source: Literal["lookup", "site"], name: str | None = None) -> Placement:
    areas = {level.value: GridArea(id=ref.id, name=ref.name) for level, ref in cell.levels}
    return Placement(
        GridCellRef(id=cell.cell_id, name=name or cell.name, source=source),
        GridLevels(**areas) if areas else None,
        cell.officer_team,
    )


@dataclass(frozen=True)
class Routing:
    """The alert's district fields (schema 1.1): the cell, every level, the officer team, the routing key
    and the platform's event class."""

    grid_cell: GridCellRef | None
    grid_levels: GridLevels | None
    officer_team: str | None
    routing_key: str | None
    case_category: CaseCategory | None


def routing_of(placement: Placement | None, kind: EventKind, categories: CaseCategoriesConfig) -> Routing:
    """Where the ticket goes: `routing_key` is `<finest area id>/<kind>`, None without a placement."""
    category = categories.for_kind(kind)
    return Routing(
        grid_cell=placement.cell if placement else None,
        grid_levels=placement.levels if placement else None,
        officer_team=placement.officer_team if placement else None,
        routing_key=f"{placement.finest_area_id()}/{kind.value}" if placement else None,
        case_category=CaseCategory(**category.model_dump()) if category is not None else None,
    )
