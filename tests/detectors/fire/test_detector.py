"""FireDetector lifecycle with a fake model at the model seam (unit tests; no video, no ONNX).

The service runs the configured model through the shared batcher and hands `process()` its boxes; here
`FakeFireModel` plays that part with scripted boxes so each rule (N of M, update, end, cooldown, zones,
masks, schedule, agreement) can be checked on its own.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import cv2
import numpy as np
import pytest

from detectors.base import Detector
from detectors.event import EventKind, GeoMethod, ModelRef, Phase
from detectors.fire import FireConfig, FireDetector
from detectors.fire.events import FireDetails
from detectors.geometry.geodesy import enu_to_wgs84
from detectors.geometry.ground import GroundCalibration
from foundation.errors import ConfigError
from ingest.frame import Frame
from models.detections import Detections

T0 = 1_760_000_000.0
STEP_S = 0.2  # 5 fps analysis
CLASS_NAMES = {0: "Fire", 1: "default", 2: "smoke"}
BOX = (140.0, 120.0, 180.0, 190.0)


class FakeFireModel:
    """Fake of the model stage: returns the given box/class/confidence, or nothing, per frame."""

    def __init__(self, box: tuple[float, float, float, float] = BOX, class_id: int = 0, conf: float = 0.8) -> None:
        self.box, self.class_id, self.conf = box, class_id, conf

    def __call__(self, visible: bool, scale: float = 1.0) -> Detections:
        if not visible:
            return Detections.empty()
        x1, y1, x2, y2 = self.box
        w, h = (x2 - x1) * scale, (y2 - y1) * scale
        return Detections.from_arrays([[x1, y2 - h, x1 + w, y2]], [self.conf], [self.class_id])


def _frame(seq: int, camera: str = "cam1", image: np.ndarray | None = None) -> Frame:
    img = np.full((240, 320, 3), 100, np.uint8) if image is None else image
    return Frame(camera_id=camera, seq=seq, captured_at=T0 + seq * STEP_S, pts_s=seq * STEP_S, image=img)


def _model_config(**override: Any) -> FireConfig:
    """Model mode; the lamp tests' wait for history (test_fusion.py) is off so each rule here is alone."""
    return FireConfig.model_validate(
        {"mode": "model", "model": "fire-yolo", "fusion": {"lamp_min_frames": 1}, **override}
    )


def _run(
    det: FireDetector,
    visible: Iterable[bool],
    model: FakeFireModel | None = None,
    start: int = 0,
    camera: str = "cam1",
) -> list[Any]:
    model = model or FakeFireModel()
    events = []
    for i, vis in enumerate(visible):
        events += det.process(_frame(start + i, camera), model(vis))
    return events


def test_detector_satisfies_the_protocol() -> None:
    det = FireDetector(_model_config(), class_names=CLASS_NAMES)
    assert isinstance(det, Detector)
    assert det.name == "fire"
    assert det.model_name == "fire-yolo"
    assert det.analysis_fps == 5.0
    assert FireDetector(FireConfig()).model_name is None  # cues only: no model to run


def test_incident_starts_after_n_of_m_frames_with_full_event() -> None:
    ref = ModelRef(name="fire-yolo", version="1", sha256="ab" * 32)
    det = FireDetector(_model_config(), class_names=CLASS_NAMES, model_ref=ref)
    n = det.config.confirm.frames_required
    events = _run(det, [True] * (n - 1))
    assert events == []  # one frame short of N
    events = _run(det, [True], start=n - 1)
    assert len(events) == 1
    ev = events[0]
    assert ev.kind is EventKind.FIRE and ev.phase is Phase.START and ev.update_seq == 0
    assert ev.source_id == "cam1"
    assert ev.incident_id == f"fire-cam1-{round(T0 * 1000)}"
    assert ev.started_at == T0 and ev.trigger_captured_at == pytest.approx(T0 + (n - 1) * STEP_S)
    assert ev.box_xyxy == pytest.approx(BOX)
    assert 0.8 <= ev.confidence <= 1.0
    assert ev.reasons["frames_confirmed"] == n and ev.reasons["source"] == "model"
    assert ev.evidence_window_s == pytest.approx((0.0, (n - 1) * STEP_S + 5.0))
    assert ev.snapshot is not None and ev.model == ref
    assert isinstance(ev.details, FireDetails) and ev.details.area_px == pytest.approx(40 * 70)
    assert ev.ground is None  # no calibration: alerts fall back to the camera site
    assert det.stats.confirmations == 1 and det.stats.events["fire"] == 1


