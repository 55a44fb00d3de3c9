"""What a gate decides for one frame (`GatePlan`: path, reason, crops) and what it counts (`GateStats`).

The (path, reason) pairs are the labels of `gridwatch_gate_frames_total`; see `models.gating` for when
each path is taken.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field, replace
from enum import StrEnum

import numpy as np
from numpy.typing import NDArray

from models.change import Change
from models.detections import Detections


class InferencePath(StrEnum):
    """How one analysed frame reached the model (the `path` metric label)."""

    SKIPPED = "skipped"
    REGIONS = "regions"
    FULL = "full"
    SWEEP = "sweep"
    REUSED = "reused"
    UNGATED = "ungated"


class PathReason(StrEnum):
    """Why a path was taken (the `reason` metric label)."""

    NO_CHANGE = "no_change"
    CHANGE = "change"
    WATCHED = "watched"
    FIRST = "first"
    SCHEDULE = "schedule"
    CROPS_COST = "crops_cost"
    TOO_MANY_REGIONS = "too_many_regions"
    CHANGED_SHARE = "changed_share"
    UNCHANGED = "unchanged"
    INCIDENT_HELD = "incident_held"
    OFF = "off"


@dataclass(frozen=True)
class GatePlan:
    """The path chosen for one frame, with what it was chosen from (for annotation and tests)."""

    path: InferencePath
    reason: PathReason
    crops: NDArray[np.int32]
    change: Change
    watched: NDArray[np.float32]
    crop_inputs: tuple[tuple[int, int], ...] = ()
    """The model input (height, width) of each crop (regions path)."""
    next_sweep_in_s: float = 0.0
    captured_at: float = 0.0
    rechecks_deferred: int = 0
    reused: Detections = field(default_factory=Detections.empty)
    """Detections (source pixels) of earlier looks given again for unchanged watched regions."""
    regions_reused: int = 0
    cues_rest: bool = False
    """Nothing changed anywhere and nothing is watched: the detectors' own cues may rest on this frame."""
    held: NDArray[np.int32] = field(default_factory=lambda: np.zeros((0, 4), np.int32))
    """Crops (source pixels) of open incidents held on this frame: looked at less than `incident_relook_s`
    ago, not sent again (their detections are in `reused`)."""
    incidents_held: int = 0
    incident_relook_in_s: float | None = None
    """Capture-time seconds until the first held incident is looked at again (None: none held)."""
    incident_crops: NDArray[np.int32] = field(default_factory=lambda: np.zeros((0, 4), np.int32))
    """Crops of the open incidents this frame's model run looks at (recorded as their new looks)."""

    @property
    def runs_model(self) -> bool:
        return self.path not in (InferencePath.SKIPPED, InferencePath.REUSED)


@dataclass
class GateStats:
    """Counters of one gate: frames by (path, reason), crops sent, and model input pixels spent."""

    frames: Counter[tuple[str, str]] = field(default_factory=Counter)
    regions: int = 0
    deferred: int = 0
    """Changed blobs left out because the model saw them empty less than `recheck_after_s` ago."""
    reused: int = 0
    """Watched regions given the model's detections of an earlier look (nothing changed there since)."""
    cues_rested: int = 0
    """Still frames (nothing changed, nothing watched) on which the detectors' cues were told to rest."""
    incidents_held: int = 0
    """Open incidents given their last look's detections again (looked at less than `incident_relook_s` ago)."""
    incident_looks: int = 0
    """Open incidents the model looked at (in a crop, a full frame or a sweep)."""
    input_px: int = 0
    full_frame_input_px: int = 0
    """What the same frames would have cost ungated (for the saving ratio)."""

    def snapshot(self) -> GateStats:
        return replace(self, frames=Counter(self.frames))
