"""Letterbox and batching: pixel-exact against Ultralytics' LetterBox, and the tensor layout ONNX expects."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from ultralytics.data.augment import LetterBox

from foundation.errors import ModelError
from models.preprocess import PAD_VALUE, Preprocessor, place, plan_batch, rect_shape, resized_shape
from tests.models.scenes import scenes

sides = st.integers(min_value=1, max_value=5000)


@settings(max_examples=300, deadline=None)
@given(h=sides, w=sides, target=st.sampled_from([(640, 640), (384, 640), (640, 320), (1280, 1280)]),
       auto=st.booleans())
def test_placement_arithmetic_matches_ultralytics(
    h: int, w: int, target: tuple[int, int], auto: bool,
) -> None:
    params = LetterBox(target, auto=auto, stride=32).get_params({"img": np.empty((h, w, 0), np.uint8)})
    new = resized_shape((h, w), target)
    canvas = rect_shape(new, target, 32) if auto else target
    box = place((h, w), new, canvas)
    assert (new[1], new[0]) == params["new_unpad"]
    assert (box.top, box.left) == (params["top"], params["left"])
    assert canvas == (new[0] + params["top"] + params["bottom"], new[1] + params["left"] + params["right"])


@pytest.mark.parametrize(
    "shape", [(1080, 1920), (480, 640), (640, 480), (333, 517), (1500, 2000), (17, 1001)],
)
def test_letterboxed_pixels_equal_ultralytics(shape: tuple[int, int]) -> None:
    image = scenes([shape], seed=shape[0])[0]
    tensor, boxes = Preprocessor((640, 640), 32, rect=False, dtype=np.float32)([image])
    expected = LetterBox((640, 640), auto=False, stride=32)(image=image)
    ours = np.rint(tensor[0].transpose(1, 2, 0)[..., ::-1] * 255).astype(np.uint8)  # back to BGR HWC
    np.testing.assert_array_equal(ours, expected)
    assert ours[0, 0].tolist() == [PAD_VALUE] * 3 or boxes[0].top == 0


def test_batch_tensor_is_rgb_chw_divided_by_255() -> None:
    image = np.zeros((64, 64, 3), np.uint8)
    image[..., 0], image[..., 1], image[..., 2] = 10, 20, 30  # B, G, R
    tensor, _ = Preprocessor((64, 64), 32, rect=False, dtype=np.float32)([image, image])
    assert tensor.shape == (2, 3, 64, 64) and tensor.dtype == np.float32 and tensor.flags.c_contiguous
    assert [float(tensor[1, c, 5, 5]) for c in range(3)] == [np.float32(30) / np.float32(255),
                                                              np.float32(20) / np.float32(255),
                                                              np.float32(10) / np.float32(255)]


def test_rect_batch_of_mixed_shapes_holds_every_image_at_full_scale() -> None:
    shapes = [(1080, 1920), (480, 640), (300, 1200)]
    canvas, boxes = plan_batch(shapes, (640, 640), 32, rect=True)
    assert canvas[0] % 32 == 0 and canvas[1] % 32 == 0 and canvas[0] < 640
    for (h, w), box in zip(shapes, boxes, strict=True):
        assert (box.new_h, box.new_w) == resized_shape((h, w), (640, 640))  # same scale as full letterbox
        assert box.top >= 0 and box.top + box.new_h <= canvas[0]
        assert box.left >= 0 and box.left + box.new_w <= canvas[1]


def test_static_batch_rows_are_padded_and_fp16_tensors_supported() -> None:
    pre = Preprocessor((320, 320), 32, rect=False, dtype=np.float16)
    tensor, boxes = pre(scenes([(240, 320)]), rows=4)
    assert tensor.shape == (4, 3, 320, 320) and tensor.dtype == np.float16
    assert len(boxes) == 1 and not tensor[1:].any()


def test_buffers_are_reused_per_shape() -> None:
    pre = Preprocessor((320, 320), 32, rect=False, dtype=np.float32)
    first, _ = pre(scenes([(240, 320)]))
    second, _ = pre(scenes([(100, 100)], seed=5))
    assert np.shares_memory(first, second)


@pytest.mark.parametrize("bad", [np.zeros((10, 10), np.uint8), np.zeros((10, 10, 4), np.uint8),
                                 np.zeros((10, 10, 3), np.float32), np.zeros((0, 10, 3), np.uint8)])
def test_bad_images_are_refused_with_their_index(bad: np.ndarray) -> None:
    with pytest.raises(ModelError, match="image 1"):
        Preprocessor((64, 64), 32, rect=False, dtype=np.float32)([np.zeros((8, 8, 3), np.uint8), bad])
