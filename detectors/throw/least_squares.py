"""The small least-squares pieces the trajectory fits share: a cheap solve and a fitted value's spread."""

from __future__ import annotations

import math

import numpy as np
from numpy.typing import NDArray


def solve_least_squares(design: NDArray[np.float64], y: NDArray[np.float64]) -> NDArray[np.float64]:
    """Least squares by the normal equations (a few columns, hundreds of rows: far cheaper than an SVD)."""
    try:
        return np.asarray(np.linalg.solve(design.T @ design, design.T @ y), np.float64)
    except np.linalg.LinAlgError:
        return np.asarray(np.linalg.lstsq(design, y, rcond=None)[0], np.float64)


def predict_sigma(design: NDArray[np.float64], row: NDArray[np.float64], noise: float) -> float:
    """Standard deviation of the fitted value at `row` for i.i.d. noise `noise` on the samples."""
    try:
        cov = np.linalg.inv(design.T @ design)
    except np.linalg.LinAlgError:
        return math.inf
    return float(noise * math.sqrt(max(0.0, float(row @ cov @ row))))
