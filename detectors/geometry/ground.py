"""A fixed camera's ground calibration: image pixels -> WGS-84 on the (flat) ground around the camera.

An operator picks >= 4 image points whose ground position is known, either as WGS-84 lon/lat (read off a
map) or as local east/north metres around an origin (a tape-measured site). We fit an image->ground
homography in local metres and map a detection's ground contact point (a fire's base, a box's bottom
centre) to lon/lat. Every position carries an accuracy radius built from what we know is uncertain: the
fit residual, the survey error of the points, and how many metres one pixel spans at that spot (a pixel
near the horizon covers metres; one near the camera, centimetres).
"""

from __future__ import annotations

import math

import numpy as np
from numpy.typing import NDArray
from pydantic import BaseModel, ConfigDict, Field, model_validator

from detectors.event import GeoMethod, GeoPoint
from detectors.geometry.geodesy import enu_to_wgs84, wgs84_to_enu
from detectors.geometry.homography import Homography, apply_homography
from foundation.errors import ConfigError


class GroundPoint(BaseModel):
    """One calibration point: where it is in the image and where it is on the ground."""

    model_config = ConfigDict(extra="forbid")

    image_xy_px: tuple[float, float] = Field(
        description="Pixel (x, y) of the point in the calibration image, origin at the top-left corner."
    )
    lon_deg: float | None = Field(
        default=None,
        ge=-180.0,
        le=180.0,
        description="WGS-84 longitude of the point.",
    )
    lat_deg: float | None = Field(
        default=None,
        ge=-90.0,
        le=90.0,
        description="WGS-84 latitude of the point.",
    )
    east_m: float | None = Field(
        default=None, ge=-100_000.0, le=100_000.0, description="Metres east of `origin` (instead of lon/lat)."
    )
    north_m: float | None = Field(
        default=None,
        ge=-100_000.0,
        le=100_000.0,
        description="Metres north of `origin` (instead of lon/lat).",
    )

    @model_validator(mode="after")
    def _one_form(self) -> GroundPoint:
        geo = self.lon_deg is not None and self.lat_deg is not None
        local = self.east_m is not None and self.north_m is not None
        partial = (self.lon_deg is None) != (self.lat_deg is None) or (self.east_m is None) != (
            self.north_m is None
        )
        if partial or geo == local:
            raise ValueError("give either lon_deg + lat_deg or east_m + north_m for each point, not both")
        return self

    @property
    def is_geographic(self) -> bool:
        return self.lon_deg is not None


class GroundCalibration(BaseModel):
    """Image->ground calibration of one fixed camera (all points in one form: lon/lat or local metres)."""

    model_config = ConfigDict(extra="forbid")

    points: list[GroundPoint] = Field(
        min_length=4,
        description="At least 4 ground points, no 3 of them on one line; more points average out error.",
    )
    origin_lat_deg: float | None = Field(
        default=None,
        ge=-90.0,
        le=90.0,
        description="Latitude of the local origin; required for points in metres, else their mean is used.",
    )
    origin_lon_deg: float | None = Field(
        default=None,
        ge=-180.0,
        le=180.0,
        description="Longitude of the local origin; required when the points are in metres.",
    )
    image_size_px: tuple[int, int] | None = Field(
        default=None,
        description="(width, height) of the image the points were picked on; frames of another size (a "
        "sub-stream) are scaled to it. None: points are in the analysed frame's pixels.",
    )
    pixel_sigma_px: float = Field(
        default=2.0,
        ge=0.0,
        le=500.0,
        description="How far (pixels) a located point may be off; raising it widens every accuracy radius.",
    )
    point_sigma_m: float = Field(
        default=0.5,
        ge=0.0,
        le=1000.0,
        description="Survey error of the calibration points themselves (map reading, GNSS), metres; added to "
        "the accuracy radius. Matters most with exactly 4 points, whose fit residual is always zero.",
    )
    max_fit_error_m: float = Field(
        default=5.0,
        gt=0.0,
        le=1000.0,
        description="Reject the calibration when the RMS fit residual exceeds this (a mistyped point); "
        "raise it only for very large, coarse scenes.",
    )

    @model_validator(mode="after")
    def _consistent(self) -> GroundCalibration:
        forms = {p.is_geographic for p in self.points}
        if len(forms) > 1:
            raise ValueError("mixes lon/lat points with east/north points; use one form for all points")
        if not self.is_geographic and (self.origin_lat_deg is None or self.origin_lon_deg is None):
            raise ValueError("points in east_m/north_m need origin_lat_deg and origin_lon_deg")
        if (self.origin_lat_deg is None) != (self.origin_lon_deg is None):
            raise ValueError("give both origin_lat_deg and origin_lon_deg, or neither")
        if self.image_size_px is not None and min(self.image_size_px) <= 0:
            raise ValueError(f"image_size_px must be positive, got {self.image_size_px}")
        try:
            fitted = _fit(self, "ground calibration")
        except ConfigError as exc:
            raise ValueError(str(exc)) from exc
        if fitted[0].rms_error_m > self.max_fit_error_m:
            raise ValueError(
                f"ground calibration fits badly: RMS residual {fitted[0].rms_error_m:.2f} m exceeds "
                f"max_fit_error_m {self.max_fit_error_m} m; check each point's pixel and position"
            )
        return self

    @property
    def is_geographic(self) -> bool:
        return self.points[0].is_geographic

    def origin(self) -> tuple[float, float]:
        """(lat, lon) of the local metric frame: the configured origin, else the points' mean."""
        if self.origin_lat_deg is not None and self.origin_lon_deg is not None:
            return self.origin_lat_deg, self.origin_lon_deg
        lats = [p.lat_deg for p in self.points if p.lat_deg is not None]
        lons = [p.lon_deg for p in self.points if p.lon_deg is not None]
        return float(np.mean(lats)), float(np.mean(lons))


