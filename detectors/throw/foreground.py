"""Foreground blobs at full frame rate: stabilise, subtract the background, reject exploded frames.

One `ForegroundExtractor` per camera. Each frame is turned grey and shrunk by a whole factor (fast
area averaging), aligned to a slowly updated reference by the Lucas-Kanade flow of its corners (wind
jitter would light up every window edge), compared with a running-average background whose threshold
rises on edges and follows global gain (auto exposure), masked (sky, shields) and cut into blobs. Frames
whose foreground explodes (rain, snow, flashes, exposure steps, shake) are rejected with a reason
instead of feeding hundreds of blobs to the tracker. Blobs come back as arrays in source pixels of the
reference view.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

import cv2
import numpy as np
from numpy.typing import NDArray

from detectors.throw.blobs import Blobs, find_blobs
from detectors.throw.config_image import ForegroundConfig, Polygon
from detectors.throw.stabiliser import Stabiliser
from detectors.zones import RegionMask, polygon_px

_EDGE_REFRESH_FRAMES = 25
"""How often (frames) the edge-aware threshold image follows the background."""
_MIN_SHIFT_PX = 0.05
"""Shifts (processing px) smaller than this are not worth the warp."""
_FOREGROUND_RATE_SHARE = 0.125
"""Foreground pixels blend into the background at this share of the learning rate."""
_NOISE_EVERY_FRAMES = 10
"""Frames between noise measurements."""
_NOISE_STRIDE = 4
"""Every this-many-th row and column is sampled for the noise measurement."""
_WARMUP_FRAMES = 12
"""Frames after the background is first taken in which it learns fast and no blobs are reported."""
_WARMUP_RATE = 0.25
_TILES = 4
"""The frame is cut into _TILES x _TILES tiles for the explosion test."""
_EXPLODED_TILE_SHARE = 0.5
"""Share of watched tiles over `max_foreground_fraction` that makes a frame 'exploded'."""


@dataclass(frozen=True, slots=True)
class ForegroundResult:
    """What one frame gave: blobs, or the reason it was rejected, and the numbers behind it."""

    blobs: Blobs
    rejected: str | None
    foreground_fraction: float
    shift_px: tuple[float, float]
    mean_grey: float


class ForegroundExtractor:
    """Per-camera background model, stabiliser and frame-rejection rules."""

    def __init__(
        self,
        config: ForegroundConfig,
        camera_id: str,
        stage_seconds: dict[str, float] | None = None,
        clock: Callable[[], float] = time.perf_counter,
    ) -> None:
        self._clock = clock
        self.camera_id = camera_id
        self.config = config
        self.stage_seconds = stage_seconds if stage_seconds is not None else {}
        self._size: tuple[int, int] | None = None
        self._bg: NDArray[np.float32] | None = None
        self._bg_mean = 0.0
        self._prev_mean: float | None = None
        self._stabiliser = Stabiliser(camera_id)
        self._thr: NDArray[np.uint8] | None = None
        self._edge_age = 0
        self._watch: NDArray[np.uint8] | None = None
        self._watched_px = 1
        self._watch_tiles = np.zeros((_TILES, _TILES), np.float32)
        self._mog: cv2.BackgroundSubtractorMOG2 | None = None
        self._warmup_left = 0
        self.noise_sigma = 0.0
        """Sensor noise measured on the frames (grey levels at processing size); 0 until measured."""
        self._noise_age = 0
        self._thr_base = 0.0

    # ----------------------------------------------------------------- configuration
    def reconfigure(self, config: ForegroundConfig) -> None:
        """Swap thresholds and masks; the background is kept unless the method or scale changed."""
        relearn = (config.method, config.process_width_px) != (
            self.config.method,
            self.config.process_width_px,
        )
        self.config = config
        self._watch = None
        self._mog = None if relearn else self._mog
        if config.method == "mog2" and self._mog is not None:
            self._mog.setVarThreshold(config.mog2_var_threshold)
        if relearn:
            self._reset_model()
        else:
            self._edge_age = _EDGE_REFRESH_FRAMES

    def _reset_model(self) -> None:
        """Forget the background, the stabilisation reference and the masks' raster (new frame size)."""
        self._bg = None
        self._bg_mean = 0.0
        self._prev_mean = None
        self._stabiliser.reset()
        self._thr = None
        self._edge_age = 0
        self._watch = None
        self._watched_px = 1
        self._mog = None

    def watched(self, xy_src: NDArray[np.float64]) -> NDArray[np.bool_]:
        """True for source-pixel points inside the frame and outside every mask (after the first frame)."""
        watch, size = self._watch, self._size
        pts = np.asarray(xy_src, np.float64).reshape(-1, 2)
        if watch is None or size is None:
            return np.zeros(len(pts), bool)
        f = self.factor_for(size[0])
        ij = np.floor(pts / f).astype(np.int64)
        ph, pw = watch.shape
        inside = (ij[:, 0] >= 0) & (ij[:, 0] < pw) & (ij[:, 1] >= 0) & (ij[:, 1] < ph)
        out = np.zeros(len(pts), bool)
        out[inside] = watch[ij[inside, 1], ij[inside, 0]] > 0
        return out

    @property
    def watched_area_px2(self) -> float:
        """Area of the watched view in source px² (1 before the first frame): where blobs can be found."""
        if self._size is None:
            return 1.0
        f = self.factor_for(self._size[0])
        return float(self._watched_px * f * f)

    def factor_for(self, width: int) -> int:
        """Whole downscale factor for a frame width (>= 1)."""
        return max(1, width // self.config.process_width_px)

    # ----------------------------------------------------------------- per frame
    def process(self, image: NDArray[np.uint8]) -> ForegroundResult:
        """Blobs of one BGR frame (source pixels), or a rejection reason."""
        t0 = self._clock()
        cfg = self.config
        h, w = image.shape[:2]
        if self._size != (w, h):
            self._size = (w, h)
            self._reset_model()
        f = self.factor_for(w)
        grey = _u8(cv2.cvtColor(image, cv2.COLOR_BGR2GRAY))
        if f > 1:
            pw, ph = w // f, h // f
            grey = _u8(cv2.resize(grey[: ph * f, : pw * f], (pw, ph), interpolation=cv2.INTER_AREA))
        ph, pw = grey.shape
        watch = self._watch
        if watch is None:
            watch = self._watch = self._watch_mask(w, h, pw, ph)
            self._watched_px = max(1, int(cv2.countNonZero(watch)))
            self._watch_tiles = _tile_means(watch)
        t1 = self._clock()
        self._add("prepare", t1 - t0)

        shift, mean_grey, reject = self._stabilise(grey, f)
        if reject is None and abs(shift[0]) + abs(shift[1]) > _MIN_SHIFT_PX:
            # subpixel: a half-pixel residual on a hard window edge would already be foreground
            matrix = np.array([[1.0, 0.0, -shift[0]], [0.0, 1.0, -shift[1]]], np.float32)
            grey = _u8(cv2.warpAffine(grey, matrix, (pw, ph), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE))
        t2 = self._clock()
        self._add("stabilise", t2 - t1)
        shift_src = (shift[0] * f, shift[1] * f)
        if (
            reject is None
            and self._prev_mean is not None
            and abs(mean_grey - self._prev_mean) > cfg.max_brightness_jump
        ):
            reject = "brightness_jump"
        self._prev_mean = mean_grey
        if reject is not None:
            if reject == "brightness_jump":
                self._relearn(grey, mean_grey)
            return ForegroundResult(Blobs.empty(), reject, 0.0, shift_src, mean_grey)

        fg, diff = self._subtract(grey, mean_grey)
        cv2.bitwise_and(fg, watch, dst=fg)
        fraction = cv2.countNonZero(fg) / self._watched_px
        t3 = self._clock()
        self._add("subtract", t3 - t2)
        if self._exploded(fg):
            return ForegroundResult(Blobs.empty(), "foreground_explosion", fraction, shift_src, mean_grey)
        blobs, too_many = find_blobs(fg, diff, f, cfg)
        self._add("blobs", self._clock() - t3)
        if too_many:
            return ForegroundResult(Blobs.empty(), "too_many_blobs", fraction, shift_src, mean_grey)
        return ForegroundResult(blobs, None, fraction, shift_src, mean_grey)

    def _add(self, stage: str, seconds: float) -> None:
        self.stage_seconds[stage] = self.stage_seconds.get(stage, 0.0) + seconds

    def _watch_mask(self, w: int, h: int, pw: int, ph: int) -> NDArray[np.uint8]:
        """255 where blobs may be found: everything but sky and shield polygons, at processing size."""
        polys: list[Polygon] = [*self.config.sky_masks, *self.config.shield_masks, *self.config.osd_masks]
        relative = [[(float(x) / w, float(y) / h) for x, y in polygon_px(p, w, h)] for p in polys]
        masked = RegionMask(relative).raster(pw, ph) if relative else np.zeros((ph, pw), bool)
        return np.where(masked, 0, 255).astype(np.uint8)

    def _stabilise(self, grey: NDArray[np.uint8], f: int) -> tuple[tuple[float, float], float, str | None]:
        """Shift of this frame against the reference (processing px), mean grey, and 'shake' if too big; when
        the view has moved for good the background no longer matches it and is relearned too."""
        shift, mean_grey, reject, moved = self._stabiliser.measure(grey, f, self.config)
        if moved:
            self._bg = None
            self._mog = None
        return shift, mean_grey, reject

    def _relearn(self, grey: NDArray[np.uint8], mean_grey: float) -> None:
        self._bg = grey.astype(np.float32)
        self._bg_mean = mean_grey
        self._edge_age = _EDGE_REFRESH_FRAMES
        if self._mog is not None:
            self._mog.apply(grey, learningRate=1.0)

    def _subtract(
        self, grey: NDArray[np.uint8], mean_grey: float
    ) -> tuple[NDArray[np.uint8], NDArray[np.uint8] | None]:
        """Foreground mask and |frame - background| (None for MOG2)."""
        cfg = self.config
        if cfg.method == "mog2":
            if self._mog is None:
                self._mog = cv2.createBackgroundSubtractorMOG2(
                    history=max(2, round(1 / cfg.learning_rate)),
                    varThreshold=cfg.mog2_var_threshold,
                    detectShadows=False,
                )
                self._mog.apply(grey, learningRate=1.0)
                return np.zeros_like(grey), None
            fg = self._mog.apply(grey, learningRate=cfg.learning_rate)
            return np.asarray(fg, np.uint8), None
        if self._bg is None or self._bg.shape != grey.shape:
            self._relearn(grey, mean_grey)
            self._warmup_left = _WARMUP_FRAMES
            return np.zeros_like(grey), None
        if self._warmup_left > 0:
            # the first frame's moving things (flakes, birds) would stay as ghosts for seconds: learn fast
            self._warmup_left -= 1
            cv2.accumulateWeighted(grey, self._bg, _WARMUP_RATE)
            self._bg_mean += _WARMUP_RATE * (mean_grey - self._bg_mean)
            return np.zeros_like(grey), None
        if self._thr is None or self._edge_age >= _EDGE_REFRESH_FRAMES or self._thr.shape != grey.shape:
            self._thr = self._threshold_image(self._bg)
            self._thr_base = self._base_threshold()
            self._edge_age = 0
        self._edge_age += 1
        gain = mean_grey / self._bg_mean if self._bg_mean > 1.0 else 1.0
        bg_u8 = cv2.convertScaleAbs(self._bg, alpha=gain)
        diff = _u8(cv2.absdiff(grey, bg_u8))
        self._measure_noise(diff)
        fg = _u8(cv2.compare(diff, self._thr, cv2.CMP_GT))
        # foreground pixels learn slowly: an object hanging near its apex must not leave a ghost behind,
        # yet a light switched on is still absorbed within seconds
        cv2.accumulateWeighted(grey, self._bg, cfg.learning_rate, mask=cv2.bitwise_not(fg))
        cv2.accumulateWeighted(grey, self._bg, cfg.learning_rate * _FOREGROUND_RATE_SHARE, mask=fg)
        self._bg_mean += cfg.learning_rate * (mean_grey - self._bg_mean)
        return fg, diff

    def _exploded(self, fg: NDArray[np.uint8]) -> bool:
        """True when most of the watched tiles changed at once (flash, exposure step, the lamp switching).

        Tiles, not the whole frame: rain spreads thinly over every tile, a headlight sweep or a lit shop
        front fills a few tiles, and neither is a reason to go blind.
        """
        cfg = self.config
        watched = self._watch_tiles > 0.1
        if not watched.any():
            return False
        share = _tile_means(fg)[watched] / self._watch_tiles[watched]
        return float(np.mean(share > cfg.max_foreground_fraction)) >= _EXPLODED_TILE_SHARE

    def _threshold_image(self, bg: NDArray[np.float32]) -> NDArray[np.uint8]:
        """Per-pixel threshold: the base plus gain x local gradient (grey levels per pixel)."""
        cfg = self.config
        gx = cv2.Sobel(bg, cv2.CV_32F, 1, 0, ksize=3, scale=0.125)
        gy = cv2.Sobel(bg, cv2.CV_32F, 0, 1, ksize=3, scale=0.125)
        grad = np.maximum(np.abs(gx), np.abs(gy))
        # a half-pixel residual shift moves an edge by half its slope; dilate so neighbours share it
        grad = _f32(cv2.dilate(grad, np.ones((3, 3), np.uint8)))
        thr = self._base_threshold() + cfg.edge_threshold_gain * grad
        return _u8(np.clip(thr, 0, 255))

    def _base_threshold(self) -> float:
        """diff_threshold, raised to noise_threshold_sigmas x the measured sensor noise (night, high gain)."""
        cfg = self.config
        return max(float(cfg.diff_threshold), cfg.noise_threshold_sigmas * self.noise_sigma)

    def _measure_noise(self, diff: NDArray[np.uint8]) -> None:
        """Sensor noise (grey levels) from the median |frame - background| on a sparse grid, smoothed.

        Most pixels show only noise against a running-average background, and the median ignores the few
        that show objects or edges: median |N(0, sigma)| = 0.6745 sigma.
        """
        self._noise_age += 1
        if self._noise_age < _NOISE_EVERY_FRAMES and self.noise_sigma > 0:
            return
        self._noise_age = 0
        sample = diff[::_NOISE_STRIDE, ::_NOISE_STRIDE]
        sigma = float(np.median(sample)) / 0.6745 if sample.size else 0.0
        self.noise_sigma = sigma if self.noise_sigma <= 0 else 0.8 * self.noise_sigma + 0.2 * sigma
        if abs(self._base_threshold() - self._thr_base) >= 1.0:
            self._edge_age = _EDGE_REFRESH_FRAMES  # the threshold image follows at once


def _tile_means(mask: NDArray[np.uint8]) -> NDArray[np.float32]:
    """Mean of a 0/255 mask over a _TILES x _TILES grid, as shares 0-1."""
    return np.asarray(cv2.resize(mask, (_TILES, _TILES), interpolation=cv2.INTER_AREA), np.float32) / 255.0


def _u8(a: object) -> NDArray[np.uint8]:
    """Type an OpenCV result as the uint8 image it is (no copy)."""
    return np.asarray(a, np.uint8)


def _f32(a: object) -> NDArray[np.float32]:
    """Type an OpenCV result as the float32 image it is (no copy)."""
    return np.asarray(a, np.float32)
