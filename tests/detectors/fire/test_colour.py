"""Flame colour rules and the blob/box helpers: pure numpy, no video."""

from __future__ import annotations

import numpy as np

from detectors.fire.blobs import blob_boxes, box_sums, group_boxes, integral
from detectors.fire.colour import flame_colour_mask
from detectors.fire.cue_config import FlameCueConfig


def _frame(bgr: tuple[int, int, int], background: tuple[int, int, int] = (90, 90, 90)) -> np.ndarray:
    """A grey frame with a 20x20 patch of one colour in the middle."""
    img = np.zeros((60, 60, 3), np.uint8)
    img[:] = background
    img[20:40, 20:40] = bgr
    return img


def test_orange_and_yellow_flame_pixels_pass_both_rules() -> None:
    cfg = FlameCueConfig()
    for bgr in [(10, 100, 240), (60, 200, 255), (20, 140, 250)]:
        mask = flame_colour_mask(_frame(bgr), cfg)
        assert mask[20:40, 20:40].all(), bgr
        assert not mask[:20].any()


def test_grey_blue_green_and_deep_red_are_not_flame() -> None:
    cfg = FlameCueConfig()
    # deep red (R=200, G=B=30) fails R >= G > B and Y > Cb; blue sky, grass and concrete fail everywhere
    for bgr in [(30, 30, 200), (200, 150, 110), (50, 120, 40), (150, 150, 150)]:
        assert not flame_colour_mask(_frame(bgr), cfg).any(), bgr


def test_relative_rule_drops_orange_that_is_darker_than_the_frame() -> None:
    """In a bright frame a dull orange patch is below the mean brightness (Celik's Y > mean Y)."""
    bright = _frame((20, 100, 200), background=(235, 235, 235))
    assert not flame_colour_mask(bright, FlameCueConfig()).any()
    assert flame_colour_mask(bright, FlameCueConfig(relative_to_frame=False))[30, 30]


def test_rule_combinations_are_ordered() -> None:
    rng = np.random.default_rng(5)
    img = rng.integers(0, 256, (80, 80, 3), dtype=np.uint8)
    both = flame_colour_mask(img, FlameCueConfig(colour_rules="both"))
    ycbcr = flame_colour_mask(img, FlameCueConfig(colour_rules="ycbcr"))
    rgb = flame_colour_mask(img, FlameCueConfig(colour_rules="rgb"))
    either = flame_colour_mask(img, FlameCueConfig(colour_rules="either"))
    assert np.array_equal(both, ycbcr & rgb)
    assert np.array_equal(either, ycbcr | rgb)
    assert both.sum() < either.sum()


def test_blob_boxes_finds_separate_blobs_and_merges_close_ones() -> None:
    mask = np.zeros((50, 100), bool)
    mask[10:20, 10:20] = True  # 100 px
    mask[10:20, 24:30] = True  # 60 px, 4 px away
    mask[30:32, 80:82] = True  # 4 px, below min_pixels
    boxes, counts = blob_boxes(mask, 0, 5)
    assert sorted(map(tuple, boxes.tolist())) == [(10, 10, 20, 20), (24, 10, 30, 20)]
    assert sorted(counts.tolist()) == [60, 100]
    merged, counts = blob_boxes(mask, 6, 5)
    assert merged.tolist() == [[10, 10, 30, 20]]
    assert counts.tolist() == [160]


def test_group_boxes_is_transitive() -> None:
    boxes = np.array([[0, 0, 10, 10], [13, 0, 20, 10], [23, 0, 30, 10], [60, 0, 70, 10]])
    merged, member = group_boxes(boxes, 4, (100, 20))
    assert len(merged) == 2
    assert member[0] == member[1] == member[2] != member[3]
    assert sorted(merged.tolist()) == [[0, 0, 30, 10], [60, 0, 70, 10]]


def test_box_sums_match_direct_sums() -> None:
    rng = np.random.default_rng(1)
    mask = rng.uniform(size=(40, 50)) > 0.6
    boxes = np.array([[0, 0, 50, 40], [5, 7, 9, 30], [45, 35, 60, 60], [10, 10, 10, 20]])
    sums = box_sums(integral(mask), boxes)
    expected = [mask[0:40, 0:50].sum(), mask[7:30, 5:9].sum(), mask[35:40, 45:50].sum(), 0]
    assert sums.tolist() == [float(v) for v in expected]
