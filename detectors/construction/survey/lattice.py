"""Thin straight lines running both ways across a region: the deck of a scaffold seen from above.

A scaffold is a frame of steel tubes (ledgers and transoms every 1-2 m) with planks between them, built
parallel to the walls it stands against. From a drone at ~100 m the survey mosaic has ~0.25 m pixels, so a
48 mm tube is a fraction of a pixel: it shows as a faint line a few grey levels brighter than the planks,
too weak for a per-pixel edge threshold but continuous over the whole deck. Averaged along its own
direction such a line keeps its strength while soil grain, noise and the speckle of parked cars (short,
randomly placed edges) average away.

`line_energy` measures exactly that, in the frame of the region's minimum-area rectangle (its sides are
the scaffold's): the second derivative of brightness across each axis, averaged along the other axis over
`LINE_LENGTH_M`, as an RMS over the region's interior. Roof ribs and plank rows give lines one way only; a
scaffold's tubes give them both ways (`minor` close to `major`). `line_period` says whether those lines stand at
one spacing, as tubes do (parked cars and soil put theirs anywhere).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import cv2
import numpy as np
from numpy.typing import NDArray

LINE_LENGTH_M = 1.0
"""Lines are averaged along themselves with a Gaussian of this sigma (a tube runs the deck's whole length,
soil grain and noise do not)."""
SMOOTH_PX = 0.7
"""Brightness is smoothed by this sigma (pixels) before the second derivative (JPEG and sensor noise)."""
INTERIOR_M = 1.0
"""Lines are measured this far inside the region's outline (its outline and leaning walls are lines too)."""
PERIOD_MIN_M = 1.0
PERIOD_MAX_M = 3.0
"""Spacings at which `line_period` looks for lines repeating: scaffold ledgers and transoms stand 1-2 m apart
(bays up to about 2.5 m)."""
STRONG_EDGE = 60.0
"""Sobel magnitude (grey levels, after `SMOOTH_PX`) of an edge far stronger than a tube's: a shadow's edge, the
netting hung along a deck's side, the deck's own outline. `line_period` leaves out the pixels beside one (a tube a
fraction of a pixel thick stays well under it; `classify.EDGE_STRENGTH` is the same figure)."""
PITCH_JITTER_PX = 0.7
"""`line_period` smooths the comb of lines by this sigma (pixels) before correlating it: tubes 1.6 m apart on
0.25 m pixels fall 6 and 7 pixels apart in turn, and an exact comb splits its peak between the two lags (a
6.5-pixel comb measured 0.41 unsmoothed, 0.55 at this sigma; lines at uneven spacings at most 0.41, 0.37 before)."""


@dataclass(frozen=True)
class LineEnergy:
    """RMS strength (grey levels per pixel squared) of straight lines along each side of a region."""

    major: float
    """The stronger direction (roof ribs, plank rows, a scaffold's ledgers)."""
    minor: float
    """The weaker, perpendicular direction (a scaffold's transoms; nothing on a ribbed or plain roof)."""

    @property
    def balance(self) -> float:
        """minor / major: 1 for a square lattice, near 0 for lines one way only."""
        return self.minor / self.major if self.major > 0 else 0.0


NO_LINES = LineEnergy(0.0, 0.0)
"""What a region too small to measure has."""


def line_energy(bgr: NDArray[np.uint8], inside: NDArray[np.bool_], cell_m: float) -> LineEnergy:
    """Line strength both ways across the region `inside` (a mask over `bgr`, `cell_m` metres per pixel),
    in the frame of the region's minimum-area rectangle."""
    turned = _turned(bgr, inside, cell_m)
    if turned is None:
        return NO_LINES
    grey, core = turned
    across_x, across_y = _curvature(grey)
    sigma = LINE_LENGTH_M / cell_m
    size = int(6 * sigma) | 1
    along_x = cv2.GaussianBlur(across_x, (1, size), 0, sigmaY=sigma)
    along_y = cv2.GaussianBlur(across_y, (size, 1), sigma, sigmaY=0)
    ex = float(np.sqrt(np.mean(np.square(along_x[core]))))
    ey = float(np.sqrt(np.mean(np.square(along_y[core]))))
    return LineEnergy(max(ex, ey), min(ex, ey))


