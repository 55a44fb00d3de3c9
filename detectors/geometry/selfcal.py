"""Self-calibration of a drone camera from its own flight: the focal in pixels and constant gimbal offsets.

Why: a drone's configured camera is a convention, not a measurement. A 35 mm-equivalent focal in the
SRT says nothing about the video mode's crop (16:9 from a 4:3 or a 3:2 sensor, EIS, 4K vs 1080p), and
gimbal and compass calibration leave constant offsets of a degree or more. A 10 % focal error puts a
roof at the image edge 6 m off at 100 m; a 1.5 degree pitch offset puts every point 2.6 m off. Both are
measurable from the footage itself, because the ground seen in two frames must land on the same spot.

How (per flight, on the frames the detector analyses):
1. Each usable frame is rectified onto the ground with the configured camera (north up, about its nadir
   resolution at `feature_width_px`), so that frames seen from opposite directions or at other
   obliquities look alike; ORB keypoints found there are kept both in ground metres and in the frame's
   own pixels, with its telemetry (position in the flight's ENU frame, height, gimbal angles, configured
   intrinsics).
2. Pairs: each frame with the previous `max_lag_frames`, and with earlier frames whose configured
   ground footprint overlaps it from another heading (the neighbouring survey line). Those make the
   gimbal offsets observable: an offset moves the ground one way on the way out and the other way on
   the way back, while the same ground must be seen in the same place.
3. Matches: descriptors compared only between keypoints near the same ground point (a wide radius first,
   then a tight one around a fitted transform), with a ratio test, then a RANSAC homography between the
   two frames' pixels (the ground is one plane; roof tops and trees that break it are dropped).
4. Fit: the parameters (log focal scale, pitch, roll and yaw offsets) minimise the transfer error of
   every match through the ground plane - the ray from one frame to the ground, projected into the
   other frame, and back - with a robust loss (scipy `least_squares`, soft L1). The ground is the
   take-off plane, as for every projection the detector makes.
5. Uncertainty: a delete-one-block jackknife over time blocks of pairs, so that slowly drifting
   telemetry errors (GNSS, gimbal) count; the formal covariance of thousands of matches would claim
   far more than the flight can tell.
6. The estimate is used when its uncertainties and residual are within the configured limits and it is
   plausible; otherwise the configured camera stays (and its configured errors widen every radius).

A constant focal-altitude scale error is absorbed in the focal (only their ratio is seen), which is
what the ground projection needs; a video-to-SRT time offset at constant speed is absorbed as a pitch
(along-track) offset, likewise harmless for positions on the same kind of flight.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from enum import StrEnum

import cv2
import numpy as np
from numpy.typing import NDArray
from pydantic import BaseModel, ConfigDict, Field, model_validator
from scipy.optimize import least_squares
from scipy.spatial import cKDTree

from detectors.geometry.drone import (
    CameraCorrection,
    DroneCameraSpec,
    DroneGeometryConfig,
    DroneView,
    build_view,
    heading_turn,
    mount_turn,
    resolve_attitude,
    rotations_world_from_camera,
    unusable_reason,
)
from ingest.frame import Frame

Array = NDArray[np.float64]


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


class CalibrationStatus(StrEnum):
    """Where a flight's calibration stands."""

    PENDING = "pending"
    """Collecting frames; sites wait."""
    CALIBRATED = "calibrated"
    """The flight's own estimate is used."""
    CONFIGURED = "configured"
    """The configured camera is used: calibration is off, failed or was not confident."""


