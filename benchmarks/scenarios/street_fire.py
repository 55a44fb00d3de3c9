"""The burning part of a street scene: a flame drawn from a heat field, and the smoke plume above it.

The flame is a heat field in [0, 1] on a patch around its base, turned into light by a heat-to-colour
ramp (dark red, orange, yellow, white-hot core). Its heat comes from one of three drawing styles, picked
per clip:

- `veil`: a steady teardrop envelope filled with turbulence that streams upwards; the outline barely
  moves while the inside keeps changing (the hardest case for an outline-based flicker test);
- `tongues`: two to four leaning tongues, each its own envelope with its own sway, over a hot core;
- `puffs`: hot puffs born at the base that rise, shrink and cool (a particle flame).

The flame grows from its start size to its full size over `growth_s` (smoothstep), and its tip wavers.
Everything is driven by the clip's seed and our own value noise; no code or constant is shared with the
fire detector.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import cv2
import numpy as np
from numpy.typing import NDArray

from benchmarks.scenarios.street_noise import ValueNoise
from benchmarks.scenarios.street_paint import add_light, paste

Float = NDArray[np.float32]
Box = tuple[float, float, float, float]

FLAME_STYLES: tuple[str, ...] = ("veil", "tongues", "puffs")


@dataclass(frozen=True)
class FlameSpec:
    """One flame: where its base is, when it ignites, how it grows and how it is drawn (source pixels)."""

    base_x: float
    base_y: float
    ignition_s: float
    start_w_px: float
    full_w_px: float
    start_aspect: float
    full_aspect: float
    growth_s: float
    style: str
    rise_px_s: float
    sway_hz: float
    yellowness: float
    smoke_delay_s: float
    smoke_grey: float
    smoke_opacity: float
    wind_px_s: float


def heat_to_bgr(heat: Float, yellowness: float) -> Float:
    """Light emitted at each heat level: dark red at 0.3, orange at 0.6, yellow at 0.8, near white at 1."""
    r = np.clip(1.9 * heat, 0.0, 1.0)
    g = np.clip(1.7 * heat - 0.55, 0.0, 1.0) ** 1.1 * np.float32(yellowness)
    b = np.clip(2.6 * heat - 1.9, 0.0, 1.0) * np.float32(0.9)
    out: Float = np.stack([b, g, r], axis=-1).astype(np.float32) * np.float32(255.0)
    return out


class Flame:
    """A growing flame; `draw` paints it and returns its ground-truth box (None before ignition)."""

    def __init__(self, spec: FlameSpec, seed: int, night: bool) -> None:
        self.s = spec
        self.noise = ValueNoise(seed + 101)
        self.rng = np.random.default_rng([seed, 202])
        self.night = night
        self.phase = float(self.rng.uniform(0, 2 * math.pi))
        self.tongues = [
            (float(self.rng.uniform(-0.35, 0.35)), float(self.rng.uniform(0.6, 1.0)), float(self.rng.uniform(0, 6.3)))
            for _ in range(int(self.rng.integers(2, 5)))
        ]
        self.puffs = np.zeros((0, 5), np.float32)  # u, v, radius (share of width), age_s, life_s
        self.last_t: float | None = None
        self.flare = 1.0

    def size_at(self, t: float) -> tuple[float, float]:
        """(width, height) in pixels at time t (after ignition)."""
        k = min(1.0, max(0.0, (t - self.s.ignition_s) / self.s.growth_s))
        k = k * k * (3.0 - 2.0 * k)
        w = self.s.start_w_px + (self.s.full_w_px - self.s.start_w_px) * k
        aspect = self.s.start_aspect + (self.s.full_aspect - self.s.start_aspect) * k
        return w, w * aspect

    def draw(self, frame: Float, t: float) -> Box | None:
        if t < self.s.ignition_s:
            return None
        dt = 0.0 if self.last_t is None else t - self.last_t
        self.last_t = t
        w, h = self.size_at(t)
        pw, ph = int(w * 2.0) + 10, int(h * 1.45) + 10
        x0, y0 = round(self.s.base_x - pw / 2), round(self.s.base_y - ph + 5)
        yy, xx = np.mgrid[0:ph, 0:pw].astype(np.float32)
        u = (xx + x0 - self.s.base_x) / np.float32(w / 2)
        v = (self.s.base_y - (yy + y0)) / np.float32(h)
        # Turbulence streams upwards through the flame (in pixels, so small and large flames look alike).
        scale = max(4.0, 0.22 * w)
        n = self.noise.fractal(
            (xx + x0) / scale, (yy + y0 + self.s.rise_px_s * t) / scale, 2.2 * t, octaves=3
        )
        self.flare = float(np.clip(0.85 * self.flare + 0.15 * self.rng.normal(1.0, 0.35), 0.7, 1.3))
        style = self.s.style
        if style == "veil":
            heat = self._veil(u, v, n, t)
        elif style == "tongues":
            heat = self._tongues(u, v, n, t)
        elif style == "puffs":
            heat = self._puffs(u, v, n, dt)
        else:
            raise ValueError(f"unknown flame style {style!r}")
        core = np.exp(-((u / 0.42) ** 2 + ((v - 0.2) / 0.17) ** 2)).astype(np.float32)
        heat = np.clip(heat + core * np.float32(0.3) * (0.6 + 0.8 * n) * (heat > 0.05), 0.0, 1.0)
        alpha = np.clip((heat - 0.1) * 3.5, 0.0, 1.0).astype(np.float32)
        colour = heat_to_bgr(heat, self.s.yellowness)
        # Light thrown on what is around the flame (strong at night), flickering with the flame.
        halo = cv2.GaussianBlur(colour * alpha[..., None], (0, 0), max(2.0, 0.35 * w))
        paste(frame, x0, y0, colour, alpha)
        add_light(frame, x0, y0, halo * np.float32((0.9 if self.night else 0.25) * self.flare))
        ys, xs = np.nonzero(alpha > 0.5)
        if len(ys) == 0:
            return None
        return (float(x0 + xs.min()), float(y0 + ys.min()), float(x0 + xs.max() + 1), float(y0 + ys.max() + 1))

    def _envelope(self, u: Float, v: Float, lean: Float, reach: Float) -> Float:
        """Teardrop: widest a third of the way up, closing to a point at `reach` (share of height)."""
        vv = v / np.maximum(reach, 0.2)
        half = 1.05 * np.clip(vv + 0.06, 0.0, None) ** 0.35 * np.clip(1.0 - vv, 0.0, None) ** 0.8 / 0.62
        e = np.clip(1.0 - np.abs(u - lean) / np.maximum(half, 1e-3), 0.0, 1.0)
        out: Float = (e * ((v > -0.04) & (half > 0.02))).astype(np.float32)
        return out

    def _veil(self, u: Float, v: Float, n: Float, t: float) -> Float:
        lean = np.float32(0.12 * math.sin(2 * math.pi * self.s.sway_hz * t + self.phase)) * v * v
        reach = np.float32(1.0 + 0.06 * math.sin(2 * math.pi * 1.3 * self.s.sway_hz * t)) + 0.08 * (n - 0.5)
        e = self._envelope(u, v, lean, reach)
        out: Float = (e**0.5 * (0.2 + 1.0 * n) * (1.0 - 0.3 * np.clip(v, 0, 1))).astype(np.float32)
        return out

    def _tongues(self, u: Float, v: Float, n: Float, t: float) -> Float:
        heat = np.zeros(u.shape, np.float32)
        for offset, height, phase in self.tongues:
            sway = math.sin(2 * math.pi * self.s.sway_hz * 1.7 * t + phase)
            lean = np.float32(offset) * (1.0 - 0.5 * v) + np.float32(0.3 * sway) * v * v
            reach = np.float32(height * (1.0 + 0.1 * math.sin(2 * math.pi * 2.1 * self.s.sway_hz * t + phase)))
            e = self._envelope(u * np.float32(1.2), v, lean * np.float32(1.2), reach + 0.15 * (n - 0.5))
            heat = np.maximum(heat, e**0.6 * (0.3 + 0.85 * n))
        out: Float = heat.astype(np.float32)
        return out

    def _puffs(self, u: Float, v: Float, n: Float, dt: float) -> Float:
        p = self.puffs
        born = int(self.rng.poisson(28.0 * dt)) if dt > 0 else 8
        new = np.column_stack(
            [
                self.rng.normal(0.0, 0.28, born),
                self.rng.uniform(0.0, 0.12, born),
                self.rng.uniform(0.22, 0.38, born),
                np.zeros(born),
                self.rng.uniform(0.3, 0.65, born),
            ]
        ).astype(np.float32)
        p = np.vstack([p, new])
        p[:, 1] += np.float32(1.3 * dt)  # rise about 1.3 heights per second
        p[:, 0] *= np.float32(max(0.0, 1.0 - 1.5 * dt))  # drawn in towards the axis
        p[:, 0] += self.rng.normal(0.0, 0.25 * math.sqrt(max(dt, 1e-6)), len(p)).astype(np.float32)
        p[:, 3] += np.float32(dt)
        p = p[p[:, 3] < p[:, 4]]
        self.puffs = p
        heat = np.zeros(u.shape, np.float32)
        for pu, pv, radius, age, life in p.tolist():
            cool = 1.0 - age / life
            r = radius * (0.5 + 0.5 * cool)
            heat += np.float32(0.7 * cool) * np.exp(-((u - pu) ** 2 + ((v - pv) * 2.0) ** 2) / (2 * r * r))
        base = self._envelope(u, v, np.zeros_like(u), np.full_like(u, 0.45))
        glow = (1.0 - np.exp(-1.4 * heat)) * (0.55 + 0.6 * n)
        out: Float = np.clip(glow + 0.6 * base * n, 0.0, 1.0).astype(np.float32)
        return out


class SmokePlume:
    """Grey smoke rising from above a flame's tip, widening and leaning with the wind."""

    def __init__(self, spec: FlameSpec, flame: Flame, seed: int, night: bool) -> None:
        self.s = spec
        self.flame = flame
        self.noise = ValueNoise(seed + 303)
        self.night = night

    def draw(self, frame: Float, t: float) -> None:
        start = self.s.ignition_s + self.s.smoke_delay_s
        if t < start:
            return
        w, h = self.flame.size_at(t)
        age = t - start
        tall = min(4.5 * h + 60.0, 40.0 + 45.0 * age)
        wide = 1.2 * w + 0.6 * tall + 2 * abs(self.s.wind_px_s) * min(age, tall / 45.0)
        tip_y = self.s.base_y - 0.8 * h
        x0, y0 = round(self.s.base_x - wide / 2), round(tip_y - tall)
        pw, ph = max(4, round(wide)), max(4, round(tall))
        yy, xx = np.mgrid[0:ph, 0:pw].astype(np.float32)
        z = (tip_y - (yy + y0)) / np.float32(tall)  # 0 at the tip, 1 at the plume's top
        drift = np.float32(self.s.wind_px_s / 45.0 * tall) * z
        centre = (xx + x0 - self.s.base_x - drift) / np.float32(0.5 * (0.8 * w + 0.55 * tall * z) + 1.0)
        body = np.clip(1.0 - centre**2, 0.0, 1.0) * np.clip(1.0 - z, 0.0, 1.0) ** 0.7 * np.clip(z * 8, 0, 1)
        # Smoke is soft: its density is sampled on a grid 4 px apart and smoothed up to the patch.
        gy, gx = np.mgrid[0 : ph + 4 : 4, 0 : pw + 4 : 4].astype(np.float32)
        coarse = self.noise.fractal((gx + x0) / 18.0, (gy + y0 + 40.0 * t) / 18.0, 0.8 * t, octaves=3)
        d = np.asarray(cv2.resize(coarse, (gx.shape[1] * 4, gx.shape[0] * 4), interpolation=cv2.INTER_LINEAR),
                       np.float32)[:ph, :pw]
        ramp = min(1.0, age / 2.5)
        alpha = np.clip(body * (0.35 + 1.1 * (d - 0.3)), 0.0, 1.0) * np.float32(self.s.smoke_opacity * ramp)
        grey = self.s.smoke_grey * (0.35 if self.night else 1.0)
        colour = np.empty((ph, pw, 3), np.float32)
        colour[:] = grey
        colour *= (0.85 + 0.3 * d)[..., None]
        paste(frame, x0, y0, colour, alpha.astype(np.float32))
