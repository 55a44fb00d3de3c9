"""A construction flight's camera calibration (`detectors.geometry.selfcal`): fed frames while it is
pending, and once it is decided every sighting placed again with the calibrated camera (sites that turn
out to be one structure merge, counted in `rejected`) and the waiting sites released.
"""

from __future__ import annotations

import logging
import math
from collections import Counter

import numpy as np

from detectors.construction.candidates import GroundCandidates, project
from detectors.construction.config import ConstructionConfig
from detectors.construction.flight_state import FlightState
from detectors.construction.sites import Observation
from detectors.geometry.drone import DroneView, build_view, resolve_attitude
from detectors.geometry.selfcal import SelfCalibrator
from detectors.geometry.selfcal_fit import CalibrationResult, CalibrationStatus
from ingest.frame import Frame

# The detector's logger: these lines were the detector's before this module was split off, and operators'
# logging configuration names that logger.
log = logging.getLogger("detectors.construction.detector")


def feed_calibration(flight: FlightState, frame: Frame, config: ConstructionConfig, rejected: Counter[str]) -> None:
    """Feed the flight's calibration while it is pending; apply its result when it is decided."""
    cfg = config
    cal_cfg = cfg.calibration
    if flight.calibration is None:
        if not cal_cfg.enabled:
            flight.calibration = configured_result(flight, frame, config, "self-calibration is off")
            return
        flight.calibrator = SelfCalibrator(cal_cfg)
        flight.calibration = CalibrationResult(CalibrationStatus.PENDING, "collecting frames", math.nan)
    if not flight.calibrating or flight.calibrator is None:
        return
    pose = frame.pose
    assert pose is not None and flight.origin is not None
    view0 = build_view(pose, frame.width, frame.height, cfg.camera, cfg.geometry, origin=flight.origin)
    att = resolve_attitude(pose, cfg.geometry.uncertainty)
    flight.calibrator.add(np.asarray(frame.image), view0, att.yaw_deg, att.pitch_deg, att.roll_deg)
    n = flight.frames_used + 1
    first = cal_cfg.first_attempt_frames
    due = n >= first and (n - first) % cal_cfg.attempt_every_frames == 0
    if due or n >= cal_cfg.give_up_frames:
        settle_calibration(flight, flight.calibrator.solve(final=n >= cal_cfg.give_up_frames), config, rejected)


def configured_result(flight: FlightState, frame: Frame, config: ConstructionConfig, why: str) -> CalibrationResult:
    """The configured camera as the flight's calibration (self-calibration off): its focal length, for the summary."""
    pose = frame.pose
    focal = math.nan
    if pose is not None and flight.origin is not None:
        cfg = config
        focal = build_view(pose, frame.width, frame.height, cfg.camera, cfg.geometry).intrinsics.fx_px
    return CalibrationResult(CalibrationStatus.CONFIGURED, why, focal)


def settle_calibration(
    flight: FlightState, result: CalibrationResult, config: ConstructionConfig, rejected: Counter[str]
) -> None:
    """Keep a calibration result; once it is decided, place every sighting again and release sites."""
    flight.calibration = result
    if result.status == CalibrationStatus.PENDING:
        log.debug("construction: flight %s calibration still pending: %s", flight.flight_id, result.reason)
        return
    flight.calibrator = None  # its keypoints are no longer needed
    log.info("construction: flight %s %s", flight.flight_id, result.describe())
    if result.correction is not None:
        merged = flight.book.reproject(lambda ob: place_sighting(flight, ob, config))
        if merged:
            rejected["merged_after_calibration"] += merged
    flight.ready_to_release = True


def place_sighting(
    flight: FlightState, ob: Observation, config: ConstructionConfig
) -> tuple[GroundCandidates, DroneView] | None:
    """One sighting projected with the flight's current camera (None when it no longer projects)."""
    cfg = config
    if ob.pose is None or flight.origin is None:
        return None
    view = build_view(
        ob.pose,
        ob.width_px,
        ob.height_px,
        cfg.camera,
        cfg.geometry,
        origin=flight.origin,
        correction=flight.correction,
    )
    ground, _ = project(
        ob.pixel,
        view,
        flight.registry if cfg.registry.use_heights else None,
        scaffold_reach_m=cfg.registry.scaffold_reach_m,
        top_height_m=cfg.top_height_m,
    )
    return (ground, view) if len(ground) == 1 else None
