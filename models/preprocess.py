"""Letterbox and batch: BGR frames of any sizes -> one contiguous (B, 3, H, W) float tensor in [0, 1].

The arithmetic matches Ultralytics' LetterBox exactly (scale = min of the side ratios, each resized side
rounded half-to-even and at least 1 px, padding split as round(d/2 - 0.1) / round(d/2 + 0.1), grey 114,
bilinear resize), because a box drawn by a threshold tuned in Ultralytics must land in the same place
here. Boxes map back with the same per-axis gains (`Letterbox.gain_x/gain_y`).

Per frame the work is one cv2.resize written straight into a reused uint8 canvas; per batch it is one
vectorised numpy pass doing BGR->RGB, HWC->CHW and /255 into a reused tensor. Buffers are per thread,
so several batchers and tiled calls may share a model safely.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass

import cv2
import numpy as np
from numpy.typing import NDArray

from foundation.errors import ModelError

PAD_VALUE = 114
_MAX_CACHED_SHAPES = 4


@dataclass(frozen=True, slots=True)
class Letterbox:
    """Where one source image sits in the model input: its resized size and the top-left padding."""

    src_h: int
    src_w: int
    new_h: int
    new_w: int
    top: int
    left: int

    @property
    def gain_x(self) -> float:
        return self.new_w / self.src_w

    @property
    def gain_y(self) -> float:
        return self.new_h / self.src_h


def resized_shape(src_hw: tuple[int, int], imgsz: tuple[int, int]) -> tuple[int, int]:
    """(height, width) after scaling to fit `imgsz` keeping the aspect ratio (upscaling allowed)."""
    h, w = src_hw
    r = min(imgsz[0] / h, imgsz[1] / w)
    return max(round(h * r), 1), max(round(w * r), 1)


def rect_shape(new_hw: tuple[int, int], imgsz: tuple[int, int], stride: int) -> tuple[int, int]:
    """The smallest input holding `new_hw` padded only up to the stride (Ultralytics' `auto` letterbox)."""
    return new_hw[0] + (imgsz[0] - new_hw[0]) % stride, new_hw[1] + (imgsz[1] - new_hw[1]) % stride


def place(src_hw: tuple[int, int], new_hw: tuple[int, int], canvas_hw: tuple[int, int]) -> Letterbox:
    """Centre a `new_hw` image on a `canvas_hw` input with Ultralytics' rounding of the padding."""
    dh = (canvas_hw[0] - new_hw[0]) / 2
    dw = (canvas_hw[1] - new_hw[1]) / 2
    return Letterbox(src_hw[0], src_hw[1], new_hw[0], new_hw[1], round(dh - 0.1), round(dw - 0.1))


def plan_batch(
    shapes: Sequence[tuple[int, int]], imgsz: tuple[int, int], stride: int, *, rect: bool,
) -> tuple[tuple[int, int], list[Letterbox]]:
    """The input size for a batch and each image's placement in it.

    Without `rect` every image is letterboxed to `imgsz`. With `rect` (dynamic-shape models) the input is
    the smallest stride-padded size that holds every image's resized form: for a batch of same-shape
    frames that is exactly Ultralytics' minimal rectangle (640x384 for 16:9 at 640).
    """
    news = [resized_shape(s, imgsz) for s in shapes]
    if rect and news:
        rects = [rect_shape(n, imgsz, stride) for n in news]
        canvas = (max(r[0] for r in rects), max(r[1] for r in rects))
    else:
        canvas = imgsz
    return canvas, [place(s, n, canvas) for s, n in zip(shapes, news, strict=True)]


def letterbox_into(image: NDArray[np.uint8], box: Letterbox, canvas: NDArray[np.uint8]) -> None:
    """Write `image` resized and padded into `canvas` (H, W, 3) uint8, in place."""
    canvas.fill(PAD_VALUE)
    region = canvas[box.top : box.top + box.new_h, box.left : box.left + box.new_w]
    if (box.new_h, box.new_w) == image.shape[:2]:
        np.copyto(region, image)
    else:
        cv2.resize(image, (box.new_w, box.new_h), dst=region, interpolation=cv2.INTER_LINEAR)


def check_images(images: Sequence[NDArray[np.uint8]]) -> None:
    """Every image must be (H, W, 3) uint8 BGR with both sides at least 1 px."""
    for i, im in enumerate(images):
        if im.dtype != np.uint8 or im.ndim != 3 or im.shape[2] != 3 or im.shape[0] < 1 or im.shape[1] < 1:
            raise ModelError(f"image {i}: expected an (H, W, 3) uint8 BGR array, got {im.dtype} {im.shape}")


class Preprocessor:
    """Turns a list of BGR images into the model's input tensor, reusing per-thread buffers."""

    def __init__(self, imgsz: tuple[int, int], stride: int, *, rect: bool, dtype: type[np.floating]) -> None:
        self.imgsz = imgsz
        self.stride = stride
        self.rect = rect
        self.dtype = np.dtype(dtype)
        self._local = threading.local()

    def _buffers(self, rows: int, hw: tuple[int, int]) -> tuple[NDArray[np.uint8], NDArray[np.floating]]:
        cache: OrderedDict[tuple[int, int, int], tuple[NDArray[np.uint8], NDArray[np.floating]]]
        cache = getattr(self._local, "cache", None) or OrderedDict()
        self._local.cache = cache
        key = (rows, hw[0], hw[1])
        bufs = cache.get(key)
        if bufs is None:
            bufs = (
                np.empty((rows, hw[0], hw[1], 3), np.uint8),
                np.empty((rows, 3, hw[0], hw[1]), self.dtype),
            )
            cache[key] = bufs
            while len(cache) > _MAX_CACHED_SHAPES:
                cache.popitem(last=False)
        else:
            cache.move_to_end(key)
        return bufs

    def __call__(
        self, images: Sequence[NDArray[np.uint8]], rows: int | None = None, imgsz: tuple[int, int] | None = None,
    ) -> tuple[NDArray[np.floating], list[Letterbox]]:
        """(tensor, placements). `rows` > len(images) pads the batch with blank rows (static-batch models);
        `imgsz` letterboxes to that size instead of this preprocessor's (gated crops of many sizes share
        one preprocessor, so the per-thread buffers stay bounded).

        The tensor is a buffer reused by this thread's next call: run inference on it before calling again.
        """
        check_images(images)
        n = len(images)
        rows = max(rows or n, n)
        hw, boxes = plan_batch([im.shape[:2] for im in images], imgsz or self.imgsz, self.stride, rect=self.rect)
        canvas, tensor = self._buffers(rows, hw)
        for i, (im, box) in enumerate(zip(images, boxes, strict=True)):
            letterbox_into(im, box, canvas[i])
        if rows > n:
            canvas[n:].fill(0)
        # One pass for the batch: BGR->RGB (reverse channels), HWC->CHW, uint8 -> float / 255 exactly as
        # Ultralytics does (divide, not multiply by 1/255, so values are bit-identical).
        np.divide(canvas[..., ::-1].transpose(0, 3, 1, 2), np.float32(255.0), out=tensor, dtype=np.float32)
        return tensor, boxes
