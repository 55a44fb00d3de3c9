"""Drawing what moves in a throw scenario: falling objects, leaves, birds, insects, street traffic, rain,
snow, and the night look under the camera's infrared lamp."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import cv2
import numpy as np
from numpy.typing import NDArray

from benchmarks.scenarios.throw_camera import Camera, draw_blob, fill_quad, subpixel_point
from benchmarks.scenarios.throw_spec import ThrowScenarioSpec

_EXPOSURE_S = 0.02


@dataclass
class Mover:
    """A distractor or object alive between t0 and t1 whose draw() is called per frame."""

    kind: str
    t0: float
    t1: float
    params: dict[str, Any]


class MoverPainter:
    """Draws one mover at a time into a frame through the scene's camera (its jitter offset included)."""

    def __init__(self, spec: ThrowScenarioSpec, cam: Camera, sky_px: NDArray[np.bool_]) -> None:
        self.spec = spec
        self.cam = cam
        self._sky_px = sky_px

    def draw_throw(self, frame: NDArray[np.uint8], m: Mover, t: float) -> None:
        p = m.params
        rel = t - m.t0
        times, pos = p["times"], p["pos"]
        if rel > times[-1]:
            xyz = np.stack([pos[-1], pos[-1]])
        else:
            ts = np.array([max(0.0, rel - _EXPOSURE_S / 2), min(times[-1], rel + _EXPOSURE_S / 2)])
            xyz = np.stack([np.interp(ts, times, pos[:, k]) for k in range(3)], 1)
        uv, depth = self.cam.project(xyz)
        size_px = p["size"] * self.cam.f / float(depth.mean())
        draw_blob(frame, uv[0], uv[1], size_px, p["bgr"])

    def draw_leaf(self, frame: NDArray[np.uint8], m: Mover, t: float) -> None:
        p = m.params
        rel = t - m.t0
        sway = p["amp"] * math.sin(2 * math.pi * rel / p["period"])
        z = p["p0"][2] - p["vt"] * rel + 0.25 * p["amp"] * math.cos(4 * math.pi * rel / p["period"])
        if z < 0:
            return
        xyz = np.array([[p["p0"][0] + sway + p["drift"] * rel, p["p0"][1], z]])
        uv, depth = self.cam.project(xyz)
        size = p["size"] * self.cam.f / float(depth[0]) * (0.6 + 0.4 * abs(math.cos(3 * rel)))
        draw_blob(frame, uv[0], uv[0], size, p["bgr"])

    def draw_bird(self, frame: NDArray[np.uint8], m: Mover, t: float) -> None:
        p = m.params
        rel = t - m.t0
        xyz = p["p0"] + p["v"] * rel
        xyz[2] += p["amp"] * math.sin(2 * math.pi * rel / p["period"])
        uv, depth = self.cam.project(xyz[None, :])
        span = p["span"] * self.cam.f / float(depth[0])
        flap = math.sin(2 * math.pi * p["flap_hz"] * rel)
        c = uv[0]
        wing = np.array([span / 2, span * 0.3 * flap])
        g = p["grey"]
        th = max(1, round(span / 6))
        cv2.line(frame, subpixel_point(c), subpixel_point(c - wing), (g, g, g), th, cv2.LINE_AA, 4)
        cv2.line(frame, subpixel_point(c), subpixel_point(c + wing * np.array([1, 1])), (g, g, g), th, cv2.LINE_AA, 4)
        draw_blob(frame, c, c, max(1.0, span / 4), (g, g, g))

    def draw_insect(self, frame: NDArray[np.uint8], m: Mover, rng: np.random.Generator) -> None:
        p = m.params
        p["v"] = p["v"] * 0.8 + rng.normal(0, 5 * self.spec.scale * 2, 2)
        p["p"] = p["p"] + p["v"]
        g = p["grey"]
        draw_blob(frame, p["p"], p["p"] - p["v"] * 0.5, p["size"], (g, g, g))

    def draw_ground(self, frame: NDArray[np.uint8], m: Mover, t: float) -> None:
        p = m.params
        x = p["x0"] + p["v"] * (t - m.t0)
        y = p["y"]
        if m.kind == "person":
            body = np.array([[x - 0.25, y, 0.0], [x + 0.25, y, 0.0], [x + 0.25, y, 1.45], [x - 0.25, y, 1.45]])
            fill_quad(frame, self.cam.project(body)[0], p["bgr"])
            head, depth = self.cam.project(np.array([[x, y, 1.6]]))
            cv2.circle(
                frame,
                subpixel_point(head[0]),
                max(1, round(0.12 * self.cam.f / depth[0])),
                (60, 80, 110),
                -1,
                cv2.LINE_AA,
            )
        else:
            body = np.array([[x - 2.2, y, 0.2], [x + 2.2, y, 0.2], [x + 2.2, y, 1.0], [x - 2.2, y, 1.0]])
            fill_quad(frame, self.cam.project(body)[0], p["bgr"])
            cabin = np.array([[x - 1.2, y, 1.0], [x + 1.0, y, 1.0], [x + 0.7, y, 1.5], [x - 0.9, y, 1.5]])
            fill_quad(frame, self.cam.project(cabin)[0], (50, 50, 50))

    def new_flakes(self, rng: np.random.Generator, n: int) -> NDArray[np.float64]:
        """(n, 6) flakes: x, y (px), nearness 0-1, sway phase, sway rate (rad/s), grey."""
        s = self.spec
        near = rng.uniform(0, 1, n) ** 2
        return np.stack(
            [
                rng.uniform(0, s.width_px, n),
                rng.uniform(0, s.height_px, n),
                near,
                rng.uniform(0, 2 * math.pi, n),
                rng.uniform(1.0, 3.0, n),
                rng.uniform(200, 250, n),
            ],
            1,
        )

    def draw_snow(
        self, frame: NDArray[np.uint8], flakes: NDArray[np.float64], t: float, rng: np.random.Generator
    ) -> None:
        """Flakes drift down at a slow steady speed and sway; nearer ones are bigger, faster, blurrier."""
        s = self.spec
        k = s.scale * 2
        near = flakes[:, 2]
        fall_px = (12 + 150 * near) * k / s.fps
        sway_px = (4 + 40 * near) * k * np.cos(flakes[:, 3] + flakes[:, 4] * t) * flakes[:, 4] / s.fps
        flakes[:, 0] += sway_px + 0.3 * fall_px
        flakes[:, 1] += fall_px
        gone = flakes[:, 1] > s.height_px + 10
        flakes[gone, 1] = -5.0
        flakes[gone, 0] = rng.uniform(0, s.width_px, int(gone.sum()))
        flakes[:, 0] %= s.width_px
        sizes = (0.8 + 5.0 * near) * k
        for (x, y, _n, _p, _r, g), size, dy in zip(flakes, sizes, fall_px, strict=True):
            c = np.array([x, y])
            draw_blob(frame, c, c + np.array([0.0, 0.4 * dy]), float(size), (int(g), int(g), int(g)))

    def ir_lamp(self) -> NDArray[np.float32]:
        """The infrared lamp's reach: bright in the middle, falling off towards the corners."""
        s = self.spec
        yy, xx = np.mgrid[0 : s.height_px, 0 : s.width_px].astype(np.float32)
        r2 = ((xx - s.width_px * 0.5) / (0.6 * s.width_px)) ** 2 + (
            (yy - s.height_px * 0.55) / (0.7 * s.height_px)
        ) ** 2
        lamp = 0.25 + 0.45 * np.exp(-r2)
        return np.asarray(np.where(self._sky_px, 0.12, lamp), np.float32)

    def to_night(
        self, frame: NDArray[np.uint8], lamp: NDArray[np.float32], headlights: list[Mover], t: float
    ) -> NDArray[np.uint8]:
        """Grey IR picture: the lamp's falloff, lit windows glowing, sweeping headlights, strong noise."""
        s = self.spec
        grey = cv2.cvtColor(frame, cv2.COLOR_BGR2GRAY).astype(np.float32) * lamp
        for m in headlights:
            p = m.params
            u = (t - m.t0) / (m.t1 - m.t0)
            cx = (u if p["dir"] > 0 else 1 - u) * 1.4 * s.width_px - 0.2 * s.width_px
            x0 = max(0, int(cx - 3 * p["radius"]))
            x1 = min(s.width_px, int(cx + 3 * p["radius"]))
            if x1 <= x0:
                continue
            xs = np.arange(x0, x1, dtype=np.float32)
            ys = np.arange(s.height_px, dtype=np.float32)
            g = np.exp(-(((xs[None, :] - cx) / p["radius"]) ** 2) - ((ys[:, None] - p["y"]) / (0.6 * p["radius"])) ** 2)
            grey[:, x0:x1] += p["gain"] * g
        out = np.clip(grey, 0, 255).astype(np.uint8)
        return np.asarray(cv2.cvtColor(out, cv2.COLOR_GRAY2BGR), np.uint8)

    def draw_rain(self, frame: NDArray[np.uint8], n: int, rng: np.random.Generator) -> None:
        s = self.spec
        xy = rng.uniform([0, 0], [s.width_px, s.height_px], (n, 2))
        length = rng.uniform(6, 28, n) * s.scale * 2
        slant = rng.normal(s.rain_slant, 0.03)
        ends = xy + np.stack([length * slant, length], 1)
        lines = np.concatenate([xy, ends], 1)
        shade = int(rng.integers(175, 215))
        cv2.polylines(
            frame,
            [np.round(seg.reshape(2, 2) * 16).astype(np.int32) for seg in lines],
            False,
            (shade, shade, shade),
            1,
            cv2.LINE_AA,
            4,
        )

    # ------------------------------------------------------------------ outputs