def line_period(bgr: NDArray[np.uint8], inside: NDArray[np.bool_], cell_m: float) -> float:
    """How regularly lines repeat across the region (0: not at all, 1: exactly), the stronger of its two sides.

    Scaffold tubes stand at a fixed spacing (ledgers and transoms every `PERIOD_MIN_M`-`PERIOD_MAX_M`), so the
    brightness curvature across the deck, averaged along the tubes over the whole region, is a comb: its
    normalised autocorrelation peaks again at that spacing. Parked cars, their shadows and soil grain put lines
    at no fixed spacing; their profile decorrelates.

    Pixels beside a strong edge (`STRONG_EDGE`) are left out of the comb: a shadow across the deck or the netting
    along one side is one line far stronger than any tube; kept, it would hold most of the comb's energy, and
    one spike correlates at no lag. Parked cars, all strong edges, leave little comb to measure (0 when under
    `2 * PERIOD_MAX_M` of it is left). The comb is smoothed by `PITCH_JITTER_PX` (tubes fall on whole pixels).
    """
    turned = _turned(bgr, inside, cell_m)
    if turned is None:
        return 0.0
    grey, core = turned
    across_x, across_y = _curvature(grey)
    kept = core & ~_beside_strong_edges(grey)
    lags = (max(1, round(PERIOD_MIN_M / cell_m)), round(PERIOD_MAX_M / cell_m) + 1)
    half = math.ceil(3 * PITCH_JITTER_PX)
    jitter = cv2.getGaussianKernel(2 * half + 1, PITCH_JITTER_PX, cv2.CV_64F).ravel()
    best = 0.0
    for curvature, along in ((across_x, 0), (across_y, 1)):
        count = core.sum(axis=along)
        rows = count >= max(5.0, 0.5 * float(count.max()))
        if rows.sum() < 2 * lags[1]:
            continue
        # A line mostly beside a strong edge is left blank (0 once centred), not dropped: the comb keeps its pitch.
        seen = kept.sum(axis=along)[rows]
        measured = seen >= 0.5 * count[rows]
        if measured.sum() < 2 * lags[1]:
            continue
        profile = np.zeros(int(rows.sum()))
        profile[measured] = (curvature * kept).sum(axis=along)[rows][measured] / seen[measured]
        profile[measured] -= profile[measured].mean()
        profile = np.convolve(np.pad(profile, half, mode="reflect"), jitter, "valid")
        auto = np.correlate(profile, profile, "full")[len(profile) - 1 :]
        if auto[0] <= 0:
            continue
        best = max(best, float(auto[lags[0] : lags[1]].max() / auto[0]))
    return best


def _turned(
    bgr: NDArray[np.uint8], inside: NDArray[np.bool_], cell_m: float
) -> tuple[NDArray[np.float32], NDArray[np.bool_]] | None:
    """Brightness smoothed by `SMOOTH_PX`, and the region's interior, both turned into the frame of the region's
    minimum-area rectangle (None when the interior is too small to measure)."""
    core = _interior(inside, max(1, round(INTERIOR_M / cell_m)))
    if core.sum() < 50:
        return None
    contours, _ = cv2.findContours(inside.astype(np.uint8), cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
    (cx, cy), _, angle = cv2.minAreaRect(np.concatenate(contours))
    turn = cv2.getRotationMatrix2D((cx, cy), angle, 1.0)
    h, w = inside.shape
    flat = cv2.cvtColor(bgr, cv2.COLOR_BGR2GRAY).astype(np.float32)
    turned = cv2.warpAffine(flat, turn, (w, h), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT)
    core = cv2.warpAffine(core.astype(np.uint8), turn, (w, h), flags=cv2.INTER_NEAREST).astype(bool)
    if core.sum() < 50:
        return None
    grey = np.asarray(cv2.GaussianBlur(turned, (0, 0), SMOOTH_PX), np.float32)
    return grey, core


def _curvature(grey: NDArray[np.float32]) -> tuple[NDArray[np.float32], NDArray[np.float32]]:
    """Second derivative of brightness across x and across y (a thin line is a ridge or trough of it)."""
    across_x = np.asarray(cv2.Sobel(grey, cv2.CV_32F, 2, 0, ksize=3), np.float32)
    across_y = np.asarray(cv2.Sobel(grey, cv2.CV_32F, 0, 2, ksize=3), np.float32)
    return across_x, across_y


def _beside_strong_edges(grey: NDArray[np.float32]) -> NDArray[np.bool_]:
    """Pixels on or next to an edge stronger than `STRONG_EDGE` (only `line_period` leaves them out)."""
    edge = np.hypot(cv2.Sobel(grey, cv2.CV_32F, 1, 0, ksize=3), cv2.Sobel(grey, cv2.CV_32F, 0, 1, ksize=3))
    out: NDArray[np.bool_] = cv2.dilate((edge > STRONG_EDGE).astype(np.uint8), np.ones((3, 3), np.uint8)) > 0
    return out


def _interior(inside: NDArray[np.bool_], px: int) -> NDArray[np.bool_]:
    core = cv2.erode(inside.astype(np.uint8), np.ones((2 * px + 1, 2 * px + 1), np.uint8)).astype(bool)
    if core.sum() < 50:
        core = cv2.erode(inside.astype(np.uint8), np.ones((3, 3), np.uint8)).astype(bool)
    return core
