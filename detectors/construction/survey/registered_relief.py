"""Where registered structures with a height make two surveys hard to compare pixel with pixel: the
tall ones composited whole from one keyframe, the ground near tall buildings that a mosaic pieced from
several keyframes (left out of the comparison where they can lean, not learnt from around them), and the
zone where the comparison searches along
relief (as far as a structure's lean reaches). All read from the registry near the flight's origin.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import cv2
import numpy as np
from numpy.typing import NDArray

from detectors.construction.registry import Registry
from detectors.construction.survey.grid import to_pixels
from detectors.construction.survey.mosaic import Canvas

CUT_REACH_M = 70.0
"""Distance from the nadir point of the farthest ground a keyframe shows (half its diagonal at 100 m)."""
ONE_VIEW_SHARE = 0.95
RELIEF_MARGIN_M = 2.0
"""Added to a registered structure's lean reach where relief is searched (footprints are drawn by hand)."""
LEAN_STEP_M = 1.0
"""Spacing along a building's lean at which its footprint is traced (under a wall's thickness on the ground)."""
TALL_M = 4.0
"""Registered structures at least this tall are composited whole from one keyframe."""


def tall_structures(
    registry: Registry, search_radius_m: float, origin: tuple[float, float]
) -> list[tuple[np.ndarray, float]]:
    """Registered structures with a height near the flight (taken whole from one keyframe each)."""
    if not registry.entries:
        return []
    local = registry.local(origin[0], origin[1], search_radius_m)
    return [
        (ring, float(e.height_m))
        for e, ring in zip(local.entries, local.rings, strict=True)
        if e.height_m is not None and e.height_m >= TALL_M
    ]


@dataclass(frozen=True)
class CutZones:
    """Ground near tall registered buildings that the two mosaics cannot compare ground with ground."""

    leaned: NDArray[np.bool_]
    """Where such a building's walls or roof can stand in either mosaic: not compared."""
    near: NDArray[np.bool_]
    """Everything within the building's farthest lean (`CUT_REACH_M`): compared, not learnt from."""
    one_sided: NDArray[np.bool_]
    """Ground the later mosaic shows where the earlier one shows a building taken whole from one keyframe in
    each (`hidden_before`): never scored as change, but learnt from and kept as ground around a change."""


