"""Naming a change between surveys (`classify`): hand-drawn 0.25 m patches, one rule at a time."""

from __future__ import annotations

import cv2
import numpy as np
from numpy.typing import NDArray

from detectors.construction.survey.classify import ChangeKind, classify, grid_edges

SIZE_PX = 48
"""12 m square at 0.25 m per pixel."""


def _name(bgr: NDArray[np.uint8]) -> ChangeKind:
    lab = np.asarray(cv2.cvtColor(bgr.astype(np.float32) / 255.0, cv2.COLOR_BGR2Lab), np.float32)
    inside = np.zeros(bgr.shape[:2], bool)
    inside[4:-4, 4:-4] = True
    return classify(bgr, lab, inside).kind


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
