"""Which live tracks are worth a fit this frame: a vectorised pre-check, so the physics test runs on few."""

from __future__ import annotations

from collections.abc import Callable, Container, Mapping

import numpy as np
from numpy.typing import NDArray

from detectors.throw.config import TrajectoryConfig
from detectors.throw.tracker import GravityTracker

_REFIT_GROWTH = 8
"""A rejected candidate is refitted once it has grown by 1/_REFIT_GROWTH of its length (at least 1)."""
_SETTLED_REASONS = frozenset({"incoherent", "accel_too_low", "not_downward", "too_slow", "sideways_path"})
"""Rejections that more positions rarely overturn: such tracks are refitted after 50% growth."""


def worth_judging(
    tr: GravityTracker,
    slots: NDArray[np.int64],
    cfg: TrajectoryConfig,
    open_ids: Container[int],
    rejoin_hopefuls: bool,
    fitted_n: Mapping[int, int],
    down_px: Callable[[NDArray[np.float64]], NDArray[np.float64]],
) -> NDArray[np.bool_]:
    """Vectorised pre-check over live tracks: incident tracks, rejoin hopefuls, and candidates that are
    long enough, have moved down at least half the minimum drop, and grew since their last fit."""
    if len(slots) == 0:
        return np.zeros(0, bool)
    ids = tr.track_id[slots]
    n = tr.n[slots]
    special = np.fromiter((int(i) in open_ids for i in ids), bool, count=len(ids))
    if rejoin_hopefuls:
        special |= n < cfg.min_points
    first = tr.hist[slots, 0, 1:3]
    last = tr.hist[slots, n - 1, 1:3]
    down = down_px(first)
    scale = np.linalg.norm(down, axis=1)
    along_down = np.einsum("ij,ij->i", last - first, down) / np.maximum(scale, 1e-9)
    moved = along_down >= 0.5 * cfg.min_drop_m * scale
    fitted_at = np.fromiter((fitted_n.get(int(i), 0) for i in ids), np.int64, count=len(ids))
    grown = n >= fitted_at + np.maximum(1, fitted_at // _REFIT_GROWTH)
    return np.asarray(special | ((n >= cfg.min_points) & moved & grown), bool)


def refit_at(n: int, reason: str, min_points: int) -> int:
    """Positions a rejected candidate of `n` positions waits for before its next fit: a long track that is
    plainly no fall (drifting, wandering) is looked at again much later."""
    settled = reason in _SETTLED_REASONS and n >= 2 * min_points
    return n + (n // 2 if settled else 0)
