"""Ground calibration of a fixed camera: validation, pixel -> WGS-84, horizon and accuracy."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from pydantic import ValidationError

from detectors.event import GeoMethod
from detectors.geometry.geodesy import enu_to_wgs84, haversine_m
from detectors.geometry.ground import GroundCalibration, GroundMapper
from detectors.geometry.homography import apply_homography

ORIGIN = (31.2304, 121.4737)  # lat, lon

# A camera 10 m up looking north-east over flat ground: metres (east, north) -> pixels of a 1280x720 frame.
TRUE_GROUND_TO_IMAGE = np.array([[40.0, -30.0, 640.0], [-8.0, -6.0, 900.0], [0.02, 0.03, 1.0]])


def _pixel(east: float, north: float) -> tuple[float, float]:
    px = apply_homography(TRUE_GROUND_TO_IMAGE, np.array([[east, north]]))[0]
    return float(px[0]), float(px[1])


def _points(geo: bool, extra: int = 2) -> list[dict[str, Any]]:
    ground = [(0.0, 5.0), (10.0, 5.0), (0.0, 25.0), (12.0, 30.0), (5.0, 12.0), (-4.0, 18.0)][: 4 + extra]
    out = []
    for east, north in ground:
        item: dict[str, Any] = {"image_xy_px": _pixel(east, north)}
        if geo:
            lat, lon = enu_to_wgs84(ORIGIN[0], ORIGIN[1], east, north)
            item.update(lat_deg=float(lat), lon_deg=float(lon))
        else:
            item.update(east_m=east, north_m=north)
        out.append(item)
    return out


def test_lonlat_calibration_maps_pixels_to_the_right_place() -> None:
    cal = GroundCalibration.model_validate({"points": _points(geo=True), "image_size_px": (1280, 720)})
    mapper = GroundMapper(cal)
    assert mapper.homography.rms_error_m < 1e-3
    for east, north in [(3.0, 8.0), (8.0, 20.0), (-2.0, 27.0)]:
        x, y = _pixel(east, north)
        geo = mapper.locate(x, y, (1280, 720))
        assert geo is not None and geo.method is GeoMethod.GROUND_HOMOGRAPHY
        lat, lon = enu_to_wgs84(ORIGIN[0], ORIGIN[1], east, north)
        assert haversine_m(geo.lat_deg, geo.lon_deg, float(lat), float(lon)) < 0.05


def test_metre_calibration_needs_an_origin_and_then_agrees_with_lonlat() -> None:
    with pytest.raises(ValidationError, match="origin"):
        GroundCalibration.model_validate({"points": _points(geo=False)})
    metric = GroundMapper(
        GroundCalibration.model_validate(
            {"points": _points(geo=False), "origin_lat_deg": ORIGIN[0], "origin_lon_deg": ORIGIN[1]}
        )
    )
    geographic = GroundMapper(GroundCalibration.model_validate({"points": _points(geo=True)}))
    x, y = _pixel(6.0, 15.0)
    a, b = metric.locate(x, y), geographic.locate(x, y)
    assert a is not None and b is not None
    assert haversine_m(a.lat_deg, a.lon_deg, b.lat_deg, b.lon_deg) < 0.05


def test_sub_stream_pixels_are_scaled_to_the_calibration_image() -> None:
    mapper = GroundMapper(GroundCalibration.model_validate({"points": _points(geo=True), "image_size_px": (1280, 720)}))
    x, y = _pixel(4.0, 10.0)
    full = mapper.locate(x, y, (1280, 720))
    half = mapper.locate(x / 2, y / 2, (640, 360))
    assert full is not None and half is not None
    assert haversine_m(full.lat_deg, full.lon_deg, half.lat_deg, half.lon_deg) < 0.05
    assert half.accuracy_m > full.accuracy_m  # a sub-stream pixel spans twice the ground


def test_accuracy_grows_with_distance_and_the_sky_has_no_ground_point() -> None:
    mapper = GroundMapper(GroundCalibration.model_validate({"points": _points(geo=True)}))
    near = mapper.locate(*_pixel(2.0, 6.0))
    far = mapper.locate(*_pixel(2.0, 40.0))
    assert near is not None and far is not None
    assert far.accuracy_m > near.accuracy_m >= GroundCalibration.model_fields["point_sigma_m"].default
    # the horizon: where the true homography's scale term vanishes; beyond it lies sky
    h_inv = np.linalg.inv(TRUE_GROUND_TO_IMAGE)
    horizon_y = [
        y
        for y in np.linspace(-2000, 900, 5000)
        if (h_inv[2] @ np.array([640.0, y, 1.0])) * (h_inv[2] @ np.array([*_pixel(0, 5), 1.0])) < 0
    ]
    assert horizon_y, "test set-up: expected a horizon above the image"
    assert mapper.locate(640.0, float(min(horizon_y))) is None
    assert mapper.metres_per_px(640.0, float(min(horizon_y))) == float("inf")


@pytest.mark.parametrize(
    ("points", "fragment"),
    [
        (_points(geo=True)[:3], "at least 4"),
        ([{"image_xy_px": (0, 0), "lat_deg": 31.0}] * 4, "either lon_deg"),
        (
            [{"image_xy_px": (0, 0), "lat_deg": 31.0, "lon_deg": 121.0, "east_m": 1.0, "north_m": 2.0}] * 4,
            "either",
        ),
        (_points(geo=True)[:2] + _points(geo=False)[2:], "mixes"),
        (
            [{"image_xy_px": (i, i), "lat_deg": 31.0 + i * 1e-5, "lon_deg": 121.0 + i * 1e-5} for i in range(4)],
            "degenerate",
        ),
    ],
)
def test_bad_calibrations_are_rejected(points: list[dict[str, Any]], fragment: str) -> None:
    with pytest.raises(ValidationError, match=fragment):
        GroundCalibration.model_validate({"points": points, "origin_lat_deg": ORIGIN[0], "origin_lon_deg": ORIGIN[1]})


def test_a_mistyped_point_exceeds_the_fit_error_limit() -> None:
    pts = _points(geo=False)
    pts[4]["east_m"] += 40.0  # one tape reading off by 40 m
    with pytest.raises(ValidationError, match="fits badly"):
        GroundCalibration.model_validate({"points": pts, "origin_lat_deg": ORIGIN[0], "origin_lon_deg": ORIGIN[1]})
