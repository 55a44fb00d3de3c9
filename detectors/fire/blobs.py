"""Blob boxes from a pixel mask and box sums over masks, without a Python loop per blob or per box.

Both cues turn a boolean mask into candidate boxes: close small holes, group blobs that lie within a
merge gap of each other (tongues of one flame, windows of one burning house), and measure each box with
integral images so any number of boxes costs four lookups each.
"""

from __future__ import annotations

import cv2
import numpy as np
from numpy.typing import NDArray

_CLOSE = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (3, 3))


def blob_boxes(
    mask: NDArray[np.bool_], merge_gap_px: int, min_pixels: int
) -> tuple[NDArray[np.int32], NDArray[np.int64]]:
    """Boxes (K,4) int32 x1,y1,x2,y2 (exclusive ends) of pixel groups, and the mask pixel count of each.

    Groups are the connected components of the mask after closing, merged when closer than
    `merge_gap_px`; groups with fewer than `min_pixels` mask pixels are dropped.
    """
    if not mask.any():
        return np.zeros((0, 4), np.int32), np.zeros((0,), np.int64)
    closed = cv2.morphologyEx(mask.astype(np.uint8), cv2.MORPH_CLOSE, _CLOSE)
    grouped = closed
    if merge_gap_px >= 2:
        k = int(merge_gap_px) | 1
        grouped = cv2.dilate(closed, cv2.getStructuringElement(cv2.MORPH_RECT, (k, k)))
    n, labels = cv2.connectedComponents(grouped, connectivity=8)
    ys, xs = np.nonzero(closed)
    lab = labels[ys, xs]
    counts = np.bincount(labels[mask], minlength=n).astype(np.int64)
    order = np.argsort(lab, kind="stable")
    lab_sorted = lab[order]
    present, starts = np.unique(lab_sorted, return_index=True)
    xs_s, ys_s = xs[order], ys[order]
    x1 = np.minimum.reduceat(xs_s, starts)
    x2 = np.maximum.reduceat(xs_s, starts) + 1
    y1 = np.minimum.reduceat(ys_s, starts)
    y2 = np.maximum.reduceat(ys_s, starts) + 1
    boxes = np.column_stack([x1, y1, x2, y2]).astype(np.int32)
    pixel_counts = counts[present]
    keep = (present > 0) & (pixel_counts >= min_pixels)
    return boxes[keep], pixel_counts[keep]


def group_boxes(
    boxes: NDArray[np.integer], gap_px: int, size: tuple[int, int]
) -> tuple[NDArray[np.int32], NDArray[np.int64]]:
    """Merge boxes closer than `gap_px` (transitively); returns the merged boxes and each input's group.

    The boxes, grown by half the gap, are painted on a canvas of `size` (width, height) and labelled, so
    grouping costs one connected-components pass whatever the number of boxes.
    """
    if len(boxes) == 0:
        return np.zeros((0, 4), np.int32), np.zeros((0,), np.int64)
    w, h = size
    half = max(0, int(gap_px) // 2)
    canvas = np.zeros((h, w), np.uint8)
    grown = np.asarray(boxes, np.int64) + np.array([-half, -half, half, half], np.int64)
    grown[:, [0, 2]] = np.clip(grown[:, [0, 2]], 0, w)
    grown[:, [1, 3]] = np.clip(grown[:, [1, 3]], 0, h)
    for x1, y1, x2, y2 in grown.tolist():
        canvas[y1 : max(y2, y1 + 1), x1 : max(x2, x1 + 1)] = 1
    _, labels = cv2.connectedComponents(canvas, connectivity=8)
    group = labels[np.clip(grown[:, 1], 0, h - 1), np.clip(grown[:, 0], 0, w - 1)].astype(np.int64)
    present, inverse = np.unique(group, return_inverse=True)
    merged = np.zeros((len(present), 4), np.int64)
    merged[:, :2] = np.iinfo(np.int64).max
    np.minimum.at(merged[:, 0], inverse, np.asarray(boxes)[:, 0])
    np.minimum.at(merged[:, 1], inverse, np.asarray(boxes)[:, 1])
    np.maximum.at(merged[:, 2], inverse, np.asarray(boxes)[:, 2])
    np.maximum.at(merged[:, 3], inverse, np.asarray(boxes)[:, 3])
    return merged.astype(np.int32), inverse.astype(np.int64)


def integral(mask: NDArray[np.bool_] | NDArray[np.floating]) -> NDArray[np.float64]:
    """Summed-area table (H+1, W+1) of a mask or a float image."""
    src = mask.astype(np.uint8) if mask.dtype == np.bool_ else mask.astype(np.float64)
    table: NDArray[np.float64] = np.asarray(cv2.integral(src, sdepth=cv2.CV_64F), np.float64)
    return table


def box_sums(table: NDArray[np.float64], boxes: NDArray[np.integer]) -> NDArray[np.float64]:
    """Sum inside each (K,4) x1,y1,x2,y2 box (exclusive ends, clipped to the image) from `integral`."""
    if len(boxes) == 0:
        return np.zeros((0,), np.float64)
    h, w = table.shape[0] - 1, table.shape[1] - 1
    x1 = np.clip(boxes[:, 0], 0, w)
    x2 = np.clip(boxes[:, 2], 0, w)
    y1 = np.clip(boxes[:, 1], 0, h)
    y2 = np.clip(boxes[:, 3], 0, h)
    out: NDArray[np.float64] = table[y2, x2] - table[y1, x2] - table[y2, x1] + table[y1, x1]
    return out


def box_areas(boxes: NDArray[np.integer] | NDArray[np.floating]) -> NDArray[np.float64]:
    """Area of each (K,4) box, 0 for inverted boxes."""
    wh = np.clip(np.asarray(boxes, np.float64)[:, 2:4] - np.asarray(boxes, np.float64)[:, 0:2], 0, None)
    out: NDArray[np.float64] = wh[:, 0] * wh[:, 1]
    return out
