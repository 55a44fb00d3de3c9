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
from collections import OrderedDict
from collections.abc import Mapping

import numpy as np
from numpy.typing import NDArray
from pydantic import BaseModel

from detectors.base import DetectorStats
from detectors.construction.candidates import (
    GroundCandidates,
    project,
)
from detectors.construction.config import ConstructionConfig
from detectors.construction.flight_calibration import feed_calibration, settle_calibration
from detectors.construction.flight_drawing import draw_flight
from detectors.construction.flight_report import flight_summary, site_event
from detectors.construction.flight_state import FlightState
from detectors.construction.frame_candidates import Infer, frame_candidates, size_gate, steep_only
from detectors.construction.registry import Registry
from detectors.construction.registry_entries import StructureKind
from detectors.construction.sites import Site, SiteBook, SiteStatus
from detectors.construction.summary import FlightSummary
from detectors.construction.survey.run import SurveyRecorder
from detectors.event import Event, ModelRef, Phase
from detectors.geometry.drone import DroneView, build_view, unusable_reason
from foundation.errors import ConfigError
from ingest.frame import Frame, Pose
from models.detections import Detections

log = logging.getLogger(__name__)


KEEP_SUMMARIES = 16


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
        feed_calibration(flight, frame, cfg, self.stats.rejected)
        view = build_view(
            pose, frame.width, frame.height, cfg.camera, cfg.geometry, origin=flight.origin,
            correction=flight.correction,
        )
        flight.frames_used += 1
        flight.last_view = view
        footprint = view.image_footprint()
        if len(footprint) >= 3:
            flight.footprints_m.append(footprint)
        found = frame_candidates(frame, detections, cfg, self._infer, self._class_kinds, self.stats.rejected)
        cands = steep_only(found, view, cfg, self.stats.rejected)
        ground, beyond = project(
            cands,
            view,
            flight.registry if cfg.registry.use_heights else None,
            scaffold_reach_m=cfg.registry.scaffold_reach_m,
            top_height_m=cfg.top_height_m,
        )
        if beyond:
            self.stats.rejected["beyond_ray_limit"] += beyond
        ground = size_gate(ground, cfg, self.stats.rejected)
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
            settle_calibration(flight, flight.calibrator.solve(final=True), self.config, self.stats.rejected)
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
        self.stats.events[phase.value] += 1
        return site_event(
            flight, site, phase, at, known_min_overlap=self.config.registry.known_min_overlap, model_ref=self._model_ref
        )

    def _summary(self, flight: FlightState) -> FlightSummary:
        return flight_summary(flight, self.config)

    # -- drawing ---------------------------------------------------------------------------------------

    def draw(
        self,
        image: NDArray[np.uint8],
        flight: FlightState,
        view: DroneView | None,
        candidates: GroundCandidates | None = None,
    ) -> NDArray[np.uint8]:
        """Draw a flight's sites as seen from `view` (footprints re-projected, ids, status) on a copy."""
        return draw_flight(image, flight, view, candidates)

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
