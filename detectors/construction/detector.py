"""`ConstructionDetector`: illegal construction on drone footage, one alert per site, none for known ones.

Per analysed frame with a telemetry pose: gate the frame (no pose, too low, too oblique), collect
candidates (the construction model's boxes, through an injected tiled predictor or the shared batcher,
and the weights-free blue-roof cue), project each candidate's outline to the ground (or to the roof of
a registered building under it), merge the footprints into sites, and decide each confirmed site
against the registry of known/permitted structures of the same kind. A new site yields one `start`
event when it is confirmed and one `end` event when the flight ends; known sites yield none and are
listed in the flight summary.

The camera is calibrated from the flight itself (`detectors.geometry.selfcal`): while the calibration
collects frames, sites are opened with the configured camera but not decided; once it is confident (or
has given up, or the flight ends) every sighting is placed again with the calibrated camera, sites that
turn out to be one structure are merged, and decisions begin. Positions, registry matches and accuracy
radii therefore all use the calibrated camera.

State is kept per source id (the flight id), so one detector serves several flights at once.
"""

from __future__ import annotations

import logging
import math
from collections import Counter, OrderedDict
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

import cv2
import numpy as np
from numpy.typing import NDArray
from pydantic import BaseModel

from detectors.base import DetectorStats
from detectors.construction.candidates import (
    SOURCE_CUE,
    Candidates,
    GroundCandidates,
    from_cues,
    from_detections,
    project,
)
from detectors.construction.config import ConstructionConfig
from detectors.construction.cue import find_blue_roofs
from detectors.construction.events import ConstructionDetails
from detectors.construction.local_registry import LocalRegistry
from detectors.construction.polygons import mask_outlines, quad_widths_m, rasterise_union
from detectors.construction.registry import Registry
from detectors.construction.registry_entries import StructureKind
from detectors.construction.sites import Observation, Site, SiteBook, SiteStatus
from detectors.construction.summary import FlightSummary, SiteReport
from detectors.construction.survey.run import SurveyRecorder
from detectors.event import Event, EventKind, GeoMethod, GeoPoint, ModelRef, Phase
from detectors.geometry.drone import CameraCorrection, DroneView, build_view, resolve_attitude, unusable_reason
from detectors.geometry.geodesy import enu_to_wgs84, wgs84_to_enu
from detectors.geometry.selfcal import CalibrationResult, CalibrationStatus, SelfCalibrator
from foundation.errors import ConfigError
from ingest.frame import Frame, Pose
from models.detections import Detections

log = logging.getLogger(__name__)

Infer = Callable[[NDArray[np.uint8]], Detections]
"""Tiled inference over a full frame: BGR image -> Detections in that image's pixels."""

KEEP_SUMMARIES = 16


@dataclass
class FlightState:
    """Everything the detector remembers about one flight (source id)."""

    flight_id: str
    book: SiteBook
    origin: tuple[float, float] | None = None
    registry: LocalRegistry | None = None
    frames_analysed: int = 0
    frames_used: int = 0
    skipped: Counter[str] = field(default_factory=Counter)
    track_lonlat: list[tuple[float, float]] = field(default_factory=list)
    footprints_m: list[NDArray[np.float64]] = field(default_factory=list)
    first_at: float | None = None
    last_at: float | None = None
    last_view: DroneView | None = None
    last_candidates: GroundCandidates | None = None
    last_skip: str | None = None
    last_seq: int = -1
    calibrator: SelfCalibrator | None = None
    calibration: CalibrationResult | None = None
    ready_to_release: bool = False
    """The calibration was just decided: every waiting site is decided on the next frame or at the end."""

    @property
    def correction(self) -> CameraCorrection | None:
        return self.calibration.correction if self.calibration is not None else None

    @property
    def calibrating(self) -> bool:
        """Sites wait while the camera calibration is still collecting frames."""
        return self.calibration is not None and self.calibration.status == CalibrationStatus.PENDING


