"""One flight's view of the construction registry: the entries near its origin as ENU rings, with an
STRtree over them, and how a site's footprint relates to them (`RegistryMatch`: known, permitted, pending
review). Polygon work is shapely's (GEOS).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import shapely
from numpy.typing import NDArray
from shapely.geometry import Polygon

from detectors.construction.polygons import Ring
from detectors.construction.registry_entries import (
    COVERS_EVERY_KIND,
    EntryStatus,
    RegistryEntry,
    StructureKind,
    entry_polygon,
)
from detectors.geometry.drone import DroneView
from detectors.geometry.geodesy import enu_to_wgs84


def _box_coverage(
    view: DroneView, quad_px: NDArray[np.float64], plane_up_m: float, ring: Ring, tolerance_m: float
) -> float:
    """Share of an image box covered by the image bounding box of a ground outline grown by the tolerance.

    The outline is grown as its vertices moved by +-tolerance in east and north (a square buffer), so a
    thin structure grows across as well as along.
    """
    corners = np.array([[-1.0, -1.0], [1.0, -1.0], [1.0, 1.0], [-1.0, 1.0]]) * tolerance_m
    grown = (ring[:, None, :] + corners[None, :, :]).reshape(-1, 2)
    px = view.ground_to_pixel(grown, plane_up_m)
    if not np.isfinite(px).all():
        return 0.0
    (rx0, ry0), (rx1, ry1) = px.min(axis=0), px.max(axis=0)
    (bx0, by0), (bx1, by1) = quad_px.min(axis=0), quad_px.max(axis=0)
    inter = max(0.0, min(rx1, bx1) - max(rx0, bx0)) * max(0.0, min(ry1, by1) - max(ry0, by0))
    area = max((bx1 - bx0) * (by1 - by0), 1e-9)
    return float(inter / area)


@dataclass(frozen=True)
class RegistryMatch:
    """How a site footprint relates to the registry: best same-kind match, what covers it whatever its kind
    (a permitted or pending-review entry), and what it stands on."""

    known: bool
    same_kind_id: str | None
    same_kind_overlap: float
    on_id: str | None
    on_kind: StructureKind | None
    on_overlap: float
    covered_by_id: str | None = None
    covered_by_status: EntryStatus | None = None
    covered_overlap: float = 0.0

    @property
    def reason(self) -> EntryStatus | None:
        """Why the site is known: the status of the entry that makes it so (None: it is new)."""
        if not self.known:
            return None
        if self.covered_by_status is not None:
            return self.covered_by_status
        return EntryStatus.REGISTERED


class LocalRegistry:
    """Registry entries near one flight, as ENU rings and shapely polygons around the flight's origin."""

    def __init__(
        self,
        entries: tuple[RegistryEntry, ...],
        rings: tuple[Ring, ...],
        origin_lat_deg: float,
        origin_lon_deg: float,
    ) -> None:
        self.entries = entries
        self.rings = rings
        self.origin_lat_deg = origin_lat_deg
        self.origin_lon_deg = origin_lon_deg
        self.polygons = tuple(entry_polygon(r) for r in rings)
        self._tree = shapely.STRtree(self.polygons)
        self._boundaries = tuple(p.exterior for p in self.polygons)
        self._boxes = (
            np.array([[r[:, 0].min(), r[:, 1].min(), r[:, 0].max(), r[:, 1].max()] for r in rings])
            if rings
            else np.zeros((0, 4))
        )
        self._heights = np.array([np.nan if e.height_m is None else e.height_m for e in entries], np.float64)
        self._grown: dict[tuple[int, float], Polygon] = {}

    def __len__(self) -> int:
        return len(self.entries)

    def near(self, ring: Ring, margin_m: float) -> list[int]:
        """Indexes of entries whose bounding box comes within `margin_m` of the ring's."""
        if not self.polygons:
            return []
        x0, y0 = ring.min(axis=0) - margin_m
        x1, y1 = ring.max(axis=0) + margin_m
        return sorted(int(i) for i in self._tree.query(shapely.box(x0, y0, x1, y1)))

    def _grown_by(self, i: int, tolerance_m: float) -> Polygon:
        """Entry i's polygon buffered by the tolerance (round corners, like a disc dilation), cached."""
        key = (i, tolerance_m)
        grown = self._grown.get(key)
        if grown is None:
            grown = self.polygons[i].buffer(tolerance_m, quad_segs=4) if tolerance_m > 0 else self.polygons[i]
            self._grown[key] = grown
        return grown

    def coverage(self, ring: Ring, indexes: Sequence[int], tolerance_m: float) -> list[float]:
        """Share of the ring's area covered by each entry grown by `tolerance_m`."""
        subject = entry_polygon(ring)
        area = subject.area
        if area <= 0:
            return [0.0 for _ in indexes]
        return [subject.intersection(self._grown_by(i, tolerance_m)).area / area for i in indexes]

    def match(
        self,
        ring: Ring,
        kind: StructureKind,
        min_overlap: float,
        tolerance_m: float,
        *,
        box_in: tuple[DroneView, NDArray[np.float64], float] | None = None,
    ) -> RegistryMatch:
        """Known when a same-kind entry (grown by the tolerance) covers `min_overlap` of the footprint, or
        when a permitted or pending-review entry of any kind does.

        Coverage is measured over the footprint, so a site much larger than its registered structure
        (an extension) covers too little of it and stays new. A footprint from a model's axis-aligned
        box is loose around thin or rotated structures, so for those `box_in` = (view, box corners,
        plane height) compares like with like instead: the box against the bounding box of each
        registered outline projected into the same image.
        """
        idx = self.near(ring, tolerance_m)
        same = [i for i in idx if self.entries[i].kind == kind]
        other = [i for i in idx if self.entries[i].kind != kind]
        best_same, best_same_cov = None, 0.0
        if same:
            if box_in is None:
                cov = self.coverage(ring, same, tolerance_m)
            else:
                view, quad, plane = box_in
                cov = [_box_coverage(view, quad, plane, self.rings[i], tolerance_m) for i in same]
            j = int(np.argmax(cov))
            best_same, best_same_cov = self.entries[same[j]].id, cov[j]
        on_id, on_kind, on_cov = None, None, 0.0
        if other:
            cov = self.coverage(ring, other, 0.0)
            j = int(np.argmax(cov))
            if cov[j] > 0:
                on_id, on_kind, on_cov = self.entries[other[j]].id, self.entries[other[j]].kind, cov[j]
        cover_id, cover_status, cover_cov = None, None, 0.0
        wide = [i for i in idx if self.entries[i].status in COVERS_EVERY_KIND]
        if wide:
            cov = self.coverage(ring, wide, tolerance_m)
            j = int(np.argmax(cov))
            if cov[j] >= min_overlap:
                cover_id, cover_status, cover_cov = self.entries[wide[j]].id, self.entries[wide[j]].status, cov[j]
        same_known = best_same_cov >= min_overlap
        if same_known and best_same is not None and cover_id is None:
            entry = next(e for e in self.entries if e.id == best_same)
            if entry.status in COVERS_EVERY_KIND:
                cover_id, cover_status, cover_cov = entry.id, entry.status, best_same_cov
        return RegistryMatch(
            known=same_known or cover_id is not None,
            same_kind_id=best_same,
            same_kind_overlap=best_same_cov,
            on_id=on_id,
            on_kind=on_kind,
            on_overlap=on_cov,
            covered_by_id=cover_id,
            covered_by_status=cover_status,
            covered_overlap=cover_cov,
        )

    def heights_near(self, point: tuple[float, float], radius_m: float) -> list[tuple[int, float]]:
        """(entry index, height) of entries with a height within `radius_m` of a point."""
        x, y = point
        hits = self._tree.query(shapely.box(x - radius_m, y - radius_m, x + radius_m, y + radius_m))
        return [(int(i), float(self._heights[i])) for i in np.atleast_1d(hits) if np.isfinite(self._heights[int(i)])]

    def holds(self, index: int, point: tuple[float, float]) -> bool:
        """Whether entry `index`'s outline holds the point."""
        return bool(shapely.contains_xy(self.polygons[index], point[0], point[1]))

    def roof_heights(
        self, view: DroneView, pixels: NDArray[np.float64], reach_m: NDArray[np.float64] | float = 0.0
    ) -> NDArray[np.float64]:
        """Height of the highest registered roof each pixel's ray meets (0 where it meets only ground).

        The ray is intersected with every roof plane of an entry with `height_m`; the highest plane hit
        inside its polygon is the first surface the ray reaches (walls are ignored). Points are tested
        against each polygon in one vectorised shapely call. `reach_m` (per
        pixel) extends each roof beyond its walls: a scaffold hugging a wall rises to about roof height.
        """
        px = np.asarray(pixels, np.float64).reshape(-1, 2)
        reach = np.broadcast_to(np.asarray(reach_m, np.float64), (len(px),))
        out = np.zeros(len(px), np.float64)
        heights, boxes = self._heights, self._boxes
        tall = np.flatnonzero(np.isfinite(heights) & (heights > 0) & (heights < view.height_m))
        if len(px) == 0 or len(tall) == 0:
            return out
        # (P, B, 2): each ray's hit point on each tall entry's roof plane.
        hits = np.stack([view.pixel_to_ground(px, float(heights[b])) for b in tall], axis=1)
        b = boxes[tall]
        r = reach[:, None]
        inbox = (
            (hits[..., 0] >= b[None, :, 0] - r)
            & (hits[..., 0] <= b[None, :, 2] + r)
            & (hits[..., 1] >= b[None, :, 1] - r)
            & (hits[..., 1] <= b[None, :, 3] + r)
        )
        pix, col = np.nonzero(inbox)
        for k in np.unique(col):
            entry = int(tall[k])
            sel = pix[col == k]
            pts = hits[sel, k]
            inside = shapely.contains_xy(self.polygons[entry], pts[:, 0], pts[:, 1])
            if not inside.all():
                dist = shapely.distance(self._boundaries[entry], shapely.points(pts[~inside]))
                inside[~inside] = dist <= reach[sel[~inside]]
            lift = sel[inside]
            out[lift] = np.maximum(out[lift], heights[entry])
        return out

    def to_wgs84(self, ring: Ring) -> NDArray[np.float64]:
        """ENU ring of this registry's origin -> (N, 2) lon/lat."""
        lat, lon = enu_to_wgs84(self.origin_lat_deg, self.origin_lon_deg, ring[:, 0], ring[:, 1])
        return np.column_stack([lon, lat])
