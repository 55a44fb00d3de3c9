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

from detectors.construction.survey.classify import KindEvidence
from detectors.construction.survey.config import ChangeConfig
from detectors.construction.survey.regions import Region


def ground_chroma(region: Region) -> float:
    """CIELAB chroma of the median unchanged ground around a region in the later survey (`regions.RING_M`;
    inf when none is seen: nothing then says it is pavement)."""
    if region.ground_after_lab is None:
        return math.inf
    _, a, b = region.ground_after_lab
    return float(math.hypot(a, b))


def is_vehicle_group(region: Region, evidence: KindEvidence, config: ChangeConfig) -> bool:
    """Whether a change is cars parked side by side (see the module docstring): small, dense with edges,
    of many colours, on grey ground."""
    return (
        region.area_m2 < config.vehicle_group_max_m2
        and evidence.edge_density >= config.vehicle_edge_density
        and evidence.colour_spread >= config.vehicle_colour_spread
        and ground_chroma(region) <= config.vehicle_ground_chroma_max
    )
