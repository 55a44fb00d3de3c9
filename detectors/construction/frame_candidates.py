"""A construction frame's candidates: gathered from the model's detections and the blue-roof cue, kept only
where seen steeply enough, and held to the configured size bounds once on the ground. Each step counts
what it drops in the detector's `rejected` counter, so a flight summary says why candidates went.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Mapping

import numpy as np
from numpy.typing import NDArray

from detectors.construction.candidates import SOURCE_CUE, Candidates, GroundCandidates, from_cues, from_detections
from detectors.construction.config import ConstructionConfig
from detectors.construction.cue import find_blue_roofs
from detectors.construction.polygons import quad_widths_m
from detectors.construction.registry_entries import StructureKind
from detectors.geometry.drone import DroneView
from ingest.frame import Frame
from models.detections import Detections

Infer = Callable[[NDArray[np.uint8]], Detections]
"""Tiled inference over a full frame: BGR image -> Detections in that image's pixels."""


def steep_only(cands: Candidates, view: DroneView, config: ConstructionConfig, rejected: Counter[str]) -> Candidates:
    """Drop candidates seen too far off nadir (counted as too_oblique): their ground outline is too
    uncertain to size or to compare with the registry."""
    if len(cands):
        steep = view.ray_off_nadir_deg(cands.quads_px.mean(axis=1)) <= config.max_candidate_off_nadir_deg
        if not steep.all():
            rejected["too_oblique"] += int((~steep).sum())
            cands = cands.select(steep)
    return cands


def frame_candidates(
    frame: Frame,
    detections: Detections | None,
    config: ConstructionConfig,
    infer: Infer | None,
    class_kinds: Mapping[int, StructureKind],
    rejected: Counter[str],
) -> Candidates:
    """A frame's candidates in its pixels: the service's detections, the tiled model's (when injected) and
    the blue-roof cue's; unmapped classes and low-confidence cues are counted in `rejected`."""
    cfg = config
    parts: list[Candidates] = []
    model_dets: list[Detections] = []
    if detections is not None:
        model_dets.append(detections)
    if infer is not None and cfg.model is not None and cfg.tiled:
        model_dets.append(infer(frame.image))
    for dets in model_dets:
        cands, unmapped = from_detections(
            dets,
            class_kinds,
            cfg.min_model_confidence,
            width_px=frame.width,
            height_px=frame.height,
        )
        if unmapped:
            rejected["unmapped_class"] += unmapped
        parts.append(cands)
    if cfg.cue.enabled:
        cues = find_blue_roofs(frame.image, cfg.cue)
        low = int((cues.confidence < cfg.cue.min_confidence).sum())
        if low:
            rejected["cue_low_confidence"] += low
        parts.append(from_cues(cues, cfg.cue.min_confidence))
    return Candidates.concat(parts)


def size_gate(ground: GroundCandidates, config: ConstructionConfig, rejected: Counter[str]) -> GroundCandidates:
    """Ground candidates within the configured area bounds (the cue has its own, and a width floor); a
    candidate cut by the frame edge is held only to its upper bound. What is dropped is counted in `rejected`."""
    cfg = config
    cue = ground.pixel.source == SOURCE_CUE
    lo = np.where(cue, cfg.cue.min_area_m2, cfg.min_area_m2)
    hi = np.where(cue, cfg.cue.max_area_m2, cfg.max_area_m2)
    # A candidate cut by the frame edge may be larger than it looks: only its upper bound applies.
    small = (ground.area_m2 < lo) & ~ground.pixel.truncated
    large = ground.area_m2 > hi
    narrow = cue & ~ground.pixel.truncated & (quad_widths_m(ground.rings_m) < cfg.cue.min_width_m) & ~small
    if small.any():
        rejected["too_small"] += int(small.sum())
    if large.any():
        rejected["too_large"] += int(large.sum())
    if narrow.any():
        rejected["too_narrow"] += int(narrow.sum())
    return ground.select(~small & ~large & ~narrow)
