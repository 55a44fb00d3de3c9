"""Drone camera model: pixel rays from a telemetry `Pose`, intersected with flat ground, and back.

Frames from a drone are located by casting the ray through a pixel from the camera position given by
telemetry and intersecting it with a horizontal plane: the ground at the take-off elevation (DJI
`rel_alt` is height above the take-off point) plus an optional offset, or a known roof plane. Results
are in a local east/north/up (ENU) frame in metres around an origin chosen by the caller (a flight's
first position), and in WGS-84 through `geodesy`.

Conventions (those of DJI telemetry, see `ingest.frame.Pose`):
- world ENU: x east, y north, z up; camera (OpenCV): x right, y down, z forward (optical axis).
- yaw clockwise from north, pitch negative looking down (-90 = nadir), roll right-side-down positive,
  applied as intrinsic yaw -> pitch -> roll (Z-Y-X Euler angles, the gimbal's order). DJI gimbal angles
  are in the world frame (the gimbal is stabilised), so aircraft pitch/roll do not enter the camera's
  attitude; aircraft yaw stands in for a missing gimbal yaw.
- at nadir with yaw 0 the top of the image points north and its right side east.
- no lens distortion: DJI video is rectified in the camera; the accuracy estimate covers the rest.

A `CameraCorrection` (from `detectors.geometry.selfcal`, estimated on the flight's own footage) scales
the configured focal and removes constant gimbal offsets; `build_view(..., correction=...)` applies it.
This is the public way to turn a frame's pose into rays and ground points:

    view = build_view(pose, width_px, height_px, camera_spec, geometry, origin=(lat, lon), correction=c)
    view.rays(pixels)                 # (N,3) unit ENU directions
    view.pixel_to_ground(pixels, z)   # (N,2) east/north metres on the plane z (NaN where a ray misses)
    view.ground_to_pixel(en, z)       # and back
    view.pixel_to_wgs84(pixels)       # (lat, lon, accuracy_m)
    view.accuracy_m(pixels, z)        # radius holding the true point with `accuracy_confidence` odds

`accuracy_m` is a radius at a stated confidence (`DroneGeometryConfig.accuracy_confidence`, 90 % by
default), built from 1-sigma telemetry errors: GNSS, altitude, per-frame gimbal jitter, the constant
gimbal offsets and the focal error left after calibration (or the configured ones without it), and the
unknown height of what is seen.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from detectors.geometry.drone_camera import CameraCorrection, Intrinsics, rotation_world_from_camera
from detectors.geometry.drone_config import DroneCameraSpec, DroneGeometryConfig, PoseUncertaintyConfig
from detectors.geometry.geodesy import enu_to_wgs84, wgs84_to_enu
from ingest.frame import Pose

Points = NDArray[np.float64]

# The camera spec, the geometry config and the correction `build_view` takes are imported from their own
# modules, `drone_config` (settings) and `drone_camera` (the pinhole camera and its rotations).
__all__ = [
    "Attitude",
    "DroneView",
    "build_view",
    "confidence_factor",
    "height_above_ground_m",
    "off_nadir_deg",
    "resolve_attitude",
    "unusable_reason",
]


@dataclass(frozen=True, slots=True)
class Attitude:
    """The camera's resolved attitude and the 1-sigma errors that follow from where each angle came from."""

    yaw_deg: float
    pitch_deg: float
    roll_deg: float
    tilt_sigma_deg: float
    yaw_sigma_deg: float
    yaw_source: str


def resolve_attitude(
    pose: Pose, unc: PoseUncertaintyConfig, correction: CameraCorrection | None = None
) -> Attitude:
    """Gimbal angles as reported; the aircraft yaw stands in for a missing gimbal yaw.

    Sigmas combine per-frame jitter with the constant offset error: the calibration's when given, else
    the configured one; angles that came from defaults get the (wide) defaulted sigmas.
    """
    defaulted = set(pose.defaulted)
    c = correction
    tilt_offset = c.tilt_sigma_deg if c is not None else unc.tilt_offset_sigma_deg
    yaw_offset = c.yaw_sigma_deg if c is not None else unc.yaw_offset_sigma_deg
    tilt_sigma = math.hypot(unc.tilt_sigma_deg, tilt_offset)
    if "gimbal_pitch_deg" in defaulted or "gimbal_roll_deg" in defaulted:
        tilt_sigma = max(tilt_sigma, unc.defaulted_tilt_sigma_deg)
    yaw_sigma = math.hypot(unc.yaw_sigma_deg, yaw_offset)
    if "gimbal_yaw_deg" not in defaulted:
        yaw, source = pose.gimbal_yaw_deg, "gimbal"
    elif pose.aircraft_yaw_deg is not None and "aircraft_yaw_deg" not in defaulted:
        yaw, yaw_sigma, source = pose.aircraft_yaw_deg, max(yaw_sigma, unc.aircraft_yaw_sigma_deg), "aircraft"
    else:
        yaw, yaw_sigma, source = pose.gimbal_yaw_deg, max(yaw_sigma, unc.defaulted_yaw_sigma_deg), "default"
    return Attitude(yaw, pose.gimbal_pitch_deg, pose.gimbal_roll_deg, tilt_sigma, yaw_sigma, source)


