"""The physics test: is this track a free fall, and from which height was it released?

Track positions are read on the facade (metres along, metres up) through the calibration, so
perspective does not bend the curve; then along(t) is fitted with a line and height(t) with a
parabola. A thrown object's fitted acceleration is close to g (less with drag); a leaf or sheet of paper
falls at a slow constant speed, rain streaks at a fast constant speed, birds and insects fly level or
wander away from any parabola. The release point is where the parabola's vertical speed was zero (the
apex): exact for a dropped object, and off by v0²/2g for one thrown up or down, which the floor's
uncertainty includes. Every verdict carries its numbers, so operators see why.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from detectors.throw.config import TrajectoryConfig
from detectors.throw.facade_map import FacadeMap
from detectors.throw.free_fall import G_M_S2, head_at_g
from detectors.throw.least_squares import predict_sigma, solve_least_squares
from detectors.throw.speed_steps import steps_explain_better

_MEASUREMENT_NOISE_PX = 0.7
"""Centroid noise floor (source px) used for the fit's covariance when a track fits better than that."""
_STEP_NOISE_FLOOR_PX = 0.3
"""Centroid noise (source px) below which the step test does not look for structure."""


@dataclass(frozen=True, slots=True)
class TrajectoryFit:
    """The fitted curves and the judgement. Times are stream seconds; `t0_s` is the first point's time.

    along(t) = along_coef[0] + along_coef[1]·(t - t0); height(t) = height_coef · [1, (t - t0), (t - t0)²].
    """

    accepted: bool
    reason: str
    n_points: int
    t0_s: float
    duration_s: float
    drop_m: float
    accel_m_s2: float
    accel_ratio: float
    expected_accel_px_s2: float
    accel_px_s2: float
    residual_px: float
    horizontal_speed_m_s: float
    end_speed_m_s: float
    accel_sigma_m_s2: float
    """Standard error of the fitted acceleration: how well the track pins down "speed grows as g·t"."""
    sideways_ratio: float
    """Distance travelled along the facade over the drop, while tracked: a fall is vertical-dominant."""
    unseen_s: float
    """Seconds from the estimated release to the first tracked point."""
    release_t_s: float
    release_window_s: tuple[float, float]
    """Stream seconds the release lies in: from the whole parabola's apex (drag read as a < g: early) to
    the first positions' apex at g (drag only slows a fall: the latest), each widened by the time the fall
    needs to move one sigma of the release height."""
    release_along_m: float
    release_height_m: float
    release_height_sigma_m: float
    release_along_sigma_m: float
    landing_t_s: float
    px_per_m: float
    along_coef: tuple[float, float]
    height_coef: tuple[float, float, float]
    confidence: float

    def reasons(self) -> dict[str, float | int | str | bool]:
        """The numbers behind the verdict, rounded for people."""
        return {
            "verdict": self.reason,
            "accepted": self.accepted,
            "n_points": self.n_points,
            "duration_s": round(self.duration_s, 3),
            "drop_m": round(self.drop_m, 2),
            "accel_m_s2": round(self.accel_m_s2, 2),
            "accel_ratio": round(self.accel_ratio, 3),
            "accel_px_s2": round(self.accel_px_s2, 1),
            "expected_accel_px_s2": round(self.expected_accel_px_s2, 1),
            "residual_px": round(self.residual_px, 2),
            "accel_sigma_m_s2": round(self.accel_sigma_m_s2, 2),
            "sideways_ratio": round(self.sideways_ratio, 2),
            "unseen_s": round(self.unseen_s, 2),
            "horizontal_speed_m_s": round(self.horizontal_speed_m_s, 2),
            "end_speed_m_s": round(self.end_speed_m_s, 2),
            "release_height_m": round(self.release_height_m, 2),
            "release_height_sigma_m": round(self.release_height_sigma_m, 2),
        }

    def height_at(self, t_s: NDArray[np.float64] | float) -> NDArray[np.float64]:
        dt = np.asarray(t_s, np.float64) - self.t0_s
        c0, c1, c2 = self.height_coef
        return np.asarray(c0 + c1 * dt + c2 * dt * dt, np.float64)

    def along_at(self, t_s: NDArray[np.float64] | float) -> NDArray[np.float64]:
        dt = np.asarray(t_s, np.float64) - self.t0_s
        return np.asarray(self.along_coef[0] + self.along_coef[1] * dt, np.float64)

    def curve_px(self, facade: FacadeMap, t_from_s: float, t_to_s: float, n: int = 40) -> NDArray[np.float64]:
        """(n,2) image points of the fitted curve between two times, for drawing."""
        ts = np.linspace(t_from_s, t_to_s, n)
        return facade.to_image(np.stack([self.along_at(ts), self.height_at(ts)], 1))


