"""The simulated drone camera of the scenario generator, written apart from the detector's camera model.

The generator must not share a camera model with the detector it tests: a convention error in shared
code would cancel out and the gate could not see it. So this module builds its camera its own way:

- **Intrinsics** are explicit: a focal length *in pixels of the video frame* and a principal point, the
  OpenCV matrix K = [[f, 0, cx], [0, f, cy], [0, 0, 1]]. No 35 mm-equivalent convention is involved: a
  scenario states the focal its camera really has (`focal_px_for_hfov` converts a horizontal field of
  view). What a user would configure (a nominal 24 mm-equivalent focal in the SRT, a drone model's
  sensor) is the detector's business and may be wrong.
- **Attitude** follows the aerospace chain: the gimbal's heading/elevation/bank are the intrinsic
  Z-Y-X Euler angles (scipy `Rotation`) of a forward-right-down body in a north-east-down (NED) world.
  DJI reports gimbal angles in that sense: yaw from north clockwise, pitch negative below the horizon,
  roll positive with the right side down. The camera looks along the body's forward axis with the
  image x along the body's right and image y along its down axis.
- **Projection** is OpenCV's `projectPoints` from east-north-up (ENU) metres (the scene's frame);
  back-projection uses `undistortPoints`. Planes (the ground, a roof) map to the image through the
  homography fitted to four projected points.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import cv2
import numpy as np
from numpy.typing import NDArray
from scipy.spatial.transform import Rotation

Array = NDArray[np.float64]

# ENU (east, north, up) -> NED (north, east, down)
_NED_FROM_ENU = np.array([[0.0, 1.0, 0.0], [1.0, 0.0, 0.0], [0.0, 0.0, -1.0]])
# body forward-right-down -> OpenCV camera (x right, y down, z forward)
_CAM_FROM_BODY = np.array([[0.0, 1.0, 0.0], [0.0, 0.0, 1.0], [1.0, 0.0, 0.0]])


def focal_px_for_hfov(hfov_deg: float, width_px: int) -> float:
    """Focal length in pixels of a camera whose frame `width_px` wide spans `hfov_deg` horizontally."""
    return width_px / 2.0 / math.tan(math.radians(hfov_deg) / 2.0)


@dataclass(frozen=True)
class SimCamera:
    """A pinhole camera with explicit intrinsics in pixels of the video frame (see module docstring)."""

    width_px: int
    height_px: int
    focal_px: float
    principal_dx_px: float = 0.0
    """Principal point offset from the frame centre (real lenses are a few pixels off)."""
    principal_dy_px: float = 0.0

    @property
    def matrix(self) -> Array:
        cx = self.width_px / 2.0 + self.principal_dx_px
        cy = self.height_px / 2.0 + self.principal_dy_px
        return np.array([[self.focal_px, 0.0, cx], [0.0, self.focal_px, cy], [0.0, 0.0, 1.0]])

    @property
    def hfov_deg(self) -> float:
        return math.degrees(2.0 * math.atan(self.width_px / 2.0 / self.focal_px))


@dataclass(frozen=True)
class SimPose:
    """Where the camera is (ENU metres of the scene) and where it looks.

    `heading_deg/elevation_deg/bank_deg` are gimbal Euler angles as telemetry reports them. The camera
    may be mounted slightly off them (`boresight_deg`: a rotation vector in camera axes, x right, y down,
    z forward) and the compass may be off (`compass_error_deg`: the true heading is the reported one
    plus this), as on real drones; both default to a perfect camera.
    """

    east_m: float
    north_m: float
    up_m: float
    heading_deg: float
    elevation_deg: float
    bank_deg: float = 0.0
    boresight_deg: tuple[float, float, float] = (0.0, 0.0, 0.0)
    compass_error_deg: float = 0.0

    def cam_from_world(self) -> Array:
        """3x3 rotation taking ENU vectors to OpenCV camera coordinates."""
        ned_from_body = Rotation.from_euler(
            "ZYX", [self.heading_deg + self.compass_error_deg, self.elevation_deg, self.bank_deg], degrees=True
        ).as_matrix()
        nominal = _CAM_FROM_BODY @ ned_from_body.T @ _NED_FROM_ENU
        mount = Rotation.from_rotvec(np.radians(self.boresight_deg)).as_matrix()  # camera -> nominal camera
        out: Array = mount.T @ nominal
        return out

    @property
    def position(self) -> Array:
        return np.array([self.east_m, self.north_m, self.up_m])


def project(camera: SimCamera, pose: SimPose, points_enu: Array) -> Array:
    """(N,3) ENU points -> (N,2) pixels with cv2.projectPoints; NaN rows for points behind the camera."""
    pts = np.asarray(points_enu, np.float64).reshape(-1, 3)
    r = pose.cam_from_world()
    depth = (pts - pose.position) @ r[2]
    rvec, _ = cv2.Rodrigues(r)
    tvec = -r @ pose.position
    px, _ = cv2.projectPoints(pts, rvec, tvec, camera.matrix, np.zeros(5))
    out: Array = px.reshape(-1, 2).astype(np.float64)
    out[depth <= 1e-6] = np.nan
    return out


def pixel_rays(camera: SimCamera, pose: SimPose, pixels: Array) -> Array:
    """(N,2) pixels -> (N,3) unit ENU directions of their rays (cv2.undistortPoints for the intrinsics)."""
    px = np.asarray(pixels, np.float64).reshape(-1, 1, 2)
    norm = cv2.undistortPoints(px, camera.matrix, np.zeros(5)).reshape(-1, 2)
    cam = np.column_stack([norm, np.ones(len(norm))])
    world = cam @ pose.cam_from_world()  # R^T applied to row vectors
    out: Array = world / np.linalg.norm(world, axis=1, keepdims=True)
    return out


def ray_hits_plane(camera: SimCamera, pose: SimPose, pixels: Array, up_m: float) -> Array:
    """(N,2) pixels -> (N,2) east/north where their rays meet the plane z = up_m; NaN where they do not."""
    d = pixel_rays(camera, pose, pixels)
    drop = up_m - pose.up_m
    with np.errstate(divide="ignore", invalid="ignore"):
        t = np.where(d[:, 2] < -1e-6, drop / d[:, 2], np.nan)
    t = np.where(t > 0, t, np.nan)
    return np.column_stack([pose.east_m + t * d[:, 0], pose.north_m + t * d[:, 1]])


def plane_homography(camera: SimCamera, pose: SimPose, up_m: float, anchor_en: Array) -> Array | None:
    """3x3 homography: (east, north, 1) on the plane z = up_m -> image pixels (homogeneous).

    Fitted to the projections of `anchor_en` (>= 4 east/north points on that plane, in front of the
    camera); None when fewer than four of them are in front.
    """
    en = np.asarray(anchor_en, np.float64).reshape(-1, 2)
    pts = np.column_stack([en, np.full(len(en), up_m)])
    px = project(camera, pose, pts)
    ok = np.isfinite(px).all(axis=1)
    if ok.sum() < 4:
        return None
    h, _ = cv2.findHomography(en[ok], px[ok], 0)
    return None if h is None else np.asarray(h, np.float64)
