"""Regions of change become changes: placed in WGS-84, named, checked against the registry, cropped.

A region (`regions.py`) is in comparison cells of one flight's canvas. Here it gets a footprint in
lon/lat and in the flight's local metres, a kind (`classify.py`), and a status: `new` (alerted),
`registered` / `permitted` / `pending_review` (the registry knows it; not alerted), `removed` (the
later survey shows ground like its surroundings there: a car gone, a shed demolished, `revealed.py`; not
alerted), or
`vehicles` (cars parked side by side, `vehicles.is_vehicle_group`; not alerted).

A change on a registered building with a height (a rooftop addition) is seen leaning away from the
camera by height / camera height of its distance from the nadir point; its position is moved back by
that much, as the flight detector does with roof planes.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from enum import StrEnum

import cv2
import numpy as np
from numpy.typing import NDArray

from detectors.construction.local_registry import LocalRegistry, RegistryMatch
from detectors.construction.registry_entries import StructureKind
from detectors.construction.survey.change import ChangeMap
from detectors.construction.survey.classify import STRUCTURE_OF, ChangeKind, KindEvidence, classify
from detectors.construction.survey.config import ChangeConfig
from detectors.construction.survey.grid import from_pixels
from detectors.construction.survey.mosaic import Canvas
from detectors.construction.survey.regions import Region
from detectors.construction.survey.revealed import is_revealed_ground
from detectors.construction.survey.vehicles import is_vehicle_group
from detectors.geometry.geodesy import enu_to_wgs84, wgs84_to_enu

RELIEF_SEARCH_M = 30.0
"""How far from a change the registry is searched for the building it may stand on."""


class ChangeStatus(StrEnum):
    NEW = "new"
    """Alerted."""
    REGISTERED = "registered"
    PERMITTED = "permitted"
    PENDING_REVIEW = "pending_review"
    REMOVED = "removed"
    """Looks like the ground around it now: something went away."""
    VEHICLES = "vehicles"
    """Cars parked side by side (`is_vehicle_group`): not a structure."""


@dataclass
class Change:
    """One change between two surveys, with everything its alert and the survey summary need."""

    change_id: str
    kind: ChangeKind
    structure_kind: StructureKind
    status: ChangeStatus
    lat_deg: float
    lon_deg: float
    ring_lonlat: NDArray[np.float64]
    ring_m: NDArray[np.float64]
    """Footprint in the flight's local metres (registry matching)."""
    area_m2: float
    region: Region
    evidence: KindEvidence
    accuracy_m: float
    box_px: tuple[int, int, int, int]
    """(x0, y0, x1, y1) in mosaic pixels of the canvas."""
    outline_px: NDArray[np.float64]
    """The region's outline in mosaic pixels of the canvas (as seen, before any relief correction)."""
    seen_at: float
    registry: RegistryMatch | None = None
    relief_corrected_m: float = 0.0
    crops: dict[str, str] = field(default_factory=dict)
    """before / after / pair -> URI of the JPEG crop (when a store is configured)."""


def _cells_to_px(cells: NDArray[np.float64], factor: int) -> NDArray[np.float64]:
    out: NDArray[np.float64] = (np.asarray(cells, np.float64).reshape(-1, 2) + 0.5) * factor - 0.5
    return out


def build_changes(
    regions: list[Region],
    change: ChangeMap,
    after: Canvas,
    origin: tuple[float, float],
    registry: LocalRegistry | None,
    config: ChangeConfig,
    known_min_overlap: float,
    tolerance_m: float,
    base_accuracy_m: float,
    seen_at: list[float],
) -> list[Change]:
    """Place, name and decide every region (see the module docstring). `seen_at[i]` is the capture time of
    the keyframe `i` of `after.views`."""
    out: list[Change] = []
    lat = after.lattice
    for n, region in enumerate(regions, start=1):
        x0, y0, x1, y1 = region.box
        evidence = classify(change.after_bgr[y0:y1, x0:x1], change.after_lab[y0:y1, x0:x1], region.mask, change.cell_m)
        outline_px = _cells_to_px(region.outline_cells, change.factor)
        centre_px = _cells_to_px(np.array(region.centroid_cells), change.factor)[0]
        lon, la = lat.lon_lat(from_pixels(after.window, outline_px))
        ring_lonlat = np.column_stack([lon, la])
        e, nn = wgs84_to_enu(origin[0], origin[1], la, lon)
        ring_m = np.column_stack([e, nn])
        c_lon, c_lat = lat.lon_lat(from_pixels(after.window, centre_px[None]))
        c_e, c_n = wgs84_to_enu(origin[0], origin[1], c_lat, c_lon)
        centre_m = np.array([float(c_e[0]), float(c_n[0])])
        kind = evidence.kind
        structure = STRUCTURE_OF[kind]
        match = (
            registry.match(ring_m, structure, known_min_overlap, tolerance_m)
            if registry is not None and len(registry)
            else None
        )
        shift_m = 0.0
        if registry is not None and len(registry):
            moved = _relief_corrected(centre_m, centre_px, after, registry, origin)
            if moved is not None:
                shift_m = float(np.hypot(*(moved - centre_m)))
                ring_m = ring_m + (moved - centre_m)
                centre_m = moved
                la2, lo2 = enu_to_wgs84(origin[0], origin[1], ring_m[:, 0], ring_m[:, 1])
                ring_lonlat = np.column_stack([lo2, la2])
                cl, co = enu_to_wgs84(origin[0], origin[1], centre_m[0], centre_m[1])
                c_lat, c_lon = np.atleast_1d(cl), np.atleast_1d(co)
        gone = is_revealed_ground(region, change, config)
        status = _status(region, is_vehicle_group(region, evidence, config, change), gone, match, config)
        view = int(after.view_index[round(centre_px[1]), round(centre_px[0])]) if _inside(after, centre_px) else -1
        f = change.factor
        out.append(
            Change(
                change_id=f"C{n}",
                kind=kind,
                structure_kind=structure,
                status=status,
                lat_deg=float(c_lat[0]),
                lon_deg=float(c_lon[0]),
                ring_lonlat=ring_lonlat,
                ring_m=ring_m,
                area_m2=region.area_m2,
                region=region,
                evidence=evidence,
                accuracy_m=math.hypot(base_accuracy_m, 0.5 * shift_m),
                box_px=(x0 * f, y0 * f, x1 * f, y1 * f),
                outline_px=outline_px,
                seen_at=seen_at[view] if 0 <= view < len(seen_at) else (seen_at[0] if seen_at else 0.0),
                registry=match,
                relief_corrected_m=shift_m,
            )
        )
    return out


