"""What a construction registry entry is: its kind, its status and its outline (WGS-84 lon/lat).

Statuses: `registered` (the default: known only to sites of its kind), `permitted` (works with a permit)
and `pending_review` (a new structure an operator confirmed from an alert). Permitted and pending-review
entries cover sites of every kind (`COVERS_EVERY_KIND`). Kept apart from the file loading (`registry`)
and the flight-local view (`local_registry`) so both can use it without importing each other.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

import numpy as np
import shapely
from numpy.typing import NDArray
from shapely.geometry import Polygon

from detectors.construction.polygons import Ring


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


def entry_polygon(ring: Ring) -> Polygon:
    """A valid shapely polygon of a ring (self-touching outlines from hand-drawn registries repaired)."""
    poly = Polygon(np.asarray(ring, np.float64))
    if not poly.is_valid:
        fixed = shapely.make_valid(poly)
        parts = [g for g in getattr(fixed, "geoms", [fixed]) if isinstance(g, Polygon)]
        poly = max(parts, key=lambda g: g.area) if parts else poly.buffer(0)
    return poly
