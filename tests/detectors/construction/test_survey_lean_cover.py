"""Where a tall building can stand in a mosaic (`registered_relief.lean_cover`): away from the nadir of the
keyframe each pixel came from, as far as its height leans there, and nowhere else; and where only one of two
mosaics shows it (`registered_relief.hidden_before`). Hand-drawn canvases at 0.25 m, 200 m x 100 m, a 20 m high
building 20 m square in the middle, keyframes taken from 100 m."""

from __future__ import annotations

import cv2
import numpy as np
from numpy.typing import NDArray

from detectors.construction.registry import Registry
from detectors.construction.survey.grid import Lattice, Window, to_pixels
from detectors.construction.survey.mosaic import Canvas
from detectors.construction.survey.registered_relief import (
    CUT_REACH_M,
    RELIEF_MARGIN_M,
    cut_buildings,
    hidden_before,
    lean_cover,
)
from detectors.geometry.geodesy import enu_to_wgs84

RES_M = 0.25
W_PX, H_PX = 800, 400
FOOT = (360, 160, 440, 240)
"""(x0, y0, x1, y1) px of the building's footprint."""
HEIGHT_M = 20.0
CAMERA_M = 100.0
ROW = 200
"""A row through the building's middle."""


def _canvas(index: NDArray[np.int32], nadir_x_px: list[float]) -> Canvas:
    views = np.array([[x, 200.0, CAMERA_M] for x in nadir_x_px])
    image = np.zeros((H_PX, W_PX, 3), np.uint8)
    return Canvas(Lattice(RES_M, 34.5), Window(0, 0, W_PX, H_PX), image, np.ones((H_PX, W_PX), bool), index, views)


def _cover(canvas: Canvas) -> NDArray[np.bool_]:
    foot = np.zeros((H_PX, W_PX), np.uint8)
    x0, y0, x1, y1 = FOOT
    foot[y0:y1, x0:x1] = 1
    return lean_cover(foot, canvas, HEIGHT_M, (0, 0, W_PX, H_PX))


def test_seen_from_the_west_the_building_leans_east_as_far_as_its_height_takes_it() -> None:
    # Nadir 60 m west of the east wall: its top leans 20 / (100 - 20) x 60 m = 15 m further east (60 px).
    cover = _cover(_canvas(np.zeros((H_PX, W_PX), np.int32), [200.0]))
    x0, y0, x1, y1 = FOOT
    assert cover[y0:y1, x0:x1].all()
    east = int(cover[ROW, x1:].sum())
    assert 56 <= east <= 62
    assert not cover[ROW, :x0].any(), "nothing leans toward the camera"
    assert not cover[:, x1 + 70 :].any()


