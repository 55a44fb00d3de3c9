"""Aligning keyframes by image features: to each other, and to the previous survey's mosaic.

Telemetry puts a keyframe on the ground within a few metres (GNSS, gimbal yaw, altitude); neighbouring
keyframes then disagree by metres where they overlap, and a mosaic from telemetry alone is smeared and
shifted from the last survey's by the GNSS offset between the two days. Features fix both:

1. ORB features of every keyframe, placed on the mosaic canvas by the keyframe's telemetry homography.
2. Overlapping keyframes are matched (ratio test, then RANSAC for one similarity): the inliers are
   pairs of canvas points that must coincide. Keyframes are matched to the previous mosaic the same
   way; those inliers are points that must land on the previous mosaic's pixel (anchors).
3. One least-squares adjustment finds, per keyframe, a small similarity correction (scale, rotation,
   shift about its centre) that makes the pairs coincide, the anchors land, and otherwise stays near
   telemetry (priors from `AlignmentConfig`). The correction is linear in its four parameters, so the
   adjustment is a sparse linear solve; a second pass drops pairs that disagree with the first.

A similarity per keyframe absorbs what telemetry gets wrong on a near-nadir view (offset, yaw, scale);
relief of tall buildings stays: a mosaic is not a true orthophoto.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass, replace

import cv2
import numpy as np
import scipy.sparse as sp
from numpy.typing import NDArray
from scipy.sparse.linalg import lsqr

from detectors.construction.survey.config import AlignmentConfig

log = logging.getLogger(__name__)

GAUGE_SIGMA = 0.001
"""1-sigma of the whole flight's scale (and rotation, radians) relative to GNSS when no previous mosaic anchors it."""
GAUGE_ANCHORED_FRAMES = 3
"""With this many keyframes tied to the previous mosaic, that mosaic fixes scale and rotation instead."""
MAX_PAIRS_PER_TIE = 60
"""Inlier pairs kept per tie: enough to fix four parameters firmly, few enough to keep the solve small."""


@dataclass(frozen=True)
class Features:
    """ORB keypoints (canvas pixels) and their descriptors."""

    xy: NDArray[np.float64]
    descriptors: NDArray[np.uint8]

    @classmethod
    def empty(cls) -> Features:
        return cls(np.zeros((0, 2)), np.zeros((0, 32), np.uint8))

    def __len__(self) -> int:
        return len(self.xy)

    def within(self, box: tuple[float, float, float, float]) -> Features:
        x0, y0, x1, y1 = box
        keep = (self.xy[:, 0] >= x0) & (self.xy[:, 0] <= x1) & (self.xy[:, 1] >= y0) & (self.xy[:, 1] <= y1)
        return Features(self.xy[keep], self.descriptors[keep])


@dataclass(frozen=True)
class Tie:
    """Corresponding canvas points: keyframe i's `p` must meet keyframe j's `q` (j = -1: the previous mosaic)."""

    i: int
    j: int
    p: NDArray[np.float64]
    q: NDArray[np.float64]


@dataclass(frozen=True)
class Alignment:
    """Per-keyframe corrections (3x3, canvas -> canvas) and how well the ties agree after them."""

    corrections: list[NDArray[np.float64]]
    frame_ties: int
    anchor_ties: int
    anchored_frames: int
    rms_frame_px: float
    rms_anchor_px: float
    fallback_frames: tuple[int, ...] = ()
    """Keyframes placed by telemetry, not features (`fall_back_to_telemetry`)."""


def detect(
    image: NDArray[np.uint8], to_canvas: NDArray[np.float64], n_features: int, mask: NDArray[np.uint8] | None = None
) -> Features:
    """ORB features of a BGR image, with their positions moved onto the canvas by a 3x3 homography."""
    grey = cv2.cvtColor(image, cv2.COLOR_BGR2GRAY)
    orb = cv2.ORB.create(
        nfeatures=n_features, scaleFactor=1.3, nlevels=4, edgeThreshold=15, patchSize=15, fastThreshold=8
    )
    kps, des = orb.detectAndCompute(grey, mask)
    if des is None or not kps:
        return Features.empty()
    pts = np.array([k.pt for k in kps], np.float64)
    xy = cv2.perspectiveTransform(pts.reshape(-1, 1, 2), to_canvas).reshape(-1, 2)
    return Features(np.asarray(xy, np.float64), np.asarray(des, np.uint8))


