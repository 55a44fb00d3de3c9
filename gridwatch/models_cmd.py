"""`gridwatch models fetch|export|inspect|quantize`: thin commands over the models package."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from foundation.errors import ConfigError
from models.export import export_onnx
from models.fetch import fetch
from models.inspect import inspect_model
from models.quantize import quantize_int8


def _imgsz(values: list[int]) -> int | tuple[int, int]:
    if len(values) == 1:
        return values[0]
    if len(values) == 2:
        return values[0], values[1]
    raise ConfigError(f"--imgsz takes one size or height and width, got {len(values)} numbers")


def cmd_export(args: argparse.Namespace) -> int:
    source = str(args.source)
    out = args.out or Path(Path(source).stem + ".onnx")
    path = export_onnx(source, out, imgsz=_imgsz(args.imgsz), dynamic=args.dynamic, half=args.half,
                       batch=args.batch, nms=args.nms)
    print(f"exported {source} -> {path}")
    print(inspect_model(path).to_text())
    return 0


def cmd_fetch(args: argparse.Namespace) -> int:
    from gridwatch.calibration import CALIBRATIONS

    calibration = None if args.no_int8 else CALIBRATIONS.get(args.name)
    fetched = fetch(args.name, calibration, force=args.force, requantize=args.requantize)
    m = fetched.manifest
    print(f"{fetched.name}: {m['package']}=={m['version']} in {fetched.folder}")
    print(f"  wheel sha256 {fetched.wheel_sha256} (pinned, checked); weights sha256 {fetched.weights_sha256}")
    print(f"  fp32 {fetched.fp32.name} sha256 {fetched.fp32_sha256}")
    a = fetched.int8_agreement
    if fetched.int8_sha256 is not None and a is not None:
        verdict = "passed: `precision: auto` uses INT8" if a.passed else "FAILED: `precision: auto` uses fp32"
        print(f"  int8 {fetched.int8.name} sha256 {fetched.int8_sha256}; agreement with fp32 on {a.frames} "
              f"held-out frames: recall {a.recall:.3f}, precision {a.precision:.3f} ({verdict})")
    print(f"  classes {dict(fetched.class_names)}; licence stated by the package: {m['licence_stated']}")
    print(f"  {m['licence_note']}")
    return 0


def cmd_inspect(args: argparse.Namespace) -> int:
    report = inspect_model(args.model)
    print(json.dumps(report.to_dict(), indent=2) if args.json else report.to_text())
    return 0


def cmd_quantize(args: argparse.Namespace) -> int:
    report = quantize_int8(args.model, args.calibrate, args.out, frames=args.frames)
    agreement = report.agreement
    print(f"INT8 model written to {report.output} ({report.quantized_nodes} nodes quantized, "
          f"{len(report.float_nodes_kept)} kept in float, {report.seconds:.1f} s)")
    print(f"box agreement with fp32 on {report.eval_frames} held-out frames: {json.dumps(asdict_safe(agreement))}")
    return 0


def asdict_safe(obj: object) -> dict[str, object]:
    """A dataclass's fields as JSON-friendly values (for the agreement line)."""
    from dataclasses import asdict, is_dataclass

    if is_dataclass(obj) and not isinstance(obj, type):
        return {k: (round(v, 4) if isinstance(v, float) else v) for k, v in asdict(obj).items()}
    return {"value": str(obj)}
