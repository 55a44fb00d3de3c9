"""Settings of a flight's self-calibration: when it runs, how it matches, and when its result is trusted.

See `detectors.geometry.selfcal` for the method.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, model_validator


class SelfCalibrationConfig(BaseModel):
    """When and how a flight calibrates its camera from its own footage, and when the result is trusted."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    enabled: bool = Field(
        default=True,
        description="Estimate the focal and gimbal offsets from the flight itself. Off: the configured camera "
        "is used as is, with its configured errors (sites are decided without waiting).",
    )
    feature_width_px: int = Field(
        default=960,
        ge=320,
        le=4096,
        description="Frames are downscaled to this width for keypoints. Raising it gives finer matches for "
        "more CPU per frame.",
    )
    max_features: int = Field(
        default=2000, ge=200, le=20000, description="ORB keypoints per frame; more helps on bland ground."
    )
    max_lag_frames: int = Field(
        default=3,
        ge=1,
        le=20,
        description="Each frame is matched with this many previous analysed frames (along the survey line).",
    )
    cross_pairs_per_frame: int = Field(
        default=2,
        ge=0,
        le=20,
        description="Each frame is also matched with up to this many earlier frames seeing the same ground "
        "from another heading (neighbouring lines); these make the gimbal offsets observable. 0 fits the "
        "focal only.",
    )
    guide_keypoints: int = Field(
        default=400, ge=20, le=5000, description="Strongest keypoints used for the first, wide guided search."
    )
    guide_radius_m: float = Field(
        default=8.0,
        gt=0,
        le=500,
        description="First-round search radius on the ground around where the configured camera puts a "
        "keypoint seen in another frame: covers gimbal offsets of a few degrees and GNSS drift.",
    )
    guide_radius_rel: float = Field(
        default=0.2,
        ge=0,
        le=2,
        description="Added to the first-round radius per metre of distance from the frame's nadir point, "
        "covering a configured focal that is this much off.",
    )
    max_feature_ray_deg: float = Field(
        default=62.0,
        gt=0,
        le=85,
        description="Keypoints are sought only on ground seen closer to nadir than this (far oblique ground is "
        "smeared when rectified and its position depends most on the unknown camera).",
    )
    min_inliers: int = Field(
        default=30,
        ge=8,
        le=5000,
        description="A pair counts only with this many matches on the ground plane (RANSAC inliers).",
    )
    matches_per_pair: int = Field(
        default=60, ge=8, le=2000, description="Matches kept per pair for the fit (spread over the frame)."
    )
    min_pairs: int = Field(
        default=40,
        ge=4,
        le=100_000,
        description="Pairs needed before a fit is tried. Raising it delays the decision and steadies it.",
    )
    first_attempt_frames: int = Field(
        default=60,
        ge=2,
        le=100_000,
        description="Analysed frames before the first fit. Sites are not decided before the calibration "
        "is (or has failed), so raising it delays every alert of a flight.",
    )
    attempt_every_frames: int = Field(
        default=30, ge=1, le=100_000, description="Frames between fits while none is confident yet."
    )
    give_up_frames: int = Field(
        default=360,
        ge=2,
        le=1_000_000,
        description="After this many analysed frames without a confident fit the configured camera is kept "
        "for the rest of the flight. A flight that ends earlier gets a last fit on what it has.",
    )
    jackknife_blocks: int = Field(
        default=6,
        ge=3,
        le=50,
        description="Time blocks of the delete-one jackknife that estimates the uncertainty. Fewer, longer "
        "blocks count slow telemetry drifts more fully.",
    )
    max_focal_sigma_pct: float = Field(
        default=1.5,
        gt=0,
        le=50,
        description="The focal estimate is used only when its 1-sigma uncertainty is below this (percent).",
    )
    max_tilt_sigma_deg: float = Field(
        default=0.5,
        gt=0,
        le=20,
        description="Pitch/roll offsets are used only when their 1-sigma uncertainty is below this.",
    )
    max_yaw_sigma_deg: float = Field(
        default=1.0, gt=0, le=45, description="The yaw offset is used only when its 1-sigma is below this."
    )
    max_focal_change_pct: float = Field(
        default=35.0,
        gt=0,
        le=300,
        description="An estimate further than this from the configured focal is implausible and rejected.",
    )
    max_offset_deg: float = Field(
        default=6.0, gt=0, le=45, description="Gimbal offsets larger than this are implausible and rejected."
    )
    max_residual_m: float = Field(
        default=1.0,
        gt=0,
        le=100,
        description="Median transfer error on the ground (metres) above which the fit is not trusted (the "
        "ground is not a plane, frames and telemetry are out of step, or GNSS wanders more than that).",
    )
    min_focal_sigma_pct: float = Field(
        default=1.0,
        ge=0,
        le=20,
        description="Floor of the stated focal uncertainty: only focal over height is observable, so a 1 m "
        "altitude error at 100 m is a 1 % focal error the flight cannot tell apart (harmless for ground "
        "positions, which need only the ratio).",
    )
    min_offset_sigma_deg: float = Field(
        default=0.2, ge=0, le=10, description="Floor of the stated gimbal offset uncertainties."
    )

    @model_validator(mode="after")
    def _ordered(self) -> SelfCalibrationConfig:
        if self.first_attempt_frames > self.give_up_frames:
            raise ValueError("first_attempt_frames must not exceed give_up_frames")
        return self
