"""`ThrowDetector`: objects thrown or dropped from high floors (高空抛物) on one facade camera.

Per analysed frame: foreground blobs (stabilised, masked, exploded frames rejected), gravity-aware
tracking, and the physics test on tracks long enough to judge. A track that passes starts an incident
(phase `start`) with the floor it came from. A later track that continues the same fall is joined to it
(phase `update`). A short while after its last track ended (landed, left the view, lost) the incident
ends with the final fit. The detector runs no per-frame model; an optional crop classifier may veto birds.
"""

from __future__ import annotations

import logging
import math
import time
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import replace

import numpy as np
from numpy.typing import NDArray
from pydantic import BaseModel

from detectors.event import Event, Phase
from detectors.geometry.facade import FacadeMapper
from detectors.throw.annotate import JudgedTrack, draw_state
from detectors.throw.candidates import refit_at, worth_judging
from detectors.throw.config import ThrowConfig
from detectors.throw.crop_veto import CropClassifier, crop_veto
from detectors.throw.facade_map import FacadeMap, FlatScale
from detectors.throw.fall_checks import judge_fall
from detectors.throw.foreground import ForegroundExtractor
from detectors.throw.free_fall import G_M_S2
from detectors.throw.incident import Incident, locate, throw_event
from detectors.throw.incident_book import IncidentBook, extend_incident
from detectors.throw.stats import ThrowStats
from detectors.throw.track_shape import moving_part
from detectors.throw.tracker import EndedTrack, FrameBlobs, GravityTracker
from detectors.throw.trajectory import TrajectoryFit
from detectors.throw.weather import StreakPopulation
from foundation.errors import ConfigError, GridwatchError
from ingest.frame import Frame
from models.detections import Detections

log = logging.getLogger(__name__)

_RECENT_S = 3.0
"""How long (stream seconds) judged tracks stay drawn by `annotate`."""
_REJOIN_MIN_POINTS = 3
"""Positions a new track needs before it may be joined to an ended fall."""


