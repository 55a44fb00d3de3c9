"""One camera's analysis step: give each detector the frames it wants, with its model's detections.

Shared by the live service (inference through the cross-camera batcher) and `replay` (direct inference),
so both run exactly the same detector logic. Detectors sharing a model on the same frame share one
inference.
"""

from __future__ import annotations

import logging
import time
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from detectors.base import Detector
from detectors.event import Event
from ingest.frame import Frame
from ingest.sampling import PtsSampler
from models.batcher import FrameDroppedError
from models.detections import Detections

log = logging.getLogger(__name__)

InferFn = Callable[[str, Frame], Detections]
"""(model name, frame) -> detections in the frame's pixels."""


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

    def drain(self) -> tuple[list[float], list[float]]:
        """Take the samples so far (one consumer; the analysis thread may append meanwhile)."""
        return _take(self.inference_s), _take(self.detector_s)


def _take(samples: deque[float]) -> list[float]:
    out = []
    while samples:
        out.append(samples.popleft())
    return out


class CameraAnalysis:
    """Runs a camera's detectors on its frames; returns the events they emit."""

    def __init__(self, camera_id: str, detectors: Sequence[Detector], infer: InferFn | None) -> None:
        self.camera_id = camera_id
        self.detectors = list(detectors)
        self.infer = infer
        self.gates = [RateGate(d.analysis_fps) for d in self.detectors]
        self.frames_analysed = 0
        self.frames_without_inference = 0
        self.times = StageTimes()
        for det in self.detectors:
            if det.model_name and infer is None:
                raise ValueError(f"camera {camera_id}: detector {det.name} needs model {det.model_name}")

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
                    t0 = time.perf_counter()
                    try:
                        detections = self.infer(det.model_name, frame)
                    except FrameDroppedError:
                        # The batcher shed this frame (stale or overload) and counted why; this
                        # detector skips it, exactly as if the frame had not been sampled.
                        self.frames_without_inference += 1
                        continue
                    self.times.inference_s.append(time.perf_counter() - t0)
                    cache[det.model_name] = detections
            t0 = time.perf_counter()
            events.extend(det.process(frame, detections))
            self.times.detector_s.append(time.perf_counter() - t0)
        if analysed:
            self.frames_analysed += 1
        return events

    def flush(self, now: float) -> list[Event]:
        """End every open incident of every detector (shutdown, camera removed, bucket revoked)."""
        events: list[Event] = []
        for det in self.detectors:
            try:
                events.extend(det.flush(now))
            except Exception:
                log.exception("camera %s: detector %s failed to flush", self.camera_id, det.name)
        return events
