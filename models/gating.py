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
  changed since (no change blob touches that crop, other than blobs left out as seen empty: a watched
  lamp's own blinks are no news), is not run again: the detector gets the model's detections from that
  look once more (what the model would say again on the same pixels). A still false look-alike, a
  watched blinking lamp or a steady incident therefore costs one crop every `recheck_after_s`, not one
  per frame, while anything new that moves in it is looked at on the next frame.
  A sweep or a `full` frame is such a look too, over the whole frame: after a whole-frame look that found
  nothing, a changed blob waits for its recheck as after an empty crop (the model has just seen those
  pixels), instead of being cropped on the very next frame.
- `reused`: every region was such an unchanged watched region, or lay in a held open incident (below);
  the model does not run.
- `full`: the whole frame instead of crops, when the crops would cost at least as much model input as
  the frame (`crops_cost`), when there are more than `max_regions` (`too_many_regions`), or when most of
  the picture changed at once (`changed_share`: lights switched, the camera moved).

An open incident (`detectors.base.IncidentSource`) burns on, so its region changes on every frame and
would be sent on every frame for evidence the detector already holds. It is re-looked at every
`incident_relook_s` instead (`models.gate_looks.IncidentLooks`): while the incident lies inside the crop
of a look that recent, it is *held*: the watched regions and change blobs inside that crop are not sent,
and the look's detections there are given again (reason `incident_held` when nothing else is sent). A
fire that spreads out of the crop, and anything outside it, is looked at as before; every model run that
covers an incident (crops, full frame, sweep) records its new look.

A `skipped` frame on which the change signal found no blob at all (not even one left out as seen empty)
is *still*: with `rest_cues_when_still` the plan says so (`cues_rest`), and the host tells the detectors
(`detectors.base.StillAware`), whose own weights-free cues then rest on that frame too (counted in
`GateStats.cues_rested`, drawn by `annotate`).

With gating off every analysed frame takes path `ungated` (the whole frame). Each (path, reason) is
counted in `GateStats`, exported as `gridwatch_gate_frames_total`, and drawn by `annotate` in
`gridwatch replay --annotate`.

This module holds the decision and the run; the parts live next to it, one job each: the change signal
(`models.change`), the sweep schedule (`models.gate_schedule`), the memory of recent looks
(`models.gate_looks`), crops and their way back to the frame (`models.regions`), the model's input
geometry (`models.gate_geometry`), the plan and its counters (`models.gate_plan`), and the drawing
(`models.gate_annotate`).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import Future
from concurrent.futures import TimeoutError as FutureTimeout

import numpy as np
from numpy.typing import NDArray

from foundation.errors import ModelError
from models.batcher import FrameDroppedError
from models.change import Change, ChangeSignal
from models.config import GatingConfig
from models.detections import Detections
from models.gate_annotate import draw_plan
from models.gate_geometry import ModelGeometry
from models.gate_looks import IncidentLooks, RecentLooks, boxes_inside, outside
from models.gate_plan import GatePlan, GateStats, InferencePath, PathReason
from models.gate_schedule import SweepSchedule, stagger_share
from models.regions import context_crops, cut, merge_source, plan_crops, shift

__all__ = ["Gate", "GatePlan", "GateStats", "InferencePath", "ModelGeometry", "PathReason", "Submit",
           "stagger_share"]

Submit = Callable[[NDArray[np.uint8], tuple[int, int] | None], Future[Detections]]
"""(image, model input size or None for the model's own) -> its detections, in the image's pixels."""


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
        self._sweeps = SweepSchedule(camera_id)
        self._looks = RecentLooks()
        """Crops the model ran on, with their capture time and detections (for `recheck_after_s`)."""
        self._incident_looks = IncidentLooks()
        """Open incidents' crops the model ran on, with what it found there (for `incident_relook_s`)."""

    def plan(
        self, image: NDArray[np.uint8], captured_at: float, watched: NDArray[np.float32], cfg: GatingConfig,
        incidents: NDArray[np.float32] | None = None,
    ) -> GatePlan:
        """The path for this frame; updates the change signal and the sweep schedule. `incidents`: the open
        incidents among `watched` (`detectors.base.IncidentSource`), re-looked at every `incident_relook_s`."""
        h, w = image.shape[:2]
        empty = np.zeros((0, 4), np.int32)
        if not cfg.enabled:
            return self._record(GatePlan(InferencePath.UNGATED, PathReason.OFF, empty, Change.unknown(), watched),
                                (h, w))
        change = self.change.update(image, cfg)
        min_side = max(1, round(cfg.min_crop_share * min(h, w)))
        open_incidents = np.zeros((0, 4), np.float32) if incidents is None else np.asarray(
            incidents, np.float32).reshape(-1, 4)
        period = cfg.sweep_every_s
        due: PathReason | None = None
        if not self._sweeps.started or change.started:
            self._sweeps.take(captured_at, period)
            due = PathReason.FIRST
        elif self._sweeps.take_if_new_slot(captured_at, period):
            due = PathReason.SCHEDULE
        nxt = self._sweeps.next_in_s(captured_at, period)
        if due is not None:
            looked = context_crops(open_incidents, (h, w), cfg.context_share, min_side)
            return self._record(GatePlan(InferencePath.SWEEP, due, empty, change, watched, next_sweep_in_s=nxt,
                                         captured_at=captured_at, incident_crops=looked), (h, w))
        self._looks.forget_older(captured_at, cfg.recheck_after_s)
        self._incident_looks.forget_older(captured_at, cfg.incident_relook_s)
        held = self._incident_looks.hold(open_incidents)
        relook_in = (held.oldest_look_at + cfg.incident_relook_s - captured_at) if held.incidents else None
        not_held, _ = outside(open_incidents, held.crops)
        change_left, _ = outside(change.boxes, held.crops)
        watched_left, _ = outside(np.asarray(watched, np.float32).reshape(-1, 4), held.crops)
        # A blob left out as seen empty is no news to a watched region in the same look (a blinking lamp
        # the detector watches): only the blobs that are sent count as change there.
        news, _ = self._looks.not_recently_seen(change.boxes)
        changed, _ = outside(news, held.crops)  # both filters keep or drop each box alone: order is free
        deferred = len(change_left) - len(changed)
        to_look, reused, n_reused = self._looks.unchanged_watched(watched_left, news)
        # One box per object: a held look and a reused one, two held looks, or two reused looks (a sweep
        # and a crop over the same unchanged pixels) may hold the same box.
        given = merge_source([reused, held.detections])
        regions = np.concatenate([changed, to_look])
        if len(regions) == 0:
            path, why = ((InferencePath.REUSED, PathReason.INCIDENT_HELD) if held.incidents
                         else (InferencePath.REUSED, PathReason.UNCHANGED) if n_reused
                         else (InferencePath.SKIPPED, PathReason.NO_CHANGE))
            still = path is InferencePath.SKIPPED and len(change.boxes) == 0 and cfg.rest_cues_when_still
            return self._record(GatePlan(path, why, empty, change, watched, next_sweep_in_s=nxt,
                                         captured_at=captured_at, rechecks_deferred=deferred, reused=given,
                                         regions_reused=n_reused, cues_rest=still, held=held.crops,
                                         incidents_held=held.incidents, incident_relook_in_s=relook_in), (h, w))
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
            looked = context_crops(open_incidents, (h, w), cfg.context_share, min_side)
            return self._record(GatePlan(InferencePath.FULL, full, empty, change, watched, next_sweep_in_s=nxt,
                                         captured_at=captured_at, rechecks_deferred=deferred,
                                         incident_crops=looked), (h, w))
        looked = context_crops(not_held, (h, w), cfg.context_share, min_side)
        looked = looked[boxes_inside(looked.astype(np.float32), crops.astype(np.float32)).any(axis=1)]
        reason = PathReason.CHANGE if len(changed) else PathReason.WATCHED
        return self._record(GatePlan(InferencePath.REGIONS, reason, crops, change, watched, inputs, nxt,
                                     captured_at, deferred, given, n_reused, held=held.crops,
                                     incidents_held=held.incidents, incident_relook_in_s=relook_in,
                                     incident_crops=looked), (h, w))

    def _record(self, plan: GatePlan, frame_hw: tuple[int, int]) -> GatePlan:
        full_px = self.geometry.full_input_px(frame_hw)
        with self._stats_lock:
            s = self.stats
            s.frames[(plan.path.value, plan.reason.value)] += 1
            s.full_frame_input_px += full_px
            s.deferred += plan.rechecks_deferred
            s.reused += plan.regions_reused
            s.cues_rested += plan.cues_rest
            s.incidents_held += plan.incidents_held
            s.incident_looks += len(plan.incident_crops)
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
            whole = _wait(submit(image, None), self.camera_id, self.model_name, timeout_s)
            if plan.path is not InferencePath.UNGATED:  # a sweep or full frame is a look over every region
                h, w = image.shape[:2]
                self._looks.add(np.asarray([[0, 0, w, h]], np.int32), plan.captured_at, [whole])
            self._incident_looks.add(plan.incident_crops, plan.captured_at, whole)
            return whole
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
        self._looks.add(plan.crops, plan.captured_at, per_crop)
        if len(plan.reused):
            per_crop.append(plan.reused)
        found = merge_source(per_crop)
        self._incident_looks.add(plan.incident_crops, plan.captured_at, found)
        return found

    def annotate(self, image: NDArray[np.uint8]) -> NDArray[np.uint8]:
        """The last plan on a BGR copy (`models.gate_annotate.draw_plan`)."""
        return draw_plan(image, self.last_plan, self.model_name)


def _wait(fut: Future[Detections], camera_id: str, model_name: str, timeout_s: float) -> Detections:
    try:
        return fut.result(timeout=timeout_s)
    except FutureTimeout as exc:
        raise ModelError(f"camera {camera_id}: model {model_name} gave no result in {timeout_s} s",
                         retryable=True) from exc
