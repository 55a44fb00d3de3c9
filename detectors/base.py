"""What every detector offers the service: one `process()` per analysed frame, like norfair's `update()`.

A detector owns the per-camera (or per-flight) state for one kind of incident. The service gives it
frames at the rate it asks for (`analysis_fps`), with the detections of its model when it names one
(`model_name`), and passes the events it returns to the alerts package. Detectors never block on I/O.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Protocol, runtime_checkable

import numpy as np
from numpy.typing import NDArray
from pydantic import BaseModel

from detectors.event import Event
from ingest.frame import Frame
from models.config import GatingConfig
from models.detections import Detections


@dataclass
class DetectorStats:
    """Plain counters the metrics registry reads at scrape time (labels: detector, camera_id, kind/reason)."""

    frames: int = 0
    candidates: int = 0
    confirmations: int = 0
    events: Counter[str] = field(default_factory=Counter)
    rejected: Counter[str] = field(default_factory=Counter)


@runtime_checkable
class Detector(Protocol):
    """The interface the service, `replay` and the benchmarks drive."""

    name: str
    """Detector name as in config and in its registration (`gridwatch/registered/`): `fire`, `throw`, ..."""

    @property
    def stats(self) -> DetectorStats:
        """Counters for metrics (a detector may keep a subclass with more)."""
        ...

    @property
    def analysis_fps(self) -> float:
        """Frames per second this detector wants to analyse (the sampler honours it)."""
        ...

    @property
    def model_name(self) -> str | None:
        """Name of the configured model whose detections `process` expects, or None (weights-free)."""
        ...

    def process(self, frame: Frame, detections: Detections | None) -> list[Event]:
        """Consume one analysed frame (and its model detections, if any); return new events."""
        ...

    def flush(self, now: float) -> list[Event]:
        """End every open incident (shutdown, camera removed or reassigned); return the `end` events."""
        ...

    def reconfigure(self, config: BaseModel) -> None:
        """Swap thresholds, zones and masks (hot reload) while keeping tracks and open incidents."""
        ...

    def annotate(self, image: NDArray[np.uint8]) -> NDArray[np.uint8]:
        """Draw the detector's current state (boxes, tracks, counters, reasons) on a BGR copy for replay."""
        ...


@runtime_checkable
class RegionSource(Protocol):
    """A model-using detector that lets its model be gated (`models.gating`): it says how, and where to look.

    Optional: a detector with a model that does not offer it gets the whole frame on every analysed frame.
    """

    @property
    def gating(self) -> GatingConfig:
        """This camera's gating settings (read on every frame, so a hot reload applies at once)."""
        ...

    def inference_regions(self, camera_id: str) -> NDArray[np.float32]:
        """Boxes (N, 4, source pixels) the model must look at on this camera's next frame even if nothing
        changed there: the detector's current candidates, tracks and open incidents."""
        ...


@runtime_checkable
class IncidentSource(Protocol):
    """A gated detector that says which of its watched regions are open incidents (`models.gating`,
    `incident_relook_s`): those are looked at by the model every few seconds, not on every frame.

    Optional: without it every watched region is looked at whenever something changed in it.
    """

    def incident_regions(self, camera_id: str) -> NDArray[np.float32]:
        """Boxes (N, 4, source pixels) of this camera's open incidents (each also among its
        `inference_regions`)."""
        ...


@runtime_checkable
class StillAware(Protocol):
    """A gated detector with per-pixel work of its own (the fire cues) that it may skip on a still frame.

    Optional. The gate calls a frame still when its change signal found nothing changed anywhere and the
    detector watches nothing (`models.gating`, `rest_cues_when_still`); the host then calls `still`
    before `process` of that frame.
    """

    def still(self, camera_id: str, captured_at: float) -> None:
        """This camera's frame captured at `captured_at` is still: when `process` gets it, the detector's
        own cues may take it as the previous frame again."""
        ...
