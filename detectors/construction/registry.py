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
from pathlib import Path
from typing import Any

import numpy as np
import shapely
from numpy.typing import NDArray

from detectors.construction.local_registry import LocalRegistry
from detectors.construction.polygons import Ring
from detectors.construction.registry_entries import EntryStatus, RegistryEntry, StructureKind, entry_polygon
from detectors.geometry.geodesy import wgs84_to_enu
from foundation.errors import ConfigError


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
            if float(np.min(np.hypot(e, n))) > radius_m and not entry_polygon(np.column_stack([e, n])).contains(
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
