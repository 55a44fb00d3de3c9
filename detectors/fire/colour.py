"""Per-pixel colour rules for flames and smoke, vectorised over a whole frame.

Flame pixels are tested with two classic families of rules, written here from their published ideas:
a YCbCr rule in the spirit of Celik & Demirel (a flame pixel is brighter than it is blue, redder than it
is blue by a margin, and brighter and redder than the frame on average) and an RGB rule in the spirit of
Chen et al. (red dominates, R >= G > B, and saturation must rise as red falls). Colour alone accepts
orange signs, red cars and sunsets; the cue stages add motion and flicker to reject them.
"""

from __future__ import annotations

import cv2
import numpy as np
from numpy.typing import NDArray

from detectors.fire.cue_config import FlameCueConfig


def ycrcb(image_bgr: NDArray[np.uint8]) -> NDArray[np.int16]:
    """(H,W,3) int16 Y, Cr, Cb planes (OpenCV order), signed so differences do not wrap."""
    return cv2.cvtColor(image_bgr, cv2.COLOR_BGR2YCrCb).astype(np.int16)


Means = tuple[float, float, float]


def frame_means(ycc: NDArray[np.int16]) -> Means:
    """(mean Y, mean Cr, mean Cb) of a frame, for the frame-relative rule on crops of that frame.

    OpenCV's per-channel sum (exact integer sums, as numpy's) divided by the pixel count: the same values
    as `ycc.reshape(-1, 3).mean(axis=0)` at about a hundredth of its CPU (numpy reduces the interleaved
    channels slowly; it was 2 ms of the cue's ~15 ms per 480x270 work frame)."""
    n = ycc.shape[0] * ycc.shape[1]
    if n == 0:
        return float("nan"), float("nan"), float("nan")
    s = cv2.sumElems(np.ascontiguousarray(ycc))
    return s[0] / n, s[1] / n, s[2] / n


def ycbcr_flame_rule(ycc: NDArray[np.int16], cfg: FlameCueConfig, means: Means | None = None) -> NDArray[np.bool_]:
    """Celik-style rule: Y > Cb, Cr > Cb + margin, bright enough, and (optionally) above frame means.

    `means` are the whole frame's (Y, Cr, Cb) means when `ycc` is a crop of it.
    """
    y, cr, cb = ycc[..., 0], ycc[..., 1], ycc[..., 2]
    mask = (y > cb) & ((cr - cb) >= max(1, cfg.min_cr_minus_cb)) & (y >= cfg.min_luma)
    if cfg.relative_to_frame:
        my, mcr, mcb = frame_means(ycc) if means is None else means
        mask &= (y > my) & (cr > mcr) & (cb < mcb)
    return mask


def rgb_flame_rule(image_bgr: NDArray[np.uint8], cfg: FlameCueConfig) -> NDArray[np.bool_]:
    """Chen-style rule: R >= min_red, R >= G > B, saturation >= min_saturation scaled by (255 - R)."""
    b, g, r = image_bgr[..., 0], image_bgr[..., 1], image_bgr[..., 2]
    mask: NDArray[np.bool_] = (r >= cfg.min_red) & (r >= g) & (g > b)
    # Saturation only where the cheap ordering test passed (few pixels in most frames). With
    # R >= G > B the minimum is B: S = 1 - 3B / (R + G + B).
    ys, xs = np.nonzero(mask)
    if len(ys):
        rr = r[ys, xs].astype(np.float32)
        bb = b[ys, xs].astype(np.float32)
        total = rr + g[ys, xs].astype(np.float32) + bb + 1.0
        saturation = 1.0 - 3.0 * bb / total
        needed = cfg.min_saturation * (255.0 - rr) / float(max(1, 255 - cfg.min_red))
        mask[ys[saturation < needed], xs[saturation < needed]] = False
    return mask


def flame_colour_mask(
    image_bgr: NDArray[np.uint8],
    cfg: FlameCueConfig,
    ycc: NDArray[np.int16] | None = None,
    means: Means | None = None,
) -> NDArray[np.bool_]:
    """Boolean (H,W) mask of flame-coloured pixels, combining the rules as `cfg.colour_rules` says.

    Pass the frame's `means` (see `frame_means`) when `image_bgr` is a crop.
    """
    if cfg.colour_rules == "rgb":
        return rgb_flame_rule(image_bgr, cfg)
    planes = ycrcb(image_bgr) if ycc is None else ycc
    if cfg.colour_rules == "ycbcr":
        return ycbcr_flame_rule(planes, cfg, means)
    a = ycbcr_flame_rule(planes, cfg, means)
    b = rgb_flame_rule(image_bgr, cfg)
    return a & b if cfg.colour_rules == "both" else a | b


def chroma(ycc: NDArray[np.int16]) -> NDArray[np.int16]:
    """Colourfulness |Cb-128| + |Cr-128| per pixel: near 0 for greys (smoke, haze, concrete)."""
    out: NDArray[np.int16] = np.abs(ycc[..., 1] - 128) + np.abs(ycc[..., 2] - 128)
    return out