@dataclass(frozen=True)
class CalibrationResult:
    """What the flight's calibration found and whether it is used (focal in full-resolution pixels)."""

    status: CalibrationStatus
    reason: str
    configured_focal_px: float
    estimate: CameraCorrection | None = None
    """The fit, used or not (None when no fit could be made)."""
    frames: int = 0
    pairs: int = 0
    cross_pairs: int = 0
    matches: int = 0
    residual_px: float = math.nan
    """Median transfer error of the matches, full-resolution pixels."""
    residual_m: float = math.nan
    """The same on the ground, metres."""

    @property
    def correction(self) -> CameraCorrection | None:
        """What projections should apply: the estimate when calibrated, else None (configured camera)."""
        return self.estimate if self.status == CalibrationStatus.CALIBRATED else None

    @property
    def focal_px(self) -> float:
        scale = self.estimate.focal_scale if self.estimate is not None else 1.0
        return self.configured_focal_px * scale

    @property
    def focal_sigma_px(self) -> float:
        return self.configured_focal_px * self.estimate.focal_scale_sigma if self.estimate is not None else math.nan

    def describe(self) -> str:
        """One line for the flight report."""
        head = f"camera calibration: {self.status.value} ({self.reason})"
        e = self.estimate
        if e is None:
            return f"{head}; configured focal {self.configured_focal_px:.0f} px"
        return (
            f"{head}; focal {self.focal_px:.0f} ± {self.focal_sigma_px:.0f} px (configured "
            f"{self.configured_focal_px:.0f} px, {100 * (e.focal_scale - 1):+.1f} %); camera turned from the "
            f"reported attitude by pitch {e.pitch_deg:+.2f}°, roll {e.roll_deg:+.2f}° (± {e.tilt_sigma_deg:.2f}°), "
            f"yaw {e.yaw_deg:+.2f}° (± {e.yaw_sigma_deg:.2f}°); median residual "
            f"{self.residual_px:.1f} px ({self.residual_m:.2f} m) over {self.pairs} frame pairs "
            f"({self.cross_pairs} across lines), "
            f"{self.matches} matches, {self.frames} frames"
        )


@dataclass(frozen=True)
class FramePose:
    """What the fit needs of one frame: its reported camera, in the flight's ENU metres."""

    east_m: float
    north_m: float
    height_m: float
    yaw_deg: float
    pitch_deg: float
    roll_deg: float
    fx_px: float
    cx_px: float
    cy_px: float


@dataclass(frozen=True)
class FramePair:
    """Matched ground points of two frames (full-resolution pixels), and whether they are on different lines."""

    a: int
    b: int
    pts_a: NDArray[np.float64]
    pts_b: NDArray[np.float64]
    cross: bool


@dataclass
class _Keyframe:
    """One analysed frame's keypoints (full-resolution pixels), its configured view and its pose."""

    keypoints: NDArray[np.float64]
    ground_m: NDArray[np.float64]
    """Where the configured camera puts each keypoint on the ground (flight ENU metres)."""
    descriptors: NDArray[np.uint8]
    strongest: NDArray[np.intp]
    """Indexes of the keypoints with the highest corner response (the first, guided round of matching)."""
    view: DroneView
    tree: cKDTree
    pose: FramePose
    centre_m: Array
    radius_m: float


@dataclass
class _Data:
    """Per-frame arrays and per-match indexes for the vectorised transfer error."""

    east: Array
    north: Array
    height: Array
    rotation: Array
    """(F,3,3) world-from-camera of each frame's reported attitude."""
    fx: Array
    cx: Array
    cy: Array
    ia: NDArray[np.intp]
    ib: NDArray[np.intp]
    ua: Array
    ub: Array
    block: NDArray[np.intp] = field(default_factory=lambda: np.zeros(0, np.intp))


