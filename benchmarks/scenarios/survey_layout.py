"""The survey generator's layout: a quarter's roads, blocks and lots with their uses, and where the after
survey's new structures go (`build_world`). Every draw comes from one generator seeded by the world's seed,
in a fixed order: the same seed gives the same quarter.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np

from benchmarks.scenarios.survey_world import Area, Array, NewStructure, Raised, Tree, World, blob, boxes_overlap, rect

# -- layout ----------------------------------------------------------------------------------------------


def build_world(
    seed: int,
    half_width_m: float,
    half_height_m: float,
    cell_m: float = 0.1,
    inner_m: tuple[float, float] | None = None,
) -> World:
    """Lay out a quarter of about (2 x half_width) x (2 x half_height) metres, and its new structures
    (within +-inner_m of the middle: ground both flights see whole; default 45 m in from the edges)."""
    rng = np.random.default_rng(seed)
    w = World(seed, -half_width_m, -half_height_m, half_width_m, half_height_m, cell_m)
    w.areas.append(Area("dirt", rect(0, 0, 4 * half_width_m, 4 * half_height_m)))
    xs = _road_lines(rng, w.x0, w.x1)
    ys = _road_lines(rng, w.y0, w.y1)
    for x, width in xs:
        w.areas.append(Area("sidewalk", rect(x, 0, width + 6, 4 * half_height_m, 90)))
    for y, width in ys:
        w.areas.append(Area("sidewalk", rect(0, y, 4 * half_width_m, width + 6)))
    for x, width in xs:
        w.areas.append(Area("asphalt", rect(x, 0, width, 4 * half_height_m, 90)))
    for y, width in ys:
        w.areas.append(Area("asphalt", rect(0, y, 4 * half_width_m, width)))
    edges_x = [w.x0 - 40] + [x for x, _ in xs] + [w.x1 + 40]
    edges_y = [w.y0 - 40] + [y for y, _ in ys] + [w.y1 + 40]
    widths_x = {x: wd for x, wd in xs}
    widths_y = {y: wd for y, wd in ys}
    blocks = []
    for i in range(len(edges_x) - 1):
        for j in range(len(edges_y) - 1):
            bx0 = edges_x[i] + widths_x.get(edges_x[i], 0) / 2 + 3
            bx1 = edges_x[i + 1] - widths_x.get(edges_x[i + 1], 0) / 2 - 3
            by0 = edges_y[j] + widths_y.get(edges_y[j], 0) / 2 + 3
            by1 = edges_y[j + 1] - widths_y.get(edges_y[j + 1], 0) / 2 - 3
            if bx1 - bx0 > 30 and by1 - by0 > 30:
                blocks.append((bx0, by0, bx1, by1))
    open_lots: list[Lot] = []
    for block in blocks:
        open_lots += _fill_block(w, rng, block)
    ix, iy = inner_m if inner_m is not None else (half_width_m - 45, half_height_m - 45)
    _place_new(w, rng, open_lots, (-ix, -iy, ix, iy))
    return w


def _road_lines(rng: np.random.Generator, lo: float, hi: float) -> list[tuple[float, float]]:
    out = []
    x = lo + rng.uniform(30, 90)
    while x < hi - 20:
        out.append((float(x), float(rng.choice([12.0, 16.0, 20.0]))))
        x += rng.uniform(140, 190)
    return out


Lot = tuple[float, float, float, float, str]
"""x0, y0, x1, y1 and what covers it: lawn, paved or bare."""


def _fill_block(w: World, rng: np.random.Generator, block: tuple[float, float, float, float]) -> list[Lot]:
    """Split a block into lots and give each a use; returns the lots left open for new structures."""
    open_lots: list[Lot] = []
    for lot in _split_block(rng, block):
        use = rng.choice(
            ["apartments", "factory", "courtyard", "parking", "lawn", "bare"], p=[0.26, 0.14, 0.14, 0.14, 0.2, 0.12]
        )
        opened = _LOT_USES[str(use)](w, rng, lot)
        if opened is not None:
            open_lots.append(opened)
    return open_lots


def _split_block(rng: np.random.Generator, block: tuple[float, float, float, float]) -> list[tuple[float, ...]]:
    """Rows of lots 35-60 m deep and 40-75 m wide; a remainder under 20 m joins its neighbour, so no sliver
    lot is too small to hold a building. All sizes are drawn before any use (the seed's layout depends on it)."""
    bx0, by0, bx1, by1 = block
    lots: list[tuple[float, ...]] = []
    y = by0
    while y < by1 - 20:
        depth = min(by1 - y, float(rng.uniform(35, 60)))
        if by1 - (y + depth) < 20:
            depth = by1 - y
        x = bx0
        while x < bx1 - 20:
            width = min(bx1 - x, float(rng.uniform(40, 75)))
            if bx1 - (x + width) < 20:
                width = bx1 - x
            lots.append((x, y, x + width, y + depth))
            x += width
        y += depth
    return lots


def _lot_apartments(w: World, rng: np.random.Generator, lot: tuple[float, ...]) -> Lot | None:
    """Rows of 12 m deep slab blocks on concrete, a line of trees along the back; nothing left open."""
    x0, y0, x1, y1 = lot
    cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
    lw, lh = x1 - x0, y1 - y0
    w.areas.append(Area("concrete", rect(cx, cy, lw, lh)))
    n = max(1, int((lh - 8) // 22))
    for k in range(n):
        yy = y0 + 6 + 22 * k + 6
        length = lw - rng.uniform(10, 20)
        w.buildings.append(
            Raised(
                f"B{len(w.buildings) + 1}",
                rect(cx, yy, length, 12.0),
                float(rng.uniform(12, 24)),
                str(rng.choice(["roof_concrete", "roof_concrete", "roof_tile"])),
            )
        )
    _trees_along(w, rng, x0 + 3, y1 - 4, x1 - 3, y1 - 4)
    return None


def _lot_factory(w: World, rng: np.random.Generator, lot: tuple[float, ...]) -> Lot | None:
    """One low steel-roofed hall filling most of the lot; nothing left open."""
    x0, y0, x1, y1 = lot
    cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
    lw, lh = x1 - x0, y1 - y0
    w.areas.append(Area("concrete", rect(cx, cy, lw, lh)))
    w.buildings.append(
        Raised(
            f"B{len(w.buildings) + 1}",
            rect(cx, cy + 2, lw - 14, lh - 18),
            float(rng.uniform(7, 11)),
            str(rng.choice(["roof_steel_blue", "roof_steel_grey"])),
        )
    )
    return None


def _lot_courtyard(w: World, rng: np.random.Generator, lot: tuple[float, ...]) -> Lot | None:
    """A narrow building along the west side; the paved yard beside it stays open for new structures."""
    x0, y0, x1, y1 = lot
    cy = (y0 + y1) / 2
    lw, lh = x1 - x0, y1 - y0
    w.areas.append(Area("concrete", rect((x0 + x1) / 2, cy, lw, lh)))
    w.buildings.append(
        Raised(
            f"B{len(w.buildings) + 1}",
            rect(x0 + 10, cy, 12, lh - 12, 0),
            float(rng.uniform(9, 18)),
            "roof_concrete",
        )
    )
    w.areas.append(Area("grass", rect(x0 + (lw + 18) / 2, cy, (lw - 26) * 0.5, lh * 0.4)))
    return (x0 + 22, y0 + 4, x1 - 4, y1 - 4, "paved")


def _lot_parking(w: World, rng: np.random.Generator, lot: tuple[float, ...]) -> Lot | None:
    """Asphalt with rows of stalls (cars are placed per day from these); nothing left open."""
    x0, y0, x1, y1 = lot
    w.areas.append(Area("asphalt", rect((x0 + x1) / 2, (y0 + y1) / 2, x1 - x0, y1 - y0)))
    for row_y in np.arange(y0 + 5, y1 - 4, 12.0):
        for sx in np.arange(x0 + 3, x1 - 3, 2.6):
            w.stalls.append(np.array([sx + 1.3, row_y + 2.5 if (row_y - y0) % 24 < 12 else row_y - 2.5, 90.0]))
    return None


def _lot_lawn(w: World, rng: np.random.Generator, lot: tuple[float, ...]) -> Lot | None:
    """Grass with scattered trees (one per 250 m2); left open."""
    x0, y0, x1, y1 = lot
    lw, lh = x1 - x0, y1 - y0
    w.areas.append(Area("grass", rect((x0 + x1) / 2, (y0 + y1) / 2, lw, lh)))
    for _ in range(int(lw * lh / 250)):
        w.trees.append(
            Tree(
                float(rng.uniform(x0 + 3, x1 - 3)),
                float(rng.uniform(y0 + 3, y1 - 3)),
                float(rng.uniform(2.0, 3.8)),
                float(rng.uniform(6, 11)),
            )
        )
    return (x0, y0, x1, y1, "lawn")


def _lot_bare(w: World, rng: np.random.Generator, lot: tuple[float, ...]) -> Lot | None:
    """Bare dirt with a patch of grass; left open (but never for excavated soil: see `_place_new`)."""
    x0, y0, x1, y1 = lot
    cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
    lw, lh = x1 - x0, y1 - y0
    w.areas.append(Area("dirt", rect(cx, cy, lw, lh)))
    w.areas.append(Area("grass", blob(cx, cy, lw * 0.3, lh * 0.25, rng)))
    return (x0, y0, x1, y1, "bare")


_LOT_USES: dict[str, Callable[[World, np.random.Generator, tuple[float, ...]], Lot | None]] = {
    "apartments": _lot_apartments,
    "factory": _lot_factory,
    "courtyard": _lot_courtyard,
    "parking": _lot_parking,
    "lawn": _lot_lawn,
    "bare": _lot_bare,
}
"""What each lot use builds; each returns the part of the lot left open for new structures, or None."""


def _trees_along(w: World, rng: np.random.Generator, xa: float, ya: float, xb: float, yb: float) -> None:
    n = int(math.hypot(xb - xa, yb - ya) // 7)
    for k in range(n):
        t = (k + 0.5) / max(n, 1)
        w.trees.append(
            Tree(xa + t * (xb - xa), ya + t * (yb - ya), float(rng.uniform(1.8, 2.8)), float(rng.uniform(6, 10)))
        )


def _place_new(
    w: World, rng: np.random.Generator, open_lots: list[Lot], inner: tuple[float, float, float, float]
) -> None:
    """New structures in open lots (clear of buildings and each other), plus one rooftop addition.

    Excavated soil goes on lawns and paving, never on a lot that is bare already: fresh soil on old soil
    differs in depth, not in what a camera sees from 100 m.
    """
    wanted: list[tuple[str, str, str]] = [
        ("roof", "new_roof_blue", "none"),
        ("roof", "new_roof_red", "none"),
        ("roof", "new_roof_white", "none"),
        ("roof", str(rng.choice(["new_roof_teal", "new_roof_grey"])), "none"),
        ("bare_soil", "excavated_soil", "none"),
        ("bare_soil", "excavated_soil", "none"),
        ("dust_net", "dust_net", "none"),
        ("scaffold", "safety_net", "none"),
        ("bare_soil", "excavated_soil", "permitted"),
        ("roof", "new_roof_blue", "pending_review"),
    ]
    placed: list[Array] = []
    lots = _lots_near(open_lots, rng, inner)
    smallest_done = False
    for n, (kind, colour, status) in enumerate(wanted):
        for _ in range(300):
            if not lots:
                break
            lot = lots[int(rng.integers(len(lots)))]
            if kind == "bare_soil" and lot[4] == "bare":
                continue
            ring, height = _draw_new_shape(kind, lot, rng, smallest_done=smallest_done)
            if not _fits(ring, lot, placed, w, inner):
                continue
            if kind == "roof" and status == "none" and not smallest_done:
                smallest_done = True
            placed.append(ring)
            w.new.append(NewStructure(f"N{n + 1}", kind, colour, ring, height, registry=status))
            break
    _add_rooftop_shed(w, rng, inner, f"N{len(wanted) + 1}")


def _lots_near(open_lots: list[Lot], rng: np.random.Generator, inner: tuple[float, float, float, float]) -> list[Lot]:
    """Open lots in a shuffled order, at least 14 m each way and within 20 m of `inner` (the ground both
    flights see whole), so a new structure fits and is seen by both surveys."""
    lots = list(open_lots)
    rng.shuffle(lots)
    lots = [lot for lot in lots if lot[2] - lot[0] > 14 and lot[3] - lot[1] > 14]
    return [
        lot
        for lot in lots
        if lot[0] > inner[0] - 20 and lot[2] < inner[2] + 20 and lot[1] > inner[1] - 20 and lot[3] < inner[3] + 20
    ]


def _draw_new_shape(kind: str, lot: Lot, rng: np.random.Generator, *, smallest_done: bool) -> tuple[Array, float]:
    """A candidate outline and height (m) for a new structure of `kind` in `lot`. The first permitted-less
    roof is the smallest the issue asks for (~31 m2), so every pair tests the size floor."""
    x0, y0, x1, y1, _ = lot
    if kind == "roof":
        if not smallest_done:
            length, width = 6.0, 5.2  # ~31 m2: the smallest size the issue asks for
        else:
            length, width = float(rng.uniform(8, 18)), float(rng.uniform(5, 11))
        ring = rect(
            rng.uniform(x0, x1),
            rng.uniform(y0, y1),
            length,
            width,
            float(rng.choice([0.0, 90.0, rng.uniform(-20, 20)])),
        )
        return ring, float(rng.uniform(2.8, 4.0))
    if kind == "bare_soil":
        rx, ry = float(rng.uniform(4, 11)), float(rng.uniform(4, 10))
        return blob(rng.uniform(x0, x1), rng.uniform(y0, y1), rx, ry, rng), 0.0
    if kind == "dust_net":
        ring = blob(rng.uniform(x0, x1), rng.uniform(y0, y1), float(rng.uniform(5, 10)), float(rng.uniform(4, 9)), rng)
        return ring, 1.0
    ring = rect(rng.uniform(x0, x1), rng.uniform(y0, y1), float(rng.uniform(10, 16)), float(rng.uniform(8, 12)), 0.0)
    return ring, float(rng.uniform(5, 8))


def _add_rooftop_shed(w: World, rng: np.random.Generator, inner: tuple[float, float, float, float], sid: str) -> None:
    """A rooftop addition: a steel shed on a registered apartment roof (the most common 违建). Kept apart from
    the ground structures because it stands on a building (`base_m`) rather than in an open lot."""
    candidates = [b for b in w.buildings if b.roof == "roof_concrete" and _inside(b.ring, inner)]
    if candidates:
        b = candidates[int(rng.integers(len(candidates)))]
        c = b.ring.mean(axis=0)
        ring = rect(float(c[0] + rng.uniform(-6, 6)), float(c[1]), float(rng.uniform(7, 10)), 6.0, 0.0)
        w.new.append(NewStructure(sid, "roof", "new_roof_blue", ring, 2.8, base_m=b.height_m))


def _inside(ring: Array, box: tuple[float, float, float, float]) -> bool:
    return bool(
        ring[:, 0].min() > box[0]
        and ring[:, 0].max() < box[2]
        and ring[:, 1].min() > box[1]
        and ring[:, 1].max() < box[3]
    )


def _fits(ring: Array, lot: Lot, placed: list[Array], w: World, inner: tuple[float, float, float, float]) -> bool:
    x0, y0, x1, y1, _ = lot
    if not _inside(ring, (x0 + 2, y0 + 2, x1 - 2, y1 - 2)) or not _inside(ring, inner):
        return False
    if any(boxes_overlap(ring, p, 12.0) for p in placed):
        return False
    return not any(boxes_overlap(ring, b.ring, 4.0) for b in w.buildings)
