"""The per-camera analysis step: each detector gets frames at its own rate, shared inference, drops."""

from __future__ import annotations

import numpy as np
from pydantic import BaseModel

from detectors.analysis import CameraAnalysis, RateGate
from detectors.base import DetectorStats
from detectors.event import Event
from ingest.frame import Frame
from models.batcher import StaleFrameError
from models.detections import Detections


class FakeDetector:
    """Records what it was given; the seam the service drives."""

    def __init__(self, name: str, fps: float, model: str | None) -> None:
        self.name = name
        self.stats = DetectorStats()
        self._fps = fps
        self._model = model
        self.seen: list[tuple[int, bool]] = []

    @property
    def analysis_fps(self) -> float:
        return self._fps

    @property
    def model_name(self) -> str | None:
        return self._model

    def process(self, frame: Frame, detections: Detections | None) -> list[Event]:
        self.seen.append((frame.seq, detections is not None))
        return []

    def flush(self, now: float) -> list[Event]:
        return []

    def reconfigure(self, config: BaseModel) -> None:
        return None

    def annotate(self, image: np.ndarray) -> np.ndarray:  # type: ignore[type-arg]
        return image


def frames(n: int, fps: float) -> list[Frame]:
    img = np.zeros((8, 8, 3), np.uint8)
    return [Frame("cam", i, 1e9 + i / fps, i / fps, img.copy()) for i in range(n)]


def test_rate_gate_keeps_the_average_rate_and_restarts_after_a_pts_jump() -> None:
    gate = RateGate(5.0)
    passed = [i for i in range(250) if gate.due(i / 25.0)]
    assert len(passed) == 50 and passed[:3] == [0, 5, 10]
    assert gate.due(0.0), "a stream that restarted (pts back to 0) is sampled again at once"


def test_detectors_share_one_inference_per_frame_at_their_own_rates() -> None:
    calls: list[int] = []

    def infer(model: str, frame: Frame) -> Detections:
        calls.append(frame.seq)
        return Detections.empty()

    fast, slow, free = FakeDetector("a", 25, "m"), FakeDetector("b", 5, "m"), FakeDetector("c", 1, None)
    analysis = CameraAnalysis("cam", [fast, slow, free], infer)  # type: ignore[list-item]
    for f in frames(50, 25.0):
        analysis.analyse(f)
    assert len(fast.seen) == 50 and len(slow.seen) == 10 and len(free.seen) == 2
    assert len(calls) == 50, "the 5 fps detector reuses the 25 fps detector's inference"
    assert all(has for _, has in slow.seen) and not any(has for _, has in free.seen)
    assert analysis.max_fps == 25


def test_a_frame_the_batcher_shed_is_skipped_not_fatal() -> None:
    def infer(model: str, frame: Frame) -> Detections:
        if frame.seq % 2:
            raise StaleFrameError("stale", "cam")
        return Detections.empty()

    det = FakeDetector("a", 25, "m")
    analysis = CameraAnalysis("cam", [det], infer)  # type: ignore[list-item]
    for f in frames(10, 25.0):
        analysis.analyse(f)
    assert [seq for seq, _ in det.seen] == [0, 2, 4, 6, 8]
    assert analysis.frames_without_inference == 5
