"""Textures of the drone district, drawn from above at `TEXEL_M` per texel: corrugated sheet, roofs, panels,
scaffold net, tarps, and the noise they are made of.

Colours and patterns are this package's own, chosen from photos of such surfaces, not from any detector.
"""

from __future__ import annotations

import cv2
import numpy as np
from numpy.typing import NDArray

BGR = tuple[int, int, int]

TEXEL_M = 0.025
"""Texture resolution of raised planes (roofs, panels): fine enough for 0.2 m ribs."""


def smooth_noise(rng: np.random.Generator, h: int, w: int, scale_px: float) -> NDArray[np.float32]:
    """Smooth random field of about unit spread with features about `scale_px` wide."""
    sh, sw = max(2, int(h / scale_px) + 2), max(2, int(w / scale_px) + 2)
    small = rng.standard_normal((sh, sw)).astype(np.float32)
    out = np.asarray(cv2.resize(small, (w, h), interpolation=cv2.INTER_CUBIC), np.float32)
    return out


def tint(base: BGR, h: int, w: int, rng: np.random.Generator, *, vary: float, grain: float) -> NDArray[np.uint8]:
    """A colour with slow brightness variation (`vary`, relative) and grain (grey levels)."""
    img = np.empty((h, w, 3), np.float32)
    img[:] = base
    img *= (1 + vary * np.clip(smooth_noise(rng, h, w, max(8.0, min(h, w) / 3)) / 2, -1, 1))[..., None]
    img += rng.standard_normal((h, w, 1), dtype=np.float32) * np.float32(grain)
    return np.clip(img, 0, 255).astype(np.uint8)


