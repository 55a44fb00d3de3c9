"""The part of a change unlike the ground around it (`regions.extract`, `Region.solid_m2`): hand-drawn 0.25 m scenes.

Each scene is a change map built by hand (a fake of what `change.compare` gives): the later view, and a high
score over the changed block. The region and its solid area come from the real `extract`.
"""

from __future__ import annotations

import cv2
import numpy as np
import pytest
from numpy.typing import NDArray

from detectors.construction.survey.config import ChangeConfig
from detectors.construction.survey.regions import extract
from tests.detectors.construction.survey_fakes import fake_change_map

CELL_M = 0.25
SIZE_PX = 96
"""24 m square."""
ROOF = (38, 36, 58, 60)
"""(x0, y0, x1, y1) px: 5 m x 6 m, 30 m2, the smallest structure a survey must find."""
ASPHALT = (88, 90, 92)
BLUE_ROOF = (170, 90, 40)


def _blended_roof(colour: tuple[int, int, int]) -> NDArray[np.uint8]:
    """Asphalt with a roof whose outermost pixels are a fifth roof, the rest ground (the roof's edge falls
    inside them, as it does on a mosaic resampled from oblique frames): they look like ground."""
    img = np.full((SIZE_PX, SIZE_PX, 3), ASPHALT, np.uint8)
    x0, y0, x1, y1 = ROOF
    mixed = ((np.array(colour, np.float32) + 4 * np.array(ASPHALT, np.float32)) / 5).astype(np.uint8)
    img[y0:y1, x0:x1] = mixed
    img[y0 + 1 : y1 - 1, x0 + 1 : x1 - 1] = colour
    return img


def test_a_30_m2_roof_with_blended_edges_is_a_thing() -> None:
    config = ChangeConfig()
    (region,) = extract(fake_change_map(_blended_roof(BLUE_ROOF), ROOF, CELL_M), config)
    # Its core alone is 4.5 m x 5.5 m = 24.75 m2, under min_area_m2: the blended rim is grown back.
    assert config.min_area_m2 <= region.solid_m2 <= 30.0, region.solid_m2


def test_ground_revealed_keeps_no_solid_part() -> None:
    """A car or shed gone: the later view is the ground around it, nothing unlike it is grown back."""
    config = ChangeConfig()
    (region,) = extract(fake_change_map(_blended_roof(ASPHALT), ROOF, CELL_M), config)
    assert region.solid_m2 == 0.0


PAVEMENT = (150, 152, 155)
LAWN = (60, 130, 80)
YELLOW_LAWN = (60, 140, 150)
GREY_ROOF = (135, 133, 130)
"""Within min_contrast of the pavement: a grey steel roof beside a grey yard."""
BLOCK = (20, 30, 52, 62)
"""(x0, y0, x1, y1) px: 8 m x 8 m on the lawn, its left side on the pavement's edge."""


def _lawn_beside_pavement(lawn: tuple[int, int, int] = LAWN) -> NDArray[np.uint8]:
    """Pavement on the left quarter of the scene, lawn on the rest."""
    img = np.full((SIZE_PX, SIZE_PX, 3), lawn, np.uint8)
    img[:, : BLOCK[0]] = PAVEMENT
    return img


def _with_block(img: NDArray[np.uint8], colour: tuple[int, int, int]) -> NDArray[np.uint8]:
    out = img.copy()
    x0, y0, x1, y1 = BLOCK
    out[y0:y1, x0:x1] = colour
    return out


def test_a_roof_like_the_pavement_beside_it_built_on_the_lawn_is_a_thing() -> None:
    """It looks like the ground around it now (the pavement), but that ground's class was lawn there."""
    config = ChangeConfig()
    before = _lawn_beside_pavement()
    (region,) = extract(fake_change_map(_with_block(before, GREY_ROOF), BLOCK, CELL_M, before), config)
    assert region.solid_m2 >= 60.0, region.solid_m2


def _pavement_beside_lawn() -> NDArray[np.uint8]:
    """Pavement on the left of the scene, lawn on its right part (past x = 70 px)."""
    ground = np.full((SIZE_PX, SIZE_PX, 3), PAVEMENT, np.uint8)
    ground[:, 70:] = LAWN
    return ground


