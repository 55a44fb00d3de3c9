"""A registered building seen leaning another way: a change that is parallax, not a structure.

A registered structure `h` tall, seen from a camera `H` above the ground whose nadir point is N, shows
each roof point P moved away from N by h / (H - h) of (P - N) (at 100 m, a 20 m building 25 m off nadir
leans 6 m); between its footprint and the moved roof are its walls, and the ground behind them is hidden.
The two surveys see a building from different places (the mosaic repaints it whole from the keyframe
nearest the earlier view, but flight lines and frame times differ by metres), so along its edges one
survey shows roof where the other shows wall, or wall where the other shows ground. Those strips change
between the surveys, yet nothing was built there, and where the later survey shows ground or a pale wall
they look like the unchanged ground around them.

A change is taken for that (`ChangeStatus.PARALLAX`, not alerted) when at least `parallax_min_share` of
it lies where the two surveys show a registered building with a height differently (its roof, or its
roof and walls together, moved by each survey's lean; grown by `parallax_margin_m` for registration error
and hand-drawn footprints), and its median colour in the later survey is within `parallax_max_contrast`
of the unchanged ground around it. A new roof or soil heap built in such a strip has its own colour in the
later survey and is still alerted; one the colour of the ground around it is not told from parallax.

Only the later survey's colour is read: a new structure there looked like the ground in the earlier
survey just as hidden ground does. Measured on dev seeds 41-52, 61, 75 and 112: the changes this drops
look like the ground around them (CIELAB 1.1 from it: a lit wall now in the shade of its building, seed 43);
the new structures lying partly in such strips (22-46 % of them) stand 49-60 from it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import cv2
import numpy as np
from numpy.typing import NDArray

from detectors.construction.local_registry import LocalRegistry
from detectors.construction.survey.config import ChangeConfig
from detectors.construction.survey.grid import to_pixels
from detectors.construction.survey.mosaic import Canvas
from detectors.construction.survey.regions import Region


@dataclass(frozen=True)
class Leaning:
    """A registered structure with a height as each survey shows it, in comparison cells."""

    footprint: NDArray[np.float64]
    """(N, 2) outline on the ground."""
    roof_before: NDArray[np.float64]
    """The outline moved by the earlier survey's lean (where its roof shows there)."""
    roof_after: NDArray[np.float64]


def _lean(footprint_px: NDArray[np.float64], height_m: float, canvas: Canvas) -> NDArray[np.float64] | None:
    """Where the roof of a footprint (canvas pixels) shows in a canvas: moved away from the nadir point of
    the view that painted the footprint's centre by height / (camera height - height). None when no view
    saw it."""
    h, w = canvas.window.shape
    cx, cy = (round(float(v)) for v in footprint_px.mean(axis=0))
    if not (0 <= cx < w and 0 <= cy < h):
        return None
    view = int(canvas.view_index[cy, cx])
    if view < 0 or view >= len(canvas.views):
        return None
    nadir = to_pixels(canvas.window, canvas.views[view : view + 1, :2])[0]
    camera_m = float(canvas.views[view, 2])
    if not (math.isfinite(camera_m) and camera_m > height_m > 0):
        return None
    out: NDArray[np.float64] = footprint_px + (footprint_px - nadir) * height_m / (camera_m - height_m)
    return out


def leaning_structures(
    registry: LocalRegistry, origin: tuple[float, float], previous: Canvas, after: Canvas, factor: int
) -> list[Leaning]:
    """Registered structures with a height on the compared canvases (same lattice window), each with its
    roof as either survey shows it, in cells of `factor` mosaic pixels."""
    to_lattice = after.lattice.enu_to_lattice(*origin)
    out: list[Leaning] = []
    for entry, ring in zip(registry.entries, registry.rings, strict=True):
        height = entry.height_m
        if height is None or not height > 0 or len(ring) < 3:
            continue
        px = to_pixels(after.window, np.asarray(ring) @ to_lattice[:, :2].T + to_lattice[:, 2])
        before, later = _lean(px, float(height), previous), _lean(px, float(height), after)
        if before is None or later is None:
            continue
        cells = [(p + 0.5) / factor - 0.5 for p in (px, before, later)]
        out.append(Leaning(cells[0], cells[1], cells[2]))
    return out


def _fill(
    shape: tuple[int, int], offset: tuple[int, int], points: NDArray[np.float64], hull: bool
) -> NDArray[np.bool_]:
    """Cells of a box (at `offset`) inside a polygon, or inside the convex hull of points."""
    out = np.zeros(shape, np.uint8)
    pts = np.round(points - offset).astype(np.int32)
    if hull:
        cv2.fillConvexPoly(out, cv2.convexHull(pts), 1)
    else:
        cv2.fillPoly(out, [pts], 1)
    return out > 0


def lean_zone(region: Region, structures: list[Leaning], cell_m: float, margin_m: float) -> NDArray[np.bool_]:
    """Cells of the region's box where either survey shows a registered building other than by its roof in
    both: its walls, and what its lean covers in one survey only (grown by `margin_m`). Where both show
    its roof (a rooftop addition stands there) is left out."""
    x0, y0, x1, y1 = region.box
    shape = (y1 - y0, x1 - x0)
    pad = math.ceil(margin_m / cell_m) + 1
    out = np.zeros(shape, bool)
    for s in structures:
        pts = np.vstack([s.footprint, s.roof_before, s.roof_after])
        if pts[:, 0].max() < x0 - pad or pts[:, 0].min() >= x1 + pad:
            continue
        if pts[:, 1].max() < y0 - pad or pts[:, 1].min() >= y1 + pad:
            continue
        roof_before = _fill(shape, (x0, y0), s.roof_before, hull=False)
        roof_after = _fill(shape, (x0, y0), s.roof_after, hull=False)
        whole_before = _fill(shape, (x0, y0), np.vstack([s.footprint, s.roof_before]), hull=True)
        whole_after = _fill(shape, (x0, y0), np.vstack([s.footprint, s.roof_after]), hull=True)
        out |= (whole_before | whole_after) & ~(roof_before & roof_after)
    if margin_m > 0 and out.any():
        r = max(1, round(margin_m / cell_m))
        disc = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * r + 1, 2 * r + 1))
        out = cv2.dilate(out.astype(np.uint8), disc) > 0
    return out


def is_parallax(region: Region, structures: list[Leaning], cell_m: float, config: ChangeConfig) -> bool:
    """Whether a change lies where the two surveys show a registered building differently because of its
    lean and looks like the ground around it in the later survey (see the module docstring)."""
    if not structures or config.parallax_max_contrast <= 0:
        return False
    cells = float(region.mask.sum())
    if cells == 0:
        return False
    zone = lean_zone(region, structures, cell_m, config.parallax_margin_m)
    if float((region.mask & zone).sum()) / cells < config.parallax_min_share:
        return False
    return region.after_contrast <= config.parallax_max_contrast
