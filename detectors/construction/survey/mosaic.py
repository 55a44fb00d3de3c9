"""A flight's ground mosaic on the district lattice: keyframes aligned by features and blended.

`build_mosaic` places every keyframe on a canvas (a window of the lattice around the flight) through
its telemetry homography, aligns the keyframes by features (`align.py`, to the previous mosaic too when
one is given), and composites them: each canvas pixel comes from the keyframe that sees it closest to
its image centre, i.e. most nearly straight down, where roofs lean least. The result is a BGR image of
`resolution_m` pixels with a validity mask and the lattice window it occupies, georeferenced by the
lattice (`grid.py`).
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass

import cv2
import numpy as np
from numpy.typing import NDArray

from detectors.construction.survey.align import (
    Alignment,
    Tie,
    adjust,
    detect,
    detect_tiled,
    fall_back_to_telemetry,
    match,
)
from detectors.construction.survey.config import AlignmentConfig
from detectors.construction.survey.grid import Lattice, Window, to_pixels
from detectors.construction.survey.keyframes import INSET, Keyframe, footprint_m

log = logging.getLogger(__name__)

MARGIN_PX = 16
PREVIOUS_TILE_PX = 384
"""Tile of feature detection on a previous mosaic (~100 m at 0.25 m): features spread over all of it."""


@dataclass(frozen=True)
class Canvas:
    """A lattice window with an image on it (BGR), where the image holds data, and where each pixel was
    seen from: `view_index` per pixel into `views` (lattice col, row of the camera's nadir point, and the
    camera's height above ground in metres), -1 where no view. Relief leans away from that nadir point."""

    lattice: Lattice
    window: Window
    image: NDArray[np.uint8]
    valid: NDArray[np.bool_]
    view_index: NDArray[np.int32]
    views: NDArray[np.float64]

    @property
    def area_m2(self) -> float:
        return float(self.valid.sum()) * self.lattice.resolution_m**2

    def nadir_px(self, box: tuple[int, int, int, int] | None = None) -> NDArray[np.float32]:
        """(H, W, 2): per pixel, the nadir point of the view it came from, in this canvas's pixels; NaN where
        no view. `box` (x0, y0, x1, y1) gives only those pixels: a building's lean is traced near it, and
        building the whole canvas's table for each of a survey's tall buildings took about a fifth of its
        comparison time."""
        index = self.view_index if box is None else self.view_index[box[1] : box[3], box[0] : box[2]]
        if len(self.views) == 0:
            return np.zeros((*index.shape, 2), np.float32)
        table = to_pixels(self.window, self.views[:, :2]).astype(np.float32)
        out: NDArray[np.float32] = table[np.clip(index, 0, None)]
        out[index < 0] = np.nan
        return out

    def height_m(self) -> float:
        """The typical camera height of the views (for relief)."""
        return float(np.median(self.views[:, 2])) if len(self.views) else math.nan

    def cut(self, window: Window) -> Canvas | None:
        """This canvas cut (or padded) to another window of the same lattice; None when they do not meet."""
        inter = self.window.intersect(window)
        if inter is None:
            return None
        image = np.zeros((*window.shape, 3), np.uint8)
        valid = np.zeros(window.shape, bool)
        index = np.full(window.shape, -1, np.int32)
        dst, src = window.slices(inter), self.window.slices(inter)
        image[dst] = self.image[src]
        valid[dst] = self.valid[src]
        index[dst] = self.view_index[src]
        if not valid.any():
            return None
        return Canvas(self.lattice, window, image, valid, index, self.views)


@dataclass(frozen=True)
class Mosaic:
    """A flight's mosaic and how it was made."""

    canvas: Canvas
    keyframes: int
    alignment: Alignment
    captured_from: float
    captured_to: float
    keyframe_seq: tuple[int, ...]
    keyframe_times: tuple[float, ...]


def flight_window(keyframes: list[Keyframe], to_lattice: NDArray[np.float64], lattice: Lattice) -> Window:
    """The lattice window holding every keyframe's footprint."""
    pts = np.concatenate([footprint_m(k) for k in keyframes])
    cr = pts @ to_lattice[:, :2].T + to_lattice[:, 2]
    return Window.around(cr, MARGIN_PX)


def canvas_homographies(
    keyframes: list[Keyframe], to_lattice: NDArray[np.float64], window: Window
) -> list[NDArray[np.float64]]:
    """Per keyframe, 3x3: shrunk-image pixel -> canvas pixel (telemetry only)."""
    a = np.vstack([to_lattice, [0.0, 0.0, 1.0]])
    shift = np.array([[1.0, 0.0, -(window.col0 + 0.5)], [0.0, 1.0, -(window.row0 + 0.5)], [0.0, 0.0, 1.0]])
    return [shift @ a @ k.to_enu for k in keyframes]


def build_mosaic(
    keyframes: list[Keyframe],
    origin: tuple[float, float],
    lattice: Lattice,
    config: AlignmentConfig,
    previous: Canvas | None = None,
    window: Window | None = None,
    tall: list[tuple[NDArray[np.float64], float]] | None = None,
) -> Mosaic:
    """Align and composite keyframes on the lattice; `previous` (same lattice) anchors the alignment.

    `tall` lists known tall things (outline in the flight's metres, height): each is taken whole from the
    one keyframe that sees it most nearly from above, so no seam cuts through a building and its roof
    (and what stands on it) is neither doubled nor lost where two keyframes lean it differently.
    """
    to_lattice = lattice.enu_to_lattice(*origin)
    win = window or flight_window(keyframes, to_lattice, lattice)
    homs = canvas_homographies(keyframes, to_lattice, win)
    px_m = lattice.resolution_m
    feats = [detect(k.image, h, config.features_per_frame) for k, h in zip(keyframes, homs, strict=True)]
    boxes = [_box(k, h) for k, h in zip(keyframes, homs, strict=True)]
    max_offset = 4.0 * config.position_prior_m / px_m
    ransac_px = config.ransac_threshold_m / px_m
    ties: list[Tie] = []
    for i in range(len(keyframes)):
        for j in range(i + 1, len(keyframes)):
            if _overlap_share(boxes[i], boxes[j]) < 0.15:
                continue
            found = match(feats[i], feats[j], config.match_ratio, max_offset, ransac_px, config.min_inliers)
            if found is not None:
                ties.append(Tie(i, j, *found))
    if previous is not None and config.register_to_previous:
        prev = previous.cut(win)
        if prev is not None:
            prev_feats = detect_tiled(
                prev.image, prev.valid, PREVIOUS_TILE_PX, max(200, config.features_per_frame // 3)
            )
            for i, f in enumerate(feats):
                x0, y0, x1, y1 = boxes[i]
                near = prev_feats.within((x0 - max_offset, y0 - max_offset, x1 + max_offset, y1 + max_offset))
                found = match(f, near, config.match_ratio, max_offset, ransac_px, config.min_inliers)
                if found is not None:
                    ties.append(Tie(i, -1, *found))
    centres = np.array([[(b[0] + b[2]) / 2, (b[1] + b[3]) / 2] for b in boxes])
    alignment = fall_back_to_telemetry(centres, ties, adjust(centres, ties, config, px_m), config, px_m)
    final = [c @ h for c, h in zip(alignment.corrections, homs, strict=True)]
    image, nearest = _composite(keyframes, final, win)
    views = _views(keyframes, alignment.corrections, to_lattice, win)
    if tall:
        before = previous.cut(win) if previous is not None else None
        _whole_buildings(
            image,
            nearest,
            keyframes,
            final,
            to_pixels(win, views[:, :2]),
            [(_to_canvas(r, to_lattice, win), h) for r, h in tall],
            before,
            lattice.resolution_m,
        )
    canvas = Canvas(lattice, win, image, nearest >= 0, nearest, views)
    log.info(
        "mosaic: %d keyframes, %d frame ties (rms %.2f m), %d frames tied to the previous mosaic (rms %.2f m)",
        len(keyframes),
        alignment.frame_ties,
        alignment.rms_frame_px * px_m,
        alignment.anchored_frames,
        alignment.rms_anchor_px * px_m,
    )
    return Mosaic(
        canvas=canvas,
        keyframes=len(keyframes),
        alignment=alignment,
        captured_from=min(k.captured_at for k in keyframes),
        captured_to=max(k.captured_at for k in keyframes),
        keyframe_seq=tuple(k.seq for k in keyframes),
        keyframe_times=tuple(k.captured_at for k in keyframes),
    )


def _views(
    keyframes: list[Keyframe], corrections: list[NDArray[np.float64]], to_lattice: NDArray[np.float64], window: Window
) -> NDArray[np.float64]:
    """(K, 3): each keyframe's nadir point in lattice (col, row), moved by its correction, and its height."""
    out = np.zeros((len(keyframes), 3))
    for i, (k, corr) in enumerate(zip(keyframes, corrections, strict=True)):
        cr = np.asarray(k.nadir_enu) @ to_lattice[:, :2].T + to_lattice[:, 2]
        px = to_pixels(window, cr[None])[0]
        moved = corr[:2, :2] @ px + corr[:2, 2]
        out[i, :2] = moved + np.array([window.col0 + 0.5, window.row0 + 0.5])
        out[i, 2] = k.height_m
    return out


def _box(k: Keyframe, hom: NDArray[np.float64]) -> tuple[float, float, float, float]:
    h, w = k.image.shape[:2]
    corners = np.array([[0, 0], [w, 0], [w, h], [0, h]], np.float64)
    pts = cv2.perspectiveTransform(corners.reshape(-1, 1, 2), hom).reshape(-1, 2)
    return float(pts[:, 0].min()), float(pts[:, 1].min()), float(pts[:, 0].max()), float(pts[:, 1].max())


def _overlap_share(a: tuple[float, float, float, float], b: tuple[float, float, float, float]) -> float:
    w = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
    h = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
    smaller = min((a[2] - a[0]) * (a[3] - a[1]), (b[2] - b[0]) * (b[3] - b[1]))
    return w * h / smaller if smaller > 0 else 0.0


def _centredness(h: int, w: int) -> NDArray[np.float32]:
    """1 at the image centre falling to ~0 at the inset edge (which keyframe sees a pixel most nadir)."""
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    dx = np.abs(xx - (w - 1) / 2) / ((0.5 - INSET) * w)
    dy = np.abs(yy - (h - 1) / 2) / ((0.5 - INSET) * h)
    out: NDArray[np.float32] = np.clip(1.0 - np.maximum(dx, dy) * 0.5 - 0.5 * np.hypot(dx, dy) / math.sqrt(2), 0, 1)
    out[(dx > 1) | (dy > 1)] = 0
    return out + 1e-3 * (out > 0)


def _to_canvas(ring_m: NDArray[np.float64], to_lattice: NDArray[np.float64], window: Window) -> NDArray[np.float64]:
    cr = np.asarray(ring_m, np.float64) @ to_lattice[:, :2].T + to_lattice[:, 2]
    return to_pixels(window, cr)


def _whole_buildings(
    image: NDArray[np.uint8],
    nearest: NDArray[np.int32],
    keyframes: list[Keyframe],
    homs: list[NDArray[np.float64]],
    nadirs_px: NDArray[np.float64],
    buildings: list[tuple[NDArray[np.float64], float]],
    previous: Canvas | None,
    resolution_m: float,
) -> None:
    """Repaint each tall building, and the ground its walls and roof may lean over, from one keyframe.

    Without an earlier mosaic that is the keyframe that sees the building most from above. With one, it
    is the keyframe whose camera stood nearest to where the earlier mosaic's view of this building was
    taken: both surveys then show the building leaning the same way, so its walls are not change and what
    is new on its roof shows up where the earlier roof was.
    """
    hgt, wid = nearest.shape
    inverses = [np.linalg.inv(h) for h in homs]
    before_nadir = previous.nadir_px() if previous is not None else None
    for ring, height in buildings:
        if height <= 0 or len(ring) < 3:
            continue
        centre = ring.mean(axis=0)
        cx, cy = round(centre[0]), round(centre[1])
        if not (0 <= cx < wid and 0 <= cy < hgt):
            continue
        wanted = before_nadir[cy, cx] if before_nadir is not None else None
        best, best_cost = -1, math.inf
        for i, (k, inv) in enumerate(zip(keyframes, inverses, strict=True)):
            kh, kw = k.image.shape[:2]
            pts = np.column_stack([ring, np.ones(len(ring))]) @ inv.T
            xs, ys = pts[:, 0] / pts[:, 2], pts[:, 1] / pts[:, 2]
            if not ((xs >= 0) & (xs < kw) & (ys >= 0) & (ys < kh)).all():
                continue  # the keyframe must see the whole building
            p = inv @ np.array([centre[0], centre[1], 1.0])
            w = _centredness_at(p[0] / p[2], p[1] / p[2], kw, kh)
            vantage = wanted is not None and bool(np.isfinite(wanted).all())
            cost = float(np.hypot(*(nadirs_px[i] - wanted))) if vantage and wanted is not None else -w
            if cost < best_cost:
                best, best_cost = i, cost
        if best < 0:
            continue
        k = keyframes[best]
        # Where the building stands in that view: its footprint and its roof pushed away from the nadir
        # point by h / (H - h), and the walls between (the convex hull), a metre of margin around.
        lean = height / max(k.height_m - height, 1.0)
        roof = ring + lean * (ring - nadirs_px[best])
        hull = cv2.convexHull(np.round(np.vstack([ring, roof])).astype(np.int32))
        margin = max(2, round(1.0 / resolution_m))
        x, y, bw, bh = cv2.boundingRect(hull)
        x0, y0 = max(0, x - margin), max(0, y - margin)
        x1, y1 = min(wid, x + bw + margin), min(hgt, y + bh + margin)
        if x1 <= x0 or y1 <= y0:
            continue
        zone = np.zeros((y1 - y0, x1 - x0), np.uint8)
        cv2.fillConvexPoly(zone, hull - (x0, y0), 1)
        zone = cv2.dilate(zone, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * margin + 1, 2 * margin + 1)))
        to_box = np.array([[1.0, 0, -x0], [0, 1.0, -y0], [0, 0, 1.0]]) @ homs[best]
        size = (x1 - x0, y1 - y0)
        warped = cv2.warpPerspective(k.image, to_box, size, flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
        seen = (
            cv2.warpPerspective(
                np.ones(k.image.shape[:2], np.uint8),
                to_box,
                size,
                flags=cv2.INTER_NEAREST,
                borderMode=cv2.BORDER_CONSTANT,
            )
            > 0
        )
        take = seen & (zone > 0)
        image[y0:y1, x0:x1][take] = warped[take]
        nearest[y0:y1, x0:x1][take] = best


def _centredness_at(x: float, y: float, w: int, h: int) -> float:
    dx = abs(x - (w - 1) / 2) / ((0.5 - INSET) * w)
    dy = abs(y - (h - 1) / 2) / ((0.5 - INSET) * h)
    if dx > 1 or dy > 1:
        return 0.0
    return max(0.0, 1.0 - max(dx, dy) * 0.5 - 0.5 * math.hypot(dx, dy) / math.sqrt(2))


def _composite(
    keyframes: list[Keyframe], homs: list[NDArray[np.float64]], window: Window
) -> tuple[NDArray[np.uint8], NDArray[np.int32]]:
    """Each canvas pixel from the keyframe that sees it most centrally."""
    hgt, wid = window.shape
    image = np.zeros((hgt, wid, 3), np.uint8)
    best = np.zeros((hgt, wid), np.float32)
    nearest = np.full((hgt, wid), -1, np.int32)
    weights: dict[tuple[int, int], NDArray[np.float32]] = {}
    for idx, (k, hom) in enumerate(zip(keyframes, homs, strict=True)):
        h, w = k.image.shape[:2]
        weight = weights.setdefault((h, w), _centredness(h, w))
        x0, y0, x1, y1 = _box(k, hom)
        bx0, by0 = max(0, math.floor(x0)), max(0, math.floor(y0))
        bx1, by1 = min(wid, math.ceil(x1) + 1), min(hgt, math.ceil(y1) + 1)
        if bx1 <= bx0 or by1 <= by0:
            continue
        to_box = np.array([[1.0, 0, -bx0], [0, 1.0, -by0], [0, 0, 1.0]]) @ hom
        size = (bx1 - bx0, by1 - by0)
        warped = cv2.warpPerspective(k.image, to_box, size, flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
        wmap = cv2.warpPerspective(weight, to_box, size, flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT)
        sub = best[by0:by1, bx0:bx1]
        take = wmap > sub
        sub[take] = wmap[take]
        image[by0:by1, bx0:bx1][take] = warped[take]
        nearest[by0:by1, bx0:bx1][take] = idx
    return image, nearest
