"""Foreground mask -> blobs: connected components, their centroids, boxes, contrast and shape, vectorised.

Split from `foreground.py` (which makes the mask); the tracker and the rain population read `Blobs`.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np
from numpy.typing import NDArray

from detectors.throw.config_image import ForegroundConfig
from detectors.throw.weather import BlobShape, blob_shapes


@dataclass(frozen=True, slots=True)
class Blobs:
    """Foreground blobs of one frame, source pixels: centroids (N,2), boxes (N,4), box areas (N,).

    `contrast` is the mean grey-level difference from the background over the blob's pixels (the
    wingbeat shows in it), `shape` the second-moment shape at processing size (rain streaks show in it).
    """

    xy: NDArray[np.float64]
    xyxy: NDArray[np.float32]
    area_px: NDArray[np.float32]
    contrast: NDArray[np.float32]
    shape: BlobShape

    @classmethod
    def empty(cls) -> Blobs:
        z = np.zeros((0,), np.float64)
        return cls(
            np.zeros((0, 2), np.float64),
            np.zeros((0, 4), np.float32),
            np.zeros((0,), np.float32),
            np.zeros((0,), np.float32),
            BlobShape(z, z, z),
        )

    def __len__(self) -> int:
        return int(self.xy.shape[0])


def find_blobs(
    fg: NDArray[np.uint8],
    diff: NDArray[np.uint8] | None,
    f: int,
    cfg: ForegroundConfig,
) -> tuple[Blobs, bool]:
    """Connected components (joined by dilation) -> centroids, boxes, contrast and shape, vectorised.

    True when there are more than `max_blobs_per_frame` (the CPU cap; weather alone should not reach it).
    """
    joined = fg
    if cfg.dilate_px > 0:
        k = 2 * cfg.dilate_px + 1
        joined = np.asarray(cv2.dilate(fg, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (k, k))), np.uint8)
    # labels without OpenCV's stats (those cost 8x the labelling); the stats come from the raw pixels
    n, labels = cv2.connectedComponents(joined, connectivity=8, ltype=cv2.CV_32S)
    if n <= 1:
        return Blobs.empty(), False
    if n - 1 > cfg.max_blobs_per_frame:
        return Blobs.empty(), True
    found = cv2.findNonZero(fg)
    if found is None:
        return Blobs.empty(), False
    pix = np.asarray(found, np.int32).reshape(-1, 2)
    xs, ys = pix[:, 0], pix[:, 1]
    lab = np.asarray(labels[ys, xs], np.int32)
    count, centre, shape = blob_shapes(lab, xs.astype(np.float64), ys.astype(np.float64), n)
    contrast = (
        np.bincount(lab, diff[ys, xs].astype(np.float64), n) / np.maximum(count, 1.0)
        if diff is not None
        else np.zeros(n)
    )
    present = np.flatnonzero(count > 0)  # the background label and dilation-only labels have none
    lo, hi = _label_boxes(lab, xs, ys, present)
    xyxy = (np.concatenate([lo, hi], 1) * f).astype(np.float32)
    area = (xyxy[:, 2] - xyxy[:, 0]) * (xyxy[:, 3] - xyxy[:, 1])
    keep = (area >= cfg.min_blob_area_px) & (area <= cfg.max_blob_area_px)
    idx = present[keep]
    xy = ((centre[idx] + 0.5) * f).astype(np.float64)
    kept_shape = BlobShape(shape.major_px[idx], shape.minor_px[idx], shape.angle_rad[idx])
    return Blobs(xy, xyxy[keep], area[keep], contrast[idx].astype(np.float32), kept_shape), False


def _label_boxes(
    lab: NDArray[np.int32], xs: NDArray[np.int32], ys: NDArray[np.int32], present: NDArray[np.int64]
) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
    """Bounding boxes (lo inclusive, hi exclusive; processing px) of the labels in `present` (sorted)."""
    order = np.argsort(lab, kind="stable")
    sorted_lab = lab[order]
    starts = np.searchsorted(sorted_lab, present)
    sx, sy = xs[order], ys[order]
    lo = np.stack([np.minimum.reduceat(sx, starts), np.minimum.reduceat(sy, starts)], 1).astype(np.int64)
    hi = np.stack([np.maximum.reduceat(sx, starts), np.maximum.reduceat(sy, starts)], 1).astype(np.int64) + 1
    return lo, hi
