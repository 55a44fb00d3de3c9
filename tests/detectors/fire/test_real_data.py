"""Real third-party footage (../shared/testdata-real, read-only): FURG house6 and the Roboflow fire frames.

Asserted (deterministic for a given decoder and defaults; measured values in the comments):
  - FURG house6 (fire in every frame): a fire incident starts within 5.0 s (measured 3.0 s at 5 fps), and
    every fire start box overlaps a labelled flame box of that frame.
The Roboflow frames are gated in test_cue_real_media.py (`STILL_STAGE_MEASURED`), through the cue's still
stage as the detector runs it (colour, hot core, size and width gates).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from benchmarks.fire_score import furg_boxes, run_video
from detectors.event import EventKind, Phase
from detectors.fire import FireConfig

FURG_FPS = 29.97


def _overlaps(a: tuple[float, ...], b: tuple[int, int, int, int]) -> bool:
    return a[0] < b[2] and a[2] > b[0] and a[1] < b[3] and a[3] > b[1]


@pytest.mark.slow
def test_furg_house6_raises_a_fire_alert_within_5_s_on_the_flames(real_testdata: Path) -> None:
    folder = real_testdata / "furg-fire"
    truth = furg_boxes(folder / "house6.xml")
    assert len(truth) == 900 and all(truth.values())
    result = run_video(folder / "house6.mp4", FireConfig(), camera_id="furg-house6")
    starts = [e for e in result.events if e.phase is Phase.START]
    assert starts and all(e.kind is EventKind.FIRE for e in starts)
    first_s = starts[0].trigger_captured_at - result.t0
    assert first_s <= 5.0, f"first fire alert after {first_s:.2f} s"
    for ev in starts:
        frame_no = round((ev.trigger_captured_at - result.t0) * FURG_FPS)
        assert ev.box_xyxy is not None
        assert any(_overlaps(ev.box_xyxy, box) for box in truth[frame_no]), (ev.box_xyxy, truth[frame_no])
    assert all(e.incident_id in {s.incident_id for s in starts} for e in result.events)
