"""How much a flame-coloured blob's mask changed between two analysed frames (the outline test).

`disorder`: unmatched pixels over unmatched plus matched pairs, i.e. the Jaccard distance of this and
the previous mask (with a pixel tolerance, matched pixels may lie a little apart). A sign or a parked car
scores near 0, flames 0.2-0.7; `aligned_disorder` first finds the rigid shift that best explains the
change, so something sliding across the view scores near 0 too.
"""

from __future__ import annotations

import cv2
import numpy as np
from numpy.typing import NDArray


def grow_mask(mask: NDArray[np.bool_], px: int) -> NDArray[np.bool_]:
    if px <= 0:
        return mask
    kernel = np.ones((2 * px + 1, 2 * px + 1), np.uint8)
    return cv2.dilate(mask.astype(np.uint8), kernel).astype(bool)


def aligned_disorder(
    now: NDArray[np.bool_], prev: NDArray[np.bool_], box: NDArray[np.integer], max_shift_px: int
) -> float:
    """Disorder (Jaccard distance) of a blob after the best rigid shift (±max_shift_px) of the previous mask.

    A car or a person sliding across the view keeps its shape, so some shift makes the masks agree and
    the disorder falls near 0; flames change shape, so no shift explains them. One template match per
    term covers every shift.
    """
    x1, y1, x2, y2 = (int(v) for v in box)
    template = now[y1:y2, x1:x2].astype(np.float32)
    if float(template.sum()) <= 0:
        return 1.0
    h, w = prev.shape
    m = max(0, max_shift_px)

    def pad(a: NDArray[np.bool_] | None) -> NDArray[np.float32]:
        out = np.zeros((h + 2 * m, w + 2 * m), np.float32)
        out[m : m + h, m : m + w] = 1.0 if a is None else a
        return out[y1 : y2 + 2 * m, x1 : x2 + 2 * m]

    prev_r = pad(prev)
    both = cv2.matchTemplate(prev_r, template, cv2.TM_CCORR)
    prev_in_box = cv2.matchTemplate(prev_r, np.ones_like(template), cv2.TM_CCORR)
    # Pixels that came from outside the frame under a shift (an object sliding in) cannot be compared.
    now_seen = cv2.matchTemplate(pad(None), template, cv2.TM_CCORR)
    kept = 2 * np.asarray(both, np.float64)
    return float(mask_disorder(kept, np.asarray(now_seen, np.float64) + np.asarray(prev_in_box, np.float64)).min())


def mask_disorder(kept: NDArray[np.floating], total: NDArray[np.floating]) -> NDArray[np.float64]:
    """Unmatched pixels over unmatched + matched pairs: the Jaccard distance when tolerance is 0.

    `kept` counts pixels of either frame within tolerance of the other frame's mask (a shared pixel
    twice), `total` all pixels of both frames.
    """
    unmatched = np.maximum(np.asarray(total, np.float64) - kept, 0.0)
    out: NDArray[np.float64] = unmatched / np.maximum(unmatched + np.asarray(kept, np.float64) / 2.0, 1.0)
    return out