def height_above_ground_m(pose: Pose, geo: DroneGeometryConfig) -> tuple[float | None, float]:
    """Camera height above the ground plane and its 1-sigma error; None when telemetry cannot tell."""
    unc = geo.uncertainty
    if pose.rel_alt_m is not None:
        sigma = unc.defaulted_altitude_sigma_m if "rel_alt_m" in pose.defaulted else unc.altitude_sigma_m
        return pose.rel_alt_m - geo.ground_offset_m, sigma
    if pose.abs_alt_m is not None and geo.ground_abs_alt_m is not None:
        sigma = unc.defaulted_altitude_sigma_m if "abs_alt_m" in pose.defaulted else unc.altitude_sigma_m
        return pose.abs_alt_m - geo.ground_abs_alt_m, sigma
    return None, 0.0


def off_nadir_deg(pitch_deg: float, roll_deg: float, yaw_deg: float = 0.0) -> float:
    """Angle between the optical axis and straight down."""
    forward = rotation_world_from_camera(yaw_deg, pitch_deg, roll_deg)[:, 2]
    return math.degrees(math.acos(float(np.clip(-forward[2], -1.0, 1.0))))


def unusable_reason(pose: Pose | None, geo: DroneGeometryConfig) -> str | None:
    """Why a frame cannot be projected (a bounded reason label), or None when it can."""
    if pose is None:
        return "no_pose"
    if not (math.isfinite(pose.lat_deg) and math.isfinite(pose.lon_deg)) or (
        pose.lat_deg == 0.0 and pose.lon_deg == 0.0
    ):
        return "no_gps"
    if geo.require_gimbal_pitch and "gimbal_pitch_deg" in pose.defaulted:
        return "no_gimbal_pitch"
    height, _ = height_above_ground_m(pose, geo)
    if height is None:
        return "no_altitude"
    if height < geo.min_height_m:
        return "low_altitude"
    if off_nadir_deg(pose.gimbal_pitch_deg, pose.gimbal_roll_deg) > geo.max_off_nadir_deg:
        return "off_nadir"
    return None


def confidence_factor(confidence: float) -> float:
    """Radius at `confidence` over the RMS radial error of a 2-D Gaussian, for any ellipticity.

    A circular error reaches `confidence` at sqrt(-ln(1 - p)) times its RMS radius, an error along one
    axis at the two-sided normal quantile; the larger of the two holds for every shape in between.
    """
    from statistics import NormalDist  # noqa: PLC0415  (stdlib, only needed here)

    return max(math.sqrt(-math.log(1.0 - confidence)), NormalDist().inv_cdf(0.5 + confidence / 2.0))


