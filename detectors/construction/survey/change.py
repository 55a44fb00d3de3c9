"""Change between two co-registered mosaics: where the later survey shows a different surface.

Most of what differs between two flights over the same ground is not construction: exposure and white
balance, the season's colour on grass and trees, shadows that moved with the sun, wet ground, cars.
The comparison is built so that those explain themselves away:

- Colour is compared as log-chromaticity (log B/G, log R/G): a change of brightness (exposure, shade,
  a shadow) leaves it unchanged, and so does most of a shadow's blue tint once the component along the
  illumination's blue-yellow axis is set aside (`ILLUMINATION_AXIS`, after Finlayson's shadow-invariant
  images).
- What a whole surface class does between the days is removed per class: the earlier mosaic's colours
  are clustered, and the median change of each cluster (grass yellowing, asphalt drying) is subtracted.
- Brightness alone (log luminance) counts only where the texture changed too: under a shadow or on wet
  ground the same texture is seen darker, so its high-pass log luminance is the same on both days; a
  new roof or soil replaces the texture.
- Relief: a roof or wall leans away from the camera, by a different amount in each survey. A later
  pixel is compared with the earlier mosaic along the direction its lean can differ (from where each
  mosaic's keyframe was taken) and the best match is kept (`relief_search`), so leaning walls do not
  show up as change but a new roof still does (nothing like it was there before, anywhere along that line).

Each cell gets a score in robust standard deviations of the whole comparison; `regions.py` turns cells
above the threshold into candidate structures.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass

import cv2
import numpy as np
from numpy.typing import NDArray

from detectors.construction.survey.config import ChangeConfig
from detectors.construction.survey.judged import judged_and_learnt, valid_cells

log = logging.getLogger(__name__)

F32 = NDArray[np.float32]

ILLUMINATION_AXIS = np.array([-math.sqrt(0.5), math.sqrt(0.5)], np.float32)
"""Prior unit direction in (log R/G, log B/G) along which sunlit -> skylit (shadow) and warm -> cool light move
a colour (blue up, red down, about equally for a camera's RGB along the daylight locus). Differences along
the axis (fitted per comparison, `illumination_axis`) are left out of the chromatic score."""
WET_WARMTH_SHARE = 0.5
"""Share of a darker-and-warmer change's score kept where the texture did not change (wet ground)."""
CLASS_SHIFT_SIGMA_M = 25.0
"""Scale over which a colour class's change (season, lighting) is taken as even."""
EPS = 4.0 / 255.0
"""Added to every channel before taking logs: keeps near-black pixels from dominating."""
HIGH_PASS_SIGMA_M = 0.5
"""Texture is what a Gaussian of this size removes from log luminance."""
TEXTURE_BLUR_M = 0.3


@dataclass(frozen=True)
class ChangeMap:
    """The comparison on the cell grid: score, its parts, and what the later survey shows there."""

    cell_m: float
    score: F32
    """max(chroma, texture-confirmed luminance) change, in robust standard deviations."""
    chroma: F32
    luminance: F32
    texture: F32
    valid: NDArray[np.bool_]
    after_lab: F32
    before_lab: F32
    after_bgr: NDArray[np.uint8]
    before_bgr: NDArray[np.uint8]
    factor: int
    """Mosaic pixels per cell side."""

    def changed(self, threshold: float) -> NDArray[np.uint8]:
        """Valid cells scoring `threshold` or more (1), the rest 0: what regions and deck proposals start from."""
        return ((self.score >= threshold) & self.valid).astype(np.uint8)


def to_cells(image: NDArray[np.uint8], factor: int) -> NDArray[np.uint8]:
    """Average a mosaic down to the comparison cell (INTER_AREA)."""
    if factor == 1:
        return image
    h, w = image.shape[:2]
    out = np.asarray(cv2.resize(image, (w // factor, h // factor), interpolation=cv2.INTER_AREA), np.uint8)
    return out


def _log_chroma(bgr: F32) -> tuple[F32, F32]:
    """(log R/G, log B/G) of a float BGR image in [0, 1]."""
    b, g, r = bgr[..., 0] + EPS, bgr[..., 1] + EPS, bgr[..., 2] + EPS
    return np.log(r / g), np.log(b / g)


def _log_luminance(bgr: F32) -> F32:
    y = 0.114 * bgr[..., 0] + 0.587 * bgr[..., 1] + 0.299 * bgr[..., 2]
    out: F32 = np.log(y + EPS)
    return out


def _robust_sigma(x: F32, mask: NDArray[np.bool_]) -> float:
    v = x[mask]
    if v.size == 0:
        return 1.0
    med = float(np.median(v))
    return max(1.4826 * float(np.median(np.abs(v - med))), 1e-3)


def _clusters(lab: F32, mask: NDArray[np.bool_], k: int, seed: int = 7) -> NDArray[np.int32]:
    """Nearest of k colour clusters (k-means on a sample of the masked cells) for every cell."""
    sample = lab[mask]
    if len(sample) < 10 * k:
        return np.zeros(lab.shape[:2], np.int32)
    step = max(1, len(sample) // 40_000)
    cv2.setRNGSeed(seed)
    crit = (cv2.TERM_CRITERIA_EPS + cv2.TERM_CRITERIA_MAX_ITER, 25, 0.2)
    data = np.ascontiguousarray(sample[::step], np.float32)
    _, _, centres = cv2.kmeans(data, k, np.zeros((len(data), 1), np.int32), crit, 2, cv2.KMEANS_PP_CENTERS)
    flat = lab.reshape(-1, 3)
    best = np.full(len(flat), np.inf, np.float32)
    labels = np.zeros(len(flat), np.int32)
    for i, c in enumerate(centres):
        d = ((flat - c) ** 2).sum(axis=1)
        closer = d < best
        best[closer] = d[closer]
        labels[closer] = i
    return labels.reshape(lab.shape[:2])


def _class_shift(diff: F32, labels: NDArray[np.int32], mask: NDArray[np.bool_], k: int, sigma_cells: float) -> F32:
    """What lighting or season did to each colour class, as a smooth field: per class, the local mean of
    its change (clipped, so a structure on the class barely moves it) over about `sigma_cells`.

    Autumn does not yellow a lawn evenly, and a local mean follows that where one median per class would
    leave half the lawn as change.
    """
    out = np.zeros_like(diff)
    lim = 3.0 * _robust_sigma(diff, mask)
    centre = float(np.median(diff[mask])) if mask.any() else 0.0
    clipped = np.clip(diff, centre - lim, centre + lim)
    h, w = diff.shape
    small = (max(1, w // 8), max(1, h // 8))
    for i in range(k):
        sel = labels == i
        m = sel & mask
        if m.sum() < 50:
            continue
        mf = m.astype(np.float32)
        num = cv2.GaussianBlur(cv2.resize(clipped * mf, small, interpolation=cv2.INTER_AREA), (0, 0), sigma_cells / 8)
        den = cv2.GaussianBlur(cv2.resize(mf, small, interpolation=cv2.INTER_AREA), (0, 0), sigma_cells / 8)
        local = np.where(den > 1e-3, num / np.maximum(den, 1e-6), float(np.median(diff[m]))).astype(np.float32)
        full = cv2.resize(local, (w, h), interpolation=cv2.INTER_LINEAR)
        out[sel] = full[sel]
    return out


@dataclass(frozen=True)
class Illumination:
    """How this comparison's light moved colours: per unit of log luminance, chromaticity moves by
    `shade_vector` in (log R/G, log B/G) (a shadow is darker and bluer: skylit), and `axis` is the unit
    bluer direction that colour changes of light follow."""

    axis: NDArray[np.float32]
    shade_vector: NDArray[np.float32]


def fit_illumination(d_r: F32, d_b: F32, d_l: F32, tex: F32, mask: NDArray[np.bool_]) -> Illumination:
    """The day's illumination change, from cells that turned much darker but kept their texture.

    Those cells (mostly shadows that came) vote with their chromaticity change per unit of darkening;
    the median vote is the shade vector. Its direction is the axis when within 35 degrees of the physical
    prior (`ILLUMINATION_AXIS`: redder in sun, bluer in skylight); otherwise the prior is used and the
    vector projected onto it.
    """
    sel = mask & (d_l < -3.0 * _robust_sigma(d_l, mask)) & (tex < 2.0 * _robust_sigma(tex, mask))
    prior = ILLUMINATION_AXIS.astype(np.float64)
    if sel.sum() < 200:
        return Illumination(ILLUMINATION_AXIS, np.zeros(2, np.float32))
    votes = np.column_stack([d_r[sel] / d_l[sel], d_b[sel] / d_l[sel]])
    v = np.median(votes, axis=0)
    bluer = -v / max(float(np.linalg.norm(v)), 1e-9)
    if float(bluer @ prior) < math.cos(math.radians(35)):
        bluer = prior
        v = -max(0.0, float(-(v @ prior))) * prior
    return Illumination(bluer.astype(np.float32), v.astype(np.float32))


def _class_sigma(x: F32, labels: NDArray[np.int32], mask: NDArray[np.bool_], k: int) -> F32:
    """Per cell, the robust spread of `x` over the cell's colour class (grass varies more between two days
    than asphalt does), never below the spread over all classes."""
    floor = _robust_sigma(x, mask)
    per = np.full(k, floor, np.float32)
    for i in range(k):
        m = mask & (labels == i)
        if m.sum() >= 50:
            per[i] = max(floor, _robust_sigma(x, m))
    out: F32 = per[labels]
    return out


def _high_pass(x: F32, sigma: float) -> F32:
    out: F32 = x - cv2.GaussianBlur(x, (0, 0), sigma)
    return out


def compare(
    before: NDArray[np.uint8],
    after: NDArray[np.uint8],
    valid: NDArray[np.bool_],
    resolution_m: float,
    config: ChangeConfig,
    relief_shift_px: NDArray[np.float32] | None = None,
    left_out: NDArray[np.bool_] | None = None,
    unlearnt: NDArray[np.bool_] | None = None,
    unscored: NDArray[np.bool_] | None = None,
) -> ChangeMap:
    """Score every cell for change between two mosaics on the same lattice window (see the module docstring).

    `relief_shift_px` (H, W, 2), in mosaic pixels: per pixel, the most that relief can move a roof or wall
    in the earlier mosaic relative to the later one, as a vector; None compares pixel with pixel.
    `left_out`, `unlearnt`: pixels inside the overlap that are not judged, and that are judged but not learnt
    from (near tall buildings: `judged_and_learnt`). `unscored`: pixels judged and learnt from as any other,
    whose cells score 0 (ground one mosaic shows and the other hides under a building's lean:
    `registered_relief.CutZones.one_sided`); they stay valid, as ground around a change.
    """
    factor = max(1, round(config.cell_m / resolution_m))
    cell_m = factor * resolution_m
    a_bgr, b_bgr = to_cells(after, factor), to_cells(before, factor)
    h, w = a_bgr.shape[:2]
    v, learn = judged_and_learnt(valid, factor, math.ceil(config.border_m / cell_m), left_out, unlearnt)
    v, learn = v[:h, :w], learn[:h, :w]
    a = a_bgr.astype(np.float32) / 255.0
    b = b_bgr.astype(np.float32) / 255.0
    shift = None if relief_shift_px is None else to_cells_vector(relief_shift_px, factor)[:h, :w] / factor
    b_candidates = _relief_candidates(b, None if shift is None else shift.astype(np.float32))
    a_lab = np.asarray(cv2.cvtColor(a, cv2.COLOR_BGR2Lab), np.float32)
    b_lab = np.asarray(cv2.cvtColor(b, cv2.COLOR_BGR2Lab), np.float32)
    k = config.colour_clusters
    labels = _clusters(b_lab, learn, k)
    ar, ab = _log_chroma(a)
    a_lum = _log_luminance(a)
    a_tex = _high_pass(a_lum, HIGH_PASS_SIGMA_M / cell_m)
    sigma_cells = CLASS_SHIFT_SIGMA_M / cell_m
    shifts: tuple[F32, F32, F32] | None = None
    light = Illumination(ILLUMINATION_AXIS, np.zeros(2, np.float32))
    best: tuple[F32, F32, F32, F32] | None = None
    sig: tuple[F32, F32, F32, F32] | None = None
    for cand in b_candidates:
        br, bb = _log_chroma(cand)
        b_lum = _log_luminance(cand)
        d_r, d_b, d_l = ar - br, ab - bb, a_lum - b_lum
        b_tex = _high_pass(b_lum, HIGH_PASS_SIGMA_M / cell_m)
        tex = cv2.GaussianBlur(np.abs(a_tex - b_tex), (0, 0), TEXTURE_BLUR_M / cell_m)
        if shifts is None:
            shifts = (
                _class_shift(d_r, labels, learn, k, sigma_cells),
                _class_shift(d_b, labels, learn, k, sigma_cells),
                _class_shift(d_l, labels, learn, k, sigma_cells),
            )
            light = fit_illumination(d_r - shifts[0], d_b - shifts[1], d_l - shifts[2], tex, learn)
            log.debug(
                "change: illumination axis (%.2f, %.2f), shade vector (%.3f, %.3f)", *light.axis, *light.shade_vector
            )
        d_r, d_b, d_l = d_r - shifts[0], d_b - shifts[1], d_l - shifts[2]
        hue, warmth_signed, warmth, lum = _unexplained_by_light(d_r, d_b, d_l, light)
        if sig is None:
            sig = (
                _class_sigma(hue, labels, learn, k),
                _class_sigma(warmth, labels, learn, k),
                _class_sigma(lum, labels, learn, k),
                _class_sigma(tex, labels, learn, k),
            )
        h_s, w_s, l_s, t_s = hue / sig[0], warmth / sig[1], lum / sig[2], tex / sig[3]
        now = _change_scores(h_s, w_s, l_s, t_s, d_l, warmth_signed, config.threshold)
        best = now if best is None else _lowest(best, now)
    assert best is not None
    best_total, best_chroma, best_lum, best_tex = best
    scored = v if unscored is None else v & valid_cells(~unscored, factor, 0)[:h, :w]
    score = np.where(scored, best_total, 0).astype(np.float32)
    return ChangeMap(
        cell_m=cell_m,
        score=score,
        chroma=best_chroma.astype(np.float32),
        luminance=best_lum.astype(np.float32),
        texture=best_tex.astype(np.float32),
        valid=v,
        after_lab=a_lab,
        before_lab=b_lab,
        after_bgr=a_bgr,
        before_bgr=b_bgr,
        factor=factor,
    )


def _unexplained_by_light(d_r: F32, d_b: F32, d_l: F32, light: Illumination) -> tuple[F32, F32, F32, F32]:
    """Hue change, signed and absolute warmth change and absolute luminance change left once the light's
    shade vector (chromaticity moved per unit of darkening) is taken out: what shade cannot explain."""
    axis = light.axis
    r_r = d_r - light.shade_vector[0] * d_l
    r_b = d_b - light.shade_vector[1] * d_l
    hue = np.abs(r_r * axis[1] - r_b * axis[0])
    warmth_signed = r_r * axis[0] + r_b * axis[1]
    warmth = np.abs(warmth_signed)
    lum = np.abs(d_l)
    return hue, warmth_signed, warmth, lum


def _change_scores(
    h_s: F32, w_s: F32, l_s: F32, t_s: F32, d_l: F32, warmth_signed: F32, threshold: float
) -> tuple[F32, F32, F32, F32]:
    """Total, chroma, luminance and texture scores of one relief candidate, from the per-class normalised
    hue, warmth, luminance and texture changes.

    A new hue is change on its own, and so is a colour the light cannot explain: brighter and cooler
    (a white roof on earth), darker and cooler beyond what shade does. Darker and warmer is also what
    rain does to ground: that counts where the texture changed too, else at WET_WARMTH_SHARE of its
    strength (soil on pavement turns far warmer than wet pavement). Brightness alone counts only with
    a texture change: wet ground, shade and exposure keep the texture.
    """
    wet_like = (d_l < 0) & (warmth_signed < 0)
    w_eff = np.where(wet_like, np.maximum(np.minimum(w_s, t_s), w_s * WET_WARMTH_SHARE), w_s)
    total = np.maximum(np.maximum(h_s, w_eff), np.minimum(l_s, t_s))
    # Darker without a new hue or warmth is shade (a shadow, wet ground), whatever its edge does.
    shade = (d_l < 0) & (h_s < threshold) & (w_s < threshold)
    total = np.where(shade, np.minimum(total, np.maximum(h_s, w_s)), total)
    chroma = np.maximum(h_s, w_eff)
    return total.astype(np.float32), chroma.astype(np.float32), l_s.astype(np.float32), t_s.astype(np.float32)


def _lowest(best: tuple[F32, F32, F32, F32], now: tuple[F32, F32, F32, F32]) -> tuple[F32, F32, F32, F32]:
    """Per cell, the scores of whichever relief candidate has the lower total: relief may explain a cell's
    change, so the candidate that explains it best is the one that counts."""
    better = now[0] < best[0]
    return (
        np.where(better, now[0], best[0]).astype(np.float32),
        np.where(better, now[1], best[1]).astype(np.float32),
        np.where(better, now[2], best[2]).astype(np.float32),
        np.where(better, now[3], best[3]).astype(np.float32),
    )


def to_cells_vector(field: NDArray[np.float32], factor: int) -> NDArray[np.float32]:
    """A per-pixel vector field averaged down to cells (values stay in mosaic pixels)."""
    if factor == 1:
        return field
    h, w = field.shape[:2]
    out = np.asarray(cv2.resize(field, (w // factor, h // factor), interpolation=cv2.INTER_AREA), np.float32)
    return out


RELIEF_STEPS = (0.25, 0.5, 0.75, 1.0)


def _relief_candidates(b: F32, shift: NDArray[np.float32] | None) -> list[F32]:
    """The earlier mosaic as is, and moved along each cell's relief direction by fractions of its reach."""
    out = [b]
    if shift is None or not np.any(shift):
        return out
    h, w = b.shape[:2]
    gx, gy = np.meshgrid(np.arange(w, dtype=np.float32), np.arange(h, dtype=np.float32))
    for t in RELIEF_STEPS:
        map_x = gx + t * shift[..., 0]
        map_y = gy + t * shift[..., 1]
        out.append(
            np.asarray(cv2.remap(b, map_x, map_y, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE), np.float32)
        )
    return out


def relief_shift_px(
    after_nadir_px: NDArray[np.float32],
    before_nadir_px: NDArray[np.float32],
    height_m: float,
    max_relief_height_m: float,
) -> NDArray[np.float32]:
    """(H, W, 2) per later-mosaic pixel: where the same roof point lies in the earlier mosaic, at most.

    A point `h` up that the later survey saw from nadir N_a lies `h / (H - h)` of (N_a - N_b) further on in
    the earlier mosaic, whose view came from N_b (H: camera height). The shift for the tallest expected
    thing bounds the search; 0 where either view is unknown.
    """
    if max_relief_height_m <= 0 or not math.isfinite(height_m):
        return np.zeros_like(after_nadir_px)
    k = max_relief_height_m / max(height_m - max_relief_height_m, 1.0)
    out = (k * (after_nadir_px - before_nadir_px)).astype(np.float32)
    out[~np.isfinite(out)] = 0.0
    return out
