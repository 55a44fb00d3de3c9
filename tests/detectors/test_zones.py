"""Zone and mask polygons: shapely's validity check at config load, and the raster the detectors query."""

from __future__ import annotations

import numpy as np
import pytest
from pydantic import ValidationError

from detectors.fire.config import FireConfig
from detectors.throw.config import ForegroundConfig
from detectors.zones import RegionMask, check_polygons


def test_a_bow_tie_a_line_and_two_points_are_refused_with_the_polygon_named() -> None:
    square = [(0.1, 0.1), (0.9, 0.1), (0.9, 0.9), (0.1, 0.9)]
    check_polygons([square])
    with pytest.raises(ValueError, match=r"polygon 1 crosses itself \(Self-intersection"):
        check_polygons([square, [(0.1, 0.1), (0.9, 0.9), (0.9, 0.1), (0.1, 0.9)]])  # corners out of order
    with pytest.raises(ValueError, match="polygon 0 has no area"):
        check_polygons([[(0, 0), (5, 5), (10, 10)]])
    with pytest.raises(ValueError, match="polygon 0 has 2 points"):
        check_polygons([[(0, 0), (5, 5)]])


def test_detector_configs_use_the_check() -> None:
    bow_tie = [[0, 0], [100, 100], [100, 0], [0, 100]]
    with pytest.raises(ValidationError, match="crosses itself"):
        FireConfig.model_validate({"masks": [bow_tie]})
    with pytest.raises(ValidationError, match="crosses itself"):
        ForegroundConfig.model_validate({"sky_masks": [bow_tie]})


def test_relative_polygons_scale_to_the_frame_and_boxes_get_their_covered_share() -> None:
    mask = RegionMask([[(0.0, 0.0), (0.5, 0.0), (0.5, 1.0), (0.0, 1.0)]])  # left half
    inside = mask.covers_points(np.array([[10.0, 10.0], [150.0, 10.0]]), 200, 100)
    assert inside.tolist() == [True, False]
    assert mask.covered_fraction((50.0, 0.0, 150.0, 100.0), 200, 100) == pytest.approx(0.5, abs=0.02)
    assert mask.raster(200, 100).sum() == pytest.approx(100 * 100, rel=0.02)