class ConstructionDetector:
    """Drone-footage construction detector (see module docstring). Implements `detectors.base.Detector`."""

    name = "construction"

    def __init__(
        self,
        config: ConstructionConfig | None = None,
        *,
        infer: Infer | None = None,
        class_names: Mapping[int, str] | None = None,
        registry: Registry | None = None,
        model_ref: ModelRef | None = None,
        survey: SurveyRecorder | None = None,
    ) -> None:
        """`infer` is the models package's tiled predictor for `config.model` (None: cue only, or the
        service passes the model's detections to `process`); `class_names` maps its class ids to names,
        which `config.model_classes` maps to structure kinds. `registry` overrides `config.registry.path`.
        `survey` (change between surveys, built by the composition root with its store when
        `config.survey.enabled`) sees every analysed frame and alerts on new structures at flight end.
        """
        self.config = config or ConstructionConfig()
        self.stats = DetectorStats()
        self._infer = infer
        self._class_names = dict(class_names or {})
        self._model_ref = model_ref
        self._registry_override = registry
        self._registry = registry if registry is not None else self._load_registry(self.config)
        self._class_kinds = self._map_classes(self.config)
        self._flights: dict[str, FlightState] = {}
        self._last_flight: str | None = None
        self.summaries: OrderedDict[str, FlightSummary] = OrderedDict()
        """Summaries of the last flights ended (by `end_flight` or `flush`), newest last."""
        self.survey = survey
        """Change between surveys (detectors/construction/survey); its results per flight are in
        `survey.results`."""
        if self.config.model and self.config.tiled and infer is None:
            log.warning(
                "construction: model '%s' is configured for tiled inference but no tiled predictor "
                "was given; only the blue-roof cue runs",
                self.config.model,
            )

    # -- Detector protocol ---------------------------------------------------------------------------

    @property
    def analysis_fps(self) -> float:
        return self.config.analysis_fps

    @property
    def model_name(self) -> str | None:
        """The model the service should run per frame: none when tiled inference is injected instead."""
        return None if self.config.tiled else self.config.model

    def process(self, frame: Frame, detections: Detections | None) -> list[Event]:
        cfg = self.config
        flight = self._flight(frame.camera_id)
        pose = self._record_frame(flight, frame)
        if pose is None:
            return []
        if flight.origin is None:
            self._start_flight(flight, pose)
        self._calibrate(flight, frame)
        view = build_view(
            pose, frame.width, frame.height, cfg.camera, cfg.geometry, origin=flight.origin,
            correction=flight.correction,
        )
        flight.frames_used += 1
        flight.last_view = view
        footprint = view.image_footprint()
        if len(footprint) >= 3:
            flight.footprints_m.append(footprint)
        cands = self._steep_only(self._candidates(frame, detections), view)
        ground, beyond = project(
            cands,
            view,
            flight.registry if cfg.registry.use_heights else None,
            scaffold_reach_m=cfg.registry.scaffold_reach_m,
            top_height_m=cfg.top_height_m,
        )
        if beyond:
            self.stats.rejected["beyond_ray_limit"] += beyond
        ground = self._size_gate(ground)
        flight.last_candidates = ground
        self.stats.candidates += len(ground)
        events: list[Event] = []
        for site in flight.book.update(frame, ground, view):
            events += self._decide(flight, site, frame.captured_at)
        if flight.ready_to_release:
            flight.ready_to_release = False
            for site in flight.book.live:
                events += self._decide(flight, site, frame.captured_at)
        return events

    def _record_frame(self, flight: FlightState, frame: Frame) -> Pose | None:
        """Count the frame, feed the survey and the flight's track; returns its pose, or None when the pose
        is unusable (the reason counted), so `process` goes on only with frames it can place on the ground.
        The survey sees every frame: it keeps its own account of which ones it can use."""
        flight.frames_analysed += 1
        flight.last_seq = frame.seq
        flight.first_at = frame.captured_at if flight.first_at is None else flight.first_at
        flight.last_at = frame.captured_at
        self.stats.frames += 1
        if self.survey is not None:
            self.survey.add(frame)
        pose = frame.pose
        if pose is not None and unusable_reason(pose, self.config.geometry) != "no_gps":
            flight.track_lonlat.append((pose.lon_deg, pose.lat_deg))
        reason = unusable_reason(pose, self.config.geometry)
        flight.last_skip = reason
        if reason is not None:
            flight.skipped[reason] += 1
            self.stats.rejected[reason] += 1
            flight.last_view, flight.last_candidates = None, None
            return None
        assert pose is not None
        return pose

    def _start_flight(self, flight: FlightState, pose: Pose) -> None:
        """Anchor the flight's local plane at its first usable pose and take the registry around it once,
        so every later frame compares against the same local registry."""
        flight.origin = (pose.lat_deg, pose.lon_deg)
        flight.registry = self._registry.local(pose.lat_deg, pose.lon_deg, self.config.registry.search_radius_m)
        log.info(
            "construction: flight %s started at %.6f,%.6f with %d registered structure(s) nearby",
            flight.flight_id,
            pose.lat_deg,
            pose.lon_deg,
            len(flight.registry),
        )

    def _steep_only(self, cands: Candidates, view: DroneView) -> Candidates:
        """Drop candidates seen too far off nadir (counted as too_oblique): their ground outline is too
        uncertain to size or to compare with the registry."""
        if len(cands):
            steep = view.ray_off_nadir_deg(cands.quads_px.mean(axis=1)) <= self.config.max_candidate_off_nadir_deg
            if not steep.all():
                self.stats.rejected["too_oblique"] += int((~steep).sum())
                cands = cands.select(steep)
        return cands

    # -- calibration -----------------------------------------------------------------------------------

    def _calibrate(self, flight: FlightState, frame: Frame) -> None:
        """Feed the flight's calibration while it is pending; apply its result when it is decided."""
        cfg = self.config
        cal_cfg = cfg.calibration
        if flight.calibration is None:
            if not cal_cfg.enabled:
                flight.calibration = self._configured_result(flight, frame, "self-calibration is off")
                return
            flight.calibrator = SelfCalibrator(cal_cfg)
            flight.calibration = CalibrationResult(CalibrationStatus.PENDING, "collecting frames", math.nan)
        if not flight.calibrating or flight.calibrator is None:
            return
        pose = frame.pose
        assert pose is not None and flight.origin is not None
        view0 = build_view(pose, frame.width, frame.height, cfg.camera, cfg.geometry, origin=flight.origin)
        att = resolve_attitude(pose, cfg.geometry.uncertainty)
        flight.calibrator.add(np.asarray(frame.image), view0, att.yaw_deg, att.pitch_deg, att.roll_deg)
        n = flight.frames_used + 1
        first = cal_cfg.first_attempt_frames
        due = n >= first and (n - first) % cal_cfg.attempt_every_frames == 0
        if due or n >= cal_cfg.give_up_frames:
            self._settle(flight, flight.calibrator.solve(final=n >= cal_cfg.give_up_frames))

    def _configured_result(self, flight: FlightState, frame: Frame, why: str) -> CalibrationResult:
        pose = frame.pose
        focal = math.nan
        if pose is not None and flight.origin is not None:
            cfg = self.config
            focal = build_view(pose, frame.width, frame.height, cfg.camera, cfg.geometry).intrinsics.fx_px
        return CalibrationResult(CalibrationStatus.CONFIGURED, why, focal)

    def _settle(self, flight: FlightState, result: CalibrationResult) -> None:
        """Keep a calibration result; once it is decided, place every sighting again and release sites."""
        flight.calibration = result
        if result.status == CalibrationStatus.PENDING:
            log.debug("construction: flight %s calibration still pending: %s", flight.flight_id, result.reason)
            return
        flight.calibrator = None  # its keypoints are no longer needed
        log.info("construction: flight %s %s", flight.flight_id, result.describe())
        if result.correction is not None:
            merged = flight.book.reproject(lambda ob: self._place(flight, ob))
            if merged:
                self.stats.rejected["merged_after_calibration"] += merged
        flight.ready_to_release = True

    def _place(self, flight: FlightState, ob: Observation) -> tuple[GroundCandidates, DroneView] | None:
        """One sighting projected with the flight's current camera (None when it no longer projects)."""
        cfg = self.config
        if ob.pose is None or flight.origin is None:
            return None
        view = build_view(
            ob.pose, ob.width_px, ob.height_px, cfg.camera, cfg.geometry, origin=flight.origin,
            correction=flight.correction,
        )
        ground, _ = project(
            ob.pixel,
            view,
            flight.registry if cfg.registry.use_heights else None,
            scaffold_reach_m=cfg.registry.scaffold_reach_m,
            top_height_m=cfg.top_height_m,
        )
        return (ground, view) if len(ground) == 1 else None

    def flush(self, now: float) -> list[Event]:
        """End every open flight: `end` events for its alerted sites; summaries go to `self.summaries`."""
        events: list[Event] = []
        for flight_id in list(self._flights):
            ended, _ = self.end_flight(flight_id, now)
            events += ended
        return events

    def reconfigure(self, config: BaseModel) -> None:
        """Swap thresholds and the registry; open flights keep their sites (the new registry applies
        to sites not decided yet). An invalid registry file raises ConfigError and changes nothing."""
        if not isinstance(config, ConstructionConfig):
            raise ConfigError(f"construction: reconfigure needs a ConstructionConfig, got {type(config).__name__}")
        registry = self._registry
        if self._registry_override is None and config.registry.path != self.config.registry.path:
            registry = self._load_registry(config)
        class_kinds = self._map_classes(config)
        self.config = config
        self._class_kinds = class_kinds
        if registry is not self._registry:
            self._registry = registry
            for flight in self._flights.values():
                if flight.origin is not None:
                    flight.registry = registry.local(*flight.origin, config.registry.search_radius_m)
        for flight in self._flights.values():
            flight.book.config = config.sites
        if self.survey is not None:
            self.survey.reconfigure(config.survey, config.camera, config.geometry, registry,
                                    config.registry.known_min_overlap, config.registry.tolerance_m)

    def annotate(self, image: NDArray[np.uint8]) -> NDArray[np.uint8]:
        """The last analysed flight's state on a copy: candidates, site footprints and ids, frame status."""
        flight = self._flights.get(self._last_flight or "")
        if flight is None:
            return image.copy()
        return self.draw(image, flight, flight.last_view, flight.last_candidates)

    # -- flights ---------------------------------------------------------------------------------------

    def end_flight(self, flight_id: str, now: float | None = None) -> tuple[list[Event], FlightSummary]:
        """Close a flight: alert its remaining new sites, `end` every alerted site, build its summary."""
        flight = self._flights.pop(flight_id, None)
        if flight is None:
            raise KeyError(f"construction: no open flight '{flight_id}'")
        if self._last_flight == flight_id:
            self._last_flight = None
        events: list[Event] = []
        at = now if now is not None else (flight.last_at or 0.0)
        if flight.calibrating and flight.calibrator is not None:
            self._settle(flight, flight.calibrator.solve(final=True))
        for site in flight.book.live:
            events += self._decide(flight, site, at)
            if site.incident_id is not None and not site.ended:
                site.ended = True
                site.update_seq += 1
                events.append(self._event(flight, site, Phase.END, at))
        if self.survey is not None:
            surveyed = self.survey.finish(flight_id, at)
            if surveyed is not None:
                events += surveyed.events
        summary = self._summary(flight)
        self.summaries[flight_id] = summary
        while len(self.summaries) > KEEP_SUMMARIES:
            self.summaries.popitem(last=False)
        log.info(
            "construction: flight %s ended: %d new site(s), %d known, %d frame(s) skipped",
            flight_id,
            len(summary.new_sites),
            len(summary.known_sites),
            sum(summary.skipped.values()),
        )
        return events, summary

    @property
    def registry(self) -> Registry:
        """The registry of known and permitted structures in use."""
        return self._registry

    def open_flights(self) -> list[str]:
        return list(self._flights)

    def empty_summary(self, flight_id: str) -> FlightSummary:
        """The summary of a flight that delivered no frames (nothing analysed, nothing found)."""
        return self._summary(FlightState(flight_id=flight_id, book=SiteBook(self.config.sites, self._min_area_m2)))

    # -- internals -------------------------------------------------------------------------------------

    @staticmethod
    def _load_registry(config: ConstructionConfig) -> Registry:
        return Registry.load(config.registry.path) if config.registry.path else Registry.empty()

    def _min_area_m2(self, kind: StructureKind) -> float:
        """The smallest candidate of a kind that passes the size gate (from either source)."""
        cfg = self.config
        return min(cfg.min_area_m2, cfg.cue.min_area_m2) if kind == StructureKind.STEEL_ROOF else cfg.min_area_m2

    def _map_classes(self, config: ConstructionConfig) -> dict[int, StructureKind]:
        return {cid: config.model_classes[n] for cid, n in self._class_names.items() if n in config.model_classes}

    def _flight(self, flight_id: str) -> FlightState:
        flight = self._flights.get(flight_id)
        if flight is None:
            flight = FlightState(flight_id=flight_id, book=SiteBook(self.config.sites, self._min_area_m2))
            self._flights[flight_id] = flight
        self._last_flight = flight_id
        return flight

    def _candidates(self, frame: Frame, detections: Detections | None) -> Candidates:
        cfg = self.config
        parts: list[Candidates] = []
        model_dets: list[Detections] = []
        if detections is not None:
            model_dets.append(detections)
        if self._infer is not None and cfg.model is not None and cfg.tiled:
            model_dets.append(self._infer(frame.image))
        for dets in model_dets:
            cands, unmapped = from_detections(
                dets,
                self._class_kinds,
                cfg.min_model_confidence,
                width_px=frame.width,
                height_px=frame.height,
            )
            if unmapped:
                self.stats.rejected["unmapped_class"] += unmapped
            parts.append(cands)
        if cfg.cue.enabled:
            cues = find_blue_roofs(frame.image, cfg.cue)
            low = int((cues.confidence < cfg.cue.min_confidence).sum())
            if low:
                self.stats.rejected["cue_low_confidence"] += low
            parts.append(from_cues(cues, cfg.cue.min_confidence))
        return Candidates.concat(parts)

    def _size_gate(self, ground: GroundCandidates) -> GroundCandidates:
        cfg = self.config
        cue = ground.pixel.source == SOURCE_CUE
        lo = np.where(cue, cfg.cue.min_area_m2, cfg.min_area_m2)
        hi = np.where(cue, cfg.cue.max_area_m2, cfg.max_area_m2)
        # A candidate cut by the frame edge may be larger than it looks: only its upper bound applies.
        small = (ground.area_m2 < lo) & ~ground.pixel.truncated
        large = ground.area_m2 > hi
        narrow = cue & ~ground.pixel.truncated & (quad_widths_m(ground.rings_m) < cfg.cue.min_width_m) & ~small
        if small.any():
            self.stats.rejected["too_small"] += int(small.sum())
        if large.any():
            self.stats.rejected["too_large"] += int(large.sum())
        if narrow.any():
            self.stats.rejected["too_narrow"] += int(narrow.sum())
        return ground.select(~small & ~large & ~narrow)

    def _decide(self, flight: FlightState, site: Site, at: float) -> list[Event]:
        """Classify a confirmed site against the registry; the first time it is new, emit `start`."""
        cfg = self.config
        if site.incident_id is not None or site.merged_into is not None or site.frames < cfg.sites.min_frames:
            return []
        if flight.calibrating:
            return []  # decided once the camera is calibrated (or calibration gave up)
        registry = flight.registry
        was = site.status
        if registry is not None and len(registry):
            best = site.best
            box_in = (best.view, best.quad_px, best.plane_up_m) if best.source == "model" else None
            site.registry = registry.match(
                best.ring_m,
                site.kind,
                cfg.registry.known_min_overlap,
                cfg.registry.tolerance_m,
                box_in=box_in,
            )
        known = site.registry is not None and site.registry.known
        site.status = SiteStatus.KNOWN if known else SiteStatus.NEW
        if known:
            if was != SiteStatus.KNOWN:
                self.stats.rejected["known_site"] += 1
            return []
        if cfg.sites.require_full_view and not site.seen_whole:
            site.status = SiteStatus.PARTIAL
            return []
        self.stats.confirmations += 1
        site.incident_id = f"construction-{flight.flight_id}-{round(site.first_seen_at * 1000)}-{site.site_id}"
        return [self._event(flight, site, Phase.START, at)]

    def _event(self, flight: FlightState, site: Site, phase: Phase, at: float) -> Event:
        assert flight.origin is not None and site.incident_id is not None
        best = site.best
        east, north = site.centre_m
        lat, lon = enu_to_wgs84(flight.origin[0], flight.origin[1], float(east), float(north))
        ring_lat, ring_lon = enu_to_wgs84(flight.origin[0], flight.origin[1], best.ring_m[:, 0], best.ring_m[:, 1])
        x0, y0 = best.quad_px.min(axis=0)
        x1, y1 = best.quad_px.max(axis=0)
        match = site.registry
        self.stats.events[phase.value] += 1
        reasons: dict[str, float | int | str | bool] = {
            "frames": site.frames,
            "passes": site.passes,
            "area_m2": round(best.area_m2, 1),
            "median_area_m2": round(site.median_area_m2, 1),
            "confidence": round(site.max_confidence, 3),
            "accuracy_m": round(site.accuracy_m, 2),
            "best_off_nadir_deg": round(best.off_nadir_deg, 1),
            "projected_on_roof_m": round(best.plane_up_m, 1),
            "seen_whole": site.seen_whole,
            "sources": "+".join(sorted(site.sources)),
            "registry_same_kind_overlap": round(match.same_kind_overlap, 3) if match else 0.0,
            "known_min_overlap": self.config.registry.known_min_overlap,
            "camera_calibration": flight.calibration.status.value if flight.calibration else "configured",
        }
        if flight.calibration is not None and flight.calibration.correction is not None:
            reasons["calibrated_focal_px"] = round(flight.calibration.focal_px, 1)
        details = ConstructionDetails(
            flight_id=flight.flight_id,
            site_id=site.site_id,
            structure_kind=site.kind.value,
            first_seen_at=site.first_seen_at,
            last_seen_at=site.last_seen_at,
            frames=site.frames,
            passes=site.passes,
            best_frame_seq=best.frame.seq,
            best_pts_s=best.frame.pts_s,
            registry_nearest_same_kind=match.same_kind_id if match else None,
            on_registered_id=match.on_id if match else None,
            on_registered_kind=match.on_kind.value if match and match.on_kind else None,
            rooftop_addition=bool(match and match.on_kind == StructureKind.BUILDING and match.on_overlap >= 0.5),
        )
        return Event(
            kind=EventKind.CONSTRUCTION,
            source_id=flight.flight_id,
            incident_id=site.incident_id,
            phase=phase,
            update_seq=site.update_seq,
            started_at=site.first_seen_at,
            last_seen_at=site.last_seen_at,
            trigger_captured_at=at,
            confidence=site.max_confidence,
            box_xyxy=(float(x0), float(y0), float(x1), float(y1)),
            ground=GeoPoint(float(lat), float(lon), round(site.accuracy_m, 2), GeoMethod.DRONE_RAY),
            footprint_lonlat=tuple((float(a), float(b)) for a, b in zip(ring_lon, ring_lat, strict=True)),
            area_m2=round(best.area_m2, 1),
            snapshot=best.frame,
            evidence_window_s=(site.first_pts_s, site.last_pts_s),
            model=self._model_ref if "model" in site.sources else None,
            reasons=reasons,
            details=details,
        )

    def _summary(self, flight: FlightState) -> FlightSummary:
        origin = flight.origin or (
            (flight.track_lonlat[0][1], flight.track_lonlat[0][0]) if flight.track_lonlat else (0.0, 0.0)
        )
        track = np.asarray(flight.track_lonlat, np.float64).reshape(-1, 2)
        te, tn = wgs84_to_enu(origin[0], origin[1], track[:, 1], track[:, 0])
        coverage: list[NDArray[np.float64]] = []
        covered = 0.0
        if flight.footprints_m:
            mask, corner, cell = rasterise_union(flight.footprints_m, self.config.coverage_cell_m)
            covered = float(mask.sum()) * cell * cell
            coverage = mask_outlines(mask, corner, cell, simplify_m=cell)

        def lonlat(ring: NDArray[np.float64]) -> NDArray[np.float64]:
            la, lo = enu_to_wgs84(origin[0], origin[1], ring[:, 0], ring[:, 1])
            return np.column_stack([lo, la])

        reports = []
        unconfirmed = 0
        for site in flight.book.live:
            if site.status == SiteStatus.PENDING:
                unconfirmed += 1
                continue
            c = lonlat(site.centre_m[None])[0]
            m = site.registry
            reports.append(
                SiteReport(
                    site_id=site.site_id,
                    status=site.status.value,
                    kind=site.kind.value,
                    lat_deg=float(c[1]),
                    lon_deg=float(c[0]),
                    accuracy_m=site.accuracy_m,
                    area_m2=site.best.area_m2,
                    frames=site.frames,
                    passes=site.passes,
                    first_seen_at=site.first_seen_at,
                    last_seen_at=site.last_seen_at,
                    confidence=site.max_confidence,
                    ring_m=site.best.ring_m,
                    ring_lonlat=lonlat(site.best.ring_m),
                    incident_id=site.incident_id,
                    registry_id=m.same_kind_id if m else None,
                    registry_overlap=m.same_kind_overlap if m else 0.0,
                    on_id=m.on_id if m else None,
                    on_kind=m.on_kind.value if m and m.on_kind else None,
                    sources=tuple(sorted(site.sources)),
                    centre_m=(float(site.centre_m[0]), float(site.centre_m[1])),
                )
            )
        registered = (
            tuple((e.id, e.kind.value, r) for e, r in zip(flight.registry.entries, flight.registry.rings, strict=True))
            if flight.registry is not None
            else ()
        )
        return FlightSummary(
            flight_id=flight.flight_id,
            origin_lat_deg=origin[0],
            origin_lon_deg=origin[1],
            frames_analysed=flight.frames_analysed,
            frames_used=flight.frames_used,
            skipped=dict(flight.skipped),
            started_at=flight.first_at,
            ended_at=flight.last_at,
            track_m=np.column_stack([te, tn]),
            track_lonlat=track,
            coverage_m=tuple(coverage),
            coverage_lonlat=tuple(lonlat(r) for r in coverage),
            covered_area_m2=covered,
            sites=tuple(reports),
            registered_m=registered,
            unconfirmed_sites=unconfirmed,
            calibration=flight.calibration,
            accuracy_note=f"radius holding the true position with {self.config.geometry.accuracy_confidence:.0%} odds",
        )

    # -- drawing ---------------------------------------------------------------------------------------

    def draw(
        self,
        image: NDArray[np.uint8],
        flight: FlightState,
        view: DroneView | None,
        candidates: GroundCandidates | None = None,
    ) -> NDArray[np.uint8]:
        """Draw a flight's sites as seen from `view` (footprints re-projected, ids, status) on a copy."""
        out = image.copy()
        colours = {
            SiteStatus.NEW: (40, 40, 230),
            SiteStatus.KNOWN: (60, 180, 60),
            SiteStatus.PENDING: (0, 170, 255),
        }
        if view is not None:
            if candidates is not None:
                for quad in candidates.pixel.quads_px:
                    cv2.polylines(out, [np.round(quad).astype(np.int32)], True, (0, 255, 255), 1, cv2.LINE_AA)
            h, w = out.shape[:2]
            sx, sy = w / view.intrinsics.width_px, h / view.intrinsics.height_px
            for site in flight.book.live:
                px = view.ground_to_pixel(site.best.ring_m, site.best.plane_up_m) * (sx, sy)
                if not np.isfinite(px).all() or not _on_screen(px, w, h):
                    continue
                colour = colours[site.status]
                cv2.polylines(out, [np.round(px).astype(np.int32)], True, colour, 2, cv2.LINE_AA)
                label = f"{site.site_id} {site.status.value} {site.kind.value} {site.best.area_m2:.0f}m2 x{site.frames}"
                x, y = np.round(px.min(axis=0)).astype(int)
                _text(out, label, (max(0, int(x)), max(12, int(y) - 4)), colour)
            status = (
                f"{flight.flight_id} #{flight.last_seq} h={view.height_m:.0f}m "
                f"off-nadir {view.off_nadir_deg:.0f}deg yaw:{view.yaw_source}"
            )
        else:
            status = f"{flight.flight_id} #{flight.last_seq} skipped: {flight.last_skip or 'not analysed'}"
        new = sum(s.status == SiteStatus.NEW for s in flight.book.live)
        known = sum(s.status == SiteStatus.KNOWN for s in flight.book.live)
        _text(out, f"{status} | sites new {new} known {known}", (8, 20), (255, 255, 255))
        return out

    def annotate_frame(self, frame: Frame) -> NDArray[np.uint8]:
        """Draw the frame's flight with this frame's own pose (for frames between analysed ones)."""
        flight = self._flights.get(frame.camera_id)
        if flight is None:
            return frame.image.copy()
        view = None
        if flight.origin is not None and unusable_reason(frame.pose, self.config.geometry) is None:
            assert frame.pose is not None
            view = build_view(
                frame.pose,
                frame.width,
                frame.height,
                self.config.camera,
                self.config.geometry,
                origin=flight.origin,
                correction=flight.correction,
            )
        candidates = flight.last_candidates if frame.seq == flight.last_seq else None
        return self.draw(frame.image, flight, view, candidates)


def _on_screen(px: NDArray[np.float64], w: int, h: int) -> bool:
    return bool(px[:, 0].max() >= 0 and px[:, 1].max() >= 0 and px[:, 0].min() < w and px[:, 1].min() < h)


def _text(img: NDArray[np.uint8], text: str, org: tuple[int, int], colour: tuple[int, int, int]) -> None:
    """Label on a dark box, readable on any background."""
    (w, h), base = cv2.getTextSize(text, cv2.FONT_HERSHEY_SIMPLEX, 0.5, 1)
    x, y = org
    cv2.rectangle(img, (x - 2, y - h - 3), (x + w + 2, y + base), (0, 0, 0), -1)
    cv2.putText(img, text, org, cv2.FONT_HERSHEY_SIMPLEX, 0.5, colour, 1, cv2.LINE_AA)