def cut_buildings(
    registry: Registry, search_radius_m: float, origin: tuple[float, float], previous: Canvas, after: Canvas
) -> CutZones:
    """Ground near tall registered buildings that either mosaic shows pieced from several keyframes
    (none saw the whole building: at the edges of a flight). Their walls and roof lean differently in
    each piece, so the two surveys cannot be compared where they lean: that is left out (`lean_cover` in
    each mosaic, with `RELIEF_MARGIN_M`). Ground on the other sides, which no piece shows covered, is
    compared: a disc as wide as the farthest lean all round left new structures beside such buildings
    unseen (development seeds 106, 115, 120, 125).

    A building taken whole from one keyframe in each mosaic leans by a different amount in each: where the
    earlier mosaic shows its wall or roof and the later one ground, the ground can only look changed (a 14 m
    building leaning 7.5 m further west before than after made the lawn along its west side a "new roof" of
    239 m2, merged with a permitted excavation beside it: development seed 67). That strip is left out of the
    scores (`CutZones.one_sided`) but stays ground that is learnt from and that surrounds a change
    (leaving it out of both turned a lit wall beside such a strip, listed `removed` as like the pavement around
    it, into a "new roof": development seed 61); where both mosaics show the building (its roof: a rooftop
    addition) it is compared."""
    near = np.zeros(after.window.shape, bool)
    leaned = np.zeros_like(near)
    one_sided = np.zeros_like(near)
    tall = tall_structures(registry, search_radius_m, origin)
    if not tall:
        return CutZones(leaned, near, one_sided)
    to_lattice = after.lattice.enu_to_lattice(*origin)
    h, w = near.shape
    height_m = after.height_m() if math.isfinite(after.height_m()) else 100.0
    margin_px = _px(RELIEF_MARGIN_M, after)
    margin = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * margin_px + 1,) * 2)
    for ring, building_h in tall:
        px = to_pixels(after.window, np.asarray(ring) @ to_lattice[:, :2].T + to_lattice[:, 2])
        x, y, bw, bh = cv2.boundingRect(np.round(px).astype(np.int32))
        if x >= w or y >= h or x + bw <= 0 or y + bh <= 0:
            continue
        # Everything per building is done in a box around it that holds its footprint and lean (the cover grown
        # by the margin reaches past it): whole-canvas arrays per building were most of this function's time.
        k = max(3, _px(building_h / max(height_m - building_h, 1.0) * CUT_REACH_M, after))
        box = x0, y0, x1, y1 = max(0, x - k), max(0, y - k), min(w, x + bw + k), min(h, y + bh + k)
        foot = np.zeros((y1 - y0, x1 - x0), np.uint8)
        cv2.fillPoly(foot, [np.round(px).astype(np.int32)], 1, offset=(-x0, -y0))
        sel = foot > 0
        if not sel.any():
            continue
        before_cover = lean_cover(foot, previous, building_h, box)
        after_cover = lean_cover(foot, after, building_h, box)
        if _one_view(previous.view_index[y0:y1, x0:x1][sel]) and _one_view(after.view_index[y0:y1, x0:x1][sel]):
            one_sided[y0:y1, x0:x1] |= hidden_before(before_cover, after_cover)
            continue
        near[y0:y1, x0:x1] |= cv2.dilate(foot, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * k + 1,) * 2)) > 0
        gx0, gy0 = max(0, x0 - margin_px), max(0, y0 - margin_px)
        gx1, gy1 = min(w, x1 + margin_px), min(h, y1 + margin_px)
        cover = np.zeros((gy1 - gy0, gx1 - gx0), np.uint8)
        cover[y0 - gy0 : y1 - gy0, x0 - gx0 : x1 - gx0] = before_cover | after_cover
        leaned[gy0:gy1, gx0:gx1] |= cv2.dilate(cover, margin) > 0
    return CutZones(leaned & near, near, one_sided)


def hidden_before(before_cover: NDArray[np.bool_], after_cover: NDArray[np.bool_]) -> NDArray[np.bool_]:
    """Ground the later mosaic shows where the earlier one can show a building (`lean_cover`): nothing on it
    can be compared. Not grown by a margin: 2 m more left of a new white roof in a new shadow beside such a
    building no part unlike the ground around it, so it was listed `removed` (development seed 69). The other
    way round (the later mosaic shows the building where the earlier one shows ground) the relief search finds
    the earlier roof along the lean, and a rooftop addition there is change: leaving that side out too lost a
    new shed on a roof (development seed 75)."""
    out: NDArray[np.bool_] = before_cover & ~after_cover
    return out