def test_pieced_from_keyframes_on_both_sides_no_piece_shows_it_beyond_its_footprint() -> None:
    # West half from a nadir 40 m west of the building, east half from 40 m east: from each, the building
    # leans into the other half, where pixels came from the other keyframe; the ground beside it is seen.
    index = np.where(np.arange(W_PX)[None, :] < W_PX // 2, 0, 1).repeat(H_PX, 0).astype(np.int32)
    cover = _cover(_canvas(index, [200.0, 600.0]))
    x0, y0, x1, y1 = FOOT
    assert cover[y0:y1, x0:x1].all()
    assert not cover[:, :x0].any() and not cover[:, x1:].any(), "west and east of it: ground, seen"
    # North and south its top corners lean out by at most 20 / 80 of their 10 m off the nadirs' row: 2.5 m.
    assert not cover[: y0 - 10].any() and not cover[y1 + 10 :].any()


def test_ground_the_earlier_mosaic_hid_under_a_building_is_left_out_and_nothing_else() -> None:
    # Before: nadir 60 m west of the east wall, the top leans 15 m (60 px) east, to x = 500. After: nadir 30 m
    # west of it, 7.5 m (30 px), to x = 470. Between them the after mosaic shows ground where the before one
    # showed the roof (development seed 67: such a strip became a "new roof").
    index = np.zeros((H_PX, W_PX), np.int32)
    before, after = _cover(_canvas(index, [200.0])), _cover(_canvas(index, [320.0]))
    out = hidden_before(before, after)
    x0 = FOOT[0]
    row = np.flatnonzero(out[ROW])
    assert 468 <= row.min() <= 472, "from where the after mosaic's roof ends"
    assert 498 <= row.max() <= 502, "to where the before one's ends"
    assert not out[ROW, x0 : row.min()].any(), "what the after mosaic shows of the building stays compared"
    assert not out[:, :x0].any() and not out[:, 504:].any(), "ground beside it stays compared"


def test_ground_the_later_mosaic_hides_under_a_building_stays_compared() -> None:
    # The other way round (after leans further east): the relief search finds the earlier roof along the lean,
    # and a new shed on the roof there is change. Only the corners of the north and south walls, which lean
    # more steeply from the nearer nadir, were shown by the before mosaic alone.
    index = np.zeros((H_PX, W_PX), np.int32)
    before, after = _cover(_canvas(index, [320.0])), _cover(_canvas(index, [200.0]))
    out = hidden_before(before, after)
    _, y0, x1, y1 = FOOT
    assert not out[:, x1:].any(), "east of the east wall, where the after mosaic leans it further"
    assert not out[y0 + 10 : y1 - 10].any(), "nowhere along the building but at its corner walls"
    assert not hidden_before(after, after).any(), "leaning the same in both: nothing left out"


def test_the_nadir_table_of_a_box_is_the_whole_canvas_table_cut_to_it() -> None:
    # `lean_cover` traces a building in a box around it (`cut_buildings`); the nadir table is built for that
    # box alone (for the whole canvas it took about a fifth of a survey's comparison time) and must not differ.
    index = np.where(np.arange(W_PX)[None, :] < 380, 0, 1).repeat(H_PX, 0).astype(np.int32)
    index[:20] = -1
    canvas = _canvas(index, [200.0, 520.0])
    x0, y0, x1, y1 = 300, 10, 560, 300
    nadir = canvas.nadir_px((x0, y0, x1, y1))
    assert nadir.shape == (y1 - y0, x1 - x0, 2)
    assert np.array_equal(nadir, canvas.nadir_px()[y0:y1, x0:x1], equal_nan=True)
    assert np.isnan(nadir[: 20 - y0]).all(), "no view: no nadir"
    west, east = nadir[20 - y0 :, : 380 - x0, 0], nadir[20 - y0 :, 380 - x0 :, 0]
    assert (west == west[0, 0]).all() and (east == east[0, 0]).all() and east[0, 0] - west[0, 0] == 320.0


def test_zones_of_a_pieced_building_at_the_canvas_edge_are_its_whole_canvas_growth() -> None:
    # A 20 m building with its west wall 2 m from the canvas's west edge, pieced from two keyframes: the zones
    # are grown in a box around it, clipped by the edge, and must equal the growth over the whole canvas.
    origin = (34.75, 113.65)
    lattice = Lattice(RES_M, 34.5)
    col, row = lattice.col_row(np.array([origin[1]]), np.array([origin[0]]))[0]
    window = Window(int(col) - 8 - 40, int(row) - 200, W_PX, H_PX)
    index = np.where(np.arange(W_PX)[None, :] < 88, 0, 1).repeat(H_PX, 0).astype(np.int32)
    views = np.array(
        [[window.col0 + 40.0, window.row0 + 200.0, CAMERA_M], [window.col0 + 400.0, window.row0 + 200.0, CAMERA_M]]
    )
    image = np.zeros((H_PX, W_PX, 3), np.uint8)
    canvas = Canvas(lattice, window, image, np.ones((H_PX, W_PX), bool), index, views)
    e, n = np.array([0.0, 20.0, 20.0, 0.0]), np.array([-10.0, -10.0, 10.0, 10.0])
    lat, lon = enu_to_wgs84(origin[0], origin[1], e, n)
    ring = [[float(a), float(b)] for a, b in zip(lon, lat, strict=True)]
    feature = {
        "type": "Feature",
        "geometry": {"type": "Polygon", "coordinates": [[*ring, ring[0]]]},
        "properties": {"id": "B1", "kind": "building", "height_m": HEIGHT_M},
    }
    registry = Registry.from_geojson({"type": "FeatureCollection", "features": [feature]})
    zones = cut_buildings(registry, 500.0, origin, canvas, canvas)

    foot = np.zeros((H_PX, W_PX), np.uint8)
    px = to_pixels(
        window,
        np.column_stack([e, n]) @ lattice.enu_to_lattice(*origin)[:, :2].T + lattice.enu_to_lattice(*origin)[:, 2],
    )
    cv2.fillPoly(foot, [np.round(px).astype(np.int32)], 1)
    k = round(HEIGHT_M / (CAMERA_M - HEIGHT_M) * CUT_REACH_M / RES_M)
    near = cv2.dilate(foot, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * k + 1,) * 2)) > 0
    assert near[:, 0].any(), "the growth reaches the canvas's edge"
    assert np.array_equal(zones.near, near)
    x, y, bw, bh = cv2.boundingRect(np.round(px).astype(np.int32))
    box = (max(0, x - k), max(0, y - k), min(W_PX, x + bw + k), min(H_PX, y + bh + k))
    cover = np.zeros((H_PX, W_PX), bool)
    bx0, by0, bx1, by1 = box
    cover[by0:by1, bx0:bx1] = lean_cover(foot[by0:by1, bx0:bx1], canvas, HEIGHT_M, box)
    m = round(RELIEF_MARGIN_M / RES_M)
    leaned = cv2.dilate(cover.astype(np.uint8), cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * m + 1,) * 2)) > 0
    assert cover.any() and np.array_equal(zones.leaned, leaned & near)
    assert not zones.one_sided.any(), "pieced from two keyframes: not one-sided"