class SelfCalibrator:
    """Collects one flight's keyframes and matches (`add`), then fits the camera (`solve`)."""

    def __init__(self, config: SelfCalibrationConfig, seed: int = 0) -> None:
        self.config = config
        self._frames: list[_Keyframe] = []
        self._pairs: list[FramePair] = []
        self._orb = cv2.ORB.create(nfeatures=config.max_features, fastThreshold=8)
        self._matcher = cv2.BFMatcher(cv2.NORM_HAMMING)
        self._rng = np.random.default_rng(seed)
        self.configured_focal_px: float | None = None
        self._ransac_px = 3.0

    @property
    def frames(self) -> int:
        return len(self._frames)

    @property
    def pairs(self) -> int:
        return len(self._pairs)

    def add(self, image_bgr: NDArray[np.uint8], view: DroneView, yaw_deg: float, pitch_deg: float,
            roll_deg: float) -> None:
        """Take one analysed frame: `view` is its configured (uncorrected) camera, the angles its telemetry's.

        Keypoints are found on the frame rectified to the ground (north up, about the frame's nadir
        resolution at `feature_width_px`) with the configured camera, so frames seen from opposite
        directions or at other obliquities look alike; each keypoint is kept in ground metres (where
        the configured camera puts it, for the guided search) and in the frame's own pixels (for the fit).
        """
        cfg = self.config
        ortho = _rectify(image_bgr, view, cfg)
        if ortho is None:
            return
        grey, mask, ground_from_ortho = ortho
        kps, desc = self._orb.detectAndCompute(grey, mask)
        if desc is None or len(kps) < cfg.min_inliers:
            return
        at = np.array([k.pt for k in kps], np.float64)
        ground = at @ ground_from_ortho[:, :2].T + ground_from_ortho[:, 2]
        pts = view.ground_to_pixel(ground)
        w0, h0 = image_bgr.shape[1], image_bgr.shape[0]
        ok = np.isfinite(pts).all(axis=1) & (pts[:, 0] >= 0) & (pts[:, 1] >= 0) & (pts[:, 0] < w0) & (pts[:, 1] < h0)
        if int(ok.sum()) < cfg.min_inliers:
            return
        response = np.array([k.response for k in kps])[ok]
        foot = view.image_footprint(4)
        if len(foot) < 3:
            return
        k = view.intrinsics
        if self.configured_focal_px is None:
            self.configured_focal_px = k.fx_px
        self._ransac_px = 3.0 * w0 / cfg.feature_width_px
        centre = foot.mean(axis=0)
        frame = _Keyframe(
            keypoints=pts[ok],
            ground_m=ground[ok],
            descriptors=np.ascontiguousarray(np.asarray(desc, np.uint8)[ok]),
            strongest=np.argsort(-response)[: cfg.guide_keypoints],
            view=view,
            tree=cKDTree(ground[ok]),
            pose=FramePose(view.camera_east_m, view.camera_north_m, view.height_m, yaw_deg, pitch_deg, roll_deg,
                           k.fx_px, k.cx_px, k.cy_px),
            centre_m=centre,
            radius_m=float(np.sqrt(np.max(np.sum((foot - centre) ** 2, axis=1)))),
        )
        b = len(self._frames)
        self._frames.append(frame)
        for a in self._partners(b):
            self._match(a, b)

    def _partners(self, b: int) -> list[int]:
        """Previous frames along the line, and overlapping earlier frames seen from another heading."""
        cfg = self.config
        fb = self._frames[b]
        near = list(range(max(0, b - cfg.max_lag_frames), b))
        if cfg.cross_pairs_per_frame == 0:
            return near
        scored: list[tuple[float, int]] = []
        for a in range(0, max(0, b - cfg.max_lag_frames)):
            fa = self._frames[a]
            turn = abs((fa.pose.yaw_deg - fb.pose.yaw_deg + 180.0) % 360.0 - 180.0)
            dist = float(np.hypot(*(fa.centre_m - fb.centre_m)))
            if turn > 45.0 and dist < 0.6 * min(fa.radius_m, fb.radius_m):
                scored.append((dist, a))
        scored.sort()
        return near + [a for _, a in scored[: cfg.cross_pairs_per_frame]]

    def _match(self, a: int, b: int) -> None:
        """Match frame a's keypoints to frame b's near the same ground point, then refine.

        Round 1: the strongest keypoints, searched within a wide ground radius (the configured camera may
        be 10-30 % and a few degrees off, which moves ground points by metres), give a first ground
        transform. Round 2: every keypoint, searched within a metre of where that transform puts it.
        A final RANSAC homography between the two frames' pixels keeps the matches on the ground plane.
        """
        cfg = self.config
        fa, fb = self._frames[a], self._frames[b]
        guide = fa.ground_m[fa.strongest]
        nadir = np.array([fb.view.camera_east_m, fb.view.camera_north_m])
        radius = cfg.guide_radius_m + cfg.guide_radius_rel * np.hypot(*(guide - nadir).T)
        qa, qb = _nearest_matches(fa.descriptors[fa.strongest], fb, guide, radius, 24)
        if len(qa) < cfg.min_inliers:
            return
        hmat, _ = cv2.findHomography(guide[qa], fb.ground_m[qb], cv2.RANSAC, 1.5)
        if hmat is None:
            return
        moved = np.asarray(cv2.perspectiveTransform(fa.ground_m.reshape(-1, 1, 2), hmat), np.float64).reshape(-1, 2)
        ia, ib = _nearest_matches(fa.descriptors, fb, moved, np.full(len(moved), 1.0), 4)
        if len(ia) < cfg.min_inliers:
            return
        pa, pb = fa.keypoints[ia], fb.keypoints[ib]
        hmat, mask = cv2.findHomography(pa, pb, cv2.RANSAC, self._ransac_px, maxIters=2000, confidence=0.995)
        if hmat is None or mask is None:
            return
        inl = mask.ravel().astype(bool)
        if int(inl.sum()) < cfg.min_inliers:
            return
        pa, pb = pa[inl], pb[inl]
        if len(pa) > cfg.matches_per_pair:
            keep = self._rng.choice(len(pa), cfg.matches_per_pair, replace=False)
            pa, pb = pa[keep], pb[keep]
        turn = abs((fa.pose.yaw_deg - fb.pose.yaw_deg + 180.0) % 360.0 - 180.0)
        self._pairs.append(FramePair(a, b, pa, pb, turn > 45.0))

    def solve(self, final: bool = False) -> CalibrationResult:
        """Fit the camera on what was collected and decide whether to trust it (see `fit_camera`)."""
        return fit_camera(
            [k.pose for k in self._frames], self._pairs, self.config, final=final,
            configured_focal_px=self.configured_focal_px or math.nan,
        )


