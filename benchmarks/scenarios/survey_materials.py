"""The survey generator's materials: its palette and the procedural textures painted from it.

The palette is this generator's own (sampled by eye from aerial photographs of Zhengzhou); it is not, and
must not become, a copy of any colour rule in `detectors/`.
"""

from __future__ import annotations

import math

import cv2
import numpy as np
from numpy.typing import NDArray

# BGR base colours of the materials (this generator's palette).
PALETTE: dict[str, tuple[int, int, int]] = {
    "asphalt": (92, 90, 86),
    "concrete": (158, 163, 166),
    "sidewalk": (150, 158, 170),
    "grass": (52, 112, 78),
    "dirt": (104, 128, 150),
    "tree": (40, 78, 48),
    "roof_concrete": (140, 146, 150),
    "roof_tile": (58, 72, 150),
    "roof_steel_blue": (170, 110, 52),
    "roof_steel_grey": (186, 186, 180),
    "wall": (150, 160, 172),
    "new_roof_blue": (185, 98, 30),
    "new_roof_red": (45, 70, 185),
    "new_roof_white": (228, 230, 228),
    "new_roof_teal": (130, 140, 40),
    "new_roof_grey": (120, 118, 112),
    "excavated_soil": (72, 100, 128),
    "dust_net": (70, 125, 45),
    "scaffold_pipe": (175, 185, 190),
    "scaffold_plank": (80, 120, 160),
    "safety_net": (80, 140, 40),
}

# -- materials -------------------------------------------------------------------------------------------


def noise(rng: np.random.Generator, h: int, w: int, scale_px: float, octaves: int = 3) -> NDArray[np.float32]:
    """Smooth value noise in about [-1, 1], features of about `scale_px` pixels and finer octaves."""
    out = np.zeros((h, w), np.float32)
    amp, total = 1.0, 0.0
    s = max(scale_px, 1.0)
    for _ in range(octaves):
        gh, gw = max(2, int(h / s) + 2), max(2, int(w / s) + 2)
        grid = rng.uniform(-1, 1, (gh, gw)).astype(np.float32)
        out += amp * cv2.resize(grid, (w, h), interpolation=cv2.INTER_CUBIC)
        total += amp
        amp *= 0.5
        s /= 2.5
    return out / total


def material(name: str, h: int, w: int, rng: np.random.Generator, cell_m: float) -> NDArray[np.float32]:
    """A BGR float texture (0-255) of one material, `h` x `w` pixels at `cell_m` metres per pixel."""
    base = np.array(PALETTE[name], np.float32)
    px_per_m = 1.0 / cell_m
    grain = rng.normal(0, 1, (h, w)).astype(np.float32)
    if name in ("grass", "tree"):
        shade = 1.0 + 0.18 * noise(rng, h, w, 3 * px_per_m) + 0.06 * grain
    elif name in ("dirt", "excavated_soil"):
        shade = 1.0 + 0.14 * noise(rng, h, w, 2 * px_per_m) + 0.08 * grain
    elif name == "asphalt":
        shade = 1.0 + 0.05 * noise(rng, h, w, 4 * px_per_m) + 0.05 * grain
    else:
        shade = 1.0 + 0.06 * noise(rng, h, w, 5 * px_per_m) + 0.03 * grain
    tex = base[None, None, :] * shade[..., None]
    if name.startswith(("roof_steel", "new_roof")) and name != "new_roof_grey":
        ribs = 0.85 + 0.15 * np.cos(2 * math.pi * np.arange(w) * cell_m / 0.6).astype(np.float32)
        tex *= ribs[None, :, None]
    elif name == "excavated_soil":
        tracks = (np.sin(2 * math.pi * np.arange(h) * cell_m / 1.7)[:, None] > 0.8) * (
            noise(rng, h, w, 6 * px_per_m) > 0
        )
        tex *= 1.0 - 0.25 * tracks[..., None].astype(np.float32)
    elif name == "safety_net":
        # A scaffold seen from above: a slab with a grid of steel pipes and rows of planks.
        slab = np.array(PALETTE["excavated_soil"], np.float32) * 0.5 + np.array(PALETTE["concrete"], np.float32) * 0.5
        tex = slab[None, None, :] * shade[..., None]
        yy, xx = np.mgrid[0:h, 0:w]
        step = max(3, round(1.5 * px_per_m))
        pipes = (xx % step < max(1, round(0.12 * px_per_m))) | (yy % step < max(1, round(0.12 * px_per_m)))
        planks = (yy % (2 * step)) < round(0.6 * px_per_m)
        tex[planks] = np.array(PALETTE["scaffold_plank"], np.float32) * shade[planks][:, None]
        tex[pipes] = np.array(PALETTE["scaffold_pipe"], np.float32)
    elif name == "dust_net":
        yy, xx = np.mgrid[0:h, 0:w]
        mesh = ((xx % max(2, round(0.5 * px_per_m)) == 0) | (yy % max(2, round(0.5 * px_per_m)) == 0)).astype(
            np.float32
        )
        folds = noise(rng, h, w, 2.5 * px_per_m, octaves=1)
        tex *= (1.0 + 0.12 * mesh + 0.2 * folds)[..., None]
    return np.clip(tex, 0, 255)
