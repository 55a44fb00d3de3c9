"""Ground polygon arithmetic against hand-computed areas and overlaps."""

from __future__ import annotations

import numpy as np
import pytest

from detectors.construction.polygons import (
    convex_overlap_m2,
    coverage_by,
    mask_outlines,
    overlap_ratio,
    rasterise_union,
    ring_area_m2,
    ring_areas_m2,
    ring_centroid,
)


def square(x0: float, y0: float, side: float) -> np.ndarray:
    return np.array([[x0, y0], [x0 + side, y0], [x0 + side, y0 + side], [x0, y0 + side]], float)


def test_areas_and_centroid() -> None:
    assert ring_area_m2(square(0, 0, 10)) == pytest.approx(100.0)
    assert ring_area_m2(square(0, 0, 10)[::-1]) == pytest.approx(100.0)  # orientation does not matter
    tri = np.array([[0, 0], [6, 0], [0, 3]], float)
    assert ring_area_m2(tri) == pytest.approx(9.0)
    assert ring_centroid(tri) == pytest.approx([2.0, 1.0])
    # An L shape: 3x1 + 1x2 -> centroid by hand: (1.5*3 + 0.5*2) / 5, (0.5*3 + 2*2) / 5
    ell = np.array([[0, 0], [3, 0], [3, 1], [1, 1], [1, 3], [0, 3]], float)
    assert ring_area_m2(ell) == pytest.approx(5.0)
    assert ring_centroid(ell) == pytest.approx([1.1, 1.1])
    assert ring_areas_m2(np.stack([square(0, 0, 2), square(5, 5, 3)])) == pytest.approx([4.0, 9.0])


def test_convex_overlap_and_ratio() -> None:
    a, b = square(0, 0, 10), square(5, 5, 10)
    assert convex_overlap_m2(a, b) == pytest.approx(25.0)
    assert overlap_ratio(a, b) == pytest.approx(0.25)
    assert overlap_ratio(square(2, 2, 3), a) == pytest.approx(1.0)  # inside: ratio over the smaller one
    assert convex_overlap_m2(a, square(20, 20, 5)) == 0.0


def test_coverage_by_non_convex_and_tolerance() -> None:
    site = square(0, 0, 4)
    ell = np.array([[-1, -1], [2, -1], [2, 2], [5, 2], [5, 5], [-1, 5]], float)  # covers 3/4 of the site
    cov = coverage_by(site, [ell, square(100, 100, 1)], tolerance_m=0.0, cell_m=0.05)
    assert cov[0] == pytest.approx(0.75, abs=0.02)
    assert cov[1] == 0.0
    # A registered outline 1 m short of the site covers it once grown by 1 m.
    near = square(0, 0, 3)
    assert coverage_by(site, [near], 0.0, 0.05)[0] == pytest.approx(9 / 16, abs=0.02)
    assert coverage_by(site, [near], 1.0, 0.05)[0] > 0.97


def test_union_raster_outline() -> None:
    mask, origin, cell = rasterise_union([square(0, 0, 10), square(5, 0, 10)], cell_m=0.5)
    assert float(mask.sum()) * cell * cell == pytest.approx(150.0, rel=0.1)
    outlines = mask_outlines(mask, origin, cell, simplify_m=0.5)
    assert len(outlines) == 1
    assert ring_area_m2(outlines[0]) == pytest.approx(150.0, rel=0.1)
    x0, y0 = outlines[0].min(axis=0)
    x1, y1 = outlines[0].max(axis=0)
    assert (x0, y0, x1, y1) == pytest.approx((0, 0, 15, 10), abs=1.0)


def test_quad_widths_are_the_shorter_mean_side() -> None:
    from detectors.construction.polygons import quad_widths_m

    strip = np.array([[[0.0, 0.0], [12.0, 0.0], [12.0, 1.7], [0.0, 1.7]]])
    skew = np.array([[[0.0, 0.0], [6.0, 0.0], [7.0, 4.0], [1.0, 4.0]]])
    assert quad_widths_m(np.concatenate([strip, skew])) == pytest.approx([1.7, 17**0.5])
