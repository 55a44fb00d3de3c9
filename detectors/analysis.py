"""One camera's analysis step: give each detector the frames it wants, with its model's detections.

Shared by the live service (inference through the cross-camera batcher) and `replay` (direct inference),
so both run exactly the same detector logic. Detectors sharing a model on the same frame share one
inference. A detector that offers `detectors.base.RegionSource` has its model gated (`models.gating`):
one `Gate` per model decides per frame whether the model runs, on which crops, or on the whole frame;
the detector receives detections in source pixels either way and needs no change. On a still frame
(nothing changed, nothing watched) a detector that offers `detectors.base.StillAware` is told so before
`process`, and may rest its own cues. A detector that offers `detectors.base.IncidentSource` names its
open incidents, which the gate re-looks at every `gating.incident_relook_s` rather than on every frame.
"""

from __future__ import annotations

import logging
import time
from collections import deque
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import Future
from dataclasses import dataclass, field

import numpy as np
from numpy.typing import NDArray

from detectors.base import Detector, IncidentSource, RegionSource, StillAware
from detectors.event import Event
from ingest.frame import Frame
from ingest.sampling import PtsSampler
from models.batcher import FrameDroppedError
from models.detections import Detections
from models.gating import Gate, GateStats, ModelGeometry

log = logging.getLogger(__name__)

InferFn = Callable[[str, Frame], Detections]
"""(model name, frame) -> detections in the frame's pixels."""

SubmitFn = Callable[[str, NDArray[np.uint8], tuple[int, int] | None], Future[Detections]]
"""(model name, image or crop, model input size or None) -> future detections in that image's pixels."""


@dataclass(frozen=True)
class GatedInference:
    """What gated inference needs from its host: a way to submit images and crops, and each model's shape."""

    submit: SubmitFn
    geometry: Mapping[str, ModelGeometry]


class RateGate:
    """Passes frames at most `fps` times per second of stream time (pts), whatever the input rate."""

    def __init__(self, fps: float) -> None:
        self.sampler = PtsSampler(fps)  # the sampler the decoder uses too, so the two stages agree

    def due(self, pts_s: float) -> bool:
        return self.sampler.accept(pts_s)


_STAGE_SAMPLES = 10_000
"""Samples kept between two scrapes; older ones are dropped, so an unscraped node does not grow."""


@dataclass
class StageTimes:
    """Seconds spent per stage, waiting for the metrics collector (inference includes batcher wait)."""

    inference_s: deque[float] = field(default_factory=lambda: deque(maxlen=_STAGE_SAMPLES))
    detector_s: deque[float] = field(default_factory=lambda: deque(maxlen=_STAGE_SAMPLES))
    change_s: deque[float] = field(default_factory=lambda: deque(maxlen=_STAGE_SAMPLES))
    """The gate's change signal and region planning (wall time, before any inference)."""
    change_cpu_total_s: float = 0.0
    """The same step's CPU time on its thread, summed (what it costs, whatever else the machine runs)."""
    detector_cpu_total_s: float = 0.0
    """The detectors' `process` CPU time on this thread, summed (their cues, tracks and events)."""

    def drain(self) -> tuple[list[float], list[float]]:
        """Take the samples so far (one consumer; the analysis thread may append meanwhile)."""
        return _take(self.inference_s), _take(self.detector_s)

    def drain_change(self) -> list[float]:
        return _take(self.change_s)


def _take(samples: deque[float]) -> list[float]:
    out = []
    while samples:
        out.append(samples.popleft())
    return out


