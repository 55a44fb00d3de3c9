"""The scenario's pinhole camera and the subpixel drawing primitives everything in the scene is drawn with."""

from __future__ import annotations

import math
from collections.abc import Sequence

import cv2
import numpy as np
from numpy.typing import NDArray

from benchmarks.scenarios.throw_spec import ThrowScenarioSpec


class Camera:
    """Pinhole camera in front of the facade plane Y=0 (X along, Z up); the camera is at Y = -distance."""

    def __init__(self, spec: ThrowScenarioSpec, facade_w_m: float, facade_h_m: float, rng: np.random.Generator):
        self.w, self.h = spec.width_px, spec.height_px
        d = spec.camera_distance_m
        self.pos = np.array([facade_w_m / 2 + rng.uniform(-4, 4), -d, 1.6])
        top = math.atan2(facade_h_m + 3.0 - 1.6, d)
        bottom = math.atan2(-1.6 - 4.0, d)
        pitch = (top + bottom) / 2
        half = (top - bottom) / 2 + math.radians(1.0)
        self.f = (self.h / 2) / math.tan(half)
        self.fwd = np.array([0.0, math.cos(pitch), math.sin(pitch)])
        self.right = np.array([1.0, 0.0, 0.0])
        self.down = np.cross(self.fwd, self.right)
        self.down = -self.down if self.down[2] > 0 else self.down
        self.cx, self.cy = self.w / 2, self.h / 2
        self.offset = np.zeros(2)
        """Image shift added to projections (the frame's wind jitter while dynamic objects are drawn)."""

    def project(self, pts: NDArray[np.float64]) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
        """(N,3) world points -> (N,2) pixels and (N,) depth in metres."""
        d = np.asarray(pts, np.float64).reshape(-1, 3) - self.pos
        z = d @ self.fwd
        u = self.cx + self.offset[0] + self.f * (d @ self.right) / z
        v = self.cy + self.offset[1] + self.f * (d @ self.down) / z
        return np.stack([u, v], 1), z


def subpixel_point(p: NDArray[np.float64]) -> tuple[int, int]:
    """A pixel point in OpenCV's 4-bit fixed point (shift=4) for subpixel drawing."""
    return round(float(p[0]) * 16), round(float(p[1]) * 16)


def fill_quad(img: NDArray[np.uint8], quad: NDArray[np.float64], colour: Sequence[int]) -> None:
    cv2.fillConvexPoly(img, np.round(quad * 16).astype(np.int32), tuple(int(c) for c in colour), cv2.LINE_AA, 4)


def draw_blob(
    img: NDArray[np.uint8],
    p0: NDArray[np.float64],
    p1: NDArray[np.float64],
    size_px: float,
    colour: Sequence[int],
) -> None:
    """A motion-blurred round object from p0 to p1; under a pixel it is blended by its coverage."""
    col = tuple(int(c) for c in colour)
    if size_px < 1.2:
        x, y = int(min(max(p0[0], 0), img.shape[1] - 1)), int(min(max(p0[1], 0), img.shape[0] - 1))
        cover = max(0.15, size_px / 1.2)
        under = img[y, x].astype(np.float64)
        col = tuple(round(u + (c - u) * cover) for u, c in zip(under, col, strict=True))
    th = max(1, round(size_px))
    cv2.line(img, subpixel_point(p0), subpixel_point(p1), col, th, cv2.LINE_AA, 4)
