"""Cars parked side by side: a change that is not a structure, told from how it and its ground look.

Three or four cars a hand's width apart merge into one 25-70 m2 change that stands out from the asphalt
as a roof would, and the cars are what moved between the surveys (tuning seeds 61-82: about one such
group in every pair, ~half of them above `min_area_m2`). Three things together tell them apart:

- edges: each car's outline, windscreen and rear window are strong edges every ~2 m (edge density
  0.31-0.71 over the group's interior; a plain or ribbed roof 0.00-0.30);
- colours: bodies of several colours with dark windows between them (robust CIELAB spread 19.6-47.3;
  plain roofs, soil and dust nets 3-12);
- ground: cars stand on pavement, grey (chroma of the surrounding ground 1.8-7.4 in the later survey),
  where a dug patch with shadows across it (edges and spread like cars) lies in grass or earth (10.7 up).

A small, busy structure on pavement would be taken for cars: a scaffold under `vehicle_group_max_m2`
on a paved yard is missed (the generated ones measure 80-170 m2 and stand on earth).
"""

from __future__ import annotations

import math

import cv2
import numpy as np

from detectors.construction.survey.change import ChangeMap
from detectors.construction.survey.classify import KindEvidence
from detectors.construction.survey.config import ChangeConfig
from detectors.construction.survey.regions import RING_M, Region


def ground_chroma(change: ChangeMap, region: Region, config: ChangeConfig) -> float:
    """CIELAB chroma of the median unchanged ground within RING_M of a region in the later survey (inf when
    none is seen: nothing then says it is pavement)."""
    x0, y0, x1, y1 = region.box
    r = max(1, round(RING_M / change.cell_m))
    disc = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * r + 1, 2 * r + 1))
    ring = cv2.dilate(region.mask.astype(np.uint8), disc).astype(bool) & ~region.mask
    ring &= change.valid[y0:y1, x0:x1] & (change.score[y0:y1, x0:x1] < config.threshold / 2)
    if not ring.any():
        return math.inf
    median = np.median(change.after_lab[y0:y1, x0:x1][ring], axis=0)
    return float(math.hypot(float(median[1]), float(median[2])))


def is_vehicle_group(region: Region, evidence: KindEvidence, change: ChangeMap, config: ChangeConfig) -> bool:
    """Whether a change is cars parked side by side (see the module docstring): small, dense with edges,
    of many colours, on grey ground."""
    return (
        region.area_m2 < config.vehicle_group_max_m2
        and evidence.edge_density >= config.vehicle_edge_density
        and evidence.colour_spread >= config.vehicle_colour_spread
        and ground_chroma(change, region, config) <= config.vehicle_ground_chroma_max
    )
