"""Scaffold decks whose only change is their tube lattice: proposed as changed areas in their own right.

A scaffold deck of planks the colour of the ground under it (timber on earth, grey boards on concrete) changes
a comparison cell only where a tube crosses it: the change map shows a lattice of thin lines, 1-2 m apart, with
unchanged cells between them. The opening by `min_width_m` that removes slivers and lines of cars removes that
lattice too, so no region is ever proposed and the deck is never measured (`lattice.line_energy` would name it).

Here the raw changed cells are first closed across the gap between tubes (`lattice_close_m`), what that encloses
is filled (tubes one way can change less than the other way: transoms faint against the planks, or in shade),
then opened by the minimum width as usual; a part that survives and is not already a changed area is proposed
when what it shows is a new scaffold and nothing cars or car parks have (a part that is not, taken with what it
encloses, is taken again without):

- compact: it fills most of its minimum-area rectangle (`lattice_fill_min`; a deck is a rectangle, cars moved
  across a car park leave ragged areas);
- a lattice both ways over an even deck in the later survey (`classify.is_lattice`: faint lines both ways, no
  strong ones, one colour), that was not there in the earlier one (`regions.GRID_EDGES_BEFORE_SHARE`);
- lines at one spacing (`lattice.line_period` at least `lattice_period_min`): tubes stand at a fixed pitch;
  cars, their shadows and the lines between bays of a car park that was already there do not add one.

A part that is still no deck may be a deck joined to a changed patch beside it (a moved shadow, a new roof)
through a neck: it is cut where it narrows under `SPLIT_WIDTH_M`, and a piece is proposed when it passes the same
checks and the lattice stops at the cut (`_propose_pieces`).

What is proposed then goes through every later rule (ground contrast, cars, revealed ground, registry) as any
changed area does.
"""

from __future__ import annotations

import cv2
import numpy as np
from numpy.typing import NDArray

from detectors.construction.survey.change import ChangeMap
from detectors.construction.survey.classify import colour_spread, is_lattice
from detectors.construction.survey.config import ChangeConfig
from detectors.construction.survey.lattice import NO_LINES, line_energy, line_period

NEW_LINES_BEFORE_SHARE = 0.5
"""The earlier survey's weaker-direction line energy over the same cells at most this share of the later one's
(the same bound `regions` puts on a new lattice): the lattice is new."""
MIN_DECK_M2 = 60.0
"""Smallest deck proposed (a scaffold deck along one wall of a small building is 10 x 6 m or more)."""
ALREADY_FOUND_SHARE = 0.5
"""A part this much inside the changed areas found the usual way is left to them."""
PAD_CELLS = 4
SPLIT_WIDTH_M = 6.0
"""A part that is no deck is cut at its necks narrower than this and its pieces tried (`_propose_pieces`): a deck
is 6 m wide or more (`MIN_DECK_M2`); what joins it to other change beside it is narrower."""
REST_LINES_SHARE = 0.25
"""A piece cut from a part counts only when the rest of the part has weaker-direction line energy at most this
share of the piece's (the lattice stops at the cut). Dev seed 125's deck: 0.16 (1.7 against 10.8); a regular
piece cut from lines at uneven spacings (test_survey_decks): 0.60; a deck joined to such lines there: 0.39."""


def disc(radius_cells: float) -> NDArray[np.uint8]:
    """A disc-shaped structuring element of the given radius in cells."""
    r = max(0, round(radius_cells))
    return np.asarray(cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * r + 1, 2 * r + 1)), np.uint8)


def lattice_decks(
    change: ChangeMap, raw: NDArray[np.uint8], found: NDArray[np.uint8], config: ChangeConfig
) -> NDArray[np.uint8]:
    """Cells of new scaffold decks seen only as a lattice of changed lines (see the module docstring), from the
    raw changed cells `raw` (`ChangeMap.changed`) and outside the changed areas `found` already
    holds; zeros when the rule is off (`lattice_close_m` 0)."""
    out = np.zeros_like(found)
    if config.lattice_close_m <= 0:
        return out
    cell = change.cell_m
    closed = np.asarray(cv2.morphologyEx(raw, cv2.MORPH_CLOSE, disc(config.lattice_close_m / cell)), np.uint8)
    width = disc(config.min_width_m / 2 / cell)
    valid = change.valid.astype(np.uint8)
    # Where a deck's tubes changed less one way than the other (transoms faint against the planks, or in shade),
    # the closing leaves holes between the ledgers and the opening eats the deck around them: parts are first
    # taken with what they enclose. A part that is then no deck (a hole closed against a tree's shadow beside
    # it makes it ragged) is taken again as it was, without its holes.
    whole = np.asarray(cv2.morphologyEx(_holes_filled(closed), cv2.MORPH_OPEN, width), np.uint8) & valid
    tried = _propose(change, whole, found, out, config, None)
    plain = np.asarray(cv2.morphologyEx(closed, cv2.MORPH_OPEN, width), np.uint8) & valid
    _propose(change, plain, found, out, config, tried, disc(SPLIT_WIDTH_M / 2 / cell))
    return out


