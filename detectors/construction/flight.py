"""Process one drone flight end to end: frames with poses in, events and a flight summary out.

Used by `gridwatch replay VIDEO --telemetry SRT` and by the service for uploaded flights. Frames are
sampled at the detector's `analysis_fps` by presentation time (the service samples before calling
`process` itself; a replay hands over every decoded frame).
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from detectors.construction.detector import ConstructionDetector
from detectors.construction.summary import FlightSummary
from detectors.event import Event
from ingest.frame import Frame
from ingest.sampling import PtsSampler
from models.detections import Detections


@dataclass(frozen=True)
class FlightResult:
    """Every event of the flight (starts as sites were confirmed, ends at the end) and its summary."""

    events: list[Event]
    summary: FlightSummary
    frames_seen: int


class FlightProcessor:
    """Feed a flight's frames one by one (`feed`), then `finish` for the end events and the summary."""

    def __init__(
        self, detector: ConstructionDetector, flight_id: str | None = None, analysis_fps: float | None = None
    ) -> None:
        """`flight_id` defaults to the first frame's camera_id; `analysis_fps` to the detector's (0: all)."""
        self.detector = detector
        self.flight_id = flight_id
        fps = detector.analysis_fps if analysis_fps is None else analysis_fps
        self._sampler = PtsSampler(fps)  # the service's sampler, so a replay analyses the same frames
        self.events: list[Event] = []
        self.frames_seen = 0
        self._last_at: float | None = None

    def feed(self, frame: Frame, detections: Detections | None = None) -> list[Event]:
        """Analyse the frame if it is due; return the events it produced."""
        if self.flight_id is None:
            self.flight_id = frame.camera_id
        frame = self._as_flight(frame)
        self.frames_seen += 1
        self._last_at = frame.captured_at
        if not self._sampler.accept(frame.pts_s):
            return []
        events = self.detector.process(frame, detections)
        self.events += events
        return events

    def annotate(self, frame: Frame) -> NDArray[np.uint8]:
        """The frame with the flight's footprints and site ids drawn from this frame's own pose."""
        return self.detector.annotate_frame(self._as_flight(frame))

    def _as_flight(self, frame: Frame) -> Frame:
        """The frame under this flight's id (a replay may name the source differently)."""
        if self.flight_id is None or frame.camera_id == self.flight_id:
            return frame
        return Frame(
            camera_id=self.flight_id,
            seq=frame.seq,
            captured_at=frame.captured_at,
            pts_s=frame.pts_s,
            image=frame.image,
            pose=frame.pose,
            keyframe=frame.keyframe,
            meta=frame.meta,
        )

    def finish(self, now: float | None = None) -> FlightResult:
        """End the flight: `end` events for its alerted sites (and late `start`s), and the summary."""
        flight_id = self.flight_id or "flight"
        if flight_id in self.detector.open_flights():
            events, summary = self.detector.end_flight(flight_id, now if now is not None else self._last_at)
        else:
            events, summary = [], self.detector.empty_summary(flight_id)
        self.events += events
        return FlightResult(events=list(self.events), summary=summary, frames_seen=self.frames_seen)


def process_flight(
    frames: Iterable[Frame],
    detector: ConstructionDetector,
    *,
    flight_id: str | None = None,
    analysis_fps: float | None = None,
) -> FlightResult:
    """Run a whole flight through the detector (no model detections: cue and injected tiled model)."""
    proc = FlightProcessor(detector, flight_id=flight_id, analysis_fps=analysis_fps)
    for frame in frames:
        proc.feed(frame)
    return proc.finish(now=None if proc.frames_seen else time.time())
