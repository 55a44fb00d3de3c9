"""`gridwatch models inspect MODEL.onnx`: what a model file is, without running it.

Shows the graph's inputs and outputs, the Ultralytics metadata (names, imgsz, stride, task, batch,
dynamic, end-to-end), the ONNX Runtime providers this machine offers, and whether gridwatch can run the
file as a detect model (and if not, why). A file that is not ONNX at all raises ModelError; a valid ONNX
file with unusable metadata is still described, with its problem listed.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import onnxruntime as ort

from foundation.errors import ModelError
from models.metadata import UltralyticsMetadata, parse_metadata
from models.onnxfile import TensorSpec, check_detect_model, read_onnx


@dataclass(frozen=True)
class ModelInspection:
    """Everything `inspect` reports; `to_dict()` is what `--json` prints."""

    path: Path
    size_bytes: int
    sha256: str
    opset: int
    ir_version: int
    producer: str
    inputs: tuple[TensorSpec, ...]
    outputs: tuple[TensorSpec, ...]
    metadata: UltralyticsMetadata | None
    providers_available: tuple[str, ...]
    runnable: bool
    problems: tuple[str, ...] = field(default=())
    external_files: tuple[Path, ...] = field(default=())

    def to_dict(self) -> dict[str, Any]:
        meta = self.metadata
        return {
            "path": str(self.path),
            "size_bytes": self.size_bytes,
            "sha256": self.sha256,
            "opset": self.opset,
            "ir_version": self.ir_version,
            "producer": self.producer,
            "inputs": [t.to_dict() for t in self.inputs],
            "outputs": [t.to_dict() for t in self.outputs],
            "names": dict(meta.names) if meta else None,
            "imgsz": list(meta.imgsz) if meta else None,
            "stride": meta.stride if meta else None,
            "task": meta.task if meta else None,
            "batch": meta.batch if meta else None,
            "dynamic": meta.dynamic if meta else None,
            "end2end": meta.end2end if meta else None,
            "half": meta.half if meta else None,
            "ultralytics_version": meta.version if meta else None,
            "providers_available": list(self.providers_available),
            "runnable": self.runnable,
            "problems": list(self.problems),
            "external_files": [str(p) for p in self.external_files],
        }

    def to_text(self) -> str:
        """Human-readable summary for the CLI."""
        d = self.to_dict()
        lines = [
            f"model:      {d['path']} ({self.size_bytes / 1e6:.1f} MB, sha256 {self.sha256[:16]}...)",
            f"onnx:       opset {self.opset}, IR {self.ir_version}, producer {self.producer or '?'}",
        ]
        lines += [f"input:      {t.name} {list(t.shape)} {t.dtype}" for t in self.inputs]
        lines += [f"output:     {t.name} {list(t.shape)} {t.dtype}" for t in self.outputs]
        if self.metadata:
            m = self.metadata
            shown = ", ".join(f"{k}: {v}" for k, v in list(m.names.items())[:10])
            more = f", ... ({len(m.names)} classes)" if len(m.names) > 10 else ""
            lines += [
                f"task:       {m.task} ({'end-to-end, no NMS' if m.end2end else 'anchor head + NMS'})",
                f"imgsz:      {m.imgsz[0]}x{m.imgsz[1]} (h x w), stride {m.stride}, batch {m.batch}, "
                f"dynamic {m.dynamic}, half {m.half}",
                f"names:      {{{shown}{more}}}",
                f"exported:   Ultralytics {m.version or '?'} {m.date}",
            ]
        lines.append(f"providers:  {', '.join(self.providers_available)} (available here)")
        lines.append(f"runnable:   {'yes' if self.runnable else 'no'}")
        lines += [f"problem:    {p}" for p in self.problems]
        return "\n".join(lines)


def inspect_model(path: str | Path) -> ModelInspection:
    """Describe an ONNX file. Raises ModelError only when the file cannot be read as ONNX at all."""
    onnx_file = read_onnx(path)
    problems: list[str] = []
    meta: UltralyticsMetadata | None = None
    try:
        meta = parse_metadata(onnx_file.props, str(onnx_file.path))
        check_detect_model(onnx_file, meta)
    except ModelError as exc:
        problems.append(str(exc))
    return ModelInspection(
        path=onnx_file.path,
        size_bytes=onnx_file.size_bytes,
        sha256=onnx_file.sha256,
        opset=onnx_file.opset,
        ir_version=onnx_file.ir_version,
        producer=onnx_file.producer,
        inputs=onnx_file.inputs,
        outputs=onnx_file.outputs,
        metadata=meta,
        providers_available=tuple(ort.get_available_providers()),
        runnable=not problems,
        problems=tuple(problems),
        external_files=onnx_file.external_files,
    )
