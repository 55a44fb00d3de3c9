"""Candidates of one frame (model boxes and cue rectangles) and their footprints on the ground.

Everything is a struct of arrays: a frame's candidates are projected, measured and filtered with numpy,
and only the sites they feed are Python objects.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from detectors.construction.cue import RoofCues
from detectors.construction.local_registry import LocalRegistry
from detectors.construction.polygons import ring_areas_m2
from detectors.construction.registry_entries import KIND_CODES, KINDS_BY_CODE, StructureKind
from detectors.geometry.drone import DroneView
from models.detections import Detections

SOURCE_MODEL = 0
SOURCE_CUE = 1
SOURCE_NAMES = ("model", "cue")


@dataclass(frozen=True, slots=True)
class Candidates:
    """N candidate structures in one frame: pixel quads, kinds, confidence, where they came from."""

    quads_px: NDArray[np.float64]
    """(N, 4, 2) corners in source pixels (axis-aligned boxes for model detections)."""
    kind: NDArray[np.int32]
    """(N,) `KIND_CODES` of the structure kind."""
    confidence: NDArray[np.float32]
    source: NDArray[np.int8]
    truncated: NDArray[np.bool_]
    """(N,) the candidate touches the frame edge, so its footprint may be partial."""

    def __len__(self) -> int:
        return int(self.quads_px.shape[0])

    @classmethod
    def empty(cls) -> Candidates:
        return cls(
            np.zeros((0, 4, 2)),
            np.zeros(0, np.int32),
            np.zeros(0, np.float32),
            np.zeros(0, np.int8),
            np.zeros(0, bool),
        )

    @classmethod
    def concat(cls, parts: list[Candidates]) -> Candidates:
        parts = [p for p in parts if len(p)]
        if not parts:
            return cls.empty()
        return cls(
            np.concatenate([p.quads_px for p in parts]),
            np.concatenate([p.kind for p in parts]),
            np.concatenate([p.confidence for p in parts]),
            np.concatenate([p.source for p in parts]),
            np.concatenate([p.truncated for p in parts]),
        )

    def select(self, keep: NDArray[np.bool_]) -> Candidates:
        return Candidates(
            self.quads_px[keep],
            self.kind[keep],
            self.confidence[keep],
            self.source[keep],
            self.truncated[keep],
        )


def box_quads(xyxy: NDArray[np.float32]) -> NDArray[np.float64]:
    """(N, 4) boxes -> (N, 4, 2) corners, clockwise in image coordinates from the top-left."""
    x1, y1, x2, y2 = (xyxy[:, i].astype(np.float64) for i in range(4))
    return np.stack([np.stack([x1, y1], 1), np.stack([x2, y1], 1), np.stack([x2, y2], 1), np.stack([x1, y2], 1)], 1)


def from_detections(
    dets: Detections,
    class_kinds: Mapping[int, StructureKind],
    min_confidence: float,
    *,
    width_px: int,
    height_px: int,
    edge_px: float = 2.0,
) -> tuple[Candidates, int]:
    """Model detections of mapped classes above `min_confidence`; also returns how many were unmapped."""
    if len(dets) == 0:
        return Candidates.empty(), 0
    lut = np.full(int(max(dets.class_id.max(), max(class_kinds, default=0))) + 1, -1, np.int32)
    for cid, kind in class_kinds.items():
        if cid >= 0:
            lut[cid] = KIND_CODES[kind]
    kinds = np.where(dets.class_id >= 0, lut[np.clip(dets.class_id, 0, None)], -1)
    mapped = kinds >= 0
    keep = mapped & (dets.confidence >= min_confidence)
    xyxy = dets.xyxy[keep]
    truncated = (
        (xyxy[:, 0] <= edge_px)
        | (xyxy[:, 1] <= edge_px)
        | (xyxy[:, 2] >= width_px - edge_px)
        | (xyxy[:, 3] >= height_px - edge_px)
    )
    n = int(keep.sum())
    return Candidates(
        box_quads(xyxy),
        kinds[keep].astype(np.int32),
        dets.confidence[keep].astype(np.float32),
        np.full(n, SOURCE_MODEL, np.int8),
        truncated,
    ), int((~mapped).sum())


def from_cues(cues: RoofCues, min_confidence: float) -> Candidates:
    keep = cues.confidence >= min_confidence
    n = int(keep.sum())
    return Candidates(
        cues.quads_px[keep],
        np.full(n, KIND_CODES[StructureKind.STEEL_ROOF], np.int32),
        cues.confidence[keep],
        np.full(n, SOURCE_CUE, np.int8),
        cues.touches_border[keep],
    )


@dataclass(frozen=True, slots=True)
class GroundCandidates:
    """Candidates with their ground footprints in the flight's ENU metres."""

    pixel: Candidates
    rings_m: NDArray[np.float64]
    """(N, 4, 2) footprint corners, east/north metres."""
    centre_m: NDArray[np.float64]
    area_m2: NDArray[np.float64]
    accuracy_m: NDArray[np.float64]
    """(N,) 1-sigma error of the footprint centre."""
    plane_up_m: NDArray[np.float64]
    """(N,) height of the plane each candidate was projected on (0 ground, else a registered roof)."""

    def __len__(self) -> int:
        return len(self.pixel)

    def select(self, keep: NDArray[np.bool_]) -> GroundCandidates:
        return GroundCandidates(
            self.pixel.select(keep),
            self.rings_m[keep],
            self.centre_m[keep],
            self.area_m2[keep],
            self.accuracy_m[keep],
            self.plane_up_m[keep],
        )


def project(
    cands: Candidates,
    view: DroneView,
    registry: LocalRegistry | None,
    *,
    scaffold_reach_m: float = 0.0,
    top_height_m: Mapping[StructureKind, float] | None = None,
) -> tuple[GroundCandidates, int]:
    """Footprints on the plane of each candidate's visible top: the ground or the registered roof under
    its centre ray, raised by the kind's `top_height_m`.

    Scaffolds stand beside walls and rise to about the roof, so for them a roof counts as hit within
    `scaffold_reach_m` outside its walls.

    Returns the candidates whose four corners all hit the plane, and how many were dropped because a
    corner's ray passed the configured limit.
    """
    n = len(cands)
    centres = cands.quads_px.mean(axis=1) if n else np.zeros((0, 2))
    reach = np.where(cands.kind == KIND_CODES[StructureKind.SCAFFOLD], scaffold_reach_m, 0.0)
    plane = registry.roof_heights(view, centres, reach) if registry is not None and n else np.zeros(n)
    lift = np.zeros(len(KINDS_BY_CODE))
    for kind, up in (top_height_m or {}).items():
        lift[KIND_CODES[kind]] = up
    plane = plane + lift[cands.kind]
    corners = view.pixel_to_ground(cands.quads_px.reshape(-1, 2), np.repeat(plane, 4)).reshape(n, 4, 2)
    ok: NDArray[np.bool_] = np.asarray(np.isfinite(corners).all(axis=(1, 2)))
    corners = corners[ok]
    plane = plane[ok]
    kept = cands.select(ok)
    acc = view.accuracy_m(centres[ok], plane)
    return GroundCandidates(
        pixel=kept,
        rings_m=corners,
        centre_m=corners.mean(axis=1) if len(corners) else np.zeros((0, 2)),
        area_m2=ring_areas_m2(corners) if len(corners) else np.zeros(0),
        accuracy_m=acc,
        plane_up_m=plane,
    ), int((~ok).sum())
