"""`detectors.fire.smoke_change`: change inside a box above the change around it (unit tests)."""

from __future__ import annotations

import math

import numpy as np

from detectors.fire.smoke_change import change_above_surround, luma_change


def test_change_inside_is_measured_against_the_ring_around_it() -> None:
    change = np.full((100, 100), 2, np.int16)  # noise everywhere
    box = np.array([40, 40, 60, 60], np.int64)
    assert change_above_surround(change, box) == 0.0
    change[40:60, 40:60] = 12  # the box's inside churns
    assert change_above_surround(change, box) == 10.0
    change[0:35, :] = 50  # a car crossing the ring's top rows (200 of its 1,200 px) does not lift the floor
    assert change_above_surround(change, box) == 10.0


def test_boxes_at_the_frame_edge_use_the_ring_inside_the_frame() -> None:
    change = np.zeros((50, 80), np.int16)
    change[0:10, 0:20] = 6
    assert change_above_surround(change, np.array([0, 0, 20, 10], np.int64)) == 6.0
    assert math.isnan(change_above_surround(change, np.array([0, 0, 80, 50], np.int64)))  # no ring
    assert math.isnan(change_above_surround(change, np.array([90, 60, 99, 70], np.int64)))  # outside


def test_luma_change_needs_a_previous_frame_of_the_same_size() -> None:
    a = np.full((4, 4), 10, np.int16)
    b = np.full((4, 4), 13, np.int16)
    assert luma_change(a, None) is None
    assert luma_change(a, np.zeros((2, 2), np.int16)) is None
    out = luma_change(a, b)
    assert out is not None and int(out.max()) == 3
