"""Gated inference, unit level: the change signal, the path a frame takes, staggered sweeps, crops and the
exact way back to source pixels. Named fakes stand at the model seam (`FakeCropModel`, `fake_submit`)."""

from __future__ import annotations

from collections import Counter
from concurrent.futures import Future

import numpy as np
import pytest
from numpy.typing import NDArray

from models.batcher import FrameDroppedError, StaleFrameError
from models.change import ChangeSignal
from models.config import GatingConfig
from models.detections import Detections
from models.gate_looks import RecentLooks
from models.gating import Gate, InferencePath, ModelGeometry, PathReason, stagger_share
from models.regions import context_crops, merge_overlapping, plan_crops, to_source

H, W = 360, 640
GEOMETRY = ModelGeometry(imgsz=(640, 640), stride=32, dynamic=True, rect=True)
NONE = np.zeros((0, 4), np.float32)


def street(seed: int = 0, noise: float = 3.0) -> NDArray[np.uint8]:
    """A textured still picture with sensor noise, different per `seed`."""
    base = np.zeros((H, W, 3), np.float32)
    base[:] = np.linspace(60, 180, W, dtype=np.float32)[None, :, None]
    base[100:200:20, :, :] = 30.0  # window rows: strong edges
    noisy = base + np.random.default_rng(1000 + seed).normal(0.0, noise, (H, W, 1)).astype(np.float32)
    return np.clip(noisy, 0, 255).astype(np.uint8)


def with_patch(image: NDArray[np.uint8], box: tuple[int, int, int, int], value: int = 250) -> NDArray[np.uint8]:
    out = image.copy()
    x1, y1, x2, y2 = box
    out[y1:y2, x1:x2] = value
    return out


# --------------------------------------------------------------------------- change signal


def test_a_still_noisy_picture_is_no_change_and_a_brightness_shift_neither() -> None:
    cfg = GatingConfig()
    sig = ChangeSignal()
    assert sig.update(street(0), cfg).started
    for i in range(1, 12):
        ch = sig.update(street(i), cfg)
        assert len(ch.boxes) == 0 and ch.changed_share == 0.0, f"frame {i}: sensor noise counted as change"
    brighter = np.clip(street(20).astype(np.int16) + 12, 0, 255).astype(np.uint8)
    assert len(sig.update(brighter, cfg).boxes) == 0, "a frame-wide exposure shift is not local change"


def test_a_small_new_object_is_one_box_in_source_pixels() -> None:
    cfg = GatingConfig()
    sig = ChangeSignal()
    for i in range(5):
        sig.update(street(i), cfg)
    ch = sig.update(with_patch(street(9), (300, 250, 308, 266)), cfg)  # 8x16 px, like a young distant flame
    assert len(ch.boxes) == 1
    x1, y1, x2, y2 = ch.boxes[0].tolist()
    assert x1 <= 300 and y1 <= 250 and x2 >= 308 and y2 >= 266, "the box covers the change"
    assert x2 - x1 < 24 and y2 - y1 < 32, "and not much more"


def test_the_change_threshold_decides() -> None:
    sig_low, sig_high = ChangeSignal(), ChangeSignal()
    low, high = GatingConfig(change_threshold=10), GatingConfig(change_threshold=60)
    for i in range(4):
        sig_low.update(street(i), low)
        sig_high.update(street(i), high)
    frame = with_patch(street(5), (100, 250, 140, 290), value=120)  # a faint change (34-41 grey levels)
    assert len(sig_low.update(frame, low).boxes) == 1
    assert len(sig_high.update(frame, high).boxes) == 0


# --------------------------------------------------------------------------- crops and the way back


def test_crops_have_context_a_minimum_side_and_stay_inside() -> None:
    crops = context_crops(np.array([[100, 100, 110, 120], [630, 350, 640, 360]], np.float32), (H, W),
                          context_share=0.5, min_side_px=72)
    (a, b) = crops.tolist()
    assert a[2] - a[0] == a[3] - a[1] == 72, "the minimum side wins over 20 + 2 x 0.5 x 10 = 30 px"
    assert a[0] <= 100 and a[2] >= 110 and a[1] <= 100 and a[3] >= 120
    assert b == [640 - 72, 360 - 72, 640, 360], "a crop at the corner is shifted in, not cut"
    thin = context_crops(np.array([[100, 10, 400, 60]], np.float32), (H, W), 0.5, 72).tolist()
    assert thin == [[75, 0, 425, 100]], "a long thin region gets context from its short side: 350 x 100, not a square"
    big = context_crops(np.array([[0, 0, 600, 300]], np.float32), (H, W), 0.5, 72)
    assert big.tolist() == [[0, 0, 640, 360]], "a crop larger than the frame spans it"


