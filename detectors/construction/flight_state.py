"""What the construction detector remembers about one flight (source id): its origin and local registry,
its sites, what it skipped, its track and footprints, and its camera calibration. Apart from the detector
so the reports and drawing built from it need not import the detector.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

import numpy as np
from numpy.typing import NDArray

from detectors.construction.candidates import GroundCandidates
from detectors.construction.local_registry import LocalRegistry
from detectors.construction.sites import SiteBook
from detectors.geometry.drone import DroneView
from detectors.geometry.drone_camera import CameraCorrection
from detectors.geometry.selfcal import SelfCalibrator
from detectors.geometry.selfcal_fit import CalibrationResult, CalibrationStatus


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
