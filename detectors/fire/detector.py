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

This module holds the per-frame loop and the incident lifecycle (start, update, end); the gates are in
`gates`, the track bookkeeping in `tracking`, the state in `camera_state`, event building in `event_build`.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping

import numpy as np
from numpy.typing import NDArray
from pydantic import BaseModel

from detectors.base import DetectorStats
from detectors.event import Event, ModelRef, Phase
from detectors.fire.annotate import draw_state
from detectors.fire.assessment import Assessment, assess
from detectors.fire.blobs import box_areas
from detectors.fire.camera_state import CameraState, DetectorSettings
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
from detectors.fire.event_build import build_event
from detectors.fire.gates import allowed_pixels, gate
from detectors.fire.schedule import ActiveHours
from detectors.fire.temporal import growth_rate_per_s
from detectors.fire.tracking import prune, record_model_evidence, record_smoke_change, update_tracks
from detectors.fire.tracks import Incident, Track
from detectors.fire.work_frame import CueResult, WorkFrame
from detectors.geometry.ground import GroundCalibration, GroundMapper
from detectors.zones import RegionMask
from foundation.errors import ConfigError
from ingest.frame import Frame
from models.config import GatingConfig
from models.detections import Detections

log = logging.getLogger(__name__)


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
        self._states: dict[str, CameraState] = {}
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

    def incident_regions(self, camera_id: str) -> NDArray[np.float32]:
        """The recent extent of every open incident of the camera (`detectors.base.IncidentSource`): the
        gate re-looks at these every `gating.incident_relook_s` and holds the last look's boxes in between,
        so the incident's track keeps its links and model evidence (the N-of-M window and lamp tests
        see the held boxes)."""
        st = self._states.get(camera_id)
        if st is None:
            return np.zeros((0, 4), np.float32)
        boxes = [np.asarray(t.extent(), np.float32).reshape(1, 4) for t in st.tracks if t.incident is not None]
        return np.concatenate(boxes) if boxes else np.zeros((0, 4), np.float32)

    def still(self, camera_id: str, captured_at: float) -> None:
        """The gate found this camera's frame at `captured_at` still (`detectors.base.StillAware`): the cues
        rest on it (`FlameCue.hold`; the smoke cue and the smoke-change test keep their previous frame).
        Still means nothing is watched, so there is no candidate or track for them to miss."""
        st = self._states.get(camera_id)
        if st is not None:
            st.still_at = captured_at

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
            st = self._states[frame.camera_id] = CameraState()
        self._last_camera = frame.camera_id
        st.frame_size = (frame.width, frame.height)
        self.stats.frames += 1

        model_cands = Candidates.empty()
        evidence = Candidates.empty()
        if cfg.mode in ("model", "both") and detections is not None:
            model_cands = from_model(detections, s.lookup, cfg.min_model_confidence)
            floor = cfg.fusion.corroboration_min_confidence
            evidence = gate(model_evidence(detections, s.lookup, floor, cfg.min_model_confidence),
                            frame, s, None)
        cue_parts: list[Candidates] = []
        work: WorkFrame | None = None
        still, st.still_at = st.still_at == frame.captured_at, None
        if still and cfg.mode in ("cues", "both"):
            st.flame.hold()
        elif cfg.mode in ("cues", "both"):
            work = WorkFrame.make(frame.image, cfg.flame.work_width_px)
            work = work.with_allowed(allowed_pixels(s, work.size))
            flame = st.flame.step(work, cfg.flame)
            self._count_cue_rejects(flame)
            cue_parts.append(flame.candidates)
            if cfg.smoke.enabled:
                cue_parts.append(st.smoke.step(work, cfg.smoke, cfg.flame.merge_gap_share).candidates)
        cands = gate(merge_sources(model_cands, Candidates.concat(cue_parts)), frame, s, self.stats.rejected)
        self.stats.candidates += len(cands)
        st.last_candidates = cands

        update_tracks(st, frame, cands, work, cfg)
        if work is not None and cfg.mode == "both":
            record_smoke_change(st, frame, work)
        record_model_evidence(st, evidence, cfg)
        events = self._decide(st, frame, s)
        events += self._expire(frame.camera_id, st, frame.captured_at, cfg)
        prune(st, cfg)
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
    def _build(self, config: FireConfig) -> DetectorSettings:
        return DetectorSettings(
            config=config,
            lookup=kind_lookup(self._class_names, config.class_map),
            zones=RegionMask(config.zones),
            masks=RegionMask(config.masks),
            hours=ActiveHours(config.schedule),
        )

    def _count_cue_rejects(self, result: CueResult) -> None:
        for reason, count in result.rejections().items():
            self.stats.rejected[reason] += count

    def _decide(self, st: CameraState, frame: Frame, s: DetectorSettings) -> list[Event]:
        """Start or update incidents on the tracks linked this frame; a confirmed track next to an open
        incident of its kind joins it instead (dropped from the tracks) rather than starting a second one."""
        cfg = s.config
        now = frame.captured_at
        events: list[Event] = []
        absorbed: list[Track] = []
        for track in st.tracks:
            if track.last_seen_at != now or track in absorbed:
                continue
            a = assess(track, cfg, frame.image.shape[0])
            if track.incident is None:
                ev = self._maybe_start(st, frame, s, track, a, absorbed)
            elif a.reject is None:
                ev = self._maybe_update(frame, st, track, a, cfg)
            else:
                ev = None
            if ev is not None:
                events.append(ev)
        if absorbed:
            st.tracks = [t for t in st.tracks if t not in absorbed]
        return events

    def _maybe_start(
        self, st: CameraState, frame: Frame, s: DetectorSettings, track: Track, a: Assessment, absorbed: list[Track]
    ) -> Event | None:
        """The start event of a track with no incident, or None (each refusal counted by reason): not yet
        confirmed, joined to an open incident nearby (appended to `absorbed`), outside the schedule, or
        inside the cooldown of an incident that ended there."""
        now = frame.captured_at
        if not a.ready:
            if a.reject:
                self.stats.rejected[a.reject] += 1
            return None
        host = self._open_incident_near(st, track)
        if host is not None:
            host.last_seen_at = max(host.last_seen_at, track.last_seen_at)
            host.last_seen_pts_s = max(host.last_seen_pts_s, track.last_seen_pts_s)
            absorbed.append(track)
            return None
        if not s.hours.active(now):
            self.stats.rejected["schedule"] += 1
            return None
        if self._cooling(st, track, now, s.config):
            self.stats.rejected["cooldown"] += 1
            return None
        return self._start(frame, st, track, a)

    def _open_incident_near(self, st: CameraState, track: Track) -> Track | None:
        ext = widen(track.extent(), 0.25)
        for other in st.tracks:
            if other is track or other.incident is None or other.kind != track.kind:
                continue
            if overlap_min(ext, widen(other.extent(), 0.25))[0, 0] > 0:
                return other
        return None

    def _cooling(self, st: CameraState, track: Track, now: float, cfg: FireConfig) -> bool:
        st.cooldowns = [c for c in st.cooldowns if now - c[2] < cfg.lifecycle.cooldown_s]
        ext = widen(track.extent(), 0.25)
        return any(k == track.kind and overlap_min(ext, box)[0, 0] > 0 for k, box, _ in st.cooldowns)

    def _start(self, frame: Frame, st: CameraState, track: Track, a: Assessment) -> Event:
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
        self, frame: Frame, st: CameraState, track: Track, a: Assessment, cfg: FireConfig
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

    def _expire(self, camera_id: str, st: CameraState, now: float, cfg: FireConfig) -> list[Event]:
        events: list[Event] = []
        keep: list[Track] = []
        for track in st.tracks:
            if track.incident is not None and now - track.last_seen_at >= cfg.lifecycle.end_after_s:
                events.append(self._end(camera_id, st, track, now, cfg))
            else:
                keep.append(track)
        st.tracks = keep
        return events

    def _end(self, camera_id: str, st: CameraState, track: Track, now: float, cfg: FireConfig) -> Event:
        inc = track.incident
        assert inc is not None
        inc.update_seq += 1
        st.cooldowns.append((track.kind, track.extent(), now))
        log.info("camera %s: %s incident %s ended", camera_id, KIND_NAMES[track.kind], inc.incident_id)
        times = np.array(list(track.times), np.float64)
        growth = growth_rate_per_s(times, box_areas(np.array(list(track.boxes), np.float64).reshape(-1, 4)))
        a = Assessment(True, None, inc.confidence, dict(inc.reasons), growth)
        return self._event(camera_id, st, track, Phase.END, now=now, pts_s=track.last_seen_pts_s, a=a)

    def _event(
        self,
        camera_id: str,
        st: CameraState,
        track: Track,
        phase: Phase,
        *,
        now: float,
        pts_s: float,
        a: Assessment,
    ) -> Event:
        return build_event(
            camera_id, st, track, phase, now=now, pts_s=pts_s, a=a, cfg=self._settings.config,
            ground_mapper=self._ground, model_ref=self._model_ref, stats=self.stats,
        )
