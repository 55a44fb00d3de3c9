"""Self-calibration's fit against matches made by the scenario generator's own camera (not the detector's).

The frames are a two-line survey seen by `benchmarks.scenarios.sim_camera` (OpenCV projection, scipy
rotations, an explicit focal in pixels) with a camera mounted off its reported attitude and a compass
error. The fit only sees the reported telemetry and the matched pixels; it must find a camera whose
ground points land where the generator's camera put them. Accuracy on rendered flights is gated in
tests/detectors/construction/test_accuracy_gate.py.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from benchmarks.scenarios.sim_camera import SimCamera, SimPose, project, ray_hits_plane
from detectors.geometry.drone import build_view
from detectors.geometry.drone_camera import CameraCorrection
from detectors.geometry.drone_config import DroneCameraSpec, DroneGeometryConfig
from detectors.geometry.geodesy import enu_to_wgs84
from detectors.geometry.selfcal_config import SelfCalibrationConfig
from detectors.geometry.selfcal_fit import CalibrationStatus, FramePair, FramePose, fit_camera
from ingest.frame import Pose

W, H = 1920, 1080
CONFIGURED_FOCAL_PX = 1331.0
LAT, LON = 34.80, 113.29


def survey(
    pitch_deg: float, true_focal_px: float, *, mount=(0.9, -1.2, 0.3), compass_deg: float = 2.0, lines: int = 2
) -> tuple[list[SimPose], list[FramePose], list[FramePair]]:
    """Frames every 15 m along `lines` survey lines 60 m apart (alternate headings), with ground matches."""
    rng = np.random.default_rng(5)
    cam = SimCamera(W, H, true_focal_px)
    truth: list[SimPose] = []
    for k in range(lines):
        heading = 0.0 if k % 2 == 0 else 180.0
        for s in np.arange(-120.0, 121.0, 15.0):
            north = s if k % 2 == 0 else -s
            truth.append(SimPose(-30.0 + 60.0 * k, north, 100.0, heading, pitch_deg, 0.0, mount, compass_deg))
    reported = [
        FramePose(p.east_m, p.north_m, p.up_m + 0.0, p.heading_deg, p.elevation_deg, p.bank_deg,
                  CONFIGURED_FOCAL_PX, W / 2, H / 2)
        for p in truth
    ]
    ground = np.column_stack([rng.uniform(-200, 200, 3000), rng.uniform(-250, 250, 3000), np.zeros(3000)])
    pairs: list[FramePair] = []
    seen = [project(cam, p, ground) for p in truth]
    inside = [np.isfinite(px).all(axis=1) & (px[:, 0] >= 0) & (px[:, 0] < W) & (px[:, 1] >= 0) & (px[:, 1] < H)
              for px in seen]
    for a in range(len(truth)):
        for b in range(a + 1, len(truth)):
            both = inside[a] & inside[b]
            cross = truth[a].heading_deg != truth[b].heading_deg
            if both.sum() < 25 or (b - a > 2 and not cross):
                continue
            idx = rng.choice(np.flatnonzero(both), 25, replace=False)
            noise = rng.normal(0, 0.7, (2, 25, 2))
            pairs.append(FramePair(a, b, seen[a][idx] + noise[0], seen[b][idx] + noise[1], bool(cross)))
    return truth, reported, pairs


def ground_errors(truth: list[SimPose], reported: list[FramePose], correction: CameraCorrection | None,
                  true_focal_px: float) -> np.ndarray:
    """Where the detector puts a grid of pixels, against where the generator's camera sees them."""
    cam = SimCamera(W, H, true_focal_px)
    spec = DroneCameraSpec(focal_length_mm=CONFIGURED_FOCAL_PX / W, sensor_width_mm=1.0, prefer_telemetry_focal=False)
    grid = np.array([[x, y] for y in np.linspace(50, H - 50, 5) for x in np.linspace(50, W - 50, 7)])
    out = []
    for t, r in zip(truth[::4], reported[::4], strict=True):
        lat, lon = enu_to_wgs84(LAT, LON, r.east_m, r.north_m)
        pose = Pose(lat_deg=float(lat), lon_deg=float(lon), rel_alt_m=r.height_m, gimbal_yaw_deg=r.yaw_deg,
                    gimbal_pitch_deg=r.pitch_deg, gimbal_roll_deg=r.roll_deg)
        view = build_view(pose, W, H, spec, DroneGeometryConfig(max_off_nadir_deg=60), origin=(LAT, LON),
                          correction=correction)
        est = view.pixel_to_ground(grid)
        true = ray_hits_plane(cam, t, grid, 0.0)
        out.append(np.hypot(*(est - true).T))
    return np.concatenate(out)