def test_gaps_break_confirmation_and_other_classes_are_ignored() -> None:
    det = FireDetector(_model_config(), class_names=CLASS_NAMES)
    assert _run(det, [True, False] * 6) == []  # never N of the last M with every other frame missing
    det = FireDetector(_model_config(), class_names=CLASS_NAMES)
    assert _run(det, [True] * 8, FakeFireModel(class_id=1)) == []  # 'default' is not fire
    assert _run(det, [True] * 8, FakeFireModel(conf=0.2), start=8) == []  # below min_model_confidence


def test_smoke_class_confirms_with_its_own_window() -> None:
    det = FireDetector(_model_config(), class_names=CLASS_NAMES)
    events = _run(det, [True] * 12, FakeFireModel(class_id=2))
    assert [e.kind for e in events] == [EventKind.SMOKE]
    assert events[0].reasons["frames_required"] == 8
    assert events[0].incident_id.startswith("smoke-cam1-")


def test_update_on_growth_then_end_then_cooldown_then_new_incident() -> None:
    cfg = _model_config(lifecycle={"update_min_interval_s": 1.0, "end_after_s": 3.0, "cooldown_s": 10.0})
    det = FireDetector(cfg, class_names=CLASS_NAMES)
    model = FakeFireModel()
    events: list[Any] = []
    seq = 0
    for i in range(30):  # 6 s of fire growing to 2x height
        events += det.process(_frame(seq), model(True, scale=1.0 + i / 30))
        seq += 1
    starts = [e for e in events if e.phase is Phase.START]
    updates = [e for e in events if e.phase is Phase.UPDATE]
    assert len(starts) == 1 and updates
    assert updates[0].update_seq == 1 and updates[0].incident_id == starts[0].incident_id
    assert isinstance(updates[0].details, FireDetails) and updates[0].details.growth_ratio >= 1.5
    assert updates[0].reasons["growth_rate_per_s"] > 0
    for _ in range(20):  # 4 s with nothing: the incident ends after 3 s
        events += det.process(_frame(seq), model(False))
        seq += 1
    ends = [e for e in events if e.phase is Phase.END]
    assert len(ends) == 1 and ends[0].incident_id == starts[0].incident_id
    assert ends[0].update_seq == updates[-1].update_seq + 1
    assert ends[0].last_seen_at == pytest.approx(T0 + 29 * STEP_S)
    events = []
    for _ in range(10):  # the same place flares up again inside the cooldown: no new incident
        events += det.process(_frame(seq), model(True))
        seq += 1
    assert events == [] and det.stats.rejected["cooldown"] > 0
    seq += 50  # 10 s later the cooldown is over
    for _ in range(6):
        events += det.process(_frame(seq), model(True))
        seq += 1
    assert [e.phase for e in events] == [Phase.START]
    assert events[0].incident_id != starts[0].incident_id


@pytest.mark.parametrize(
    ("override", "reason"),
    [
        ({"zones": [[[0.0, 0.0], [0.3, 0.0], [0.3, 0.3], [0.0, 0.3]]]}, "outside_zone"),
        ({"masks": [[[130, 110], [200, 110], [200, 200], [130, 200]]]}, "masked"),
        ({"area": {"max_box_width_share": 0.1}}, "too_wide"),
        ({"area": {"min_box_area_share": 0.05}}, "too_small"),
        ({"schedule": {"active_hours": ["03:00-04:00"], "timezone": "UTC"}}, "schedule"),
    ],
)
def test_gates_block_incidents_and_count_the_reason(override: dict[str, Any], reason: str) -> None:
    det = FireDetector(_model_config(**override), class_names=CLASS_NAMES)
    assert _run(det, [True] * 8) == []
    assert det.stats.rejected[reason] > 0


def test_schedule_allows_inside_active_hours() -> None:
    # T0 is 2025-10-09 08:53 UTC
    det = FireDetector(
        _model_config(schedule={"active_hours": ["08:00-09:00"], "timezone": "UTC"}), class_names=CLASS_NAMES
    )
    assert len(_run(det, [True] * 6)) == 1


def test_flush_ends_open_incidents_and_cameras_are_kept_apart() -> None:
    det = FireDetector(_model_config(), class_names=CLASS_NAMES)
    a = _run(det, [True] * 5, camera="cam-a")
    b = _run(det, [False] * 2 + [True] * 5, camera="cam-b")
    assert [e.source_id for e in a + b] == ["cam-a", "cam-b"]
    assert a[0].incident_id != b[0].incident_id
    ends = det.flush(T0 + 100)
    assert sorted(e.source_id for e in ends) == ["cam-a", "cam-b"]
    assert all(e.phase is Phase.END for e in ends)
    assert det.flush(T0 + 101) == []