@pytest.mark.parametrize("gone", [(40, 40, 200), (70, 66, 62)], ids=["car group", "shadow"])
def test_something_gone_from_the_pavement_is_ground(gone: tuple[int, int, int]) -> None:
    """Cars or a shadow gone from the pavement's class: what is seen now is what the band's pavement was then
    too."""
    ground = _pavement_beside_lawn()
    before = _with_block(ground, gone)
    (region,) = extract(fake_change_map(ground, BLOCK, CELL_M, before), ChangeConfig())
    assert region.solid_m2 == 0.0


def test_a_lawn_yellowing_with_the_lawn_around_it_is_ground() -> None:
    config = ChangeConfig()
    before = _lawn_beside_pavement()
    after = _with_block(_lawn_beside_pavement(YELLOW_LAWN), (62, 142, 146))
    (region,) = extract(fake_change_map(after, BLOCK, CELL_M, before), config)
    assert region.solid_m2 == 0.0


def _bgr_of(lab: tuple[float, float, float]) -> tuple[int, int, int]:
    pixel = np.array([[lab]], np.float32)
    bgr = np.clip(cv2.cvtColor(pixel, cv2.COLOR_Lab2BGR)[0, 0] * 255.0, 0, 255).round().astype(int)
    return int(bgr[0]), int(bgr[1]), int(bgr[2])


SHADED_GRASS = (24.0, -11.0, 14.0)
"""CIELAB of autumn grass in the shade of trees (development seed 119, later survey)."""


def test_a_dust_net_in_the_shade_of_trees_on_grass_is_a_thing() -> None:
    """Within min_contrast of the shaded grass around it (11.5 CIELAB), but a bluer green: not grass in shade."""
    config = ChangeConfig()
    grass = np.full((SIZE_PX, SIZE_PX, 3), _bgr_of(SHADED_GRASS), np.uint8)
    before = np.full((SIZE_PX, SIZE_PX, 3), _bgr_of((41.0, -22.0, 28.0)), np.uint8)  # the lawn in sun, before
    after = _with_block(grass, _bgr_of((20.0, -17.0, 5.0)))
    (region,) = extract(fake_change_map(after, BLOCK, CELL_M, before), config)
    assert region.solid_m2 >= 60.0, region.solid_m2
    no_hue = config.model_copy(update={"ground_hue_max_deg": 0.0})
    (without,) = extract(fake_change_map(after, BLOCK, CELL_M, before), no_hue)
    assert without.solid_m2 == 0.0  # taken for the grass around it without the hue test


def test_grass_in_shade_keeps_its_hue_and_is_ground() -> None:
    """Darker and less saturated, the same hue angle: grass fallen into a shadow since the earlier survey."""
    config = ChangeConfig()
    lawn = (40.0, -14.0, 18.0)
    after = _with_block(np.full((SIZE_PX, SIZE_PX, 3), _bgr_of(lawn), np.uint8), _bgr_of(SHADED_GRASS))
    before = np.full((SIZE_PX, SIZE_PX, 3), _bgr_of(lawn), np.uint8)
    (region,) = extract(fake_change_map(after, BLOCK, CELL_M, before), config)
    assert region.solid_m2 == 0.0


SUNLIT_PAVEMENT = (64.0, 1.2, 2.2)
"""CIELAB of pavement in sun, and of soil in a tall building's new shadow on it (development seed 83, later
survey: the excavation N6 beside a 14.6 m building)."""
SHADED_SOIL = (19.4, 2.0, 5.3)


def test_soil_in_a_new_shadow_on_pavement_is_a_thing() -> None:
    """Far darker than the pavement with a hue close to it, but yellower: shade is lit by the bluer sky, so this
    is no pavement in shade (seed 83's excavation was listed removed)."""
    config = ChangeConfig()
    pavement = np.full((SIZE_PX, SIZE_PX, 3), _bgr_of(SUNLIT_PAVEMENT), np.uint8)
    after = _with_block(pavement, _bgr_of(SHADED_SOIL))
    (region,) = extract(fake_change_map(after, BLOCK, CELL_M, pavement), config)
    assert region.solid_m2 >= 60.0, region.solid_m2


def test_pavement_in_a_new_shadow_is_ground() -> None:
    """Darker and bluer, the same hue within SHADE_HUE: the pavement in shade."""
    config = ChangeConfig()
    pavement = np.full((SIZE_PX, SIZE_PX, 3), _bgr_of(SUNLIT_PAVEMENT), np.uint8)
    after = _with_block(pavement, _bgr_of((34.0, 0.5, -2.5)))
    (region,) = extract(fake_change_map(after, BLOCK, CELL_M, pavement), config)
    assert region.solid_m2 == 0.0
