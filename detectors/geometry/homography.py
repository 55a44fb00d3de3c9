"""Plane homographies calibrated from >= 4 point pairs: image pixels <-> a plane in metres.

Fixed cameras map pixels to the ground (east/north metres around a reference point) or to a facade
(metres along it, metres up). The fit is a least-squares DLT; the reprojection error is kept so a bad
calibration is visible in `config check` and in alert accuracy.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np
from numpy.typing import NDArray

from foundation.errors import ConfigError


@dataclass(frozen=True)
class Homography:
    """A 3x3 image->plane homography, its inverse, and the RMS fit error in plane metres."""

    matrix: NDArray[np.float64]
    inverse: NDArray[np.float64]
    rms_error_m: float

    @classmethod
    def fit(
        cls, image_px: NDArray[np.float64] | list[tuple[float, float]],
        plane_m: NDArray[np.float64] | list[tuple[float, float]], where: str = "calibration",
    ) -> Homography:
        """Fit from matching point lists (N >= 4, not 3 on a line). ConfigError names `where` on failure."""
        src = np.asarray(image_px, np.float64).reshape(-1, 2)
        dst = np.asarray(plane_m, np.float64).reshape(-1, 2)
        if len(src) < 4 or len(src) != len(dst):
            raise ConfigError(
                f"{where}: need at least 4 matching point pairs, got {len(src)} image and {len(dst)} plane points"
            )
        found, _ = cv2.findHomography(src, dst, 0)
        if found is None or not np.isfinite(found).all() or abs(np.linalg.det(found)) < 1e-12:
            raise ConfigError(f"{where}: points are degenerate (collinear or repeated); cannot fit a homography")
        matrix: NDArray[np.float64] = np.asarray(found, np.float64)
        inverse: NDArray[np.float64] = np.asarray(np.linalg.inv(matrix), np.float64)
        fitted = apply_homography(matrix, src)
        rms = float(np.sqrt(np.mean(np.sum((fitted - dst) ** 2, axis=1))))
        return cls(matrix=matrix, inverse=inverse, rms_error_m=rms)

    def to_plane(self, image_px: NDArray[np.float64]) -> NDArray[np.float64]:
        """(N,2) pixels -> (N,2) plane metres."""
        return apply_homography(self.matrix, image_px)

    def to_image(self, plane_m: NDArray[np.float64]) -> NDArray[np.float64]:
        """(N,2) plane metres -> (N,2) pixels."""
        return apply_homography(self.inverse, plane_m)

    def metres_per_px(self, image_px: tuple[float, float]) -> float:
        """Local scale at a pixel: mean plane distance of a one-pixel step in x and y."""
        x, y = image_px
        pts = self.to_plane(np.array([[x, y], [x + 1, y], [x, y + 1]], np.float64))
        return float((np.linalg.norm(pts[1] - pts[0]) + np.linalg.norm(pts[2] - pts[0])) / 2)


def apply_homography(matrix: NDArray[np.float64], pts: NDArray[np.float64]) -> NDArray[np.float64]:
    """Apply a 3x3 homography to (N,2) points."""
    p = np.asarray(pts, np.float64).reshape(-1, 2)
    h = np.hstack([p, np.ones((len(p), 1))]) @ matrix.T
    return h[:, :2] / h[:, 2:3]
