"""Fixtures for the models tests: scored test-model variants (exported once, cached) and test images."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest
from numpy.typing import NDArray

from models.config import ModelConfig
from models.runtime import YoloModel, load_model
from tests.infra.models import cached_model, demo_model


@pytest.fixture(scope="session")
def demo_v8() -> Path:
    """yolov8n, anchor head, dynamic batch and size, random head calibrated to output boxes."""
    return demo_model("yolov8n.yaml")


@pytest.fixture(scope="session")
def demo_e2e() -> Path:
    """yolo26n: NMS-free end-to-end head, dynamic, calibrated to output boxes."""
    return demo_model("yolo26n.yaml")


@pytest.fixture(scope="session")
def demo_v8_static_b2() -> Path:
    """yolov8n exported with a fixed batch of 2 at 640x640, calibrated to output boxes."""
    return cached_model("yolov8n.yaml", 640, batch=2, demo_scores=True)


@pytest.fixture(scope="session")
def v8_model(demo_v8: Path) -> YoloModel:
    """The demo yolov8n loaded once for tests that only read from it."""
    return load_model(ModelConfig(name="v8", path=demo_v8, intra_op_threads=2))


@pytest.fixture(scope="session")
def real_images(real_testdata: Path) -> list[NDArray[np.uint8]]:
    """Real frames: two CCTV fire frames (608x608) and two drone photos (4000x3000, 4096x2160)."""
    paths = sorted((real_testdata / "roboflow-fire-wrpgm" / "test" / "images").glob("*.jpg"))[:2]
    paths += sorted((real_testdata / "nitr-drone" / "images").glob("*.jpg"))
    images = [cv2.imread(str(p)) for p in paths]
    assert all(im is not None for im in images), paths
    return images
