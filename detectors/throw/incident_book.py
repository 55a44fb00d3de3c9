"""A camera's throw incidents while they live: open ones (by track id), closing ones waiting for a track that
continues their fall, and the tests that say a track or a fit belongs to one."""

from __future__ import annotations

import math

import numpy as np
from numpy.typing import NDArray

from detectors.throw.config import ThrowConfig
from detectors.throw.facade_map import FacadeMap
from detectors.throw.incident import Incident
from detectors.throw.trajectory import TrajectoryFit, fit_trajectory

_SAME_FALL_S = 0.5
"""Two fits whose releases are this close in time (and place) describe one fall."""
_SAME_FALL_ALONG_M = 2.5
_SAME_FALL_HEIGHT_M = 4.0


class IncidentBook:
    """Open incidents by the track that follows them, and closing ones (their track ended) kept for a while."""

    def __init__(self) -> None:
        self.open: dict[int, Incident] = {}
        self.closing: list[Incident] = []

    def same_fall(self, fit: TrajectoryFit) -> Incident | None:
        """An open or closing incident this accepted fit describes again (a track broken in rain)."""
        for inc in [*self.open.values(), *self.closing]:
            f = inc.fit
            sigma = math.hypot(fit.release_height_sigma_m, f.release_height_sigma_m)
            if (
                abs(fit.release_t_s - f.release_t_s) <= _SAME_FALL_S
                and abs(fit.release_along_m - f.release_along_m) <= _SAME_FALL_ALONG_M
                and abs(fit.release_height_m - f.release_height_m) <= max(_SAME_FALL_HEIGHT_M, 2 * sigma)
            ):
                return inc
        return None

    def reopen(self, tid: int, inc: Incident) -> None:
        """A closing incident continues on track `tid`: its positions so far become the prefix of the new ones."""
        self.closing.remove(inc)
        inc.prefix = inc.points
        inc.closing_until_s = None
        inc.frozen = False
        self.open[tid] = inc

    def rejoin(self, tid: int, pts: NDArray[np.float64], facade: FacadeMap, config: ThrowConfig) -> Incident | None:
        """Join a new track to an ended fall it continues (both ends on that fall's curve)."""
        for inc in self.closing:
            if pts[0, 0] <= inc.points[-1, 0]:
                continue
            if off_curve(inc.fit, pts[0], facade, config, slack=2.0) or off_curve(
                inc.fit, pts[-1], facade, config, slack=2.0
            ):
                continue
            self.reopen(tid, inc)
            return inc
        return None

    def close_due(self, t_s: float) -> list[Incident]:
        """Remove and return the closing incidents whose wait for a continuation is over at `t_s`."""
        due = [inc for inc in self.closing if inc.closing_until_s is not None and inc.closing_until_s <= t_s]
        for inc in due:
            self.closing.remove(inc)
        return due


def extend_incident(inc: Incident, track_pts: NDArray[np.float64], facade: FacadeMap, config: ThrowConfig) -> None:
    """Refit an incident with its track's new positions, until the object leaves the curve."""
    if inc.frozen:
        return
    pts = np.concatenate([inc.prefix, track_pts]) if len(inc.prefix) else track_pts
    if len(pts) <= len(inc.points):
        return
    if off_curve(inc.fit, pts[-1], facade, config):
        inc.frozen = True  # landed, or the track took another blob: keep the fall as it was
        return
    fit = fit_trajectory(pts, facade, config.trajectory)
    if fit.accepted:
        inc.fit, inc.points = fit, pts.copy()


def off_curve(
    fit: TrajectoryFit, point: NDArray[np.float64], facade: FacadeMap, config: ThrowConfig, slack: float = 1.0
) -> bool:
    """Whether a tracked (t, x, y) position lies off the fall's fitted curve by more than the fit's residual
    allowance (`slack` widens it, and adds tracking gates beyond 1)."""
    t = float(point[0])
    predicted = facade.to_image(np.array([[fit.along_at(t), fit.height_at(t)]], np.float64))[0]
    limit = slack * (2 * config.trajectory.max_residual_px) + (slack - 1) * config.tracking.gate_px
    return float(np.linalg.norm(predicted - point[1:3])) > limit