def _data(frames: Sequence[FramePose], pairs: Sequence[FramePair], blocks_n: int) -> _Data:
    f = frames
    ia = np.concatenate([np.full(len(p.pts_a), p.a, np.intp) for p in pairs])
    ib = np.concatenate([np.full(len(p.pts_a), p.b, np.intp) for p in pairs])
    order = np.argsort([max(p.a, p.b) for p in pairs], kind="stable")
    blocks = np.empty(len(pairs), np.intp)
    blocks[order] = np.arange(len(pairs)) * blocks_n // max(1, len(pairs))
    block = np.concatenate([np.full(len(p.pts_a), blocks[i], np.intp) for i, p in enumerate(pairs)])
    return _Data(
        east=np.array([x.east_m for x in f]),
        north=np.array([x.north_m for x in f]),
        height=np.array([x.height_m for x in f]),
        rotation=rotations_world_from_camera(
            np.array([x.yaw_deg for x in f]), np.array([x.pitch_deg for x in f]), np.array([x.roll_deg for x in f])
        ),
        fx=np.array([x.fx_px for x in f]),
        cx=np.array([x.cx_px for x in f]),
        cy=np.array([x.cy_px for x in f]),
        ia=ia,
        ib=ib,
        ua=np.concatenate([p.pts_a for p in pairs]),
        ub=np.concatenate([p.pts_b for p in pairs]),
        block=block,
    )


