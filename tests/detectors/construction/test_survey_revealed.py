"""Ground revealed where something went away is not a new structure (`revealed.is_revealed_ground`):
hand-drawn 0.25 m scenes.

Each scene is a change map built by hand (a fake of what `change.compare` gives): a sidewalk between a road
and a lawn, the earlier and the later view, and a faint score over the changed block. The region comes from
the real `regions.extract`; only the rule decides.
"""

from __future__ import annotations

from dataclasses import replace

import cv2
import numpy as np
from numpy.typing import NDArray

from detectors.construction.survey.change import ChangeMap
from detectors.construction.survey.config import ChangeConfig
from detectors.construction.survey.regions import extract
from detectors.construction.survey.revealed import ground_like_share, is_revealed_ground
from tests.detectors.construction.survey_fakes import fake_change_map

CELL_M = 0.25
SIZE_PX = 96
BLOCK = (16, 40, 80, 54)
"""(x0, y0, x1, y1) px of the changed block: 16 m of a 3.5 m sidewalk, 56 m2 (the sidewalk is then under a
fifth of the band around it: not one of its main colours)."""
ASPHALT = (88, 90, 92)
SIDEWALK = (176, 182, 186)
GRASS = (40, 120, 70)
FAINT = 7.0
"""Mean change score of the block: under revealed_max_score, as a patch of ground that changed little."""


def _street() -> NDArray[np.uint8]:
    img = np.full((SIZE_PX, SIZE_PX, 3), GRASS, np.uint8)
    img[:40] = ASPHALT
    img[40:54] = SIDEWALK
    return img


def _change(before: NDArray[np.uint8], after: NDArray[np.uint8], score: float = FAINT) -> ChangeMap:
    change = fake_change_map(after, BLOCK, CELL_M)
    lab = np.asarray(cv2.cvtColor(before.astype(np.float32) / 255.0, cv2.COLOR_BGR2Lab), np.float32)
    scores = np.where(change.score > 0, np.float32(score), np.float32(0.0)).astype(np.float32)
    return replace(change, before_lab=lab, before_bgr=before, score=scores, chroma=scores.copy())


def test_a_dark_patch_gone_from_a_sidewalk_is_revealed_ground() -> None:
    # Before: a shadow (or a wet patch) on the sidewalk; after: the sidewalk, a minor colour of the band around.
    before = _street()
    x0, y0, x1, y1 = BLOCK
    before[y0:y1, x0:x1] = (60, 72, 84)  # dark, damp
    change = _change(before, _street())
    config = ChangeConfig()
    (region,) = extract(change, config)
    assert region.solid_m2 >= config.min_area_m2  # the main colours around (road, lawn) do not explain it
    assert region.before_contrast >= config.revealed_before_contrast
    assert ground_like_share(region, change, config) >= config.revealed_ground_share
    assert is_revealed_ground(region, change, config)
    # The rule is off at revealed_max_score 0, and a strong change is not faint.
    assert not is_revealed_ground(region, change, ChangeConfig(revealed_max_score=0.0))
    strong = _change(before, _street(), score=20.0)
    (region,) = extract(strong, config)
    assert not is_revealed_ground(region, strong, config)


def test_a_faint_roof_the_colour_of_the_plain_ground_it_was_built_on_stays_new() -> None:
    # Before: a plain concrete yard; after: a pale grey roof much like it. Nothing stood out there before.
    before = np.full((SIZE_PX, SIZE_PX, 3), SIDEWALK, np.uint8)
    after = before.copy()
    x0, y0, x1, y1 = BLOCK
    after[y0:y1, x0:x1] = (190, 194, 196)
    change = _change(before, after)
    config = ChangeConfig()
    (region,) = extract(change, config)
    assert ground_like_share(region, change, config) >= config.revealed_ground_share
    assert region.before_contrast < config.revealed_before_contrast
    assert not is_revealed_ground(region, change, config)


def test_a_faint_new_roof_unlike_the_ground_around_stays_new() -> None:
    before = _street()
    x0, y0, x1, y1 = BLOCK
    before[y0:y1, x0:x1] = (60, 72, 84)
    after = _street()
    after[y0:y1, x0:x1] = (150, 100, 40)  # a blue steel roof where the dark patch was
    change = _change(before, after)
    config = ChangeConfig()
    (region,) = extract(change, config)
    assert ground_like_share(region, change, config) < 0.1
    assert not is_revealed_ground(region, change, config)
