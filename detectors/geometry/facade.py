"""Facade calibration: image pixels <-> (metres along the facade, metres up), floors, columns, WGS-84.

A throw camera looks at a building face. An operator clicks >= 4 image points whose facade positions
are known (window corners, floor slabs, the base line) and gives the storey height; from that we read
any pixel as a point on the facade, the floor it belongs to (with an uncertainty that follows the
height's error), the unit/column, and, when the facade's base line is geolocated, a WGS-84 point
(`GeoMethod.FACADE_HOMOGRAPHY`). The local scale (pixels per metre of height) lets physics tests
compare image motion with gravity wherever the object is.
"""

from __future__ import annotations

import math
from functools import cached_property

import numpy as np
from numpy.typing import NDArray
from pydantic import BaseModel, ConfigDict, Field, model_validator

from detectors.event import FacadeHit, GeoMethod, GeoPoint
from detectors.geometry.geodesy import enu_to_wgs84
from detectors.geometry.homography import Homography
from foundation.errors import ConfigError

Point2 = tuple[float, float]


class FacadeColumn(BaseModel):
    """One vertical strip of the facade (a unit, a riser of windows) between two along-facade positions."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=64, description="Label given in alerts, e.g. 'unit 2' or 'B'.")
    from_m: float = Field(ge=-1000.0, le=1000.0, description="Start of the strip, metres along the facade.")
    to_m: float = Field(ge=-1000.0, le=1000.0, description="End of the strip, metres along the facade.")

    @model_validator(mode="after")
    def _ordered(self) -> FacadeColumn:
        if self.to_m <= self.from_m:
            raise ValueError(
                f"column {self.name!r}: to_m ({self.to_m}) must be greater than from_m ({self.from_m})"
            )
        return self


class FacadeGeo(BaseModel):
    """Where the facade's base line is on Earth: the WGS-84 point at along 0 m, ground, and its bearing."""

    model_config = ConfigDict(extra="forbid")

    origin_lat_deg: float = Field(
        ge=-90.0, le=90.0, description="Latitude of the facade point at along 0 m, ground."
    )
    origin_lon_deg: float = Field(ge=-180.0, le=180.0, description="Longitude of that point.")
    azimuth_deg: float = Field(
        ge=0.0,
        lt=360.0,
        description="Bearing of increasing along-facade metres, degrees clockwise from true north.",
    )
    accuracy_m: float = Field(
        default=3.0,
        ge=0.0,
        le=100.0,
        description="Accuracy of the origin and bearing survey in metres; added to every geotag's accuracy.",
    )


class FacadeCalibration(BaseModel):
    """A camera's view of one facade: >= 4 image points and their (along, height) metres, storeys, columns."""

    model_config = ConfigDict(extra="forbid")

    image_points_px: list[Point2] = Field(
        min_length=4,
        max_length=64,
        description="Image points (x, y pixels) of known facade positions; at least 4, not 3 on one line.",
    )
    facade_points_m: list[Point2] = Field(
        min_length=4,
        max_length=64,
        description="The same points on the facade as (metres along the base line, metres above ground).",
    )
    image_size_px: tuple[int, int] | None = Field(
        default=None,
        description="(width, height) of the image the points were clicked on; frames of another size are "
        "scaled to it. Leave empty when the points are in the stream's own pixels.",
    )
    floor_height_m: float = Field(
        default=3.0,
        gt=1.5,
        le=10.0,
        description="Storey height in metres; a wrong value shifts every floor estimate above the ground.",
    )
    ground_floor_height_m: float | None = Field(
        default=None,
        gt=1.5,
        le=15.0,
        description="Height of the ground storey when it differs (lobbies, shops); empty: floor_height_m.",
    )
    ground_floor_level: int = Field(
        default=1,
        ge=-5,
        le=5,
        description="Number the building gives its ground floor (1 in China, 0 in much of Europe).",
    )
    top_floor: int | None = Field(
        default=None,
        ge=-5,
        le=300,
        description="Highest floor number; estimates above it are reported as this floor (roof throws).",
    )
    columns: list[FacadeColumn] = Field(
        default_factory=list,
        max_length=256,
        description="Optional units/columns along the facade, reported with the floor.",
    )
    geo: FacadeGeo | None = Field(
        default=None, description="Optional WGS-84 placement of the facade, so events carry a GeoPoint."
    )
    max_rms_error_m: float = Field(
        default=0.5,
        gt=0.0,
        le=10.0,
        description="Largest accepted RMS fit error of the calibration points in metres; raise it only for "
        "rough calibrations, since the error widens every floor estimate.",
    )

    @model_validator(mode="after")
    def _fits(self) -> FacadeCalibration:
        if len(self.image_points_px) != len(self.facade_points_m):
            raise ValueError(
                f"image_points_px has {len(self.image_points_px)} points but facade_points_m has "
                f"{len(self.facade_points_m)}; they must pair up"
            )
        if self.image_size_px is not None and min(self.image_size_px) <= 0:
            raise ValueError(f"image_size_px must be positive (width, height), got {self.image_size_px}")
        try:
            fit = Homography.fit(self.image_points_px, self.facade_points_m, where="facade calibration")
        except ConfigError as exc:
            raise ValueError(str(exc)) from exc
        if fit.rms_error_m > self.max_rms_error_m:
            raise ValueError(
                f"facade calibration points disagree: RMS fit error {fit.rms_error_m:.2f} m exceeds "
                f"max_rms_error_m {self.max_rms_error_m} m (a mistyped point?)"
            )
        if self.top_floor is not None and self.top_floor < self.ground_floor_level:
            raise ValueError(
                f"top_floor {self.top_floor} is below ground_floor_level {self.ground_floor_level}"
            )
        return self

    @cached_property
    def homography(self) -> Homography:
        """Image (calibration pixels) -> facade metres."""
        return Homography.fit(self.image_points_px, self.facade_points_m, where="facade calibration")