def fit_camera(
    frames: Sequence[FramePose],
    pairs: Sequence[FramePair],
    config: SelfCalibrationConfig,
    *,
    final: bool = False,
    configured_focal_px: float = math.nan,
) -> CalibrationResult:
    """Fit the focal scale and constant camera turns to matched frame pairs; decide whether to trust it.

    Gimbal offsets are fitted only when some pair spans two survey lines (`cross`). `final` is the last
    chance (the flight ended or waited long enough): a result that is not confident then says so and
    the configured camera stays; before that it is reported as pending.
    """
    cfg = config
    n_cross = sum(p.cross for p in pairs)
    if len(pairs) < cfg.min_pairs:
        status = CalibrationStatus.CONFIGURED if final else CalibrationStatus.PENDING
        why = f"{len(pairs)} matched frame pairs, {cfg.min_pairs} needed"
        return CalibrationResult(status, why, configured_focal_px, frames=len(frames), pairs=len(pairs),
                                 cross_pairs=n_cross)
    data = _data(frames, pairs, cfg.jackknife_blocks)
    free = np.array([True, n_cross > 0, n_cross > 0, n_cross > 0])
    theta, residual = _fit(data, np.zeros(_N_PARAMS), free)
    thetas = []
    for k in range(cfg.jackknife_blocks):
        keep = data.block != k
        if keep.all() or not keep.any():
            continue
        sub = _Data(data.east, data.north, data.height, data.rotation, data.fx, data.cx, data.cy,
                    data.ia[keep], data.ib[keep], data.ua[keep], data.ub[keep])
        thetas.append(_fit(sub, theta, free)[0])
    jk = np.asarray(thetas)
    n = len(jk)
    sigma = np.sqrt((n - 1) / n * np.sum((jk - jk.mean(axis=0)) ** 2, axis=0)) if n >= 2 else np.full(
        _N_PARAMS, np.inf)
    fit_angles = bool(free[1])
    estimate = CameraCorrection(
        focal_scale=math.exp(float(theta[0])),
        focal_scale_sigma=max(float(sigma[0]), cfg.min_focal_sigma_pct / 100.0),
        pitch_deg=math.degrees(float(theta[1])),
        roll_deg=math.degrees(float(theta[2])),
        yaw_deg=math.degrees(float(theta[3])),
        tilt_sigma_deg=max(math.degrees(float(max(sigma[1], sigma[2]))), cfg.min_offset_sigma_deg)
        if fit_angles else math.inf,
        yaw_sigma_deg=max(math.degrees(float(sigma[3])), cfg.min_offset_sigma_deg) if fit_angles else math.inf,
    )
    residual_m = ground_residual_m(data, theta)
    problems = _problems(estimate, residual_m, cfg, fit_angles)
    confident = not problems
    if confident:
        status, why = CalibrationStatus.CALIBRATED, "confident"
    else:
        status = CalibrationStatus.CONFIGURED if final else CalibrationStatus.PENDING
        why = "; ".join(problems)
    return CalibrationResult(
        status, why, configured_focal_px, estimate=estimate, frames=len(frames), pairs=len(pairs),
        cross_pairs=n_cross, matches=len(data.ia), residual_px=residual, residual_m=residual_m,
    )


def _problems(e: CameraCorrection, residual_m: float, cfg: SelfCalibrationConfig, angles: bool) -> list[str]:
    out = []
    if not angles:
        out.append("no frame pairs across survey lines: gimbal offsets unobservable")
    if 100 * e.focal_scale_sigma > cfg.max_focal_sigma_pct:
        out.append(f"focal uncertain (±{100 * e.focal_scale_sigma:.1f} %)")
    if abs(100 * (e.focal_scale - 1)) > cfg.max_focal_change_pct:
        out.append(f"focal {100 * (e.focal_scale - 1):+.0f} % from the configured one is implausible")
    if angles and e.tilt_sigma_deg > cfg.max_tilt_sigma_deg:
        out.append(f"pitch/roll offsets uncertain (±{e.tilt_sigma_deg:.2f}°)")
    if angles and e.yaw_sigma_deg > cfg.max_yaw_sigma_deg:
        out.append(f"yaw offset uncertain (±{e.yaw_sigma_deg:.2f}°)")
    if max(abs(e.pitch_deg), abs(e.roll_deg), abs(e.yaw_deg)) > cfg.max_offset_deg:
        out.append("gimbal offsets implausibly large")
    if not residual_m <= cfg.max_residual_m:
        out.append(f"median residual {residual_m:.2f} m on the ground")
    return out


_N_PARAMS = 4
"""log focal scale, then pitch, roll and yaw in radians (see `CameraCorrection`)."""
_X_SCALE = np.array([0.01, 0.005, 0.005, 0.01])