def test_overlapping_crops_merge_until_none_overlap() -> None:
    merged = merge_overlapping(np.array([[0, 0, 50, 50], [40, 40, 90, 90], [85, 0, 120, 30], [300, 300, 320, 320]],
                                        np.int32))
    assert sorted(merged.tolist()) == [[0, 0, 120, 90], [300, 300, 320, 320]]
    assert len(plan_crops(np.zeros((0, 4), np.float32), (H, W), 0.5, 72)) == 0


def test_detections_in_crops_map_back_to_source_pixels_exactly() -> None:
    crops = np.array([[200, 100, 296, 196], [10, 20, 106, 116]], np.int32)
    per_crop = [
        Detections.from_arrays([[5.5, 7.25, 30.0, 40.75]], [0.9], [1]),
        Detections.from_arrays([[0.0, 0.0, 96.0, 96.0], [1.0, 2.0, 3.0, 4.0]], [0.5, 0.4], [0, 1]),
    ]
    out = to_source(per_crop, crops)
    rows = sorted(map(tuple, np.column_stack([out.xyxy, out.confidence, out.class_id]).tolist()))
    assert rows == sorted([
        (205.5, 107.25, 230.0, 140.75, pytest.approx(0.9), 1.0),
        (10.0, 20.0, 106.0, 116.0, 0.5, 0.0),
        (11.0, 22.0, 13.0, 24.0, pytest.approx(0.4), 1.0),
    ])


# --------------------------------------------------------------------------- the gate


class FakeCropModel:
    """Test double for the batcher + model: answers one box per image at a fixed place in that image's own
    pixels (what a real model returns), and records each call's image shape and input size."""

    def __init__(self, box: tuple[float, float, float, float] = (10.0, 12.0, 20.0, 30.0)) -> None:
        self.box = box
        self.calls: list[tuple[tuple[int, ...], tuple[int, int] | None]] = []

    def submit(self, image: NDArray[np.uint8], input_hw: tuple[int, int] | None) -> Future[Detections]:
        self.calls.append((image.shape, input_hw))
        fut: Future[Detections] = Future()
        fut.set_result(Detections.from_arrays([list(self.box)], [0.8], [1]))
        return fut


def settled_gate(cfg: GatingConfig, camera: str = "cam-1") -> tuple[Gate, float]:
    """A gate past its first-frame sweep on a still scene; returns it and the capture time to go on from."""
    gate = Gate(camera, "fire", GEOMETRY)
    t = 1000.0
    for i in range(4):
        gate.plan(street(i), t, NONE, cfg)
        t += 0.5
    return gate, t


def test_paths_skipped_regions_watched_and_first_sweep() -> None:
    cfg = GatingConfig(sweep_every_s=3600)
    gate = Gate("cam-1", "fire", GEOMETRY)
    first = gate.plan(street(0), 1000.0, NONE, cfg)
    assert (first.path, first.reason) == (InferencePath.SWEEP, PathReason.FIRST)
    quiet = gate.plan(street(1), 1000.5, NONE, cfg)
    assert (quiet.path, quiet.reason) == (InferencePath.SKIPPED, PathReason.NO_CHANGE) and not quiet.runs_model
    changed = gate.plan(with_patch(street(2), (300, 250, 308, 266)), 1001.0, NONE, cfg)
    assert (changed.path, changed.reason) == (InferencePath.REGIONS, PathReason.CHANGE)
    (x1, y1, x2, y2), = changed.crops.tolist()
    assert x1 <= 300 and x2 >= 308 and y1 <= 250 and y2 >= 266
    assert changed.crop_inputs == ((320, 320),)
    gate.plan(street(3), 1001.5, NONE, cfg)  # the patch leaves: let the background settle
    for i in range(4, 12):
        gate.plan(street(i), 1000.0 + i * 0.5, NONE, cfg)
    watched = gate.plan(street(20), 1010.0, np.array([[50, 60, 70, 90]], np.float32), cfg)
    assert (watched.path, watched.reason) == (InferencePath.REGIONS, PathReason.WATCHED), \
        "a region the detector watches is looked at although nothing changed"
    counts = gate.snapshot().frames
    assert counts[("skipped", "no_change")] >= 1 and counts[("sweep", "first")] == 1


