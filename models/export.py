"""Export YOLO models to ONNX through Ultralytics (the optional `export` extra).

Test and demo models are built from Ultralytics architecture files (e.g. `yolov8n.yaml`) with seeded
random weights: real compute cost, no downloads. Ultralytics writes next to its input in the working
directory, so the export runs in a scratch folder and the result is moved to `out_path`.

A freshly initialised network scores every class at ~1e-4 and predicts one box size everywhere (its
activations vanish layer by layer), so nothing would pass a threshold. `demo_scores=True` calibrates
such a network on seeded synthetic scenes: batch-norm statistics are set from the scenes so activations
keep their spread, and the detect head's last convolutions are rescaled so class logits and box
distances vary with the picture. The result detects "something" with scores spread over 0.25-0.99 and
varied boxes: exactly what parity tests, benchmarks and demos need; meaningless as a detector.
"""

from __future__ import annotations

import contextlib
import fcntl
import importlib.metadata
import logging
import os
import shutil
import tempfile
from pathlib import Path
from typing import Any

import cv2
import numpy as np
from numpy.typing import NDArray

from foundation.errors import MissingExtraError, ModelError

log = logging.getLogger(__name__)

DEMO_CLASS_LOGIT_MEAN = -6.0  # with std 0.7 this leaves a few hundred candidates above 0.25 per 640 image
DEMO_CLASS_LOGIT_STD = 0.7
DEMO_BOX_LOGIT_STD = 2.0