def detect_tiled(image: NDArray[np.uint8], valid: NDArray[np.bool_], tile_px: int, per_tile: int) -> Features:
    """ORB features of a large canvas (a previous mosaic), detected tile by tile so they cover it evenly."""
    h, w = image.shape[:2]
    xy: list[NDArray[np.float64]] = []
    des: list[NDArray[np.uint8]] = []
    pad = 16
    for y0 in range(0, h, tile_px):
        for x0 in range(0, w, tile_px):
            ys, xs = (
                slice(max(0, y0 - pad), min(h, y0 + tile_px + pad)),
                slice(max(0, x0 - pad), min(w, x0 + tile_px + pad)),
            )
            if valid[ys, xs].mean() < 0.2:
                continue
            mask = valid[ys, xs].astype(np.uint8) * 255
            shift = np.array([[1.0, 0, xs.start], [0, 1.0, ys.start], [0, 0, 1.0]])
            f = detect(np.ascontiguousarray(image[ys, xs]), shift, per_tile, mask)
            inside = (f.xy[:, 0] >= x0) & (f.xy[:, 0] < x0 + tile_px) & (f.xy[:, 1] >= y0) & (f.xy[:, 1] < y0 + tile_px)
            xy.append(f.xy[inside])
            des.append(f.descriptors[inside])
    if not xy:
        return Features.empty()
    return Features(np.concatenate(xy), np.concatenate(des))


def match(
    a: Features, b: Features, ratio: float, max_offset_px: float, ransac_px: float, min_inliers: int
) -> tuple[NDArray[np.float64], NDArray[np.float64]] | None:
    """Inlier point pairs (a's, b's) of one similarity between two feature sets, or None when too few agree.

    Matches further apart on the canvas than `max_offset_px` are dropped before RANSAC: telemetry already
    puts both within a few metres of each other.
    """
    if len(a) < min_inliers or len(b) < min_inliers:
        return None
    matcher = cv2.BFMatcher(cv2.NORM_HAMMING)
    pairs = matcher.knnMatch(a.descriptors, b.descriptors, k=2)
    ia, ib = [], []
    for m in pairs:
        if len(m) == 2 and m[0].distance < ratio * m[1].distance:
            ia.append(m[0].queryIdx)
            ib.append(m[0].trainIdx)
    if len(ia) < min_inliers:
        return None
    p, q = a.xy[ia], b.xy[ib]
    near = np.hypot(*(p - q).T) <= max_offset_px
    p, q = p[near], q[near]
    if len(p) < min_inliers:
        return None
    model, inliers = cv2.estimateAffinePartial2D(
        p, q, method=cv2.RANSAC, ransacReprojThreshold=ransac_px, maxIters=2000, confidence=0.995
    )
    if model is None or inliers is None:
        return None
    keep = inliers.ravel().astype(bool)
    if int(keep.sum()) < min_inliers:
        return None
    p, q = p[keep], q[keep]
    if len(p) > MAX_PAIRS_PER_TIE:
        pick = np.linspace(0, len(p) - 1, MAX_PAIRS_PER_TIE).round().astype(int)
        p, q = p[pick], q[pick]
    return p, q


def adjust(centres: NDArray[np.float64], ties: list[Tie], config: AlignmentConfig, px_m: float) -> Alignment:
    """Per-keyframe similarity corrections from the ties (see the module docstring), two passes."""
    n = len(centres)
    active = list(ties)
    x = np.zeros(4 * n)
    for _ in range(2):
        x = _solve(centres, active, config, px_m, n)
        resid = [_residual(centres, t, x) for t in active]
        limit = 3.0 * config.ransac_threshold_m / px_m
        kept = []
        for t, r in zip(active, resid, strict=True):
            good = r <= limit
            if int(good.sum()) >= 4:
                kept.append(Tie(t.i, t.j, t.p[good], t.q[good]))
        active = kept
    corr = [_matrix(x[4 * i : 4 * i + 4], centres[i]) for i in range(n)]
    frame = [_residual(centres, t, x) for t in active if t.j >= 0]
    anchor = [_residual(centres, t, x) for t in active if t.j < 0]
    return Alignment(
        corrections=corr,
        frame_ties=sum(1 for t in active if t.j >= 0),
        anchor_ties=len(anchor),
        anchored_frames=len({t.i for t in active if t.j < 0}),
        rms_frame_px=_rms(frame),
        rms_anchor_px=_rms(anchor),
    )


