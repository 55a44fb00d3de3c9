"""ThrowDetector end to end on generated video: events, lifecycle, veto, reload, drawing, errors."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pytest

from benchmarks.scenarios.throw import ThrowScene
from benchmarks.scenarios.throw_spec import ThrowScenarioSpec
from benchmarks.throw_bench import EPOCH_S, detector_for, run_detector
from detectors.base import Detector
from detectors.event import Event, EventKind, GeoMethod, Phase
from detectors.throw import ThrowConfig, ThrowDetector
from detectors.throw.events import ThrowDetails
from foundation.errors import ConfigError, GridwatchError, ModelError
from ingest.frame import Frame
from models.detections import Detections

# development seeds (< 1000) are used here; the accuracy gate has its own, untouched seeds
SPEC = ThrowScenarioSpec(seed=21, duration_s=12.0, throws=2, min_throw_floor=6, birds_per_min=3.0)


@dataclass
class Played:
    scene: ThrowScene
    detector: ThrowDetector
    events: list[Event]


@pytest.fixture(scope="module")
def played() -> Played:
    scene = ThrowScene(SPEC)
    det = detector_for(scene)
    run = run_detector(det, scene.frames(), SPEC.fps)
    return Played(scene, det, run.events)


def _throw(event: Event) -> ThrowDetails:
    """The throw details the detector declared for this event."""
    assert isinstance(event.details, ThrowDetails)
    return event.details


def by_incident(events: list[Event]) -> dict[str, list[Event]]:
    out: dict[str, list[Event]] = {}
    for e in events:
        out.setdefault(e.incident_id, []).append(e)
    return out


def test_implements_the_detector_protocol() -> None:
    det = ThrowDetector("cam1")
    assert isinstance(det, Detector)
    assert det.name == "throw"
    assert det.analysis_fps == 25.0
    assert det.model_name is None


def test_each_throw_is_one_incident_from_start_to_end(played: Played) -> None:
    incidents = by_incident(played.events)
    assert len(incidents) == len(played.scene.throws) == 2
    for (iid, evs), truth in zip(sorted(incidents.items()), played.scene.throws, strict=True):
        assert [e.phase for e in evs] == [Phase.START, Phase.END]
        assert [e.update_seq for e in evs] == [0, 1]
        assert iid.startswith(f"throw-{played.detector.camera_id}-")
        end = evs[-1]
        assert end.kind is EventKind.THROW and end.source_id == played.detector.camera_id
        assert end.facade is not None and abs(end.facade.floor - truth.floor) <= 1
        assert end.facade.column == truth.column
        assert end.started_at == pytest.approx(EPOCH_S + _throw(end).trajectory_px[0][0])
        assert end.started_at <= end.last_seen_at <= end.trigger_captured_at
        assert 0.5 <= end.confidence <= 1.0


def test_events_carry_trajectory_window_geo_and_reasons(played: Played) -> None:
    cfg = played.detector.config
    for evs, truth in zip(by_incident(played.events).values(), played.scene.throws, strict=True):
        start, end = evs
        traj = _throw(end).trajectory_px
        assert len(traj) >= cfg.trajectory.min_points and all(len(p) == 3 for p in traj)
        assert list(traj) == sorted(traj)
        assert len(_throw(end).fitted_curve_px) > 10
        lo, hi = end.evidence_window_s
        assert lo <= max(0.0, truth.release_t_s - cfg.evidence.pre_roll_s + 0.3)
        assert hi >= traj[-1][0] + cfg.evidence.post_roll_s - 1e-6
        assert start.evidence_window_s[1] >= truth.landing_t_s  # the start already asks for the whole fall
        assert _throw(end).release_pts_s == pytest.approx(truth.release_t_s, abs=0.25)
        assert _throw(end).accel_m_s2 == pytest.approx(9.8, rel=0.3)
        assert end.reasons["verdict"] == "accepted"
        for key in ("accel_m_s2", "accel_ratio", "drop_m", "residual_px", "release_height_m"):
            assert key in end.reasons
        assert end.ground is not None and end.ground.method is GeoMethod.FACADE_HOMOGRAPHY
        assert end.snapshot is not None and end.snapshot.camera_id == played.detector.camera_id
        x1, y1, x2, y2 = end.box_xyxy or (0, 0, 0, 0)
        assert all(x1 <= x <= x2 and y1 <= y <= y2 for _, x, y in traj)


def test_stats_count_frames_and_outcomes(played: Played) -> None:
    st = played.detector.stats
    assert st.frames == SPEC.n_frames
    assert st.confirmations == 2
    assert st.events["start"] == 2 and st.events["end"] == 2
    assert st.candidates >= 2
    assert set(st.stage_seconds) == {"prepare", "stabilise", "subtract", "blobs", "track", "judge"}


def test_flush_ends_an_open_incident() -> None:
    scene = ThrowScene(SPEC)
    det = detector_for(scene)
    release = scene.throws[0].release_t_s
    events: list[Event] = []
    for i, image in enumerate(scene.frames()):
        t = i / SPEC.fps
        events += det.process(Frame(det.camera_id, i, EPOCH_S + t, t, image), None)
        if events:
            break
    assert [e.phase for e in events] == [Phase.START]
    assert t < release + 3.0
    ended = det.flush(EPOCH_S + t)
    assert [(e.phase, e.incident_id, e.update_seq) for e in ended] == [(Phase.END, events[0].incident_id, 1)]
    assert det.flush(EPOCH_S + t) == []


class FakeBirdClassifier:
    """Sees a bird (class 14) in every crop; records the crop sizes it was given."""

    def __init__(self) -> None:
        self.crops: list[tuple[int, ...]] = []

    def __call__(self, crop: np.ndarray) -> Detections:
        self.crops.append(crop.shape)
        return Detections.from_arrays([[0, 0, 10, 10]], [0.9], [14])


class FakeBrokenClassifier:
    def __call__(self, crop: np.ndarray) -> Detections:
        raise ModelError("crop model: session failed")


def _play(det: ThrowDetector, scene: ThrowScene) -> list[Event]:
    return run_detector(det, scene.frames(), SPEC.fps).events


def test_crop_classifier_vetoes_birds() -> None:
    scene = ThrowScene(SPEC)
    cfg = ThrowConfig.model_validate({**scene.detector_overrides(), "classifier": {"model": "birds-v1"}})
    fake = FakeBirdClassifier()
    det = ThrowDetector("cam-veto", cfg, classifier=fake, class_names={14: "bird", 0: "bottle"})
    assert _play(det, scene) == []
    assert det.stats.rejected["classifier"] == 2
    assert fake.crops and all(c[0] >= 64 and c[2] == 3 for c in fake.crops)


def test_a_failing_classifier_does_not_silence_the_detector() -> None:
    scene = ThrowScene(SPEC)
    cfg = ThrowConfig.model_validate({**scene.detector_overrides(), "classifier": {"model": "birds-v1"}})
    det = ThrowDetector("cam-broken", cfg, classifier=FakeBrokenClassifier(), class_names={14: "bird"})
    assert len(by_incident(_play(det, scene))) == 2
    assert det.stats.classifier_errors == 2


def test_reconfigure_swaps_thresholds_and_keeps_tracks() -> None:
    scene = ThrowScene(SPEC)
    det = detector_for(scene)
    frames = scene.frames()
    for i in range(40):
        det.process(Frame(det.camera_id, i, EPOCH_S + i / 25, i / 25, next(frames)), None)
    live = det.stats.tracks_active
    new = det.config.model_copy(update={"trajectory": det.config.trajectory.model_copy(update={"min_drop_m": 4.0})})
    det.reconfigure(new)
    assert det.config.trajectory.min_drop_m == 4.0
    assert det._tracker.active == live
    with pytest.raises(ConfigError, match="ThrowConfig"):
        det.reconfigure(ThrowConfig().foreground)


def test_uncalibrated_camera_still_alerts_without_a_floor() -> None:
    scene = ThrowScene(SPEC)
    mid_scale = float(np.median([scene.cam.f / 75.0]))
    cfg = ThrowConfig.model_validate({"fallback_px_per_m": mid_scale, "foreground": {"sky_masks": scene.sky_masks()}})
    events = _play(ThrowDetector("cam-nocal", cfg), scene)
    incidents = by_incident(events)
    assert len(incidents) == 2
    end = next(iter(incidents.values()))[-1]
    assert end.facade is None and end.ground is None and _throw(end).calibrated is False


def test_annotate_draws_on_a_copy(played: Played) -> None:
    scene = ThrowScene(SPEC)
    det = detector_for(scene)
    image = None
    for i, img in enumerate(scene.frames()):
        t = i / SPEC.fps
        if det.process(Frame(det.camera_id, i, EPOCH_S + t, t, img), None):
            image = img
            break
    assert image is not None
    before = image.copy()
    drawn = det.annotate(image)
    assert np.array_equal(image, before)
    assert drawn.shape == image.shape and drawn.dtype == np.uint8
    changed = np.any(drawn != image, axis=2)
    assert changed[:60, :300].any()  # counters
    traj = det._recent[-1].points
    x, y = int(traj[len(traj) // 2, 1]), int(traj[len(traj) // 2, 2])
    assert changed[y - 4 : y + 5, x - 4 : x + 5].any()  # the fitted curve through the track


def test_frames_of_another_camera_are_refused() -> None:
    det = ThrowDetector("cam1")
    frame = Frame("cam2", 0, EPOCH_S, 0.0, np.zeros((540, 960, 3), np.uint8))
    with pytest.raises(GridwatchError, match=r"camera cam1 was given a frame of camera cam2"):
        det.process(frame, None)


def test_evidence_shows_the_fall_over_the_facade_grid_and_the_clip_spans_release_to_landing(played: Played) -> None:
    incidents = sorted(by_incident(played.events).items())
    for (_, evs), truth in zip(incidents, played.scene.throws, strict=True):
        start, end = evs[0], evs[-1]
        assert start.evidence_window_s is not None
        w0, w1 = start.evidence_window_s
        assert w0 <= truth.release_t_s and w1 >= truth.landing_t_s
        assert end.snapshot is not None and end.evidence_image is not None
        snap = end.snapshot.image
        pic = end.evidence_image
        assert pic.shape[1:] == snap.shape[1:] and pic.shape[0] > snap.shape[0]  # a caption band below
        assert pic[snap.shape[0] :].std() > 10  # the band holds text
        changed = np.any(pic[: snap.shape[0]] != snap, axis=2)
        traj = np.asarray(_throw(end).trajectory_px)
        for _, x, y in traj[:: max(1, len(traj) // 6)]:
            assert changed[int(y) - 2 : int(y) + 3, int(x) - 2 : int(x) + 3].any()  # every stretch drawn
        # the release window is shaded where the object really left the building
        x0, y0 = truth.track_px[0][1:]
        patch = pic[int(y0) - 6 : int(y0) + 7, int(x0) - 6 : int(x0) + 7].astype(int)
        assert (patch[..., 2] - patch[..., 1]).max() > 40  # red shading over the wall
        # floor lines: the grid changes many pixels across the facade, far from the trajectory
        assert changed[:, : int(traj[:, 1].min()) - 40].mean() > 0.01
