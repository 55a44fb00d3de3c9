"""Tiled inference for large drone frames (unit tests of the tiling, component test on real drone photos)."""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from pathlib import Path

import cv2
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from numpy.typing import NDArray

from models.config import ModelConfig, TilingConfig
from models.detections import Detections
from models.runtime import load_model
from models.tiling import merge_detections, predict_tiled, predict_tiled_config, tile_grid, tile_starts


@settings(max_examples=200, deadline=None)
@given(length=st.integers(1, 9000), tile=st.integers(32, 2000), overlap=st.floats(0.0, 0.85))
def test_tiles_cover_every_pixel_inside_the_frame_with_the_overlap(
    length: int, tile: int, overlap: float,
) -> None:
    starts = tile_starts(length, tile, overlap)
    ends = [min(s + tile, length) for s in starts]
    assert starts[0] == 0 and ends[-1] == length and all(s >= 0 for s in starts)
    assert all(b > a for a, b in itertools.pairwise(starts))
    for e1, s2 in zip(ends, starts[1:], strict=False):
        assert e1 - s2 >= min(int(tile * overlap), tile - 1) or s2 == length - tile  # overlap kept
    if length >= tile:
        assert all(e - s == tile for s, e in zip(starts, ends, strict=True))


def test_grid_is_row_major_rectangles() -> None:
    grid = tile_grid(1000, 1500, 640, 0.2)
    assert grid.tolist() == [
        [0, 0, 640, 640], [512, 0, 1152, 640], [860, 0, 1500, 640],
        [0, 360, 640, 1000], [512, 360, 1152, 1000], [860, 360, 1500, 1000],
    ]


class FakeTileModel:
    """Test double: reports one box per tile wherever the frame has a white square, in tile pixels."""

    name = "fake-tiles"

    def __init__(self) -> None:
        self.batches: list[int] = []

    def predict(self, images: Sequence[NDArray[np.uint8]]) -> list[Detections]:
        self.batches.append(len(images))
        out = []
        for im in images:
            ys, xs = np.nonzero(im[..., 0] == 255)
            if xs.size:
                box = [xs.min(), ys.min(), xs.max() + 1, ys.max() + 1]
                out.append(Detections.from_arrays([box], [0.8], [3]))
            else:
                out.append(Detections.empty())
        return out


def test_an_object_in_the_overlap_is_reported_once_in_frame_pixels() -> None:
    frame = np.zeros((1000, 1500, 3), np.uint8)
    frame[400:460, 560:620] = 255  # inside tiles (512,0), (0,360), (512,360): three partial/whole copies
    model = FakeTileModel()
    dets = predict_tiled(model, frame, 640, 0.2)
    assert model.batches == [6]  # one batch for all tiles
    assert len(dets) == 1 and dets.class_id.tolist() == [3]
    np.testing.assert_array_equal(dets.xyxy[0], [560, 400, 620, 460])


def test_merge_is_class_aware_and_keeps_the_best() -> None:
    dets = Detections.from_arrays([[0, 0, 10, 10], [0, 0, 5, 10], [0, 0, 10, 10]], [0.6, 0.9, 0.7], [1, 1, 2])
    merged = merge_detections(dets, "ios", 0.5)
    assert merged.class_id.tolist() == [1, 2]
    assert merged.confidence.tolist() == pytest.approx([0.9, 0.7])


def test_full_frame_pass_is_optional() -> None:
    frame = np.zeros((1000, 1500, 3), np.uint8)
    model = FakeTileModel()
    predict_tiled_config(model, frame, TilingConfig(include_full_frame=True))
    assert model.batches == [7]


def test_tiled_inference_on_real_drone_photos(demo_v8: Path, real_testdata: Path) -> None:
    model = load_model(ModelConfig(name="tiles", path=demo_v8, conf_threshold=0.05, warmup_runs=0,
                                   intra_op_threads=2))
    for path in sorted((real_testdata / "nitr-drone" / "images").glob("*.jpg")):
        photo = cv2.imread(str(path))
        size = (1152, photo.shape[0] * 1152 // photo.shape[1])
        frame = cv2.resize(photo, size, interpolation=cv2.INTER_AREA)
        h, w = frame.shape[:2]
        dets = predict_tiled(model, frame, 640, 0.2)
        tiles = tile_grid(h, w, 640, 0.2)
        per_tile = model.predict([frame[y1:y2, x1:x2] for x1, y1, x2, y2 in tiles.tolist()])
        assert 0 < len(dets) <= sum(len(d) for d in per_tile)  # duplicates merged, nothing invented
        assert (dets.xyxy[:, :2] >= 0).all() and (dets.xyxy[:, 2] <= w).all() and (dets.xyxy[:, 3] <= h).all()
        # the best box of all tiles survives the merge, shifted into frame pixels
        best = [float(d.confidence.max()) if len(d) else 0.0 for d in per_tile]
        t = int(np.argmax(best))
        k = int(per_tile[t].confidence.argmax())
        shifted = per_tile[t].xyxy[k] + np.tile(tiles[t, :2], 2).astype(np.float32)
        assert np.abs(dets.xyxy - shifted).max(axis=1).min() == 0.0