def _transfer(d: _Data, theta: Array, ia: NDArray[np.intp], ib: NDArray[np.intp], ua: Array) -> Array:
    """Pixels `ua` of frames `ia` through the ground plane into frames `ib` under parameters `theta`."""
    scale = math.exp(float(theta[0]))
    pitch, roll, yaw = (math.degrees(float(v)) for v in theta[1:4])
    rot = heading_turn(yaw) @ d.rotation @ mount_turn(pitch, roll)
    f = d.fx * scale
    cam = np.column_stack([(ua[:, 0] - d.cx[ia]) / f[ia], (ua[:, 1] - d.cy[ia]) / f[ia], np.ones(len(ua))])
    ray = np.einsum("mij,mj->mi", rot[ia], cam)
    down = np.maximum(-ray[:, 2], 1e-3)
    t = d.height[ia] / down
    v = np.column_stack(
        [d.east[ia] + t * ray[:, 0] - d.east[ib], d.north[ia] + t * ray[:, 1] - d.north[ib], -d.height[ib]]
    )
    c = np.einsum("mji,mj->mi", rot[ib], v)  # R^T v
    z = np.maximum(c[:, 2], 1e-3)
    out: Array = np.column_stack([f[ib] * c[:, 0] / z + d.cx[ib], f[ib] * c[:, 1] / z + d.cy[ib]])
    return out


def _residuals(theta: Array, d: _Data) -> Array:
    fwd = _transfer(d, theta, d.ia, d.ib, d.ua) - d.ub
    back = _transfer(d, theta, d.ib, d.ia, d.ub) - d.ua
    out: Array = np.concatenate([fwd.ravel(), back.ravel()])
    return out


def _fit(d: _Data, x0: Array, free: NDArray[np.bool_]) -> tuple[Array, float]:
    """Robust least squares of the transfer error over the `free` parameters (the others stay at x0);
    returns the parameters and the median error in pixels."""

    def fun(x: Array) -> Array:
        theta = x0.copy()
        theta[free] = x
        return _residuals(theta, d)

    res = least_squares(fun, x0[free], loss="soft_l1", f_scale=2.0, x_scale=_X_SCALE[free], max_nfev=40)
    theta = x0.copy()
    theta[free] = res.x
    r = _residuals(theta, d).reshape(-1, 2)
    return theta, float(np.median(np.hypot(r[:, 0], r[:, 1])))


def ground_residual_m(d: _Data, theta: Array) -> float:
    """Median transfer error of the matches in metres on the ground (pixels times height over focal)."""
    r = _residuals(theta, d).reshape(2, -1, 2)
    px = np.hypot(r[..., 0], r[..., 1])
    metres = np.concatenate([px[0] * d.height[d.ib] / d.fx[d.ib], px[1] * d.height[d.ia] / d.fx[d.ia]])
    return float(np.median(metres) / math.exp(float(theta[0])))


MAX_HAMMING = 64
"""ORB descriptors (256 bits) further apart than this are not the same point."""


def _nearest_matches(
    desc_a: NDArray[np.uint8], fb: _Keyframe, pred: Array, radius: Array, k: int
) -> tuple[NDArray[np.intp], NDArray[np.intp]]:
    """For each predicted position, the closest descriptor among frame b's `k` nearest keypoints within
    `radius`; kept when it is clearly the best (ratio test on Hamming distance) and mutual.

    Returns the indexes into `desc_a`/`pred` and into frame b's keypoints.
    """
    n_b = len(fb.keypoints)
    kk = min(k, n_b)
    dist, idx = fb.tree.query(pred, k=kk, distance_upper_bound=float(np.max(radius)))
    dist, idx = dist.reshape(len(pred), kk), idx.reshape(len(pred), kk)
    valid = (idx < n_b) & (dist <= radius[:, None])
    safe = np.where(valid, idx, 0)
    words_a = desc_a.view(np.uint64)
    words_b = fb.descriptors.view(np.uint64)
    ham = np.bitwise_count(np.bitwise_xor(words_a[:, None, :], words_b[safe])).sum(axis=2, dtype=np.int32)
    ham = np.where(valid, ham, 10_000)
    order = np.argsort(ham, axis=1)
    best = np.take_along_axis(ham, order[:, :1], axis=1)[:, 0]
    second = np.take_along_axis(ham, order[:, 1:2], axis=1)[:, 0] if kk > 1 else np.full(len(pred), 10_000)
    take = (best <= MAX_HAMMING) & (best < 0.8 * second)
    ia = np.flatnonzero(take)
    ib = np.take_along_axis(safe, order[:, :1], axis=1)[:, 0][take]
    # one keypoint of b answers one keypoint of a: keep the closest descriptor per b keypoint
    first = np.lexsort((best[take], ib))
    unique = np.ones(len(first), bool)
    unique[1:] = ib[first][1:] != ib[first][:-1]
    keep = first[unique]
    return ia[keep], ib[keep]


