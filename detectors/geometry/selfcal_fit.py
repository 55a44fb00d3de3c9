"""The self-calibration fit: focal scale and constant camera turns from matched frame pairs, and its verdict.

The parameters minimise the transfer error of every match through the ground plane (scipy `least_squares`,
soft L1); a delete-one-block jackknife over time blocks states their uncertainty; `fit_camera` trusts the
estimate only within the configured limits. See `detectors.geometry.selfcal` for the whole method.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from enum import StrEnum

import numpy as np
from numpy.typing import NDArray
from scipy.optimize import least_squares

from detectors.geometry.drone_camera import CameraCorrection, heading_turn, mount_turn, rotations_world_from_camera
from detectors.geometry.selfcal_config import SelfCalibrationConfig

Array = NDArray[np.float64]


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