def lean_cover(
    foot: NDArray[np.uint8], canvas: Canvas, building_h: float, box: tuple[int, int, int, int]
) -> NDArray[np.bool_]:
    """Where, in `box` (x0, y0, x1, y1 of the canvas), the canvas can show the building standing on `foot` (its
    footprint drawn in that box, which must hold it): a pixel p seen from nadir N shows what stands z up over
    p - (z / H)(p - N) (H: the camera's height), so it shows the building when that point lies in its footprint
    for some z up to the building's height. Both arrays are the box's shape."""
    x0, y0, x1, y1 = box
    out = np.zeros((max(0, y1 - y0), max(0, x1 - x0)), bool)
    height_m = canvas.height_m()
    if x1 <= x0 or y1 <= y0 or not math.isfinite(height_m):
        return out
    nadir = canvas.nadir_px(box)
    gx, gy = np.meshgrid(np.arange(x0, x1, dtype=np.float32), np.arange(y0, y1, dtype=np.float32))
    away_x, away_y = gx - nadir[..., 0], gy - nadir[..., 1]
    seen = np.isfinite(away_x) & np.isfinite(away_y)
    away_x, away_y = np.where(seen, away_x, 0.0), np.where(seen, away_y, 0.0)
    t_max = min(building_h / height_m, 1.0)
    reach_px = t_max * float(np.hypot(away_x, away_y).max(initial=0.0))
    steps = max(1, math.ceil(reach_px / _px(LEAN_STEP_M, canvas)))
    # The footprint sits at the box's corner in a canvas-sized frame of reference, so that the lean is traced in
    # canvas pixels (as the nadir points are) and the remap offset by the box's corner.
    src = cv2.copyMakeBorder(foot.astype(np.float32), y0, 0, x0, 0, cv2.BORDER_CONSTANT, value=0)
    for i in range(steps + 1):
        t = t_max * i / steps
        map_x, map_y = (gx - t * away_x).astype(np.float32), (gy - t * away_y).astype(np.float32)
        out |= cv2.remap(src, map_x, map_y, cv2.INTER_NEAREST, borderMode=cv2.BORDER_CONSTANT, borderValue=0) > 0
    out &= seen
    return out


def _px(distance_m: float, canvas: Canvas) -> int:
    return max(1, round(distance_m / canvas.lattice.resolution_m))


def relief_zone(
    registry: Registry, search_radius_m: float, origin: tuple[float, float], after: Canvas
) -> np.ndarray | None:
    """Where the comparison searches along relief for things up to `max_relief_height_m`: around
    registered structures with a height, as far as their lean reaches (elsewhere only up to
    `run.OPEN_GROUND_RELIEF_M`). None (search everywhere) when the registry knows no heights.

    Searching everywhere lets a new structure on open ground match like-coloured ground metres away
    (a white roof the pavement, soil a sandy lot), and two flights' nadir points can lie a survey
    line apart. The price: an unregistered tall thing (a tree, an unrecorded building) that leans
    differently in the two flights is compared pixel with pixel and can show up as change."""
    if not registry.entries:
        return None
    local = registry.local(origin[0], origin[1], search_radius_m)
    raised = [
        (ring, float(e.height_m))
        for e, ring in zip(local.entries, local.rings, strict=True)
        if e.height_m is not None and e.height_m > 0
    ]
    if not raised:
        return None
    to_lattice = after.lattice.enu_to_lattice(*origin)
    h, w = after.window.shape
    out = np.zeros((h, w), np.uint8)
    height_m = after.height_m() if math.isfinite(after.height_m()) else 100.0
    for ring, building_h in raised:
        px = np.round(to_pixels(after.window, np.asarray(ring) @ to_lattice[:, :2].T + to_lattice[:, 2]))
        x, y, bw, bh = cv2.boundingRect(px.astype(np.int32))
        reach_px = (building_h / max(height_m - building_h, 1.0) * CUT_REACH_M + RELIEF_MARGIN_M) / (
            after.lattice.resolution_m
        )
        k = max(1, math.ceil(reach_px))
        if x >= w + k or y >= h + k or x + bw <= -k or y + bh <= -k:
            continue
        foot = np.zeros((h, w), np.uint8)
        cv2.fillPoly(foot, [px.astype(np.int32)], 1)
        x0, y0, x1, y1 = max(0, x - k), max(0, y - k), min(w, x + bw + k), min(h, y + bh + k)
        disc = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * k + 1, 2 * k + 1))
        out[y0:y1, x0:x1] |= np.asarray(cv2.dilate(foot[y0:y1, x0:x1], disc), np.uint8)
    return out > 0


def _one_view(index: np.ndarray) -> bool:
    """Whether (nearly) all of these pixels came from one keyframe."""
    if index.size == 0:
        return True
    counts = np.bincount(index[index >= 0] + 0) if (index >= 0).any() else np.zeros(1)
    return bool(counts.max(initial=0) >= ONE_VIEW_SHARE * index.size)