class CameraAnalysis:
    """Runs a camera's detectors on its frames; returns the events they emit."""

    def __init__(
        self, camera_id: str, detectors: Sequence[Detector], infer: InferFn | None,
        gated: GatedInference | None = None,
    ) -> None:
        """`gated`: run the models of detectors that offer `RegionSource` through a `Gate` (else whole frames)."""
        self.camera_id = camera_id
        self.detectors = list(detectors)
        self.infer = infer
        self.gates = [RateGate(d.analysis_fps) for d in self.detectors]
        self.frames_analysed = 0
        self.frames_without_inference = 0
        self.times = StageTimes()
        self.gated = gated
        self.model_gates: dict[str, Gate] = {}
        """One gate per gated model (the first detector naming the model sets its `gating` settings)."""
        self._gate_config: dict[str, RegionSource] = {}
        self._watchers: dict[str, list[RegionSource]] = {}
        for det in self.detectors:
            if det.model_name and infer is None:
                raise ValueError(f"camera {camera_id}: detector {det.name} needs model {det.model_name}")
            model = det.model_name
            if model and gated is not None and model in gated.geometry and isinstance(det, RegionSource):
                self._watchers.setdefault(model, []).append(det)
                if model not in self.model_gates:
                    self.model_gates[model] = Gate(camera_id, model, gated.geometry[model])
                    self._gate_config[model] = det

    @property
    def max_fps(self) -> float:
        """The highest analysis rate any detector asks for (what the source should sample at)."""
        return max((d.analysis_fps for d in self.detectors), default=0.0)

    def analyse(self, frame: Frame) -> list[Event]:
        events: list[Event] = []
        cache: dict[str, Detections] = {}
        analysed = False
        for det, gate in zip(self.detectors, self.gates, strict=True):
            if not gate.due(frame.pts_s):
                continue
            analysed = True
            detections: Detections | None = None
            if det.model_name:
                detections = cache.get(det.model_name)
                if detections is None:
                    assert self.infer is not None
                    try:
                        detections = self._infer(det.model_name, frame)
                    except FrameDroppedError:
                        # The batcher shed this frame (stale or overload) and counted why; this
                        # detector skips it, exactly as if the frame had not been sampled.
                        self.frames_without_inference += 1
                        continue
                    cache[det.model_name] = detections
            t0, c0 = time.perf_counter(), time.thread_time()
            events.extend(det.process(frame, detections))
            self.times.detector_s.append(time.perf_counter() - t0)
            self.times.detector_cpu_total_s += time.thread_time() - c0
        if analysed:
            self.frames_analysed += 1
        return events

    def _infer(self, model: str, frame: Frame) -> Detections:
        """Whole-frame inference, or through the model's gate when it has one."""
        gate = self.model_gates.get(model)
        if gate is None or self.gated is None:
            assert self.infer is not None
            t0 = time.perf_counter()
            detections = self.infer(model, frame)
            self.times.inference_s.append(time.perf_counter() - t0)
            return detections
        t0, c0 = time.perf_counter(), time.thread_time()
        watchers = self._watchers[model]
        watched = [w.inference_regions(self.camera_id) for w in watchers]
        incidents = [w.incident_regions(self.camera_id) for w in watchers if isinstance(w, IncidentSource)]
        plan = gate.plan(frame.image, frame.captured_at, np.concatenate(watched), self._gate_config[model].gating,
                         np.concatenate(incidents) if incidents else None)
        t1 = time.perf_counter()
        self.times.change_s.append(t1 - t0)
        self.times.change_cpu_total_s += time.thread_time() - c0
        if plan.cues_rest:
            for watcher in self._watchers[model]:
                if isinstance(watcher, StillAware):
                    watcher.still(self.camera_id, frame.captured_at)
        submit = self.gated.submit

        def one(image: NDArray[np.uint8], input_hw: tuple[int, int] | None) -> Future[Detections]:
            return submit(model, image, input_hw)

        detections = gate.run(frame.image, plan, one)
        if plan.runs_model:
            self.times.inference_s.append(time.perf_counter() - t1)
        return detections

    def gate_stats(self) -> dict[str, GateStats]:
        """A copy of each gated model's counters (for metrics)."""
        return {model: gate.snapshot() for model, gate in self.model_gates.items()}

    def annotate_gates(self, image: NDArray[np.uint8]) -> NDArray[np.uint8]:
        """Each gate's last decision drawn on a copy (replay --annotate)."""
        for gate in self.model_gates.values():
            image = gate.annotate(image)
        return image

    def flush(self, now: float) -> list[Event]:
        """End every open incident of every detector (shutdown, camera removed, bucket revoked)."""
        events: list[Event] = []
        for det in self.detectors:
            try:
                events.extend(det.flush(now))
            except Exception:
                log.exception("camera %s: detector %s failed to flush", self.camera_id, det.name)
        return events
