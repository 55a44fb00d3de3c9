"""Weights-free flame cue (colour + flicker), per camera.

Both cues (this and `detectors.fire.smoke_cue`) work on a shrunk copy of the frame (`WorkFrame`,
`work_width_px`, in `detectors.fire.work_frame`), keep only the previous frame's state they need, and return
`Candidates` in source pixels.

Flame: flame-coloured blobs that are hot and alive. A flame emits light, so it has bright, not bluish
pixels in or around it (a sign, a coat or a wooden floor has none); and it changes between analysed
frames, either inside (bright and dark streaks rise through it while its outline may hold still: see
`detectors.fire.inner`) or in its outline (`disorder`, the Jaccard distance of this and the previous
colour mask after the best rigid shift: a sign or a parked car scores near 0, flames 0.2-0.7). Each blob
is judged on its own before blobs are grouped into fires (see `FlameCue`).
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np
from numpy.typing import NDArray

from detectors.fire.blobs import blob_boxes, box_sums, group_boxes, integral
from detectors.fire.candidates import KIND_FIRE, SOURCE_CUE, Candidates
from detectors.fire.colour import Means, flame_colour_mask, frame_means, ycrcb
from detectors.fire.cue_config import FlameCueConfig
from detectors.fire.disorder import aligned_disorder, grow_mask, mask_disorder
from detectors.fire.inner import change_maps, hot_pixels, inner_change
from detectors.fire.work_frame import CueResult, WorkFrame

_SHIFT_SIZE = 256
"""Longest side (pixels) of the image the camera's sway is measured on."""


@dataclass(frozen=True, slots=True)
class _Verdict:
    """Per-blob outcome of the flame tests of one frame."""

    flicker: NDArray[np.bool_]
    now_px: NDArray[np.float64]
    inner: NDArray[np.float64]
    liveliness: NDArray[np.float64]
    onset: int
    dim: int
    static: int


@dataclass(frozen=True, slots=True)
class _Previous:
    work: WorkFrame
    mask: NDArray[np.bool_]
    means: Means