def _propose(
    change: ChangeMap,
    opened: NDArray[np.uint8],
    found: NDArray[np.uint8],
    out: NDArray[np.uint8],
    config: ChangeConfig,
    tried: NDArray[np.int32] | None,
    split: NDArray[np.uint8] | None = None,
) -> NDArray[np.int32]:
    """Set in `out` the parts of `opened` that are new decks (`is_new_deck`) and not mostly in `found` or `out`
    already; a part the same as one of `tried` (labels, a part's cell count there) is not measured again. A part
    that is no deck is, with `split` (a structuring element), cut at its necks narrower than that and its pieces
    tried (`_propose_pieces`). Returns this map's labels with each part's cell count (0 off the parts)."""
    cell = change.cell_m
    n, labels, stats, _ = cv2.connectedComponentsWithStats(opened, connectivity=8)
    counts = np.zeros(labels.shape, np.int32)
    h, w = found.shape
    for label in range(1, n):
        cells = int(stats[label, cv2.CC_STAT_AREA])
        if cells * cell * cell < max(MIN_DECK_M2, config.min_area_m2):
            continue
        x, y, bw, bh = (int(v) for v in stats[label, :4])
        x0, y0 = max(0, x - PAD_CELLS), max(0, y - PAD_CELLS)
        x1, y1 = min(w, x + bw + PAD_CELLS), min(h, y + bh + PAD_CELLS)
        part = labels[y0:y1, x0:x1] == label
        counts[y0:y1, x0:x1][part] = cells
        if ((found[y0:y1, x0:x1] | out[y0:y1, x0:x1])[part] > 0).mean() >= ALREADY_FOUND_SHARE:
            continue
        measured = tried is not None and np.all(tried[y0:y1, x0:x1][part] == cells)
        if not measured and is_new_deck(change, (x0, y0, x1, y1), part, config):
            out[y0:y1, x0:x1][part] = 1
        elif split is not None:
            _propose_pieces(change, (x0, y0, x1, y1), part, found, out, config, split)
    return counts


def _propose_pieces(
    change: ChangeMap,
    box: tuple[int, int, int, int],
    part: NDArray[np.bool_],
    found: NDArray[np.uint8],
    out: NDArray[np.uint8],
    config: ChangeConfig,
    split: NDArray[np.uint8],
) -> None:
    """Set in `out` the pieces of `part` (in `box`) left by opening it with `split` that are new decks cut from
    change of another kind: a deck joined to a changed patch beside it (a shadow that moved, a new roof) through a
    neck narrower than any deck. A piece counts only when the rest of its part is a patch of its own (wide enough
    to measure) with no lattice (`is_lattice`) and faint lines at most (`REST_LINES_SHARE`): the lattice stops
    at the cut. Cut from a lattice, a piece is a piece of one busy area (cars moved across a car park, lines at
    uneven spacings), and cutting gives such an area more tries at the checks than it has as a whole; with nothing
    measurable left over, it is the same part trimmed, not a deck cut free."""
    x0, y0, x1, y1 = box
    pieces = np.asarray(cv2.morphologyEx(part.astype(np.uint8), cv2.MORPH_OPEN, split), np.uint8)
    n, labels, stats, _ = cv2.connectedComponentsWithStats(pieces, connectivity=8)
    after = change.after_bgr[y0:y1, x0:x1]
    part_cells = int(part.sum())
    for label in range(1, n):
        cells = int(stats[label, cv2.CC_STAT_AREA])
        if cells * change.cell_m**2 < max(MIN_DECK_M2, config.min_area_m2) or cells >= part_cells:
            continue
        piece = labels == label
        if ((found[y0:y1, x0:x1] | out[y0:y1, x0:x1])[piece] > 0).mean() >= ALREADY_FOUND_SHARE:
            continue
        rest = part & ~piece
        rest_lines = line_energy(after, rest, change.cell_m)
        if rest_lines == NO_LINES or is_lattice(rest_lines, colour_spread(change.after_lab[y0:y1, x0:x1][rest])):
            continue
        if rest_lines.minor > REST_LINES_SHARE * line_energy(after, piece, change.cell_m).minor:
            continue
        if is_new_deck(change, box, piece, config):
            out[y0:y1, x0:x1][piece] = 1


def is_new_deck(
    change: ChangeMap, box: tuple[int, int, int, int], part: NDArray[np.bool_], config: ChangeConfig
) -> bool:
    """A compact part of the map whose later view is a new, regular lattice of tubes over an even deck."""
    ys, xs = np.nonzero(part)
    _, (rect_w, rect_h), _ = cv2.minAreaRect(np.column_stack([xs, ys]).astype(np.float32))
    if part.sum() < config.lattice_fill_min * max(rect_w * rect_h, 1.0):
        return False
    x0, y0, x1, y1 = box
    after = change.after_bgr[y0:y1, x0:x1]
    lines = line_energy(after, part, change.cell_m)
    if not is_lattice(lines, colour_spread(change.after_lab[y0:y1, x0:x1][part])):
        return False
    before = line_energy(change.before_bgr[y0:y1, x0:x1], part, change.cell_m)
    if before.minor > NEW_LINES_BEFORE_SHARE * lines.minor:
        return False
    return line_period(after, part, change.cell_m) >= config.lattice_period_min


def _holes_filled(mask: NDArray[np.uint8]) -> NDArray[np.uint8]:
    """`mask` with every area it encloses set (the outer contours drawn filled)."""
    contours, _ = cv2.findContours(mask, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
    out = np.zeros_like(mask)
    cv2.drawContours(out, contours, -1, 1, thickness=cv2.FILLED)
    return out
