"""Where registered structures with a height make two surveys hard to compare pixel with pixel: the
tall ones composited whole from one keyframe, the ground near tall buildings that a mosaic pieced from
several keyframes (left out of the comparison), and the zone where the comparison searches along
relief (as far as a structure's lean reaches). All read from the registry near the flight's origin.
"""

from __future__ import annotations

import math

import cv2
import numpy as np

from detectors.construction.registry import Registry
from detectors.construction.survey.grid import to_pixels
from detectors.construction.survey.mosaic import Canvas

CUT_REACH_M = 70.0
"""Distance from the nadir point of the farthest ground a keyframe shows (half its diagonal at 100 m)."""
ONE_VIEW_SHARE = 0.95
RELIEF_MARGIN_M = 2.0
"""Added to a registered structure's lean reach where relief is searched (footprints are drawn by hand)."""
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


def cut_buildings(
    registry: Registry, search_radius_m: float, origin: tuple[float, float], previous: Canvas, after: Canvas
) -> np.ndarray:
    """Ground near tall registered buildings that either mosaic shows pieced from several keyframes
    (none saw the whole building: at the edges of a flight). Their walls and roof lean differently in
    each piece, so the two surveys cannot be compared there; it is left out."""
    out = np.zeros(after.window.shape, bool)
    tall = tall_structures(registry, search_radius_m, origin)
    if not tall:
        return out
    to_lattice = after.lattice.enu_to_lattice(*origin)
    h, w = out.shape
    height_m = after.height_m() if math.isfinite(after.height_m()) else 100.0
    for ring, building_h in tall:
        px = to_pixels(after.window, np.asarray(ring) @ to_lattice[:, :2].T + to_lattice[:, 2])
        x, y, bw, bh = cv2.boundingRect(np.round(px).astype(np.int32))
        if x >= w or y >= h or x + bw <= 0 or y + bh <= 0:
            continue
        foot = np.zeros((h, w), np.uint8)
        cv2.fillPoly(foot, [np.round(px).astype(np.int32)], 1)
        sel = foot > 0
        if not sel.any() or (_one_view(previous.view_index[sel]) and _one_view(after.view_index[sel])):
            continue
        reach_px = building_h / max(height_m - building_h, 1.0) * CUT_REACH_M / after.lattice.resolution_m
        k = max(3, round(reach_px))
        out |= cv2.dilate(foot, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * k + 1, 2 * k + 1))) > 0
    return out


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