def fall_back_to_telemetry(
    centres: NDArray[np.float64], ties: list[Tie], alignment: Alignment, config: AlignmentConfig, px_m: float
) -> Alignment:
    """Keyframes whose features moved them too far from telemetry are placed by telemetry instead.

    A wrong tie (look-alike roofs of one estate, rows of cars, a seam in the previous mosaic) can pull one
    keyframe metres away from where its telemetry and its neighbours put it; all it shows is then compared
    with the wrong ground, a seam of false change (seed 112's earlier flight: one keyframe 12 m off, a
    423 m2 false change). Telemetry is not wrong by that much for one frame alone: its error is a per-flight
    offset (GNSS bias, yaw, scale) that moves every keyframe alike, plus a wander of decimetres. So the
    flight's common correction is the median of the keyframes' corrections, and a keyframe whose correction
    moves its centre more than `config.max_frame_disagreement_m` from where the common one would (the later
    flights of tuning seeds 41-52, 61-88 (an earlier build), 103-114 and 127-138, 64 in all: at most 3.4 m)
    loses its ties; the others are solved again and it gets the common correction: its telemetry, moved as
    the day's offset moved the whole flight. Returns `alignment` unchanged when none disagrees, when half or
    more do (not one wrong tie), or when there are too few keyframes for a median (3).
    """
    n = len(centres)
    if config.max_frame_disagreement_m <= 0 or n < 3:
        return alignment
    params = np.array([_params(c, centres[i]) for i, c in enumerate(alignment.corrections)])
    common = np.median(params, axis=0)
    shift_m = np.hypot(*(params[:, 2:] - common[2:]).T) * px_m
    bad = shift_m > config.max_frame_disagreement_m
    if not bad.any() or bad.sum() * 2 >= n:
        return alignment
    kept = [t for t in ties if not bad[t.i] and not (t.j >= 0 and bad[t.j])]
    again = adjust(centres, kept, config, px_m)
    good = np.array([_params(c, centres[i]) for i, c in enumerate(again.corrections)])[~bad]
    common = np.median(good, axis=0)
    corrections = [_matrix(common, centres[i]) if bad[i] else c for i, c in enumerate(again.corrections)]
    frames = tuple(int(i) for i in np.flatnonzero(bad))
    log.warning(
        "alignment: keyframe(s) %s moved %s m by features from telemetry, over %.1f m: placed by telemetry",
        list(frames),
        [round(float(v), 1) for v in shift_m[bad]],
        config.max_frame_disagreement_m,
    )
    return replace(again, corrections=corrections, fallback_frames=frames)


def _params(correction: NDArray[np.float64], centre: NDArray[np.float64]) -> NDArray[np.float64]:
    """(a, b, tx, ty) of a correction built by `_matrix` about `centre` (its inverse)."""
    a, b = correction[0, 0] - 1.0, correction[1, 0]
    moved = correction[:2, :2] @ centre + correction[:2, 2]
    return np.array([a, b, moved[0] - centre[0], moved[1] - centre[1]])


def _rms(parts: list[NDArray[np.float64]]) -> float:
    if not parts:
        return math.nan
    r = np.concatenate(parts)
    return float(np.sqrt(np.mean(r**2))) if len(r) else math.nan


def _matrix(params: NDArray[np.float64], centre: NDArray[np.float64]) -> NDArray[np.float64]:
    """3x3 of p -> p + [[a, -b], [b, a]] (p - c) + t."""
    a, b, tx, ty = (float(v) for v in params)
    m = np.array([[1 + a, -b], [b, 1 + a]])
    t = np.array([tx, ty]) + centre - m @ centre
    return np.array([[m[0, 0], m[0, 1], t[0]], [m[1, 0], m[1, 1], t[1]], [0.0, 0.0, 1.0]])


def _apply(params: NDArray[np.float64], centre: NDArray[np.float64], p: NDArray[np.float64]) -> NDArray[np.float64]:
    a, b, tx, ty = params
    d = p - centre
    out: NDArray[np.float64] = p + np.column_stack([a * d[:, 0] - b * d[:, 1] + tx, b * d[:, 0] + a * d[:, 1] + ty])
    return out


def _residual(centres: NDArray[np.float64], t: Tie, x: NDArray[np.float64]) -> NDArray[np.float64]:
    pi = _apply(x[4 * t.i : 4 * t.i + 4], centres[t.i], t.p)
    qj = t.q if t.j < 0 else _apply(x[4 * t.j : 4 * t.j + 4], centres[t.j], t.q)
    out: NDArray[np.float64] = np.hypot(*(pi - qj).T)
    return out


