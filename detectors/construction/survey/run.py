"""`SurveyRecorder`: one flight in, a mosaic kept and change alerts out (the construction detector's hook).

The construction detector hands every analysed frame to `add` and calls `finish` when the flight ends.
`finish` does the work, in this order:

1. keyframes -> the flight's window of the district lattice;
2. the earlier surveys of that ground from the archive (newest first, older ones filling gaps, or the
   named baseline), composed on the same window;
3. the mosaic, aligned by features to itself and to that earlier ground;
4. the mosaic saved to the archive (COG + record), so the next survey compares with it;
5. the comparison, regions, kinds, registry decisions, before/after crops, and one `start` event per new
   structure (kind `construction`, details under `change`);
6. the survey summary (GeoJSON, text, map), kept in `results` and written into the store.

Nothing is alerted on a flight with no earlier survey of its ground: it becomes the baseline. State is
per flight id, like the detector's. The work runs at the end of a flight, in the caller's thread: a
flight of ~25 minutes (about 2 km2 at 100 m) takes seconds to a minute of CPU (`gridwatch bench survey`).
"""

from __future__ import annotations

import logging
import math
import time
from collections import OrderedDict
from dataclasses import dataclass, field, replace
from pathlib import Path

import cv2
import numpy as np

from detectors.construction.local_registry import LocalRegistry
from detectors.construction.registry import Registry
from detectors.construction.survey.archive import MosaicArchive, SurveyRecord, SurveyStore
from detectors.construction.survey.change import compare, relief_shift_px
from detectors.construction.survey.change_event import change_event
from detectors.construction.survey.changes import Change, ChangeStatus, build_changes
from detectors.construction.survey.config import SurveyConfig
from detectors.construction.survey.grid import Lattice, Window, from_pixels
from detectors.construction.survey.keyframes import KeyframeCollector
from detectors.construction.survey.mosaic import Canvas, Mosaic, build_mosaic, flight_window
from detectors.construction.survey.regions import extract
from detectors.construction.survey.registered_relief import cut_buildings, relief_zone, tall_structures
from detectors.construction.survey.stored_outputs import store_crops, store_summary
from detectors.construction.survey.summary import ChangeReport, SurveySummary, draw_map
from detectors.event import Event
from detectors.geometry.drone_config import DroneCameraSpec, DroneGeometryConfig
from foundation.errors import GridwatchError
from ingest.frame import Frame

log = logging.getLogger(__name__)

KEEP_RESULTS = 16
OPEN_GROUND_RELIEF_M = 3.0
"""Away from registered structures, relief is searched only as far as this height leans (cars, vans, sheds:
a parked car leans 1-3 m differently between two flights a survey line apart)."""


@dataclass
class SurveyResult:
    """What one flight's survey produced."""

    summary: SurveySummary
    events: list[Event]
    changes: list[Change]
    record: SurveyRecord | None = None
    previous: Canvas | None = field(default=None, repr=False)
    mosaic: Mosaic | None = field(default=None, repr=False)