def test_reconfigure_keeps_incidents_and_swaps_thresholds() -> None:
    det = FireDetector(_model_config(), class_names=CLASS_NAMES)
    assert len(_run(det, [True] * 5)) == 1
    det.reconfigure(_model_config(confirm={"frames_required": 10, "window_frames": 12}, lifecycle={"end_after_s": 1.0}))
    assert det.config.confirm.frames_required == 10
    events = _run(det, [False] * 6, start=5)
    assert [e.phase for e in events] == [Phase.END]  # the open incident survived the reload
    with pytest.raises(ConfigError, match="FireConfig"):
        det.reconfigure(
            GroundCalibration.model_validate(
                {
                    "points": [
                        {"image_xy_px": (0, 0), "east_m": 0, "north_m": 0},
                        {"image_xy_px": (10, 0), "east_m": 1, "north_m": 0},
                        {"image_xy_px": (0, 10), "east_m": 0, "north_m": 1},
                        {"image_xy_px": (10, 10), "east_m": 1, "north_m": 1},
                    ],
                    "origin_lat_deg": 31.0,
                    "origin_lon_deg": 121.0,
                }
            )
        )


def test_ground_calibration_gives_a_ground_point_and_area() -> None:
    origin = (31.2, 121.5)
    pts = []
    for (x, y), (e, n) in zip(
        [(0, 240), (320, 240), (0, 120), (320, 120)], [(0, 0), (16, 0), (0, 30), (16, 30)], strict=True
    ):
        lat, lon = enu_to_wgs84(origin[0], origin[1], e, n)
        pts.append({"image_xy_px": (x, y), "lat_deg": float(lat), "lon_deg": float(lon)})
    ground = GroundCalibration.model_validate({"points": pts})
    det = FireDetector(_model_config(), class_names=CLASS_NAMES, ground=ground, camera_id="cam1")
    ev = _run(det, [True] * det.config.confirm.frames_required)[0]
    assert ev.ground is not None and ev.ground.method is GeoMethod.GROUND_HOMOGRAPHY
    # the base of BOX (x=160, y=190) maps to about 8 m east, 12.5 m north of the origin
    e_lat, e_lon = enu_to_wgs84(origin[0], origin[1], 8.0, 12.5)
    assert abs(ev.ground.lat_deg - float(e_lat)) < 2e-5 and abs(ev.ground.lon_deg - float(e_lon)) < 2e-5
    assert ev.area_m2 is not None and ev.area_m2 > 0
    assert isinstance(ev.details, FireDetails) and ev.details.area_m2_est == ev.area_m2


def _flicker_frame(seq: int, rng: np.random.Generator) -> Frame:
    img = np.full((240, 320, 3), 100, np.uint8)
    for _ in range(3):
        h = int(rng.uniform(30, 60))
        tip = (160 + int(rng.normal(0, 8)), 190 - h)
        cv2.fillPoly(img, [np.array([(148, 190), tip, (172, 190)], np.int32)], (20, 130, 250))
    cv2.ellipse(img, (160, 180), (8, 12), 0, 0, 360, (60, 200, 255), -1)
    return _frame(seq, image=img)


def test_model_and_cues_agreeing_raise_confidence() -> None:
    rng = np.random.default_rng(11)
    model = FakeFireModel(box=(145.0, 125.0, 176.0, 191.0), conf=0.6)
    both = FireDetector(
        FireConfig.model_validate({"mode": "both", "model": "fire-yolo", "fusion": {"lamp_min_frames": 1}}),
        class_names=CLASS_NAMES,
    )
    alone = FireDetector(_model_config(), class_names=CLASS_NAMES)
    ev_both, ev_alone = [], []
    for seq in range(8):
        frame = _flicker_frame(seq, rng)
        ev_both += both.process(frame, model(True))
        ev_alone += alone.process(frame, model(True))
    assert ev_both and ev_alone
    assert ev_both[0].reasons["source"] == "both" and ev_both[0].reasons["agreement_frames"] >= 1
    assert ev_alone[0].reasons["source"] == "model"
    assert ev_both[0].confidence >= ev_alone[0].confidence + 0.2


def test_cues_alone_confirm_a_flickering_flame_and_annotate_draws_it() -> None:
    rng = np.random.default_rng(12)
    det = FireDetector(FireConfig())
    events = []
    frame = _flicker_frame(0, rng)
    for seq in range(8):
        frame = _flicker_frame(seq, rng)
        events += det.process(frame, None)
    assert [e.phase for e in events] == [Phase.START]
    ev = events[0]
    assert ev.reasons["source"] == "cues" and ev.reasons["flicker_disorder"] >= 0.18
    assert ev.box_xyxy is not None and ev.box_xyxy[0] < 160 < ev.box_xyxy[2]
    drawn = det.annotate(frame.image)
    assert drawn.shape == frame.image.shape and drawn is not frame.image
    assert not np.array_equal(drawn, frame.image)  # boxes and text were drawn on the copy
    assert not frame.image.flags.writeable  # the frame itself is untouched
