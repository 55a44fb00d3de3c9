"""Gravity-aware blob tracking: link blobs by where a falling object will be, not by box overlap.

An object falling 30 m moves about a metre per frame at 25 fps, far more than its own size, so
overlap trackers break exactly when it matters. Each track predicts its next position from its
velocity plus gravity's pull along the facade's local "down" direction, and a blob is accepted within a
gate that grows with speed and with missed frames, so one lost frame (low contrast, a rejected frame)
does not cut a trajectory. State is a fixed-capacity struct of arrays: no per-blob Python objects.

Blobs flagged as rain streaks (see `weather.py`) never start a track and never feed a young one; an
established track takes a streak only when no other blob lies in its gate (a falling object blurs into
a streak late in its fall). Gates are found with a k-d tree, so a shower of blobs costs n log n, not
tracks x blobs.

Every frame a track lives, it also records the chance that its gate held some blob by accident (the
frame's blob density times the gate's area, as a Poisson probability): in a shower a coasting track finds
a stray blob in a third of its frames or more, and the judge asks that the track was seen more often than
chance alone explains (see `fall_checks.late_seen_beyond_chance_z`). It records too which positions were
blobs of the rain-streak population (`fall_checks.late_streak_share`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray
from scipy.spatial import cKDTree

from detectors.throw.config import TrackingConfig

DownVector = Callable[[NDArray[np.float64]], NDArray[np.float64]]
"""(N,2) pixels -> (N,2) image displacement of one metre of fall at each pixel."""

_ALPHA = 0.75
"""Position gain of the alpha-beta filter (share of the innovation trusted)."""
_BETA = 0.35
"""Velocity gain of the alpha-beta filter."""
_YOUNG = 3
"""Tracks with fewer points than this are served after established ones."""
_MAX_SIZE_RATIO = 2.5
"""Largest size change (either way) between a track's last blob and the next one."""
_SIZE_SLACK_PX = 4.0
"""Sizes are whole processing pixels; this slack keeps 1-2 px objects from failing the ratio."""
_FALL_COAST_MIN_POINTS = 8
"""Positions a falling track needs before it may coast for `falling_max_missed_frames`: with fewer, a long
coast in heavy rain chained unrelated blobs (a car, a person, laundry) into a 'fall' (generator B seed 2002)."""
_STREAK_COST = 1.0
"""Added to a streak's cost (distance / gate, 0-1): any other blob in the gate is preferred."""
_YOUNG_COST = 10.0
"""Added to a young track's cost: established tracks choose first."""


@dataclass(frozen=True, slots=True)
class EndedTrack:
    """A track that finished: its id, positions (N,3) of (t_s, x_px, y_px), sizes (N,) px, why it ended,
    (M,2) rows of (t_s, chance) for the frames it lived (see `GravityTracker.chance_series`), and which of
    its positions were blobs of the rain-streak population (N,)."""

    track_id: int
    points: NDArray[np.float64]
    sizes_px: NDArray[np.float32]
    contrast: NDArray[np.float32]
    why: str
    chance: NDArray[np.float64]
    streak: NDArray[np.bool_]


@dataclass(frozen=True, slots=True)
class FrameBlobs:
    """What the tracker needs of a frame's blobs: centres (N,2) px, sizes (N,) px, contrast, streak flags,
    and the frame's blob density (blobs per px² of the watched view; 0 when not known)."""

    xy: NDArray[np.float64]
    size_px: NDArray[np.float32]
    contrast: NDArray[np.float32]
    streak: NDArray[np.bool_]
    density_per_px2: float = 0.0

    @classmethod
    def plain(cls, xy: NDArray[np.float64], size_px: NDArray[np.float32]) -> FrameBlobs:
        """Blobs with no contrast measured and no streaks (tests, simple callers)."""
        n = len(xy)
        return cls(xy, size_px, np.zeros(n, np.float32), np.zeros(n, bool))