def test_whole_frame_when_crops_cost_more_too_many_or_much_changed() -> None:
    cfg = GatingConfig(sweep_every_s=3600, max_regions=2)
    gate, t = settled_gate(cfg)
    three = np.array([[10, 10, 20, 20], [300, 10, 310, 20], [600, 300, 610, 310]], np.float32)
    plan = gate.plan(street(7), t, three, cfg)
    assert (plan.path, plan.reason) == (InferencePath.FULL, PathReason.TOO_MANY_REGIONS)
    costly = GatingConfig(sweep_every_s=3600, crop_input_px=640)  # one 640x640 crop > a 640x384 frame
    gate, t = settled_gate(costly)
    plan = gate.plan(street(7), t, three[:1], costly)
    assert (plan.path, plan.reason) == (InferencePath.FULL, PathReason.CROPS_COST)
    gate, t = settled_gate(cfg)
    plan = gate.plan(with_patch(street(7), (0, 0, 640, 200), value=255), t, NONE, cfg)
    assert (plan.path, plan.reason) == (InferencePath.FULL, PathReason.CHANGED_SHARE)
    off = GatingConfig(enabled=False)
    assert Gate("c", "fire", GEOMETRY).plan(street(0), t, NONE, off).path is InferencePath.UNGATED


def test_a_fixed_shape_model_runs_crops_at_its_own_size() -> None:
    fixed = ModelGeometry(imgsz=(640, 640), stride=32, dynamic=False, rect=False)
    assert fixed.crop_input_hw(320) == (640, 640)
    assert GEOMETRY.crop_input_hw(300) == (288, 288), "rounded down to the stride"
    assert GEOMETRY.full_input_px((360, 640)) == 640 * 384


def test_a_large_crop_is_never_seen_coarser_than_the_whole_frame() -> None:
    crops = np.array([[0, 0, 72, 72], [100, 0, 300, 100], [0, 0, 500, 360]], np.int32)
    assert GEOMETRY.crop_inputs(crops, (360, 640), 320) == ((320, 320), (160, 320), (384, 512))
    hd = GEOMETRY.crop_inputs(np.array([[0, 0, 600, 280], [0, 0, 900, 700]], np.int32), (720, 1280), 320)
    assert hd == ((160, 320), (384, 480)), "a 1280x720 frame runs at half scale: 600 -> 300 (320); 900 -> 450 (480)"
    cfg = GatingConfig(sweep_every_s=3600)
    gate, t = settled_gate(cfg)
    plan = gate.plan(street(7), t, np.array([[150, 40, 450, 300]], np.float32), cfg)
    assert (plan.path, plan.reason) == (InferencePath.FULL, PathReason.CROPS_COST), \
        "a crop nearly the frame's size costs more than the frame: the frame runs"


def test_gate_runs_crops_and_returns_boxes_in_source_pixels() -> None:
    cfg = GatingConfig(sweep_every_s=3600)
    gate, t = settled_gate(cfg)
    model = FakeCropModel()
    plan = gate.plan(with_patch(street(7), (400, 200, 410, 220)), t, NONE, cfg)
    image = street(7)
    dets = gate.run(image, plan, model.submit)
    (x1, y1, _, _), = plan.crops.tolist()
    assert dets.xyxy.tolist() == [[x1 + 10.0, y1 + 12.0, x1 + 20.0, y1 + 30.0]]
    assert model.calls == [((plan.crops[0, 3] - y1, plan.crops[0, 2] - x1, 3), (320, 320))]
    gate, t = settled_gate(cfg, "cam-2")
    skipped = gate.plan(street(8), t, NONE, cfg)
    calls = len(model.calls)
    assert skipped.path is InferencePath.SKIPPED and len(gate.run(street(8), skipped, model.submit)) == 0
    assert len(model.calls) == calls, "a skipped frame never reaches the model"


