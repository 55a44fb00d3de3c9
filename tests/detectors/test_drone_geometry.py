"""Drone camera model against hand-computed cases (nadir, yaw, oblique, roll) and round trips."""

from __future__ import annotations

import math

import numpy as np
import pytest

from detectors.geometry.drone import build_view, confidence_factor, unusable_reason
from detectors.geometry.drone_camera import CameraCorrection, Intrinsics, heading_turn, rotation_world_from_camera
from detectors.geometry.drone_config import DroneCameraSpec, DroneGeometryConfig, PoseUncertaintyConfig
from detectors.geometry.geodesy import haversine_m, wgs84_to_enu
from ingest.frame import Pose

LAT, LON = 31.2304, 121.4737
W, H = 1000, 800
F_PX = 1000.0
# A physical focal/sensor pair that gives exactly 1000 px focal on a 1000 px wide frame.
SPEC = DroneCameraSpec(focal_length_mm=10.0, sensor_width_mm=10.0, prefer_telemetry_focal=False)
GEO = DroneGeometryConfig(max_off_nadir_deg=60.0)


def view(yaw: float = 0.0, pitch: float = -90.0, roll: float = 0.0, alt: float = 100.0, **kw: object):
    pose = Pose(
        lat_deg=LAT,
        lon_deg=LON,
        rel_alt_m=alt,
        gimbal_yaw_deg=yaw,
        gimbal_pitch_deg=pitch,
        gimbal_roll_deg=roll,
        **kw,
    )  # type: ignore[arg-type]
    return build_view(pose, W, H, SPEC, GEO)


def ground(v, x: float, y: float) -> tuple[float, float]:
    e, n = v.pixel_to_ground(np.array([[x, y]]))[0]
    return float(e), float(n)


def test_intrinsics_from_sensor_and_35mm() -> None:
    k = Intrinsics.from_sensor(1000, 800, 10.0, 10.0)
    assert (k.fx_px, k.cx_px, k.cy_px) == (1000.0, 500.0, 400.0)
    # 24 mm equivalent on a 4:3 frame 4000 px wide: diagonal 5000 px -> 24/43.2666*5000 = 2773.5 px.
    k35 = Intrinsics.from_35mm(4000, 3000, 24.0)
    assert k35.fx_px == pytest.approx(24.0 / math.hypot(36, 24) * 5000.0, rel=1e-9)
    # A 16:9 crop of the same 4:3 sensor keeps the focal in pixels of the same width.
    assert Intrinsics.from_35mm(4000, 2250, 24.0).fx_px == pytest.approx(k35.fx_px)
    # Telemetry focal (zoom) wins when preferred; the physical pair otherwise.
    spec = DroneCameraSpec(focal_length_mm=8.8, sensor_width_mm=13.2)
    assert Intrinsics.from_spec(spec, 4000, 3000, 48.0).fx_px == pytest.approx(2 * k35.fx_px)
    assert Intrinsics.from_spec(spec, 4000, 3000, None).fx_px == pytest.approx(8.8 / 13.2 * 4000)


def test_rotation_is_orthonormal_right_handed() -> None:
    for angles in [(0, -90, 0), (37, -60, 5), (-170, -20, -12)]:
        r = rotation_world_from_camera(*angles)
        assert np.allclose(r.T @ r, np.eye(3), atol=1e-12)
        assert np.linalg.det(r) == pytest.approx(1.0)


def test_nadir_yaw0_image_top_is_north_right_is_east() -> None:
    v = view()
    assert ground(v, 500, 400) == pytest.approx((0.0, 0.0), abs=1e-9)
    # 100 px right of centre at f=1000 px, 100 m up: 10 m east.
    assert ground(v, 600, 400) == pytest.approx((10.0, 0.0), abs=1e-9)
    # 100 px up: 10 m north.
    assert ground(v, 500, 300) == pytest.approx((0.0, 10.0), abs=1e-9)
    assert v.off_nadir_deg == pytest.approx(0.0, abs=1e-9)