class SurveyRecorder:
    """Keyframes per flight while it flies; mosaic, comparison and change events when it ends."""

    def __init__(
        self,
        config: SurveyConfig,
        camera: DroneCameraSpec,
        geometry: DroneGeometryConfig,
        registry: Registry,
        *,
        known_min_overlap: float = 0.5,
        tolerance_m: float = 2.0,
        search_radius_m: float = 5000.0,
        store: SurveyStore | None = None,
        scratch_dir: Path | None = None,
        keep_canvases: bool = False,
    ) -> None:
        """`store` keeps mosaics and crops (None: nothing is kept and no flight has an earlier survey);
        `keep_canvases` keeps the mosaics in the results (benchmarks and tests look at them)."""
        self.config = config
        self.camera = camera
        self.geometry = geometry
        self.registry = registry
        self.known_min_overlap = known_min_overlap
        self.tolerance_m = tolerance_m
        self.search_radius_m = search_radius_m
        self.store = store
        self.archive = MosaicArchive(store, config.store_prefix, scratch_dir) if store is not None else None
        self.keep_canvases = keep_canvases
        self._flights: dict[str, KeyframeCollector] = {}
        self.results: OrderedDict[str, SurveyResult] = OrderedDict()
        if store is None:
            log.warning("survey: no store for mosaics; flights are mosaicked but never compared")

    def reconfigure(
        self,
        config: SurveyConfig,
        camera: DroneCameraSpec,
        geometry: DroneGeometryConfig,
        registry: Registry,
        known_min_overlap: float,
        tolerance_m: float,
    ) -> None:
        """New settings for flights started from now on; open flights keep their keyframes."""
        self.config, self.camera, self.geometry, self.registry = config, camera, geometry, registry
        self.known_min_overlap, self.tolerance_m = known_min_overlap, tolerance_m
        if self.store is not None:
            self.archive = MosaicArchive(
                self.store, config.store_prefix, self.archive.scratch_dir if self.archive else None
            )

    def add(self, frame: Frame) -> None:
        """One analysed frame of flight `frame.camera_id` (kept when it is a keyframe)."""
        collector = self._flights.get(frame.camera_id)
        if collector is None:
            collector = KeyframeCollector(self.config, self.camera, self.geometry, frame.camera_id)
            self._flights[frame.camera_id] = collector
        collector.add(frame)

    def open_flights(self) -> list[str]:
        return list(self._flights)

    def finish(self, flight_id: str, now: float | None = None) -> SurveyResult | None:
        """End a flight: mosaic, archive, compare, alert (see the module docstring). None when the flight
        gave no frames. Store failures are logged and leave a summary that says so; they never raise."""
        collector = self._flights.pop(flight_id, None)
        if collector is None:
            return None
        started = time.process_time()
        try:
            result = self._finish(collector, now)
        except GridwatchError as exc:
            log.error("survey of flight %s failed: %s", flight_id, exc)
            result = SurveyResult(self._empty_summary(collector, notes=(f"survey failed: {exc}",)), [], [])
        cpu = time.process_time() - started
        result.summary = _with_cpu(result.summary, cpu)
        self.results[flight_id] = result
        while len(self.results) > KEEP_RESULTS:
            self.results.popitem(last=False)
        log.info(
            "survey %s: %d new structure(s), %d change(s) in all, %.1f CPU-s",
            result.summary.survey_id,
            len(result.summary.new_changes),
            len(result.summary.changes),
            cpu,
        )
        return result

    # -- the pipeline -------------------------------------------------------------------------------------

    def _finish(self, collector: KeyframeCollector, now: float | None) -> SurveyResult:
        cfg = self.config
        if collector.origin is None or len(collector.keyframes) < 2:
            return SurveyResult(
                self._empty_summary(collector, notes=("fewer than 2 usable keyframes: no mosaic",)), [], []
            )
        origin = collector.origin
        keyframes = collector.keyframes
        lattice = Lattice.for_area(cfg.resolution_m, origin[0], cfg.lattice_snap_deg)
        window = flight_window(keyframes, lattice.enu_to_lattice(*origin), lattice)
        survey_id = survey_id_of(collector.flight_id, collector.first_at or keyframes[0].captured_at)
        previous, used = self._previous(lattice, window, keyframes[0].captured_at)
        mosaic = build_mosaic(
            keyframes,
            origin,
            lattice,
            cfg.alignment,
            previous=previous,
            window=window,
            tall=tall_structures(self.registry, self.search_radius_m, origin),
        )
        canvas = mosaic.canvas
        record = SurveyRecord(
            survey_id=survey_id,
            flight_id=collector.flight_id,
            captured_from=mosaic.captured_from,
            captured_to=mosaic.captured_to,
            resolution_m=lattice.resolution_m,
            reference_lat_deg=lattice.reference_lat_deg,
            col0=window.col0,
            row0=window.row0,
            width=window.width,
            height=window.height,
            bounds_lonlat=window.lon_lat_bounds(lattice),
            views=[[float(v) for v in row] for row in canvas.views],
            keyframes=mosaic.keyframes,
            compared_with=used,
        )
        notes: list[str] = []
        if self.archive is not None:
            try:
                record = self.archive.save(record, canvas)
            except GridwatchError as exc:
                log.error("survey %s: mosaic not kept: %s", survey_id, exc)
                notes.append(f"mosaic not kept: {exc}")
        changes: list[Change] = []
        events: list[Event] = []
        compared = 0.0
        if previous is not None:
            changes, compared = self._compare(previous, canvas, origin, mosaic)
            if self.store is not None:
                store_crops(self.store, self.config, survey_id, previous, canvas, changes)
            at = now if now is not None else (collector.last_at or mosaic.captured_to)
            events = [
                change_event(
                    collector.flight_id,
                    survey_id,
                    used,
                    previous_at=self._previous_time(used),
                    change=c,
                    previous=previous,
                    after=canvas,
                    at=at,
                    config=cfg,
                )
                for c in changes
                if c.status == ChangeStatus.NEW
            ]
        mosaic_key = f"{cfg.store_prefix}/{survey_id}/mosaic.tif"
        summary = SurveySummary(
            survey_id=survey_id,
            flight_id=collector.flight_id,
            captured_from=mosaic.captured_from,
            captured_to=mosaic.captured_to,
            resolution_m=lattice.resolution_m,
            keyframes=mosaic.keyframes,
            frames_seen=collector.frames_seen,
            skipped=dict(collector.skipped),
            mosaic_area_m2=canvas.area_m2,
            compared_area_m2=compared,
            previous_ids=tuple(used),
            changes=tuple(ChangeReport.of(c) for c in changes),
            footprint_lonlat=_footprint(canvas),
            frame_ties=mosaic.alignment.frame_ties,
            anchored_frames=mosaic.alignment.anchored_frames,
            registration_rms_m=_rms_m(mosaic),
            mosaic_uri=self.store.uri_for(mosaic_key) if self.store is not None else None,
            mosaic_bytes=record.mosaic_bytes,
            map_png=draw_map(
                canvas.image,
                canvas.valid,
                changes,
                f"survey {survey_id}: {sum(c.status == ChangeStatus.NEW for c in changes)} new",
            ),
            notes=tuple(notes),
        )
        if self.store is not None:
            store_summary(self.store, self.config.store_prefix, summary)
        return SurveyResult(
            summary,
            events,
            changes,
            record,
            previous if self.keep_canvases else None,
            mosaic if self.keep_canvases else None,
        )

    def _previous(self, lattice: Lattice, window: Window, first_at: float) -> tuple[Canvas | None, list[str]]:
        if self.archive is None:
            return None, []
        cfg = self.config
        try:
            records = self.archive.previous(
                window.lon_lat_bounds(lattice),
                first_at,
                cfg.max_previous_age_days * 86_400.0,
                cfg.baseline_survey_id if cfg.compare_with == "baseline" else None,
            )
            return self.archive.compose(records, lattice, window)
        except GridwatchError as exc:
            log.error("survey: earlier mosaics unreadable, this flight is not compared: %s", exc)
            return None, []

    def _previous_time(self, used: list[str]) -> float | None:
        if self.archive is None or not used:
            return None
        for r in self.archive.records():
            if r.survey_id == used[0]:
                return r.captured_to
        return None

    def _compare(
        self, previous: Canvas, after: Canvas, origin: tuple[float, float], mosaic: Mosaic
    ) -> tuple[list[Change], float]:
        cfg = self.config
        both = previous.valid & after.valid
        cut = cut_buildings(self.registry, self.search_radius_m, origin, previous, after)
        shift = relief_shift_px(after.nadir_px(), previous.nadir_px(), after.height_m(), cfg.change.max_relief_height_m)
        zone = relief_zone(self.registry, self.search_radius_m, origin, after)
        if zone is not None:
            low = min(1.0, OPEN_GROUND_RELIEF_M / max(cfg.change.max_relief_height_m, 1e-6))
            shift[~zone] *= low
        change_map = compare(
            previous.image,
            after.image,
            both,
            after.lattice.resolution_m,
            cfg.change,
            shift,
            cut.leaned,
            cut.near,
            cut.one_sided,
        )
        regions = extract(change_map, cfg.change)
        registry: LocalRegistry | None = (
            self.registry.local(origin[0], origin[1], self.search_radius_m) if self.registry.entries else None
        )
        base = math.hypot(
            self.geometry.uncertainty.position_sigma_m, _rms_m(mosaic) if math.isfinite(_rms_m(mosaic)) else 0.0
        )
        changes = build_changes(
            regions,
            change_map,
            after,
            origin,
            registry,
            cfg.change,
            self.known_min_overlap,
            self.tolerance_m,
            math.hypot(base, after.lattice.resolution_m),
            list(mosaic.keyframe_times),
        )
        compared = float(change_map.valid.sum()) * change_map.cell_m**2
        return changes, compared

    def _empty_summary(self, collector: KeyframeCollector, notes: tuple[str, ...]) -> SurveySummary:
        first = collector.first_at or 0.0
        return SurveySummary(
            survey_id=survey_id_of(collector.flight_id, first),
            flight_id=collector.flight_id,
            captured_from=collector.first_at,
            captured_to=collector.last_at,
            resolution_m=self.config.resolution_m,
            keyframes=len(collector.keyframes),
            frames_seen=collector.frames_seen,
            skipped=dict(collector.skipped),
            mosaic_area_m2=0.0,
            compared_area_m2=0.0,
            previous_ids=(),
            changes=(),
            footprint_lonlat=np.zeros((0, 2)),
            notes=notes,
        )


