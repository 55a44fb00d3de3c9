"""What the generated fire scenes (`benchmarks.scenarios.fire`) draw: flames and smoke, and the painting
helpers every element uses (the look-alikes are in `benchmarks.scenarios.fire_lookalikes`).

Each element is drawn into every frame of a scene and returns its ground-truth box when it is fire or
smoke. They share no code or constant with the detector (see `benchmarks.scenarios.fire`).
"""

from __future__ import annotations

from typing import Any, Protocol

import cv2
import numpy as np
from numpy.typing import NDArray

Float = NDArray[np.float32]


class FireScenario(Protocol):
    """What an element reads of its scene (`benchmarks.scenarios.fire.FireScenario` has it); a protocol, so this
    module does not import the scene module that imports it."""

    @property
    def width(self) -> int: ...
    @property
    def height(self) -> int: ...
    @property
    def fps(self) -> float: ...
    @property
    def lighting(self) -> str: ...
    @property
    def ignition_s(self) -> float | None: ...
    @property
    def params(self) -> dict[str, Any]: ...


class Element(Protocol):
    """Something drawn into every frame; returns its ground-truth box when it is fire/smoke."""

    def draw(self, frame: Float, t: float) -> tuple[float, float, float, float] | None: ...


class Flame:
    """Turbulent flame tongues growing from a base point; colour from deep orange to white-yellow."""

    _STOPS = np.array(
        [
            [0.0, 0.0, 40.0, 190.0],
            [0.3, 10.0, 100.0, 240.0],
            [0.6, 60.0, 200.0, 255.0],
            [1.0, 200.0, 250.0, 255.0],
        ],
        np.float32,
    )

    def __init__(self, sc: FireScenario, rng: np.random.Generator) -> None:
        p = sc.params
        assert sc.ignition_s is not None
        self.t0 = sc.ignition_s
        self.bx = p["base_x_share"] * sc.width
        self.by = p["base_y_share"] * sc.height
        self.w_max = max(8.0, p["max_width_share"] * sc.width)
        self.w0 = max(3.0, 0.15 * self.w_max)
        self.growth_s = p["growth_s"]
        self.aspect = p["aspect"]
        self.rng = rng
        self.night = sc.lighting == "night"
        self.fields = [rng.standard_normal((6, 5)).astype(np.float32) for _ in range(3)]
        self.height_mod = 0.0
        self.tongues = int(rng.integers(1, 4))
        self.offsets = rng.uniform(-0.45, 0.45, self.tongues)

    def _evolve(self) -> None:
        for i, f in enumerate(self.fields):
            self.fields[i] = (0.55 * f + 0.835 * self.rng.standard_normal(f.shape)).astype(np.float32)
        self.height_mod = 0.5 * self.height_mod + 0.87 * float(self.rng.standard_normal())

    def width_at(self, t: float) -> float:
        k = min(1.0, max(0.0, (t - self.t0) / self.growth_s))
        return float(self.w0 + (self.w_max - self.w0) * (k * k * (3 - 2 * k)))

    def draw(self, frame: Float, t: float) -> tuple[float, float, float, float] | None:
        if t < self.t0:
            return None
        self._evolve()
        w = self.width_at(t)
        h = w * self.aspect
        pw, ph = int(w * 2.2) + 6, int(h * 1.5) + 6
        x0, y0 = round(self.bx - pw / 2), round(self.by - ph + 3)
        yy, xx = np.mgrid[0:ph, 0:pw].astype(np.float32)
        fa, fb, fc = (cv2.resize(f, (pw, ph), interpolation=cv2.INTER_CUBIC) for f in self.fields)
        v = (ph - 3 - yy) / h
        hmod = 1.0 + 0.18 * self.height_mod
        intensity = np.zeros((ph, pw), np.float32)
        for off in self.offsets:
            u = (xx - pw / 2) / (w / 2) - off * (1 - 0.5 * v)
            shift = 0.45 * fb * v
            hw = np.clip(1 - v / (hmod * (1 - 0.2 * abs(off))), 0, 1) ** 0.6 * (1 + 0.3 * fa)
            hw *= 0.55 + 0.45 * np.clip(v * 5, 0, 1)
            part = np.clip(1 - np.abs(u - shift) / np.maximum(hw, 1e-3), 0, 1) * (v > -0.03)
            intensity = np.maximum(intensity, part.astype(np.float32))
        intensity *= (0.8 + 0.2 * np.tanh(fc)).astype(np.float32)
        alpha = np.clip(intensity * 3.0, 0, 1)
        colour = np.stack([np.interp(intensity, self._STOPS[:, 0], self._STOPS[:, c]) for c in (1, 2, 3)], -1)
        _blend(frame, x0, y0, colour.astype(np.float32), alpha, glow=0.35 if self.night else 0.1)
        return _mask_box(alpha > 0.3, x0, y0)


