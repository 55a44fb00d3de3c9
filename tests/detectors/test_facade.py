"""Facade calibration: validation with useful messages, pixel <-> facade metres, floors, columns, WGS-84."""

from __future__ import annotations

import math

import numpy as np
import pytest
from pydantic import ValidationError

from detectors.event import GeoMethod
from detectors.geometry.facade import FacadeCalibration, FacadeMapper
from detectors.geometry.geodesy import wgs84_to_enu
from foundation.yamlsafe import load_yaml

# A facade seen in perspective: facade (along, height) metres -> image pixels of a 1920x1080 frame.
TRUE_H = np.array([[20.0, 1.5, 400.0], [0.4, -18.0, 1050.0], [0.0, 0.004, 1.0]])
FACADE_PTS = [(0.0, 0.0), (60.0, 0.0), (60.0, 54.0), (0.0, 54.0), (14.0, 18.0), (46.0, 36.0)]


def project(facade_m: np.ndarray) -> np.ndarray:
    p = np.hstack([facade_m, np.ones((len(facade_m), 1))]) @ TRUE_H.T
    return p[:, :2] / p[:, 2:3]


def calibration(**extra: object) -> FacadeCalibration:
    img = project(np.array(FACADE_PTS))
    return FacadeCalibration.model_validate(
        {"image_points_px": img.tolist(), "facade_points_m": FACADE_PTS, **extra}
    )


def test_maps_pixels_to_facade_and_back() -> None:
    m = FacadeMapper(calibration())
    facade = np.array([[7.5, 3.2], [33.0, 41.0], [59.0, 0.5]])
    px = project(facade)
    np.testing.assert_allclose(m.to_facade(px), facade, atol=1e-6)
    np.testing.assert_allclose(m.to_image(facade), px, atol=1e-6)
    assert m.rms_error_m < 1e-4


def test_vertical_scale_follows_perspective() -> None:
    m = FacadeMapper(calibration())
    low, high = project(np.array([[30.0, 2.0]])), project(np.array([[30.0, 50.0]]))
    scale = m.px_per_m_vertical(np.vstack([low, high]))
    # numeric check: pixels between heights h-0.5 and h+0.5
    for h, s in zip((2.0, 50.0), scale, strict=True):
        a, b = project(np.array([[30.0, h - 0.5], [30.0, h + 0.5]]))
        assert s == pytest.approx(float(np.linalg.norm(a - b)), rel=1e-6)
    assert scale[1] < scale[0]  # the top of the facade is further away


def test_points_given_for_another_image_size_are_scaled() -> None:
    cal = calibration(image_size_px=(1920, 1080))
    half = FacadeMapper(cal, (960, 540))
    full = FacadeMapper(cal, (1920, 1080))
    px = project(np.array([[20.0, 30.0]]))
    np.testing.assert_allclose(half.to_facade(px / 2), full.to_facade(px), atol=1e-6)


@pytest.mark.parametrize(
    ("level", "ground_h", "height", "floor"),
    [
        (1, None, 0.5, 1),
        (1, None, 3.1, 2),
        (1, None, 29.9, 10),
        (0, None, 3.1, 1),
        (1, 4.5, 4.4, 1),
        (1, 4.5, 4.6, 2),
        (1, 4.5, 7.6, 3),
        (1, None, -2.0, 1),
    ],
)
def test_floor_numbering(level: int, ground_h: float | None, height: float, floor: int) -> None:
    m = FacadeMapper(calibration(ground_floor_level=level, ground_floor_height_m=ground_h))
    assert m.floor_of(height) == floor


def test_top_floor_clamps_roof_heights() -> None:
    m = FacadeMapper(calibration(top_floor=18))
    assert m.floor_of(56.0) == 18


def test_floor_uncertainty_follows_height_sigma() -> None:
    m = FacadeMapper(calibration())
    centre = m.hit_at(10.0, 16.5, height_sigma_m=0.2)  # middle of floor 6 (15-18 m)
    assert (centre.floor, centre.floor_uncertainty) == (6, 0)
    edge = m.hit_at(10.0, 17.8, height_sigma_m=0.3)
    assert (edge.floor, edge.floor_uncertainty) == (6, 1)
    wide = m.hit_at(10.0, 16.5, height_sigma_m=2.5)
    assert wide.floor_uncertainty == 2


