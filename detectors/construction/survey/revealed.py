"""Ground revealed where something went away: a faint change that looks like the ground right beside it.

A car that left, a shadow that moved, a wet patch that dried or a roof edge that leans differently in the
two surveys leave, in the later survey, ground like the ground next to it: a strip of pavement continuing the
pavement, shaded pavement continuing the shade, dry earth in dry earth. `regions.py` drops most of them (the
part unlike the main colours around is small), but where the ground that continues is a minor colour of the
surroundings (a 2 m sidewalk between a road and a lawn, the shaded foot of a building) or the band around
holds a new shadow, none of the main colours matches and the change stayed new (development seeds 43, 45,
47, 51 and 64: five of the eight false changes on 41-52 and 127-138 with 64).

Three things together tell revealed ground from a new structure (figures from those seeds and 41-52,
103-114, 127-138):

- it is faint: its mean change score is under `revealed_max_score` (revealed ground 5.4-8.9; a new
  scaffold meeting the other two conditions, seed 112, 11.3: the margin is about one unit each way);
- nearly all of it (`revealed_ground_share`) has the colour of some unchanged ground within `RING_M`
  around it in the later survey (revealed ground 0.95-1.00; of new structures scoring under 12, two dust
  nets reached 0.96-0.99 and that scaffold as much, the rest at most 0.81);
- in the earlier survey it stood out from its surroundings (before contrast at least
  `revealed_before_contrast`; revealed ground 9.3-24.3): something was there. Those two dust nets measured
  1.1-3.7: the ground they cover was plain before, as a new grey roof on grey concrete would be. Two new
  structures met the last two conditions: that scaffold (10.8) and one over a building's edge (seed 134,
  scoring 17.2).

A new shadow on plain ground (before contrast about 0) is not covered here. The contrast before is taken
against the median of the band around, so a faint new roof the colour of a narrow strip it covers whole (a
sidewalk between a road and a lawn) would be taken for revealed ground.
"""

from __future__ import annotations

import cv2
import numpy as np

from detectors.construction.survey.change import ChangeMap
from detectors.construction.survey.config import ChangeConfig
from detectors.construction.survey.regions import RING_M, Region

MAX_GROUND_SAMPLES = 400
"""Ground colours around a region compared with (a spread sample of the band: enough for every colour in it)."""
MAX_REGION_CELLS = 4000
"""Region cells compared (a spread sample: the share is what counts)."""


def ground_like_share(region: Region, change: ChangeMap, config: ChangeConfig) -> float:
    """Share of a region's cells whose later colour lies within `min_contrast` (CIELAB) of the later colour of
    some unchanged cell within `RING_M` around it (0 when no such cell is seen)."""
    x0, y0, x1, y1 = region.box
    r = max(1, round(RING_M / change.cell_m))
    disc = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * r + 1, 2 * r + 1))
    band = cv2.dilate(region.mask.astype(np.uint8), disc).astype(bool) & ~region.mask
    band &= change.valid[y0:y1, x0:x1] & (change.score[y0:y1, x0:x1] < config.threshold / 2)
    if not band.any():
        return 0.0
    lab = change.after_lab[y0:y1, x0:x1]
    ground = lab[band][:: max(1, int(band.sum()) // MAX_GROUND_SAMPLES)]
    inside = lab[region.mask][:: max(1, int(region.mask.sum()) // MAX_REGION_CELLS)]
    nearest = np.full(len(inside), np.inf, np.float32)
    for colour in ground:
        np.minimum(nearest, np.linalg.norm(inside - colour, axis=1), out=nearest)
    return float((nearest < config.min_contrast).mean())


def is_revealed_ground(region: Region, change: ChangeMap, config: ChangeConfig) -> bool:
    """Whether a change is ground revealed where something went away (see the module docstring)."""
    return (
        region.mean_score < config.revealed_max_score
        and region.before_contrast >= config.revealed_before_contrast
        and ground_like_share(region, change, config) >= config.revealed_ground_share
    )