@pytest.mark.parametrize(("pitch", "focal_off"), [(-90.0, 0.1), (-90.0, -0.1), (-55.0, 0.1), (-55.0, -0.1)])
def test_fit_finds_the_true_camera_from_matches_alone(pitch: float, focal_off: float) -> None:
    true_focal = CONFIGURED_FOCAL_PX * (1 + focal_off)
    truth, reported, pairs = survey(pitch, true_focal)
    result = fit_camera(reported, pairs, SelfCalibrationConfig(min_pairs=10), configured_focal_px=CONFIGURED_FOCAL_PX)
    assert result.status == CalibrationStatus.CALIBRATED, result.describe()
    assert result.cross_pairs > 0
    assert result.focal_px == pytest.approx(true_focal, rel=0.003)
    before = ground_errors(truth, reported, None, true_focal)
    after = ground_errors(truth, reported, result.correction, true_focal)
    assert np.nanmax(before) > 5.0  # what the configured camera gets wrong
    assert np.nanmax(after) < 0.3, result.describe()


def test_one_line_fits_the_focal_only_and_is_not_trusted() -> None:
    _, reported, pairs = survey(-90.0, CONFIGURED_FOCAL_PX * 1.1, lines=1)
    cfg = SelfCalibrationConfig(min_pairs=10)
    pending = fit_camera(reported, pairs, cfg, configured_focal_px=CONFIGURED_FOCAL_PX)
    assert pending.status == CalibrationStatus.PENDING and "across survey lines" in pending.reason
    assert pending.focal_px == pytest.approx(CONFIGURED_FOCAL_PX * 1.1, rel=0.01)
    final = fit_camera(reported, pairs, cfg, final=True, configured_focal_px=CONFIGURED_FOCAL_PX)
    assert final.status == CalibrationStatus.CONFIGURED and final.correction is None


def test_too_few_pairs_wait_then_fall_back() -> None:
    _, reported, pairs = survey(-90.0, CONFIGURED_FOCAL_PX)
    cfg = SelfCalibrationConfig(min_pairs=len(pairs) + 1)
    assert fit_camera(reported, pairs, cfg).status == CalibrationStatus.PENDING
    last = fit_camera(reported, pairs, cfg, final=True)
    assert last.status == CalibrationStatus.CONFIGURED and last.estimate is None
    assert "needed" in last.reason and math.isnan(last.focal_sigma_px)


def test_implausible_estimates_are_rejected() -> None:
    _, reported, pairs = survey(-90.0, CONFIGURED_FOCAL_PX * 1.5)
    result = fit_camera(reported, pairs, SelfCalibrationConfig(min_pairs=10), final=True,
                        configured_focal_px=CONFIGURED_FOCAL_PX)
    assert result.status == CalibrationStatus.CONFIGURED and "implausible" in result.reason


def test_calibrate_frames_without_usable_poses_keeps_the_configured_camera() -> None:
    from detectors.geometry.selfcal import calibrate_frames
    from ingest.frame import Frame

    image = np.zeros((H, W, 3), np.uint8)
    frames = [Frame(camera_id="f", seq=i, captured_at=float(i), pts_s=float(i), image=image, pose=None)
              for i in range(3)]
    result = calibrate_frames(frames, DroneCameraSpec(), DroneGeometryConfig())
    assert result.status == CalibrationStatus.CONFIGURED and result.correction is None
    assert result.frames == 0 and "needed" in result.reason
