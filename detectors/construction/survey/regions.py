"""From a change map to candidate structures: cells above the threshold, cleaned, cut into regions.

Cells scoring above `threshold` form a mask; an opening with a disc of `min_width_m` removes what is
thinner than that everywhere (rings where a shadow's edge moved, slivers along leaning walls, a line of
cars), a small closing joins the parts of one structure, holes are filled, and each connected part of
`min_area_m2` or more is a region. A region is kept as *new* only when at least `min_area_m2` of it,
`min_width_m` wide, is unlike every main colour of the unchanged ground around it in the later survey
(by `min_contrast`, or as that ground in shade), or like one of them but was another of them in the earlier
survey (`ground_like`: a grey roof on a lawn beside a grey yard), or when it is a large new grid (a scaffold).
A scaffold deck the colour of the ground changes only its tube lattice, which the opening removes: such decks
are proposed on their own (`decks.lattice_decks`) and join the mask.
A car that left, a shadow gone or a roof demolished leave ground that looks like its surroundings, and a row
of parked cars has ground between the cars: they are listed as `removed`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import cv2
import numpy as np
from numpy.typing import NDArray

from detectors.construction.survey.change import ChangeMap
from detectors.construction.survey.classify import colour_spread, grid_edges, is_grid, is_lattice
from detectors.construction.survey.config import ChangeConfig
from detectors.construction.survey.decks import disc, lattice_decks
from detectors.construction.survey.lattice import line_energy

CLOSE_M = 0.5
"""Gaps up to about twice this inside one structure are closed (kept below the 0.7 m between parked cars)."""
SHADE_HUE = 6.0
"""Darker than the ground with a hue this close to it is the ground in shade (a car's shadow between cars)."""
SHADE_DARKER_L = 10.0
"""... and darker by at least this much CIELAB lightness (a shadow takes a third or more of the light; a white
roof beside brighter pavement is only a little darker than it)."""
SHADE_WARMER_B_MAX = 2.0
"""... and yellower than the ground (CIELAB b*) by at most this much: shade is lit by the sky, bluer than the
sun, so ground in shade keeps or loses yellow. Excavated soil in a tall building's new shadow beside a pavement
(development seed 83: 45 L* darker, 3 b* yellower at its median) was otherwise taken for the pavement in shade,
left 24 m2 of its 109 m2 unlike the ground and was listed removed; with this, 100 m2 (40 m2 at 3.0, 36 at
4.0). Wet grey ground darkens and can turn a little yellower: such a patch is no longer taken for the ground in
shade here (it must still score as change and be min_area_m2 unlike the ground elsewhere)."""
GROUP_M = 3.0
GRID_MIN_AREA_SHARE = 2.4
"""A new grid counts as a whole only for regions this many times min_area_m2 (60 m2: larger than the
rows of parked cars seen, 20-53 m2, whose edges look like a grid too)."""
GRID_EDGES_BEFORE_SHARE = 0.5
"""A new grid (`classify.is_grid` in the later view) had at most this share of its strong edges before (and a
new lattice, `classify.is_lattice`, at most this share of its weaker lines' energy)."""
"""Changed parts closer than this are one region."""
MIXED_RIM_CELLS = 1
"""Cells along a structure's outline mix it with the ground beside it (the mosaic's resampling and the camera's
blur spread an edge over about one 0.25 m pixel), so they match neither: the part unlike the ground is grown
back by this rim inside the region before it is measured. Without it a 5 x 6 m roof (30 m2, the smallest
structure the survey must find) keeps only (5 - 0.5) x (6 - 0.5) = 25 m2 unlike the ground, and one
shaded or blended edge pixel more drops it under min_area_m2."""
HUE_CHROMA_MIN = 10.0
"""Hue angles are compared only where both colours have at least this CIELAB chroma: the hue of pavement,
concrete and grey shade is noise."""
RING_MODES = 3
MODE_SHARE = 0.2
RING_M = 3.0
"""Width of the band around a region taken as its surroundings."""


@dataclass(frozen=True)
class Region:
    """One connected changed area, in comparison cells of its `ChangeMap`."""

    label: int
    mask: NDArray[np.bool_]
    """Cells of the region inside `box` (rows, cols of the cell grid)."""
    box: tuple[int, int, int, int]
    """(x0, y0, x1, y1) cells, exclusive end."""
    area_m2: float
    centroid_cells: tuple[float, float]
    outline_cells: NDArray[np.float64]
    width_m: float
    """Twice the largest distance from inside the region to its edge."""
    mean_score: float
    peak_score: float
    chroma_share: float
    """Share of its cells whose chromatic change alone passes the threshold."""
    after_contrast: float
    """CIELAB distance between the region and its surroundings, later survey."""
    before_contrast: float
    """The same in the earlier survey."""
    fill_ratio: float
    """Area over the area of its minimum rotated rectangle (1 for a rectangular roof)."""
    solid_m2: float
    """Area of the part that stands out from the surrounding ground in the later survey and is at least
    `min_width_m` wide there: a row of parked cars has ground between the cars and keeps almost none."""
    ground_after_lab: tuple[float, float, float] | None
    """Median CIELAB colour of the unchanged ground within `RING_M` around it in the later survey (None when
    none is seen). Kept here so that rules reading the surroundings do not rebuild the band."""


def _stats(labels: NDArray[np.int32], n: int) -> tuple[NDArray[np.int64], NDArray[np.float64]]:
    """Bounding boxes, areas (cv2's CC_STAT layout) and centroids of labels 1..n-1."""
    stats = np.zeros((n, 5), np.int64)
    centroids = np.zeros((n, 2))
    ys, xs = np.nonzero(labels)
    lab = labels[ys, xs]
    if len(lab) == 0:
        return stats, centroids
    count = np.bincount(lab, minlength=n)
    stats[:, cv2.CC_STAT_AREA] = count
    x0 = np.full(n, np.iinfo(np.int64).max)
    y0 = np.full(n, np.iinfo(np.int64).max)
    x1 = np.full(n, -1)
    y1 = np.full(n, -1)
    np.minimum.at(x0, lab, xs)
    np.minimum.at(y0, lab, ys)
    np.maximum.at(x1, lab, xs)
    np.maximum.at(y1, lab, ys)
    has = count > 0
    stats[has, cv2.CC_STAT_LEFT] = x0[has]
    stats[has, cv2.CC_STAT_TOP] = y0[has]
    stats[has, cv2.CC_STAT_WIDTH] = x1[has] - x0[has] + 1
    stats[has, cv2.CC_STAT_HEIGHT] = y1[has] - y0[has] + 1
    centroids[has, 0] = np.bincount(lab, weights=xs, minlength=n)[has] / count[has]
    centroids[has, 1] = np.bincount(lab, weights=ys, minlength=n)[has] / count[has]
    return stats, centroids


def _fill_holes(mask: NDArray[np.uint8]) -> NDArray[np.uint8]:
    contours, _ = cv2.findContours(mask, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
    out = np.zeros_like(mask)
    cv2.drawContours(out, contours, -1, 1, thickness=cv2.FILLED)
    return out


def changed_mask(change: ChangeMap, config: ChangeConfig) -> NDArray[np.uint8]:
    """Cells above the threshold, opened by the minimum width, closed a little, holes filled; and scaffold
    decks seen only as their tube lattice (`decks.lattice_decks`)."""
    cell = change.cell_m
    raw = change.changed(config.threshold)
    opened = cv2.morphologyEx(raw, cv2.MORPH_OPEN, disc(config.min_width_m / 2 / cell))
    closed = cv2.morphologyEx(opened, cv2.MORPH_CLOSE, disc(CLOSE_M / cell))
    out: NDArray[np.uint8] = _fill_holes(np.asarray(closed, np.uint8)) & change.valid.astype(np.uint8)
    # A scaffold deck the colour of the ground changes only where its tubes are: that lattice of lines does not
    # survive the opening, so it is proposed on its own when it is a compact, new, regular lattice (decks.py).
    out |= lattice_decks(change, raw, out, config)
    return out


def extract(change: ChangeMap, config: ChangeConfig) -> list[Region]:
    """Connected changed areas between `min_area_m2` and `max_area_m2`, with what describes them."""
    cell = change.cell_m
    mask = changed_mask(change, config)
    # Parts of one structure a shadow or a seam cut apart are one region: group what lies within GROUP_M.
    grouped = cv2.dilate(mask, disc(GROUP_M / 2 / cell))
    n, groups = cv2.connectedComponents(grouped, connectivity=8)
    labels = np.where(mask > 0, groups, 0).astype(np.int32)
    stats, centroids = _stats(labels, n)
    cell_area = cell * cell
    ring_kernel = disc(RING_M / cell)
    out: list[Region] = []
    h, w = mask.shape
    for label in range(1, n):
        area = float(stats[label, cv2.CC_STAT_AREA]) * cell_area
        if not config.min_area_m2 <= area <= config.max_area_m2:
            continue
        x, y, bw, bh = (int(v) for v in stats[label, :4])
        pad = math.ceil(RING_M / cell) + 1
        x0, y0, x1, y1 = max(0, x - pad), max(0, y - pad), min(w, x + bw + pad), min(h, y + bh + pad)
        sub = labels[y0:y1, x0:x1] == label
        ring = cv2.dilate(sub.astype(np.uint8), ring_kernel).astype(bool) & ~sub & change.valid[y0:y1, x0:x1]
        ring &= change.score[y0:y1, x0:x1] < config.threshold / 2  # unchanged ground only
        contours, _ = cv2.findContours(sub.astype(np.uint8), cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
        contour = cv2.convexHull(np.concatenate(contours)) if len(contours) > 1 else contours[0]
        outline = contour.reshape(-1, 2).astype(np.float64) + np.array([x0, y0], np.float64)
        dist = cv2.distanceTransform(np.pad(sub.astype(np.uint8), 1), cv2.DIST_L2, 5)
        rect_w, rect_h = cv2.minAreaRect(contour)[1]
        score = change.score[y0:y1, x0:x1][sub]
        chroma = change.chroma[y0:y1, x0:x1][sub]
        ground = np.median(change.after_lab[y0:y1, x0:x1][ring], axis=0) if ring.any() else None
        out.append(
            Region(
                label=label,
                mask=sub,
                box=(x0, y0, x1, y1),
                area_m2=area,
                centroid_cells=(float(centroids[label, 0]), float(centroids[label, 1])),
                outline_cells=outline,
                width_m=2.0 * float(dist.max()) * cell,
                mean_score=float(score.mean()),
                peak_score=float(score.max()),
                chroma_share=float((chroma >= config.threshold).mean()),
                after_contrast=_contrast(change.after_lab[y0:y1, x0:x1], sub, ring, ground),
                before_contrast=_contrast(change.before_lab[y0:y1, x0:x1], sub, ring),
                fill_ratio=float(sub.sum()) / max(rect_w * rect_h, 1.0),
                solid_m2=max(
                    _solid_area(
                        change.after_lab[y0:y1, x0:x1], change.before_lab[y0:y1, x0:x1], sub, ring, config, cell
                    ),
                    _new_grid_area(change, (x0, y0, x1, y1), sub, area, config),
                ),
                ground_after_lab=None if ground is None else (float(ground[0]), float(ground[1]), float(ground[2])),
            )
        )
    return out


def ground_modes(lab: NDArray[np.float32], ring: NDArray[np.bool_]) -> NDArray[np.float32]:
    """The main colours of the ground around a region (up to `RING_MODES`, each covering at least
    `MODE_SHARE` of the band): a region on the edge of a lawn and a pavement has both around it."""
    pixels = np.ascontiguousarray(lab[ring], np.float32)
    k = min(RING_MODES, len(pixels))
    if k <= 1:
        out: NDArray[np.float32] = (
            np.median(pixels, axis=0, keepdims=True) if len(pixels) else np.zeros((0, 3), np.float32)
        )
        return out
    cv2.setRNGSeed(11)
    crit = (cv2.TERM_CRITERIA_EPS + cv2.TERM_CRITERIA_MAX_ITER, 20, 0.5)
    _, raw_labels, raw_centres = cv2.kmeans(
        pixels, k, np.zeros((len(pixels), 1), np.int32), crit, 2, cv2.KMEANS_PP_CENTERS
    )
    centres = np.asarray(raw_centres, np.float32)
    labels = np.asarray(raw_labels, np.int32)
    share = np.bincount(labels.ravel(), minlength=k) / len(pixels)
    keep = centres[share >= MODE_SHARE]
    out = keep if len(keep) else centres[[int(np.argmax(share))]]
    return np.asarray(out, np.float32)


def near_ground_colour(
    lab: NDArray[np.float32], colour: NDArray[np.float32], config: ChangeConfig
) -> NDArray[np.bool_]:
    """Cells within `min_contrast` of a ground colour, or that ground in shade (darker, same hue, not yellower:
    `SHADE_WARMER_B_MAX`), unless their hue angle is `ground_hue_max_deg` or more off a coloured ground's.

    Shade, wet and the season darken and desaturate grass but keep its hue angle; a teal dust net lying in the
    shade of trees on a lawn comes within min_contrast of the shaded grass (11.5 CIELAB on development seed 119)
    while its hue is 26-35 degrees off, and without the hue test the whole net was taken for grass in shade.
    """
    diff = lab - colour
    hue_shift = np.hypot(diff[..., 1], diff[..., 2])
    near = np.linalg.norm(diff, axis=2) < config.min_contrast
    in_shade = (diff[..., 0] < -SHADE_DARKER_L) & (hue_shift < SHADE_HUE) & (diff[..., 2] <= SHADE_WARMER_B_MAX)
    out: NDArray[np.bool_] = near | in_shade
    if config.ground_hue_max_deg > 0 and math.hypot(float(colour[1]), float(colour[2])) >= HUE_CHROMA_MIN:
        turn = np.arctan2(lab[..., 2], lab[..., 1]) - math.atan2(float(colour[2]), float(colour[1]))
        off_deg = np.degrees(np.abs((turn + math.pi) % (2 * math.pi) - math.pi))
        chroma = np.hypot(lab[..., 1], lab[..., 2])
        out &= ~((chroma >= HUE_CHROMA_MIN) & (off_deg >= config.ground_hue_max_deg))
    return out


def ground_like(
    lab: NDArray[np.float32], before_lab: NDArray[np.float32], ring: NDArray[np.bool_], config: ChangeConfig
) -> NDArray[np.bool_]:
    """Cells that look like the ground around them in the later survey (`ground_modes`, or in shade), less
    those that changed ground class: like one main colour of the band now, but in the earlier survey like
    another of its classes and unlike this one as it looked then (the band's cells of this class, seen in
    the earlier survey). A grey roof built on a lawn beside a grey pavement looks like the pavement now,
    but was lawn; a car gone or a shadow gone leaves the ground the band's same class shows on both days,
    and a lawn yellowing with the lawn around it stays in its class."""
    modes = ground_modes(lab, ring)
    out = np.zeros(lab.shape[:2], bool)
    if len(modes) == 0:
        return out
    ring_now, ring_then = lab[ring], before_lab[ring]
    nearest = np.argmin(((ring_now[:, None, :] - modes[None, :, :]) ** 2).sum(axis=2), axis=1)
    then = [np.median(ring_then[nearest == j], axis=0) if (nearest == j).any() else modes[j] for j in range(len(modes))]
    was = [near_ground_colour(before_lab, np.asarray(c, np.float32), config) for c in then]
    for j, mode in enumerate(modes):
        other_class = np.zeros_like(out)
        for k in range(len(modes)):
            if k != j:
                other_class |= was[k]
        out |= near_ground_colour(lab, mode, config) & ~(other_class & ~was[j])
    return out


def _solid_area(
    lab: NDArray[np.float32],
    before_lab: NDArray[np.float32],
    inside: NDArray[np.bool_],
    ring: NDArray[np.bool_],
    config: ChangeConfig,
    cell_m: float,
) -> float:
    """Area of the region's cells unlike the ground around it (`ground_like`), after an opening by the
    minimum width, grown back by `MIXED_RIM_CELLS` within the region."""
    if not ring.any():
        return float(inside.sum()) * cell_m * cell_m
    solid = (inside & ~ground_like(lab, before_lab, ring, config)).astype(np.uint8)
    solid = np.asarray(cv2.morphologyEx(solid, cv2.MORPH_OPEN, disc(config.min_width_m / 2 / cell_m)), np.uint8)
    rim = np.ones((2 * MIXED_RIM_CELLS + 1,) * 2, np.uint8)
    grown = cv2.dilate(solid, rim).astype(bool) & inside
    return float(grown.sum()) * cell_m * cell_m


def _new_grid_area(
    change: ChangeMap, box: tuple[int, int, int, int], inside: NDArray[np.bool_], area_m2: float, config: ChangeConfig
) -> float:
    """A large region whose later view is dense with edges where the earlier one had few (a scaffold's pipes
    and planks over a slab, whatever their colour against the ground) is a thing as a whole."""
    if area_m2 < GRID_MIN_AREA_SHARE * config.min_area_m2:
        return 0.0
    x0, y0, x1, y1 = box
    after, balance = grid_edges(change.after_bgr[y0:y1, x0:x1], inside)
    before, _ = grid_edges(change.before_bgr[y0:y1, x0:x1], inside)
    if is_grid(after, balance) and before <= GRID_EDGES_BEFORE_SHARE * after:
        return area_m2
    # Tubes too thin for strong edges: faint lines both ways over an even deck, where there were none.
    lines = line_energy(change.after_bgr[y0:y1, x0:x1], inside, change.cell_m)
    if not is_lattice(lines, colour_spread(change.after_lab[y0:y1, x0:x1][inside])):
        return 0.0
    before_lines = line_energy(change.before_bgr[y0:y1, x0:x1], inside, change.cell_m)
    return area_m2 if before_lines.minor <= GRID_EDGES_BEFORE_SHARE * lines.minor else 0.0


def _contrast(
    lab: NDArray[np.float32],
    inside: NDArray[np.bool_],
    ring: NDArray[np.bool_],
    ring_median: NDArray[np.float32] | None = None,
) -> float:
    """Distance between the median colours inside and in the surrounding band (CIELAB units); the band's
    median is taken when already known."""
    if not inside.any() or not ring.any():
        return 0.0
    a = np.median(lab[inside], axis=0)
    b = np.median(lab[ring], axis=0) if ring_median is None else ring_median
    return float(np.linalg.norm(a - b))