@dataclass(frozen=True)
class DroneView:
    """One frame's camera: intrinsics, attitude and position in a local ENU frame, plus error sigmas.

    Ground points are (east, north) metres in the ENU frame of `origin_lat_deg/origin_lon_deg`; the
    ground plane is z = 0 there, the camera is `height_m` above it. A plane at `plane_up_m` (a roof)
    can be used instead of the ground for any projection.
    """

    intrinsics: Intrinsics
    rotation: NDArray[np.float64]
    camera_east_m: float
    camera_north_m: float
    height_m: float
    origin_lat_deg: float
    origin_lon_deg: float
    position_sigma_m: float
    altitude_sigma_m: float
    tilt_sigma_deg: float
    yaw_sigma_deg: float
    target_height_sigma_m: float
    max_ray_off_nadir_deg: float
    yaw_source: str = "gimbal"
    focal_sigma_rel: float = 0.0
    """1-sigma relative error of the focal (the calibration's, or the configured one without it)."""
    accuracy_factor: float = 1.0
    """Radius at the stated confidence over the RMS radial error (see `confidence_factor`)."""

    @property
    def off_nadir_deg(self) -> float:
        return math.degrees(math.acos(float(np.clip(-self.rotation[2, 2], -1.0, 1.0))))

    @property
    def camera_enu(self) -> tuple[float, float]:
        return self.camera_east_m, self.camera_north_m

    def rays(self, pixels: Points, focal_scale: float = 1.0) -> Points:
        """(N,2) pixels -> (N,3) unit ray directions in ENU (`focal_scale` tries another focal)."""
        k = self.intrinsics
        px = np.asarray(pixels, np.float64).reshape(-1, 2)
        cam = np.column_stack(
            [
                (px[:, 0] - k.cx_px) / (k.fx_px * focal_scale),
                (px[:, 1] - k.cy_px) / (k.fy_px * focal_scale),
                np.ones(len(px)),
            ]
        )
        world = cam @ self.rotation.T
        out: Points = world / np.linalg.norm(world, axis=1, keepdims=True)
        return out

    def ray_off_nadir_deg(self, pixels: Points) -> NDArray[np.float64]:
        return np.degrees(np.arccos(np.clip(-self.rays(pixels)[:, 2], -1.0, 1.0)))

    def _hit(self, d: Points, plane_up_m: float | NDArray[np.float64]) -> Points:
        drop = self.height_m - np.asarray(plane_up_m, np.float64)
        down = -d[:, 2]
        ok = (down >= math.cos(math.radians(self.max_ray_off_nadir_deg))) & (drop > 0)
        t = np.where(ok, drop / np.where(ok, down, 1.0), np.nan)
        return np.column_stack([self.camera_east_m + t * d[:, 0], self.camera_north_m + t * d[:, 1]])

    def pixel_to_ground(self, pixels: Points, plane_up_m: float | NDArray[np.float64] = 0.0) -> Points:
        """(N,2) pixels -> (N,2) ENU metres on the plane z = plane_up_m; NaN rows where a ray misses it.

        A ray misses when it points above the horizon, is further from nadir than
        `max_ray_off_nadir_deg`, or the plane is not below the camera.
        """
        return self._hit(self.rays(pixels), plane_up_m)

    def ground_to_pixel(self, enu_m: Points, plane_up_m: float | NDArray[np.float64] = 0.0) -> Points:
        """(N,2) ENU metres on the plane z = plane_up_m -> (N,2) pixels; NaN rows behind the camera."""
        p = np.asarray(enu_m, np.float64).reshape(-1, 2)
        v = np.column_stack(
            [
                p[:, 0] - self.camera_east_m,
                p[:, 1] - self.camera_north_m,
                np.broadcast_to(np.asarray(plane_up_m, np.float64) - self.height_m, (len(p),)),
            ]
        )
        c = v @ self.rotation
        k = self.intrinsics
        front = c[:, 2] > 1e-9
        z = np.where(front, c[:, 2], np.nan)
        return np.column_stack([k.fx_px * c[:, 0] / z + k.cx_px, k.fy_px * c[:, 1] / z + k.cy_px])

    def accuracy_m(
        self, pixels: Points, plane_up_m: float | NDArray[np.float64] = 0.0
    ) -> NDArray[np.float64]:
        """Radius (metres) within which each pixel's true ground point lies at the stated confidence.

        First-order propagation of the 1-sigma errors along the ray's off-nadir angle a at height h
        above the plane (distance D = h tan a): GNSS on both axes; altitude and target height move the
        point by sigma * tan a; tilt by sigma * h / cos^2 a along the view and sigma * h / cos a across;
        yaw by sigma * D; the focal error by how far the point moves when the focal does (computed).
        The RMS radial error is scaled to the confidence by `accuracy_factor`.
        """
        px = np.asarray(pixels, np.float64).reshape(-1, 2)
        d = self.rays(px)
        cos_a = np.clip(-d[:, 2], 1e-6, 1.0)
        tan_a = np.sqrt(np.clip(1.0 - cos_a**2, 0.0, None)) / cos_a
        h = np.maximum(self.height_m - np.asarray(plane_up_m, np.float64), 0.0)
        tilt = math.radians(self.tilt_sigma_deg)
        yaw = math.radians(self.yaw_sigma_deg)
        var = (
            2 * self.position_sigma_m**2
            + (self.altitude_sigma_m * tan_a) ** 2
            + (self.target_height_sigma_m * tan_a) ** 2
            + (tilt * h) ** 2 * (1 / cos_a**4 + 1 / cos_a**2)
            + (yaw * h * tan_a) ** 2
        )
        if self.focal_sigma_rel > 0:
            here = self._hit(d, plane_up_m)
            there = self._hit(self.rays(px, 1.0 + self.focal_sigma_rel), plane_up_m)
            moved = np.hypot(*(there - here).T)
            var = var + np.where(np.isfinite(moved), moved, 0.0) ** 2
        out: NDArray[np.float64] = self.accuracy_factor * np.sqrt(var)
        return out

    def to_wgs84(self, enu_m: Points) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
        """(N,2) ENU metres of this view's origin -> (lat, lon) degree arrays."""
        p = np.asarray(enu_m, np.float64).reshape(-1, 2)
        return enu_to_wgs84(self.origin_lat_deg, self.origin_lon_deg, p[:, 0], p[:, 1])

    def pixel_to_wgs84(
        self, pixels: Points, plane_up_m: float = 0.0
    ) -> tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.float64]]:
        """(N,2) pixels -> (lat, lon, accuracy_m) arrays; NaN where a ray misses the plane."""
        enu = self.pixel_to_ground(pixels, plane_up_m)
        lat, lon = self.to_wgs84(enu)
        return lat, lon, self.accuracy_m(pixels, plane_up_m)

    def image_footprint(self, samples_per_side: int = 8) -> Points:
        """The frame's outline projected to the ground, (M,2) ENU; rays beyond the limit are dropped."""
        w, h = self.intrinsics.width_px, self.intrinsics.height_px
        s = np.linspace(0.0, 1.0, samples_per_side, endpoint=False)
        border = np.concatenate(
            [
                np.column_stack([s * w, np.zeros_like(s)]),
                np.column_stack([np.full_like(s, w), s * h]),
                np.column_stack([(1 - s) * w, np.full_like(s, h)]),
                np.column_stack([np.zeros_like(s), (1 - s) * h]),
            ]
        )
        g = self.pixel_to_ground(border)
        out: Points = g[np.isfinite(g).all(axis=1)]
        return out