def survey_id_of(flight_id: str, first_at: float) -> str:
    """A flight's survey id: its id made key-safe, and its start time (flights reuse a drone's id)."""
    safe = "".join(ch if ch.isalnum() or ch in "-_." else "_" for ch in flight_id) or "flight"
    return f"{safe}-{time.strftime('%Y%m%dT%H%M%SZ', time.gmtime(first_at))}"


def _rms_m(mosaic: Mosaic) -> float:
    a = mosaic.alignment
    px = a.rms_anchor_px if math.isfinite(a.rms_anchor_px) else a.rms_frame_px
    return px * mosaic.canvas.lattice.resolution_m


def _footprint(canvas: Canvas) -> np.ndarray:
    mask = canvas.valid.astype(np.uint8)
    contours, _ = cv2.findContours(mask, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
    if not contours:
        return np.zeros((0, 2))
    c = max(contours, key=cv2.contourArea)
    c = cv2.approxPolyDP(c, 8, True).reshape(-1, 2).astype(np.float64)
    lon, lat = canvas.lattice.lon_lat(from_pixels(canvas.window, np.asarray(c, np.float64)))
    return np.column_stack([lon, lat])


def _with_cpu(summary: SurveySummary, cpu_s: float) -> SurveySummary:
    return replace(summary, cpu_s=cpu_s)
