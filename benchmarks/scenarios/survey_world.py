"""The survey generator's world model: what is on the ground of a procedural city quarter, and what differs
between two days over it.

A `World` is laid out once per seed (`survey_layout.build_world`): a road grid, blocks of apartment rows,
factory sheds with steel roofs, courtyards, parking lots, lawns with trees and bare lots. The after survey
adds new structures (`NewStructure`): roofs of several colours (on the ground, and one on top of a
building), excavated soil, green dust nets over soil, and a scaffold wrapped in safety netting. A `Day` is
what differs between two flights over the same ground: where the cars are parked, the sun (shadow direction
and length), exposure and white balance, the season of the vegetation, and wet patches after rain.

Its look on a day is painted by `survey_ground.ground_texture` from this generator's own palette
(`survey_materials`); the renderer (`survey.py`) re-draws raised things at their height with their walls.
Nothing here is, or must become, a copy of anything in `detectors/`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
from numpy.typing import NDArray

Array = NDArray[np.float64]
Image = NDArray[np.uint8]

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


def boxes_overlap(a: Array, b: Array, gap: float) -> bool:
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