def build_view(
    pose: Pose,
    width_px: int,
    height_px: int,
    camera: DroneCameraSpec,
    geo: DroneGeometryConfig,
    *,
    origin: tuple[float, float] | None = None,
    correction: CameraCorrection | None = None,
) -> DroneView:
    """The `DroneView` of a frame taken from `pose`. Check `unusable_reason` first: raises ValueError.

    `origin` (lat, lon) is the ENU origin of the results; the camera position is the default.
    `correction` is the flight's calibration (None: the configured camera, with its configured errors).
    """
    reason = unusable_reason(pose, geo)
    if reason is not None:
        raise ValueError(f"pose cannot be projected: {reason}")
    height, alt_sigma = height_above_ground_m(pose, geo)
    assert height is not None
    unc = geo.uncertainty
    att = resolve_attitude(pose, unc, correction)
    o_lat, o_lon = origin if origin is not None else (pose.lat_deg, pose.lon_deg)
    east, north = wgs84_to_enu(o_lat, o_lon, pose.lat_deg, pose.lon_deg)
    k = Intrinsics.from_spec(camera, width_px, height_px, pose.focal_len_35mm)
    rotation = rotation_world_from_camera(att.yaw_deg, att.pitch_deg, att.roll_deg)
    if correction is not None:
        s = correction.focal_scale
        k = Intrinsics(k.width_px, k.height_px, k.fx_px * s, k.fy_px * s, k.cx_px, k.cy_px)
        rotation = correction.world_turn() @ rotation @ correction.camera_turn()
    focal_sigma = correction.focal_scale_sigma if correction is not None else unc.focal_sigma_pct / 100.0
    return DroneView(
        intrinsics=k,
        rotation=rotation,
        camera_east_m=float(east),
        camera_north_m=float(north),
        height_m=float(height),
        origin_lat_deg=o_lat,
        origin_lon_deg=o_lon,
        position_sigma_m=unc.position_sigma_m,
        altitude_sigma_m=alt_sigma,
        tilt_sigma_deg=att.tilt_sigma_deg,
        yaw_sigma_deg=att.yaw_sigma_deg,
        target_height_sigma_m=unc.target_height_sigma_m,
        max_ray_off_nadir_deg=geo.max_ray_off_nadir_deg,
        yaw_source=att.yaw_source,
        focal_sigma_rel=focal_sigma,
        accuracy_factor=confidence_factor(geo.accuracy_confidence),
    )
