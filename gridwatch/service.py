"""The running service: models and batchers, the alerts runtime, and every camera's ingest and analysis.

Start order: alerts (the outbox must accept before anything can alert) -> models (loaded and warmed up)
-> cameras (analysis threads, then sources). Stop order, each step with a deadline: stop analysis ->
drain the batchers -> flush detectors (their `end` events become alerts) -> cut the queued evidence
clips (the packet rings live in the sources) -> stop sources -> stop the alerts runtime (the relay
publishes what it can, then the outbox closes).

Cameras can be added and removed while running (hot reload, cluster rebalancing): with in-process
ingest each camera has its own frame source; with worker processes the pool is rebuilt for the new set.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterable, Mapping
from concurrent.futures import Future
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import dataclass
from functools import partial
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from alerts.runtime import AlertsRuntime
from alerts.survey_store import EvidenceSurveyStore, survey_store
from detectors.analysis import CameraAnalysis, GatedInference
from detectors.base import Detector
from foundation.errors import ModelError, SourceError
from gridwatch.cameras import CameraClips, CameraRunner
from gridwatch.config import LoadedConfig, ResolvedCamera
from ingest.config import SourceConfig
from ingest.frame import Frame
from ingest.queues import DropOldestQueue
from ingest.reader import Sink
from ingest.sources import FrameSource, open_frame_source
from ingest.stats import CameraState, CameraStatsSnapshot
from models.batcher import DynamicBatcher, FrameDroppedError
from models.detections import Detections
from models.gating import ModelGeometry
from models.runtime import YoloModel, load_model

log = logging.getLogger(__name__)


@dataclass
class CameraRuntime:
    """Everything the service holds for one running camera."""

    camera: ResolvedCamera
    runner: CameraRunner
    detectors: list[Detector]
    queue: DropOldestQueue[Frame]
    source_config: SourceConfig


class Service:
    """Builds and runs the pipeline for a loaded config. Thread-safe start/stop/apply."""

    def __init__(self, loaded: LoadedConfig) -> None:
        self.loaded = loaded
        self.alerts: AlertsRuntime | None = None
        self.models: dict[str, YoloModel] = {}
        self.batchers: dict[str, DynamicBatcher] = {}
        self._surveys: EvidenceSurveyStore | None = None
        self.cameras: dict[str, CameraRuntime] = {}
        self._sources: dict[str, FrameSource] = {}
        self._source_of: dict[str, FrameSource] = {}
        self.lock = threading.RLock()
        self.started_at: float | None = None
        self.stopping = threading.Event()

    # -- lifecycle ---------------------------------------------------------------------------------

    @property
    def node_id(self) -> str:
        return self.loaded.root.service.node_id

    def start(self, cameras: Iterable[str] | None = None) -> None:
        """Start alerts, models and the given cameras (default: every enabled camera of the config)."""
        with self.lock:
            root = self.loaded.root
            self.alerts = AlertsRuntime(
                root.alerts, node_id=self.node_id, config_version=self.loaded.version,
                kinds=self.loaded.registrations.alert_kinds,
            )
            self.alerts.start()
            wanted = self._enabled(cameras)
            self._ensure_models(wanted)
            self._start_cameras(wanted)
            self.started_at = time.time()
            log.info("service started on node %s: %d camera(s), %d model(s), config %s", self.node_id,
                     len(self.cameras), len(self.models), self.loaded.version)

    def _enabled(self, cameras: Iterable[str] | None) -> dict[str, ResolvedCamera]:
        ids = set(cameras) if cameras is not None else None
        return {
            cid: cam for cid, cam in self.loaded.cameras.items()
            if cam.config.enabled and (ids is None or cid in ids)
        }

    def _ensure_models(self, cameras: Mapping[str, ResolvedCamera]) -> None:
        regs = self.loaded.registrations
        needed = {m for cam in cameras.values() if cam.config.enabled for m in regs.models_used(cam.detectors)}
        for name in sorted(needed - set(self.models)):
            cfg = self.loaded.model(name)
            model = load_model(cfg)
            self.models[name] = model
            self.batchers[name] = DynamicBatcher(model, cfg.batch).start()
            log.info("model %s ready on %s (%s)", name, model.info.provider, model.info.path)

    def _infer_for(self, camera_id: str) -> CameraAnalysisInfer:
        return CameraAnalysisInfer(self.batchers, camera_id)

    def _build_runtime(self, cam: ResolvedCamera) -> CameraRuntime:
        assert self.alerts is not None
        detectors = self.loaded.registrations.build_detectors(
            cam.id, cam.detectors, cam.config.calibration, self.models, self._survey_store()
        )
        infer = self._infer_for(cam.id)
        gated = GatedInference(infer.submit, {name: ModelGeometry.of(m.info) for name, m in self.models.items()})
        analysis = CameraAnalysis(cam.id, detectors, infer, gated)
        source = cam.source
        if source.analysis_fps is None and analysis.max_fps > 0:
            source = source.model_copy(update={"analysis_fps": analysis.max_fps})
        queue: DropOldestQueue[Frame] = DropOldestQueue(self.loaded.root.ingest.queue_size, name=f"frames-{cam.id}")
        clips = CameraClips(cam.id, self._write_clip, partial(self._more_coming, cam.id)) \
            if source.clip_buffer_s > 0 else None
        runner = CameraRunner(cam, analysis, self.alerts.pipeline, queue, clips=clips,
                              source_state=partial(self._state_of, cam.id), on_source_end=self._write_flight_summaries)
        return CameraRuntime(camera=cam, runner=runner, detectors=detectors, queue=queue, source_config=source)

    def _survey_store(self) -> EvidenceSurveyStore | None:
        """The evidence store as the survey archive (mosaics of drone flights), when a flight surveys."""
        if not any(self.loaded.registrations.keeps_surveys(cam.detectors) for cam in self.loaded.cameras.values()):
            return None
        if self._surveys is None:
            self._surveys = survey_store(self.loaded.root.alerts.evidence)
        return self._surveys

    def _write_flight_summaries(self, runner: CameraRunner) -> None:
        """Recordings that ended (drone flights): their detectors' summaries (GeoJSON, text, PNG map) are
        logged and written next to the evidence."""
        store = self.loaded.root.alerts.evidence.store
        for named in self.loaded.registrations.summaries(runner.analysis.detectors):
            log.info("flight %s %s:\n%s", named.flight_id, named.label, named.summary.text_report())
            if store.type == "local":
                written = named.summary.write(Path(store.dir) / "flights" / named.flight_id)
                paths = ", ".join(map(str, written.values()))
                log.info("flight %s %s written: %s", named.flight_id, named.label, paths)

    def _start_cameras(self, cameras: Mapping[str, ResolvedCamera]) -> None:
        if not cameras:
            return
        runtimes = {cid: self._build_runtime(cam) for cid, cam in cameras.items()}
        for cid, rt in runtimes.items():
            self.cameras[cid] = rt
            rt.runner.start()
        sources = {cid: rt.source_config for cid, rt in runtimes.items()}
        ingest_cfg = self.loaded.root.ingest
        if ingest_cfg.workers == 0:
            for cid, src in sources.items():
                fs = open_frame_source({cid: src}, ingest_cfg, self._sink_for(runtimes[cid]))
                fs.start()
                self._sources[cid] = fs
                self._source_of[cid] = fs
        else:
            # Worker processes: one pool for the whole set (rebuilt when the set changes).
            self._stop_sources(list(self._sources))
            everything = {cid: rt.source_config for cid, rt in self.cameras.items()}
            pool = open_frame_source(everything, ingest_cfg, self._route)
            pool.start()
            self._sources = {"pool": pool}
            self._source_of = dict.fromkeys(everything, pool)

    def _sink_for(self, rt: CameraRuntime) -> Sink:
        """Live streams drop the oldest frame when analysis lags; recordings played as fast as possible
        wait instead, so every frame of a file is analysed."""
        queue = rt.queue
        src = rt.source_config
        if src.is_stream or src.realtime:

            def put(frame: Frame) -> None:
                queue.put(frame)

            return put
        stopping = self.stopping

        def put_waiting(frame: Frame) -> None:
            while len(queue) >= queue.maxsize and not stopping.is_set() and rt.runner.alive:
                time.sleep(0.005)
            queue.put(frame)

        return put_waiting

    def _route(self, frame: Frame) -> None:
        rt = self.cameras.get(frame.camera_id)
        if rt is not None:
            rt.queue.put(frame)

    def _write_clip(self, camera_id: str, start_utc_s: float, end_utc_s: float, out_path: Path, *,
                    wait_s: float = 0.0) -> Path:
        source = self._source_of.get(camera_id)
        if source is None:
            raise SourceError(f"camera {camera_id}: not running here, no clip")
        return source.write_clip(camera_id, start_utc_s, end_utc_s, out_path, wait_s=wait_s)

    def _more_coming(self, camera_id: str) -> bool:
        return not self.stopping.is_set() and self._state_of(camera_id) not in (CameraState.ENDED, CameraState.FAILED)

    def _state_of(self, camera_id: str) -> CameraState | None:
        source = self._source_of.get(camera_id)
        if source is None:
            return None
        return source.states().get(camera_id)

    def _stop_sources(self, keys: list[str]) -> None:
        """Ask every source first, then wait for each against one deadline: one thread per camera
        (`ingest.workers: 0`) would otherwise stop in series, each waiting for its next packet, and a
        cluster hand-over of many cameras would outlast `cluster.revoke_wait_s`."""
        stopping = [fs for fs in (self._sources.pop(key, None) for key in keys) if fs is not None]
        for fs in stopping:
            fs.request_stop()
        deadline = time.monotonic() + self.loaded.root.service.shutdown_timeout_s / 4
        for fs in stopping:
            fs.stop(max(0.1, deadline - time.monotonic()))
        self._source_of = {cid: fs for cid, fs in self._source_of.items() if fs in self._sources.values()}

    def stop_cameras(self, camera_ids: Iterable[str]) -> None:
        """Stop cameras (hot reload removed them, or their cluster bucket was revoked): sources first,
        then analysis, then their detectors' end events become alerts."""
        with self.lock:
            ids = [cid for cid in camera_ids if cid in self.cameras]
            if not ids:
                return
            if self.loaded.root.ingest.workers == 0:
                self._stop_sources(ids)
            runtimes = [self.cameras.pop(cid) for cid in ids]
            for rt in runtimes:
                rt.runner.request_stop()
            for rt in runtimes:
                rt.runner.join(self.loaded.root.service.shutdown_timeout_s / 4)
                rt.runner.flush(time.time())
                rt.queue.close()
            if self.loaded.root.ingest.workers > 0:
                self._stop_sources(list(self._sources))
            # Logged once these cameras neither decode nor analyse here (before the worker pool reopens for
            # the others): a cluster peer may start them from now on, and the hand-over checks read this line.
            log.info("stopped %d camera(s): %s", len(ids), ", ".join(ids))
            if self.loaded.root.ingest.workers > 0:
                remaining = {cid: rt.source_config for cid, rt in self.cameras.items()}
                if remaining:
                    pool = open_frame_source(remaining, self.loaded.root.ingest, self._route)
                    pool.start()
                    self._sources = {"pool": pool}
                    self._source_of = dict.fromkeys(remaining, pool)

    def start_cameras(self, camera_ids: Iterable[str]) -> None:
        """Start configured cameras that are not running (hot reload added them, or a bucket arrived)."""
        with self.lock:
            wanted = {cid: cam for cid, cam in self._enabled(camera_ids).items() if cid not in self.cameras}
            if not wanted:
                return
            self._ensure_models(wanted)
            self._start_cameras(wanted)
            log.info("started %d camera(s): %s", len(wanted), ", ".join(sorted(wanted)))

    def stop(self) -> bool:
        """Ordered shutdown within `service.shutdown_timeout_s`; True when every alert was delivered.

        Analysis stops taking frames first; the sources stop only after the queued evidence has been
        cut, because the packet rings behind the clips live in the sources (in worker processes with
        `ingest.workers > 0`). Every step has its share of the deadline.
        """
        with self.lock:
            self.stopping.set()
            budget = self.loaded.root.service.shutdown_timeout_s
            deadline = time.monotonic() + budget

            def share(fraction: float, floor_s: float = 0.5) -> float:
                return max(floor_s, (deadline - time.monotonic()) * fraction)

            for rt in self.cameras.values():
                rt.runner.request_stop()
            for rt in self.cameras.values():
                rt.runner.join(share(0.25, 0.1))
            for batcher in self.batchers.values():
                batcher.stop(share(0.25))
            now = time.time()
            for rt in self.cameras.values():
                rt.runner.flush(now)
            if self.alerts is not None and self.alerts.pipeline.evidence is not None:
                self.alerts.pipeline.evidence.stop(share(0.3))
            for fs in self._sources.values():
                fs.request_stop()
            sources_deadline = time.monotonic() + share(0.25)
            for fs in self._sources.values():
                fs.stop(max(0.1, sources_deadline - time.monotonic()))
            self._sources.clear()
            drained = True
            if self.alerts is not None:
                drained = self.alerts.stop(share(1.0, 1.0))
            log.info("service stopped (all alerts delivered: %s)", drained)
            return drained

    # -- views for status, metrics and tests ---------------------------------------------------------

    def camera_stats(self) -> dict[str, CameraStatsSnapshot]:
        out: dict[str, CameraStatsSnapshot] = {}
        for fs in list(self._sources.values()):
            out.update(fs.stats())
        return out

    def all_finished(self) -> bool:
        """True when every camera's source ended (files) and its frames were analysed."""
        return bool(self.cameras) and all(rt.runner.finished for rt in self.cameras.values())


class CameraAnalysisInfer:
    """The service's inference function for one camera: frames go through the shared batcher."""

    def __init__(self, batchers: Mapping[str, DynamicBatcher], camera_id: str, timeout_s: float = 30.0) -> None:
        self.batchers = batchers
        self.camera_id = camera_id
        self.timeout_s = timeout_s
        self.dropped = 0

    def submit(
        self, model_name: str, image: NDArray[np.uint8], input_hw: tuple[int, int] | None = None,
    ) -> Future[Detections]:
        """Queue a frame or a gated crop in the model's batcher, under this camera's share."""
        return self.batchers[model_name].submit(self.camera_id, image, input_hw=input_hw)

    def __call__(self, model_name: str, frame: Frame) -> Detections:
        future = self.submit(model_name, frame.image)
        try:
            return future.result(timeout=self.timeout_s)
        except FrameDroppedError:
            self.dropped += 1
            raise
        except FutureTimeout as exc:
            raise ModelError(f"camera {self.camera_id}: model {model_name} gave no result in {self.timeout_s} s",
                             retryable=True) from exc
