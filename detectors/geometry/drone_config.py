"""Settings of the drone camera model: the camera of a drone model, telemetry errors, and which frames to use.

See `detectors.geometry.drone` for the model itself.
"""

from __future__ import annotations

import math

from pydantic import BaseModel, ConfigDict, Field

FULL_FRAME_DIAGONAL_MM = math.hypot(36.0, 24.0)
"""Diagonal of the 36 x 24 mm frame that 35 mm-equivalent focal lengths refer to (CIPA)."""


class DroneCameraSpec(BaseModel):
    """One drone model's camera: a physical focal length and sensor width, or a 35 mm-equivalent focal."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    focal_length_mm: float | None = Field(
        default=None,
        gt=0,
        le=1000,
        description="Physical focal length in mm. With sensor_width_mm it fixes the field of view; leave "
        "empty to use focal_35mm.",
    )
    sensor_width_mm: float | None = Field(
        default=None,
        gt=0,
        le=100,
        description="Sensor width in mm, assumed to be the full width of the video frame.",
    )
    focal_35mm: float = Field(
        default=24.0,
        gt=1,
        le=2000,
        description="35 mm-equivalent focal length (diagonal convention), used when the physical pair is "
        "not given and telemetry has no focal_len. Raising it narrows the assumed field of view.",
    )
    sensor_aspect: float = Field(
        default=4 / 3,
        gt=0.5,
        le=4,
        description="Sensor width/height. A 16:9 video is a crop of a 4:3 sensor's full width, so the "
        "35 mm-equivalent focal refers to the 4:3 diagonal, not the video frame's.",
    )
    prefer_telemetry_focal: bool = Field(
        default=True,
        description="Use the SRT's focal_len (35 mm-equivalent, follows digital zoom) when present; turn off "
        "when a model's SRT reports a nominal focal that ignores the video crop.",
    )


class PoseUncertaintyConfig(BaseModel):
    """1-sigma telemetry and camera-model errors behind every accuracy radius, and widening for defaults.

    Constant offsets (gimbal pitch/roll/yaw, focal) are what self-calibration measures: when a flight is
    calibrated, its own estimate and uncertainty replace the `*_offset_*`/`focal_sigma_pct` values here.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    position_sigma_m: float = Field(
        default=1.0,
        ge=0,
        le=100,
        description="GNSS error of the drone position, 1-sigma per horizontal axis (about 1 m for GNSS, "
        "0.05 m with RTK). It is the floor of every accuracy radius.",
    )
    altitude_sigma_m: float = Field(
        default=1.0,
        ge=0,
        le=100,
        description="Error of the height above the ground plane (barometer drift, terrain not flat).",
    )
    tilt_sigma_deg: float = Field(
        default=0.3,
        ge=0,
        le=45,
        description="Frame-to-frame gimbal pitch/roll error (jitter around any constant offset).",
    )
    yaw_sigma_deg: float = Field(
        default=0.8,
        ge=0,
        le=180,
        description="Frame-to-frame gimbal yaw error (jitter around any constant offset).",
    )
    tilt_offset_sigma_deg: float = Field(
        default=1.5,
        ge=0,
        le=45,
        description="Constant gimbal pitch/roll offset of an uncalibrated flight (gimbal and IMU calibration). "
        "Raising it widens radii when self-calibration is off or failed.",
    )
    yaw_offset_sigma_deg: float = Field(
        default=3.0,
        ge=0,
        le=180,
        description="Constant yaw offset of an uncalibrated flight (compass, gimbal mount).",
    )
    focal_sigma_pct: float = Field(
        default=10.0,
        ge=0,
        le=100,
        description="Error of the configured focal (video crop modes, EIS, a nominal SRT focal_len) for an "
        "uncalibrated flight, in percent. It moves points in proportion to their distance from the image "
        "centre.",
    )
    target_height_sigma_m: float = Field(
        default=3.0,
        ge=0,
        le=100,
        description="Unknown height of what is seen above the plane it was projected on (a roof's top, a "
        "scaffold). Its error grows with the ray's obliquity, so near-nadir views weigh more.",
    )
    defaulted_tilt_sigma_deg: float = Field(
        default=10.0,
        ge=0,
        le=90,
        description="Tilt error when telemetry has no gimbal pitch/roll and nadir is assumed.",
    )
    aircraft_yaw_sigma_deg: float = Field(
        default=5.0,
        ge=0,
        le=180,
        description="Yaw error when the aircraft heading stands in for the gimbal yaw.",
    )
    defaulted_yaw_sigma_deg: float = Field(
        default=60.0,
        ge=0,
        le=180,
        description="Yaw error when telemetry has no heading at all (yaw 0 assumed).",
    )
    defaulted_altitude_sigma_m: float = Field(
        default=10.0,
        ge=0,
        le=1000,
        description="Altitude error when the height came from a configured default.",
    )


class DroneGeometryConfig(BaseModel):
    """How drone frames are projected to the ground, and which frames are too oblique or too low to use."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    ground_offset_m: float = Field(
        default=0.0,
        ge=-1000,
        le=1000,
        description="Ground elevation above the take-off point (rel_alt reference). Set it when the surveyed "
        "area lies higher (+) or lower (-) than where the drone took off.",
    )
    ground_abs_alt_m: float | None = Field(
        default=None,
        ge=-500,
        le=9000,
        description="Ground elevation above sea level, used only for telemetry with abs_alt but no rel_alt.",
    )
    max_off_nadir_deg: float = Field(
        default=40.0,
        ge=0,
        le=89,
        description="Frames whose optical axis is further than this from straight down are skipped. Raising "
        "it uses oblique views (larger ground errors); lowering it keeps only near-nadir frames.",
    )
    max_ray_off_nadir_deg: float = Field(
        default=70.0,
        gt=0,
        le=89,
        description="Pixels whose ray is further than this from straight down are not projected (near the "
        "horizon a small attitude error moves the ground point by hundreds of metres).",
    )
    min_height_m: float = Field(
        default=15.0,
        ge=0,
        le=2000,
        description="Frames taken lower than this above the ground are skipped (take-off, landing).",
    )
    require_gimbal_pitch: bool = Field(
        default=False,
        description="Skip frames whose telemetry lacks a gimbal pitch instead of assuming nadir with a wide "
        "accuracy radius.",
    )
    accuracy_confidence: float = Field(
        default=0.9,
        ge=0.5,
        le=0.999,
        description="Odds that the true position lies within a stated accuracy_m. Raising it widens every "
        "radius (0.9: 9 in 10 sites lie inside their radius).",
    )
    uncertainty: PoseUncertaintyConfig = Field(
        default_factory=PoseUncertaintyConfig, description="Telemetry errors for the accuracy estimate."
    )