class FacadeMapper:
    """Reads frame pixels as facade positions for one frame size (the calibration scaled to it)."""

    def __init__(self, calibration: FacadeCalibration, frame_size_px: tuple[int, int] | None = None) -> None:
        self.calibration = calibration
        h = calibration.homography
        matrix = h.matrix
        if calibration.image_size_px is not None and frame_size_px is not None:
            sx = calibration.image_size_px[0] / frame_size_px[0]
            sy = calibration.image_size_px[1] / frame_size_px[1]
            # frame px -> calibration px is diag(sx, sy); compose so callers always pass frame pixels
            matrix = matrix @ np.diag([sx, sy, 1.0])
        self._to_facade: NDArray[np.float64] = np.asarray(matrix, np.float64)
        self._to_image: NDArray[np.float64] = np.asarray(np.linalg.inv(matrix), np.float64)
        self.rms_error_m = h.rms_error_m

    def to_facade(self, image_px: NDArray[np.floating]) -> NDArray[np.float64]:
        """(N,2) frame pixels -> (N,2) facade (along_m, height_m)."""
        return _apply(self._to_facade, image_px)

    def to_image(self, facade_m: NDArray[np.floating]) -> NDArray[np.float64]:
        """(N,2) facade (along_m, height_m) -> (N,2) frame pixels."""
        return _apply(self._to_image, facade_m)

    def px_per_m_vertical(self, image_px: NDArray[np.floating]) -> NDArray[np.float64]:
        """(N,) pixels of image motion per metre of fall at each (N,2) pixel: g's local scale."""
        facade = self.to_facade(image_px)
        up = facade + np.array([0.0, 0.5])
        down = facade - np.array([0.0, 0.5])
        return np.asarray(np.linalg.norm(self.to_image(up) - self.to_image(down), axis=1), np.float64)

    def floor_of(self, height_m: float) -> int:
        """Floor number containing a height above ground (ground storey may be taller), clamped to the top."""
        cal = self.calibration
        ground = cal.ground_floor_height_m or cal.floor_height_m
        index = 0 if height_m < ground else 1 + math.floor((height_m - ground) / cal.floor_height_m)
        floor = cal.ground_floor_level + index
        if cal.top_floor is not None:
            floor = min(floor, cal.top_floor)
        return floor

    def floor_bottom_m(self, floor: int) -> float:
        """Height of a floor's slab above ground, metres (for drawing floor lines)."""
        cal = self.calibration
        index = floor - cal.ground_floor_level
        if index <= 0:
            return cal.floor_height_m * index
        ground = cal.ground_floor_height_m or cal.floor_height_m
        return ground + (index - 1) * cal.floor_height_m

    def column_of(self, along_m: float) -> str | None:
        """Name of the column containing `along_m`, else the nearest one within half its width, else None."""
        best: tuple[float, str] | None = None
        for col in self.calibration.columns:
            if col.from_m <= along_m < col.to_m:
                return col.name
            gap = min(abs(along_m - col.from_m), abs(along_m - col.to_m))
            if gap <= (col.to_m - col.from_m) / 2 and (best is None or gap < best[0]):
                best = (gap, col.name)
        return best[1] if best else None

    def hit_at(self, along_m: float, height_m: float, height_sigma_m: float = 0.0) -> FacadeHit:
        """The FacadeHit for a facade point; floor ± covers height ± 2 sigma (calibration error included)."""
        sigma = math.hypot(height_sigma_m, self.rms_error_m)
        floor = self.floor_of(height_m)
        lo, hi = self.floor_of(height_m - 2 * sigma), self.floor_of(height_m + 2 * sigma)
        return FacadeHit(
            along_m=float(along_m),
            height_m=float(height_m),
            floor=floor,
            floor_uncertainty=max(floor - lo, hi - floor),
            column=self.column_of(along_m),
        )

    def hit(self, image_px: Point2, height_sigma_m: float = 0.0) -> FacadeHit:
        """The FacadeHit for one frame pixel."""
        along, height = self.to_facade(np.array([image_px], np.float64))[0]
        return self.hit_at(float(along), float(height), height_sigma_m)

    def geo_point(self, along_m: float, along_sigma_m: float = 0.0) -> GeoPoint | None:
        """WGS-84 point of the facade's base below `along_m`, or None when the facade is not geolocated."""
        geo = self.calibration.geo
        if geo is None:
            return None
        az = math.radians(geo.azimuth_deg)
        lat, lon = enu_to_wgs84(
            geo.origin_lat_deg, geo.origin_lon_deg, along_m * math.sin(az), along_m * math.cos(az)
        )
        accuracy = geo.accuracy_m + math.hypot(self.rms_error_m, along_sigma_m)
        return GeoPoint(
            lat_deg=float(lat),
            lon_deg=float(lon),
            accuracy_m=float(accuracy),
            method=GeoMethod.FACADE_HOMOGRAPHY,
        )


def _apply(
    matrix: NDArray[np.float64], pts: NDArray[np.floating] | NDArray[np.float64]
) -> NDArray[np.float64]:
    p = np.asarray(pts, np.float64).reshape(-1, 2)
    h = p @ matrix[:, :2].T + matrix[:, 2]
    return h[:, :2] / h[:, 2:3]
