"""The pinhole camera of a drone frame: intrinsics from a camera spec, attitude rotations, and the constant
corrections a flight's self-calibration measures. Conventions as in `detectors.geometry.drone`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from detectors.geometry.drone_config import FULL_FRAME_DIAGONAL_MM, DroneCameraSpec


@dataclass(frozen=True, slots=True)
class Intrinsics:
    """Pinhole intrinsics of a frame size: focal lengths and principal point in pixels."""

    width_px: int
    height_px: int
    fx_px: float
    fy_px: float
    cx_px: float
    cy_px: float

    @classmethod
    def from_sensor(
        cls, width_px: int, height_px: int, focal_mm: float, sensor_width_mm: float
    ) -> Intrinsics:
        """From a physical focal length and the sensor width the frame spans (square pixels)."""
        f = focal_mm / sensor_width_mm * width_px
        return cls(width_px, height_px, f, f, width_px / 2.0, height_px / 2.0)

    @classmethod
    def from_35mm(
        cls, width_px: int, height_px: int, focal_35mm: float, sensor_aspect: float = 4 / 3
    ) -> Intrinsics:
        """From a 35 mm-equivalent focal: f_px = f35 / 43.27 mm * sensor diagonal in pixels.

        The frame is assumed to span the sensor's full width; the sensor's diagonal follows from its
        aspect ratio (a 16:9 video from a 4:3 sensor keeps the 4:3 diagonal).
        """
        diag_px = width_px * math.sqrt(1.0 + 1.0 / sensor_aspect**2)
        f = focal_35mm / FULL_FRAME_DIAGONAL_MM * diag_px
        return cls(width_px, height_px, f, f, width_px / 2.0, height_px / 2.0)

    @classmethod
    def from_spec(
        cls, spec: DroneCameraSpec, width_px: int, height_px: int, telemetry_focal_35mm: float | None = None
    ) -> Intrinsics:
        """Pick the source of the focal length: telemetry (zoom-aware), then the physical pair, then f35."""
        if spec.prefer_telemetry_focal and telemetry_focal_35mm is not None and telemetry_focal_35mm > 1:
            return cls.from_35mm(width_px, height_px, telemetry_focal_35mm, spec.sensor_aspect)
        if spec.focal_length_mm is not None and spec.sensor_width_mm is not None:
            return cls.from_sensor(width_px, height_px, spec.focal_length_mm, spec.sensor_width_mm)
        return cls.from_35mm(width_px, height_px, spec.focal_35mm, spec.sensor_aspect)

    def matrix(self) -> NDArray[np.float64]:
        return np.array([[self.fx_px, 0, self.cx_px], [0, self.fy_px, self.cy_px], [0, 0, 1]], np.float64)


def rotations_world_from_camera(
    yaw_deg: NDArray[np.float64], pitch_deg: NDArray[np.float64], roll_deg: NDArray[np.float64]
) -> NDArray[np.float64]:
    """(N,3,3) matrices whose columns are each camera's right, down and forward axes in ENU."""
    yaw, pitch, roll = (np.radians(np.asarray(v, np.float64)) for v in (yaw_deg, pitch_deg, roll_deg))
    sy, cy, sp, cp, sr, cr = np.sin(yaw), np.cos(yaw), np.sin(pitch), np.cos(pitch), np.sin(roll), np.cos(roll)
    forward = np.stack([sy * cp, cy * cp, sp], axis=-1)
    right0 = np.stack([cy, -sy, np.zeros_like(yaw)], axis=-1)
    down0 = np.cross(forward, right0)
    right = cr[..., None] * right0 + sr[..., None] * down0
    down = -sr[..., None] * right0 + cr[..., None] * down0
    out: NDArray[np.float64] = np.stack([right, down, forward], axis=-1)
    return out


def rotation_world_from_camera(yaw_deg: float, pitch_deg: float, roll_deg: float) -> NDArray[np.float64]:
    """3x3 matrix whose columns are the camera's right, down and forward axes in ENU coordinates."""
    out: NDArray[np.float64] = rotations_world_from_camera(
        np.array([yaw_deg]), np.array([pitch_deg]), np.array([roll_deg])
    )[0]
    return out


@dataclass(frozen=True, slots=True)
class CameraCorrection:
    """What a flight's self-calibration corrects in the configured camera, and how sure it is (1-sigma).

    The true focal is `focal_scale` times the configured one (so a zooming SRT focal keeps working).
    The true camera is the reported one turned by three small constant angles: `pitch_deg` about the
    image's x axis (positive turns the view towards the image's top), `roll_deg` about the image's y axis
    (positive turns it towards the image's right edge) - together the camera's mounting error, which at
    nadir tilts the view along and across the flight line - and `yaw_deg` about the vertical (a compass
    error, positive clockwise seen from above). Sigmas replace the configured offset errors in the
    accuracy estimate.
    """

    focal_scale: float = 1.0
    focal_scale_sigma: float = 0.0
    pitch_deg: float = 0.0
    roll_deg: float = 0.0
    yaw_deg: float = 0.0
    tilt_sigma_deg: float = 0.0
    yaw_sigma_deg: float = 0.0

    def world_turn(self) -> NDArray[np.float64]:
        """3x3: the heading correction, applied to world (ENU) vectors."""
        return heading_turn(self.yaw_deg)

    def camera_turn(self) -> NDArray[np.float64]:
        """3x3: the mounting correction, applied to camera vectors (x right, y down, z forward)."""
        return mount_turn(self.pitch_deg, self.roll_deg)


def heading_turn(yaw_deg: float) -> NDArray[np.float64]:
    """Rotation of ENU vectors about the vertical, clockwise seen from above by `yaw_deg`."""
    c, s = math.cos(math.radians(yaw_deg)), math.sin(math.radians(yaw_deg))
    return np.array([[c, s, 0.0], [-s, c, 0.0], [0.0, 0.0, 1.0]])


def mount_turn(pitch_deg: float, roll_deg: float) -> NDArray[np.float64]:
    """Rotation of camera vectors about the image x axis by `pitch_deg`, then its y axis by `roll_deg`
    (right-handed, camera axes x right, y down, z forward).

    With the heading turn these span every small constant rotation of a camera that is not level: a
    turn about the optical axis is a mix of a heading and a roll turn when the camera looks down.
    """
    a, b = math.radians(pitch_deg), math.radians(roll_deg)
    rx = np.array([[1.0, 0.0, 0.0], [0.0, math.cos(a), -math.sin(a)], [0.0, math.sin(a), math.cos(a)]])
    ry = np.array([[math.cos(b), 0.0, math.sin(b)], [0.0, 1.0, 0.0], [-math.sin(b), 0.0, math.cos(b)]])
    out: NDArray[np.float64] = rx @ ry
    return out