class FlameCue:
    """Flame-coloured blobs that are hot and flicker; keeps the previous analysed frame of one camera.

    Blobs are seeded only by pixels that have not been flame-coloured *and still* for long
    (`stable_after_frames`), so static orange things never start one and a flame touching them is judged
    on its own area, while a steady flame whose inside keeps changing keeps seeding. Tests per blob,
    cheapest first, each rejection counted once under the first test that failed:
    (1) `onset`: its pixels were not flame-coloured in place in the previous frame (a lamp switching on,
    something arriving); (2) `dim`: no hot pixels (bright, not bluish) in it or on its rim; (3) `static`:
    neither its inside changed both ways (`min_inner_change`, at fine resolution, with and without the
    measured camera sway) nor its outline (`min_disorder` after the best rigid shift, confirmed at fine
    resolution with an edge tolerance, so outline noise of a thin orange strip does not count).
    """

    def __init__(self) -> None:
        self._prev: _Previous | None = None
        self._colour_table: NDArray[np.float64] | None = None
        self._age: NDArray[np.uint16] = np.zeros((0, 0), np.uint16)
        self._window: NDArray[np.float32] | None = None
        self.last_mask: NDArray[np.bool_] | None = None
        self.last_shift_px: tuple[float, float] = (0.0, 0.0)

    def colour_pixels(self, boxes_work: NDArray[np.integer]) -> NDArray[np.float64]:
        """Flame-coloured pixel count of the latest frame inside each work-pixel box (0 before any frame)."""
        if self._colour_table is None:
            return np.zeros((len(boxes_work),), np.float64)
        return box_sums(self._colour_table, boxes_work)

    def hold(self) -> None:
        """Take a still frame (the gate found nothing changed in it) as the previous one again: what `step`
        would do on an identical frame, without colour-testing it. Flame-coloured pixels age by one frame
        (an identical frame has them flame-coloured and unchanged), so a still sign turns stable on the
        same count of analysed frames whether or not they were still; the previous frame is kept."""
        if self._prev is not None and self._age.shape == self._prev.mask.shape:
            self._age = np.where(self._prev.mask, np.minimum(self._age + 1, 60000), 0).astype(np.uint16)

    def step(self, work: WorkFrame, cfg: FlameCueConfig) -> CueResult:
        means = frame_means(work.ycc)
        colour = flame_colour_mask(work.image, cfg, work.ycc, means) & work.allowed
        prev = self._prev
        self._prev = _Previous(work, colour, means)
        self.last_mask = colour
        self._colour_table = integral(colour)
        if prev is None or prev.mask.shape != colour.shape or prev.work.source.shape != work.source.shape:
            self._age = colour.astype(np.uint16)
            return CueResult(Candidates.empty())
        shift = self._camera_shift(prev, work, colour, cfg) if cfg.stabilise else (0.0, 0.0)
        self.last_shift_px = shift
        prev_mask, prev_ycc = prev.mask, prev.work.ycc
        if shift != (0.0, 0.0):
            moved = _translate(prev.work.image, shift, work.size)
            prev_ycc = ycrcb(moved)
            prev_mask = flame_colour_mask(moved, cfg, prev_ycc, means=prev.means) & work.allowed
        # Pixel by pixel (no tolerance): a flame's pixels change often, a sign's almost never.
        change = change_maps(work.ycc, prev_ycc, cfg.inner_luma_step, cfg.inner_warmth_step, tolerance_px=0)
        # How many analysed frames in a row each pixel has been flame-coloured without changing: a sign
        # or a brick wall is always on and still, so it must not seed blobs, or a flame touching it would
        # be judged together with it and its flicker diluted by the static area. A flame's inside keeps
        # changing, so its pixels keep seeding even when its outline holds still.
        still = colour & ~change.any
        age = np.where(still, np.minimum(self._age + 1, 60000), np.where(colour, self._age // 2, 0)).astype(np.uint16)
        self._age = age
        # The outline of a static thing flickers with noise and sway; its one-pixel rim counts as static.
        stable = cv2.dilate((age > cfg.stable_after_frames).astype(np.uint8), np.ones((3, 3), np.uint8)) > 0
        # Judge each blob on its own flicker first, then group the flickering ones: a car passing a
        # blinking lamp must not borrow the lamp's change.
        boxes, _ = blob_boxes(colour & ~stable, 0, cfg.min_component_px)
        if len(boxes) == 0:
            return CueResult(Candidates.empty())
        verdict = self._judge(prev, work, boxes, colour, prev_mask, shift, means, cfg)
        if not verdict.flicker.any():
            return CueResult(Candidates.empty(), verdict.static, verdict.onset, verdict.dim)
        flicker = verdict.flicker
        gap = round(cfg.merge_gap_share * work.size[0])
        groups, member = group_boxes(boxes[flicker], gap, work.size)
        weight = verdict.now_px[flicker]
        group_px = np.bincount(member, weights=weight, minlength=len(groups))
        group_disorder = np.bincount(member, weights=weight * verdict.liveliness[flicker], minlength=len(groups)) / (
            np.maximum(group_px, 1.0)
        )
        score = np.clip(0.5 + group_disorder, 0.0, 1.0)
        cands = Candidates.build(work.to_source(groups), KIND_FIRE, score, SOURCE_CUE, disorder=group_disorder)
        return CueResult(cands, verdict.static, verdict.onset, verdict.dim)

    def _judge(
        self,
        prev: _Previous,
        work: WorkFrame,
        boxes: NDArray[np.int32],
        colour: NDArray[np.bool_],
        prev_mask: NDArray[np.bool_],
        shift: tuple[float, float],
        means: Means,
        cfg: FlameCueConfig,
    ) -> _Verdict:
        """The tests of each blob, cheapest first; each rejected blob is counted once, by the first it fails."""
        now_px = box_sums(integral(colour), boxes)
        both_px = box_sums(integral(colour & prev_mask), boxes)
        # (1) In place, unshifted: the other lamp of an alternating pair, shifted onto this one, must not
        # make a lamp switching on look like a flickering blob.
        judged = both_px / np.maximum(now_px, 1.0) >= cfg.min_overlap_prev
        # (2) A flame emits light: bright, not bluish pixels in the blob or on its rim.
        grown = boxes + np.array([-1, -1, 1, 1], np.int32)
        hot_px = box_sums(integral(hot_pixels(work.ycc, cfg.hot_min_luma)), grown)
        hot = (hot_px >= np.maximum(1.0, cfg.min_hot_share * now_px)) | (cfg.hot_min_luma <= 0)
        # (3) Its inside changes both ways (turbulence), or its outline changes even after the best
        # rigid shift; both are checked again at fine resolution, where a small flame is more than a
        # few pixels wide.
        raw = mask_disorder(2 * both_px, now_px + box_sums(integral(prev_mask), boxes))
        max_shift = max(0, round(cfg.max_shift_share * work.size[0]))
        inner = np.zeros((len(boxes),), np.float64)
        disorder = np.zeros((len(boxes),), np.float64)
        for k in np.flatnonzero(judged & hot).tolist():
            view = fine_view(prev, work, boxes[k], means=means, shift=shift, cfg=cfg)
            if view is None:
                continue
            inner[k] = fine_inner_change(view, cfg)
            if inner[k] >= cfg.min_inner_change or raw[k] < cfg.min_disorder:
                continue
            outline = aligned_disorder(colour, prev_mask, boxes[k], max_shift)
            if outline >= cfg.min_disorder and fine_disorder(view, cfg) >= cfg.min_fine_disorder:
                disorder[k] = outline
        lively = inner >= cfg.min_inner_change
        outline_ok = disorder >= max(cfg.min_disorder, 1e-9)
        flicker = judged & hot & (lively | outline_ok)
        return _Verdict(
            flicker=flicker,
            now_px=now_px,
            inner=inner,
            liveliness=np.maximum(np.where(lively, inner, 0.0), disorder),
            onset=int((~judged).sum()),
            dim=int((judged & ~hot).sum()),
            static=int((judged & hot & ~flicker).sum()),
        )

    def _camera_shift(
        self, prev: _Previous, work: WorkFrame, colour: NDArray[np.bool_], cfg: FlameCueConfig
    ) -> tuple[float, float]:
        """The camera's own sub-pixel sway between the two frames (work pixels), or (0, 0).

        A pole-mounted camera sways by fractions of a pixel; every orange outline then changes and
        would read as flicker. Phase correlation gives the global shift. Flame-coloured pixels are left
        out: at night a flame may be the only texture in view, and the camera's shift must not be
        measured on the very motion we want to see.
        """
        hide = cv2.dilate((prev.mask | colour).astype(np.uint8), np.ones((5, 5), np.uint8)) > 0
        g0 = prev.work.ycc[..., 0].astype(np.float32)
        g1 = work.ycc[..., 0].astype(np.float32)
        fill = _median_grey(work.ycc[..., 0])
        g0[hide] = fill
        g1[hide] = fill
        # Measured on a small power-of-two image: the DFT is then cheap, and sub-pixel accuracy there
        # is still a small fraction of a work pixel.
        k = _SHIFT_SIZE / max(work.size)
        size = (max(8, round(work.size[0] * k)), max(8, round(work.size[1] * k)))
        g0 = np.asarray(cv2.resize(g0, size, interpolation=cv2.INTER_AREA), np.float32)
        g1 = np.asarray(cv2.resize(g1, size, interpolation=cv2.INTER_AREA), np.float32)
        if self._window is None or self._window.shape != g0.shape:
            self._window = np.asarray(cv2.createHanningWindow(size, cv2.CV_32F), np.float32)
        (dx, dy), response = cv2.phaseCorrelate(g0, g1, self._window)
        dx, dy = dx / k, dy / k
        limit = max(1.0, cfg.max_shake_share * work.size[0])
        if response < 0.1 or abs(dx) > limit or abs(dy) > limit or (abs(dx) < 0.05 and abs(dy) < 0.05):
            return (0.0, 0.0)
        return (float(dx), float(dy))


def _median_grey(luma: NDArray[np.int16]) -> float:
    """`np.median` of a plane of 0-255 grey levels, read off its histogram: the same value (the mean of
    the two middle ones for an even count) at a twentieth of the CPU of sorting 130,000 pixels."""
    hist = cv2.calcHist([np.ascontiguousarray(luma, dtype=np.uint8)], [0], None, [256], [0, 256]).ravel()
    cum = np.cumsum(hist)
    n = int(cum[-1])
    low = int(np.searchsorted(cum, (n - 1) // 2, side="right"))
    high = int(np.searchsorted(cum, n // 2, side="right"))
    return (low + high) / 2.0


def _translate(image: NDArray[np.uint8], shift: tuple[float, float], size: tuple[int, int]) -> NDArray[np.uint8]:
    moved = cv2.warpAffine(
        image,
        np.array([[1, 0, shift[0]], [0, 1, shift[1]]], np.float32),
        size,
        flags=cv2.INTER_LINEAR,
        borderMode=cv2.BORDER_REPLICATE,
    )
    return np.asarray(moved, np.uint8)


@dataclass(frozen=True, slots=True)
class FineView:
    """A blob cut from the full-resolution frames, now and before (sway removed), at the fine scale."""

    now: NDArray[np.uint8]
    prev: NDArray[np.uint8]
    now_mask: NDArray[np.bool_]
    prev_mask: NDArray[np.bool_]
    prev_unshifted: NDArray[np.uint8] | None = None
    """The previous crop without the sway correction (None when no sway was measured)."""
    scale: float = 1.0
    """Fine-view pixels per source pixel (above 1 when the camera is narrower than `fine_width_px`)."""


def fine_view(
    prev: _Previous,
    work: WorkFrame,
    box: NDArray[np.integer],
    *,
    means: Means,
    shift: tuple[float, float],
    cfg: FlameCueConfig,
) -> FineView | None:
    """The blob's box from both full-resolution frames, scaled to a `fine_width_px` view.

    The previous crop is taken where the camera's sway moved it; both crops get flame-colour masks with
    their own frames' means. None when the box is empty.
    """
    src_h, src_w = work.source.shape[:2]
    s = work.scale
    pad = 2
    x1 = max(0, int(box[0] * s) - pad)
    y1 = max(0, int(box[1] * s) - pad)
    x2 = min(src_w, int(np.ceil(box[2] * s)) + pad)
    y2 = min(src_h, int(np.ceil(box[3] * s)) + pad)
    if x2 <= x1 or y2 <= y1:
        return None
    now_crop = work.source[y1:y2, x1:x2]
    dx, dy = shift[0] * s, shift[1] * s
    centre = ((x1 + x2 - 1) / 2 - dx, (y1 + y2 - 1) / 2 - dy)
    prev_crop = np.asarray(cv2.getRectSubPix(prev.work.source, (x2 - x1, y2 - y1), centre), np.uint8)
    still = prev.work.source[y1:y2, x1:x2] if (dx, dy) != (0.0, 0.0) else None
    # Crops are brought to one scale (the frame as if `fine_width_px` wide), so the edge tolerance means
    # the same share of the view whatever the camera's resolution.
    f = cfg.fine_width_px / src_w
    if abs(f - 1.0) <= 0.05:
        f = 1.0
    else:
        size = (max(1, round((x2 - x1) * f)), max(1, round((y2 - y1) * f)))
        interp = cv2.INTER_AREA if f < 1.0 else cv2.INTER_LINEAR
        now_crop = np.asarray(cv2.resize(now_crop, size, interpolation=interp), np.uint8)
        prev_crop = np.asarray(cv2.resize(prev_crop, size, interpolation=interp), np.uint8)
        if still is not None:
            still = np.asarray(cv2.resize(still, size, interpolation=interp), np.uint8)
    now_crop = np.ascontiguousarray(now_crop)
    return FineView(
        now=now_crop,
        prev=prev_crop,
        now_mask=flame_colour_mask(now_crop, cfg, means=means),
        prev_mask=flame_colour_mask(prev_crop, cfg, means=prev.means),
        prev_unshifted=None if still is None else np.ascontiguousarray(still),
        scale=f,
    )


def fine_disorder(view: FineView, cfg: FlameCueConfig) -> float:
    """In-place disorder of a blob's outline at fine resolution, with the edge tolerance.

    Pixels within `edge_tolerance_px` of the other frame's mask count as unchanged. Fewer than
    `min_fine_changed_px` changed pixels is no change at all (noise on a smooth orange sky flips a few
    pixels, a flame many).
    """
    a, b = view.now_mask, view.prev_mask
    total = float(a.sum() + b.sum())
    if total <= 0:
        return 0.0
    tol = cfg.edge_tolerance_px
    kept = float((a & grow_mask(b, tol)).sum() + (b & grow_mask(a, tol)).sum())
    if total - kept < cfg.min_fine_changed_px:
        return 0.0
    return float(mask_disorder(np.array([kept]), np.array([total]))[0])


def fine_inner_change(view: FineView, cfg: FlameCueConfig) -> float:
    """Two-way change inside a blob at fine resolution (see `detectors.fire.inner`), over the pixels
    flame-coloured in either frame, with a one-pixel tolerance for sway and edges."""
    region = view.now_mask | view.prev_mask
    if not region.any():
        return 0.0
    now = ycrcb(view.now)
    full = np.array([[0, 0, region.shape[1], region.shape[0]]], np.int64)
    # With and without the measured sway, and the smaller: a sway measured on a person walking past (the
    # only texture left when the flame-coloured area is hidden from the measurement) must not turn a
    # textured floor into turbulence; turbulence stays high whichever way the crops are aligned.
    # The tolerance is one source pixel (more fine-view pixels when the crops were enlarged), so
    # compression noise along a small camera's edges is not turbulence.
    tolerance = max(1, round(view.scale))
    best = 2.0
    for before in (view.prev, view.prev_unshifted):
        if before is None:
            continue
        maps = change_maps(now, ycrcb(before), cfg.inner_luma_step, cfg.inner_warmth_step, tolerance)
        best = min(best, float(inner_change(maps, region, full)[0][0]))
    return best


def still_candidates(image_bgr: NDArray[np.uint8], cfg: FlameCueConfig) -> NDArray[np.float32]:
    """What the flame cue can tell from one still image: boxes (source pixels) of flame-coloured blobs
    that have a hot core, grouped as the video path groups flickering blobs.

    Flicker needs two frames, so this is the colour stage alone: what a single photo (or the first
    frame of a camera) would put forward. Used to score the colour stage on still datasets.
    """
    work = WorkFrame.make(image_bgr, cfg.work_width_px)
    colour = flame_colour_mask(work.image, cfg, work.ycc)
    boxes, counts = blob_boxes(colour, 0, cfg.min_component_px)
    if len(boxes) == 0:
        return np.zeros((0, 4), np.float32)
    if cfg.hot_min_luma > 0:
        grown = boxes + np.array([-1, -1, 1, 1], np.int32)
        hot_px = box_sums(integral(hot_pixels(work.ycc, cfg.hot_min_luma)), grown)
        boxes = boxes[hot_px >= np.maximum(1.0, cfg.min_hot_share * counts)]
    if len(boxes) == 0:
        return np.zeros((0, 4), np.float32)
    groups, _ = group_boxes(boxes, round(cfg.merge_gap_share * work.size[0]), work.size)
    return work.to_source(groups)