class GravityTracker:
    """Fixed-capacity tracks of one camera; `update()` once per analysed frame, `miss()` on rejected ones."""

    def __init__(self, config: TrackingConfig, max_points: int, down: DownVector, g_m_s2: float) -> None:
        self.config = config
        self.down = down
        self.g_m_s2 = g_m_s2
        self.dropped_births = 0
        self._next_id = 1
        self._alloc(config.max_tracks, max_points)

    def _alloc(self, capacity: int, max_points: int) -> None:
        self.capacity = capacity
        self.max_points = max_points
        self.alive = np.zeros(capacity, bool)
        self.track_id = np.zeros(capacity, np.int64)
        self.n = np.zeros(capacity, np.int32)
        self.missed = np.zeros(capacity, np.int32)
        self.pos = np.zeros((capacity, 2), np.float64)
        self.vel = np.zeros((capacity, 2), np.float64)
        self.last_t = np.zeros(capacity, np.float64)
        self.hist = np.zeros((capacity, max_points, 3), np.float64)
        self.sizes = np.zeros((capacity, max_points), np.float32)
        self.contrast = np.zeros((capacity, max_points), np.float32)
        self.streak = np.zeros((capacity, max_points), bool)
        """Whether each position was a blob of the rain-streak population."""
        self.matched = np.zeros(capacity, bool)
        self.frames = np.zeros(capacity, np.int64)
        """Frames each track has lived after its birth (its chance ring holds the latest `max_points`)."""
        self.chance = np.zeros((capacity, max_points, 2), np.float64)
        """Ring of (t_s, probability that the track's gate held a blob by accident) per frame lived."""

    def reconfigure(self, config: TrackingConfig, max_points: int) -> None:
        """New gates and limits; live tracks are kept (the oldest first if the capacity shrinks)."""
        self.config = config
        if (config.max_tracks, max_points) == (self.capacity, self.max_points):
            return
        old = {
            k: getattr(self, k)
            for k in ("alive", "track_id", "n", "missed", "pos", "vel", "last_t", "hist", "sizes", "contrast", "streak")
        }
        idx = np.flatnonzero(old["alive"])[: config.max_tracks]
        self._alloc(config.max_tracks, max_points)
        m = len(idx)
        keep_pts = min(max_points, old["hist"].shape[1])
        self.alive[:m] = True
        self.track_id[:m] = old["track_id"][idx]
        self.n[:m] = np.minimum(old["n"][idx], keep_pts)
        self.missed[:m] = old["missed"][idx]
        self.pos[:m] = old["pos"][idx]
        self.vel[:m] = old["vel"][idx]
        self.last_t[:m] = old["last_t"][idx]
        self.hist[:m, :keep_pts] = old["hist"][idx, :keep_pts]
        self.sizes[:m, :keep_pts] = old["sizes"][idx, :keep_pts]
        self.contrast[:m, :keep_pts] = old["contrast"][idx, :keep_pts]
        self.streak[:m, :keep_pts] = old["streak"][idx, :keep_pts]
        self.frames[:m] = 0  # the chance ring restarts (its length changed); judged as never crowded

    @property
    def active(self) -> int:
        return int(self.alive.sum())

    def points(self, slot: int) -> NDArray[np.float64]:
        """(n,3) positions of the track in `slot` (a view)."""
        return self.hist[slot, : self.n[slot]]

    def chance_series(self, slot: int) -> NDArray[np.float64]:
        """(M,2) rows of (t_s, chance of an accidental blob in the gate) for the latest frames the track in
        `slot` lived, oldest first (a copy)."""
        k = int(self.frames[slot])
        cap = self.max_points
        if k <= cap:
            return self.chance[slot, :k].copy()
        start = k % cap
        return np.concatenate([self.chance[slot, start:], self.chance[slot, :start]])

    def _gravity_px(self, slots: NDArray[np.int64]) -> NDArray[np.float64]:
        """(k,2) gravity acceleration in px/s² at each track's position."""
        if len(slots) == 0:
            return np.zeros((0, 2), np.float64)
        return self.down(self.pos[slots]) * self.g_m_s2

    def _predict(self, slots: NDArray[np.int64], t_s: float) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
        dt = (t_s - self.last_t[slots])[:, None]
        acc = self._gravity_px(slots)
        young = (self.n[slots] < 2)[:, None]
        pred = np.where(young, self.pos[slots], self.pos[slots] + self.vel[slots] * dt + 0.5 * acc * dt * dt)
        vel = np.where(young, 0.0, self.vel[slots] + acc * dt)
        return pred, vel

    def update(self, t_s: float, blobs: FrameBlobs, frame_wh: tuple[int, int]) -> list[EndedTrack]:
        """Link this frame's blobs to tracks, start tracks for the rest (not streaks), end lost ones."""
        xy = blobs.xy
        slots = np.flatnonzero(self.alive)
        self.matched[:] = False
        pred, vel_pred = self._predict(slots, t_s)
        blob_taken = np.zeros(len(xy), bool)
        gate = self._gates(slots, t_s, vel_pred)
        self._record_chance(slots, t_s, gate, blobs.density_per_px2)
        if len(slots) and len(xy):
            young = self.n[slots] < 2
            ti, bi, cost = self._gated_pairs(slots, pred, gate, blobs)
            order = np.argsort(cost, kind="stable")
            track_taken = np.zeros(len(slots), bool)
            for k in order:  # greedy over gated pairs only (few per frame)
                i, j = ti[k], bi[k]
                if track_taken[i] or blob_taken[j]:
                    continue
                track_taken[i] = blob_taken[j] = True
                self._assign(
                    int(slots[i]),
                    pred[i],
                    vel_pred[i],
                    xy[j],
                    size=float(blobs.size_px[j]),
                    contrast=float(blobs.contrast[j]),
                    streak=bool(blobs.streak[j]),
                    t_s=t_s,
                    young=bool(young[i]),
                )
        ended: list[EndedTrack] = []
        # tracks without a blob coast on their prediction
        for i, s in enumerate(slots):
            if self.matched[s]:
                continue
            self._coast(int(s), pred[i], vel_pred[i], t_s)
        ended += self._end_lost(frame_wh)
        # births for blobs nobody took, rain streaks excepted
        newborn = np.flatnonzero(~blob_taken & ~blobs.streak)
        free = np.flatnonzero(~self.alive)
        k = min(len(newborn), len(free))
        self.dropped_births += len(newborn) - k
        for s, j in zip(free[:k], newborn[:k], strict=True):
            self._birth(int(s), xy[j], float(blobs.size_px[j]), float(blobs.contrast[j]), t_s)
        return ended

    def _gates(self, slots: NDArray[np.int64], t_s: float, vel_pred: NDArray[np.float64]) -> NDArray[np.float64]:
        """Gate radius (px) of each track this frame: wider with speed and with frames missed."""
        cfg = self.config
        if len(slots) == 0:
            return np.zeros(0, np.float64)
        dt = t_s - self.last_t[slots]
        speed = np.linalg.norm(vel_pred, axis=1)
        px_per_m = np.linalg.norm(self.down(self.pos[slots]), axis=1)
        young = self.n[slots] < 2
        missed = self.missed[slots]
        return np.asarray(
            np.where(
                young,
                cfg.gate_px + cfg.max_speed_m_s * px_per_m * dt,
                cfg.gate_px * (1 + 0.5 * missed) + cfg.gate_speed_fraction * speed * dt * (1 + missed),
            ),
            np.float64,
        )

    def _record_chance(
        self, slots: NDArray[np.int64], t_s: float, gate: NDArray[np.float64], density_per_px2: float
    ) -> None:
        """Append this frame's chance of a stray blob in each track's gate (Poisson: 1 - exp(-density·area))."""
        if len(slots) == 0:
            return
        p = -np.expm1(-density_per_px2 * np.pi * gate * gate)
        k = self.frames[slots]
        ring = k % self.max_points
        self.chance[slots, ring, 0] = t_s
        self.chance[slots, ring, 1] = p
        self.frames[slots] = k + 1

    def _gated_pairs(
        self,
        slots: NDArray[np.int64],
        pred: NDArray[np.float64],
        gate: NDArray[np.float64],
        blobs: FrameBlobs,
    ) -> tuple[NDArray[np.int64], NDArray[np.int64], NDArray[np.float64]]:
        """(track index, blob index, cost) of every blob inside a track's gate that the track may take."""
        found = cKDTree(blobs.xy).query_ball_point(pred, gate)
        lengths = np.fromiter((len(c) for c in found), np.int64, count=len(found))
        if lengths.sum() == 0:
            empty = np.zeros(0, np.int64)
            return empty, empty, np.zeros(0)
        ti = np.repeat(np.arange(len(slots)), lengths)
        bi = np.concatenate([np.asarray(c, np.int64) for c in found if len(c)])
        dist = np.linalg.norm(pred[ti] - blobs.xy[bi], axis=1)
        established = self.n[slots] >= _YOUNG
        # one object keeps its size from frame to frame (motion blur grows it slowly): a leaf does not
        # turn into a rain streak; and a streak may only continue an established track
        last_size = self.sizes[slots, np.maximum(self.n[slots] - 1, 0)][ti]
        blob_size = blobs.size_px[bi]
        ok = (blob_size <= _MAX_SIZE_RATIO * last_size + _SIZE_SLACK_PX) & (
            last_size <= _MAX_SIZE_RATIO * blob_size + _SIZE_SLACK_PX
        )
        ok &= ~blobs.streak[bi] | established[ti]
        ti, bi, dist = ti[ok], bi[ok], dist[ok]
        cost = (
            dist / gate[ti]
            + np.where(established[ti], 0.0, _YOUNG_COST)
            + np.where(blobs.streak[bi], _STREAK_COST, 0.0)
        )
        return ti, bi, cost

    def miss(self, t_s: float, frame_wh: tuple[int, int]) -> list[EndedTrack]:
        """A rejected frame: every track coasts one step; tracks lost too long end."""
        slots = np.flatnonzero(self.alive)
        self.matched[:] = False
        pred, vel_pred = self._predict(slots, t_s)
        for i, s in enumerate(slots):
            self._coast(int(s), pred[i], vel_pred[i], t_s)
        return self._end_lost(frame_wh)

    def end_all(self, why: str = "flush") -> list[EndedTrack]:
        """End every live track (shutdown, flush)."""
        return [self._end(int(s), why) for s in np.flatnonzero(self.alive)]

    def _assign(
        self,
        s: int,
        pred: NDArray[np.float64],
        vel_pred: NDArray[np.float64],
        z: NDArray[np.float64],
        *,
        size: float,
        contrast: float,
        streak: bool,
        t_s: float,
        young: bool,
    ) -> None:
        dt = max(t_s - self.last_t[s], 1e-6)
        if young:
            self.vel[s] = (z - self.pos[s]) / dt
            self.pos[s] = z
        else:
            r = z - pred
            self.pos[s] = pred + _ALPHA * r
            self.vel[s] = vel_pred + _BETA * r / dt
        self.last_t[s] = t_s
        self.missed[s] = 0
        self.matched[s] = True
        k = self.n[s]
        if k < self.max_points:
            self.hist[s, k] = (t_s, z[0], z[1])
            self.sizes[s, k] = size
            self.contrast[s, k] = contrast
            self.streak[s, k] = streak
            self.n[s] = k + 1

    def _coast(self, s: int, pred: NDArray[np.float64], vel_pred: NDArray[np.float64], t_s: float) -> None:
        if self.n[s] >= 2:
            self.pos[s] = pred
            self.vel[s] = vel_pred
            self.last_t[s] = t_s
        self.missed[s] += 1

    def _birth(self, s: int, z: NDArray[np.float64], size: float, contrast: float, t_s: float) -> None:
        self.alive[s] = True
        self.track_id[s] = self._next_id
        self._next_id += 1
        self.n[s] = 1
        self.frames[s] = 0
        self.missed[s] = 0
        self.pos[s] = z
        self.vel[s] = 0.0
        self.last_t[s] = t_s
        self.hist[s, 0] = (t_s, z[0], z[1])
        self.sizes[s, 0] = size
        self.contrast[s, 0] = contrast
        self.streak[s, 0] = False  # streaks never start a track
        self.matched[s] = True

    def _end_lost(self, frame_wh: tuple[int, int]) -> list[EndedTrack]:
        w, h = frame_wh
        # a track of one or two blobs has proven nothing: it ends at its first miss (rain fills the table)
        cfg = self.config
        patience = np.where(self.n < _YOUNG, 0, cfg.max_missed_frames)
        # a falling track keeps its gravity prediction while the object crosses a band of its own colour
        long_coast = np.flatnonzero(
            self.alive & (self.n >= _FALL_COAST_MIN_POINTS) & (self.missed > cfg.max_missed_frames)
        )
        if len(long_coast) and cfg.falling_max_missed_frames > cfg.max_missed_frames:
            d = self.down(self.pos[long_coast])
            down_m_s = np.einsum("ij,ij->i", self.vel[long_coast], d) / np.maximum(np.einsum("ij,ij->i", d, d), 1e-9)
            patience[long_coast[down_m_s >= cfg.falling_speed_m_s]] = cfg.falling_max_missed_frames
        lost = self.alive & (self.missed > patience)
        full = self.alive & (self.n >= self.max_points)
        out = (
            self.alive
            & ~self.matched
            & ((self.pos[:, 0] < 0) | (self.pos[:, 0] >= w) | (self.pos[:, 1] < 0) | (self.pos[:, 1] >= h))
        )
        ended = [self._end(int(s), "lost") for s in np.flatnonzero(lost)]
        ended += [self._end(int(s), "left_view") for s in np.flatnonzero(out & ~lost)]
        ended += [self._end(int(s), "max_duration") for s in np.flatnonzero(full & ~lost & ~out)]
        return ended

    def _end(self, s: int, why: str) -> EndedTrack:
        k = int(self.n[s])
        ended = EndedTrack(
            int(self.track_id[s]),
            self.hist[s, :k].copy(),
            self.sizes[s, :k].copy(),
            self.contrast[s, :k].copy(),
            why,
            self.chance_series(s),
            self.streak[s, :k].copy(),
        )
        self.alive[s] = False
        self.matched[s] = False
        self.n[s] = 0
        return ended