def test_a_frame_with_a_dropped_crop_is_dropped_whole_and_its_other_crops_cancelled() -> None:
    cfg = GatingConfig(sweep_every_s=3600)
    gate, t = settled_gate(cfg)
    futures: list[Future[Detections]] = []

    def fake_submit(image: NDArray[np.uint8], input_hw: tuple[int, int] | None) -> Future[Detections]:
        fut: Future[Detections] = Future()
        if not futures:
            fut.set_exception(StaleFrameError("stale", "cam-1"))
        futures.append(fut)
        return fut

    plan = gate.plan(street(7), t, np.array([[10, 10, 20, 20], [500, 300, 510, 310]], np.float32), cfg)
    assert len(plan.crops) == 2
    with pytest.raises(FrameDroppedError):
        gate.run(street(7), plan, fake_submit)
    assert futures[1].cancelled()


def test_a_change_the_model_just_saw_empty_waits_for_its_recheck_but_a_watched_region_never_does() -> None:
    cfg = GatingConfig(sweep_every_s=3600, recheck_after_s=2.0)
    gate, t = settled_gate(cfg)
    empty = FakeCropModel()

    def nothing(image: NDArray[np.uint8], input_hw: tuple[int, int] | None) -> Future[Detections]:
        empty.calls.append((image.shape, input_hw))
        fut: Future[Detections] = Future()
        fut.set_result(Detections.empty())
        return fut

    blink = (300, 250, 308, 266)
    lamp_on = [with_patch(street(10 + i), blink) if i % 2 == 0 else street(10 + i) for i in range(8)]
    paths = []
    for i, image in enumerate(lamp_on):
        plan = gate.plan(image, t + 0.5 * i, NONE, cfg)
        gate.run(image, plan, nothing)
        paths.append(plan.path.value)
    assert paths[0] == "regions", "the first blink is looked at"
    assert paths[1:4] == ["skipped"] * 3, "then left alone while the model's empty look is fresh"
    assert "regions" in paths[4:], "and looked at again after recheck_after_s"
    assert gate.snapshot().deferred >= 3
    watched = gate.plan(lamp_on[2], t + 4.2, np.array([blink], np.float32), cfg)
    assert watched.path is InferencePath.REGIONS, "what the detector watches is never deferred"
    never = GatingConfig(sweep_every_s=3600, recheck_after_s=0.0)
    gate, t = settled_gate(never)
    for i, image in enumerate(lamp_on[:4]):
        plan = gate.plan(image, t + 0.5 * i, NONE, never)
        gate.run(image, plan, nothing)
        assert plan.path is InferencePath.REGIONS, "0 looks at every change every time"


def test_an_unchanged_watched_region_gets_the_models_last_look_until_its_recheck_or_a_change() -> None:
    cfg = GatingConfig(sweep_every_s=3600, recheck_after_s=2.0)
    gate, t = settled_gate(cfg)
    model = FakeCropModel()
    region = np.array([[300, 250, 330, 280]], np.float32)  # a track on a still scene (a steady look-alike)
    paths, found = [], []
    for i in range(6):
        image = street(20 + i)
        plan = gate.plan(image, t + 0.5 * i, region, cfg)
        found.append(gate.run(image, plan, model.submit).xyxy.tolist())
        paths.append((plan.path.value, plan.reason.value))
    assert paths[0] == ("regions", "watched"), "the model looks at a watched region"
    assert paths[1:4] == [("reused", "unchanged")] * 3, "then its look is given again while fresh and unchanged"
    assert paths[4] == ("regions", "watched"), "and the model looks again once recheck_after_s has passed"
    assert len(model.calls) == 2 and found[1:4] == [found[0]] * 3 and len(found[0]) == 1, \
        "a reused look gives the detector the same boxes, in source pixels, without a model call"
    assert paths[5] == ("reused", "unchanged") and gate.snapshot().reused == 4, "and that new look is reused in turn"
    moved = gate.plan(with_patch(street(40), (305, 255, 315, 265)), t + 3.0, region, cfg)
    assert moved.path is InferencePath.REGIONS and len(moved.crops) >= 1, \
        "a change inside the looked-at crop makes the model look again at once"
    never = GatingConfig(sweep_every_s=3600, recheck_after_s=0.0)
    gate, t = settled_gate(never)
    for i in range(3):
        plan = gate.plan(street(20 + i), t + 0.5 * i, region, never)
        gate.run(street(20 + i), plan, model.submit)
        assert plan.path is InferencePath.REGIONS, "0 looks at every watched region every time"


