"""The survey generator's ground: a procedural city quarter, its materials, and its look on a given day.

A `World` is laid out once per seed: a road grid, blocks of apartment rows, factory sheds with steel
roofs, courtyards, parking lots, lawns with trees and bare lots. The after survey adds new structures
(`NewStructure`): roofs of several colours (on the ground, and one on top of a building), excavated
soil, green dust nets over soil, and a scaffold wrapped in safety netting. A `Day` is what differs
between two flights over the same ground: where the cars are parked, the sun (shadow direction and
length), exposure and white balance, the season of the vegetation, and wet patches after rain.

`ground_texture(world, day)` paints the ground as seen from straight above at `world.cell_m` metres per
pixel, shadows included; roofs of raised things are painted there too and re-drawn at their height by
the renderer (`survey.py`), which also draws their walls.

The palette below is this generator's own (sampled by eye from aerial photographs of Zhengzhou); it is
not, and must not become, a copy of any colour rule in `detectors/`.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field

import cv2
import numpy as np
from numpy.typing import NDArray

Array = NDArray[np.float64]
Image = NDArray[np.uint8]

# BGR base colours of the materials (this generator's palette).
PALETTE: dict[str, tuple[int, int, int]] = {
    "asphalt": (92, 90, 86),
    "concrete": (158, 163, 166),
    "sidewalk": (150, 158, 170),
    "grass": (52, 112, 78),
    "dirt": (104, 128, 150),
    "tree": (40, 78, 48),
    "roof_concrete": (140, 146, 150),
    "roof_tile": (58, 72, 150),
    "roof_steel_blue": (170, 110, 52),
    "roof_steel_grey": (186, 186, 180),
    "wall": (150, 160, 172),
    "new_roof_blue": (185, 98, 30),
    "new_roof_red": (45, 70, 185),
    "new_roof_white": (228, 230, 228),
    "new_roof_teal": (130, 140, 40),
    "new_roof_grey": (120, 118, 112),
    "excavated_soil": (72, 100, 128),
    "dust_net": (70, 125, 45),
    "scaffold_pipe": (175, 185, 190),
    "scaffold_plank": (80, 120, 160),
    "safety_net": (80, 140, 40),
}
CAR_COLOURS: tuple[tuple[int, int, int], ...] = (
    (235, 235, 235),
    (30, 30, 32),
    (170, 172, 175),
    (40, 40, 170),
    (150, 80, 30),
    (120, 120, 120),
    (210, 215, 220),
)
NEW_KINDS = ("roof", "bare_soil", "dust_net", "scaffold")
"""What the after survey may add (and what a change detector should call them)."""


# -- small geometry --------------------------------------------------------------------------------------


def rect(cx: float, cy: float, length: float, width: float, angle_deg: float = 0.0) -> Array:
    """Counter-clockwise corners of a rectangle: `length` along `angle_deg` (from east, counter-clockwise)."""
    a = math.radians(angle_deg)
    u = np.array([math.cos(a), math.sin(a)]) * length / 2
    v = np.array([-math.sin(a), math.cos(a)]) * width / 2
    c = np.array([cx, cy])
    return np.array([c - u - v, c + u - v, c + u + v, c - u + v])


def blob(cx: float, cy: float, rx: float, ry: float, rng: np.random.Generator, n: int = 14) -> Array:
    """An irregular convex-ish outline (a spoil heap, a netted mound)."""
    t = np.sort(rng.uniform(0, 2 * math.pi, n))
    r = rng.uniform(0.85, 1.0, n)
    return np.column_stack([cx + rx * r * np.cos(t), cy + ry * r * np.sin(t)])


def ring_area(ring: Array) -> float:
    x, y = ring[:, 0], ring[:, 1]
    return float(0.5 * abs(np.dot(x, np.roll(y, -1)) - np.dot(np.roll(x, -1), y)))


def _boxes_overlap(a: Array, b: Array, gap: float) -> bool:
    return not (
        a[:, 0].max() + gap < b[:, 0].min()
        or b[:, 0].max() + gap < a[:, 0].min()
        or a[:, 1].max() + gap < b[:, 1].min()
        or b[:, 1].max() + gap < a[:, 1].min()
    )


# -- what is on the ground -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Area:
    """A flat land-cover polygon: asphalt, concrete, sidewalk, grass, dirt."""

    material: str
    ring: Array


@dataclass(frozen=True)
class Raised:
    """Something with height: a building, a shed, a new roof or scaffold. Roof painted from `roof`."""

    id: str
    ring: Array
    height_m: float
    roof: str
    base_m: float = 0.0
    wall: str = "wall"


@dataclass(frozen=True)
class Tree:
    x: float
    y: float
    radius_m: float
    height_m: float


@dataclass(frozen=True)
class NewStructure:
    """Something the after survey holds that the before survey does not."""

    id: str
    kind: str
    """One of NEW_KINDS."""
    colour: str
    """Palette name of its dominant material (the detector's kind rules must not read this)."""
    ring: Array
    height_m: float
    """Height of its top above what it stands on (0 for flat soil)."""
    base_m: float = 0.0
    """Height of what it stands on (a building's roof for a rooftop addition)."""
    registry: str = "none"
    """none (must be alerted), permitted or pending_review (must not be)."""

    @property
    def area_m2(self) -> float:
        return ring_area(self.ring)

    @property
    def centre(self) -> Array:
        out: Array = self.ring.mean(axis=0)
        return out


@dataclass
class World:
    """Everything that stays put between surveys, plus the new structures of the after survey."""

    seed: int
    x0: float
    y0: float
    x1: float
    y1: float
    cell_m: float
    areas: list[Area] = field(default_factory=list)
    buildings: list[Raised] = field(default_factory=list)
    trees: list[Tree] = field(default_factory=list)
    stalls: list[Array] = field(default_factory=list)
    """Parking stall centres with their heading: (x, y, angle_deg)."""
    new: list[NewStructure] = field(default_factory=list)

    @property
    def size_px(self) -> tuple[int, int]:
        return round((self.x1 - self.x0) / self.cell_m), round((self.y1 - self.y0) / self.cell_m)

    def to_px(self, xy: Array) -> Array:
        p = np.asarray(xy, np.float64).reshape(-1, 2)
        out: Array = np.column_stack([(p[:, 0] - self.x0) / self.cell_m, (self.y1 - p[:, 1]) / self.cell_m])
        return out

    def tex_to_world(self) -> Array:
        """3x3 affine: texture pixel (u, v, 1) -> world (x, y, 1)."""
        c = self.cell_m
        return np.array([[c, 0.0, self.x0], [0.0, -c, self.y1], [0.0, 0.0, 1.0]])


@dataclass(frozen=True)
class Day:
    """What one flight's day looks like."""

    name: str
    seed: int
    sun_azimuth_deg: float
    sun_elevation_deg: float
    exposure: float
    white_balance: tuple[float, float, float]
    autumn: float
    """0: summer green; 1: fully yellowed vegetation (varies across the ground)."""
    wet_patches: int
    car_occupancy: float
    with_new: bool


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
    if any(_boxes_overlap(ring, p, 12.0) for p in placed):
        return False
    return not any(_boxes_overlap(ring, b.ring, 4.0) for b in w.buildings)


# -- materials -------------------------------------------------------------------------------------------


def noise(rng: np.random.Generator, h: int, w: int, scale_px: float, octaves: int = 3) -> NDArray[np.float32]:
    """Smooth value noise in about [-1, 1], features of about `scale_px` pixels and finer octaves."""
    out = np.zeros((h, w), np.float32)
    amp, total = 1.0, 0.0
    s = max(scale_px, 1.0)
    for _ in range(octaves):
        gh, gw = max(2, int(h / s) + 2), max(2, int(w / s) + 2)
        grid = rng.uniform(-1, 1, (gh, gw)).astype(np.float32)
        out += amp * cv2.resize(grid, (w, h), interpolation=cv2.INTER_CUBIC)
        total += amp
        amp *= 0.5
        s /= 2.5
    return out / total


def material(name: str, h: int, w: int, rng: np.random.Generator, cell_m: float) -> NDArray[np.float32]:
    """A BGR float texture (0-255) of one material, `h` x `w` pixels at `cell_m` metres per pixel."""
    base = np.array(PALETTE[name], np.float32)
    px_per_m = 1.0 / cell_m
    grain = rng.normal(0, 1, (h, w)).astype(np.float32)
    if name in ("grass", "tree"):
        shade = 1.0 + 0.18 * noise(rng, h, w, 3 * px_per_m) + 0.06 * grain
    elif name in ("dirt", "excavated_soil"):
        shade = 1.0 + 0.14 * noise(rng, h, w, 2 * px_per_m) + 0.08 * grain
    elif name == "asphalt":
        shade = 1.0 + 0.05 * noise(rng, h, w, 4 * px_per_m) + 0.05 * grain
    else:
        shade = 1.0 + 0.06 * noise(rng, h, w, 5 * px_per_m) + 0.03 * grain
    tex = base[None, None, :] * shade[..., None]
    if name.startswith(("roof_steel", "new_roof")) and name != "new_roof_grey":
        ribs = 0.85 + 0.15 * np.cos(2 * math.pi * np.arange(w) * cell_m / 0.6).astype(np.float32)
        tex *= ribs[None, :, None]
    elif name == "excavated_soil":
        tracks = (np.sin(2 * math.pi * np.arange(h) * cell_m / 1.7)[:, None] > 0.8) * (
            noise(rng, h, w, 6 * px_per_m) > 0
        )
        tex *= 1.0 - 0.25 * tracks[..., None].astype(np.float32)
    elif name == "safety_net":
        # A scaffold seen from above: a slab with a grid of steel pipes and rows of planks.
        slab = np.array(PALETTE["excavated_soil"], np.float32) * 0.5 + np.array(PALETTE["concrete"], np.float32) * 0.5
        tex = slab[None, None, :] * shade[..., None]
        yy, xx = np.mgrid[0:h, 0:w]
        step = max(3, round(1.5 * px_per_m))
        pipes = (xx % step < max(1, round(0.12 * px_per_m))) | (yy % step < max(1, round(0.12 * px_per_m)))
        planks = (yy % (2 * step)) < round(0.6 * px_per_m)
        tex[planks] = np.array(PALETTE["scaffold_plank"], np.float32) * shade[planks][:, None]
        tex[pipes] = np.array(PALETTE["scaffold_pipe"], np.float32)
    elif name == "dust_net":
        yy, xx = np.mgrid[0:h, 0:w]
        mesh = ((xx % max(2, round(0.5 * px_per_m)) == 0) | (yy % max(2, round(0.5 * px_per_m)) == 0)).astype(
            np.float32
        )
        folds = noise(rng, h, w, 2.5 * px_per_m, octaves=1)
        tex *= (1.0 + 0.12 * mesh + 0.2 * folds)[..., None]
    return np.clip(tex, 0, 255)


# -- painting a day --------------------------------------------------------------------------------------


def _fill(canvas: NDArray[np.float32], mask: Image, tex: NDArray[np.float32]) -> None:
    m = mask.astype(bool)
    canvas[m] = tex[m]


def _mark(w: World, mask: Image, ring: Array) -> None:
    """Set a polygon to 1 in a full-size mask, in place."""
    cv2.fillPoly(mask, [np.round(w.to_px(ring) * 16).astype(np.int32)], 1, lineType=cv2.LINE_8, shift=4)


def _scale_inside(w: World, canvas: NDArray[np.float32], ring: Array, gain: float, offset: float) -> None:
    """canvas = canvas * gain + offset inside a small polygon."""
    px = w.to_px(ring)
    x0, y0 = np.maximum(np.floor(px.min(axis=0)).astype(int), 0)
    x1, y1 = np.ceil(px.max(axis=0)).astype(int) + 1
    sub = canvas[y0:y1, x0:x1]
    if sub.size == 0:
        return
    m = np.zeros(sub.shape[:2], np.uint8)
    cv2.fillPoly(m, [np.round((px - (x0, y0)) * 16).astype(np.int32)], 1, lineType=cv2.LINE_8, shift=4)
    sel = m.astype(bool)
    sub[sel] = sub[sel] * gain + offset


def _paint_region(w: World, canvas: NDArray[np.float32], ring: Array, name: str, rng: np.random.Generator) -> None:
    """Paint a material inside a polygon (texture generated for the polygon's bounding box only)."""
    px = w.to_px(ring)
    hgt, wid = canvas.shape[:2]
    x0, y0 = np.floor(px.min(axis=0)).astype(int)
    x1, y1 = np.ceil(px.max(axis=0)).astype(int) + 1
    x0, y0, x1, y1 = max(x0, 0), max(y0, 0), min(x1, wid), min(y1, hgt)
    if x1 <= x0 or y1 <= y0:
        return
    mask = np.zeros((y1 - y0, x1 - x0), np.uint8)
    cv2.fillPoly(mask, [np.round((px - (x0, y0)) * 16).astype(np.int32)], 1, lineType=cv2.LINE_8, shift=4)
    tex = material(name, y1 - y0, x1 - x0, rng, w.cell_m)
    _fill(canvas[y0:y1, x0:x1], mask, tex)


def _markings(w: World, canvas: NDArray[np.float32]) -> None:
    """Dashed lane lines along the roads (white paint)."""
    for area in w.areas:
        if area.material != "asphalt":
            continue
        r = area.ring
        length = np.linalg.norm(r[1] - r[0])
        width = np.linalg.norm(r[3] - r[0])
        if length < 200 or width > 30:
            continue
        a, b = (r[0] + r[3]) / 2, (r[1] + r[2]) / 2
        d = (b - a) / length
        for s in np.arange(0, length, 9.0):
            p, q = w.to_px(np.array([a + d * s, a + d * (s + 4.5)]))
            cv2.line(
                canvas,
                tuple(np.round(p).astype(int)),
                tuple(np.round(q).astype(int)),
                (225, 228, 230),
                max(1, round(0.15 / w.cell_m)),
            )


def ground_texture(w: World, day: Day) -> tuple[Image, NDArray[np.bool_]]:
    """The ground of `day` from straight above (BGR, `w.cell_m` m/px), and the mask of raised roofs.

    Static materials come from the world's seed, so both days share them exactly; cars, wet patches,
    seasonal colour and shadows come from the day.
    """
    canvas, veg = _static_ground(w)
    raised = [*w.buildings]
    if day.with_new:
        raised += _paint_new_structures(w, canvas)
    for b in w.buildings:
        cv2.fillPoly(veg, [np.round(w.to_px(b.ring) * 16).astype(np.int32)], 0, lineType=cv2.LINE_8, shift=4)
    if day.with_new:
        for s in w.new:
            cv2.fillPoly(veg, [np.round(w.to_px(s.ring) * 16).astype(np.int32)], 0, lineType=cv2.LINE_8, shift=4)
    veg_f = veg.astype(np.float32)
    day_rng = np.random.default_rng(day.seed)
    cars = _cars(w, day, day_rng)
    for ring, colour in cars:
        cv2.fillPoly(canvas, [np.round(w.to_px(ring) * 16).astype(np.int32)], colour, lineType=cv2.LINE_8, shift=4)
        _scale_inside(w, canvas, _shrink(ring, 0.35, 0.3), 0.35, 15.0)
    if day.autumn > 0:
        canvas = _autumn_colour(w, day, canvas, veg_f, day_rng)
    if day.wet_patches:
        canvas = _wet_patches(w, day, canvas, veg_f, day_rng)
    roofs = np.zeros(veg.shape, np.uint8)
    for thing in raised:
        _mark(w, roofs, thing.ring)
    lit = roofs.copy()
    for ring, _ in cars:
        _mark(w, lit, ring)
    shadow = _shadow_mask(w, day, raised, cars) * (1 - lit.astype(np.float32))
    tint = np.array([0.55, 0.47, 0.42], np.float32)
    canvas = canvas * (1 - shadow[..., None] * (1 - tint))
    return np.clip(canvas, 0, 255).astype(np.uint8), roofs.astype(bool)


def _static_ground(w: World) -> tuple[NDArray[np.float32], Image]:
    """Areas, road markings, trees and building roofs (float BGR canvas), and the vegetation mask.

    Everything here draws from one generator seeded by the world alone, in a fixed order, so the before
    and after days get the very same pixels where nothing changed."""
    wid, hgt = w.size_px
    canvas = np.zeros((hgt, wid, 3), np.float32)
    rng = np.random.default_rng(w.seed * 7919 + 1)
    for area in w.areas:
        _paint_region(w, canvas, area.ring, area.material, rng)
    _markings(w, canvas)
    veg = np.zeros((hgt, wid), np.uint8)
    for area in w.areas:
        if area.material == "grass":
            _mark(w, veg, area.ring)
    for t in w.trees:
        c = w.to_px(np.array([[t.x, t.y]]))[0]
        r = t.radius_m / w.cell_m
        tex = material("tree", int(2 * r) + 3, int(2 * r) + 3, rng, w.cell_m)
        m = np.zeros(tex.shape[:2], np.uint8)
        cv2.circle(m, (int(r) + 1, int(r) + 1), int(r), 1, -1)
        _paste(canvas, veg, tex, m, int(c[0] - r - 1), int(c[1] - r - 1))
    for b in w.buildings:
        _paint_region(w, canvas, b.ring, b.roof, rng)
    return canvas, veg


def _paint_new_structures(w: World, canvas: NDArray[np.float32]) -> list[Raised]:
    """Paint the new structures (from their own generator, so adding them leaves the static ground as it
    was); returns those with height (roofs, scaffolds) as raised things for walls and shadows."""
    rng_new = np.random.default_rng(w.seed * 7919 + 2)
    raised: list[Raised] = []
    for s in w.new:
        if s.kind == "bare_soil":
            _paint_region(w, canvas, s.ring, "excavated_soil", rng_new)
        elif s.kind == "dust_net":
            _paint_region(w, canvas, s.ring, "dust_net", rng_new)
        else:
            raised.append(
                Raised(
                    s.id,
                    s.ring,
                    s.height_m,
                    s.colour,
                    base_m=s.base_m,
                    wall="safety_net" if s.kind == "scaffold" else "wall",
                )
            )
            _paint_region(w, canvas, s.ring, s.colour, rng_new)
    return raised


def _autumn_colour(
    w: World, day: Day, canvas: NDArray[np.float32], veg_f: NDArray[np.float32], day_rng: np.random.Generator
) -> NDArray[np.float32]:
    """Vegetation yellowed by `day.autumn`, unevenly (40 m noise): change a detector must not call construction."""
    hgt, wid = veg_f.shape
    strength = np.clip(day.autumn * (0.75 + 0.35 * noise(day_rng, hgt // 8, wid // 8, 40 / w.cell_m / 8, 2)), 0, 1)
    strength = cv2.resize(strength, (wid, hgt)) * veg_f
    autumn_colour = np.array([60, 140, 150], np.float32)
    luminance = canvas.mean(axis=2, keepdims=True) / 95.0
    out: NDArray[np.float32] = canvas * (1 - strength[..., None]) + autumn_colour * luminance * strength[..., None]
    return out


def _wet_patches(
    w: World, day: Day, canvas: NDArray[np.float32], veg_f: NDArray[np.float32], day_rng: np.random.Generator
) -> NDArray[np.float32]:
    """Darker, more saturated blobs on paving and soil after rain: another change that is not construction."""
    hgt, wid = veg_f.shape
    wet = np.zeros((hgt, wid), np.float32)
    for _ in range(day.wet_patches):
        cx, cy = day_rng.uniform(w.x0 + 40, w.x1 - 40), day_rng.uniform(w.y0 + 40, w.y1 - 40)
        rx, ry = (float(v) for v in day_rng.uniform(3, 12, 2))
        patch = blob(float(cx), float(cy), rx, ry, day_rng)
        cv2.fillPoly(wet, [np.round(w.to_px(patch)).astype(np.int32)], 1.0)
    wet = cv2.GaussianBlur(wet, (0, 0), 0.6 / w.cell_m) * (1 - veg_f)
    grey = canvas.mean(axis=2, keepdims=True)
    wetted = (grey + (canvas - grey) * 1.3) * 0.62
    out: NDArray[np.float32] = canvas * (1 - wet[..., None]) + wetted * wet[..., None]
    return out


def raised_of(w: World, day: Day) -> list[Raised]:
    """Everything with height on `day` (buildings, and new roofs and scaffolds after)."""
    out = [*w.buildings]
    if day.with_new:
        out += [
            Raised(
                s.id,
                s.ring,
                s.height_m,
                s.colour,
                base_m=s.base_m,
                wall="safety_net" if s.kind == "scaffold" else "wall",
            )
            for s in w.new
            if s.kind in ("roof", "scaffold")
        ]
    return out


def _paste(canvas: NDArray[np.float32], veg: Image, tex: NDArray[np.float32], mask: Image, x: int, y: int) -> None:
    h, w = mask.shape
    hh, ww = canvas.shape[:2]
    if x < 0 or y < 0 or x + w > ww or y + h > hh:
        return
    m = mask.astype(bool)
    canvas[y : y + h, x : x + w][m] = tex[m]
    veg[y : y + h, x : x + w][m] = 1


def _shrink(ring: Array, along: float, across: float) -> Array:
    c = ring.mean(axis=0)
    u = (ring[1] - ring[0]) / 2
    v = (ring[3] - ring[0]) / 2
    return np.array(
        [
            c - u * along - v * (1 - across),
            c + u * along - v * (1 - across),
            c + u * along + v * (1 - across),
            c - u * along + v * (1 - across),
        ]
    )


def _cars(w: World, day: Day, rng: np.random.Generator) -> list[tuple[Array, tuple[int, int, int]]]:
    """Cars parked in a share of the stalls and along the kerbs of the roads, different each day."""
    out = []
    for s in w.stalls:
        if rng.random() < day.car_occupancy:
            jitter = rng.normal(0, 0.15, 2)
            out.append(
                (
                    rect(s[0] + jitter[0], s[1] + jitter[1], 4.6, 1.85, s[2] + rng.normal(0, 2)),
                    CAR_COLOURS[int(rng.integers(len(CAR_COLOURS)))],
                )
            )
    for area in w.areas:
        if area.material != "asphalt":
            continue
        r = area.ring
        length = float(np.linalg.norm(r[1] - r[0]))
        width = float(np.linalg.norm(r[3] - r[0]))
        if length < 200 or width > 30:
            continue
        d = (r[1] - r[0]) / length
        n = (r[3] - r[0]) / width
        angle = math.degrees(math.atan2(d[1], d[0]))
        for side in (0.12, 0.88):
            for along in np.arange(5, length - 5, 6.0):
                if rng.random() < day.car_occupancy * 0.5:
                    p = r[0] + d * float(along) + n * width * side
                    out.append((rect(p[0], p[1], 4.6, 1.85, angle), CAR_COLOURS[int(rng.integers(len(CAR_COLOURS)))]))
    return out


def _shadow_mask(
    w: World, day: Day, raised: list[Raised], cars: list[tuple[Array, tuple[int, int, int]]]
) -> NDArray[np.float32]:
    """Where the ground is in shadow (0..1, soft edge): raised things, trees and cars cast it away from the sun."""
    wid, hgt = w.size_px
    mask = np.zeros((hgt, wid), np.uint8)
    az = math.radians(day.sun_azimuth_deg)
    away = -np.array([math.sin(az), math.cos(az)]) / math.tan(math.radians(day.sun_elevation_deg))

    def cast(ring: Array, height: float) -> None:
        pts = np.vstack([ring, ring + away * height])
        hull = cv2.convexHull(np.round(w.to_px(pts) * 16).astype(np.int32))
        cv2.fillConvexPoly(mask, hull, 1, lineType=cv2.LINE_8, shift=4)

    for r in raised:
        if r.base_m == 0:
            cast(r.ring, r.height_m)
    for t in w.trees:
        ang = np.linspace(0, 2 * math.pi, 16, endpoint=False)
        crown = np.column_stack([t.x + t.radius_m * np.cos(ang), t.y + t.radius_m * np.sin(ang)])
        pts = np.vstack([crown + away * t.height_m * 0.6, crown + away * t.height_m])
        cv2.fillConvexPoly(
            mask, cv2.convexHull(np.round(w.to_px(pts) * 16).astype(np.int32)), 1, lineType=cv2.LINE_8, shift=4
        )
    for ring, _ in cars:
        cast(ring, 1.5)
    soft = np.asarray(cv2.GaussianBlur(mask.astype(np.float32), (0, 0), 0.25 / w.cell_m), np.float32)
    # The cast shadow of a raised thing falls beside it; under its own roof the roof is drawn later.
    return soft
