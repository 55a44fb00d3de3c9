"""Which ground `change.compare` judges: the border is kept from the edge of the surveys' overlap, not from
ground left out inside it (beside a tall building pieced from several keyframes). Hand-drawn 0.25 m scenes."""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from detectors.construction.survey.change import compare
from detectors.construction.survey.config import ChangeConfig

RES_M = 0.25
SIZE_PX = 400
"""100 m square."""
LEFT_OUT = (150, 150, 230, 230)
"""(x0, y0, x1, y1) px: a 20 m square left out (a tall building and its lean)."""
ROOF = (240, 170, 268, 198)
"""7 m x 7 m, 2.5 m from the left-out square: 40 m from the overlap's edge."""


def _ground(seed: int) -> NDArray[np.uint8]:
    """Grey pavement with a little grain (the comparison scores in robust spreads of the whole scene)."""
    rng = np.random.default_rng(seed)
    grain = rng.normal(0.0, 3.0, (SIZE_PX, SIZE_PX, 1))
    return np.clip(np.array([120.0, 122.0, 125.0]) + grain, 0, 255).astype(np.uint8)


def _scene() -> tuple[NDArray[np.uint8], NDArray[np.uint8], NDArray[np.bool_]]:
    before, after = _ground(1), _ground(2)
    x0, y0, x1, y1 = ROOF
    after[y0:y1, x0:x1] = (170, 90, 40)
    left_out = np.zeros((SIZE_PX, SIZE_PX), bool)
    lx0, ly0, lx1, ly1 = LEFT_OUT
    left_out[ly0:ly1, lx0:lx1] = True
    return before, after, left_out


def test_a_new_roof_beside_left_out_ground_is_compared() -> None:
    before, after, left_out = _scene()
    config = ChangeConfig()
    change = compare(before, after, np.ones((SIZE_PX, SIZE_PX), bool), RES_M, config, None, left_out)
    x0, y0, x1, y1 = ROOF
    assert change.valid[y0:y1, x0:x1].all()
    assert (change.score[y0 + 2 : y1 - 2, x0 + 2 : x1 - 2] >= config.threshold).all()
    lx0, ly0, lx1, ly1 = LEFT_OUT
    assert not change.valid[ly0:ly1, lx0:lx1].any()
    assert not change.valid[:10, :].any(), "the overlap's own border is still kept"


def test_ground_left_out_as_not_overlapping_would_take_the_border_with_it() -> None:
    """What the left-out argument is for: the same ground passed as outside the overlap loses the border
    around it, and the roof with it."""
    before, after, left_out = _scene()
    change = compare(before, after, ~left_out, RES_M, ChangeConfig())
    x0, y0, x1, y1 = ROOF
    assert not change.valid[y0:y1, x0:x1].any()


def test_the_judged_strip_beside_left_out_ground_does_not_move_other_scores() -> None:
    """The day's statistics are learnt without the strip beside left-out ground: a large new shadow there (a
    tall building's, which moves most between surveys) leaves every other cell's score as it was when the
    strip was not compared at all, and the strip itself is still judged."""
    before, after, left_out = _scene()
    _, ly0, lx1, ly1 = LEFT_OUT
    shade = (slice(ly0, ly1), slice(lx1, lx1 + 36))  # 20 m x 9 m beside the left-out square
    after[shade] = (after[shade].astype(np.float32) * np.array([0.55, 0.45, 0.4])).astype(np.uint8)
    valid = np.ones((SIZE_PX, SIZE_PX), bool)
    config = ChangeConfig()
    judged = compare(before, after, valid, RES_M, config, None, left_out)
    as_before = compare(before, after, valid & ~left_out, RES_M, config)
    assert judged.valid[shade].all() and not as_before.valid[shade].any()
    both = as_before.valid
    assert both.sum() > 0.4 * SIZE_PX * SIZE_PX
    np.testing.assert_array_equal(judged.score[both], as_before.score[both])
