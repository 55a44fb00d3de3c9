"""Scaffold decks seen only as their tube lattice (`decks.lattice_decks`, `lattice.line_period`): hand-drawn scenes.

Each scene is earth at 0.25 m with a 16 m x 12 m deck of planks the earth's colour, its tubes one pixel brighter
lines; the change map is a fake of what `change.compare` gives for it: high on the tubes (and the pixel either
side, as the mosaic's blur spreads them), nothing between. The regions come from the real `regions.extract`.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
from numpy.typing import NDArray

from detectors.construction.survey.change import ChangeMap
from detectors.construction.survey.config import ChangeConfig
from detectors.construction.survey.decks import lattice_decks
from detectors.construction.survey.lattice import line_period
from detectors.construction.survey.regions import extract
from tests.detectors.construction.survey_fakes import fake_change_map

CELL_M = 0.25
SIZE_PX = 128
"""32 m square."""
DECK = (24, 32, 88, 80)
"""(x0, y0, x1, y1) px: 16 m x 12 m."""
EARTH = (95, 125, 150)
PITCH_PX = 6
"""Tubes every 1.5 m."""


def _earth(rng: np.random.Generator) -> NDArray[np.float64]:
    return np.full((SIZE_PX, SIZE_PX, 3), EARTH, np.float32) + rng.normal(0, 3.0, (SIZE_PX, SIZE_PX, 3))


def _deck_scene(cols: list[int], rows: list[int], rng: np.random.Generator) -> tuple[NDArray[np.uint8], ChangeMap]:
    """The later view (earth, a deck of its colour with tubes at the given columns and rows) and the change map."""
    x0, y0, x1, y1 = DECK
    img = _earth(rng)
    tubes = np.zeros((SIZE_PX, SIZE_PX), bool)
    tubes[y0:y1, [x0 + c for c in cols]] = True
    tubes[[y0 + r for r in rows], x0:x1] = True
    img[tubes] += 14.0
    after = np.clip(img, 0, 255).astype(np.uint8)
    before = np.clip(_earth(rng), 0, 255).astype(np.uint8)
    change = fake_change_map(after, (0, 0, 0, 0), CELL_M, before)
    score = np.zeros((SIZE_PX, SIZE_PX), np.float32)
    spread = np.zeros_like(tubes)
    spread[1:-1, 1:-1] = tubes[1:-1, 1:-1] | tubes[:-2, 1:-1] | tubes[2:, 1:-1] | tubes[1:-1, :-2] | tubes[1:-1, 2:]
    score[spread] = 20.0
    return after, replace(change, score=score, chroma=score.copy())


def _proposed(change: ChangeMap, config: ChangeConfig) -> NDArray[np.uint8]:
    """Deck cells proposed on a map where no changed area was found the usual way."""
    return lattice_decks(change, change.changed(config.threshold), np.zeros(change.score.shape, np.uint8), config)


def _regular(length_px: int) -> list[int]:
    return list(range(0, length_px, PITCH_PX))


def _irregular(length_px: int, rng: np.random.Generator) -> list[int]:
    """Lines at uneven spacings (0.5-3.75 m), like the edges of cars and their shadows."""
    out, at = [], 0
    while at < length_px:
        out.append(at)
        at += int(rng.integers(2, 16))
    return out


def test_a_deck_the_colour_of_the_ground_is_proposed_as_a_whole() -> None:
    config = ChangeConfig()
    x0, y0, x1, y1 = DECK
    rng = np.random.default_rng(3)
    _, change = _deck_scene(_regular(x1 - x0), _regular(y1 - y0), rng)
    regions = extract(change, config)
    assert len(regions) == 1, [r.area_m2 for r in regions]
    (deck,) = regions
    assert 0.8 * 192.0 <= deck.area_m2 <= 1.1 * 192.0, deck.area_m2
    assert deck.solid_m2 >= config.min_area_m2, deck.solid_m2  # a new lattice: a thing as a whole
    # Without the proposal the lattice of changed lines does not survive the opening by min_width_m.
    assert extract(change, config.model_copy(update={"lattice_close_m": 0.0})) == []


def test_lines_at_uneven_spacings_are_not_a_deck() -> None:
    config = ChangeConfig()
    x0, y0, x1, y1 = DECK
    inside = np.zeros((SIZE_PX, SIZE_PX), bool)
    inside[y0:y1, x0:x1] = True
    regular, _ = _deck_scene(_regular(x1 - x0), _regular(y1 - y0), np.random.default_rng(4))
    assert line_period(regular, inside, CELL_M) >= config.lattice_period_min + 0.3
    for seed in range(10):
        rng = np.random.default_rng(seed)
        after, change = _deck_scene(_irregular(x1 - x0, rng), _irregular(y1 - y0, rng), rng)
        assert line_period(after, inside, CELL_M) < config.lattice_period_min, seed
        assert not _proposed(change, config).any(), seed


def test_a_lattice_that_was_there_before_is_not_a_deck() -> None:
    """A car park's bay lines, or a scaffold already standing, seen in both surveys."""
    config = ChangeConfig()
    x0, y0, x1, y1 = DECK
    after, change = _deck_scene(_regular(x1 - x0), _regular(y1 - y0), np.random.default_rng(5))
    same = replace(change, before_bgr=after, before_lab=change.after_lab)
    assert not _proposed(same, config).any()


def test_a_ragged_lattice_is_not_a_deck() -> None:
    """Busy change in an L (cars moved along two sides of a car park) fills little of its rectangle."""
    config = ChangeConfig()
    x0, y0, x1, y1 = DECK
    _, change = _deck_scene(_regular(x1 - x0), _regular(y1 - y0), np.random.default_rng(6))
    score = change.score.copy()
    score[y0 + 16 : y1, x0 + 20 : x1] = 0.0  # keep an L: the top 4 m and the left 5 m
    ragged = replace(change, score=score)
    assert not _proposed(ragged, config).any()
