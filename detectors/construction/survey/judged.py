"""Which cells of a comparison are judged, and which the day's statistics are learnt from.

Ground beside tall registered buildings that a mosaic pieced from several keyframes is treated apart
(`registered_relief.cut_buildings`): where such a building can lean it is not judged, and nowhere within
its farthest lean is the day's light and season learnt.
"""

from __future__ import annotations

import cv2
import numpy as np
from numpy.typing import NDArray


def valid_cells(valid: NDArray[np.bool_], factor: int, border_cells: int) -> NDArray[np.bool_]:
    """Cells wholly inside valid mosaic pixels, less a border."""
    h, w = valid.shape
    v = valid[: h // factor * factor, : w // factor * factor]
    v = np.asarray(v.reshape(h // factor, factor, w // factor, factor).all(axis=(1, 3)), bool)
    if border_cells > 0:
        k = np.ones((2 * border_cells + 1, 2 * border_cells + 1), np.uint8)
        v = cv2.erode(v.astype(np.uint8), k, borderType=cv2.BORDER_CONSTANT, borderValue=0).astype(bool)
    return v


def judged_and_learnt(
    valid: NDArray[np.bool_],
    factor: int,
    border_cells: int,
    left_out: NDArray[np.bool_] | None,
    unlearnt: NDArray[np.bool_] | None,
) -> tuple[NDArray[np.bool_], NDArray[np.bool_]]:
    """Cells judged, and cells the day's statistics (colour classes, their change, the light, the spreads that
    scores count in) are learnt from.

    Judged: inside `valid` less the border, less `left_out` (ground where a tall building pieced from several
    keyframes leans). The border is kept from the overlap's edge only: it is where a swath is seen most
    obliquely; ground beside such a building is seen as near-nadir as any other. Eroding the border around
    left-out ground too left a new structure 40 m from the swath's edge unjudged (development seed 122).
    Learnt: also without `unlearnt` (all ground within such a building's farthest lean) and the border around
    it. That ground holds the shade and lean of the tallest buildings, which change most between surveys:
    learning from it moved every score in the scene, and a wall's shadow gone 24 m from any left-out ground
    rose over the threshold (development seed 105)."""
    judged = valid_cells(valid, factor, border_cells)
    if left_out is not None:
        judged &= valid_cells(~left_out, factor, 0)
    apart = [m for m in (left_out, unlearnt) if m is not None]
    if not apart:
        return judged, judged
    learnt = valid_cells(valid & ~np.logical_or.reduce(apart), factor, border_cells)
    return judged, learnt
