"""What `FireDetector` keeps: the settings derived from one config, and each camera's cues, tracks and cooldowns.

Held apart from the detector so the tracking and event-building modules can read and update a camera's state
without importing the detector (no import cycle)."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from numpy.typing import NDArray

from detectors.fire.blobs import integral
from detectors.fire.candidates import Candidates
from detectors.fire.config import FireConfig
from detectors.fire.cues import FlameCue
from detectors.fire.schedule import ActiveHours
from detectors.fire.smoke_cue import SmokeCue
from detectors.fire.tracks import Track
from detectors.zones import RegionMask


@dataclass(frozen=True)
class DetectorSettings:
    """Everything derived from one config, swapped as a single reference on hot reload."""

    config: FireConfig
    lookup: NDArray[np.int8]
    zones: RegionMask
    masks: RegionMask
    hours: ActiveHours
    mask_tables: dict[tuple[int, int], NDArray[np.float64]] = field(default_factory=dict)

    def mask_table(self, width: int, height: int) -> NDArray[np.float64]:
        """Summed-area table of the static masks at a frame size (built once per size)."""
        table = self.mask_tables.get((width, height))
        if table is None:
            table = self.mask_tables[(width, height)] = integral(self.masks.raster(width, height))
        return table


@dataclass
class CameraState:
    """One camera's cue history, tracks, recent incident ends (cooldowns) and last frame's candidates."""

    flame: FlameCue = field(default_factory=FlameCue)
    smoke: SmokeCue = field(default_factory=SmokeCue)
    tracks: list[Track] = field(default_factory=list)
    next_track_id: int = 1
    cooldowns: list[tuple[int, NDArray[np.float64], float]] = field(default_factory=list)
    last_candidates: Candidates = field(default_factory=Candidates.empty)
    frame_size: tuple[int, int] = (0, 0)
    previous_luma: NDArray[np.int16] | None = None
    still_at: float | None = None
    """Capture time of a frame the gate called still (`FireDetector.still`), until `process` takes it."""
