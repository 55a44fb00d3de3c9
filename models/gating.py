"""Gated inference: run the model only where, and only when, something may have changed.

One `Gate` per camera and model. For every frame a detector analyses, `plan()` picks one path:

- `sweep`: the whole frame, on a schedule. Every camera gets a full-frame look at least every
  `sweep_every_s` of capture time (and on its first frame), staggered across cameras by a fixed phase
  drawn from the camera id, so a node's cameras do not sweep together. This catches a steady fire that
  changes nothing between frames.
- `skipped`: nothing changed (see `models.change`) and the detector watches nothing: the model does not
  run, and the detector gets empty detections, exactly what the model would have added there: nothing new.
- `regions`: crops around the changed blobs and the regions the detector watches (its candidates, its
  tracks and open incidents; `detectors.base.RegionSource`), with context, merged where they overlap
  (see `models.regions`), each run through the cross-camera batcher at `crop_input_px`, or larger for a
  large crop so that no region is seen coarser than in the whole frame, boxes mapped back to source
  pixels. A small distant flame gets more model pixels in a crop than in the letterboxed frame.
  A changed blob lying inside a crop that the model saw empty less than `recheck_after_s` ago is left out
  (a blinking lamp is looked at about once a second, not on every frame); watched regions never are.
  A watched region lying inside a crop the model ran on less than `recheck_after_s` ago, where nothing has
  changed since (no change blob touches that crop), is not run again: the detector gets the model's
  detections from that look once more (what the model would say again on the same pixels). A still
  false look-alike or a steady incident therefore costs one crop every `recheck_after_s`, not one per
  frame, while anything that moves in it is looked at on the next frame.
- `reused`: every region was such an unchanged watched region; the model does not run.
- `full`: the whole frame instead of crops, when the crops would cost at least as much model input as
  the frame (`crops_cost`), when there are more than `max_regions` (`too_many_regions`), or when most of
  the picture changed at once (`changed_share`: lights switched, the camera moved).

A `skipped` frame on which the change signal found no blob at all (not even one left out as seen empty)
is *still*: with `rest_cues_when_still` the plan says so (`cues_rest`), and the host tells the detectors
(`detectors.base.StillAware`), whose own weights-free cues then rest on that frame too (counted in
`GateStats.cues_rested`, drawn by `annotate`).

With gating off every analysed frame takes path `ungated` (the whole frame). Each (path, reason) is
counted in `GateStats`, exported as `gridwatch_gate_frames_total`, and drawn by `annotate` in
`gridwatch replay --annotate`.
"""

from __future__ import annotations

import math
import threading
import zlib
from collections import Counter
from collections.abc import Callable
from concurrent.futures import Future
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import dataclass, field, replace
from enum import StrEnum
from typing import TYPE_CHECKING

import cv2
import numpy as np
from numpy.typing import NDArray

from foundation.errors import ModelError
from models.batcher import FrameDroppedError
from models.change import Change, ChangeSignal
from models.config import GatingConfig
from models.detections import Detections
from models.preprocess import plan_batch
from models.regions import cut, merge_source, plan_crops, shift

if TYPE_CHECKING:
    from models.runtime import ModelInfo

Submit = Callable[[NDArray[np.uint8], tuple[int, int] | None], Future[Detections]]
"""(image, model input size or None for the model's own) -> its detections, in the image's pixels."""


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
    OFF = "off"


