"""`both` mode and the lamp tests on model tracks, with a fake model at the model seam (unit tests).

The scripted boxes stand in for the model (`FakeFireModel` of test_detector.py); the cue side is the
real flame cue on drawn flickering flames.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from detectors.event import Phase
from detectors.fire import FireConfig, FireDetector
from models.detections import Detections
from tests.detectors.fire.test_detector import CLASS_NAMES, FakeFireModel, _flicker_frame, _frame

FLAME_BOX = (145.0, 125.0, 176.0, 191.0)
SMOKE_CLASS = 2
"""Index of "smoke" in CLASS_NAMES."""


def _both(**override: Any) -> FireConfig:
    return FireConfig.model_validate({"mode": "both", "model": "fire-yolo", **override})


def _lamp_pattern(frames: int, on: int = 3, off: int = 2) -> list[bool]:
    """A lamp blinking at 1 Hz with 60 % duty, sampled at 5 fps: 5 of any 7 frames can be lit."""
    return [(i % (on + off)) < on for i in range(frames)]


def _lamp_tested(**override: Any) -> FireConfig:
    return FireConfig.model_validate({"mode": "model", "model": "fire-yolo", **override})


def test_a_blinking_light_the_model_calls_fire_is_rejected_unless_lamp_tests_are_off() -> None:
    lamp = FakeFireModel(conf=0.4)
    pattern = _lamp_pattern(60)
    det = FireDetector(_lamp_tested(), class_names=CLASS_NAMES)
    events = [e for i, vis in enumerate(pattern) for e in det.process(_frame(i), lamp(vis))]
    assert events == [] and det.stats.rejected["blinking"] + det.stats.rejected["periodic"] > 0
    off = FireDetector(_lamp_tested(fusion={"model_lamp_tests": False}), class_names=CLASS_NAMES)
    events = [e for i, vis in enumerate(pattern) for e in off.process(_frame(i), lamp(vis))]
    assert [e.phase for e in events][:1] == [Phase.START]


def test_a_steady_fire_the_model_sees_alerts_once_the_lamp_tests_have_seen_enough() -> None:
    det = FireDetector(_lamp_tested(), class_names=CLASS_NAMES)
    model = FakeFireModel(conf=0.6)
    wait = det.config.fusion.lamp_min_frames
    assert det.config.confirm.frames_required < wait
    events = [(i, e) for i in range(wait + 3) for e in det.process(_frame(i), model(True))]
    assert [(i, e.phase) for i, e in events] == [(wait - 1, Phase.START)]
    assert events[0][1].reasons["model_off_share"] == 0.0


class _MovingFire:
    """Fake model output: a 'fire' box sliding right by 6 px per frame (a red car the model calls fire)."""

    def __call__(self, i: int) -> Detections:
        x = 20.0 + 6.0 * i
        return Detections.from_arrays([[x, 150.0, x + 40.0, 190.0]], [0.6], [0])


def test_a_model_track_that_drives_away_is_rejected_as_drift() -> None:
    car = _MovingFire()
    det = FireDetector(_lamp_tested(), class_names=CLASS_NAMES)
    assert [e for i in range(30) for e in det.process(_frame(i), car(i))] == []
    assert det.stats.rejected["drift"] > 0


def _run_both(cfg: FireConfig, model_boxes: Detections | None) -> tuple[list[Any], FireDetector]:
    rng = np.random.default_rng(11)
    det = FireDetector(cfg, class_names=CLASS_NAMES)
    events = []
    for seq in range(12):
        events += det.process(_flicker_frame(seq, rng), model_boxes if model_boxes is not None else Detections.empty())
    return events, det


def test_a_cue_only_flame_needs_model_corroboration_in_both_mode() -> None:
    uncorroborated, det = _run_both(_both(), None)
    assert uncorroborated == [] and det.stats.rejected["uncorroborated"] > 0
    # weak smoke rising over the flame: below min_model_confidence (0.35) it starts nothing, but it corroborates
    smoke = Detections.from_arrays([[140.0, 60.0, 185.0, 130.0]], [0.28], [2])
    corroborated, _ = _run_both(_both(), smoke)
    assert [e.phase for e in corroborated] == [Phase.START]
    assert corroborated[0].kind.value == "fire" and corroborated[0].reasons["model_corroborated"] is True
    assert corroborated[0].reasons["source"] == "cues"
    far = Detections.from_arrays([[10.0, 10.0, 40.0, 40.0]], [0.28], [2])  # nowhere near the flame
    assert _run_both(_both(), far)[0] == []


def test_the_alternative_rules_alert_or_stay_silent_as_configured() -> None:
    alert, _ = _run_both(_both(fusion={"cue_only": "alert"}), None)
    assert [e.phase for e in alert] == [Phase.START]
    smoke = Detections.from_arrays([[140.0, 60.0, 185.0, 130.0]], [0.28], [2])
    never, det = _run_both(_both(fusion={"cue_only": "never"}), smoke)
    assert never == [] and det.stats.rejected["uncorroborated"] > 0
    cues_mode, _ = _run_both(FireConfig(), None)  # `cues` mode is unchanged: the cues alone alert
    assert [e.phase for e in cues_mode] == [Phase.START]


def test_a_model_box_on_the_flame_confirms_in_both_mode_with_agreement() -> None:
    box = Detections.from_arrays([list(FLAME_BOX)], [0.6], [0])
    events, _ = _run_both(_both(), box)
    assert [e.phase for e in events] == [Phase.START]
    assert events[0].reasons["source"] == "both" and events[0].reasons["model_off_share"] == 0.0


def _smoke_box(i: int, growth_per_frame: float) -> Detections:
    """Fake model output: one 'smoke' box whose top rises and which widens by `growth_per_frame` of its
    starting size each frame (0: a still band the model calls smoke, like sky or haze)."""
    grow = growth_per_frame * i
    return Detections.from_arrays(
        [[100.0 - 20.0 * grow, 120.0 - 40.0 * grow, 140.0 + 20.0 * grow, 160.0]], [0.6], [SMOKE_CLASS])


NO_CHANGE_TEST = {"model_smoke_min_change": 0.0}
"""The still-smoke test off, so the alternative smoke rules below are compared alone on flat test frames."""


def _noisy_frame(i: int, *, churn_box: tuple[int, int, int, int] | None = None, step: int = 0) -> np.ndarray:
    """A 320x240 grey frame with camera-like noise (+-2 grey levels, new each frame); `churn_box`: a region
    whose texture changes every frame by tens of grey levels (a plume); `step`: the whole frame brightens by
    this much per frame (exposure)."""
    rng = np.random.default_rng(i)
    img = (100 + step * i + rng.integers(-2, 3, (240, 320))).astype(np.int16)
    if churn_box is not None:
        x1, y1, x2, y2 = churn_box
        img[y1:y2, x1:x2] += rng.integers(-30, 31, (y2 - y1, x2 - x1)).astype(np.int16)
    return np.repeat(np.clip(img, 0, 255).astype(np.uint8)[:, :, None], 3, axis=2)


def test_model_smoke_alerts_only_where_its_inside_changes_more_than_around_it() -> None:
    """`fusion.model_smoke_min_change` (on by default): a still band the model calls smoke never alerts,
    under camera noise or an exposure ramp; the same box over churning texture alerts as smoke."""
    still = FireDetector(_both(), class_names=CLASS_NAMES)
    assert [e for i in range(30) for e in still.process(_frame(i, image=_noisy_frame(i)), _smoke_box(i, 0.0))] == []
    assert still.stats.rejected["still_smoke"] > 0
    ramp = FireDetector(_both(), class_names=CLASS_NAMES)
    assert [e for i in range(30)
            for e in ramp.process(_frame(i, image=_noisy_frame(i, step=3)), _smoke_box(i, 0.0))] == []
    plume = FireDetector(_both(), class_names=CLASS_NAMES)
    events = [e for i in range(30)
              for e in plume.process(_frame(i, image=_noisy_frame(i, churn_box=(100, 120, 140, 160))),
                                     _smoke_box(i, 0.0))]
    assert [e.phase for e in events][:1] == [Phase.START] and events[0].kind.value == "smoke"
    assert float(events[0].reasons["smoke_inner_change"]) >= plume.config.fusion.model_smoke_min_change
    off = FireDetector(_both(fusion=NO_CHANGE_TEST), class_names=CLASS_NAMES)
    alerts = [e for i in range(30) for e in off.process(_frame(i, image=_noisy_frame(i)), _smoke_box(i, 0.0))]
    assert [e.phase for e in alerts][:1] == [Phase.START]


def test_model_smoke_that_never_rises_alerts_unless_model_smoke_must_rise() -> None:
    shipped = FireDetector(_both(fusion=NO_CHANGE_TEST), class_names=CLASS_NAMES)
    still = [e for i in range(30) for e in shipped.process(_frame(i), _smoke_box(i, 0.0))]
    assert [e.phase for e in still][:1] == [Phase.START]
    det = FireDetector(_both(fusion={**NO_CHANGE_TEST, "model_smoke_must_rise": True}), class_names=CLASS_NAMES)
    assert [e for i in range(30) for e in det.process(_frame(i), _smoke_box(i, 0.0))] == []
    assert det.stats.rejected["not_rising"] > 0
    rising = FireDetector(_both(fusion={**NO_CHANGE_TEST, "model_smoke_must_rise": True}), class_names=CLASS_NAMES)
    events = [e for i in range(30) for e in rising.process(_frame(i), _smoke_box(i, 0.05))]
    assert [e.phase for e in events][:1] == [Phase.START] and events[0].kind.value == "smoke"
    assert float(events[0].reasons["area_growth_share"]) >= rising.config.smoke.min_rise_share


def _fake_sky_smoke_box(i: int, growth_per_frame: float) -> Detections:
    """Fake model output: a 'smoke' box along the top edge of the 240 px test frame (top at 3 px), like
    the still band of sky the trained model calls smoke; it widens by `growth_per_frame` per frame."""
    grow = growth_per_frame * i
    return Detections.from_arrays([[100.0 - 40.0 * grow, 3.0, 180.0 + 40.0 * grow, 40.0 + 10.0 * grow]],
                                  [0.65], [SMOKE_CLASS])


def test_still_smoke_at_the_top_edge_waits_for_growth_but_smoke_lower_alerts_at_once() -> None:
    sky_rule = {**NO_CHANGE_TEST, "model_smoke_top_edge_share": 0.03}  # 7.2 px of the 240 px test frame
    shipped = FireDetector(_both(fusion=NO_CHANGE_TEST), class_names=CLASS_NAMES)
    assert [e.phase for i in range(30) for e in shipped.process(_frame(i), _fake_sky_smoke_box(i, 0.0))][:1] == [
        Phase.START]
    sky = FireDetector(_both(fusion=sky_rule), class_names=CLASS_NAMES)
    assert [e for i in range(30) for e in sky.process(_frame(i), _fake_sky_smoke_box(i, 0.0))] == []
    assert sky.stats.rejected["not_rising"] > 0
    spreading = FireDetector(_both(fusion=sky_rule), class_names=CLASS_NAMES)
    events = [e for i in range(30) for e in spreading.process(_frame(i), _fake_sky_smoke_box(i, 0.05))]
    assert [e.phase for e in events][:1] == [Phase.START] and events[0].reasons["smoke_at_top_edge"] is True
    # a still smoke box lower in the frame (top at 120 px) is not tested: it alerts as soon as without the rule
    lower = FireDetector(_both(fusion=sky_rule), class_names=CLASS_NAMES)
    at_once = [(i, e) for i in range(30) for e in lower.process(_frame(i), _smoke_box(i, 0.0))]
    shipped_low = FireDetector(_both(fusion=NO_CHANGE_TEST), class_names=CLASS_NAMES)
    reference = [(i, e) for i in range(30) for e in shipped_low.process(_frame(i), _smoke_box(i, 0.0))]
    assert at_once and reference and at_once[0][0] == reference[0][0]
    assert at_once[0][1].reasons["smoke_at_top_edge"] is False
