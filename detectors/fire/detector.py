"""`FireDetector`: fire and smoke incidents on fixed cameras from model boxes, weights-free cues, or both.

Per analysed frame: candidates (model boxes of fire/smoke classes, flickering flame-coloured blobs,
optionally grey rising change) -> size/zone/mask gates -> linked to tracks by overlap -> a track whose
candidates appeared in N of the last M analysed frames, and which behaves like a fire (stays put, never
goes dark, flickers without a period, or for smoke rises/grows), starts an incident unless the schedule
or a cooldown forbids it. The incident sends updates when the fire grows or a clearly better view comes,
a heartbeat while it lasts, and ends when nothing was linked to it for `end_after_s`.

Modes. `cues`: the weights-free cues alone. `model`: the model's fire/smoke boxes alone; a fire track
must also pass the lamp tests (off-share and periodicity of the model's per-frame confidence, drift of its
base) once the model has watched it for `fusion.lamp_min_frames`. `both` (with trained weights), per track:

- the model confirms it (N of M frames with a box >= `min_model_confidence`): it may start an incident
  on its own, after the same lamp tests (in `both` also on its flame-colour pixels); a fire track the cues
  never agreed with (no flickering blob joined it in the window) needs a mean model confidence of
  `fusion.model_only_min_confidence` (the model scores lit signs, sunset glow and amber lamps lower
  than flames);
- only the cues see it (flicker, no model box >= `min_model_confidence`): it starts an incident only if
  the model corroborates it, with a box of any fire/smoke class >= `fusion.corroboration_min_confidence`
  touching its widened region in the track's recent history (`fusion.cue_only: corroborated`; the
  alternatives `alert` and `never` were measured worse, see the README);
- smoke comes from the model's smoke class; the smoke cue stays opt-in (`smoke.enabled`). A smoke track
  only the model sees must show its inside changing (`fusion.model_smoke_min_change`, default 2 grey
  levels): the median, over the confirmation window, of the frame-to-frame brightness change inside its
  box above the median change in a ring around it (`smoke_change`). A plume churns and drifts; the still
  band of sky the model calls smoke (street look-alike clips) changes no more than its surroundings. With
  `fusion.model_smoke_must_rise` (off by default) a smoke track only the model sees must also rise or
  grow like a cue smoke track: it removed the street look-alike alerts (the model calls a still band of
  sky smoke) but delayed FURG's first alert past 3 s, see the README. `fusion.model_smoke_top_edge_share`
  (0, off) applies that test only to smoke boxes along the frame's top edge; measured, it did the same.

Use one instance per camera (the lead builds it with that camera's merged config and calibration);
state is still kept per `Frame.camera_id`, so frames of two cameras never mix.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np
from numpy.typing import NDArray
from pydantic import BaseModel

from detectors.base import DetectorStats
from detectors.event import Event, EventKind, GeoPoint, ModelRef, Phase
from detectors.fire.annotate import draw_state
from detectors.fire.assessment import Assessment, assess
from detectors.fire.blobs import box_areas, box_sums, integral
from detectors.fire.candidates import (
    KIND_FIRE,
    KIND_NAMES,
    KIND_SMOKE,
    Candidates,
    from_model,
    kind_lookup,
    merge_sources,
    model_evidence,
    overlap_min,
    widen,
)
from detectors.fire.config import FireConfig
from detectors.fire.cues import CueResult, FlameCue, WorkFrame
from detectors.fire.events import FireDetails
from detectors.fire.schedule import ActiveHours
from detectors.fire.smoke_change import change_above_surround, luma_change
from detectors.fire.smoke_cue import SmokeCue
from detectors.fire.temporal import growth_rate_per_s
from detectors.fire.tracks import Incident, Track, link
from detectors.geometry.ground import GroundCalibration, GroundMapper
from detectors.zones import RegionMask
from foundation.errors import ConfigError
from ingest.frame import Frame
from models.config import GatingConfig
from models.detections import Detections

log = logging.getLogger(__name__)

_EVENT_KIND = {KIND_FIRE: EventKind.FIRE, KIND_SMOKE: EventKind.SMOKE}


@dataclass(frozen=True)
class _Settings:
    """Everything derived from one config, swapped as a single reference on hot reload."""

    config: FireConfig
    lookup: NDArray[np.int8]
    zones: RegionMask
    masks: RegionMask
    hours: ActiveHours
    mask_tables: dict[tuple[int, int], NDArray[np.float64]] = field(default_factory=dict)

    def mask_table(self, width: int, height: int) -> NDArray[np.float64]:
        """Summed-area table of the static masks at a frame size (built once per size)."""
        table = self.mask_tables.get((width, height))
        if table is None:
            table = self.mask_tables[(width, height)] = integral(self.masks.raster(width, height))
        return table


@dataclass
class _CameraState:
    flame: FlameCue = field(default_factory=FlameCue)
    smoke: SmokeCue = field(default_factory=SmokeCue)
    tracks: list[Track] = field(default_factory=list)
    next_track_id: int = 1
    cooldowns: list[tuple[int, NDArray[np.float64], float]] = field(default_factory=list)
    last_candidates: Candidates = field(default_factory=Candidates.empty)
    frame_size: tuple[int, int] = (0, 0)
    previous_luma: NDArray[np.int16] | None = None


class FireDetector:
    """The `fire` detector (implements `detectors.base.Detector`)."""

    name = "fire"

    def __init__(
        self,
        config: FireConfig,
        *,
        class_names: Mapping[int, str] | None = None,
        ground: GroundCalibration | GroundMapper | None = None,
        model_ref: ModelRef | None = None,
        camera_id: str = "",
    ) -> None:
        """`class_names`: the configured model's id->name map (its Ultralytics metadata); `ground`: the
        camera's ground calibration, for event positions; `model_ref`: reported on model-backed events."""
        self.stats = DetectorStats()
        self._class_names = dict(class_names or {})
        self._model_ref = model_ref
        where = f"camera {camera_id} ground calibration" if camera_id else "ground calibration"
        self._ground = GroundMapper(ground, where) if isinstance(ground, GroundCalibration) else ground
        self._states: dict[str, _CameraState] = {}
        self._last_camera: str | None = None
        self._settings = self._build(config)

    # ----------------------------------------------------------------- Detector protocol
    @property
    def config(self) -> FireConfig:
        return self._settings.config

    @property
    def analysis_fps(self) -> float:
        return self._settings.config.analysis_fps

    @property
    def model_name(self) -> str | None:
        cfg = self._settings.config
        return cfg.model if cfg.mode in ("model", "both") else None

    @property
    def gating(self) -> GatingConfig:
        return self._settings.config.gating

    def inference_regions(self, camera_id: str) -> NDArray[np.float32]:
        """Where the model must look on the next frame (`detectors.base.RegionSource`): the candidates of
        the last frame and the recent extent of every track, open incidents included, in source pixels."""
        st = self._states.get(camera_id)
        if st is None:
            return np.zeros((0, 4), np.float32)
        boxes = [st.last_candidates.xyxy.astype(np.float32).reshape(-1, 4)]
        boxes += [np.asarray(t.extent(), np.float32).reshape(1, 4) for t in st.tracks]
        return np.concatenate(boxes)

    def reconfigure(self, config: BaseModel) -> None:
        """Swap thresholds, zones, masks and schedule; tracks, open incidents and cooldowns are kept."""
        if not isinstance(config, FireConfig):
            raise ConfigError(f"fire detector: reconfigure needs a FireConfig, got {type(config).__name__}")
        self._settings = self._build(config)

    def process(self, frame: Frame, detections: Detections | None) -> list[Event]:
        s = self._settings
        cfg = s.config
        st = self._states.get(frame.camera_id)
        if st is None:
            st = self._states[frame.camera_id] = _CameraState()
        self._last_camera = frame.camera_id
        st.frame_size = (frame.width, frame.height)
        self.stats.frames += 1

        model_cands = Candidates.empty()
        evidence = Candidates.empty()
        if cfg.mode in ("model", "both") and detections is not None:
            model_cands = from_model(detections, s.lookup, cfg.min_model_confidence)
            floor = cfg.fusion.corroboration_min_confidence
            evidence = self._gate(model_evidence(detections, s.lookup, floor, cfg.min_model_confidence),
                                  frame, s, count=False)
        cue_parts: list[Candidates] = []
        work: WorkFrame | None = None
        if cfg.mode in ("cues", "both"):
            work = WorkFrame.make(frame.image, cfg.flame.work_width_px)
            work = work.with_allowed(self._allowed(s, work.size))
            flame = st.flame.step(work, cfg.flame)
            self._count_cue_rejects(flame)
            cue_parts.append(flame.candidates)
            if cfg.smoke.enabled:
                cue_parts.append(st.smoke.step(work, cfg.smoke, cfg.flame.merge_gap_share).candidates)
        cands = self._gate(merge_sources(model_cands, Candidates.concat(cue_parts)), frame, s)
        self.stats.candidates += len(cands)
        st.last_candidates = cands

        self._update_tracks(st, frame, cands, work, cfg)
        if work is not None and cfg.mode == "both":
            self._record_smoke_change(st, frame, work)
        self._record_model_evidence(st, evidence, cfg)
        events = self._decide(st, frame, s)
        events += self._expire(frame.camera_id, st, frame.captured_at, cfg)
        self._prune(st, cfg)
        return events

    def flush(self, now: float) -> list[Event]:
        """End every open incident on every camera and forget all state (shutdown or reassignment)."""
        events: list[Event] = []
        cfg = self._settings.config
        for camera_id, st in self._states.items():
            for track in st.tracks:
                if track.incident is not None:
                    events.append(self._end(camera_id, st, track, now, cfg))
        self._states.clear()
        return events

    def annotate(self, image: NDArray[np.uint8]) -> NDArray[np.uint8]:
        """Boxes, N-of-M counters and reasons of the last processed camera, on a BGR copy."""
        st = self._states.get(self._last_camera) if self._last_camera is not None else None
        cfg = self._settings.config
        if st is None:
            return image.copy()
        windows = {KIND_FIRE: cfg.confirm.window_frames, KIND_SMOKE: cfg.confirm.smoke_window_frames}
        return draw_state(image, st.last_candidates, st.tracks, windows, st.frame_size)

    # ----------------------------------------------------------------- stages
    def _build(self, config: FireConfig) -> _Settings:
        return _Settings(
            config=config,
            lookup=kind_lookup(self._class_names, config.class_map),
            zones=RegionMask(config.zones),
            masks=RegionMask(config.masks),
            hours=ActiveHours(config.schedule),
        )

    @staticmethod
    def _allowed(s: _Settings, size: tuple[int, int]) -> NDArray[np.bool_]:
        w, h = size
        allowed = s.zones.raster(w, h).copy() if s.zones else np.ones((h, w), bool)
        if s.masks:
            allowed &= ~s.masks.raster(w, h)
        return allowed

    def _count_cue_rejects(self, result: CueResult) -> None:
        for reason, count in result.rejections().items():
            self.stats.rejected[reason] += count

    def _gate(self, cands: Candidates, frame: Frame, s: _Settings, *, count: bool = True) -> Candidates:
        """Drop candidates that are too small, too wide, outside the zones or mostly inside a mask
        (`count`: add the drops to the reject counters; off for the model's corroborating evidence)."""
        if len(cands) == 0:
            return cands
        cfg = s.config
        w, h = frame.width, frame.height
        area = box_areas(cands.xyxy)
        width = cands.xyxy[:, 2] - cands.xyxy[:, 0]
        keep = np.ones((len(cands),), bool)
        checks: list[tuple[str, NDArray[np.bool_]]] = [
            ("too_small", area < cfg.area.min_box_area_share * w * h),
            ("too_wide", width > cfg.area.max_box_width_share * w),
        ]
        if s.zones:
            xy = cands.xyxy
            centre = np.column_stack([(xy[:, 0] + xy[:, 2]) / 2, (xy[:, 1] + xy[:, 3]) / 2])
            checks.append(("outside_zone", ~s.zones.covers_points(centre, w, h)))
        if s.masks:
            inside = box_sums(s.mask_table(w, h), np.round(cands.xyxy).astype(np.int64))
            masked = inside > cfg.mask_max_overlap * np.maximum(area, 1.0)
            checks.append(("masked", masked))
        for reason, bad in checks:
            newly = bad & keep
            if count and newly.any():
                self.stats.rejected[reason] += int(newly.sum())
            keep &= ~bad
        return cands[keep]

    def _update_tracks(
        self, st: _CameraState, frame: Frame, cands: Candidates, work: WorkFrame | None, cfg: FireConfig
    ) -> None:
        windows = {KIND_FIRE: cfg.confirm.window_frames, KIND_SMOKE: cfg.confirm.smoke_window_frames}
        for track in st.tracks:
            track.resize_window(windows[track.kind])
        pairs, unmatched = link(st.tracks, cands, cfg.confirm.link_min_overlap, cfg.confirm.link_margin_share)
        hit = set()
        for ti, ci in pairs:
            st.tracks[ti].record_hit(frame, cands, ci)
            hit.add(ti)
        for ti, track in enumerate(st.tracks):
            if ti not in hit:
                track.record_miss()
        if pairs and unmatched.any():
            # A second blob of a fire already linked this frame joins that hit instead of a new track.
            matched = [st.tracks[ti] for ti, _ in pairs]
            regions = widen(np.array([t.extent() for t in matched]), cfg.confirm.link_margin_share)
            kinds = np.array([t.kind for t in matched], np.int8)
            idx = np.flatnonzero(unmatched)
            ov = overlap_min(regions, cands.xyxy[idx])
            ov = np.where(kinds[:, None] == cands.kind[idx][None, :], ov, 0.0)
            best = ov.argmax(axis=0)
            for j, ci in enumerate(idx.tolist()):
                if ov[best[j], j] >= max(cfg.confirm.link_min_overlap, 1e-9):
                    matched[best[j]].absorb(cands, ci)
                    unmatched[ci] = False
        for ci in np.flatnonzero(unmatched).tolist():
            kind = int(cands.kind[ci])
            track = Track(
                track_id=st.next_track_id,
                kind=kind,
                box=cands.xyxy[ci].astype(np.float64),
                first_seen_at=frame.captured_at,
                first_seen_pts_s=frame.pts_s,
                last_seen_at=frame.captured_at,
                last_seen_pts_s=frame.pts_s,
                window_frames=windows[kind],
            )
            st.next_track_id += 1
            track.record_hit(frame, cands, ci)
            st.tracks.append(track)
        if work is not None and st.tracks:
            # Measured over each track's recent extent, a region that does not jump with the flames.
            boxes_work = np.round(np.array([t.extent() for t in st.tracks]) / work.scale).astype(np.int64)
            colour = st.flame.colour_pixels(boxes_work)
            for track, px in zip(st.tracks, colour.tolist(), strict=True):
                track.colour_series.append(px)

    @staticmethod
    def _record_smoke_change(st: _CameraState, frame: Frame, work: WorkFrame) -> None:
        """For each smoke track linked this frame: how much its box's brightness changed since the last
        analysed frame, above the change around it (`smoke_change`; for `fusion.model_smoke_min_change`)."""
        luma = np.ascontiguousarray(work.ycc[:, :, 0])  # not a view: the whole work frame is not kept
        change = luma_change(luma, st.previous_luma)
        st.previous_luma = luma
        if change is None:
            return
        for track in st.tracks:
            if track.kind == KIND_SMOKE and track.last_seen_at == frame.captured_at and track.inner_change:
                box_work = np.round(track.box / work.scale).astype(np.int64)
                track.inner_change[-1] = change_above_surround(change, box_work)

    @staticmethod
    def _record_model_evidence(st: _CameraState, evidence: Candidates, cfg: FireConfig) -> None:
        """Per track: the model's best confidence of its kind over its region (for the lamp tests on model
        tracks) and whether any model fire/smoke box touched its widened region (corroboration)."""
        if not st.tracks:
            return
        if len(evidence) == 0:
            for track in st.tracks:
                track.record_model_evidence(0.0, False)
            return
        extents = np.array([t.extent() for t in st.tracks], np.float64)
        kinds = np.array([t.kind for t in st.tracks], np.int8)
        c = cfg.confirm
        own = overlap_min(widen(extents, c.link_margin_share), evidence.xyxy) >= max(c.link_min_overlap, 1e-9)
        own &= kinds[:, None] == evidence.kind[None, :]
        conf = np.where(own, evidence.model_conf[None, :].astype(np.float64), 0.0).max(axis=1)
        wide = widen(extents, cfg.fusion.corroboration_margin_share)
        touching: NDArray[np.bool_] = np.any(overlap_min(wide, evidence.xyxy) > 0, axis=1)
        near = [bool(v) for v in touching]
        for track, value, touched in zip(st.tracks, conf.tolist(), near, strict=True):
            track.record_model_evidence(float(value), bool(touched))

    def _decide(self, st: _CameraState, frame: Frame, s: _Settings) -> list[Event]:
        cfg = s.config
        now = frame.captured_at
        events: list[Event] = []
        absorbed: list[Track] = []
        for track in st.tracks:
            if track.last_seen_at != now or track in absorbed:
                continue
            a = assess(track, cfg, frame.image.shape[0])
            if track.incident is None:
                if not a.ready:
                    if a.reject:
                        self.stats.rejected[a.reject] += 1
                    continue
                host = self._open_incident_near(st, track)
                if host is not None:
                    host.last_seen_at = max(host.last_seen_at, track.last_seen_at)
                    host.last_seen_pts_s = max(host.last_seen_pts_s, track.last_seen_pts_s)
                    absorbed.append(track)
                    continue
                if not s.hours.active(now):
                    self.stats.rejected["schedule"] += 1
                    continue
                if self._cooling(st, track, now, cfg):
                    self.stats.rejected["cooldown"] += 1
                    continue
                events.append(self._start(frame, st, track, a))
            elif a.reject is None:
                ev = self._maybe_update(frame, st, track, a, cfg)
                if ev is not None:
                    events.append(ev)
        if absorbed:
            st.tracks = [t for t in st.tracks if t not in absorbed]
        return events

    def _open_incident_near(self, st: _CameraState, track: Track) -> Track | None:
        ext = widen(track.extent(), 0.25)
        for other in st.tracks:
            if other is track or other.incident is None or other.kind != track.kind:
                continue
            if overlap_min(ext, widen(other.extent(), 0.25))[0, 0] > 0:
                return other
        return None

    def _cooling(self, st: _CameraState, track: Track, now: float, cfg: FireConfig) -> bool:
        st.cooldowns = [c for c in st.cooldowns if now - c[2] < cfg.lifecycle.cooldown_s]
        ext = widen(track.extent(), 0.25)
        return any(k == track.kind and overlap_min(ext, box)[0, 0] > 0 for k, box, _ in st.cooldowns)

    def _start(self, frame: Frame, st: _CameraState, track: Track, a: Assessment) -> Event:
        kind = KIND_NAMES[track.kind]
        area = float(box_areas(track.extent()[None])[0])
        inc = Incident(
            incident_id=f"{kind}-{frame.camera_id}-{round(track.first_seen_at * 1000)}",
            started_at=track.first_seen_at,
            start_pts_s=track.first_seen_pts_s,
            last_event_at=frame.captured_at,
            last_event_area=area,
            last_event_confidence=a.confidence,
            confidence=a.confidence,
            start_area=area,
            reasons=dict(a.reasons),
        )
        track.incident = inc
        self.stats.confirmations += 1
        log.info(
            "camera %s: %s incident %s started (confidence %.2f, %s/%s frames, source %s)",
            frame.camera_id,
            kind,
            inc.incident_id,
            a.confidence,
            a.reasons["frames_confirmed"],
            a.reasons["window_frames"],
            a.reasons["source"],
        )
        return self._event(frame.camera_id, st, track, Phase.START, now=frame.captured_at, pts_s=frame.pts_s, a=a)

    def _maybe_update(
        self, frame: Frame, st: _CameraState, track: Track, a: Assessment, cfg: FireConfig
    ) -> Event | None:
        inc = track.incident
        if inc is None:
            return None
        life = cfg.lifecycle
        now = frame.captured_at
        inc.confidence = max(inc.confidence, a.confidence)
        inc.reasons = dict(a.reasons)
        since = now - inc.last_event_at
        if since < life.update_min_interval_s:
            return None
        area = float(box_areas(track.extent()[None])[0])
        grew = area >= inc.last_event_area * life.update_growth_factor
        better = a.confidence >= inc.last_event_confidence + life.update_min_confidence_gain
        heartbeat = life.heartbeat_s > 0 and since >= life.heartbeat_s
        if not (grew or better or heartbeat):
            return None
        inc.update_seq += 1
        inc.last_event_at = now
        inc.last_event_area = area
        inc.last_event_confidence = a.confidence
        return self._event(frame.camera_id, st, track, Phase.UPDATE, now=now, pts_s=frame.pts_s, a=a)

    def _expire(self, camera_id: str, st: _CameraState, now: float, cfg: FireConfig) -> list[Event]:
        events: list[Event] = []
        keep: list[Track] = []
        for track in st.tracks:
            if track.incident is not None and now - track.last_seen_at >= cfg.lifecycle.end_after_s:
                events.append(self._end(camera_id, st, track, now, cfg))
            else:
                keep.append(track)
        st.tracks = keep
        return events

    def _end(self, camera_id: str, st: _CameraState, track: Track, now: float, cfg: FireConfig) -> Event:
        inc = track.incident
        assert inc is not None
        inc.update_seq += 1
        st.cooldowns.append((track.kind, track.extent(), now))
        log.info("camera %s: %s incident %s ended", camera_id, KIND_NAMES[track.kind], inc.incident_id)
        times = np.array(list(track.times), np.float64)
        growth = growth_rate_per_s(times, box_areas(np.array(list(track.boxes), np.float64).reshape(-1, 4)))
        a = Assessment(True, None, inc.confidence, dict(inc.reasons), growth)
        return self._event(camera_id, st, track, Phase.END, now=now, pts_s=track.last_seen_pts_s, a=a)

    def _prune(self, st: _CameraState, cfg: FireConfig) -> None:
        st.tracks = [t for t in st.tracks if t.incident is not None or len(t.hits) < t.window_frames or any(t.hits)]
        extra = len(st.tracks) - cfg.confirm.max_tracks
        if extra > 0:
            idle = sorted((t for t in st.tracks if t.incident is None), key=lambda t: t.hit_count)[:extra]
            st.tracks = [t for t in st.tracks if t not in idle]

    # ----------------------------------------------------------------- event building
    def _event(
        self,
        camera_id: str,
        st: _CameraState,
        track: Track,
        phase: Phase,
        *,
        now: float,
        pts_s: float,
        a: Assessment,
    ) -> Event:
        inc = track.incident
        assert inc is not None
        cfg = self._settings.config
        box = track.extent()
        x1, y1, x2, y2 = (float(v) for v in box)
        fw, fh = st.frame_size
        area_px = max(0.0, (x2 - x1) * (y2 - y1))
        ground: GeoPoint | None = None
        area_m2: float | None = None
        if self._ground is not None and fw > 0:
            base_x, base_y = (x1 + x2) / 2, y2
            ground = self._ground.locate(
                base_x, base_y, (fw, fh), pixel_sigma_px=max(1.0, cfg.ground_pixel_sigma_share * (y2 - y1))
            )
            mpp = self._ground.metres_per_px(base_x, base_y, (fw, fh))
            if ground is not None and math.isfinite(mpp):
                area_m2 = round(area_px * mpp * mpp, 3)
        model_hits, _, _ = track.source_counts()
        details = FireDetails(
            area_px=round(area_px, 1),
            area_share=round(area_px / max(1, fw * fh), 6),
            growth_rate_per_s=round(a.growth_rate_per_s, 4),
            growth_ratio=round(area_px / max(inc.start_area, 1.0), 3),
            frames_seen=track.frames_seen,
            track_id=track.track_id,
            area_m2_est=area_m2,
        )
        self.stats.events[_EVENT_KIND[track.kind].value] += 1
        life = cfg.lifecycle
        return Event(
            kind=_EVENT_KIND[track.kind],
            source_id=camera_id,
            incident_id=inc.incident_id,
            phase=phase,
            update_seq=inc.update_seq,
            started_at=inc.started_at,
            last_seen_at=track.last_seen_at,
            trigger_captured_at=now,
            confidence=round(max(inc.confidence, a.confidence) if phase is Phase.END else a.confidence, 4),
            box_xyxy=(x1, y1, x2, y2),
            ground=ground,
            area_m2=area_m2,
            snapshot=track.best_frame,
            evidence_window_s=(max(0.0, inc.start_pts_s - life.pre_roll_s), pts_s + life.post_roll_s),
            model=self._model_ref if model_hits else None,
            reasons=dict(a.reasons),
            details=details,
        )
