"""Compositing helpers for the street scenes: paste a patch with an alpha, add a soft glow; all clipped to
the frame, all in float32 BGR (0-255). Part of the independent street-scene generator."""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

Float = NDArray[np.float32]


def paste(frame: Float, x0: int, y0: int, colour: Float, alpha: Float) -> None:
    """Blend an (h, w, 3) `colour` patch with an (h, w) `alpha` at top-left (x0, y0), clipped to the frame."""
    h, w = alpha.shape
    fh, fw = frame.shape[:2]
    ax1, ay1 = max(0, -x0), max(0, -y0)
    ax2, ay2 = min(w, fw - x0), min(h, fh - y0)
    if ax2 <= ax1 or ay2 <= ay1:
        return
    region = frame[y0 + ay1 : y0 + ay2, x0 + ax1 : x0 + ax2]
    a = alpha[ay1:ay2, ax1:ax2, None]
    region *= 1.0 - a
    region += colour[ay1:ay2, ax1:ax2] * a


def add_light(frame: Float, x0: int, y0: int, light: Float) -> None:
    """Add an (h, w, 3) patch of emitted light (glow, beams) at (x0, y0), clipped to the frame."""
    h, w = light.shape[:2]
    fh, fw = frame.shape[:2]
    ax1, ay1 = max(0, -x0), max(0, -y0)
    ax2, ay2 = min(w, fw - x0), min(h, fh - y0)
    if ax2 <= ax1 or ay2 <= ay1:
        return
    frame[y0 + ay1 : y0 + ay2, x0 + ax1 : x0 + ax2] += light[ay1:ay2, ax1:ax2]


def glow(frame: Float, cx: float, cy: float, sigma_px: float, colour: tuple[float, float, float], gain: float) -> None:
    """A round Gaussian halo of light (`gain` times `colour` at the centre) around (cx, cy)."""
    r = max(2, int(3 * sigma_px))
    yy, xx = np.mgrid[-r : r + 1, -r : r + 1].astype(np.float32)
    fx, fy = cx - round(cx), cy - round(cy)
    g = np.exp(-((xx - fx) ** 2 + (yy - fy) ** 2) / (2.0 * sigma_px * sigma_px)).astype(np.float32) * np.float32(gain)
    add_light(frame, round(cx) - r, round(cy) - r, g[..., None] * np.array(colour, np.float32))


def disc(radius_px: float, soft_px: float = 1.0) -> tuple[Float, int]:
    """An antialiased disc alpha of `radius_px` and the half-size of its patch."""
    r = int(np.ceil(radius_px + soft_px)) + 1
    yy, xx = np.mgrid[-r : r + 1, -r : r + 1].astype(np.float32)
    d = np.sqrt(xx * xx + yy * yy)
    a: Float = np.clip((radius_px - d) / max(soft_px, 1e-3) + 0.5, 0.0, 1.0).astype(np.float32)
    return a, r