def _gauge_rows(
    centres: NDArray[np.float64],
    rows: list[NDArray[np.int64]],
    cols: list[NDArray[np.int64]],
    vals: list[NDArray[np.float64]],
    rhs: list[NDArray[np.float64]],
    row: int,
) -> int:
    """Hold the flight's overall scale and rotation to telemetry's.

    Ties between keyframes say nothing about the whole mosaic's scale, rotation and position: the
    corrections could grow all of it by 5 % about its middle and every tie would still hold. Per-frame
    priors make that only mildly costly, and faint systematic pulls (parallax of raised things in the
    ties) then scale the mosaic. So the shifts' common scale and rotation about the flight's middle
    (linear in the shifts) are held near zero: GNSS fixes the flight's extent to a fraction of a percent.
    Without this a whole survey came out 4.6 % small.
    """
    d = centres - centres.mean(axis=0)
    norm = float((d**2).sum())
    if norm <= 0:
        return row
    weight = 1.0 / (GAUGE_SIGMA * norm)
    n = len(centres)
    idx = np.arange(n, dtype=np.int64)
    for coeff_x, coeff_y in ((d[:, 0], d[:, 1]), (-d[:, 1], d[:, 0])):
        rows.append(np.full(2 * n, row, np.int64))
        cols.append(np.concatenate([4 * idx + 2, 4 * idx + 3]))
        vals.append(weight * np.concatenate([coeff_x, coeff_y]))
        rhs.append(np.zeros(1))
        row += 1
    return row


def _solve(
    centres: NDArray[np.float64], ties: list[Tie], config: AlignmentConfig, px_m: float, n: int
) -> NDArray[np.float64]:
    rows: list[NDArray[np.int64]] = []
    cols: list[NDArray[np.int64]] = []
    vals: list[NDArray[np.float64]] = []
    rhs: list[NDArray[np.float64]] = []
    row = 0
    w_frame = 1.0
    w_anchor = 1.0 / 1.5

    def block(i: int, d: NDArray[np.float64], sign: float, r0: int, weight: float) -> None:
        # x-equation: a dx - b dy + tx ; y-equation: b dx + a dy + ty
        m = len(d)
        rx = r0 + 2 * np.arange(m)
        ry = rx + 1
        base = 4 * i
        for r, c, v in (
            (rx, base + 0, d[:, 0]),
            (rx, base + 1, -d[:, 1]),
            (rx, base + 2, np.ones(m)),
            (ry, base + 0, d[:, 1]),
            (ry, base + 1, d[:, 0]),
            (ry, base + 3, np.ones(m)),
        ):
            rows.append(r)
            cols.append(np.full(m, c, np.int64))
            vals.append(sign * weight * np.asarray(v, np.float64))

    for t in ties:
        m = len(t.p)
        weight = w_frame if t.j >= 0 else w_anchor
        block(t.i, t.p - centres[t.i], 1.0, row, weight)
        if t.j >= 0:
            block(t.j, t.q - centres[t.j], -1.0, row, weight)
            target = t.q - t.p
        else:
            target = t.q - t.p
        rhs.append((weight * target).reshape(-1))
        row += 2 * m
    sig = np.array(
        [
            config.scale_prior,
            math.radians(config.rotation_prior_deg),
            config.position_prior_m / px_m,
            config.position_prior_m / px_m,
        ]
    )
    for i in range(n):
        for k in range(4):
            rows.append(np.array([row]))
            cols.append(np.array([4 * i + k]))
            vals.append(np.array([1.0 / sig[k]]))
            rhs.append(np.zeros(1))
            row += 1
    if len({t.i for t in ties if t.j < 0}) < GAUGE_ANCHORED_FRAMES and n >= 3:
        row = _gauge_rows(centres, rows, cols, vals, rhs, row)
    a = sp.csr_matrix((np.concatenate(vals), (np.concatenate(rows), np.concatenate(cols))), shape=(row, 4 * n))
    b = np.concatenate(rhs)
    # Scale the columns so the rotation/scale and shift parameters are comparably sized for lsqr.
    col_norm = np.sqrt(np.asarray(a.multiply(a).sum(axis=0)).ravel())
    col_norm[col_norm == 0] = 1.0
    sol = lsqr(a @ sp.diags(1.0 / col_norm), b, atol=1e-10, btol=1e-10, iter_lim=20_000)[0]
    out: NDArray[np.float64] = sol / col_norm
    return out
