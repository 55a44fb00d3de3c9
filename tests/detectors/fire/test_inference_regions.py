"""What the fire detector asks a gated model to keep looking at (`detectors.base.RegionSource`): its
candidates and the extent of every live track, per camera, and which of them are open incidents
(`detectors.base.IncidentSource`) (unit tests, a scripted fake model)."""

from __future__ import annotations

import numpy as np
import pytest

from detectors.base import IncidentSource, RegionSource, StillAware
from detectors.event import Phase
from detectors.fire import FireConfig, FireDetector
from detectors.fire.cues import FlameCue
from ingest.frame import Frame
from models.detections import Detections

T0 = 1_760_000_000.0
NAMES = {0: "fire", 1: "smoke"}


def frame(seq: int, camera: str = "cam1") -> Frame:
    return Frame(camera_id=camera, seq=seq, captured_at=T0 + seq * 0.5, pts_s=seq * 0.5,
                 image=np.full((240, 320, 3), 90, np.uint8))


def fake_model_boxes(*boxes: tuple[float, float, float, float]) -> Detections:
    """Fake of the model stage: fire boxes at 0.8 confidence."""
    return Detections.from_arrays([list(b) for b in boxes], [0.8] * len(boxes), [0] * len(boxes))


def test_the_detector_offers_gating_and_its_settings_follow_reconfigure() -> None:
    det = FireDetector(FireConfig.model_validate({"mode": "both", "model": "m"}), class_names=NAMES)
    assert isinstance(det, RegionSource)
    assert det.gating.enabled and det.gating.sweep_every_s == 15.0
    det.reconfigure(FireConfig.model_validate({"mode": "both", "model": "m", "gating": {"sweep_every_s": 30}}))
    assert det.gating.sweep_every_s == 30.0, "a hot reload reaches the gate on the next frame"


def test_regions_are_the_candidates_and_the_live_tracks_of_that_camera() -> None:
    det = FireDetector(FireConfig.model_validate({"mode": "model", "model": "m"}), class_names=NAMES)
    assert det.inference_regions("cam1").shape == (0, 4), "a camera never seen asks for nothing"
    det.process(frame(0), fake_model_boxes((100, 100, 120, 140)))
    regions = det.inference_regions("cam1")
    assert regions.dtype == np.float32
    assert [100, 100, 120, 140] in regions.tolist(), "this frame's candidate"
    det.process(frame(1), fake_model_boxes((104, 98, 126, 142)))
    regions = det.inference_regions("cam1")
    assert [100, 98, 126, 142] in regions.tolist(), "the track's extent over its window"
    assert det.inference_regions("cam2").shape == (0, 4), "cameras never mix"
    for seq in range(2, 40):
        det.process(frame(seq), Detections.empty())
    assert det.inference_regions("cam1").shape == (0, 4), "a track that faded out is no longer watched"


def test_on_a_frame_the_gate_calls_still_the_cues_rest_and_on_no_other(monkeypatch: pytest.MonkeyPatch) -> None:
    steps: list[float] = []
    holds: list[int] = []
    step = FlameCue.step
    monkeypatch.setattr(FlameCue, "step", lambda cue, work, cfg: steps.append(1) or step(cue, work, cfg))
    monkeypatch.setattr(FlameCue, "hold", lambda cue: holds.append(1))
    det = FireDetector(FireConfig.model_validate({"mode": "both", "model": "m"}), class_names=NAMES)
    assert isinstance(det, StillAware)
    det.process(frame(0), Detections.empty())
    det.still("cam1", frame(1).captured_at)
    det.process(frame(1), Detections.empty())
    assert (len(steps), len(holds)) == (1, 1), "the still frame was held, not colour-tested"
    det.still("cam1", frame(5).captured_at)
    det.process(frame(2), Detections.empty())
    assert (len(steps), len(holds)) == (2, 1), "a still mark for another frame is not this frame's"
    det.process(frame(5), Detections.empty())
    assert (len(steps), len(holds)) == (3, 1), "a mark is taken by the next frame processed, used or not"


def test_open_incidents_are_named_apart_for_the_gates_relook() -> None:
    cfg = {"mode": "model", "model": "m", "fusion": {"lamp_min_frames": 1}}  # the lamp tests' wait off
    det = FireDetector(FireConfig.model_validate(cfg), class_names=NAMES)
    assert isinstance(det, IncidentSource)
    assert det.incident_regions("cam1").shape == (0, 4), "a camera never seen has no incident"
    started = None
    for seq in range(12):
        events = det.process(frame(seq), fake_model_boxes((100, 100, 120, 140)))
        if started is None and any(e.phase is Phase.START for e in events):
            started = seq
        if started is None:
            assert det.incident_regions("cam1").shape == (0, 4), f"frame {seq}: a track not yet an incident"
    assert started is not None, "the scripted fire starts an incident"
    assert det.incident_regions("cam1").tolist() == [[100, 100, 120, 140]], "the incident's recent extent"
    assert [100, 100, 120, 140] in det.inference_regions("cam1").tolist(), "and it is among the watched regions"
    assert det.incident_regions("cam2").shape == (0, 4), "cameras never mix"
