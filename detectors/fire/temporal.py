"""Time-series measures over a track's recent frames: growth, drift, on/off share and periodicity.

These tell a fire from what merely looks like one: a fire stays where it started and grows; a red car or
a person walks away (drift); a blinking amber light is off much of the time and repeats with a period,
while flames flicker without one.
"""

from __future__ import annotations

import math

import numpy as np
from numpy.typing import NDArray


def growth_rate_per_s(times_s: NDArray[np.float64], areas: NDArray[np.float64]) -> float:
    """Relative area growth per second: slope of log(area) over time (0 with < 3 points or no time span)."""
    ok = areas > 0
    if ok.sum() < 3:
        return 0.0
    t = times_s[ok] - times_s[ok].mean()
    if float(np.abs(t).max()) <= 0:
        return 0.0
    la = np.log(areas[ok])
    slope = float((t * (la - la.mean())).sum() / (t * t).sum())
    return math.expm1(slope)


def drift(times_s: NDArray[np.float64], base_xy: NDArray[np.float64], sizes: NDArray[np.float64]) -> float:
    """Steady movement of the base point over the history, in box sizes (robust trend x time span).

    The trend is the median of all pairwise slopes (Theil-Sen), per axis: a car or a walker moves one
    way and scores its path length, while a fire's base only jitters or jumps between burning windows
    as tongues merge and split, which has no trend however large the jumps.
    """
    n = len(base_xy)
    if n < 2:
        return 0.0
    i, j = np.triu_indices(n, k=1)
    dt = times_s[j] - times_s[i]
    ok = dt > 0
    if not ok.any():
        return 0.0
    slopes = (base_xy[j[ok]] - base_xy[i[ok]]) / dt[ok, None]
    speed = float(np.hypot(*np.median(slopes, axis=0)))
    span = float(times_s.max() - times_s.min())
    return speed * span / max(float(np.median(sizes)), 1.0)


def off_share(series: NDArray[np.float64], off_fraction: float = 0.2) -> float:
    """Share of frames whose value is below `off_fraction` of the series' upper quartile (0 if all zero)."""
    if len(series) == 0:
        return 0.0
    top = float(np.percentile(series, 75))
    if top <= 0:
        return 1.0
    return float((series < off_fraction * top).mean())


def periodicity(series: NDArray[np.float64], min_lag: int = 2) -> float:
    """Largest normalised autocorrelation at lags >= min_lag of the detrended series (0 if too short/flat).

    A lamp blinking with a fixed period scores near 1 at its period; flame flicker has no such peak.
    """
    n = len(series)
    if n < 2 * min_lag + 4:
        return 0.0
    x = np.asarray(series, np.float64)
    t = np.arange(n, dtype=np.float64)
    x = x - np.polyval(np.polyfit(t, x, 1), t)
    var = float((x * x).sum())
    if var <= 1e-9 * max(1.0, float(np.abs(series).max()) ** 2 * n):
        return 0.0
    best = 0.0
    for lag in range(min_lag, n // 2 + 1):
        best = max(best, float((x[:-lag] * x[lag:]).sum()) / var * n / (n - lag))
    return min(1.0, best)