@dataclass(frozen=True)
class ModelGeometry:
    """What the gate needs to know of a model to price a frame against crops."""

    imgsz: tuple[int, int]
    stride: int
    dynamic: bool
    rect: bool

    def full_input_px(self, frame_hw: tuple[int, int]) -> int:
        """Model input pixels of one whole frame (rect letterboxing when the model uses it)."""
        (h, w), _ = plan_batch([frame_hw], self.imgsz, self.stride, rect=self.rect)
        return h * w

    @classmethod
    def of(cls, info: ModelInfo) -> ModelGeometry:
        """The geometry of a loaded model."""
        return cls(imgsz=info.imgsz, stride=info.stride, dynamic=info.dynamic_hw, rect=info.rect)

    def crop_input_hw(self, crop_input_px: int) -> tuple[int, int]:
        """Input size of a small crop: `crop_input_px` rounded down to the stride, or the fixed export's size."""
        if not self.dynamic:
            return self.imgsz
        side = max(self.stride, crop_input_px // self.stride * self.stride)
        return side, side

    def crop_inputs(
        self, crops: NDArray[np.int32], frame_hw: tuple[int, int], crop_input_px: int,
    ) -> tuple[tuple[int, int], ...]:
        """Each crop's model input (height, width): the longer side at least `crop_input_px` (a small region
        is magnified) and at least what the whole frame's scale gives (a large region is never seen
        coarser than in a sweep), at most the model's own size; the shorter side in proportion. Multiples
        of the stride. A fixed-shape export runs every crop at its own size."""
        base = self.crop_input_hw(crop_input_px)[0]
        if not self.dynamic:
            return tuple(self.imgsz for _ in range(len(crops)))
        scale = min(self.imgsz[0] / frame_hw[0], self.imgsz[1] / frame_hw[1])
        top = max(self.imgsz)
        s = self.stride
        out = []
        for x1, y1, x2, y2 in crops.tolist():
            cw, ch = x2 - x1, y2 - y1
            long_in = min(top, max(base, math.ceil(max(cw, ch) * scale / s) * s))
            short_in = min(long_in, max(s, math.ceil(min(cw, ch) * long_in / max(cw, ch) / s) * s))
            out.append((long_in, short_in) if ch >= cw else (short_in, long_in))
        return tuple(out)


def stagger_share(camera_id: str) -> float:
    """A camera's fixed sweep phase in [0, 1), from its id (the same on every node and after restarts)."""
    return zlib.crc32(camera_id.encode("utf-8")) / 2**32


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
    input_px: int = 0
    full_frame_input_px: int = 0
    """What the same frames would have cost ungated (for the saving ratio)."""

    def snapshot(self) -> GateStats:
        return replace(self, frames=Counter(self.frames))


class Gate:
    """Decides, per analysed frame of one camera, whether and where one model runs (module docstring)."""

    def __init__(self, camera_id: str, model_name: str, geometry: ModelGeometry) -> None:
        self.camera_id = camera_id
        self.model_name = model_name
        self.geometry = geometry
        self.change = ChangeSignal()
        self.stats = GateStats()
        self._stats_lock = threading.Lock()
        self.last_plan: GatePlan | None = None
        self._phase = stagger_share(camera_id)
        self._last_slot: int | None = None
        self._looks: list[_Look] = []
        """Crops the model ran on, with their capture time and detections (for `recheck_after_s`)."""

    def _slot(self, captured_at: float, period_s: float) -> int:
        return math.floor(captured_at / period_s + self._phase)

    def _next_sweep_in_s(self, captured_at: float, period_s: float) -> float:
        slot = self._slot(captured_at, period_s)
        return (slot + 1 - self._phase) * period_s - captured_at

    def plan(
        self, image: NDArray[np.uint8], captured_at: float, watched: NDArray[np.float32], cfg: GatingConfig,
    ) -> GatePlan:
        """The path for this frame; updates the change signal and the sweep schedule."""
        h, w = image.shape[:2]
        empty = np.zeros((0, 4), np.int32)
        if not cfg.enabled:
            return self._record(GatePlan(InferencePath.UNGATED, PathReason.OFF, empty, Change.unknown(), watched),
                                (h, w))
        change = self.change.update(image, cfg)
        period = cfg.sweep_every_s
        slot = self._slot(captured_at, period)
        due: PathReason | None = None
        if self._last_slot is None or change.started:
            due = PathReason.FIRST
        elif slot != self._last_slot:
            due = PathReason.SCHEDULE
        if due is not None:
            self._last_slot = slot
            return self._record(GatePlan(InferencePath.SWEEP, due, empty, change, watched,
                                         next_sweep_in_s=self._next_sweep_in_s(captured_at, period)), (h, w))
        nxt = self._next_sweep_in_s(captured_at, period)
        self._looks = [k for k in self._looks if 0.0 <= captured_at - k.captured_at < cfg.recheck_after_s]
        changed, deferred = self._not_recently_seen(change.boxes)
        to_look, reused, n_reused = self._unchanged_watched(np.asarray(watched, np.float32).reshape(-1, 4),
                                                            change.boxes)
        regions = np.concatenate([changed, to_look])
        if len(regions) == 0:
            path, why = ((InferencePath.REUSED, PathReason.UNCHANGED) if n_reused
                         else (InferencePath.SKIPPED, PathReason.NO_CHANGE))
            still = path is InferencePath.SKIPPED and len(change.boxes) == 0 and cfg.rest_cues_when_still
            return self._record(GatePlan(path, why, empty, change, watched, next_sweep_in_s=nxt,
                                         captured_at=captured_at, rechecks_deferred=deferred, reused=reused,
                                         regions_reused=n_reused, cues_rest=still), (h, w))
        min_side = max(1, round(cfg.min_crop_share * min(h, w)))
        crops = plan_crops(regions, (h, w), cfg.context_share, min_side)
        inputs = self.geometry.crop_inputs(crops, (h, w), cfg.crop_input_px)
        full: PathReason | None = None
        if change.changed_share > cfg.max_changed_share:
            full = PathReason.CHANGED_SHARE
        elif len(crops) > cfg.max_regions:
            full = PathReason.TOO_MANY_REGIONS
        elif sum(a * b for a, b in inputs) >= self.geometry.full_input_px((h, w)):
            full = PathReason.CROPS_COST
        if full is not None:
            return self._record(GatePlan(InferencePath.FULL, full, empty, change, watched, next_sweep_in_s=nxt,
                                         captured_at=captured_at, rechecks_deferred=deferred), (h, w))
        reason = PathReason.CHANGE if len(changed) else PathReason.WATCHED
        return self._record(GatePlan(InferencePath.REGIONS, reason, crops, change, watched, inputs, nxt,
                                     captured_at, deferred, reused, n_reused), (h, w))

    def _not_recently_seen(self, boxes: NDArray[np.float32]) -> tuple[NDArray[np.float32], int]:
        """The changed blobs not inside a fresh look that found nothing, and how many were left out."""
        seen = [k.crop for k in self._looks if len(k.detections) == 0]
        if not seen or len(boxes) == 0:
            return boxes, 0
        inside = _inside(boxes, np.stack(seen)).any(axis=1)
        return boxes[~inside], int(inside.sum())

    def _unchanged_watched(
        self, watched: NDArray[np.float32], change_boxes: NDArray[np.float32],
    ) -> tuple[NDArray[np.float32], Detections, int]:
        """(watched regions the model must look at, detections of fresh looks reused for the others, how
        many regions reused). A region is reused when it lies inside a fresh look that no change blob
        touches; each look's detections are given once however many regions it covers."""
        if len(watched) == 0 or not self._looks:
            return watched, Detections.empty(), 0
        crops = np.stack([k.crop for k in self._looks]).astype(np.float32)
        still: NDArray[np.bool_] = np.ones(len(crops), bool)
        if len(change_boxes):
            still = np.asarray(~_overlaps(crops, change_boxes).any(axis=1), bool)
        inside = _inside(watched, crops) & still[None, :]
        covered = inside.any(axis=1)
        if not covered.any():
            return watched, Detections.empty(), 0
        used = sorted({int(np.argmax(row)) for row in inside[covered]})
        reused = Detections.concat([self._looks[i].detections for i in used])
        return watched[~covered], reused, int(covered.sum())

    def _record(self, plan: GatePlan, frame_hw: tuple[int, int]) -> GatePlan:
        full_px = self.geometry.full_input_px(frame_hw)
        with self._stats_lock:
            s = self.stats
            s.frames[(plan.path.value, plan.reason.value)] += 1
            s.full_frame_input_px += full_px
            s.deferred += plan.rechecks_deferred
            s.reused += plan.regions_reused
            s.cues_rested += plan.cues_rest
            if plan.path is InferencePath.REGIONS:
                s.regions += len(plan.crops)
                s.input_px += sum(a * b for a, b in plan.crop_inputs)
            elif plan.runs_model:
                s.input_px += full_px
        self.last_plan = plan
        return plan

    def snapshot(self) -> GateStats:
        """A consistent copy of the counters (metrics read it from another thread)."""
        with self._stats_lock:
            return self.stats.snapshot()

    def run(self, image: NDArray[np.uint8], plan: GatePlan, submit: Submit, timeout_s: float = 30.0) -> Detections:
        """The frame's detections (source pixels) along `plan`; FrameDroppedError if any part was shed."""
        if plan.path is InferencePath.SKIPPED:
            return Detections.empty()
        if plan.path is InferencePath.REUSED:
            return plan.reused
        if plan.path is not InferencePath.REGIONS:
            return _wait(submit(image, None), self.camera_id, self.model_name, timeout_s)
        futures = [submit(crop, hw) for crop, hw in zip(cut(image, plan.crops), plan.crop_inputs, strict=True)]
        results: list[Detections] = []
        try:
            for fut in futures:
                results.append(_wait(fut, self.camera_id, self.model_name, timeout_s))
        except (FrameDroppedError, ModelError):
            for fut in futures:
                fut.cancel()  # a frame with a missing crop is dropped whole: its other crops need not run
            raise
        per_crop = [shift(det, crop) for crop, det in zip(plan.crops, results, strict=True)]
        self._looks += [_Look(crop, plan.captured_at, det) for crop, det in zip(plan.crops, per_crop, strict=True)]
        if len(plan.reused):
            per_crop.append(plan.reused)
        return merge_source(per_crop)

    def annotate(self, image: NDArray[np.uint8]) -> NDArray[np.uint8]:
        """The last plan on a BGR copy: change blobs (cyan), watched regions (magenta), crops (yellow), and
        a line saying which path the frame took and why."""
        out = image.copy()
        plan = self.last_plan
        if plan is None:
            return out
        for box, colour, thick in (
            *((b, (255, 255, 0), 1) for b in plan.change.boxes.tolist()),
            *((b, (255, 0, 255), 1) for b in np.asarray(plan.watched).reshape(-1, 4).tolist()),
            *((b, (0, 255, 255), 2) for b in plan.crops.tolist()),
        ):
            x1, y1, x2, y2 = (round(v) for v in box)
            cv2.rectangle(out, (x1, y1), (x2, y2), colour, thick)
        if plan.path is InferencePath.SWEEP or plan.path is InferencePath.FULL:
            cv2.rectangle(out, (1, 1), (out.shape[1] - 2, out.shape[0] - 2), (0, 255, 255), 2)
        text = (f"gate {self.model_name}: {plan.path.value} ({plan.reason.value})"
                + (f", {len(plan.crops)} crop(s) at " + " ".join(f"{w}x{h}" for h, w in plan.crop_inputs)
                   if plan.path is InferencePath.REGIONS else "")
                + f", change {plan.change.changed_share:.1%}, next sweep in {plan.next_sweep_in_s:.0f} s"
                + (", still: cues rest" if plan.cues_rest else ""))
        (tw, th), base = cv2.getTextSize(text, cv2.FONT_HERSHEY_SIMPLEX, 0.5, 1)
        y = out.shape[0] - 10
        cv2.rectangle(out, (4, y - th - 4), (12 + tw, y + base + 2), (0, 0, 0), -1)
        cv2.putText(out, text, (8, y), cv2.FONT_HERSHEY_SIMPLEX, 0.5, (0, 255, 255), 1, cv2.LINE_AA)
        return out


@dataclass(frozen=True)
class _Look:
    """One crop the model ran on: where (source pixels), when (capture time) and what it found there."""

    crop: NDArray[np.int32]
    captured_at: float
    detections: Detections


def _inside(boxes: NDArray[np.floating], crops: NDArray[np.floating]) -> NDArray[np.bool_]:
    """(N, M): box n lies wholly inside crop m."""
    return ((boxes[:, None, 0] >= crops[None, :, 0]) & (boxes[:, None, 1] >= crops[None, :, 1])
            & (boxes[:, None, 2] <= crops[None, :, 2]) & (boxes[:, None, 3] <= crops[None, :, 3]))


def _overlaps(a: NDArray[np.floating], b: NDArray[np.floating]) -> NDArray[np.bool_]:
    """(N, M): box a[n] and box b[m] share some area."""
    return ((a[:, None, 0] < b[None, :, 2]) & (b[None, :, 0] < a[:, None, 2])
            & (a[:, None, 1] < b[None, :, 3]) & (b[None, :, 1] < a[:, None, 3]))


def _wait(fut: Future[Detections], camera_id: str, model_name: str, timeout_s: float) -> Detections:
    try:
        return fut.result(timeout=timeout_s)
    except FutureTimeout as exc:
        raise ModelError(f"camera {camera_id}: model {model_name} gave no result in {timeout_s} s",
                         retryable=True) from exc
