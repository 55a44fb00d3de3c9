"""Zones and static masks: polygons drawn by operators, in pixels or relative (0-1) coordinates.

A zone limits where a detector may fire; a mask removes known false sources (a lamp, a flag, a chimney
that always smokes). Polygons whose coordinates are all within [0, 1] are read as relative to the frame
size, so the same YAML works for a camera's sub-stream and main stream.

Config validation checks each polygon with shapely (`check_polygons`): enough corners, an area, and an
outline that does not cross itself, which an operator who lists corners out of order gets wrong and
OpenCV would fill into a bow tie without a word. The detectors ask per pixel, so the union is
rasterised once per frame size with OpenCV; the same raster answers "is this point inside" and "how
much of this box", which keeps pixel masking and box tests consistent and costs one lookup per query.
"""

from __future__ import annotations

from collections.abc import Sequence

import cv2
import numpy as np
import shapely
from numpy.typing import NDArray

Polygon = Sequence[tuple[float, float]]


def check_polygons(polygons: Sequence[Polygon]) -> None:
    """Raise ValueError naming the first polygon that cannot work as a zone or mask."""
    for i, poly in enumerate(polygons):
        if len(poly) < 3:
            raise ValueError(f"polygon {i} has {len(poly)} points; a polygon needs at least 3")
        shape = shapely.Polygon(poly)
        if shape.convex_hull.area <= 0.0:  # (a bow tie has zero area too, but not its hull)
            raise ValueError(f"polygon {i} has no area (its points lie on one line)")
        if not shape.is_valid:
            raise ValueError(f"polygon {i} crosses itself ({shapely.is_valid_reason(shape)}); list its corners in "
                             "order around the outline")


def is_relative(polygon: Polygon) -> bool:
    return all(0.0 <= x <= 1.0 and 0.0 <= y <= 1.0 for x, y in polygon)


def polygon_px(polygon: Polygon, width: int, height: int) -> NDArray[np.float64]:
    """The polygon in pixel coordinates of a width x height frame."""
    pts = np.asarray(polygon, np.float64).reshape(-1, 2)
    if is_relative(polygon):
        pts = pts * np.array([width, height], np.float64)
    return pts


class RegionMask:
    """Union of polygons rasterised once per frame size; `covers()` answers per box centre or pixel."""

    def __init__(self, polygons: Sequence[Polygon]) -> None:
        self.polygons = [list(p) for p in polygons]
        self._cache: dict[tuple[int, int], NDArray[np.bool_]] = {}

    def __bool__(self) -> bool:
        return bool(self.polygons)

    def raster(self, width: int, height: int) -> NDArray[np.bool_]:
        """Boolean (height, width) mask, True inside any polygon."""
        key = (width, height)
        mask = self._cache.get(key)
        if mask is None:
            canvas = np.zeros((height, width), np.uint8)
            for poly in self.polygons:
                pts = np.round(polygon_px(poly, width, height)).astype(np.int32)
                cv2.fillPoly(canvas, [pts], 1)
            mask = canvas.astype(bool)
            self._cache[key] = mask
        return mask

    def covers_points(self, xy: NDArray[np.floating], width: int, height: int) -> NDArray[np.bool_]:
        """For (N,2) pixel points: True where the point lies inside the region."""
        if not self.polygons or len(xy) == 0:
            return np.zeros(len(xy), bool)
        m = self.raster(width, height)
        xi = np.clip(np.asarray(xy[:, 0]).astype(np.int64), 0, width - 1)
        yi = np.clip(np.asarray(xy[:, 1]).astype(np.int64), 0, height - 1)
        return m[yi, xi]

    def covered_fraction(self, xyxy: tuple[float, float, float, float], width: int, height: int) -> float:
        """Share of a box's pixels inside the region (0 when there are no polygons)."""
        if not self.polygons:
            return 0.0
        m = self.raster(width, height)
        x1, y1 = max(0, int(xyxy[0])), max(0, int(xyxy[1]))
        x2, y2 = min(width, int(np.ceil(xyxy[2]))), min(height, int(np.ceil(xyxy[3])))
        if x2 <= x1 or y2 <= y1:
            return 0.0
        return float(m[y1:y2, x1:x2].mean())