def test_nadir_yaw90_image_top_is_east() -> None:
    v = view(yaw=90.0)
    assert ground(v, 500, 300) == pytest.approx((10.0, 0.0), abs=1e-9)
    assert ground(v, 600, 400) == pytest.approx((0.0, -10.0), abs=1e-9)


def test_oblique_pitch_minus45() -> None:
    v = view(pitch=-45.0)
    assert v.off_nadir_deg == pytest.approx(45.0)
    # The optical axis hits the ground 100 m north (45 degrees down from 100 m).
    assert ground(v, 500, 400) == pytest.approx((0.0, 100.0), abs=1e-9)
    # A pixel 15 degrees above the centre: 30 degrees below the horizon -> 100 / tan 30 = 173.2 m north.
    y = 400 - F_PX * math.tan(math.radians(15))
    assert ground(v, 500, y) == pytest.approx((0.0, 100 / math.tan(math.radians(30))), abs=1e-6)


def test_oblique_with_yaw_and_roll() -> None:
    # Facing east at 45 degrees down: the centre lands 100 m east.
    assert ground(view(yaw=90.0, pitch=-45.0), 500, 400) == pytest.approx((100.0, 0.0), abs=1e-9)
    # Roll 90 right-side-down at pitch -45: the image's right now points down-back, so a pixel
    # 100 px right is 5.71 degrees steeper than the axis: 100 / tan(50.71 deg) = 81.8 m north.
    v = view(pitch=-45.0, roll=90.0)
    steeper = 45.0 + math.degrees(math.atan(0.1))
    assert ground(v, 600, 400) == pytest.approx((0.0, 100 / math.tan(math.radians(steeper))), abs=1e-6)


def test_round_trip_ground_pixel_ground_within_10cm() -> None:
    rng = np.random.default_rng(3)
    for yaw, pitch, roll in [(0, -90, 0), (33.3, -70, 2.0), (-120, -55, -3.0), (179, -85, 0.5)]:
        v = view(yaw=yaw, pitch=pitch, roll=roll, alt=120.0)
        pts = np.column_stack([rng.uniform(50, W - 50, 200), rng.uniform(50, H - 50, 200)])
        g = v.pixel_to_ground(pts)
        ok = np.isfinite(g).all(axis=1)
        back = v.ground_to_pixel(g[ok])
        again = v.pixel_to_ground(back)
        assert np.abs(back - pts[ok]).max() < 1e-6
        assert np.hypot(*(again - g[ok]).T).max() < 0.1
        # WGS-84 round trip: the ground point in lat/lon back to ENU.
        lat, lon = v.to_wgs84(g[ok])
        e, n = wgs84_to_enu(v.origin_lat_deg, v.origin_lon_deg, lat, lon)
        assert np.hypot(e - g[ok, 0], n - g[ok, 1]).max() < 0.1


def test_roof_plane_and_ground_offset() -> None:
    v = view(pitch=-45.0)
    # A roof 20 m up is 80 m below the camera: the axis hits it 80 m north.
    assert v.pixel_to_ground(np.array([[500.0, 400.0]]), plane_up_m=20.0)[0] == pytest.approx([0, 80])
    # Ground 10 m above take-off: same as a 90 m flight.
    geo = DroneGeometryConfig(ground_offset_m=10.0)
    pose = Pose(lat_deg=LAT, lon_deg=LON, rel_alt_m=100.0)
    v2 = build_view(pose, W, H, SPEC, geo)
    assert v2.height_m == pytest.approx(90.0)
    assert v2.pixel_to_ground(np.array([[600.0, 400.0]]))[0] == pytest.approx([9.0, 0.0])


def test_wgs84_output_and_origin() -> None:
    pose = Pose(lat_deg=LAT, lon_deg=LON, rel_alt_m=100.0)
    origin = (LAT - 0.001, LON - 0.001)
    v = build_view(pose, W, H, SPEC, GEO, origin=origin)
    lat, lon, acc = v.pixel_to_wgs84(np.array([[500.0, 300.0]]))
    # 10 m north of the camera (haversine's spherical Earth is 0.3 % off the local radius here).
    assert haversine_m(LAT, LON, float(lat[0]), float(lon[0])) == pytest.approx(10.0, abs=0.05)
    e, n = wgs84_to_enu(LAT, LON, lat, lon)
    assert (float(e[0]), float(n[0])) == pytest.approx((0.0, 10.0), abs=1e-3)
    assert float(lat[0]) > LAT
    assert acc[0] > 0