def test_a_frame_with_new_and_reused_regions_merges_both_in_source_pixels() -> None:
    cfg = GatingConfig(sweep_every_s=3600, recheck_after_s=2.0)
    gate, t = settled_gate(cfg)
    model = FakeCropModel()
    still = np.array([[40, 40, 60, 60]], np.float32)
    gate.run(street(20), gate.plan(street(20), t, still, cfg), model.submit)
    image = with_patch(street(21), (500, 250, 510, 270))
    plan = gate.plan(image, t + 0.5, still, cfg)
    assert plan.path is InferencePath.REGIONS and plan.regions_reused == 1 and len(plan.crops) == 1
    dets = gate.run(image, plan, model.submit)
    (x1, y1, _, _), = plan.crops.tolist()
    assert len(dets) == 2 and [x1 + 10.0, y1 + 12.0, x1 + 20.0, y1 + 30.0] in dets.xyxy.tolist(), \
        "the new crop's box and the reused one, both in source pixels"


def test_a_watched_blinking_lamp_the_model_just_saw_empty_is_reused_until_its_recheck() -> None:
    """A lamp the detector watches (a cue candidate) blinks on every frame: the blinks are blobs left out as
    seen empty, which is no news to the watched region in the same look, so the look's (empty) result is
    given again until `recheck_after_s`, not one crop per frame; a change the model did not see still is."""
    cfg = GatingConfig(sweep_every_s=3600, recheck_after_s=2.0)
    gate, t = settled_gate(cfg)
    lamp = (300, 250, 308, 266)
    watched = np.array([lamp], np.float32)
    paths = []
    for i in range(6):
        image = with_patch(street(30 + i), lamp, value=(250, 10)[i % 2])
        plan = gate.plan(image, t + 0.5 * i, watched, cfg)
        gate.run(image, plan, empty_submit)
        paths.append((plan.path.value, plan.reason.value))
    assert paths[0][0] == "regions", "the model looks at the watched lamp"
    assert paths[1:4] == [("reused", "unchanged")] * 3, "then its empty look is given again while fresh"
    assert paths[4][0] == "regions", "and the model looks again once recheck_after_s has passed"
    edge = with_patch(with_patch(street(40), lamp), (335, 250, 345, 262))  # across the look's crop edge
    plan = gate.plan(edge, t + 3.0, watched, cfg)
    assert plan.path is InferencePath.REGIONS and plan.regions_reused == 0, \
        "a change the model has not seen empty, touching the look, makes it look at the lamp again"


def test_a_sweep_that_saw_nothing_is_a_look_over_every_region() -> None:
    """A change right after a whole-frame look that found nothing waits for its recheck as after an empty
    crop; after a sweep that found a box there, it is looked at at once."""
    cfg = GatingConfig(sweep_every_s=3600, recheck_after_s=2.0)
    patch = (300, 250, 308, 266)
    gate = Gate("cam-1", "fire", GEOMETRY)
    first = gate.plan(street(0), 1000.0, NONE, cfg)
    assert first.path is InferencePath.SWEEP
    gate.run(street(0), first, empty_submit)
    after = gate.plan(with_patch(street(1), patch), 1000.5, NONE, cfg)
    assert after.path is InferencePath.SKIPPED and after.rechecks_deferred == 1, "the sweep saw it empty"
    later = gate.plan(with_patch(street(2), patch), 1002.5, NONE, cfg)
    assert later.path is InferencePath.REGIONS, "looked at once the sweep's look is older than recheck_after_s"
    found = Gate("cam-2", "fire", GEOMETRY)
    first = found.plan(street(0), 1000.0, NONE, cfg)
    found.run(street(0), first, FakeCropModel((300.0, 250.0, 310.0, 270.0)).submit)
    after = found.plan(with_patch(street(1), patch), 1000.5, NONE, cfg)
    assert after.path is InferencePath.REGIONS, "a sweep that found something is no empty look"
    off = GatingConfig(enabled=False)
    ungated = Gate("cam-3", "fire", GEOMETRY)
    plan = ungated.plan(street(0), 1000.0, NONE, off)
    ungated.run(street(0), plan, empty_submit)
    assert plan.path is InferencePath.UNGATED and not ungated._looks.looks, "ungated frames record no look"


