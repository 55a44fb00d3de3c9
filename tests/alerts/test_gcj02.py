"""WGS-84 -> GCJ-02 against reference pairs published by independent implementations, and the inverse."""

import numpy as np
import pytest

from alerts.gcj02 import gcj02_to_wgs84, gcj02_to_wgs84_array, wgs84_to_gcj02, wgs84_to_gcj02_array
from detectors.geometry.geodesy import haversine_m

# (wgs_lat, wgs_lon, gcj_lat, gcj_lon, tolerance_deg, where published)
REFERENCE = [
    # wandergis/coordtransform README and test/app.js; hutool CoordinateUtilTest; coordtransform_rs tests
    (39.915, 116.404, 39.91640428150164, 116.41024449916938, 1e-9, "wandergis/coordtransform"),
    # cuihw/collection PositionUtilTest (comment with the computed values)
    (34.829793, 113.647881, 34.8287280094783, 113.65396374215176, 1e-9, "PositionUtilTest"),
    # geoToolbox pytest (40, 116); their constants differ in the 8th decimal, hence the looser tolerance
    (40.0, 116.0, 40.001213650174, 116.006141221789, 2e-7, "geoToolbox"),
    # geotool CLI test (Rust)
    (30.6107779, 121.0917077, 30.608604331756705, 121.09626935575027, 2e-7, "geotool"),
]


@pytest.mark.parametrize("case", REFERENCE, ids=[c[-1] for c in REFERENCE])
def test_forward_matches_published_pairs(case: tuple[float, float, float, float, float, str]) -> None:
    wlat, wlon, glat, glon, tol, where = case
    lat, lon = wgs84_to_gcj02(wlat, wlon)
    assert lat == pytest.approx(glat, abs=tol), where
    assert lon == pytest.approx(glon, abs=tol), where


def test_inverse_matches_gcoord_reference() -> None:
    # hujiulong/gcoord test/unit/crs/GCJ02.spec.js: GCJ02 -> WGS84 of [123, 45] to 5 decimals
    lat, lon = gcj02_to_wgs84(45.0, 123.0)
    assert lon == pytest.approx(122.99395597, abs=5e-6)
    assert lat == pytest.approx(44.99804071, abs=5e-6)


def test_offset_is_hundreds_of_metres_in_hangzhou() -> None:
    lat, lon = wgs84_to_gcj02(30.25, 120.2)
    shift = haversine_m(30.25, 120.2, lat, lon)
    assert 300.0 < shift < 700.0  # the GCJ-02 shift in eastern China is roughly 500 m


def test_round_trip_error_is_below_a_millimetre_over_china() -> None:
    rng = np.random.default_rng(5)
    lat = rng.uniform(18.0, 53.0, 2000)
    lon = rng.uniform(74.0, 134.0, 2000)
    glat, glon = wgs84_to_gcj02_array(lat, lon)
    back_lat, back_lon = gcj02_to_wgs84_array(glat, glon)
    err_m = np.hypot((back_lat - lat) * 111_320.0, (back_lon - lon) * 111_320.0 * np.cos(np.radians(lat)))
    assert float(err_m.max()) < 1e-3


def test_outside_china_is_unchanged() -> None:
    assert wgs84_to_gcj02(48.8566, 2.3522) == (48.8566, 2.3522)  # Paris
    assert gcj02_to_wgs84(-33.86, 151.21) == (-33.86, 151.21)  # Sydney