class ThrowDetector:
    """One throw camera's detector; implements `detectors.base.Detector`."""

    name = "throw"

    def __init__(
        self,
        camera_id: str,
        config: ThrowConfig | None = None,
        *,
        classifier: CropClassifier | None = None,
        class_names: Mapping[int, str] | None = None,
        stage_clock: Callable[[], float] = time.perf_counter,
    ) -> None:
        """`stage_clock` times the stages in `stats.stage_seconds` (benchmarks pass a CPU-time clock)."""
        self._clock = stage_clock
        self.camera_id = camera_id
        self.config = config or ThrowConfig()
        self.stats = ThrowStats()
        self._classifier = classifier
        self._class_names = dict(class_names or {})
        self._extractor = ForegroundExtractor(self.config.foreground, camera_id, self.stats.stage_seconds, stage_clock)
        self._streaks = StreakPopulation(self.config.weather)
        self._frame_wh: tuple[int, int] | None = None
        self._facade: FacadeMap = FlatScale(self.config.fallback_px_per_m, 1080.0)
        self._tracker = GravityTracker(self.config.tracking, self._max_points(), self._down, G_M_S2)
        self._book = IncidentBook()
        self._vetoed: set[int] = set()
        self._absorbed: set[int] = set()
        """Tracks found to follow a fall an incident already follows (a duplicate track)."""
        self._fitted_n: dict[int, int] = {}
        """Track id -> positions at its last fit (refits wait for growth)."""
        self._candidates: set[int] = set()
        self._recent: deque[JudgedTrack] = deque(maxlen=16)
        self._last_reject: str | None = None
        self._last_shift = (0.0, 0.0)
        self._last_t = 0.0
        self._warn_config()

    # ------------------------------------------------------------------ protocol
    @property
    def analysis_fps(self) -> float:
        return self.config.analysis_fps

    @property
    def model_name(self) -> str | None:
        """None: the detector needs no per-frame model (the crop classifier is passed in, not batched)."""
        return None

    def process(self, frame: Frame, detections: Detections | None) -> list[Event]:
        """Consume one frame of this camera at full rate; `detections` is ignored (weights-free)."""
        if frame.camera_id != self.camera_id:
            raise GridwatchError(
                f"throw detector for camera {self.camera_id} was given a frame of camera {frame.camera_id}"
            )
        wh = self._ensure_geometry(frame.width, frame.height)
        t = frame.pts_s
        self._last_t = t
        fg = self._extractor.process(frame.image)
        self.stats.frames += 1
        self.stats.foreground_fraction = fg.foreground_fraction
        self.stats.jitter_px = math.hypot(*fg.shift_px)
        self._last_shift = fg.shift_px
        self._last_reject = fg.rejected
        t0 = self._clock()
        if fg.rejected is not None:
            self.stats.rejected[fg.rejected] += 1
            ended = self._tracker.miss(t, wh)
        else:
            blobs = fg.blobs
            xyxy = blobs.xyxy
            sizes = np.maximum(xyxy[:, 2] - xyxy[:, 0], xyxy[:, 3] - xyxy[:, 1]).astype(np.float32)
            streak = self._streaks.classify(blobs.shape)
            self.stats.streak_blobs += int(streak.sum())
            self.stats.raining = self._streaks.active
            before = self._tracker.dropped_births
            density = len(blobs.xy) / self._extractor.watched_area_px2
            ended = self._tracker.update(t, FrameBlobs(blobs.xy, sizes, blobs.contrast, streak, density), wh)
            if self._tracker.dropped_births > before:
                self.stats.rejected["track_limit"] += self._tracker.dropped_births - before
        self.stats.tracks_active = self._tracker.active
        t1 = self._clock()
        self._add_stage("track", t1 - t0)
        events = [e for tr in ended if (e := self._finish(tr, frame)) is not None]
        events += self._judge_live(frame)
        events += self._close_due(t, frame.captured_at)
        self._add_stage("judge", self._clock() - t1)
        self._count(events)
        return events

    def flush(self, now: float) -> list[Event]:
        """End every open incident (shutdown, camera removed); tracks are closed as they stand."""
        for tr in self._tracker.end_all():
            inc = self._book.open.pop(tr.track_id, None)
            if inc is not None:
                self._book.closing.append(inc)
        events = [self._event(inc, Phase.END, now) for inc in self._book.closing]
        self._book.closing.clear()
        self._candidates.clear()
        self._vetoed.clear()
        self._absorbed.clear()
        self._fitted_n.clear()
        self._count(events)
        return events

    def reconfigure(self, config: BaseModel) -> None:
        """Swap thresholds, masks and calibration; tracks and open incidents are kept."""
        if not isinstance(config, ThrowConfig):
            raise ConfigError(
                f"camera {self.camera_id}: throw detector needs a ThrowConfig, got {type(config).__name__}"
            )
        self.config = config
        self._extractor.reconfigure(config.foreground)
        self._streaks.reconfigure(config.weather)
        self._tracker.reconfigure(config.tracking, self._max_points())
        if self._frame_wh is not None:
            wh = self._frame_wh
            self._frame_wh = None
            self._ensure_geometry(*wh)
        self._warn_config()

    def annotate(self, image: NDArray[np.uint8]) -> NDArray[np.uint8]:
        """Masks, floor lines, live tracks, recent fitted curves with acceleration and verdict, counters."""
        tr = self._tracker
        live = [
            (tr.points(int(s)).copy(), int(tr.track_id[s]) in self._book.open)
            for s in np.flatnonzero(tr.alive)
            if tr.n[s] >= 2
        ]
        recent = [j for j in self._recent if self._last_t - j.at_s <= _RECENT_S]
        return draw_state(
            image,
            config=self.config,
            facade=self._facade if self.config.facade else None,
            live_tracks=live,
            recent=[(j.points, j.fit) for j in recent],
            shift_px=self._last_shift,
            stats=self.stats,
            frame_rejected=self._last_reject,
        )

    # ------------------------------------------------------------------ set-up
    def _max_points(self) -> int:
        return math.ceil(self.config.tracking.max_track_duration_s * self.config.analysis_fps * 1.25) + 1

    def _warn_config(self) -> None:
        if self.config.classifier.model and self._classifier is None:
            log.warning(
                "camera %s: throw classifier model %r is configured but no crop function was given; "
                "birds are judged by motion alone",
                self.camera_id,
                self.config.classifier.model,
            )

    def _ensure_geometry(self, width: int, height: int) -> tuple[int, int]:
        if self._frame_wh != (width, height):
            self._frame_wh = (width, height)
            cal = self.config.facade
            self._facade = (
                FacadeMapper(cal, (width, height)) if cal else FlatScale(self.config.fallback_px_per_m, float(height))
            )
        return width, height

    def _down(self, xy: NDArray[np.float64]) -> NDArray[np.float64]:
        """Image displacement of one metre of fall at each pixel (perspective-aware)."""
        if len(xy) == 0:
            return np.zeros((0, 2), np.float64)
        q = self._facade.to_facade(xy)
        half = np.array([0.0, 0.5])
        return self._facade.to_image(q - half) - self._facade.to_image(q + half)

    def _add_stage(self, stage: str, seconds: float) -> None:
        self.stats.stage_seconds[stage] = self.stats.stage_seconds.get(stage, 0.0) + seconds

    def _count(self, events: list[Event]) -> None:
        for e in events:
            self.stats.events[e.phase.value] += 1

    # ------------------------------------------------------------------ judging
    def _judge_live(self, frame: Frame) -> list[Event]:
        """Extend incidents, rejoin broken falls, and start incidents for tracks that pass the test."""
        tr = self._tracker
        events: list[Event] = []
        live = np.flatnonzero(tr.alive & tr.matched & (tr.n >= _REJOIN_MIN_POINTS))
        book = self._book
        worth = worth_judging(
            tr, live, self.config.trajectory, book.open, bool(book.closing), self._fitted_n, self._down
        )
        for s in live[worth]:
            slot, tid = int(s), int(tr.track_id[s])
            if tid in self._vetoed or tid in self._absorbed:
                continue
            head, pts = moving_part(tr.points(slot))
            inc = self._book.open.get(tid)
            if inc is not None:
                extend_incident(inc, pts, self._facade, self.config)
                continue
            if self._book.closing:
                inc = self._book.rejoin(tid, pts, self._facade, self.config)
                if inc is not None:
                    self.stats.rejoined += 1
                    extend_incident(inc, pts, self._facade, self.config)
                    events.append(self._event(inc, Phase.UPDATE, frame.captured_at))
                    continue
            event = self._judge_candidate(tid, slot, head, pts, frame)
            if event is not None:
                events.append(event)
        return events

    def _judge_candidate(self, tid: int, slot: int, head: int, pts: NDArray[np.float64], frame: Frame) -> Event | None:
        """Fit a candidate track (its moving part, from position `head`); start an incident (or join the
        one it duplicates) when it passes."""
        tr = self._tracker
        if tid not in self._candidates:
            self._candidates.add(tid)
            self.stats.candidates += 1
        n = int(tr.n[slot])
        fit = self._fit(
            pts, tr.sizes[slot, head:n], tr.contrast[slot, head:n], tr.chance_series(slot), tr.streak[slot, head:n]
        )
        if not fit.accepted:
            self._fitted_n[tid] = refit_at(n, fit.reason, self.config.trajectory.min_points)
            return None
        self._fitted_n[tid] = n
        same = self._book.same_fall(fit)
        if same is not None:
            return self._merge(tid, same, pts, frame)
        veto = self._veto(frame, pts[-1, 1:3], float(tr.sizes[slot, tr.n[slot] - 1]))
        if veto is not None:
            self._vetoed.add(tid)
            self._recent.append(JudgedTrack(pts.copy(), replace(fit, accepted=False, reason=veto), frame.pts_s))
            return None
        return self._start(tid, tr.sizes[slot, head:n], fit, pts, frame)

    def _fit(
        self,
        pts: NDArray[np.float64],
        sizes: NDArray[np.float32],
        contrast: NDArray[np.float32],
        chance: NDArray[np.float64],
        streak: NDArray[np.bool_],
    ) -> TrajectoryFit:
        """The physics test plus this camera's checks (`judge_fall`), in this camera's view."""
        return judge_fall(pts, sizes, contrast, self._facade, self.config, self._extractor.watched, chance, streak)

    def _merge(self, tid: int, inc: Incident, pts: NDArray[np.float64], frame: Frame) -> Event | None:
        """A second track of a known fall: absorb it (the fall is followed already) or rejoin it."""
        if inc not in self._book.closing:
            self._absorbed.add(tid)
            self.stats.rejoined += 1
            return None
        self._book.reopen(tid, inc)
        self.stats.rejoined += 1
        extend_incident(inc, pts, self._facade, self.config)
        return self._event(inc, Phase.UPDATE, frame.captured_at)

    def _start(
        self, tid: int, sizes: NDArray[np.float32], fit: TrajectoryFit, pts: NDArray[np.float64], frame: Frame
    ) -> Event:
        self.stats.confirmations += 1
        first_captured = frame.captured_at - (frame.pts_s - float(pts[0, 0]))
        inc = Incident(
            incident_id=f"throw-{self.camera_id}-{round(first_captured * 1000)}",
            first_captured_at=first_captured,
            fit=fit,
            points=pts.copy(),
            snapshot=frame,
            size_px=float(np.median(sizes)),
            prefix=np.zeros((0, 3)),
        )
        self._book.open[tid] = inc
        self._recent.append(JudgedTrack(inc.points, fit, frame.pts_s))
        hit, _ = locate(self._facade, fit)
        log.info(
            "camera %s: throw detected, floor %s, column %s, a=%.1f m/s² over %d points",
            self.camera_id,
            f"{hit.floor}±{hit.floor_uncertainty}" if hit else "unknown",
            hit.column if hit else "unknown",
            fit.accel_m_s2,
            fit.n_points,
        )
        return self._event(inc, Phase.START, frame.captured_at)

    def _veto(self, frame: Frame, xy: NDArray[np.float64], size_px: float) -> str | None:
        """Run the crop classifier if there is one; return 'classifier' when it sees a reject class."""
        return crop_veto(
            self._classifier,
            self._class_names,
            self.config.classifier,
            frame,
            xy,
            size_px,
            self._last_shift,
            self.stats,
            self.camera_id,
        )

    # ------------------------------------------------------------------ endings
    def _finish(self, ended: EndedTrack, frame: Frame) -> Event | None:
        """A track ended: its incident waits for a continuation, or it is judged one last time (a track that
        ended between refits may pass now: a late alert), or we count why it never was one."""
        tid = ended.track_id
        inc = self._book.open.pop(tid, None)
        was_candidate = tid in self._candidates
        self._candidates.discard(tid)
        self._fitted_n.pop(tid, None)
        if tid in self._absorbed:
            self._absorbed.discard(tid)
            return None
        if inc is not None:
            inc.closing_until_s = frame.pts_s + self.config.tracking.rejoin_s
            self._book.closing.append(inc)
            return None
        if tid in self._vetoed:
            self._vetoed.discard(tid)
            self.stats.rejected["classifier"] += 1
            return None
        if not was_candidate:
            return None
        head, pts = moving_part(ended.points)
        sizes, contrast = ended.sizes_px[head:], ended.contrast[head:]
        fit = self._fit(pts, sizes, contrast, ended.chance, ended.streak[head:])
        if fit.accepted and self._book.same_fall(fit) is None:
            veto = self._veto(frame, pts[-1, 1:3], float(sizes[len(pts) - 1]))
            if veto is None:
                event = self._start(tid, sizes, fit, pts, frame)
                late = self._book.open.pop(tid)
                late.closing_until_s = frame.pts_s + self.config.tracking.rejoin_s
                self._book.closing.append(late)
                return event
            fit = replace(fit, accepted=False, reason=veto)
        reason = fit.reason if not fit.accepted else "same_fall"
        self.stats.rejected[reason] += 1
        self._recent.append(JudgedTrack(pts, replace(fit, accepted=False, reason=reason), frame.pts_s))
        log.debug("camera %s: track rejected (%s): %s", self.camera_id, reason, fit.reasons())
        return None

    def _close_due(self, t_s: float, now: float) -> list[Event]:
        due = self._book.close_due(t_s)
        for inc in due:
            self._recent.append(JudgedTrack(inc.points, inc.fit, t_s))
        return [self._event(inc, Phase.END, now) for inc in due]

    def _event(self, inc: Incident, phase: Phase, now: float) -> Event:
        seq = 0 if phase is Phase.START else inc.next_seq()
        return throw_event(
            inc,
            phase,
            seq,
            camera_id=self.camera_id,
            now=now,
            facade=self._facade,
            evidence=self.config.evidence,
        )