def test_a_region_under_a_sweep_and_a_crop_gets_what_either_look_found_there() -> None:
    """A steady small flame the magnified crop found and the sweep before it missed keeps its box while
    nothing changes: the boxes of every fresh look over the region are given, not the first look's."""
    looks = RecentLooks()
    sweep_box = Detections.from_arrays([[500.0, 300.0, 520.0, 330.0]], [0.6], [1])
    flame = Detections.from_arrays([[302.0, 252.0, 306.0, 262.0]], [0.5], [0])
    looks.add(np.array([[0, 0, W, H]], np.int32), 1000.0, [sweep_box])
    looks.add(np.array([[268, 222, 340, 294]], np.int32), 1000.5, [flame])
    left, given, n = looks.unchanged_watched(np.array([[300, 250, 308, 266]], np.float32), NONE)
    assert len(left) == 0 and n == 1
    assert sorted(given.xyxy.tolist()) == sorted([*flame.xyxy.tolist(), *sweep_box.xyxy.tolist()])


# --------------------------------------------------------------------------- sweeps


def sweep_times(camera: str, cfg: GatingConfig, seconds: float, fps: float = 2.0) -> list[float]:
    gate = Gate(camera, "fire", GEOMETRY)
    out = []
    img = street(0)
    for i in range(int(seconds * fps)):
        t = 5000.0 + i / fps
        if gate.plan(img, t, NONE, cfg).path is InferencePath.SWEEP:
            out.append(t)
    return out


def test_each_camera_sweeps_once_per_period_and_cameras_are_staggered() -> None:
    cfg = GatingConfig(sweep_every_s=10.0)
    one = sweep_times("cam-007", cfg, 60.0)
    assert len(one) in (6, 7), "the first frame plus one sweep per 10 s slot"
    gaps = np.diff(one[1:])
    assert np.allclose(gaps, 10.0, atol=0.51), f"scheduled sweeps every period, got gaps {gaps}"
    phases = [stagger_share(f"cam-{i:03d}") for i in range(200)]
    counts = Counter(int(p * 10) for p in phases)
    assert len(counts) == 10 and max(counts.values()) <= 35, "200 cameras spread over the period's tenths"
    firsts = {round(sweep_times(f"cam-{i:03d}", cfg, 12.0)[1] % 10.0, 1) for i in range(20)}
    assert len(firsts) >= 10, "scheduled sweeps of 20 cameras fall at different moments"
    assert stagger_share("cam-007") == stagger_share("cam-007"), "the phase is fixed by the camera id"




def empty_submit(image: NDArray[np.uint8], input_hw: tuple[int, int] | None) -> Future[Detections]:
    """Fake of the model seam: finds nothing anywhere."""
    fut: Future[Detections] = Future()
    fut.set_result(Detections.empty())
    return fut


def test_a_still_frame_lets_the_cues_rest_and_only_a_still_one() -> None:
    cfg = GatingConfig(sweep_every_s=3600)
    gate, t = settled_gate(cfg)
    still = gate.plan(street(8), t, NONE, cfg)
    assert still.path is InferencePath.SKIPPED and still.cues_rest, "nothing changed, nothing watched"
    watched = gate.plan(street(9), t + 0.5, np.array([[50, 60, 70, 90]], np.float32), cfg)
    assert not watched.cues_rest, "a watched region keeps the cues running"
    changed = gate.plan(with_patch(street(10), (300, 250, 308, 266)), t + 1.0, NONE, cfg)
    assert changed.change.boxes.size and not changed.cues_rest, "a change keeps the cues running"
    rested = gate.snapshot().cues_rested
    off = GatingConfig(sweep_every_s=3600, rest_cues_when_still=False)
    gate_off, t_off = settled_gate(off, "cam-2")
    plan_off = gate_off.plan(street(8), t_off, NONE, off)
    assert plan_off.path is InferencePath.SKIPPED and not plan_off.cues_rest, "switched off: the cues run"
    assert rested >= 1 and gate_off.snapshot().cues_rested == 0


def test_a_blob_left_out_as_seen_empty_is_no_still_frame() -> None:
    """A blinking lamp the model saw empty a moment ago skips the model, but the picture did change there:
    the cues keep running."""
    cfg = GatingConfig(sweep_every_s=3600, recheck_after_s=10.0)
    gate, t = settled_gate(cfg)
    lamp = (300, 250, 308, 266)
    first = gate.plan(with_patch(street(8), lamp), t, NONE, cfg)
    assert first.path is InferencePath.REGIONS
    gate.run(with_patch(street(8), lamp), first, empty_submit)
    again = gate.plan(with_patch(street(9), lamp, value=10), t + 0.5, NONE, cfg)
    assert again.path is InferencePath.SKIPPED and again.rechecks_deferred >= 1
    assert not again.cues_rest


