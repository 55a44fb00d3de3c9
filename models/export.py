"""Export YOLO models to ONNX through Ultralytics (the optional `export` extra).

Test and demo models are built from Ultralytics architecture files (e.g. `yolov8n.yaml`) with seeded
random weights: real compute cost, no downloads. Ultralytics writes next to its input in the working
directory, so the export runs in a scratch folder and the result is moved to `out_path`.
"""

from __future__ import annotations

import contextlib
import logging
import os
import shutil
import tempfile
from pathlib import Path

from gridwatch.errors import ModelError

log = logging.getLogger(__name__)


def export_onnx(
    source: str | Path,
    out_path: str | Path,
    *,
    imgsz: int | tuple[int, int] = 640,
    dynamic: bool = False,
    half: bool = False,
    batch: int = 1,
    seed: int = 0,
    nms: bool = False,
) -> Path:
    """Export `source` (a `.pt` checkpoint or an architecture `.yaml`) to ONNX at `out_path`.

    Random initialisation is seeded so the same architecture always gives the same weights.
    """
    try:
        import torch
        from ultralytics import YOLO
    except ImportError as exc:
        raise ModelError(
            "exporting needs Ultralytics: install the `export` extra (pip install 'gridwatch[export]')"
        ) from exc
    out = Path(out_path).resolve()
    out.parent.mkdir(parents=True, exist_ok=True)
    src = str(source)
    if src.endswith(".pt") and not Path(src).is_file():
        raise ModelError(f"{src}: weights file not found (gridwatch never downloads weights)")
    torch.manual_seed(seed)
    os.environ.setdefault("YOLO_OFFLINE", "1")
    with tempfile.TemporaryDirectory(prefix="gw-export-") as tmp, contextlib.chdir(tmp):
        local = Path(tmp) / Path(src).name
        if Path(src).is_file():
            shutil.copy(src, local)
            src = str(local)
        try:
            model = YOLO(src)
            produced = model.export(
                format="onnx", imgsz=imgsz, dynamic=dynamic, half=half, batch=batch, simplify=True,
                nms=nms, device="cpu",
            )
        except Exception as exc:  # Ultralytics raises many kinds; name the input either way
            raise ModelError(f"{source}: Ultralytics export failed: {exc}") from exc
        tmp_out = out.with_suffix(".onnx.tmp")
        shutil.move(str(produced), tmp_out)
        tmp_out.replace(out)
    log.info("exported %s to %s (imgsz=%s dynamic=%s half=%s)", source, out, imgsz, dynamic, half)
    return out