def _inside(canvas: Canvas, px: NDArray[np.float64]) -> bool:
    h, w = canvas.window.shape
    return bool(0 <= round(px[0]) < w and 0 <= round(px[1]) < h)


def _status(
    region: Region, vehicles: bool, revealed: bool, match: RegistryMatch | None, config: ChangeConfig
) -> ChangeStatus:
    if region.solid_m2 < config.min_area_m2 or revealed:
        return ChangeStatus.REMOVED
    if vehicles:
        return ChangeStatus.VEHICLES
    if match is not None and match.known:
        reason = match.reason
        if reason is not None and reason.value == ChangeStatus.PERMITTED.value:
            return ChangeStatus.PERMITTED
        if reason is not None and reason.value == ChangeStatus.PENDING_REVIEW.value:
            return ChangeStatus.PENDING_REVIEW
        return ChangeStatus.REGISTERED
    return ChangeStatus.NEW


def _relief_corrected(
    centre_m: NDArray[np.float64],
    centre_px: NDArray[np.float64],
    after: Canvas,
    registry: LocalRegistry,
    origin: tuple[float, float],
) -> NDArray[np.float64] | None:
    """Where a change seen on a registered building's roof stands: moved towards the nadir point of the
    view that saw it by height / camera height (None when it is not on a building with a height)."""
    if not _inside(after, centre_px):
        return None
    view = int(after.view_index[round(centre_px[1]), round(centre_px[0])])
    if view < 0 or view >= len(after.views):
        return None
    nadir_lon, nadir_lat = after.lattice.lon_lat(after.views[view : view + 1, :2])
    ne, nn = wgs84_to_enu(origin[0], origin[1], nadir_lat, nadir_lon)
    nadir = np.array([float(ne[0]), float(nn[0])])
    height = float(after.views[view, 2])
    # The roof is seen pushed outwards from the nadir point by h / (H - h); pulled back by each nearby
    # building's height, the point must land inside that building.
    best: NDArray[np.float64] | None = None
    best_h = 0.0
    for entry, h in registry.heights_near((float(centre_m[0]), float(centre_m[1])), RELIEF_SEARCH_M):
        if not 0 < h < height:
            continue
        ground = nadir + (centre_m - nadir) * (height - h) / height
        if registry.holds(entry, (float(ground[0]), float(ground[1]))) and h > best_h:
            best, best_h = ground, h
    return best


def crop(
    image: NDArray[np.uint8],
    valid: NDArray[np.bool_],
    box: tuple[int, int, int, int],
    margin_px: int,
    outline_px: NDArray[np.float64] | None = None,
) -> NDArray[np.uint8]:
    """A crop of a mosaic around a box (outside the mosaic black), the outline drawn when given."""
    x0, y0, x1, y1 = box
    h, w = image.shape[:2]
    cx0, cy0, cx1, cy1 = x0 - margin_px, y0 - margin_px, x1 + margin_px, y1 + margin_px
    out = np.zeros((cy1 - cy0, cx1 - cx0, 3), np.uint8)
    sx0, sy0, sx1, sy1 = max(cx0, 0), max(cy0, 0), min(cx1, w), min(cy1, h)
    if sx1 > sx0 and sy1 > sy0:
        part = image[sy0:sy1, sx0:sx1].copy()
        part[~valid[sy0:sy1, sx0:sx1]] = 0
        out[sy0 - cy0 : sy1 - cy0, sx0 - cx0 : sx1 - cx0] = part
    if outline_px is not None and len(outline_px) >= 3:
        pts = np.round((outline_px - (cx0, cy0)) * 4).astype(np.int32)
        cv2.polylines(out, [pts], True, (0, 215, 255), 1, cv2.LINE_AA, shift=2)
    return out