def test_rays_beyond_limit_and_above_horizon_are_nan() -> None:
    pose = Pose(lat_deg=LAT, lon_deg=LON, rel_alt_m=100.0, gimbal_pitch_deg=-20.0)
    v = build_view(pose, W, H, SPEC, DroneGeometryConfig(max_off_nadir_deg=80.0))  # top rows see the sky
    g = v.pixel_to_ground(np.array([[500.0, 0.0], [500.0, 799.0]]))
    assert np.isnan(g[0]).all()
    assert np.isfinite(g[1]).all()
    assert np.isnan(v.ground_to_pixel(np.array([[0.0, -50.0]]))).all()  # behind the camera


def test_accuracy_grows_with_altitude_obliquity_and_defaults() -> None:
    centre = np.array([[500.0, 400.0]])
    corner = np.array([[0.0, 0.0]])
    low, high = view(alt=50.0), view(alt=150.0)
    assert high.accuracy_m(centre)[0] > low.accuracy_m(centre)[0]
    assert view().accuracy_m(corner)[0] > view().accuracy_m(centre)[0]
    assert view(pitch=-50.0).accuracy_m(centre)[0] > view().accuracy_m(centre)[0]
    # At nadir, 100 m, the principal point: GNSS on two axes and the tilt (jitter and the constant offset of
    # an uncalibrated flight) along and across; the focal and yaw do not move it. Scaled to 90 % odds.
    unc = PoseUncertaintyConfig()
    tilt = math.radians(math.hypot(unc.tilt_sigma_deg, unc.tilt_offset_sigma_deg)) * 100.0
    rms = math.sqrt(2 * unc.position_sigma_m**2 + 2 * tilt**2)
    assert view().accuracy_m(centre)[0] == pytest.approx(confidence_factor(0.9) * rms, rel=1e-6)
    defaulted = view(defaulted=("gimbal_pitch_deg", "gimbal_roll_deg", "gimbal_yaw_deg"))
    assert defaulted.accuracy_m(centre)[0] > 5 * view().accuracy_m(centre)[0]
    assert defaulted.yaw_source == "default"


def test_confidence_factor_holds_for_round_and_one_sided_errors() -> None:
    assert confidence_factor(0.9) == pytest.approx(1.6449, abs=1e-4)
    rng = np.random.default_rng(0)
    for sx, sy in [(1.0, 1.0), (1.0, 0.0), (1.0, 0.4)]:
        e = rng.normal(0, 1, (200_000, 2)) * (sx, sy)
        rms = math.sqrt(sx**2 + sy**2)
        inside = float(np.mean(np.hypot(e[:, 0], e[:, 1]) <= confidence_factor(0.9) * rms))
        assert 0.9 <= inside < 0.96, (sx, sy, inside)


def corrected(correction: CameraCorrection, **kw: object):
    pose = Pose(lat_deg=LAT, lon_deg=LON, rel_alt_m=100.0, **kw)  # type: ignore[arg-type]
    return build_view(pose, W, H, SPEC, GEO, correction=correction)