# --------------------------------------------------------------------------- open incidents


def burning(i: int, box: tuple[int, int, int, int] = (300, 250, 330, 280)) -> NDArray[np.uint8]:
    """The still street with a flickering patch (a burning fire): it changes on every frame."""
    return with_patch(street(20 + i), box, value=(250, 120)[i % 2])


def test_an_open_incident_is_relooked_every_incident_relook_s_and_held_in_between() -> None:
    cfg = GatingConfig(sweep_every_s=3600, incident_relook_s=2.0)
    gate, t = settled_gate(cfg)
    model = FakeCropModel()
    incident = np.array([[300, 250, 330, 280]], np.float32)
    paths, found = [], []
    for i in range(6):
        plan = gate.plan(burning(i), t + 0.5 * i, incident, cfg, incident)
        found.append(gate.run(burning(i), plan, model.submit).xyxy.tolist())
        paths.append((plan.path.value, plan.reason.value))
    assert paths[0][0] == "regions", "the model looks at the incident"
    assert paths[1:4] == [("reused", "incident_held")] * 3, "though it flickers, it is held while its look is fresh"
    assert paths[4][0] == "regions" and paths[5] == ("reused", "incident_held"), "looked at again after 2 s"
    assert len(model.calls) == 2 and found[1:4] == [found[0]] * 3 and len(found[0]) == 1, \
        "a held incident gives the detector its last look's boxes, in source pixels, without a model call"
    stats = gate.snapshot()
    assert (stats.incidents_held, stats.incident_looks) == (4, 2)
    drawn = gate.annotate(burning(6))
    assert drawn.shape == (H, W, 3) and gate.last_plan is not None and gate.last_plan.incident_relook_in_s == 1.5
    every = GatingConfig(sweep_every_s=3600, incident_relook_s=0.0)
    gate, t = settled_gate(every)
    for i in range(3):
        plan = gate.plan(burning(i), t + 0.5 * i, incident, every, incident)
        gate.run(burning(i), plan, model.submit)
        assert plan.path is InferencePath.REGIONS, "0 looks at a burning incident on every frame"


def test_a_held_incident_does_not_hide_what_changes_outside_it_or_a_fire_that_spreads() -> None:
    cfg = GatingConfig(sweep_every_s=3600, incident_relook_s=2.0)
    gate, t = settled_gate(cfg)
    model = FakeCropModel()
    incident = np.array([[300, 250, 330, 280]], np.float32)
    gate.run(burning(0), gate.plan(burning(0), t, incident, cfg, incident), model.submit)
    elsewhere = with_patch(burning(1), (40, 40, 50, 60))
    plan = gate.plan(elsewhere, t + 0.5, incident, cfg, incident)
    assert plan.path is InferencePath.REGIONS and plan.incidents_held == 1 and len(plan.crops) == 1
    assert plan.crops[0, 2] < 300, "only the new change is cropped, not the held incident"
    dets = gate.run(elsewhere, plan, model.submit)
    assert len(dets) == 2, "the new crop's box and the held incident's, both given"
    spread = np.array([[200, 150, 400, 300]], np.float32)  # the fire grew out of its looked-at crop
    plan = gate.plan(burning(2, (200, 150, 400, 300)), t + 1.0, spread, cfg, spread)
    assert plan.runs_model and plan.incidents_held == 0, "a spreading fire is looked at at once"


def test_a_sweep_is_a_look_at_every_open_incident() -> None:
    cfg = GatingConfig(sweep_every_s=3600, incident_relook_s=2.0)
    gate = Gate("cam-1", "fire", GEOMETRY)
    model = FakeCropModel((305.0, 255.0, 325.0, 275.0))
    incident = np.array([[300, 250, 330, 280]], np.float32)
    first = gate.plan(burning(0), 1000.0, incident, cfg, incident)
    assert first.path is InferencePath.SWEEP and len(first.incident_crops) == 1
    assert gate.run(burning(0), first, model.submit).xyxy.tolist() == [[305.0, 255.0, 325.0, 275.0]]
    held = gate.plan(burning(1), 1000.5, incident, cfg, incident)
    assert (held.path, held.reason) == (InferencePath.REUSED, PathReason.INCIDENT_HELD)
    assert gate.run(burning(1), held, model.submit).xyxy.tolist() == [[305.0, 255.0, 325.0, 275.0]], \
        "the sweep's box on the incident is held"
    assert len(model.calls) == 1
