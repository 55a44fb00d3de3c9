"""What a new structure is, from how it looks in the later mosaic: roof, bare soil, dust net, scaffold.

No weights: a few measurements of the region in the later survey, and rules in their order of
reliability. These are not colour rules for finding change (change is found by comparison, whatever
the colour); they only name what was found, so an alert says "new roof" rather than "change".

- scaffold: a grey grid. Pipes and planks give strong brightness edges in two perpendicular directions over
  much of the region (roof ribs run one way only), in unsaturated colours (steel, planks, netting). Where the
  tubes are too thin for strong edges (a fraction of a 0.25 m pixel), their faint lines still run the whole
  deck both ways (`lattice.line_energy`) over a deck of one even colour (cars in a row are many colours, with
  strong edges). Strong edges count only where lines run both ways too (a white ribbed roof's rib ends and
  outline give strong edges both ways, its lines run one way).
- bare soil: earth colours (yellow-brown of moderate saturation and lightness). A brown roof is called
  bare soil too; the registry kind differs, the alert does not.
- dust net: green cloth over heaps (防尘网): green with a yellow cast (a teal roof is green with a blue one).
- roof: anything else that is new, whatever its colour (blue and red steel sheet, white, grey, teal).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from enum import StrEnum

import cv2
import numpy as np
from numpy.typing import NDArray

from detectors.construction.registry_entries import StructureKind
from detectors.construction.survey.lattice import NO_LINES, LineEnergy, line_energy


class ChangeKind(StrEnum):
    """What a change between surveys is taken to be."""

    ROOF = "roof"
    BARE_SOIL = "bare_soil"
    DUST_NET = "dust_net"
    SCAFFOLD = "scaffold"


STRUCTURE_OF: dict[ChangeKind, StructureKind] = {
    ChangeKind.ROOF: StructureKind.STEEL_ROOF,
    ChangeKind.BARE_SOIL: StructureKind.EXCAVATION,
    ChangeKind.DUST_NET: StructureKind.EXCAVATION,
    ChangeKind.SCAFFOLD: StructureKind.SCAFFOLD,
}
"""The registry kind a change is matched against (a dust net covers earthworks)."""

GRID_BALANCE_MIN = 0.45
"""Scaffold: edge energy across the strongest direction at least this share of the energy along it, inside the
region (scaffolds on the tuning seeds measured 0.56-1.02, ribbed, white and grey roofs 0.00)."""
GRID_EDGE_DENSITY = 0.1
"""Scaffold: share of interior pixels on a strong edge (pipes ~0.1 m thick every ~1.5 m, blurred at 0.25 m per
pixel: 0.14-0.36 on the tuning seeds)."""
GRID_CHROMA_MAX = 20.0
"""Scaffold: CIELAB chroma at most this (steel pipes, planks and netting over a slab are greyish; a blue steel
roof whose ribs and edges balance is far more saturated)."""
LATTICE_MINOR_MIN = 8.0
"""Scaffold (faint lattice): line energy (`lattice.line_energy`, grey levels) of the weaker direction at least
this: the tubes across the deck. Regions on development seeds 41-52: scaffold decks 10.7-18.5, soil and dust
nets under 8; coloured roofs can reach it with their edges (GRID_CHROMA_MAX keeps them roofs)."""
LATTICE_BALANCE_MIN = 0.5
"""Scaffold (faint lattice): weaker over stronger line direction at least this. Decks 0.59-0.99; white ribbed
roofs, whose outline crosses their ribs, 0.38-0.55 (the one at 0.55 is still named scaffold)."""
LATTICE_MAJOR_MAX = 30.0
"""Scaffold (faint lattice): line energy of the stronger direction at most this. The rule is for tubes too thin
to give strong edges (decks 12-26); groups of parked cars, dark or white on asphalt, reach 47."""
LATTICE_SPREAD_MAX = 20.0
"""Scaffold (faint lattice): robust CIELAB spread of the region at most this: one deck of planks and tubes, with
the netting on its sides, is even in colour (decks 4.9-18.3, the high end one seen with two netted sides);
groups of parked cars with lines both ways are many colours (mostly 20-43)."""
EDGE_STRENGTH = 60.0
"""Sobel magnitude (grey levels) of a strong edge."""
INTERIOR_PX = 4
"""Edges are measured this many pixels (1 m at 0.25 m) inside the region's outline."""
EARTH_A = (0.0, 22.0)
EARTH_B = (8.0, 35.0)
EARTH_L = (20.0, 65.0)
"""Bare soil: CIELAB a*, b* and L* ranges of earth (yellow-brown, not saturated, neither dark nor bright). a* down
to 0: soil seen under a cool white balance measured a* 2 on the tuning seeds."""
GREEN_A_MAX = -15.0
GREEN_B_MIN = 5.0
"""Dust net: CIELAB a* at most (green) and b* at least (a yellow, not a blue, green)."""