def _fit(cal: GroundCalibration, where: str) -> tuple[Homography, tuple[float, float]]:
    origin = cal.origin()
    image = np.array([p.image_xy_px for p in cal.points], np.float64)
    if cal.is_geographic:
        lat = np.array([p.lat_deg for p in cal.points], np.float64)
        lon = np.array([p.lon_deg for p in cal.points], np.float64)
        east, north = wgs84_to_enu(origin[0], origin[1], lat, lon)
        plane = np.column_stack([east, north])
    else:
        plane = np.array([(p.east_m, p.north_m) for p in cal.points], np.float64)
    return Homography.fit(image, plane, where=where), origin


class GroundMapper:
    """Maps pixels of one camera to WGS-84 ground points (`GeoMethod.GROUND_HOMOGRAPHY`) with accuracy."""

    def __init__(self, calibration: GroundCalibration, where: str = "ground calibration") -> None:
        self.calibration = calibration
        self.homography, (self.origin_lat_deg, self.origin_lon_deg) = _fit(calibration, where)
        image = np.array([p.image_xy_px for p in calibration.points], np.float64)
        w = np.hstack([image, np.ones((len(image), 1))]) @ self.homography.matrix[2]
        # A pixel whose projective scale has the other sign than the calibration points' is past the horizon.
        self._ground_sign = float(np.sign(np.median(w)))

    def _scale_to_calibration(
        self, xy_px: NDArray[np.float64], frame_size_px: tuple[int, int] | None
    ) -> NDArray[np.float64]:
        size = self.calibration.image_size_px
        if size is None or frame_size_px is None or tuple(frame_size_px) == tuple(size):
            return xy_px
        sx = size[0] / frame_size_px[0]
        sy = size[1] / frame_size_px[1]
        return xy_px * np.array([sx, sy], np.float64)

    def to_enu(
        self, xy_px: NDArray[np.float64], frame_size_px: tuple[int, int] | None = None
    ) -> tuple[NDArray[np.float64], NDArray[np.bool_]]:
        """(N,2) frame pixels -> ((N,2) east/north metres from the origin, (N,) on-ground flags).

        A pixel at or above the horizon has no ground point; its flag is False and its metres are NaN.
        """
        pts = self._scale_to_calibration(np.asarray(xy_px, np.float64).reshape(-1, 2), frame_size_px)
        w = np.hstack([pts, np.ones((len(pts), 1))]) @ self.homography.matrix[2]
        ok = (np.sign(w) == self._ground_sign) & (np.abs(w) > 1e-12)
        enu = np.full((len(pts), 2), np.nan)
        if ok.any():
            enu[ok] = apply_homography(self.homography.matrix, pts[ok])
        return enu, ok

    def metres_per_px(self, x_px: float, y_px: float, frame_size_px: tuple[int, int] | None = None) -> float:
        """Ground metres spanned by one frame pixel at (x, y); inf at or beyond the horizon."""
        pts = np.array([[x_px, y_px], [x_px + 1, y_px], [x_px, y_px + 1]], np.float64)
        enu, ok = self.to_enu(pts, frame_size_px)
        if not ok.all():
            return math.inf
        return float((np.linalg.norm(enu[1] - enu[0]) + np.linalg.norm(enu[2] - enu[0])) / 2)

    def locate(
        self,
        x_px: float,
        y_px: float,
        frame_size_px: tuple[int, int] | None = None,
        pixel_sigma_px: float | None = None,
    ) -> GeoPoint | None:
        """The ground point under frame pixel (x, y), or None at/above the horizon.

        `pixel_sigma_px` overrides the calibration's pixel uncertainty (a detector knows its box jitter).
        accuracy_m = sqrt(fit_rms² + point_sigma² + (metres_per_px · pixel_sigma)²).
        """
        enu, ok = self.to_enu(np.array([[x_px, y_px]], np.float64), frame_size_px)
        if not ok[0]:
            return None
        mpp = self.metres_per_px(x_px, y_px, frame_size_px)
        if not math.isfinite(mpp):
            return None
        sigma_px = self.calibration.pixel_sigma_px if pixel_sigma_px is None else pixel_sigma_px
        accuracy = math.sqrt(
            self.homography.rms_error_m**2 + self.calibration.point_sigma_m**2 + (mpp * sigma_px) ** 2
        )
        lat, lon = enu_to_wgs84(self.origin_lat_deg, self.origin_lon_deg, enu[0, 0], enu[0, 1])
        return GeoPoint(
            lat_deg=float(lat), lon_deg=float(lon), accuracy_m=accuracy, method=GeoMethod.GROUND_HOMOGRAPHY
        )