def test_columns_inside_near_and_far() -> None:
    m = FacadeMapper(
        calibration(columns=[{"name": "A", "from_m": 0, "to_m": 7}, {"name": "B", "from_m": 10, "to_m": 17}])
    )
    assert m.column_of(3.0) == "A"
    assert m.column_of(8.0) == "A"  # in the gap, nearer A and within half its width
    assert m.column_of(9.5) == "B"
    assert m.column_of(40.0) is None
    assert (
        m.hit(
            (float(project(np.array([[12.0, 5.0]]))[0, 0]), float(project(np.array([[12.0, 5.0]]))[0, 1]))
        ).column
        == "B"
    )


def test_geolocated_facade_gives_wgs84_point_along_its_bearing() -> None:
    geo = {"origin_lat_deg": 31.23, "origin_lon_deg": 121.47, "azimuth_deg": 90.0, "accuracy_m": 2.0}
    m = FacadeMapper(calibration(geo=geo))
    p = m.geo_point(100.0, along_sigma_m=1.0)
    assert p is not None
    assert p.method is GeoMethod.FACADE_HOMOGRAPHY
    east, north = wgs84_to_enu(31.23, 121.47, p.lat_deg, p.lon_deg)
    assert float(east) == pytest.approx(100.0, abs=0.01)
    assert float(north) == pytest.approx(0.0, abs=0.01)
    assert p.accuracy_m == pytest.approx(2.0 + math.hypot(m.rms_error_m, 1.0))
    assert FacadeMapper(calibration()).geo_point(10.0) is None


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (
            {"image_points_px": [[0, 0], [1, 0], [1, 1]], "facade_points_m": [[0, 0], [1, 0], [1, 1]]},
            "at least 4",
        ),
        ({"facade_points_m": FACADE_PTS[:5]}, "pair up"),
        (
            {"image_points_px": [[0, 0], [1, 1], [2, 2], [3, 3]], "facade_points_m": FACADE_PTS[:4]},
            "degenerate",
        ),
        ({"columns": [{"name": "A", "from_m": 5, "to_m": 2}]}, "greater than from_m"),
        ({"top_floor": 0, "ground_floor_level": 1}, "below ground_floor_level"),
        ({"floor_height_m": 0.5}, "floor_height_m"),
        ({"floors": 18}, "Extra inputs are not permitted"),
    ],
)
def test_invalid_calibrations_say_what_is_wrong(change: dict[str, object], message: str) -> None:
    base = {"image_points_px": project(np.array(FACADE_PTS)).tolist(), "facade_points_m": FACADE_PTS}
    with pytest.raises(ValidationError, match=message):
        FacadeCalibration.model_validate({**base, **change})


def test_a_mistyped_point_is_caught_by_the_fit_error() -> None:
    img = project(np.array(FACADE_PTS))
    img[4] += (0.0, 40.0)  # one point clicked two floors off
    with pytest.raises(ValidationError, match="RMS fit error"):
        FacadeCalibration.model_validate({"image_points_px": img.tolist(), "facade_points_m": FACADE_PTS})


def test_loads_from_operator_yaml() -> None:
    img = project(np.array(FACADE_PTS[:4]))
    rows = "\n".join(f"    - [{x:.2f}, {y:.2f}]" for x, y in img)
    text = (
        "facade:\n  image_points_px:\n" + rows + "\n  facade_points_m: [[0, 0], [60, 0], [60, 54], [0, 54]]\n"
        "  floor_height_m: 3.0\n  ground_floor_level: 1\n"
        "  columns:\n    - {name: '1单元', from_m: 0, to_m: 30}\n"
    )
    cal = FacadeCalibration.model_validate(load_yaml(text, "cam.yaml").data["facade"])
    hit = FacadeMapper(cal).hit((float(img[0, 0] + 0), float(img[0, 1] - 60)))
    assert hit.column == "1单元"
    assert hit.floor >= 1