@dataclass(frozen=True)
class KindEvidence:
    """The measurements behind a kind (kept in the alert's reasons)."""

    kind: ChangeKind
    colour_spread: float
    edge_density: float
    grid_balance: float
    a_star: float
    b_star: float
    lightness: float
    lines: LineEnergy = NO_LINES


def classify(
    bgr: NDArray[np.uint8], lab: NDArray[np.float32], inside: NDArray[np.bool_], cell_m: float
) -> KindEvidence:
    """Name one region from its pixels in the later mosaic (`inside` marks the region's pixels, `cell_m`
    metres per pixel)."""
    pix = lab[inside]
    if len(pix) == 0:
        return KindEvidence(ChangeKind.BARE_SOIL, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0)
    spread = colour_spread(pix)
    med = np.median(pix, axis=0)
    edge_density, balance = grid_edges(bgr, inside)
    lines = line_energy(bgr, inside, cell_m)
    lightness, a_star, b_star = (float(v) for v in med)
    # Strong edges both ways name a scaffold only where lines run across the region both ways too: the rib
    # ends, wall and outline of a white ribbed roof give strong edges both ways, its lines run one way.
    strong_grid = is_grid(edge_density, balance) and lines.balance >= LATTICE_BALANCE_MIN
    grid = strong_grid or is_lattice(lines, spread)
    if grid and math.hypot(a_star, b_star) <= GRID_CHROMA_MAX:
        kind = ChangeKind.SCAFFOLD
    elif (
        EARTH_A[0] <= a_star <= EARTH_A[1]
        and EARTH_B[0] <= b_star <= EARTH_B[1]
        and EARTH_L[0] <= lightness <= EARTH_L[1]
    ):
        kind = ChangeKind.BARE_SOIL
    elif a_star <= GREEN_A_MAX and b_star >= GREEN_B_MIN:
        kind = ChangeKind.DUST_NET
    else:
        kind = ChangeKind.ROOF
    return KindEvidence(kind, spread, edge_density, balance, a_star, b_star, lightness, lines)


def colour_spread(lab_pixels: NDArray[np.float32]) -> float:
    """Robust spread (CIELAB units, 1.4826 x median distance from the median colour) of a region's pixels."""
    if len(lab_pixels) == 0:
        return 0.0
    med = np.median(lab_pixels, axis=0)
    return float(np.median(np.linalg.norm(lab_pixels - med, axis=1))) * 1.4826


def is_lattice(lines: LineEnergy, spread: float) -> bool:
    """Faint lines running both ways across a deck of one colour: a scaffold's tubes over its planks."""
    return (
        lines.minor >= LATTICE_MINOR_MIN
        and lines.major <= LATTICE_MAJOR_MAX
        and lines.balance >= LATTICE_BALANCE_MIN
        and spread <= LATTICE_SPREAD_MAX
    )


def grid_edges(bgr: NDArray[np.uint8], inside: NDArray[np.bool_]) -> tuple[float, float]:
    """(share of interior pixels on a strong edge, `grid_balance` of those edges) of one region's pixels."""
    grey = cv2.cvtColor(bgr, cv2.COLOR_BGR2GRAY).astype(np.float32)
    gx = cv2.Sobel(grey, cv2.CV_32F, 1, 0, ksize=3)
    gy = cv2.Sobel(grey, cv2.CV_32F, 0, 1, ksize=3)
    mag = np.hypot(gx, gy)
    # The interior only: a plain roof's outline and leaning walls are edges too, a scaffold's grid fills it.
    core = cv2.erode(inside.astype(np.uint8), np.ones((2 * INTERIOR_PX + 1,) * 2, np.uint8)).astype(bool)
    if core.sum() < 50:
        core = cv2.erode(inside.astype(np.uint8), np.ones((3, 3), np.uint8)).astype(bool)
    if not core.any():
        return 0.0, 0.0
    density = float((mag[core] > EDGE_STRENGTH).mean())
    return density, grid_balance(gx[core], gy[core], mag[core], EDGE_STRENGTH)


def is_grid(edge_density: float, balance: float) -> bool:
    """Edges dense enough and running both ways: a scaffold's pipes and planks."""
    return edge_density >= GRID_EDGE_DENSITY and balance >= GRID_BALANCE_MIN


def grid_balance(gx: NDArray[np.float32], gy: NDArray[np.float32], mag: NDArray[np.float32], strength: float) -> float:
    """How evenly edges above `strength` run in two perpendicular directions (1: a square grid; 0: one
    direction only, like roof ribs, or none)."""
    sel = mag > strength
    if sel.sum() < 20:
        return 0.0
    angle = np.mod(np.arctan2(gy[sel], gx[sel]), math.pi)  # edge normal, 0..pi
    hist, _ = np.histogram(angle, bins=12, range=(0.0, math.pi), weights=mag[sel])
    best = int(np.argmax(hist))
    other = (best + 6) % 12
    first = hist[best] + 0.5 * (hist[(best - 1) % 12] + hist[(best + 1) % 12])
    second = hist[other] + 0.5 * (hist[(other - 1) % 12] + hist[(other + 1) % 12])
    return float(second / first) if first > 0 else 0.0
