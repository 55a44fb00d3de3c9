"""The registry of known or permitted structures (GeoJSON), and its view in a flight's local metres.

A site is known only if it overlaps a registered structure of the *same kind*: a new blue steel roof on
a registered building is new (rooftop additions are among the most common illegal works). Registered
buildings may carry `height_m`, which lets drone rays land on the roof plane instead of the ground, so
rooftop additions seen obliquely are placed where they are, not metres behind the building.

Entries have a `status`: `registered` (the default: known only to sites of its kind), `permitted` (works
with a permit; also when `permit` is set) and `pending_review` (a new structure an operator confirmed
from an alert, added so the next survey does not alert on it again, `add_pending_review`). Permitted and
pending-review entries cover sites of every kind: a permitted construction site turns from soil into
scaffold into roof without a new alert.

File format: a GeoJSON FeatureCollection (WGS-84 lon/lat, RFC 7946) of Polygon or MultiPolygon
features with properties `kind` (required, one of `StructureKind`), `id` (or the feature's own `id`),
optional `height_m`, `status`, `permit`, `name`, and free-form others (kept by `add_pending_review`).
Only exterior rings are used (holes are ignored).

Polygon work (containment, overlap, tolerance buffers, distances) is shapely's (GEOS), with an STRtree
over the entries: faster than the rasterised overlap this module used before, and exact
(`benchmarks/registry_bench.py`).
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Any

import numpy as np
import shapely
from numpy.typing import NDArray
from shapely.geometry import Polygon

from detectors.construction.polygons import Ring
from detectors.geometry.drone import DroneView
from detectors.geometry.geodesy import enu_to_wgs84, wgs84_to_enu
from foundation.errors import ConfigError


class StructureKind(StrEnum):
    """What a registered structure or a detected site is."""

    BUILDING = "building"
    STEEL_ROOF = "steel_roof"
    SCAFFOLD = "scaffold"
    EXCAVATION = "excavation"
    OTHER = "other"


class EntryStatus(StrEnum):
    """Where a registered structure stands with the district."""

    REGISTERED = "registered"
    PERMITTED = "permitted"
    PENDING_REVIEW = "pending_review"
    """Confirmed from an alert, not decided yet: not alerted again."""


COVERS_EVERY_KIND = frozenset({EntryStatus.PERMITTED, EntryStatus.PENDING_REVIEW})


KIND_CODES: dict[StructureKind, int] = {k: i for i, k in enumerate(StructureKind)}
KINDS_BY_CODE: tuple[StructureKind, ...] = tuple(StructureKind)


@dataclass(frozen=True, slots=True)
class RegistryEntry:
    """One registered structure (one polygon; a MultiPolygon gives one entry per part, same id)."""

    id: str
    kind: StructureKind
    lonlat: NDArray[np.float64]
    height_m: float | None = None
    permit: str | None = None
    name: str | None = None
    status: EntryStatus = EntryStatus.REGISTERED


@dataclass(frozen=True)
class Registry:
    """All registered structures of a district, in WGS-84."""

    entries: tuple[RegistryEntry, ...]
    source: str = "<registry>"

    @classmethod
    def empty(cls) -> Registry:
        return cls(entries=(), source="<empty>")

    @classmethod
    def from_geojson(cls, data: Any, source: str = "<geojson>") -> Registry:
        """Validate a parsed GeoJSON document; ConfigError lists every bad feature by index and id."""
        if not isinstance(data, Mapping) or data.get("type") != "FeatureCollection":
            raise ConfigError(f"{source}: registry must be a GeoJSON FeatureCollection")
        features = data.get("features")
        if not isinstance(features, list):
            raise ConfigError(f"{source}: registry FeatureCollection has no `features` list")
        entries: list[RegistryEntry] = []
        problems: list[str] = []
        for index, feature in enumerate(features):
            try:
                entries += _feature_entries(feature, index, source)
            except _InvalidFeatureError as exc:
                problems.append(str(exc))
        if problems:
            raise ConfigError(f"{source}: {len(problems)} invalid registry feature(s)", problems)
        return cls(entries=tuple(entries), source=source)

    @classmethod
    def load(cls, path: str | Path) -> Registry:
        """Read a registry GeoJSON file; a missing or malformed file is a ConfigError naming it."""
        p = Path(path)
        try:
            data = json.loads(p.read_text(encoding="utf-8"))
        except FileNotFoundError as exc:
            raise ConfigError(f"{p}: registry file not found") from exc
        except (OSError, UnicodeDecodeError) as exc:
            raise ConfigError(f"{p}: cannot read registry ({exc})") from exc
        except json.JSONDecodeError as exc:
            raise ConfigError(f"{p}:{exc.lineno}: registry is not valid JSON: {exc.msg}") from exc
        return cls.from_geojson(data, source=str(p))

    def local(self, origin_lat_deg: float, origin_lon_deg: float, radius_m: float) -> LocalRegistry:
        """The entries within `radius_m` of an origin, as ENU rings around it (one flight's view)."""
        keep: list[RegistryEntry] = []
        rings: list[Ring] = []
        for entry in self.entries:
            e, n = wgs84_to_enu(origin_lat_deg, origin_lon_deg, entry.lonlat[:, 1], entry.lonlat[:, 0])
            if float(np.min(np.hypot(e, n))) > radius_m and not _polygon(np.column_stack([e, n])).contains(
                shapely.Point(0.0, 0.0)
            ):
                continue
            keep.append(entry)
            rings.append(np.column_stack([e, n]))
        return LocalRegistry(tuple(keep), tuple(rings), origin_lat_deg, origin_lon_deg)


class _InvalidFeatureError(ValueError):
    """One registry feature that cannot be read; its message names the feature (index and id) and the field."""


def _feature_entries(feature: Any, index: int, source: str) -> list[RegistryEntry]:
    """The entries of one GeoJSON feature (one per exterior ring). Raises `_InvalidFeatureError` naming the
    feature, so `Registry.from_geojson` can collect every bad feature before it refuses the file."""
    where = f"{source}: features[{index}]"
    if not isinstance(feature, Mapping):
        raise _InvalidFeatureError(f"{where}: not a GeoJSON object")
    props = feature.get("properties") or {}
    fid = str(props.get("id", feature.get("id", f"#{index}")))
    where += f" (id {fid})"
    try:
        kind = StructureKind(str(props.get("kind", "")))
    except ValueError:
        allowed = ", ".join(k.value for k in StructureKind)
        raise _InvalidFeatureError(f"{where}: properties.kind {props.get('kind')!r} is not one of: {allowed}") from None
    status = _entry_status(props, where)
    height = props.get("height_m")
    if height is not None and (not isinstance(height, int | float) or not 0 <= height <= 1000):
        raise _InvalidFeatureError(f"{where}: properties.height_m must be a number of metres in [0, 1000]")
    try:
        rings = _exterior_rings(feature.get("geometry"))
    except ValueError as exc:
        raise _InvalidFeatureError(f"{where}: {exc}") from None
    return [
        RegistryEntry(
            id=fid,
            kind=kind,
            lonlat=ring,
            height_m=None if height is None else float(height),
            permit=None if props.get("permit") is None else str(props["permit"]),
            name=None if props.get("name") is None else str(props["name"]),
            status=status,
        )
        for ring in rings
    ]


def _entry_status(props: Mapping[str, Any], where: str) -> EntryStatus:
    """A feature's status: `registered` when absent, and a registered feature with a permit is `permitted`
    (districts record permits as a property more often than as a status)."""
    raw_status = props.get("status")
    try:
        status = EntryStatus(str(raw_status)) if raw_status is not None else EntryStatus.REGISTERED
    except ValueError:
        statuses = ", ".join(v.value for v in EntryStatus)
        raise _InvalidFeatureError(f"{where}: properties.status {raw_status!r} is not one of: {statuses}") from None
    if status == EntryStatus.REGISTERED and props.get("permit") is not None:
        status = EntryStatus.PERMITTED
    return status


def _exterior_rings(geometry: Any) -> list[NDArray[np.float64]]:
    if not isinstance(geometry, Mapping):
        raise ValueError("geometry is missing")
    gtype, coords = geometry.get("type"), geometry.get("coordinates")
    polygons: list[Any] | None
    if gtype == "Polygon":
        polygons = [coords]
    elif gtype == "MultiPolygon":
        polygons = coords if isinstance(coords, list) else None
    else:
        raise ValueError(f"geometry type {gtype!r} is not Polygon or MultiPolygon")
    if not polygons:
        raise ValueError("geometry has no coordinates")
    out: list[NDArray[np.float64]] = []
    for poly in polygons:
        try:
            ring = np.asarray(poly[0], np.float64)
        except (TypeError, ValueError, IndexError) as exc:
            raise ValueError("polygon coordinates are not [[lon, lat], ...] rings") from exc
        if ring.ndim != 2 or ring.shape[1] < 2 or len(ring) < 4:
            raise ValueError("a polygon ring needs at least 4 [lon, lat] positions (closed)")
        ring = ring[:, :2]
        if not (np.all(np.abs(ring[:, 0]) <= 180) and np.all(np.abs(ring[:, 1]) <= 90)):
            raise ValueError("coordinates must be [lon, lat] degrees within range")
        if np.allclose(ring[0], ring[-1]):
            ring = ring[:-1]
        out.append(ring)
    return out


def _polygon(ring: Ring) -> Polygon:
    """A valid shapely polygon of a ring (self-touching outlines from hand-drawn registries repaired)."""
    poly = Polygon(np.asarray(ring, np.float64))
    if not poly.is_valid:
        fixed = shapely.make_valid(poly)
        parts = [g for g in getattr(fixed, "geoms", [fixed]) if isinstance(g, Polygon)]
        poly = max(parts, key=lambda g: g.area) if parts else poly.buffer(0)
    return poly


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
        self.polygons = tuple(_polygon(r) for r in rings)
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
        subject = _polygon(ring)
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


def rings_to_feature_collection(
    features: Sequence[tuple[NDArray[np.float64], Mapping[str, Any]]],
) -> dict[str, Any]:
    """[(lonlat ring, properties)] -> GeoJSON FeatureCollection with closed Polygon rings."""
    out = []
    for ring, props in features:
        coords = [[round(float(x), 8), round(float(y), 8)] for x, y in ring]
        coords.append(coords[0])
        out.append(
            {
                "type": "Feature",
                "properties": dict(props),
                "geometry": {"type": "Polygon", "coordinates": [coords]},
            }
        )
    return {"type": "FeatureCollection", "features": out}


def pending_review_feature(
    fid: str,
    kind: StructureKind,
    ring_lonlat: NDArray[np.float64],
    properties: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """A registry feature for a confirmed new structure: `status: pending_review`, closed Polygon ring."""
    coords = [[round(float(x), 8), round(float(y), 8)] for x, y in np.asarray(ring_lonlat, np.float64)]
    if coords and coords[0] != coords[-1]:
        coords.append(coords[0])
    props = {**dict(properties or {}), "id": fid, "kind": kind.value, "status": EntryStatus.PENDING_REVIEW.value}
    return {"type": "Feature", "properties": props, "geometry": {"type": "Polygon", "coordinates": [coords]}}


def add_pending_review(path: str | Path, features: Sequence[Mapping[str, Any]]) -> list[str]:
    """Add confirmed structures to a registry file as `pending_review`; returns the ids added.

    The file is read, the features appended (ids already in the file are left as they are and not added
    twice), the result validated as a whole, and written atomically (a temporary file renamed over it),
    so a crash or a bad feature never leaves a half-written registry. Everything else in the file is kept.
    """
    p = Path(path)
    if p.exists():
        try:
            doc = json.loads(p.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise ConfigError(f"{p}: cannot read registry to add to ({exc})") from exc
    else:
        doc = {"type": "FeatureCollection", "features": []}
    if not isinstance(doc, dict) or not isinstance(doc.get("features"), list):
        raise ConfigError(f"{p}: registry must be a GeoJSON FeatureCollection")
    present = {str((f.get("properties") or {}).get("id", f.get("id"))) for f in doc["features"] if isinstance(f, dict)}
    added: list[str] = []
    for feature in features:
        props = dict(feature.get("properties") or {})
        fid = str(props.get("id", feature.get("id", "")))
        if not fid or fid in present:
            continue
        props["status"] = EntryStatus.PENDING_REVIEW.value
        doc["features"].append({**dict(feature), "properties": props})
        present.add(fid)
        added.append(fid)
    if not added:
        return added
    Registry.from_geojson(doc, source=str(p))
    p.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=p.parent, prefix=".tmp-", suffix=".geojson")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            json.dump(doc, fh, ensure_ascii=False, indent=1)
        os.replace(tmp, p)
    except OSError as exc:
        Path(tmp).unlink(missing_ok=True)
        raise ConfigError(f"{p}: cannot write registry ({exc.strerror})") from exc
    return added
