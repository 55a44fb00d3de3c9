"""Drawing the drone district in metres: rectangles, their placement without overlap, the ground orthophoto
being painted (0.1 m cells, north up) and building shadows.
"""

from __future__ import annotations

import math

import cv2
import numpy as np
from numpy.typing import NDArray

from benchmarks.scenarios.drone_textures import BGR, smooth_noise, tint

Array = NDArray[np.float64]


def rect_ring(cx: float, cy: float, length: float, width: float, angle_deg: float) -> Array:
    """Corners of a rectangle centred at (cx, cy), `length` along `angle_deg` (anticlockwise from east)."""
    a = math.radians(angle_deg)
    u = np.array([math.cos(a), math.sin(a)])
    v = np.array([-math.sin(a), math.cos(a)])
    c = np.array([cx, cy])
    return np.array(
        [c - u * length / 2 - v * width / 2, c + u * length / 2 - v * width / 2,
         c + u * length / 2 + v * width / 2, c - u * length / 2 + v * width / 2]
    )


class Placer:
    """Rejection sampling of non-overlapping rectangles (with a clearance) inside the scene."""

    def __init__(self, rng: np.random.Generator, half_m: float) -> None:
        self.rng = rng
        self.half = half_m
        self.taken: list[Array] = []

    def free(self, ring: Array, clearance_m: float) -> bool:
        if np.abs(ring).max() > self.half - 6:
            return False
        grown = grow_ring(ring, clearance_m)
        for other in self.taken:
            area, _ = cv2.intersectConvexConvex(grown.astype(np.float32), other.astype(np.float32))
            if area > 0:
                return False
        return True

    def place(
        self, length: tuple[float, float], width: tuple[float, float], angle_deg: float, clearance_m: float,
        tries: int = 500,
    ) -> Array | None:
        for _ in range(tries):
            cx, cy = self.rng.uniform(-self.half + 12, self.half - 12, 2)
            ring = rect_ring(
                float(cx), float(cy), float(self.rng.uniform(*length)), float(self.rng.uniform(*width)),
                angle_deg + float(self.rng.uniform(-8, 8)),
            )
            if self.free(ring, clearance_m):
                self.taken.append(ring)
                return ring
        return None


def grow_ring(ring: Array, by_m: float) -> Array:
    c = ring.mean(axis=0)
    d = ring - c
    n = np.linalg.norm(d, axis=1, keepdims=True)
    out: Array = c + d * (n + by_m * math.sqrt(2)) / np.maximum(n, 1e-9)
    return out


def ring_axes(ring: Array) -> tuple[Array, float, float, Array]:
    """A rectangle ring's first corner, length (first side), width, and 2x2 unit axes as columns."""
    u, v = ring[1] - ring[0], ring[3] - ring[0]
    length, width = float(np.linalg.norm(u)), float(np.linalg.norm(v))
    return ring[0], length, width, np.column_stack([u / length, v / width])


class Ground:
    """The orthophoto being drawn (0.1 m cells, north up) and helpers to paint polygons in metres."""

    def __init__(self, rng: np.random.Generator, size_m: float, cell_m: float) -> None:
        self.n = round(size_m / cell_m)
        self.half, self.cell = size_m / 2, cell_m
        n = self.n
        img = tint((72, 122, 92), n, n, rng, vary=0.22, grain=6.0).astype(np.float32)
        img *= (1 + 0.08 * np.clip(smooth_noise(rng, n, n, 12.0), -2, 2))[..., None]  # clumps of grass
        self.img = np.clip(img, 0, 255).astype(np.uint8)
        self.to_px = np.linalg.inv(
            np.array([[cell_m, 0, -self.half + cell_m / 2], [0, -cell_m, self.half - cell_m / 2], [0, 0, 1]])
        )

    def px(self, ring: Array) -> NDArray[np.int32]:
        h = np.column_stack([ring, np.ones(len(ring))]) @ self.to_px.T
        return np.round(h[:, :2] * 16).astype(np.int32)

    def fill(self, ring: Array, colour: BGR) -> None:
        cv2.fillPoly(self.img, [self.px(ring)], colour, lineType=cv2.LINE_AA, shift=4)

    def blend(self, ring: Array, colour: BGR, alpha: float) -> None:
        """The polygon painted at `alpha` opacity (only its bounding box is touched)."""
        pts = self.px(ring)
        x0, y0 = np.maximum(pts.min(axis=0) // 16 - 2, 0)
        x1, y1 = np.minimum(pts.max(axis=0) // 16 + 3, self.n)
        if x1 <= x0 or y1 <= y0:
            return
        roi = self.img[y0:y1, x0:x1]
        over = roi.copy()
        cv2.fillPoly(over, [pts - np.array([x0, y0]) * 16], colour, lineType=cv2.LINE_AA, shift=4)
        self.img[y0:y1, x0:x1] = cv2.addWeighted(over, alpha, roi, 1 - alpha, 0)

    def paste(self, texture: NDArray[np.uint8], ring: Array) -> None:
        """A texture warped onto a rectangle of the ground (pools, courts, tarps drawn flat)."""
        h, w = texture.shape[:2]
        src = np.array([[0, 0], [w, 0], [w, h], [0, h]], np.float32)
        dst = (np.column_stack([ring, np.ones(4)]) @ self.to_px.T)[:, :2].astype(np.float32)
        m = cv2.getPerspectiveTransform(src, dst)
        warped = cv2.warpPerspective(texture, m, (self.n, self.n), flags=cv2.INTER_AREA)
        mask = cv2.warpPerspective(np.full((h, w), 255, np.uint8), m, (self.n, self.n), flags=cv2.INTER_NEAREST)
        cv2.copyTo(warped, mask, self.img)


def cast_shadow(ground: Ground, ring: Array, height_m: float, sun_az_deg: float, sun_el_deg: float) -> None:
    """A building's shadow on the ground: its footprint swept away from the sun."""
    length = height_m / math.tan(math.radians(sun_el_deg))
    az = math.radians(sun_az_deg + 180.0)
    off = np.array([math.sin(az), math.cos(az)]) * length
    pts = np.concatenate([ring, ring + off]).astype(np.float32)
    hull = cv2.convexHull(pts).reshape(-1, 2).astype(np.float64)
    ground.blend(hull, (30, 40, 36), 0.55)
