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

Two rows of cars facing each other across an aisle merge into one larger change (seed 42: 106 m2), over
`vehicle_group_max_m2`. Its area says little; its parts do: what stands out from the pavement is cars, a
few of them touching at most (largest piece 22-31 m2 on seeds 41-52 and 127-138), with pavement between,
where a structure is one piece (a roof or a deck 70 m2 and up). So a busy change up to
`vehicle_rows_max_m2` whose largest piece unlike the ground (`largest_piece_m2`) is at most
`vehicle_piece_max_m2` is cars too.

A small, busy structure on pavement would be taken for cars: a scaffold under `vehicle_group_max_m2`
on a paved yard, or one up to `vehicle_rows_max_m2` whose deck looks like the pavement between its tubes,
is missed (the generated ones measure 80-170 m2 and stand on earth).
"""

from __future__ import annotations

import math

import cv2
import numpy as np

from detectors.construction.survey.change import ChangeMap
from detectors.construction.survey.classify import KindEvidence
from detectors.construction.survey.config import ChangeConfig
from detectors.construction.survey.regions import Region, near_ground_colour


def ground_chroma(region: Region) -> float:
    """CIELAB chroma of the median unchanged ground around a region in the later survey (`regions.RING_M`;
    inf when none is seen: nothing then says it is pavement)."""
    if region.ground_after_lab is None:
        return math.inf
    _, a, b = region.ground_after_lab
    return float(math.hypot(a, b))


def largest_piece_m2(region: Region, change: ChangeMap, config: ChangeConfig) -> float:
    """Area of the largest 4-connected piece of a region unlike the ground around it in the later survey
    (farther than `min_contrast` from its median colour, and not that ground in shade): one car or a few
    touching for parked cars, the whole roof or deck for a structure. The region's area when no ground is
    seen around it."""
    if region.ground_after_lab is None:
        return region.area_m2
    x0, y0, x1, y1 = region.box
    ground = np.array(region.ground_after_lab, np.float32)
    unlike = region.mask & ~near_ground_colour(change.after_lab[y0:y1, x0:x1], ground, config)
    n, _, stats, _ = cv2.connectedComponentsWithStats(unlike.astype(np.uint8), connectivity=4)
    if n <= 1:
        return 0.0
    return float(stats[1:, cv2.CC_STAT_AREA].max()) * change.cell_m**2


def is_vehicle_group(
    region: Region, evidence: KindEvidence, config: ChangeConfig, change: ChangeMap | None = None
) -> bool:
    """Whether a change is cars parked side by side (see the module docstring): dense with edges, of many
    colours, on grey ground, and small or (with the change map given) in pieces no larger than a few cars."""
    busy = (
        evidence.edge_density >= config.vehicle_edge_density
        and evidence.colour_spread >= config.vehicle_colour_spread
        and ground_chroma(region) <= config.vehicle_ground_chroma_max
    )
    if not busy:
        return False
    if region.area_m2 < config.vehicle_group_max_m2:
        return True
    return (
        change is not None
        and region.area_m2 < config.vehicle_rows_max_m2
        and largest_piece_m2(region, change, config) <= config.vehicle_piece_max_m2
    )
