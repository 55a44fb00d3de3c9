"""A registered building seen leaning another way is not a new structure (`parallax.is_parallax`).

Hand-drawn 0.25 m scenes: a 10 m x 10 m registered building whose roof the earlier survey saw 4 m east of
its footprint (camera to the west) and the later survey right over it (camera above). The strip east of
the footprint was hidden in the earlier survey and shows in the later one. The change map is a fake (what
`change.compare` would give: a high score over the strip); regions come from the real `regions.extract`.
"""

from __future__ import annotations

import cv2
import numpy as np
from numpy.typing import NDArray

from detectors.construction.survey.change import ChangeMap
from detectors.construction.survey.config import ChangeConfig
from detectors.construction.survey.grid import Lattice, Window
from detectors.construction.survey.mosaic import Canvas
from detectors.construction.survey.parallax import Leaning, _lean, is_parallax
from detectors.construction.survey.regions import extract

CELL_M = 0.25
SIZE = 160
"""40 m square."""
FOOT = np.array([[40.0, 60.0], [80.0, 60.0], [80.0, 100.0], [40.0, 100.0]])
"""The building's footprint, cells (10 m x 10 m)."""
STRIP = (80, 60, 96, 100)
"""(x0, y0, x1, y1) cells east of it that the earlier survey's lean hid: 4 m x 10 m."""
ASPHALT = (88, 90, 92)
ROOF = (150, 150, 155)
LEANING = Leaning(footprint=FOOT, roof_before=FOOT + np.array([16.0, 0.0]), roof_after=FOOT)


def _change_map(after: NDArray[np.uint8], before: NDArray[np.uint8], box: tuple[int, int, int, int]) -> ChangeMap:
    """A change map as `compare` would give for a box that changed and ground that did not (a fake)."""
    x0, y0, x1, y1 = box
    score = np.zeros(after.shape[:2], np.float32)
    score[y0:y1, x0:x1] = 20.0

    def lab(img: NDArray[np.uint8]) -> NDArray[np.float32]:
        return np.asarray(cv2.cvtColor(img.astype(np.float32) / 255.0, cv2.COLOR_BGR2Lab), np.float32)

    return ChangeMap(
        cell_m=CELL_M,
        score=score,
        chroma=score.copy(),
        luminance=np.zeros_like(score),
        texture=np.zeros_like(score),
        valid=np.ones(after.shape[:2], bool),
        after_lab=lab(after),
        before_lab=lab(before),
        after_bgr=after,
        before_bgr=before,
        factor=1,
    )


def _scene(
    strip_after: tuple[int, int, int], box: tuple[int, int, int, int] = STRIP, leaning: Leaning = LEANING
) -> bool:
    after = np.full((SIZE, SIZE, 3), ASPHALT, np.uint8)
    cv2.fillPoly(after, [FOOT.astype(np.int32)], ROOF)
    before = after.copy()
    cv2.fillPoly(before, [(FOOT + np.array([16.0, 0.0])).astype(np.int32)], ROOF)  # the roof seen leaning east
    x0, y0, x1, y1 = box
    after[y0:y1, x0:x1] = strip_after
    change = _change_map(after, before, box)
    (region,) = extract(change, ChangeConfig())
    return is_parallax(region, [leaning], CELL_M, ChangeConfig())


def test_ground_revealed_beside_a_leaning_building_is_parallax() -> None:
    assert _scene(ASPHALT)


def test_a_new_roof_in_the_revealed_strip_is_not_parallax() -> None:
    assert not _scene((160, 110, 40))  # blue steel: unlike the ground around it


def test_ground_changed_away_from_the_lean_is_not_parallax() -> None:
    # The same change west of the building, where neither survey had the building over the ground.
    assert not _scene((70, 72, 74), box=(20, 60, 36, 100))


def test_a_change_on_the_roof_in_both_surveys_is_not_parallax() -> None:
    # Where both surveys show the building's roof (x 56-80) a rooftop addition stands: never parallax, even
    # one the colour of what is around it there (the roof).
    assert not _scene(ROOF, box=(60, 64, 76, 96))


def test_the_rule_is_off_at_zero_contrast() -> None:
    after = np.full((SIZE, SIZE, 3), ASPHALT, np.uint8)
    change = _change_map(after, after, STRIP)
    (region,) = extract(change, ChangeConfig())
    assert not is_parallax(region, [LEANING], CELL_M, ChangeConfig(parallax_max_contrast=0.0))


def test_roof_leans_away_from_the_nadir_by_height_over_camera_height_less_height() -> None:
    # A 20 m building 40 px (10 m) east of the nadir, seen from 100 m: its roof moves 20/80 of that, 2.5 m.
    lattice = Lattice.for_area(CELL_M, 34.8)
    window = Window(1000, 2000, SIZE, SIZE)
    views = np.array([[window.col0 + 40.5, window.row0 + 80.5, 100.0]])  # nadir at pixel (40, 80)
    canvas = Canvas(
        lattice,
        window,
        np.zeros((SIZE, SIZE, 3), np.uint8),
        np.ones((SIZE, SIZE), bool),
        np.zeros((SIZE, SIZE), np.int32),
        views,
    )
    foot = np.array([[76.0, 76.0], [84.0, 76.0], [84.0, 84.0], [76.0, 84.0]])
    roof = _lean(foot, 20.0, canvas)
    assert roof is not None
    np.testing.assert_allclose(roof - foot, (foot - (40.0, 80.0)) * 0.25)
    assert _lean(foot, 120.0, canvas) is None  # taller than the camera's height: no lean to draw
