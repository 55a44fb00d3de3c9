"""The static part of a street-scene clip: sky, a row of facades with windows, pavement and road, lit for
day, dusk or night. Built once per clip as a float32 BGR image; the moving actors are drawn over it.

Part of the independent street-scene generator (`benchmarks.scenarios.fire_street`): it shares no code,
colour rule or constant with the fire detector.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np
from numpy.typing import NDArray

from benchmarks.scenarios.street_noise import ValueNoise

Float = NDArray[np.float32]

# Facade paints (B, G, R), picked per building: concrete, sand, brick, slate, whitewash, rust-brown tile.
_PAINTS: tuple[tuple[float, float, float], ...] = (
    (148.0, 150.0, 146.0),
    (150.0, 182.0, 204.0),
    (62.0, 84.0, 146.0),
    (138.0, 122.0, 104.0),
    (214.0, 216.0, 211.0),
    (70.0, 104.0, 160.0),
)


@dataclass(frozen=True)
class StreetLayout:
    """Where the ground is: rows (pixels) of the facade base (pavement starts) and of the kerb (road starts)."""

    width: int
    height: int
    pavement_y: int
    kerb_y: int


def layout_for(width: int, height: int, rng: np.random.Generator) -> StreetLayout:
    pavement = round(height * rng.uniform(0.5, 0.58))
    kerb = round(pavement + height * rng.uniform(0.07, 0.11))
    return StreetLayout(width, height, pavement, kerb)


def build_background(layout: StreetLayout, lighting: str, seed: int) -> Float:
    """The lit, static street (float32 BGR, 0-255) for one clip."""
    rng = np.random.default_rng([seed, 404])
    noise = ValueNoise(seed + 11)
    w, h = layout.width, layout.height
    img = np.zeros((h, w, 3), np.float32)
    _sky(img, layout, lighting)
    lit_windows = _facades(img, layout, rng, lighting)
    _ground(img, layout, rng)
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    grain = noise.fractal(xx / 37.0, yy / 37.0, 0.0, octaves=3)
    img *= (0.88 + 0.24 * grain)[..., None]
    if lighting == "dusk":
        img *= np.array([0.62, 0.6, 0.66], np.float32)
    elif lighting == "night":
        img *= np.array([0.16, 0.15, 0.15], np.float32)
        img = np.maximum(img, lit_windows)
        _white_lamp_pools(img, layout, rng)
    elif lighting != "day":
        raise ValueError(f"unknown lighting {lighting!r}")
    return img


def _sky(img: Float, layout: StreetLayout, lighting: str) -> None:
    h = layout.pavement_y
    v = np.linspace(0.0, 1.0, h, dtype=np.float32)[:, None]
    if lighting == "day":
        top, bottom = np.array([225, 190, 150], np.float32), np.array([235, 225, 215], np.float32)
    elif lighting == "dusk":
        top, bottom = np.array([150, 90, 80], np.float32), np.array([170, 160, 190], np.float32)
    else:
        top, bottom = np.array([55, 30, 18], np.float32), np.array([80, 55, 40], np.float32)
    img[:h] = (top * (1 - v) + bottom * v)[:, None, :]


def _facades(img: Float, layout: StreetLayout, rng: np.random.Generator, lighting: str) -> Float:
    """Buildings along the street; returns an image of the windows lit at night (zeros elsewhere)."""
    w, base = layout.width, layout.pavement_y
    lit = np.zeros_like(img)
    x = -int(rng.integers(0, 60))
    while x < w:
        bw = int(rng.integers(150, 340))
        top = int(base - layout.height * rng.uniform(0.28, 0.5))
        paint = np.array(_PAINTS[int(rng.integers(len(_PAINTS)))], np.float32) * np.float32(rng.uniform(0.9, 1.08))
        x1, x2 = max(0, x), min(w, x + bw - 4)
        img[top:base, x1:x2] = paint
        img[top : top + 5, x1:x2] = paint * 0.7  # cornice shadow
        win_w, win_h = int(rng.integers(14, 26)), int(rng.integers(20, 32))
        gap_x, gap_y = int(rng.integers(14, 30)), int(rng.integers(18, 30))
        glass = np.array([96, 84, 72], np.float32) * np.float32(rng.uniform(0.8, 1.2))
        for wy in range(top + 16, base - win_h - 30, win_h + gap_y):
            for wx in range(x + 12, x + bw - win_w - 12, win_w + gap_x):
                a1, a2 = max(0, wx), min(w, wx + win_w)
                if a2 <= a1:
                    continue
                img[wy : wy + win_h, a1:a2] = glass
                img[wy + win_h : wy + win_h + 3, a1:a2] = paint * 0.8  # sill
                if lighting == "night" and rng.random() < 0.3:
                    warm = rng.random() < 0.6
                    tone = (90.0, 170.0, 225.0) if warm else (215.0, 220.0, 220.0)
                    lit[wy : wy + win_h, a1:a2] = np.array(tone, np.float32) * np.float32(rng.uniform(0.55, 0.9))
        # a shop door at street level
        dx = x + int(rng.integers(20, max(21, bw - 60)))
        img[base - 46 : base, max(0, dx) : max(0, min(w, dx + 30))] = glass * 0.6
        x += bw
    return lit


def _ground(img: Float, layout: StreetLayout, rng: np.random.Generator) -> None:
    w, h = layout.width, layout.height
    img[layout.pavement_y : layout.kerb_y] = np.array([168, 170, 172], np.float32) * np.float32(rng.uniform(0.85, 1.05))
    for px in range(int(rng.integers(0, 40)), w, int(rng.integers(50, 90))):  # paving joints
        img[layout.pavement_y : layout.kerb_y, px : px + 1] *= 0.8
    img[layout.kerb_y : layout.kerb_y + 4] = np.array([200, 200, 200], np.float32)
    img[layout.kerb_y + 4 :] = np.array([82, 84, 86], np.float32) * np.float32(rng.uniform(0.85, 1.15))
    lane_y = layout.kerb_y + (h - layout.kerb_y) // 2
    dash, gap = int(rng.integers(40, 70)), int(rng.integers(30, 60))
    for lx in range(int(rng.integers(0, 50)), w, dash + gap):
        img[lane_y : lane_y + 5, lx : lx + dash] = np.array([215, 215, 215], np.float32)


def _white_lamp_pools(img: Float, layout: StreetLayout, rng: np.random.Generator) -> None:
    """Cool white LED street lights on the road at night (neutral light, so the street is not black)."""
    h, w = img.shape[:2]
    for _ in range(int(rng.integers(2, 4))):
        cx, cy = float(rng.uniform(0.1, 0.9) * w), float(layout.kerb_y + rng.uniform(0.1, 0.6) * (h - layout.kerb_y))
        pool = np.zeros((h, w), np.float32)
        cv2.ellipse(pool, (round(cx), round(cy)), (round(w * 0.12), round(h * 0.06)), 0, 0, 360, 1.0, -1)
        pool = np.asarray(cv2.GaussianBlur(pool, (0, 0), 30), np.float32)
        img += pool[..., None] * np.array([60, 62, 60], np.float32)
