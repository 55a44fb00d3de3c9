"""Enrichment: where an event is (WGS-84 + GCJ-02, method, accuracy), which grid cell, and the
kind-specific fields of the alert.

Position precedence: the event's own ground position (homography, facade or drone ray) if it has one,
else the camera's configured site (method `camera_position`, the site's accuracy radius), else none.
Grid cell precedence: a lookup of a measured ground position; else the site's fixed cell; else a lookup
of the site position. A cell found from a measured position beats the camera's fixed cell because a
camera can see across a cell boundary.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
from numpy.typing import NDArray

from alerts.config import SiteConfig
from alerts.dedup import Position
from alerts.gcj02 import wgs84_to_gcj02
from alerts.grid import GridIndex
from alerts.schema import (
    ConstructionInfo,
    FireInfo,
    GcjPoint,
    GeoJsonPolygon,
    GridCellRef,
    Location,
    ThrowInfo,
)
from detectors.event import Event, EventKind, GeoMethod
from detectors.fire.details import FireDetail


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


class GridLookup:
    """Grid-cell resolution over an optional index whose polygons are in WGS-84 or GCJ-02."""

    def __init__(self, index: GridIndex | None, coordinates: Literal["wgs84", "gcj02"] = "wgs84") -> None:
        self.index = index
        self.coordinates = coordinates

    def lookup(self, lat_deg: float, lon_deg: float) -> GridCellRef | None:
        if self.index is None:
            return None
        if self.coordinates == "gcj02":
            lat_deg, lon_deg = wgs84_to_gcj02(lat_deg, lon_deg)
        cell = self.index.lookup(lat_deg, lon_deg)
        return None if cell is None else GridCellRef(id=cell.cell_id, name=cell.name, source="lookup")

    def cell_for(self, tag: Geotag | None, site: SiteConfig | None) -> GridCellRef | None:
        measured = tag is not None and tag.method != GeoMethod.CAMERA_POSITION
        if measured and tag is not None:
            found = self.lookup(tag.position.lat_deg, tag.position.lon_deg)
            if found is not None:
                return found
        if site is not None and site.grid_cell_id is not None:
            return GridCellRef(
                id=site.grid_cell_id, name=site.grid_cell_name or site.grid_cell_id, source="site"
            )
        if site is not None:
            return self.lookup(site.lat_deg, site.lon_deg)
        return None


def _number(details: Mapping[str, Any], key: str) -> float | None:
    value = details.get(key)
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        return None
    return float(value)


def trajectory_array(details: Mapping[str, Any]) -> NDArray[np.float64] | None:
    """`details["trajectory_px"]` ((t_s, x, y) triples) as an (N, 3) array; None when absent or malformed."""
    raw = details.get("trajectory_px")
    if raw is None:
        return None
    try:
        arr = np.asarray(raw, np.float64).reshape(-1, 3)
    except (TypeError, ValueError):
        return None
    return arr if len(arr) and np.isfinite(arr).all() else None


def throw_info(event: Event) -> ThrowInfo:
    """Facade hit and trajectory (`details["trajectory_px"]`) of a throw."""
    arr = trajectory_array(event.details)
    traj = None if arr is None else [(float(t), float(x), float(y)) for t, x, y in arr]
    f = event.facade
    return ThrowInfo(
        floor=f.floor if f else None,
        floor_uncertainty=f.floor_uncertainty if f else None,
        facade_column=f.column if f else None,
        along_m=f.along_m if f else None,
        height_m=f.height_m if f else None,
        trajectory_px=traj,
    )


def fire_info(event: Event) -> FireInfo:
    """Area (m²) and growth (`FireDetail.GROWTH_RATIO`, current area / start area) of a fire or smoke."""
    area = event.area_m2 if event.area_m2 is not None and math.isfinite(event.area_m2) else None
    growth = _number(event.details, FireDetail.GROWTH_RATIO)
    return FireInfo(area_m2=area, growth_ratio=growth if growth is None or growth >= 0 else None)


def construction_info(event: Event) -> ConstructionInfo:
    """Footprint polygon (closed GeoJSON ring of [lon, lat]) and area of a construction site."""
    footprint = None
    if event.footprint_lonlat and len(event.footprint_lonlat) >= 3:
        ring = [(float(lon), float(lat)) for lon, lat in event.footprint_lonlat]
        if ring[0] != ring[-1]:
            ring.append(ring[0])
        footprint = GeoJsonPolygon(coordinates=[ring])
    return ConstructionInfo(footprint=footprint, area_m2=event.area_m2)


def kind_fields(event: Event) -> dict[str, Any]:
    """The kind-specific sub-object of the alert, keyed by its field name."""
    if event.kind == EventKind.THROW:
        return {"throw": throw_info(event)}
    if event.kind in (EventKind.FIRE, EventKind.SMOKE):
        return {"fire": fire_info(event)}
    return {"construction": construction_info(event)}