class Smoke:
    """A plume of grey puffs rising, widening and drifting with the wind; it veils and blurs the scene."""

    def __init__(self, sc: FireScenario, rng: np.random.Generator) -> None:
        p = sc.params
        assert sc.ignition_s is not None
        self.t0 = sc.ignition_s
        self.bx = p["base_x_share"] * sc.width
        self.by = p["base_y_share"] * sc.height
        self.grey = float(p["smoke_grey"])
        self.opacity = float(p["smoke_opacity"])
        self.wind = float(p["wind_px_s"]) * sc.width / 640
        self.scale = sc.width / 640
        self.rng = rng
        self.dt = 1.0 / sc.fps
        self.puffs = np.zeros((0, 5), np.float32)  # x, y, radius, age_s, rise_px_s

    def draw(self, frame: Float, t: float) -> tuple[float, float, float, float] | None:
        if t < self.t0:
            return None
        spawn = int(self.rng.poisson(3.0 * self.dt * 10))
        ramp = min(1.0, (t - self.t0) / 4.0)
        new = np.column_stack(
            [
                self.bx + self.rng.normal(0, 3 * self.scale, spawn),
                np.full(spawn, self.by),
                self.rng.uniform(3, 6, spawn) * self.scale * (0.5 + ramp),
                np.zeros(spawn),
                self.rng.uniform(15, 35, spawn) * self.scale,
            ]
        ).astype(np.float32)
        p = np.vstack([self.puffs, new])
        p[:, 1] -= p[:, 4] * self.dt
        p[:, 0] += (self.wind * np.minimum(1.0, p[:, 3] / 2.0) + self.rng.normal(0, 3, len(p))) * self.dt
        p[:, 2] += 5.0 * self.scale * self.dt
        p[:, 3] += self.dt
        p = p[(p[:, 3] < 6.0) & (p[:, 1] + p[:, 2] > 0)]
        self.puffs = p
        if len(p) == 0:
            return None
        h, w = frame.shape[:2]
        x0 = max(0, int((p[:, 0] - 2.5 * p[:, 2]).min()))
        x1 = min(w, int((p[:, 0] + 2.5 * p[:, 2]).max()) + 1)
        y0 = max(0, int((p[:, 1] - 2.5 * p[:, 2]).min()))
        y1 = min(h, int((p[:, 1] + 2.5 * p[:, 2]).max()) + 1)
        if x1 <= x0 or y1 <= y0:
            return None
        yy, xx = np.mgrid[y0:y1, x0:x1].astype(np.float32)
        density = np.zeros(yy.shape, np.float32)
        for x, y, r, age, _ in p:
            fade = max(0.0, 1.0 - age / 6.0)
            density += 1.2 * fade * np.exp(-((xx - x) ** 2 + (yy - y) ** 2) / (2 * r * r))
        alpha = (1 - np.exp(-density)) * self.opacity * ramp
        region = frame[y0:y1, x0:x1]
        blurred = cv2.GaussianBlur(region, (0, 0), 2.5)
        veil = np.clip(alpha * 2, 0, 1)[..., None]
        region[:] = region * (1 - veil) + blurred * veil
        region[:] = region * (1 - alpha[..., None]) + self.grey * alpha[..., None]
        return _mask_box(alpha > 0.12, x0, y0)


def _mask_box(mask: NDArray[np.bool_], x0: int, y0: int) -> tuple[float, float, float, float] | None:
    """The ground-truth box (frame pixels) of the visible part of an element drawn at (x0, y0)."""
    ys, xs = np.nonzero(mask)
    if len(xs) == 0:
        return None
    return float(x0 + xs.min()), float(y0 + ys.min()), float(x0 + xs.max() + 1), float(y0 + ys.max() + 1)


def _blend(frame: Float, x0: int, y0: int, colour: Float, alpha: Float, *, glow: float = 0.0) -> None:
    """Alpha-blend a patch (clipped to the frame), plus an optional soft orange glow around it."""
    h, w = frame.shape[:2]
    ph, pw = alpha.shape
    fx0, fy0, fx1, fy1 = max(0, x0), max(0, y0), min(w, x0 + pw), min(h, y0 + ph)
    if fx1 <= fx0 or fy1 <= fy0:
        return
    px0, py0 = fx0 - x0, fy0 - y0
    a = alpha[py0 : py0 + fy1 - fy0, px0 : px0 + fx1 - fx0, None]
    c = colour[py0 : py0 + fy1 - fy0, px0 : px0 + fx1 - fx0]
    if glow > 0:
        cx, cy = x0 + pw / 2, y0 + ph * 0.7
        add_glow(frame, cx, cy, max(pw, ph), (0.0, 110.0, 255.0), strength=glow)
    region = frame[fy0:fy1, fx0:fx1]
    region[:] = region * (1 - a) + c * a


def add_glow(
    frame: Float, cx: float, cy: float, radius: float, colour: tuple[float, float, float], *, strength: float
) -> None:
    h, w = frame.shape[:2]
    r = max(2, round(radius))
    x0, y0, x1, y1 = (
        max(0, round(cx) - r),
        max(0, round(cy) - r),
        min(w, round(cx) + r),
        min(h, round(cy) + r),
    )
    if x1 <= x0 or y1 <= y0:
        return
    yy, xx = np.mgrid[y0:y1, x0:x1].astype(np.float32)
    g = np.exp(-((xx - cx) ** 2 + (yy - cy) ** 2) / (2 * (radius / 2.5) ** 2)) * strength
    region = frame[y0:y1, x0:x1]
    region[:] = np.minimum(255.0, region + g[..., None] * np.array(colour, np.float32))