@dataclass(frozen=True, slots=True)
class _Measures:
    """What the kept positions say about the curve, before any judgement: the verdict and the fit read these."""

    n: int
    tk: NDArray[np.float64]
    heights_m: NDArray[np.float64]
    duration: float
    accel: float
    ratio: float
    h_first: float
    drop: float
    end_speed: float
    horizontal: float
    residual_px: float
    noise_m: float
    accel_sigma: float
    sideways: float
    px_per_m: float


@dataclass(frozen=True, slots=True)
class _Release:
    """Where the release lies in time (from t0) and height, and how far the track had to be run back."""

    t_rel: float
    h_rel: float
    t_early: float
    backtrack_excess: float


def fit_trajectory(
    points: NDArray[np.float64],
    facade: FacadeMap,
    cfg: TrajectoryConfig,
    g_m_s2: float = G_M_S2,
) -> TrajectoryFit:
    """Fit and judge a track given as (N,3) rows of (t_s, x_px, y_px); N >= 3."""
    t_abs = points[:, 0]
    xy = points[:, 1:3]
    q = facade.to_facade(xy)
    scale = facade.px_per_m_vertical(xy)
    px_per_m = float(np.median(scale))
    t0 = float(t_abs[0])
    t = t_abs - t0
    a_along = np.stack([np.ones_like(t), t], 1)
    a_height = np.stack([np.ones_like(t), t, t * t], 1)
    keep, along_c, height_c, resid_m = _fit_dropping_outliers(a_along, a_height, q, px_per_m)
    c0, c1, c2 = (float(v) for v in height_c)
    m = _measure(t[keep], q[keep, 1], resid_m[keep], a_height[keep], (c0, c1, c2), float(along_c[1]), px_per_m, g_m_s2)
    reason = _verdict(m, cfg, g_m_s2)
    accepted = reason == "accepted"
    rel = _release(m, c1, c2, cfg, g_m_s2)
    t_rel = rel.t_rel
    along_rel = float(along_c[0] + along_c[1] * t_rel)

    # uncertainty: the fit's covariance at the release time, the unknown speed at release, over-extrapolation
    h_sigma_fit = predict_sigma(a_height[keep], np.array([1.0, t_rel, t_rel * t_rel]), m.noise_m)
    al_sigma = predict_sigma(a_along[keep], np.array([1.0, t_rel]), m.noise_m)
    v_term = cfg.release_speed_sigma_m_s**2 / (2 * g_m_s2)
    excess_term = 0.5 * g_m_s2 * rel.backtrack_excess**2
    h_sigma = math.sqrt(h_sigma_fit**2 + v_term**2 + excess_term**2)
    # the time the parabola needs to move one sigma in height, on either side of the two estimates
    spread_s = min(2.0, math.sqrt(2 * max(h_sigma, 0.05) / g_m_s2))

    landing = _landing_time(c0, c1, c2, float(m.tk[-1]))
    return TrajectoryFit(
        accepted=accepted,
        reason=reason,
        n_points=m.n,
        t0_s=t0,
        duration_s=m.duration,
        drop_m=m.drop,
        accel_m_s2=m.accel,
        accel_ratio=m.ratio,
        expected_accel_px_s2=g_m_s2 * px_per_m,
        accel_px_s2=m.accel * px_per_m,
        residual_px=m.residual_px,
        horizontal_speed_m_s=m.horizontal,
        end_speed_m_s=m.end_speed,
        accel_sigma_m_s2=m.accel_sigma,
        sideways_ratio=m.sideways,
        unseen_s=float(m.tk[0]) - t_rel,
        release_t_s=t0 + t_rel,
        release_window_s=(t0 + rel.t_early - spread_s, t0 + t_rel + spread_s),
        release_along_m=along_rel,
        release_height_m=float(rel.h_rel),
        release_height_sigma_m=h_sigma,
        release_along_sigma_m=al_sigma,
        landing_t_s=t0 + landing,
        px_per_m=px_per_m,
        along_coef=(float(along_c[0]), float(along_c[1])),
        height_coef=(c0, c1, c2),
        confidence=_confidence(m, cfg) if accepted else 0.0,
    )


