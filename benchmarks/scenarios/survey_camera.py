"""The survey generator's own camera and Earth model, written apart from `detectors.geometry`.

The survey-pair generator must not share a camera model or a geodesy with the detector it grades, so
this module builds both from other parts:

- WGS-84 <-> local metres through Earth-centred coordinates (geodetic -> ECEF -> a tangent plane at the
  world origin, and back with Bowring's iteration), where the detector uses an equirectangular map;
- the camera as OpenCV's `projectPoints` with an explicit intrinsic matrix and a rotation composed with
  scipy's `Rotation` from the DJI angle conventions (yaw clockwise from north, pitch -90 at nadir, roll
  right side down, applied yaw -> pitch -> roll about the camera's own axes), where the detector builds
  its rays from trigonometry.

The world frame is x east, y north, z up, in metres, with the ground at z = 0.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import cv2
import numpy as np
from numpy.typing import NDArray
from scipy.spatial.transform import Rotation

SEMI_MAJOR_M = 6_378_137.0
FLATTENING = 1.0 / 298.257223563
ECC2 = FLATTENING * (2.0 - FLATTENING)

Array = NDArray[np.float64]

# Camera axes (x right, y down, z forward) of a level camera facing north, in world (east, north, up).
_LEVEL_NORTH = np.array([[1.0, 0.0, 0.0], [0.0, 0.0, 1.0], [0.0, -1.0, 0.0]])


def _ecef(lat_deg: Array, lon_deg: Array, h_m: Array) -> Array:
    lat, lon = np.radians(lat_deg), np.radians(lon_deg)
    n = SEMI_MAJOR_M / np.sqrt(1.0 - ECC2 * np.sin(lat) ** 2)
    return np.stack(
        [
            (n + h_m) * np.cos(lat) * np.cos(lon),
            (n + h_m) * np.cos(lat) * np.sin(lon),
            (n * (1 - ECC2) + h_m) * np.sin(lat),
        ],
        axis=-1,
    )


@dataclass(frozen=True)
class LocalTangentPlane:
    """East/north/up metres on the tangent plane at an origin, exactly, through ECEF."""

    lat0_deg: float
    lon0_deg: float

    def _basis(self) -> Array:
        lat, lon = math.radians(self.lat0_deg), math.radians(self.lon0_deg)
        return np.array(
            [
                [-math.sin(lon), math.cos(lon), 0.0],
                [-math.sin(lat) * math.cos(lon), -math.sin(lat) * math.sin(lon), math.cos(lat)],
                [math.cos(lat) * math.cos(lon), math.cos(lat) * math.sin(lon), math.sin(lat)],
            ]
        )

    def to_lat_lon(self, east_m: Array, north_m: Array, up_m: Array | float = 0.0) -> tuple[Array, Array]:
        """Local metres -> (lat, lon) degrees (Bowring's iteration, converged to far below a millimetre)."""
        e, n = np.asarray(east_m, np.float64), np.asarray(north_m, np.float64)
        u = np.broadcast_to(np.asarray(up_m, np.float64), e.shape)
        origin = _ecef(np.array(self.lat0_deg), np.array(self.lon0_deg), np.array(0.0))
        xyz = origin + np.stack([e, n, u], axis=-1) @ self._basis()
        x, y, z = xyz[..., 0], xyz[..., 1], xyz[..., 2]
        lon = np.arctan2(y, x)
        p = np.hypot(x, y)
        lat = np.arctan2(z, p * (1 - ECC2))
        for _ in range(5):
            n_rad = SEMI_MAJOR_M / np.sqrt(1.0 - ECC2 * np.sin(lat) ** 2)
            h = p / np.cos(lat) - n_rad
            lat = np.arctan2(z, p * (1 - ECC2 * n_rad / (n_rad + h)))
        return np.degrees(lat), np.degrees(lon)

    def from_lat_lon(self, lat_deg: Array, lon_deg: Array) -> tuple[Array, Array]:
        """(lat, lon) degrees on the ellipsoid -> local (east, north) metres."""
        lat, lon = np.asarray(lat_deg, np.float64), np.asarray(lon_deg, np.float64)
        origin = _ecef(np.array(self.lat0_deg), np.array(self.lon0_deg), np.array(0.0))
        enu = (_ecef(lat, lon, np.zeros_like(lat)) - origin) @ self._basis().T
        return enu[..., 0], enu[..., 1]


@dataclass(frozen=True)
class PinholeCamera:
    """Explicit intrinsics: square pixels, principal point at the image centre, no distortion."""

    width_px: int
    height_px: int
    focal_px: float

    @classmethod
    def from_horizontal_fov(cls, width_px: int, height_px: int, hfov_deg: float) -> PinholeCamera:
        return cls(width_px, height_px, (width_px / 2.0) / math.tan(math.radians(hfov_deg) / 2.0))

    def matrix(self) -> Array:
        return np.array(
            [[self.focal_px, 0.0, self.width_px / 2.0], [0.0, self.focal_px, self.height_px / 2.0], [0.0, 0.0, 1.0]]
        )

    def focal_35mm_equivalent(self, sensor_aspect: float = 4.0 / 3.0) -> float:
        """The 35 mm-equivalent focal a DJI SRT would state: diagonal convention, on a sensor of this aspect
        whose width the video spans."""
        sensor_diag_px = math.hypot(self.width_px, self.width_px / sensor_aspect)
        return self.focal_px * math.hypot(36.0, 24.0) / sensor_diag_px


@dataclass(frozen=True)
class CameraPose:
    """Where the camera is (world metres) and how it is turned (DJI angles, degrees)."""

    east_m: float
    north_m: float
    up_m: float
    yaw_deg: float
    pitch_deg: float
    roll_deg: float

    def world_from_camera(self) -> Array:
        """Columns: the camera's x (right), y (down), z (forward) axes in world coordinates."""
        body = Rotation.from_euler("YXZ", [self.yaw_deg, self.pitch_deg, self.roll_deg], degrees=True)
        out: Array = _LEVEL_NORTH @ body.as_matrix()
        return out

    def extrinsics(self) -> tuple[Array, Array]:
        """(rvec, tvec) of the world -> camera transform, as `cv2.projectPoints` takes them."""
        r_cw = self.world_from_camera().T
        rvec, _ = cv2.Rodrigues(r_cw)
        tvec = -r_cw @ np.array([self.east_m, self.north_m, self.up_m])
        return np.asarray(rvec, np.float64).reshape(3), np.asarray(tvec, np.float64).reshape(3)


def project(camera: PinholeCamera, pose: CameraPose, world_xyz: Array) -> Array:
    """(N, 3) world points -> (N, 2) pixels; NaN for points behind the camera."""
    pts = np.asarray(world_xyz, np.float64).reshape(-1, 3)
    rvec, tvec = pose.extrinsics()
    px, _ = cv2.projectPoints(pts, rvec, tvec, camera.matrix(), None)
    out: Array = np.asarray(px, np.float64).reshape(-1, 2)
    depth = (pts - np.array([pose.east_m, pose.north_m, pose.up_m])) @ pose.world_from_camera()[:, 2]
    out[depth <= 0.1] = np.nan
    return out


def plane_to_image(
    camera: PinholeCamera, pose: CameraPose, plane_z_m: float, around_xy_m: Array, span_m: float
) -> Array:
    """3x3 homography (world x, y, 1) on the horizontal plane z = plane_z_m -> image pixel.

    Fitted from four points `span_m` around `around_xy_m` projected by `project`: for a plane and a
    pinhole camera the map is exactly a homography, so four points fix it everywhere.
    """
    cx, cy = float(around_xy_m[0]), float(around_xy_m[1])
    src = np.array(
        [[cx - span_m, cy - span_m], [cx + span_m, cy - span_m], [cx + span_m, cy + span_m], [cx - span_m, cy + span_m]]
    )
    dst = project(camera, pose, np.column_stack([src, np.full(4, plane_z_m)]))
    out: Array = cv2.getPerspectiveTransform(src.astype(np.float32), dst.astype(np.float32)).astype(np.float64)
    return out