def calibrate_frames(
    frames: Iterable[Frame],
    camera: DroneCameraSpec,
    geometry: DroneGeometryConfig,
    config: SelfCalibrationConfig | None = None,
) -> CalibrationResult:
    """Calibrate a flight's camera from its frames (with telemetry poses) in one pass; the public entry
    for anything that places drone pixels on the ground (construction sites, mosaics, change maps).

    Frames without a usable pose are skipped. Feed frames at about the analysis rate (1 fps): consecutive
    frames must overlap. Apply the result with `build_view(..., correction=result.correction)`; it is
    None when the flight could not be calibrated with confidence (the configured camera then stands).
    """
    cfg = config or SelfCalibrationConfig()
    cal = SelfCalibrator(cfg)
    origin: tuple[float, float] | None = None
    for frame in frames:
        pose = frame.pose
        if pose is None or unusable_reason(pose, geometry) is not None:
            continue
        origin = origin or (pose.lat_deg, pose.lon_deg)
        view = build_view(pose, frame.width, frame.height, camera, geometry, origin=origin)
        att = resolve_attitude(pose, geometry.uncertainty)
        cal.add(np.asarray(frame.image), view, att.yaw_deg, att.pitch_deg, att.roll_deg)
    return cal.solve(final=True)


def _rectify(
    image_bgr: NDArray[np.uint8], view: DroneView, cfg: SelfCalibrationConfig
) -> tuple[NDArray[np.uint8], NDArray[np.uint8], NDArray[np.float64]] | None:
    """The frame's grey image warped onto the ground plane with the configured camera, north up.

    Returns (grey ortho, mask of the pixels that come from the frame, 2x3 affine ortho pixel -> ENU
    metres), or None when too little ground is in view. The ortho's cell is the frame's nadir ground
    resolution at `feature_width_px`, so near-nadir ground keeps its detail.
    """
    h0, w0 = image_bgr.shape[:2]
    k = view.intrinsics
    cell_m = view.height_m / (k.fx_px * min(1.0, cfg.feature_width_px / w0))
    border = np.array([[x, y] for y in np.linspace(0, h0 - 1, 9) for x in np.linspace(0, w0 - 1, 9)], np.float64)
    keep = view.ray_off_nadir_deg(border) <= cfg.max_feature_ray_deg
    ground = view.pixel_to_ground(border[keep])
    ground = ground[np.isfinite(ground).all(axis=1)]
    if len(ground) < 4:
        return None
    (e0, n0), (e1, n1) = ground.min(axis=0), ground.max(axis=0)
    size = (max(8, min(4096, math.ceil((e1 - e0) / cell_m))), max(8, min(4096, math.ceil((n1 - n0) / cell_m))))
    cell_e, cell_n = (e1 - e0) / size[0], (n1 - n0) / size[1]
    ground_from_ortho = np.array([[cell_e, 0.0, e0 + cell_e / 2], [0.0, -cell_n, n1 - cell_n / 2]])
    corners = np.array([[0.0, 0.0], [size[0] - 1, 0.0], [size[0] - 1, size[1] - 1], [0.0, size[1] - 1]])
    corner_en = corners @ ground_from_ortho[:, :2].T + ground_from_ortho[:, 2]
    image_px = view.ground_to_pixel(corner_en)
    if not np.isfinite(image_px).all():
        return None
    ortho_from_image = cv2.getPerspectiveTransform(image_px.astype(np.float32), corners.astype(np.float32))
    grey = cv2.cvtColor(image_bgr, cv2.COLOR_BGR2GRAY)
    warped = np.asarray(cv2.warpPerspective(grey, ortho_from_image, size, flags=cv2.INTER_LINEAR), np.uint8)
    inside = np.full((h0, w0), 255, np.uint8)
    mask = np.asarray(cv2.warpPerspective(inside, ortho_from_image, size, flags=cv2.INTER_NEAREST), np.uint8)
    mask = np.asarray(cv2.erode(mask, np.ones((15, 15), np.uint8)), np.uint8)  # no corners on the frame's edge
    return warped, mask, ground_from_ortho