def _fit_dropping_outliers(
    a_along: NDArray[np.float64], a_height: NDArray[np.float64], q: NDArray[np.float64], px_per_m: float
) -> tuple[NDArray[np.bool_], NDArray[np.float64], NDArray[np.float64], NDArray[np.float64]]:
    """Fit, then refit once without far outliers: a blob taken from a neighbour for a frame should not sink a
    real fall. Returns the kept rows, the along and height coefficients and every row's residual (m)."""
    keep = np.ones(len(q), bool)
    along_c, height_c, resid_m = _fit(a_along, a_height, q, keep)
    if keep.sum() >= 8:
        mad = float(np.median(np.abs(resid_m))) * 1.4826 + 0.5 / px_per_m
        bad = np.abs(resid_m) > 4 * mad
        if 0 < bad.sum() <= max(1, len(q) // 10):
            keep = ~bad
            along_c, height_c, resid_m = _fit(a_along, a_height, q, keep)
    return keep, along_c, height_c, resid_m


def _measure(
    tk: NDArray[np.float64],
    heights_m: NDArray[np.float64],
    resid_m: NDArray[np.float64],
    a_height: NDArray[np.float64],
    height_c: tuple[float, float, float],
    along_speed_m_s: float,
    px_per_m: float,
    g_m_s2: float,
) -> _Measures:
    """Read the fitted curves over the kept positions: drop, acceleration, speeds, coherence, sideways run."""
    n = len(tk)
    c0, c1, c2 = height_c
    duration = float(tk[-1] - tk[0]) if n else 0.0
    accel = -2.0 * c2
    h_first = c0 + c1 * tk[0] + c2 * tk[0] ** 2
    h_last = c0 + c1 * tk[-1] + c2 * tk[-1] ** 2
    drop = float(h_first - h_last)
    horizontal = abs(along_speed_m_s)
    noise_m = max(float(np.std(resid_m)) if n > 3 else 0.0, _MEASUREMENT_NOISE_PX / px_per_m)
    return _Measures(
        n=n,
        tk=tk,
        heights_m=heights_m,
        duration=duration,
        accel=accel,
        ratio=accel / g_m_s2,
        h_first=h_first,
        drop=drop,
        end_speed=-(c1 + 2 * c2 * float(tk[-1])),
        horizontal=horizontal,
        residual_px=float(np.sqrt(np.mean(resid_m**2))) * px_per_m if n else math.inf,
        noise_m=noise_m,
        accel_sigma=2.0 * predict_sigma(a_height, np.array([0.0, 0.0, 1.0]), noise_m),
        sideways=horizontal * duration / drop if drop > 0 else math.inf,
        px_per_m=px_per_m,
    )


def _verdict(m: _Measures, cfg: TrajectoryConfig, g_m_s2: float) -> str:
    """The first test the track fails, in the order operators read them ("accepted" when none): each
    reason names one cause, so a rejection tells what to tune."""
    checks: tuple[tuple[str, bool], ...] = (
        ("too_few_points", m.n < cfg.min_points),
        ("too_short", m.duration < cfg.min_duration_s),
        ("not_downward", m.drop <= 0 or m.end_speed <= 0),
        ("drop_too_small", m.drop < cfg.min_drop_m),
    )
    for reason, failed in checks:
        if failed:
            return reason
    if _lower_share(m.heights_m, m.h_first, m.drop) < cfg.min_observed_drop_share:
        return "drop_not_observed"
    later: tuple[tuple[str, bool], ...] = (
        ("incoherent", m.residual_px > cfg.max_residual_px),
        ("accel_too_low", m.ratio < cfg.accel_min_ratio),
        ("accel_too_high", m.ratio > cfg.accel_max_ratio),
        ("accel_uncertain", m.accel_sigma > cfg.max_accel_sigma_ratio * g_m_s2),
        ("too_fast_sideways", m.horizontal > cfg.max_horizontal_speed_m_s),
        ("sideways_path", m.sideways > cfg.max_sideways_ratio),
        ("too_slow", m.end_speed < cfg.min_end_speed_m_s),
    )
    for reason, failed in later:
        if failed:
            return reason
    if steps_explain_better(m.tk, m.heights_m, _STEP_NOISE_FLOOR_PX / m.px_per_m):
        return "speed_steps"
    return "accepted"


def _release(m: _Measures, c1: float, c2: float, cfg: TrajectoryConfig, g_m_s2: float) -> _Release:
    """Where the vertical speed was zero, read from the first positions as a fall at g (only the start's
    height and speed free), and the earliest release the whole parabola allows.

    The whole track's parabola has drag in it on a long fall (a < g, the curve flattened late), and its apex
    lands early: on generator B's development seeds 2011 and 2013 it put the release 0.25 s before the truth
    for falls first seen 0.4-0.5 s after their release, outside the evidence's window; the head read at g was
    within 0.12 s. Drag only slows a fall, so the head read at g gives the latest release the track allows;
    the whole parabola, when it reads a < g, gives an earlier one, and the release window spans both.
    """
    tk = m.tk
    h_head, v_first = head_at_g(tk, m.heights_m, g_m_s2)
    a_use = g_m_s2
    t_apex = float(tk[0]) + v_first / a_use  # v(t) = v_first - g (t - t_first)
    backtrack_excess = 0.0
    if t_apex > float(tk[0]):
        t_rel = float(tk[0])  # seen rising: released at or just before the first point
    elif float(tk[0]) - t_apex > cfg.max_backtrack_s:
        t_rel = float(tk[0]) - cfg.max_backtrack_s
        backtrack_excess = (float(tk[0]) - t_apex) - cfg.max_backtrack_s
    else:
        t_rel = t_apex
    h_rel = h_head + v_first * (t_rel - float(tk[0])) - 0.5 * a_use * (t_rel - float(tk[0])) ** 2
    t_early = t_rel
    if cfg.accel_min_ratio <= m.ratio < 1.0 and t_rel < float(tk[0]):
        apex_fit = float(tk[0]) + (c1 + 2 * c2 * float(tk[0])) / m.accel
        t_early = min(t_rel, max(apex_fit, float(tk[0]) - cfg.max_backtrack_s))
    return _Release(t_rel=t_rel, h_rel=h_rel, t_early=t_early, backtrack_excess=backtrack_excess)


def _confidence(m: _Measures, cfg: TrajectoryConfig) -> float:
    """How sure an accepted fall is, from 0.5 to 1: closeness to g weighs most, then coherence and support."""
    tol = (1 - cfg.accel_min_ratio) if m.ratio < 1 else (cfg.accel_max_ratio - 1)
    physics = max(0.0, 1 - abs(m.ratio - 1) / tol)
    coherence = max(0.0, 1 - m.residual_px / cfg.max_residual_px)
    support = min(1.0, m.n / (3 * cfg.min_points))
    return 0.5 + 0.5 * (0.5 * physics + 0.25 * coherence + 0.25 * support)


def _lower_share(heights_m: NDArray[np.float64], h_first_m: float, drop_m: float) -> float:
    """Share of positions in the lower two thirds of the drop: a drop seen, not inferred after a gap."""
    if len(heights_m) == 0 or drop_m <= 0:
        return 0.0
    return float(np.mean(heights_m <= h_first_m - drop_m / 3))


def _fit(
    a_along: NDArray[np.float64],
    a_height: NDArray[np.float64],
    q: NDArray[np.float64],
    keep: NDArray[np.bool_],
) -> tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.float64]]:
    """Least squares on the kept rows; residual distances (metres) for every row."""
    along_c = solve_least_squares(a_along[keep], q[keep, 0])
    height_c = solve_least_squares(a_height[keep], q[keep, 1])
    resid = np.hypot(a_along @ along_c - q[:, 0], a_height @ height_c - q[:, 1])
    return along_c, height_c, resid


def _landing_time(c0: float, c1: float, c2: float, t_last: float) -> float:
    """Time (from t0) the parabola reaches height 0, at least t_last; t_last when it never does."""
    if c2 >= 0:
        return t_last
    disc = c1 * c1 - 4 * c2 * c0
    if disc < 0:
        return t_last
    root = (-c1 - math.sqrt(disc)) / (2 * c2)
    return max(t_last, min(root, t_last + 10.0))
