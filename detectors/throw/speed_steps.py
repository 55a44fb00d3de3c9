"""The two-steady-speeds test: a chain of steady movers mistaken for one accelerating fall."""

from __future__ import annotations

import math

import numpy as np
from numpy.typing import NDArray

_MIN_PIECE_POINTS = 5
"""Positions each piece of the two-steady-speeds model needs."""


def steps_explain_better(t: NDArray[np.float64], height_m: NDArray[np.float64], floor_m: float) -> bool:
    """True when two pieces of steady speed explain the heights better than one parabola (by BIC).

    A fall's speed grows as g·t all along. A chain of things that each move steadily (a slow snowflake,
    then a faster, nearer one it passed; a ghost, then a flake) has steady speeds with a jump between
    them, which a whole-track parabola takes for acceleration. The two-piece model has two more
    parameters (and a break), which the Bayesian information criterion charges for; `floor_m` (centroid
    noise) keeps tracks cleaner than the pixels can tell from deciding on noise alone.
    """
    n = len(t)
    if n < 2 * _MIN_PIECE_POINTS:
        return False
    design = np.stack([np.ones_like(t), t, t * t], 1)
    resid = height_m - design @ np.linalg.lstsq(design, height_m, rcond=None)[0]
    floor = n * floor_m * floor_m
    rss_parabola = float(resid @ resid) + floor
    rss_steps = _best_two_lines_rss(t, height_m, _MIN_PIECE_POINTS) + floor
    bic_parabola = n * math.log(rss_parabola / n) + 3 * math.log(n)
    bic_steps = n * math.log(rss_steps / n) + 5 * math.log(n)
    return bic_steps < bic_parabola


def _best_two_lines_rss(t: NDArray[np.float64], y: NDArray[np.float64], min_points: int) -> float:
    """Least residual sum of squares of two separate lines, over every break leaving >= min_points each.

    Prefix sums give every prefix's and suffix's line fit at once: RSS = Syy - Sty² / Stt (centred).
    """
    n = len(t)
    t = t - t[0]

    def rss(tt: NDArray[np.float64], yy: NDArray[np.float64]) -> NDArray[np.float64]:
        k = np.arange(1, len(tt) + 1, dtype=np.float64)
        st, sy = np.cumsum(tt), np.cumsum(yy)
        stt = np.cumsum(tt * tt) - st * st / k
        syy = np.cumsum(yy * yy) - sy * sy / k
        sty = np.cumsum(tt * yy) - st * sy / k
        return np.asarray(syy - np.where(stt > 0, sty * sty / np.where(stt > 0, stt, 1.0), 0.0), np.float64)

    head = rss(t, y)  # head[b-1]: first b points
    tail = rss(t[::-1], y[::-1])[::-1]  # tail[b]: points b..n-1
    breaks = np.arange(min_points, n - min_points + 1)
    return float(np.min(np.maximum(head[breaks - 1], 0.0) + np.maximum(tail[breaks], 0.0)))
