"""Smooth procedural noise for the street scenes: hashed value noise on an (x, y, t) lattice, summed in octaves.

The street-scene generator draws flame heat, smoke density and wall texture from this noise. It is our
own small implementation (a lattice of hashed random values, smoothstep-interpolated), because the scenes
must be reproducible from a seed alone and need no extra package; it is not tied to any detector.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

Float = NDArray[np.float32]

_TABLE_BITS = 16


class ValueNoise:
    """Hashed value noise in three dimensions (x, y, time), values in [0, 1], seeded."""

    def __init__(self, seed: int) -> None:
        rng = np.random.default_rng([seed, 7321])
        self._table = rng.random(1 << _TABLE_BITS).astype(np.float32)
        self._mask = (1 << _TABLE_BITS) - 1

    def _at(self, ix: NDArray[np.int64], iy: NDArray[np.int64], it: NDArray[np.int64]) -> Float:
        h = (ix * 73856093) ^ (iy * 19349663) ^ (it * 83492791)
        h ^= h >> 13
        out: Float = self._table[h & self._mask]
        return out

    def sample(self, x: Float, y: Float, t: float) -> Float:
        """Noise at lattice coordinates (x, y) (arrays of one shape) and time t (lattice units)."""
        x0 = np.floor(x)
        y0 = np.floor(y)
        t0 = float(np.floor(t))
        fx = _smooth(x - x0)
        fy = _smooth(y - y0)
        f = t - t0
        ft = f * f * (3.0 - 2.0 * f)
        ix = x0.astype(np.int64)
        iy = y0.astype(np.int64)
        out = np.zeros(x.shape, np.float32)
        for dt, wt in ((0, 1.0 - ft), (1, ft)):
            it = np.full(x.shape, int(t0) + dt, np.int64)
            a = self._at(ix, iy, it)
            b = self._at(ix + 1, iy, it)
            c = self._at(ix, iy + 1, it)
            d = self._at(ix + 1, iy + 1, it)
            top = a + (b - a) * fx
            bottom = c + (d - c) * fx
            out += np.float32(wt) * (top + (bottom - top) * fy)
        return out

    def fractal(self, x: Float, y: Float, t: float, octaves: int = 3, gain: float = 0.5) -> Float:
        """Octaves of noise (each twice the frequency, `gain` times the weight), rescaled to [0, 1]."""
        total = np.zeros(x.shape, np.float32)
        weight = 1.0
        norm = 0.0
        freq = 1.0
        for k in range(octaves):
            total += np.float32(weight) * self.sample(x * freq + 17.3 * k, y * freq - 9.1 * k, t * freq + 3.7 * k)
            norm += weight
            weight *= gain
            freq *= 2.0
        out: Float = total / np.float32(norm)
        return out


def _smooth(f: Float) -> Float:
    out: Float = (f * f * (3.0 - 2.0 * f)).astype(np.float32)
    return out
