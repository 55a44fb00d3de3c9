"""Naming a change between surveys (`classify`): hand-drawn 0.25 m patches, one rule at a time."""

from __future__ import annotations

import cv2
import numpy as np
from numpy.typing import NDArray

from detectors.construction.survey.classify import (
    LATTICE_MAJOR_MAX,
    LATTICE_MINOR_MIN,
    ChangeKind,
    classify,
    colour_spread,
    grid_edges,
    is_grid,
    is_lattice,
)
from detectors.construction.survey.lattice import line_energy

SIZE_PX = 48
"""12 m square at 0.25 m per pixel."""


def _name(bgr: NDArray[np.uint8]) -> ChangeKind:
    lab = np.asarray(cv2.cvtColor(bgr.astype(np.float32) / 255.0, cv2.COLOR_BGR2Lab), np.float32)
    inside = np.zeros(bgr.shape[:2], bool)
    inside[4:-4, 4:-4] = True
    return classify(bgr, lab, inside, 0.25).kind


def _patch(bgr: tuple[int, int, int]) -> NDArray[np.uint8]:
    return np.full((SIZE_PX, SIZE_PX, 3), bgr, np.uint8)


def test_a_grey_grid_of_pipes_is_a_scaffold() -> None:
    img = _patch((120, 135, 145))
    img[:, ::6] = (185, 190, 195)  # pipes every 1.5 m, both ways
    img[::6, :] = (185, 190, 195)
    assert grid_edges(img, np.ones(img.shape[:2], bool))[1] > 0.8
    assert _name(img) is ChangeKind.SCAFFOLD


def test_ribs_one_way_and_a_plain_grey_roof_are_roofs() -> None:
    ribbed = _patch((225, 225, 220))
    ribbed[:, ::3] = (150, 150, 150)  # ribs every 0.75 m, one way
    assert _name(ribbed) is ChangeKind.ROOF
    plain = _patch((130, 128, 126))
    cv2.rectangle(plain, (4, 4), (SIZE_PX - 5, SIZE_PX - 5), (60, 60, 60), 1)  # its outline: edges, not a grid
    assert _name(plain) is ChangeKind.ROOF


def test_a_saturated_blue_grid_is_a_roof_not_a_scaffold() -> None:
    img = _patch((170, 90, 40))
    img[:, ::6] = (240, 160, 90)
    img[::6, :] = (240, 160, 90)
    assert _name(img) is ChangeKind.ROOF


def test_soil_under_a_cool_white_balance_is_bare_soil() -> None:
    # CIELAB about (40, 2, 17): brown earth seen under a bluish white balance.
    lab = np.array([[[40.0, 2.0, 17.0]]], np.float32)
    bgr = np.clip(cv2.cvtColor(lab, cv2.COLOR_Lab2BGR) * 255.0, 0, 255).astype(np.uint8)[0, 0]
    assert _name(_patch((int(bgr[0]), int(bgr[1]), int(bgr[2])))) is ChangeKind.BARE_SOIL


def _deck(rng: np.random.Generator) -> NDArray[np.uint8]:
    """A scaffold deck at 0.25 m: even plank colour, faint tubes (+9 grey levels, one pixel) every 1.5 m both
    ways, darker plank rows every 3 m, sensor noise: too faint for the strong-edge grid rule."""
    img = np.full((SIZE_PX, SIZE_PX, 3), (110, 125, 140), np.float32)
    for row in range(3):
        img[row::12, :] -= 10.0
    img[:, ::6] += 9.0
    img[::6, :] += 9.0
    img += rng.normal(0, 2.0, img.shape)
    return np.clip(img, 0, 255).astype(np.uint8)


def test_a_faint_lattice_of_tubes_over_an_even_deck_is_a_scaffold() -> None:
    deck = _deck(np.random.default_rng(5))
    lines = line_energy(deck, np.ones(deck.shape[:2], bool), 0.25)
    assert lines.minor >= LATTICE_MINOR_MIN and lines.balance >= 0.5, lines
    assert not is_grid(*grid_edges(deck, np.ones(deck.shape[:2], bool)))  # the strong-edge rule misses it
    assert _name(deck) is ChangeKind.SCAFFOLD


def test_a_turned_lattice_is_measured_along_its_own_sides() -> None:
    big = np.full((96, 96, 3), (110, 125, 140), np.uint8)
    big[:, ::6] = (124, 139, 154)
    big[::6, :] = (124, 139, 154)
    turn = cv2.getRotationMatrix2D((48.0, 48.0), 30.0, 1.0)
    turned = cv2.warpAffine(big, turn, (96, 96), flags=cv2.INTER_LINEAR)
    inside = np.zeros((96, 96), np.uint8)
    square = cv2.boxPoints(((48.0, 48.0), (50.0, 40.0), -30.0)).astype(np.int32)
    cv2.fillConvexPoly(inside, square, 1)
    lines = line_energy(turned, inside.astype(bool), 0.25)
    assert lines.balance > 0.6 and lines.minor >= LATTICE_MINOR_MIN, lines


def test_faint_lines_one_way_or_over_many_colours_are_not_a_scaffold() -> None:
    rng = np.random.default_rng(6)
    ribs = _patch((110, 125, 140)).astype(np.float32)
    ribs[:, ::3] += 9.0  # one way only: a ribbed roof
    ribs += rng.normal(0, 2.0, ribs.shape)
    assert _name(np.clip(ribs, 0, 255).astype(np.uint8)) is not ChangeKind.SCAFFOLD
    cars = _deck(rng)
    for y in range(0, SIZE_PX, 12):  # blocks of many colours, like parked cars in a row
        for x in range(0, SIZE_PX, 8):
            cars[y + 1 : y + 11, x + 1 : x + 8] = rng.integers(20, 235, 3)
    lab = np.asarray(cv2.cvtColor(cars.astype(np.float32) / 255.0, cv2.COLOR_BGR2Lab), np.float32)
    lines = line_energy(cars, np.ones(cars.shape[:2], bool), 0.25)
    assert lines.minor >= LATTICE_MINOR_MIN and lines.balance >= 0.5  # lines both ways, but ...
    assert not is_lattice(lines, colour_spread(lab.reshape(-1, 3)))  # ... not one even deck


def test_strong_lines_both_ways_are_not_a_faint_lattice() -> None:
    """The faint-lattice rule is for tubes thinner than a pixel; strong lines both ways (the edges of parked
    cars, white or dark on asphalt) are left to the strong-edge rule and its colour check."""
    img = _patch((110, 125, 140))
    img[:, ::6] = (200, 210, 215)
    img[::6, :] = (200, 210, 215)
    lab = np.asarray(cv2.cvtColor(img.astype(np.float32) / 255.0, cv2.COLOR_BGR2Lab), np.float32)
    lines = line_energy(img, np.ones(img.shape[:2], bool), 0.25)
    assert lines.major > LATTICE_MAJOR_MAX and lines.balance > 0.8, lines
    assert not is_lattice(lines, colour_spread(lab.reshape(-1, 3)))
