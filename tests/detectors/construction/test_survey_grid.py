"""The district lattice: square pixels of the stated size, exact maps from a flight's metres, windows."""

from __future__ import annotations

import numpy as np
import pytest

from detectors.construction.survey.grid import Lattice, Window, from_pixels, to_pixels
from detectors.geometry.geodesy import enu_to_wgs84, haversine_m, wgs84_to_enu

LAT, LON = 34.80, 113.29  # Shangjie District, Zhengzhou


def test_pixels_are_square_of_the_stated_size_at_the_reference_latitude() -> None:
    lat = Lattice.for_area(0.25, LAT)
    assert lat.reference_lat_deg == 35.0  # snapped: every flight over the district picks the same lattice
    cr = lat.col_row(np.array([LON]), np.array([35.0]))[0]
    lon, la = lat.lon_lat(np.array([cr, cr + np.array([1.0, 0.0]), cr + np.array([0.0, 1.0])]))
    e, n = wgs84_to_enu(float(la[0]), float(lon[0]), la, lon)  # the ellipsoid's local radii
    assert e[1] == pytest.approx(0.25, rel=1e-6) and n[1] == pytest.approx(0.0, abs=1e-9)
    assert n[2] == pytest.approx(-0.25, rel=1e-6) and e[2] == pytest.approx(0.0, abs=1e-9)
    assert haversine_m(la[0], lon[0], la[1], lon[1]) == pytest.approx(0.25, rel=5e-3)  # a sphere agrees roughly
    assert la[2] < la[0]  # rows run south


def test_flight_metres_map_exactly_onto_the_lattice() -> None:
    lat = Lattice.for_area(0.25, LAT)
    a = lat.enu_to_lattice(LAT, LON)
    e = np.array([0.0, 250.0, -1200.0, 3000.0])
    n = np.array([0.0, -40.0, 800.0, -2500.0])
    la, lo = enu_to_wgs84(LAT, LON, e, n)
    direct = lat.col_row(lo, la)
    affine = np.column_stack([e, n]) @ a[:, :2].T + a[:, 2]
    assert np.abs(direct - affine).max() < 1e-6  # geodesy is lon/lat-linear: the map is exactly affine
    # 4 px per metre east and 4 px per metre south, give or take the latitude's share of a percent.
    assert a[0, 0] == pytest.approx(4.0, rel=5e-3) and a[1, 1] == pytest.approx(-4.0, rel=5e-3)


def test_windows_intersect_and_slice_and_pixels_round_trip() -> None:
    w1, w2 = Window(100, 200, 50, 40), Window(130, 230, 50, 40)
    inter = w1.intersect(w2)
    assert inter == Window(130, 230, 20, 10)
    rows, cols = w1.slices(inter)
    assert (rows.start, rows.stop, cols.start, cols.stop) == (30, 40, 30, 50)
    assert w1.intersect(Window(0, 0, 10, 10)) is None
    cr = np.array([[130.5, 230.5], [100.0, 200.0]])
    assert np.allclose(to_pixels(w2, cr)[0], [0.0, 0.0])  # the centre of the window's first pixel
    assert np.allclose(from_pixels(w1, to_pixels(w1, cr)), cr)
    assert Window.around(np.array([[10.2, 5.7], [20.9, 9.1]]), 2) == Window(8, 3, 15, 9)
