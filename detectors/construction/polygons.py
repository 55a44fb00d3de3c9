"""Ground polygons in local metres: area, centroid, overlap (shapely is not a dependency).

Footprints are projections of image rectangles, so they are convex quadrilaterals and their overlap is
exact with `cv2.intersectConvexConvex`. Registered structures may be any simple polygon; their overlap
with a footprint is measured by rasterising both in a small local grid (default 0.25 m cells), which is
also where a tolerance (a dilation in metres) is applied.
"""

from __future__ import annotations

import math

import cv2
import numpy as np
from numpy.typing import NDArray

Ring = NDArray[np.float64]
"""(N, 2) east/north metres, first vertex not repeated."""


def ring_areas_m2(quads: NDArray[np.float64]) -> NDArray[np.float64]:
    """Shoelace areas of M rings of equal length, (M, N, 2) -> (M,)."""
    x, y = quads[..., 0], quads[..., 1]
    out: NDArray[np.float64] = 0.5 * np.abs(np.sum(x * np.roll(y, -1, axis=-1) - np.roll(x, -1, axis=-1) * y, axis=-1))
    return out


def quad_widths_m(quads: NDArray[np.float64]) -> NDArray[np.float64]:
    """(M, 4, 2) quadrilaterals -> (M,) width: the shorter of the two mean opposite-side lengths."""
    side = np.linalg.norm(np.roll(quads, -1, axis=1) - quads, axis=2)
    out: NDArray[np.float64] = np.minimum((side[:, 0] + side[:, 2]) / 2, (side[:, 1] + side[:, 3]) / 2)
    return out


def ring_area_m2(ring: Ring) -> float:
    return float(ring_areas_m2(np.asarray(ring, np.float64)[None])[0])


def ring_centroid(ring: Ring) -> NDArray[np.float64]:
    """Area centroid of a simple polygon; the vertex mean when it is degenerate."""
    p = np.asarray(ring, np.float64)
    x, y = p[:, 0], p[:, 1]
    cross = x * np.roll(y, -1) - np.roll(x, -1) * y
    a = cross.sum() / 2.0
    if abs(a) < 1e-9:
        out: NDArray[np.float64] = p.mean(axis=0)
        return out
    cx = ((x + np.roll(x, -1)) * cross).sum() / (6.0 * a)
    cy = ((y + np.roll(y, -1)) * cross).sum() / (6.0 * a)
    return np.array([cx, cy])


def convex_overlap_m2(a: Ring, b: Ring) -> float:
    """Intersection area of two convex polygons (either orientation)."""
    area, _ = cv2.intersectConvexConvex(np.asarray(a, np.float32), np.asarray(b, np.float32))
    return max(0.0, float(area))


def overlap_ratio(a: Ring, b: Ring) -> float:
    """Intersection over the smaller area: 1 when one convex footprint lies inside the other."""
    smaller = min(ring_area_m2(a), ring_area_m2(b))
    return convex_overlap_m2(a, b) / smaller if smaller > 0 else 0.0


def bbox(ring: Ring) -> tuple[float, float, float, float]:
    p = np.asarray(ring, np.float64)
    return float(p[:, 0].min()), float(p[:, 1].min()), float(p[:, 0].max()), float(p[:, 1].max())


def coverage_by(subject: Ring, others: list[Ring], tolerance_m: float = 0.0, cell_m: float = 0.25) -> list[float]:
    """Share of `subject`'s area covered by each of `others` grown by `tolerance_m` (rasterised).

    Works for non-convex polygons; the grid spans the subject only, so the cost does not depend on how
    large the other polygons are.
    """
    x0, y0, x1, y1 = bbox(subject)
    pad = tolerance_m + 2 * cell_m
    x0, y0 = x0 - pad, y0 - pad
    w = max(1, math.ceil((x1 + pad - x0) / cell_m))
    h = max(1, math.ceil((y1 + pad - y0) / cell_m))
    shift = 4  # sub-cell vertex precision for fillPoly

    def raster(ring: Ring) -> NDArray[np.uint8]:
        canvas = np.zeros((h, w), np.uint8)
        pts = (np.asarray(ring, np.float64) - (x0, y0)) / cell_m
        cv2.fillPoly(canvas, [np.round(pts * (1 << shift)).astype(np.int32)], 1, lineType=cv2.LINE_8, shift=shift)
        return canvas

    mask = raster(subject).astype(bool)
    total = int(mask.sum())
    if total == 0:
        return [0.0 for _ in others]
    radius = round(tolerance_m / cell_m)
    kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * radius + 1, 2 * radius + 1)) if radius else None
    out: list[float] = []
    for other in others:
        grown = raster(other) if kernel is None else cv2.dilate(raster(other), kernel)
        out.append(float(np.count_nonzero(mask & (np.asarray(grown) > 0))) / total)
    return out


def rasterise_union(
    rings: list[Ring], cell_m: float, max_cells: int = 4000
) -> tuple[NDArray[np.uint8], tuple[float, float], float]:
    """Union of rings in a grid: (mask, (east0, north0) of cell (0, 0), cell size). Grows cells to fit."""
    pts = np.concatenate([np.asarray(r, np.float64) for r in rings if len(r)]) if rings else np.zeros((0, 2))
    if len(pts) == 0:
        return np.zeros((1, 1), np.uint8), (0.0, 0.0), cell_m
    x0, y0 = pts.min(axis=0) - cell_m
    x1, y1 = pts.max(axis=0) + cell_m
    cell = max(cell_m, (x1 - x0) / max_cells, (y1 - y0) / max_cells)
    w, h = math.ceil((x1 - x0) / cell) + 1, math.ceil((y1 - y0) / cell) + 1
    canvas = np.zeros((h, w), np.uint8)
    polys = [np.round((np.asarray(r, np.float64) - (x0, y0)) / cell).astype(np.int32) for r in rings if len(r) >= 3]
    for poly in polys:
        cv2.fillPoly(canvas, [cv2.convexHull(poly)], 1)
    return canvas, (float(x0), float(y0)), float(cell)


def mask_outlines(
    mask: NDArray[np.uint8], origin: tuple[float, float], cell_m: float, simplify_m: float = 1.0
) -> list[Ring]:
    """Outer contours of a grid mask as rings in metres (simplified to `simplify_m`)."""
    contours, _ = cv2.findContours(mask, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
    out: list[Ring] = []
    for contour in contours:
        c = cv2.approxPolyDP(contour, max(0.5, simplify_m / cell_m), True)
        if len(c) >= 3:
            out.append(c.reshape(-1, 2).astype(np.float64) * cell_m + np.asarray(origin))
    return out