def synthetic_scene(seed: int, height: int = 640, width: int = 640) -> NDArray[np.uint8]:
    """A seeded BGR picture of coloured rectangles and ellipses on a gradient: structure for random nets."""
    rng = np.random.default_rng(seed)
    ramp = np.linspace(0, 1, width, dtype=np.float32)[None, :, None]
    base = rng.integers(0, 256, 3).astype(np.float32)
    tint = rng.integers(0, 256, 3).astype(np.float32)
    gradient = base * (1 - ramp) + tint * ramp
    img = np.ascontiguousarray(np.broadcast_to(gradient, (height, width, 3)).astype(np.uint8))
    for _ in range(int(rng.integers(8, 20))):
        x, y = int(rng.integers(0, width)), int(rng.integers(0, height))
        size = int(rng.integers(max(4, min(height, width) // 40), max(8, min(height, width) // 3)))
        colour = tuple(int(c) for c in rng.integers(0, 256, 3))
        if rng.random() < 0.5:
            cv2.rectangle(img, (x, y), (x + size, y + int(size * rng.uniform(0.3, 2.0))), colour, -1)
        else:
            axes = (size // 2, int(size * rng.uniform(0.2, 0.8)))
            cv2.ellipse(img, (x, y), axes, float(rng.uniform(0, 180)), 0, 360, colour, -1)
    noise = rng.normal(0, 6, img.shape)
    return np.clip(img.astype(np.float32) + noise, 0, 255).astype(np.uint8)


def calibrate_demo_head(yolo: Any, seed: int = 0, scenes: int = 4, imgsz: int = 640) -> None:
    """Make a randomly initialised Ultralytics detect model output spread scores and varied boxes.

    `yolo` is an `ultralytics.YOLO` built from an architecture file. See the module docstring for why.
    """
    import torch  # noqa: PLC0415 (torch comes with the optional `export` extra)

    net = yolo.model
    head = net.model[-1]
    images = np.stack([synthetic_scene(seed * 1000 + i, imgsz, imgsz) for i in range(scenes)])
    x = torch.from_numpy(np.ascontiguousarray(images[..., ::-1].transpose(0, 3, 1, 2))).float() / 255.0
    norms = [m for m in net.modules() if isinstance(m, torch.nn.BatchNorm2d)]
    for bn in norms:  # running stats := this batch's stats, layer by layer in one forward pass
        bn.reset_running_stats()
        bn.momentum = 1.0
    net.train()
    with torch.no_grad():
        net(x)
    net.eval()
    for bn in norms:
        bn.momentum = 0.03
    branches = [("box", head.cv2), ("cls", head.cv3)]
    if getattr(head, "one2one_cv2", None) is not None:
        branches += [("box", head.one2one_cv2), ("cls", head.one2one_cv3)]
    convs = [(kind, seq[-1]) for kind, levels in branches for seq in levels]
    captured: dict[int, torch.Tensor] = {}

    def capture(key: int) -> Any:
        return lambda _m, inp, _o: captured.__setitem__(key, inp[0].detach())

    hooks = [conv.register_forward_hook(capture(id(conv))) for _, conv in convs]
    with torch.no_grad():
        net(x)
    for hook in hooks:
        hook.remove()
    gen = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for kind, conv in convs:
            raw = torch.nn.functional.conv2d(captured[id(conv)], conv.weight)
            mean = raw.mean(dim=(0, 2, 3))
            std = raw.std(dim=(0, 2, 3)).clamp_min(1e-12)
            if kind == "cls":
                scale = DEMO_CLASS_LOGIT_STD / std
                bias = DEMO_CLASS_LOGIT_MEAN - mean * scale
            else:
                scale = DEMO_BOX_LOGIT_STD / std
                bias = -mean * scale + 0.5 * torch.randn(mean.shape, generator=gen)
            conv.weight.mul_(scale[:, None, None, None])
            conv.bias.copy_(bias)


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
    demo_scores: bool = False,
) -> Path:
    """Export `source` (a `.pt` checkpoint or an architecture `.yaml`) to ONNX at `out_path`.

    Random initialisation is seeded so the same architecture always gives the same weights.
    `demo_scores` (architecture files only) calibrates the random head to output boxes; see the module doc.
    """
    src = str(source)
    is_weights = src.endswith(".pt")
    if is_weights and not Path(src).is_file():  # before the imports below, which take seconds
        raise ModelError(f"{src}: weights file not found (gridwatch never downloads weights)")
    if demo_scores and is_weights:
        raise ModelError(f"{src}: demo_scores is for architecture files; it would overwrite trained weights")
    try:
        from ultralytics.models.yolo.model import YOLO  # noqa: PLC0415 (optional `export` extra)
    except ImportError as exc:
        raise MissingExtraError("export", "exporting a model to ONNX", "Ultralytics") from exc
    import torch  # noqa: PLC0415 (Ultralytics brings it)
    out = Path(out_path).resolve()
    out.parent.mkdir(parents=True, exist_ok=True)
    torch.manual_seed(seed)
    os.environ.setdefault("YOLO_OFFLINE", "1")
    with tempfile.TemporaryDirectory(prefix="gw-export-") as tmp, contextlib.chdir(tmp):
        local = Path(tmp) / Path(src).name
        if Path(src).is_file():
            shutil.copy(src, local)
            src = str(local)
        try:
            model = YOLO(src)
            if demo_scores:
                calibrate_demo_head(model, seed=seed, imgsz=imgsz if isinstance(imgsz, int) else max(imgsz))
            produced = model.export(
                format="onnx", imgsz=imgsz, dynamic=dynamic, half=half, batch=batch, simplify=True,
                nms=nms, device="cpu",
            )
        except Exception as exc:  # Ultralytics raises many kinds; name the input either way
            raise ModelError(f"{source}: Ultralytics export failed: {exc}") from exc
        tmp_out = out.with_suffix(".onnx.tmp")
        shutil.move(str(produced), tmp_out)
        tmp_out.replace(out)
    log.info("exported %s to %s (imgsz=%s dynamic=%s half=%s nms=%s demo_scores=%s)",
             source, out, imgsz, dynamic, half, nms, demo_scores)
    return out


def cached_export_name(
    arch: str, imgsz: int | tuple[int, int], *, dynamic: bool, half: bool, batch: int, nms: bool,
    demo_scores: bool, ultralytics_version: str,
) -> str:
    """File name of a cached export: everything that changes the file is in the name."""
    size = f"{imgsz[0]}x{imgsz[1]}" if isinstance(imgsz, tuple) else str(imgsz)
    flags = "".join(
        f for f, on in (("-dyn", dynamic), ("-fp16", half), ("-nms", nms), ("-demo", demo_scores)) if on
    )
    return f"{Path(arch).stem}-{size}-b{batch}{flags}-ul{ultralytics_version}.onnx"


def export_cached(
    arch: str,
    cache_dir: str | Path,
    imgsz: int | tuple[int, int] = 640,
    *,
    dynamic: bool = False,
    half: bool = False,
    batch: int = 1,
    nms: bool = False,
    demo_scores: bool = False,
) -> Path:
    """Path of an export of `arch` in `cache_dir`, exporting it once (file-locked across processes)."""
    try:
        ultralytics_version = importlib.metadata.version("ultralytics")  # no import: it takes seconds
    except importlib.metadata.PackageNotFoundError as exc:
        raise MissingExtraError("export", "exporting a model to ONNX", "Ultralytics") from exc
    folder = Path(cache_dir)
    folder.mkdir(parents=True, exist_ok=True)
    name = cached_export_name(
        arch, imgsz, dynamic=dynamic, half=half, batch=batch, nms=nms, demo_scores=demo_scores,
        ultralytics_version=ultralytics_version,
    )
    path = folder / name
    if path.is_file():
        return path
    with (folder / ".lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not path.is_file():
            export_onnx(arch, path, imgsz=imgsz, dynamic=dynamic, half=half, batch=batch, nms=nms,
                        demo_scores=demo_scores)
    return path
