"""The weights-free flame cue on real third-party media (../shared/testdata-real, read-only).

- Intel sample videos (a car park from above; people walking over an orange wooden floor; no fire
  anywhere): `mode: cues` with the reference config raises no fire or smoke alert. Before issue 14 the
  cues raised a fire on a floor plank 24.6 s and another at 52.6 s into `one-by-one-person-detection.mp4`
  (a sway measured on the walking person misaligned the floor's texture; a plank also has no hot core).
- Roboflow fire-wrpgm, the still stage of the flame cue (colour, blobs, hot core; a still has no
  flicker), image level, 52 fire images against 50 negatives. Measured with the reference config:
  flagged 42/52 fire images (40 with a box on the labelled fire), 30/50 negatives; precision 0.583,
  recall 0.808. Without the hot-core test (colour and blobs only, the stage before issue 14):
  44/52 (42 on the fire), 35/50 negatives; precision 0.557, recall 0.846. Colour alone stays weak on
  these CCTV negatives (skin, hair, wood, beige walls are flame-coloured); the temporal tests are what
  reject them on video. Asserted: each figure within the stated margin of its measured value.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from benchmarks.scenarios.fire_street_score import load_fire_config, run_clip
from benchmarks.scenarios.roboflow_colour import StillStageSummary, score_images, summarise
from detectors.event import Phase
from detectors.fire import FireConfig

INTEL_VIDEOS = ("one-by-one-person-detection.mp4", "car-detection.mp4")


@pytest.mark.slow
@pytest.mark.timeout(600)
@pytest.mark.parametrize("name", INTEL_VIDEOS)
def test_intel_videos_raise_no_alert_in_cues_mode(real_testdata: Path, name: str) -> None:
    config = load_fire_config()
    assert config.mode == "cues"
    run = run_clip(real_testdata / "intel-sample-videos" / name, config, camera_id=name)
    starts = [(e.kind.value, e.trigger_captured_at, e.box_xyxy) for e in run.events if e.phase is Phase.START]
    assert run.frames > 100
    assert starts == [], starts
    # The counters explain what was seen and dropped, each under a named reason.
    assert set(run.rejected) <= {"onset", "dim", "static", "drift", "blinking", "periodic", "too_small", "too_wide"}
    if name.startswith("one-by-one"):
        # The orange floor is flame-coloured: mostly without a hot core, and still where it is bright.
        assert run.rejected.get("dim", 0) > 0 and run.rejected.get("static", 0) > 0, run.rejected


@pytest.fixture(scope="module")
def roboflow(real_testdata: Path) -> tuple[StillStageSummary, StillStageSummary]:
    root = real_testdata / "roboflow-fire-wrpgm"
    now = summarise(score_images(root, load_fire_config()))
    before = summarise(score_images(root, FireConfig.model_validate({"flame": {"hot_min_luma": 0}})))
    return now, before


@pytest.mark.slow
def test_roboflow_still_stage_precision_and_recall(roboflow: tuple[StillStageSummary, StillStageSummary]) -> None:
    s, _ = roboflow
    assert s.fire_images == 52 and s.negative_images == 50
    assert abs(s.tp - 42) <= 2, s
    assert abs(s.found_on_fire - 40) <= 2, s
    assert abs(s.fp - 30) <= 2, s
    assert abs(s.precision - 0.583) <= 0.03, s
    assert abs(s.recall - 0.808) <= 0.04, s


@pytest.mark.slow
def test_roboflow_hot_core_removes_false_flags(roboflow: tuple[StillStageSummary, StillStageSummary]) -> None:
    """Measured: 35 -> 30 flagged negatives, at the cost of 44 -> 42 fire images."""
    s, before = roboflow
    assert (before.fp, before.tp) == (35, 44), before
    assert before.fp - s.fp >= 4, (before, s)
    assert before.tp - s.tp <= 3, (before, s)
