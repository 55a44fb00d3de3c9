"""Export a third-party `.pt` checkpoint whose pickle names custom classes: run as its own process only.

`python -m models.pt_export --pt W.pt --modules M.py --main-classes A,B --out W.onnx [--imgsz 640] [--dynamic]`

Some registry packages ship Ultralytics checkpoints trained from a script, so the pickle names their
custom layers as `__main__.ClassName`. Loading such a file needs those classes, and the package's own
answer is to inject them into the caller's `__main__` on import. We do neither that nor import the
package: this process loads only the file that defines the classes (under a private module name), reads
the checkpoint with an unpickler that resolves `__main__.X` for the listed classes and refuses every
global outside an allow-list (torch tensors and layers, Ultralytics layers, plain containers), and hands
the model to Ultralytics for the ONNX export. It all happens in a child process (`models.fetch` starts
it), so nothing of the third-party code stays loaded in, or patches, the process that asked for it.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib.util
import os
import pickle
import shutil
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path
from types import ModuleType
from typing import Any

PRIVATE_MODULE = "_gridwatch_pt_export_layers"
"""Name the custom-layer file is loaded under (never the package's own name: its __init__ is not run)."""

_ALLOWED_PREFIXES = ("torch.", "ultralytics.nn.")
_ALLOWED_GLOBALS = {
    ("collections", "OrderedDict"),
    ("builtins", "set"),
    ("__builtin__", "set"),
    ("builtins", "dict"),
    ("builtins", "list"),
    ("builtins", "tuple"),
    ("torch", "Size"),
    ("torch", "device"),
}
_TORCH_STORAGE_SUFFIX = "Storage"


class ExportError(RuntimeError):
    """The checkpoint could not be read or exported (the message names the file and the cause)."""


def load_layers(path: Path) -> ModuleType:
    """Import the file defining the custom layers under PRIVATE_MODULE (registered so pickling finds it)."""
    spec = importlib.util.spec_from_file_location(PRIVATE_MODULE, path)
    if spec is None or spec.loader is None:
        raise ExportError(f"{path}: cannot be loaded as a Python module")
    module = importlib.util.module_from_spec(spec)
    sys.modules[PRIVATE_MODULE] = module
    spec.loader.exec_module(module)
    return module


def _allowed(module: str, name: str) -> bool:
    if (module, name) in _ALLOWED_GLOBALS:
        return True
    if module == "torch" and name.endswith(_TORCH_STORAGE_SUFFIX):
        return True
    if module in ("torch._utils",) and name.startswith("_rebuild"):
        return True
    return module.startswith(_ALLOWED_PREFIXES) and not name.startswith("_")


def pickle_module(layers: ModuleType, main_classes: Sequence[str]) -> Any:
    """A `pickle_module` for torch.load: `__main__.X` -> layers.X for X in main_classes, allow-list else."""
    wanted = set(main_classes)

    class _Unpickler(pickle.Unpickler):
        def find_class(self, module: str, name: str) -> Any:
            if module == "__main__":
                if name not in wanted or not hasattr(layers, name):
                    raise ExportError(f"checkpoint names __main__.{name}, which is not an expected custom layer")
                return getattr(layers, name)
            if not _allowed(module, name):
                raise ExportError(f"checkpoint names {module}.{name}, outside the allow-list of a model file")
            return super().find_class(module, name)

    class _Shim:
        __name__ = "gridwatch_restricted_pickle"
        Unpickler = _Unpickler
        load = staticmethod(pickle.load)

    return _Shim


def export(
    pt: Path, layers_file: Path, main_classes: Sequence[str], out: Path, *, imgsz: int, dynamic: bool
) -> Path:
    """Read `pt` with the restricted unpickler, re-save it naming PRIVATE_MODULE, export ONNX to `out`."""
    import torch  # noqa: PLC0415 (export extra; this module only runs in its own process)
    from ultralytics.models.yolo.model import YOLO  # noqa: PLC0415

    layers = load_layers(layers_file)
    try:
        ckpt = torch.load(str(pt), map_location="cpu", pickle_module=pickle_module(layers, main_classes),
                          weights_only=False)
    except ExportError:
        raise
    except Exception as exc:  # torch raises many kinds on a corrupt file
        raise ExportError(f"{pt}: cannot read the checkpoint: {exc}") from exc
    if not isinstance(ckpt, dict) or not isinstance(ckpt.get("ema") or ckpt.get("model"), torch.nn.Module):
        raise ExportError(f"{pt}: not an Ultralytics checkpoint (no model inside)")
    os.environ["YOLO_OFFLINE"] = "1"  # this process only: Ultralytics must not reach the network
    out.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="gw-pt-export-") as tmp, contextlib.chdir(tmp):
        # Re-saved so its pickle names PRIVATE_MODULE (already imported here) instead of __main__.
        resaved = Path(tmp) / pt.name
        torch.save(ckpt, resaved)
        try:
            produced = YOLO(str(resaved)).export(
                format="onnx", imgsz=imgsz, dynamic=dynamic, simplify=True, device="cpu", batch=1
            )
        except Exception as exc:  # Ultralytics raises many kinds; name the input either way
            raise ExportError(f"{pt}: Ultralytics export failed: {exc}") from exc
        staged = out.with_suffix(".onnx.tmp")
        shutil.move(str(produced), staged)
        staged.replace(out)
    return out


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    ap.add_argument("--pt", type=Path, required=True)
    ap.add_argument("--modules", type=Path, required=True, help="file defining the custom layer classes")
    ap.add_argument("--main-classes", required=True, help="comma-separated class names pickled as __main__.X")
    ap.add_argument("--out", type=Path, required=True)
    ap.add_argument("--imgsz", type=int, default=640)
    ap.add_argument("--dynamic", action="store_true")
    args = ap.parse_args(argv)
    try:
        import torch  # noqa: F401, PLC0415
        import ultralytics  # noqa: F401, PLC0415
    except ImportError as exc:
        print(f"exporting needs torch and Ultralytics (the `export` extra): {exc}", file=sys.stderr)  # noqa: T201
        return 3
    try:
        export(args.pt, args.modules, [c for c in args.main_classes.split(",") if c], args.out,
               imgsz=args.imgsz, dynamic=args.dynamic)
    except ExportError as exc:
        print(str(exc), file=sys.stderr)  # noqa: T201
        return 2
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
