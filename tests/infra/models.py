"""Test models: exported once by Ultralytics from architecture files and cached outside the repo."""

from __future__ import annotations

import os
from pathlib import Path


def cache_dir() -> Path:
    root = Path(os.environ.get("GRIDWATCH_CACHE", Path.home() / ".cache" / "gridwatch"))
    out = root / "models"
    out.mkdir(parents=True, exist_ok=True)
    return out


def cached_model(
    arch: str = "yolov8n.yaml",
    imgsz: int | tuple[int, int] = 640,
    *,
    dynamic: bool = False,
    half: bool = False,
    batch: int = 1,
    nms: bool = False,
    demo_scores: bool = False,
) -> Path:
    """Path of an ONNX export of `arch` with seeded random weights, exporting it on first use.

    `demo_scores=True` gives the variant whose random head is calibrated to output boxes with scores
    spread over 0.25-0.99 (see models.export), for tests that need detections above threshold.
    """
    from models.export import export_cached

    return export_cached(
        arch, cache_dir(), imgsz, dynamic=dynamic, half=half, batch=batch, nms=nms, demo_scores=demo_scores,
    )


def demo_model(
    arch: str = "yolov8n.yaml", imgsz: int = 640, *, dynamic: bool = True, nms: bool = False,
) -> Path:
    """The scored test-model variant of `arch` (dynamic batch and size by default)."""
    return cached_model(arch, imgsz, dynamic=dynamic, nms=nms, demo_scores=True)