def test_correction_scales_the_focal_and_turns_the_camera() -> None:
    # A focal 10 % longer than configured: 100 px right of centre is 10 / 1.1 m east.
    assert ground(corrected(CameraCorrection(focal_scale=1.1)), 600, 400) == pytest.approx((10 / 1.1, 0.0))
    # Pitch turns the view towards the image top (north at nadir, yaw 0), roll towards its right (east).
    one = 100 * math.tan(math.radians(1.0))
    assert ground(corrected(CameraCorrection(pitch_deg=1.0)), 500, 400) == pytest.approx((0.0, one), abs=1e-9)
    assert ground(corrected(CameraCorrection(roll_deg=1.0)), 500, 400) == pytest.approx((one, 0.0), abs=1e-9)
    # The same mounting error follows the camera round: flying east, the view turns east.
    assert ground(corrected(CameraCorrection(pitch_deg=1.0), gimbal_yaw_deg=90.0), 500, 400) == pytest.approx(
        (one, 0.0), abs=1e-9
    )
    # Yaw is a heading error: clockwise seen from above, so the image top (north) moves towards east.
    assert ground(corrected(CameraCorrection(yaw_deg=90.0)), 500, 300) == pytest.approx((10.0, 0.0), abs=1e-9)
    assert heading_turn(90.0) @ np.array([0.0, 1.0, 0.0]) == pytest.approx([1.0, 0.0, 0.0])


def test_a_calibrated_view_states_its_own_uncertainty() -> None:
    edge = np.array([[950.0, 750.0]])
    sure = CameraCorrection(focal_scale=1.0, focal_scale_sigma=0.005, tilt_sigma_deg=0.2, yaw_sigma_deg=0.3)
    assert corrected(sure).accuracy_m(edge)[0] < 0.6 * view().accuracy_m(edge)[0]
    # The focal term: at the frame's corner a 10 % focal error is 10 % of the distance from the nadir point.
    pose = Pose(lat_deg=LAT, lon_deg=LON, rel_alt_m=100.0)
    flat = DroneGeometryConfig(uncertainty=PoseUncertaintyConfig(
        position_sigma_m=0, altitude_sigma_m=0, tilt_sigma_deg=0, yaw_sigma_deg=0, tilt_offset_sigma_deg=0,
        yaw_offset_sigma_deg=0, target_height_sigma_m=0, focal_sigma_pct=10.0), accuracy_confidence=0.6827)
    v = build_view(pose, W, H, SPEC, flat)
    dist = math.hypot(*ground(v, 950.0, 750.0))
    expected = dist - dist / 1.1
    assert v.accuracy_m(edge)[0] == pytest.approx(confidence_factor(0.6827) * expected, rel=1e-6)


def test_yaw_falls_back_to_aircraft_heading() -> None:
    v = view(yaw=0.0, aircraft_yaw_deg=90.0, defaulted=("gimbal_yaw_deg",))
    assert v.yaw_source == "aircraft"
    assert ground(v, 500, 300) == pytest.approx((10.0, 0.0), abs=1e-9)


@pytest.mark.parametrize(
    ("pose", "reason"),
    [
        (None, "no_pose"),
        (Pose(lat_deg=0.0, lon_deg=0.0, rel_alt_m=100.0), "no_gps"),
        (Pose(lat_deg=LAT, lon_deg=LON), "no_altitude"),
        (Pose(lat_deg=LAT, lon_deg=LON, rel_alt_m=5.0), "low_altitude"),
        (Pose(lat_deg=LAT, lon_deg=LON, rel_alt_m=100.0, gimbal_pitch_deg=-20.0), "off_nadir"),
        (Pose(lat_deg=LAT, lon_deg=LON, rel_alt_m=100.0, gimbal_pitch_deg=-60.0), None),
    ],
)
def test_unusable_reasons(pose: Pose | None, reason: str | None) -> None:
    assert unusable_reason(pose, DroneGeometryConfig()) == reason


def test_abs_alt_needs_ground_elevation_and_required_pitch() -> None:
    pose = Pose(lat_deg=LAT, lon_deg=LON, abs_alt_m=150.0)
    assert unusable_reason(pose, DroneGeometryConfig()) == "no_altitude"
    geo = DroneGeometryConfig(ground_abs_alt_m=50.0)
    assert build_view(pose, W, H, SPEC, geo).height_m == pytest.approx(100.0)
    nadir_assumed = Pose(lat_deg=LAT, lon_deg=LON, rel_alt_m=100.0, defaulted=("gimbal_pitch_deg",))
    assert unusable_reason(nadir_assumed, DroneGeometryConfig(require_gimbal_pitch=True)) == "no_gimbal_pitch"
