"""Cars parked side by side are not new structures (`vehicles.is_vehicle_group`): hand-drawn 0.25 m scenes.

Each scene is a change map built by hand (a fake of what `change.compare` gives): the later view, and a
high score over the changed block. The region comes from the real `regions.extract`, its evidence from the
real `classify`; only the rule decides.
"""

from __future__ import annotations

import cv2
import numpy as np
from numpy.typing import NDArray

from detectors.construction.survey.classify import classify
from detectors.construction.survey.config import ChangeConfig
from detectors.construction.survey.regions import Region, extract
from detectors.construction.survey.vehicles import ground_chroma, is_vehicle_group, largest_piece_m2
from tests.detectors.construction.survey_fakes import fake_change_map

CELL_M = 0.25
SIZE_PX = 96
"""24 m square."""
BLOCK = (30, 30, 62, 54)
"""(x0, y0, x1, y1) px of the changed block: 8 m x 6 m, 48 m2."""
ASPHALT = (88, 90, 92)
GRASS = (40, 120, 70)


def _decide(after: NDArray[np.uint8]) -> tuple[bool, Region]:
    change = fake_change_map(after, BLOCK, CELL_M)
    config = ChangeConfig()
    (region,) = extract(change, config)
    x0, y0, x1, y1 = region.box
    evidence = classify(change.after_bgr[y0:y1, x0:x1], change.after_lab[y0:y1, x0:x1], region.mask, change.cell_m)
    return is_vehicle_group(region, evidence, config), region


def _cars_on(ground: tuple[int, int, int]) -> NDArray[np.uint8]:
    """Four cars (1.75 m x 4.5 m, windows dark) side by side 0.25 m apart, in the block."""
    img = np.full((SIZE_PX, SIZE_PX, 3), ground, np.uint8)
    x0, y0, _, _ = BLOCK
    for i, body in enumerate([(40, 40, 190), (235, 235, 235), (170, 90, 30), (60, 60, 60)]):
        cx = x0 + 1 + i * 8
        cv2.rectangle(img, (cx, y0 + 3), (cx + 6, y0 + 20), body, -1)
        cv2.rectangle(img, (cx + 1, y0 + 7), (cx + 5, y0 + 15), (30, 30, 35), -1)  # windscreen, roof, rear window
    return img


def test_cars_side_by_side_on_asphalt_are_vehicles() -> None:
    vehicles, region = _decide(_cars_on(ASPHALT))
    assert region.area_m2 < ChangeConfig().vehicle_group_max_m2
    assert ground_chroma(region) < 3.0
    assert vehicles


def test_a_plain_roof_on_asphalt_is_not_vehicles() -> None:
    img = np.full((SIZE_PX, SIZE_PX, 3), ASPHALT, np.uint8)
    x0, y0, x1, y1 = BLOCK
    img[y0:y1, x0:x1] = (160, 110, 40)  # a blue steel roof
    assert not _decide(img)[0]


def test_the_same_busy_patch_in_grass_is_not_vehicles() -> None:
    # Soil dug in a lawn with tree shadows across it is as busy as cars; cars stand on grey pavement.
    vehicles, region = _decide(_cars_on(GRASS))
    assert ground_chroma(region) > ChangeConfig().vehicle_ground_chroma_max
    assert not vehicles


def test_a_large_busy_change_on_asphalt_is_not_vehicles() -> None:
    config = ChangeConfig(vehicle_group_max_m2=40.0)
    change = fake_change_map(_cars_on(ASPHALT), BLOCK, CELL_M)
    (region,) = extract(change, config)
    x0, y0, x1, y1 = region.box
    evidence = classify(change.after_bgr[y0:y1, x0:x1], change.after_lab[y0:y1, x0:x1], region.mask, change.cell_m)
    assert region.area_m2 >= 40.0
    assert not is_vehicle_group(region, evidence, config)
    assert is_vehicle_group(region, evidence, ChangeConfig())


ROWS_BLOCK = (16, 12, 74, 58)
"""(x0, y0, x1, y1) px: 14.5 m x 11.5 m, 167 m2, over vehicle_group_max_m2."""
BODIES = [(40, 40, 190), (235, 235, 235), (170, 90, 30), (60, 60, 60), (200, 200, 200), (30, 30, 160)]


def _decide_large(after: NDArray[np.uint8], config: ChangeConfig) -> tuple[bool, Region, float]:
    change = fake_change_map(after, ROWS_BLOCK, CELL_M)
    (region,) = extract(change, config)
    x0, y0, x1, y1 = region.box
    evidence = classify(change.after_bgr[y0:y1, x0:x1], change.after_lab[y0:y1, x0:x1], region.mask, change.cell_m)
    return is_vehicle_group(region, evidence, config, change), region, largest_piece_m2(region, change, config)


def test_two_rows_of_cars_across_an_aisle_are_vehicles() -> None:
    img = np.full((SIZE_PX, SIZE_PX, 3), ASPHALT, np.uint8)
    x0, y0, _, _ = ROWS_BLOCK
    for row, top in enumerate((y0 + 2, y0 + 26)):
        for i in range(7):
            cx = x0 + 1 + i * 8
            cv2.rectangle(img, (cx, top), (cx + 6, top + 17), BODIES[(i + 3 * row) % len(BODIES)], -1)
            cv2.rectangle(img, (cx + 1, top + 4), (cx + 5, top + 12), (30, 30, 35), -1)
    config = ChangeConfig()
    vehicles, region, piece = _decide_large(img, config)
    assert config.vehicle_group_max_m2 < region.area_m2 < config.vehicle_rows_max_m2
    assert piece < 10.0  # one car
    assert vehicles
    off = ChangeConfig(vehicle_rows_max_m2=0.0)
    assert not _decide_large(img, off)[0]


def test_a_large_busy_structure_in_one_piece_is_not_vehicles() -> None:
    # A patchwork of colours as busy as cars, but one piece unlike the pavement: a structure, not cars.
    img = np.full((SIZE_PX, SIZE_PX, 3), ASPHALT, np.uint8)
    x0, y0, x1, y1 = ROWS_BLOCK
    for i, x in enumerate(range(x0, x1, 8)):
        for j, y in enumerate(range(y0, y1, 8)):
            img[y : min(y + 8, y1), x : min(x + 8, x1)] = BODIES[(i + 2 * j) % len(BODIES)]
    vehicles, _, piece = _decide_large(img, ChangeConfig())
    assert piece > ChangeConfig().vehicle_piece_max_m2
    assert not vehicles
