"""Pixels <-> facade metres: what the physics test needs of a calibration, and the flat stand-in without one."""

from __future__ import annotations

from typing import Protocol

import numpy as np
from numpy.typing import NDArray


class FacadeMap(Protocol):
    """What the test needs of a calibration: pixels <-> facade metres and the local vertical scale."""

    def to_facade(self, image_px: NDArray[np.floating]) -> NDArray[np.float64]: ...

    def to_image(self, facade_m: NDArray[np.floating]) -> NDArray[np.float64]: ...

    def px_per_m_vertical(self, image_px: NDArray[np.floating]) -> NDArray[np.float64]: ...


class FlatScale:
    """Stand-in for an uncalibrated camera: a uniform scale, image up = height up, image x = along."""

    def __init__(self, px_per_m: float, frame_height_px: float) -> None:
        self.px_per_m = px_per_m
        self.frame_height_px = frame_height_px

    def to_facade(self, image_px: NDArray[np.floating]) -> NDArray[np.float64]:
        p = np.asarray(image_px, np.float64).reshape(-1, 2)
        return np.stack([p[:, 0] / self.px_per_m, (self.frame_height_px - p[:, 1]) / self.px_per_m], 1)

    def to_image(self, facade_m: NDArray[np.floating]) -> NDArray[np.float64]:
        q = np.asarray(facade_m, np.float64).reshape(-1, 2)
        return np.stack([q[:, 0] * self.px_per_m, self.frame_height_px - q[:, 1] * self.px_per_m], 1)

    def px_per_m_vertical(self, image_px: NDArray[np.floating]) -> NDArray[np.float64]:
        return np.full(len(np.asarray(image_px).reshape(-1, 2)), self.px_per_m, np.float64)
