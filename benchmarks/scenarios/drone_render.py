"""Rendering a drone frame of a generated district from the camera's true pose: the ground warped through the
camera, every raised layer drawn as a textured plane with walls (parallax), band-limited like a camera's
pixels, blurred and noised. Shares nothing with `detectors/`.
"""

from __future__ import annotations

import math

import cv2
import numpy as np
from numpy.typing import NDArray

from benchmarks.scenarios.drone_world import Layer, Scene
from benchmarks.scenarios.sim_camera import SimCamera, SimPose, plane_homography, project, ray_hits_plane


class _TextureCache:
    """Each layer's texture band-limited to the scale it is seen at (a camera integrates over pixels)."""

    def __init__(self) -> None:
        self._cache: dict[tuple[int, int, int], NDArray[np.uint8]] = {}

    def get(self, index: int, layer: Layer, sx: float, sy: float) -> tuple[NDArray[np.uint8], float, float]:
        """The texture resized so a texel is about one image pixel along each axis; and the resize factors."""
        qx = min(0, math.floor(math.log2(max(sx, 1e-6)) * 4))
        qy = min(0, math.floor(math.log2(max(sy, 1e-6)) * 4))
        key = (index, qx, qy)
        tex = self._cache.get(key)
        fx, fy = 2.0 ** (qx / 4), 2.0 ** (qy / 4)
        if tex is None:
            h, w = layer.texture.shape[:2]
            size = (max(2, round(w * fx)), max(2, round(h * fy)))
            tex = layer.texture if (qx, qy) == (0, 0) else np.asarray(
                cv2.resize(layer.texture, size, interpolation=cv2.INTER_AREA), np.uint8
            )
            self._cache[key] = tex
        h0, w0 = layer.texture.shape[:2]
        return tex, tex.shape[1] / w0, tex.shape[0] / h0


def _axis_scales(m: NDArray[np.float64], x: float, y: float) -> tuple[float, float]:
    """Image pixels per texel along the texture's x and y axes at texture point (x, y) under homography m."""
    pts = np.array([[x, y, 1.0], [x + 1, y, 1.0], [x, y + 1, 1.0]]) @ m.T
    p = pts[:, :2] / pts[:, 2:3]
    return float(np.linalg.norm(p[1] - p[0])), float(np.linalg.norm(p[2] - p[0]))


class Renderer:
    """Renders a scene's frames through a `SimCamera` from true poses (one per flight: it caches textures)."""

    def __init__(self, scene: Scene, camera: SimCamera, seed: int) -> None:
        self.scene, self.camera = scene, camera
        self.textures = _TextureCache()
        rng = np.random.default_rng(seed)
        self.noise = [rng.normal(0, 1.6, (camera.height_px, camera.width_px, 1)).astype(np.float32) for _ in range(3)]
        self._ortho = scene.ortho_px_to_enu()
        self._core_mask = np.full(scene.ground.shape[:2], 255, np.uint8)

    def _ground_homography(self, pose: SimPose) -> NDArray[np.float64] | None:
        """East/north on the ground -> image pixel, fitted where the frame's own rays meet the ground."""
        w, h = self.camera.width_px, self.camera.height_px
        grid = np.array([[x, y] for y in np.linspace(0, h, 5) for x in np.linspace(0, w, 5)], np.float64)
        en = ray_hits_plane(self.camera, pose, grid, 0.0)
        en = en[np.isfinite(en).all(axis=1)]
        return plane_homography(self.camera, pose, 0.0, en)

    def frame(self, pose: SimPose, index: int) -> NDArray[np.uint8]:
        w, h = self.camera.width_px, self.camera.height_px
        hg = self._ground_homography(pose)
        if hg is None:
            raise ValueError("the ground is not in view")
        # Beyond the district: plain fields (no mirrored copies of its structures).
        img = np.asarray(cv2.warpPerspective(self.scene.surround, hg @ self.scene.surround_px_to_enu(), (w, h),
                                             flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT_101), np.uint8)
        district = hg @ self._ortho
        core = cv2.warpPerspective(self.scene.ground, district, (w, h), flags=cv2.INTER_LINEAR)
        inside = cv2.warpPerspective(self._core_mask, district, (w, h), flags=cv2.INTER_NEAREST)
        cv2.copyTo(core, inside, img)
        for li, layer in enumerate(self.scene.layers):
            self._draw_layer(img, pose, li, layer)
        out = cv2.GaussianBlur(img, (0, 0), 0.55).astype(np.float32)
        out *= np.float32(1.0 + 0.025 * math.sin(index / 9.0))
        out += self.noise[index % len(self.noise)]
        return np.clip(out, 0, 255).astype(np.uint8)

    def _draw_layer(self, img: NDArray[np.uint8], pose: SimPose, li: int, layer: Layer) -> None:
        w, h = self.camera.width_px, self.camera.height_px
        ring = layer.ring_m
        top3 = np.column_stack([ring, np.full(4, layer.top_m)])
        base3 = np.column_stack([ring, np.full(4, layer.base_m)])
        top, base = project(self.camera, pose, top3), project(self.camera, pose, base3)
        if not (np.isfinite(top).all() and np.isfinite(base).all()):
            return
        allp = np.concatenate([top, base])
        if allp[:, 0].max() < 0 or allp[:, 1].max() < 0 or allp[:, 0].min() >= w or allp[:, 1].min() >= h:
            return
        x0, y0 = (max(0, int(v)) for v in np.floor(allp.min(axis=0)))
        x1, y1 = min(w, int(np.ceil(allp[:, 0].max())) + 1), min(h, int(np.ceil(allp[:, 1].max())) + 1)
        if x1 <= x0 or y1 <= y0:
            return
        roi = img[y0:y1, x0:x1]
        for j in range(4):  # walls: quads between the base and the top outline, shaded by orientation
            quad = np.array([base[j], base[(j + 1) % 4], top[(j + 1) % 4], top[j]]) - (x0, y0)
            shade = 0.7 + 0.3 * abs(math.cos(j * math.pi / 2 + 0.6))
            colour = tuple(int(c * shade) for c in layer.wall_bgr)
            cv2.fillConvexPoly(roi, np.round(quad * 16).astype(np.int32), colour, cv2.LINE_AA, shift=4)
        hm_plane = plane_homography(self.camera, pose, layer.top_m, ring)
        if hm_plane is None:
            return
        full = hm_plane @ layer.patch_to_enu
        th, tw = layer.texture.shape[:2]
        sx, sy = _axis_scales(full, tw / 2, th / 2)
        tex, fx, fy = self.textures.get(li, layer, sx, sy)
        shift = np.array([[1, 0, -x0], [0, 1, -y0], [0, 0, 1]], np.float64)
        hm = shift @ full @ np.diag([1 / fx, 1 / fy, 1.0])
        size = (x1 - x0, y1 - y0)
        warped = cv2.warpPerspective(tex, hm, size, flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT)
        mask = np.zeros((size[1], size[0]), np.uint8)
        cv2.fillConvexPoly(mask, np.round((top - (x0, y0)) * 16).astype(np.int32), 255, cv2.LINE_8, shift=4)
        cv2.copyTo(warped, mask, roi)
