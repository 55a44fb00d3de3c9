"""Test models: exported once by Ultralytics from architecture files and cached outside the repo."""

from __future__ import annotations

import fcntl
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
) -> Path:
    """Path of an ONNX export of `arch` with seeded random weights, exporting it on first use."""
    import ultralytics

    from models.export import export_onnx

    size = f"{imgsz[0]}x{imgsz[1]}" if isinstance(imgsz, tuple) else str(imgsz)
    flags = "".join(f for f, on in (("-dyn", dynamic), ("-fp16", half), ("-nms", nms)) if on)
    name = f"{Path(arch).stem}-{size}-b{batch}{flags}-ul{ultralytics.__version__}.onnx"
    path = cache_dir() / name
    if path.is_file():
        return path
    with (cache_dir() / ".lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not path.is_file():
            export_onnx(arch, path, imgsz=imgsz, dynamic=dynamic, half=half, batch=batch, nms=nms)
    return path