def corrugated_texture(
    rng: np.random.Generator, length_m: float, width_m: float, colour: BGR, *, sun_side: float = 1.0
) -> NDArray[np.uint8]:
    """Trapezoidal corrugated sheet, ribs across the length every 0.2-0.3 m, lit from one side.

    Crest ~25 %, webs ~15 % each, valley ~45 % of the pitch; the web facing the sun is brighter, the
    other darker. A gable ridge, sheet laps and weathering streaks as on real roofs.
    """
    w, h = max(8, round(length_m / TEXEL_M)), max(8, round(width_m / TEXEL_M))
    img = tint(colour, h, w, rng, vary=0.05, grain=2.0).astype(np.float32)
    pitch_m = float(rng.uniform(0.2, 0.3))
    phase = ((np.arange(w) + 0.5) * TEXEL_M / pitch_m) % 1.0
    shade = np.ones(w, np.float32)
    lit = float(rng.uniform(0.16, 0.26)) * sun_side
    shade[(phase >= 0.25) & (phase < 0.40)] = 1 + lit  # web rising to the crest
    shade[(phase >= 0.85)] = 1 - lit  # web falling to the valley
    shade[(phase < 0.25)] = 1.04  # crest
    img *= shade[None, :, None]
    if rng.random() < 0.8:  # ridge along the length: the halves catch the sun differently
        img[: h // 2] *= 1.06
        img[h // 2 - 2 : h // 2 + 2] *= 0.8
    sheet = max(4, round(0.9 / TEXEL_M))  # sheet laps every ~0.9 m: a slightly darker line
    img[:, ::sheet] *= 0.93
    streaks = 1 + 0.05 * np.clip(smooth_noise(rng, 4, w, 6.0)[0], -2, 2)
    img *= streaks[None, :, None]
    return np.clip(img, 0, 255).astype(np.uint8)


def building_roof_texture(rng: np.random.Generator, length_m: float, width_m: float) -> NDArray[np.uint8]:
    w, h = max(8, round(length_m / TEXEL_M)), max(8, round(width_m / TEXEL_M))
    style = int(rng.integers(3))
    if style == 0:  # concrete flat roof with parapet and rooftop units
        img = tint((150, 152, 155), h, w, rng, vary=0.12, grain=5.0)
        p = max(1, round(0.4 / TEXEL_M))
        cv2.rectangle(img, (0, 0), (w - 1, h - 1), (112, 116, 118), p)
        for _ in range(int(rng.integers(2, 6))):
            uw, uh = round(rng.uniform(1.0, 2.5) / TEXEL_M), round(rng.uniform(1.0, 2.0) / TEXEL_M)
            x0 = int(rng.integers(p, max(p + 1, w - uw - p)))
            y0 = int(rng.integers(p, max(p + 1, h - uh - p)))
            cv2.rectangle(img, (x0, y0), (x0 + uw, y0 + uh), (200, 200, 198), -1)
            cv2.rectangle(img, (x0, y0), (x0 + uw, y0 + uh), (90, 90, 92), 3)
    elif style == 1:  # terracotta tiles, gable, tile rows
        img = tint((62, 86, 160), h, w, rng, vary=0.08, grain=6.0)
        img[: h // 2] = np.clip(img[: h // 2].astype(np.int16) + 18, 0, 255).astype(np.uint8)
        rows = max(2, round(0.35 / TEXEL_M))
        img[::rows] = (img[::rows] * 0.8).astype(np.uint8)
    else:  # dark bitumen with patches
        img = tint((78, 80, 84), h, w, rng, vary=0.15, grain=6.0)
        for _ in range(4):
            c = (int(rng.integers(0, w)), int(rng.integers(0, h)))
            cv2.circle(img, c, int(rng.integers(10, 60)), (95, 97, 100), -1)
    return img


def solar_texture(rng: np.random.Generator, length_m: float, width_m: float) -> NDArray[np.uint8]:
    """Rows of dark blue panels (1.0 x 1.7 m, silver frames) with gaps between rows."""
    w, h = max(8, round(length_m / TEXEL_M)), max(8, round(width_m / TEXEL_M))
    img = tint((118, 62, 38), h, w, rng, vary=0.06, grain=4.0)
    cell = max(2, round(0.16 / TEXEL_M))
    img[:, ::cell] = (img[:, ::cell] * 0.85).astype(np.uint8)  # cell lines
    pw, ph = round(1.0 / TEXEL_M), round(1.7 / TEXEL_M)
    for x in range(0, w, pw):
        cv2.line(img, (x, 0), (x, h - 1), (170, 170, 168), 1)
    gap = round(0.6 / TEXEL_M)
    for y in range(0, h, ph + gap):
        cv2.line(img, (0, y), (w - 1, y), (170, 170, 168), 1)
        img[y + ph : y + ph + gap] = (70, 76, 80)  # the roof or ground seen between rows
    return img


def scaffold_texture(rng: np.random.Generator, length_m: float, width_m: float) -> NDArray[np.uint8]:
    """A scaffold from above under green dust netting: planks and tubes, net folds."""
    w, h = max(8, round(length_m / TEXEL_M)), max(8, round(width_m / TEXEL_M))
    img = tint((72, 132, 58), h, w, rng, vary=0.15, grain=8.0)
    step = max(2, round(1.8 / TEXEL_M))
    for x in range(0, w, step):
        cv2.line(img, (x, 0), (x, h - 1), (60, 70, 75), max(1, round(0.08 / TEXEL_M)))
    return img


def tarp_texture(rng: np.random.Generator, size_m: float) -> NDArray[np.uint8]:
    """A blue plastic tarp: wrinkles and folds in every direction, glossy highlights."""
    n = max(8, round(size_m / TEXEL_M))
    img = tint((190, 112, 30), n, n, rng, vary=0.04, grain=3.0).astype(np.float32)
    folds = smooth_noise(rng, n, n, n / 6) + 0.5 * smooth_noise(rng, n, n, n / 20)
    img *= (1 + 0.18 * np.clip(folds / 2, -1.5, 1.5))[..., None]
    return np.clip(img, 0, 255).astype(np.uint8)
