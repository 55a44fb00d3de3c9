"""Where a tall building can stand in a mosaic (`registered_relief.lean_cover`): away from the nadir of the
keyframe each pixel came from, as far as its height leans there, and nowhere else; and where only one of two
mosaics shows it (`registered_relief.hidden_before`). Hand-drawn canvases at 0.25 m, 200 m x 100 m, a 20 m high
building 20 m square in the middle, keyframes taken from 100 m."""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from detectors.construction.survey.grid import Lattice, Window
from detectors.construction.survey.mosaic import Canvas
from detectors.construction.survey.registered_relief import hidden_before, lean_cover

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
