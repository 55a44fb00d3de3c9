"""Reading and validating an ONNX file before ONNX Runtime sees it, with one clear error per fault.

A model file comes from outside (a registry, a USB stick, a colleague's export), so each way it can be
wrong gets its own message: missing, empty, not ONNX at all, truncated, external data that points outside
the model's folder (refused: a model must not make us read arbitrary files), no Ultralytics metadata,
a task other than detection, an input that is not NCHW with 3 channels, an output that does not match a
detect head.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import onnx
from google.protobuf.message import DecodeError  # type: ignore[import-untyped]

from foundation.errors import ModelError
from models.metadata import UltralyticsMetadata

log = logging.getLogger(__name__)

Dim = int | str | None

_ELEM_TYPES = {1: "float32", 10: "float16", 11: "float64", 2: "uint8", 3: "int8", 6: "int32", 7: "int64"}


@dataclass(frozen=True, slots=True)
class TensorSpec:
    """A graph input or output: name, shape (ints where fixed, names or None where dynamic), dtype."""

    name: str
    shape: tuple[Dim, ...]
    dtype: str

    def to_dict(self) -> dict[str, object]:
        return {"name": self.name, "shape": list(self.shape), "dtype": self.dtype}


@dataclass(frozen=True, slots=True)
class OnnxFile:
    """A parsed ONNX file: graph inputs/outputs, metadata properties, sha256, opset, producer."""

    path: Path
    size_bytes: int
    sha256: str
    ir_version: int
    opset: int
    producer: str
    inputs: tuple[TensorSpec, ...]
    outputs: tuple[TensorSpec, ...]
    props: dict[str, str]
    external_files: tuple[Path, ...]


def _looks_like_onnx_start(data: bytes) -> bool:
    """ModelProto begins with field 1 (ir_version, a small varint); anything else is not an ONNX file."""
    return len(data) >= 2 and data[0] == 0x08 and 1 <= data[1] <= 20


def _tensor_spec(value: onnx.ValueInfoProto) -> TensorSpec:
    ttype = value.type.tensor_type
    dims: list[Dim] = []
    for d in ttype.shape.dim:
        if d.HasField("dim_value"):
            dims.append(int(d.dim_value))
        elif d.HasField("dim_param"):
            dims.append(str(d.dim_param))
        else:
            dims.append(None)
    return TensorSpec(value.name, tuple(dims), _ELEM_TYPES.get(ttype.elem_type, f"type{ttype.elem_type}"))


def _all_tensors(graph: onnx.GraphProto) -> Iterator[onnx.TensorProto]:
    """Initializers and tensor attributes, subgraphs included: everything that may hold external data."""
    yield from graph.initializer
    for node in graph.node:
        for attr in node.attribute:
            if attr.HasField("t"):
                yield attr.t
            yield from attr.tensors
            if attr.HasField("g"):
                yield from _all_tensors(attr.g)
            for sub in attr.graphs:
                yield from _all_tensors(sub)


def _external_files(model: onnx.ModelProto, path: Path) -> tuple[Path, ...]:
    """Files the model's external data names, each checked to lie inside the model's folder."""
    folder = path.parent.resolve()
    found: list[Path] = []
    for tensor in _all_tensors(model.graph):
        if tensor.data_location != onnx.TensorProto.EXTERNAL:
            continue
        location = next((e.value for e in tensor.external_data if e.key == "location"), "")
        if not location:
            raise ModelError(f"{path}: tensor '{tensor.name}' has external data without a location")
        target = (folder / location).resolve()
        if Path(location).is_absolute() or not target.is_relative_to(folder):
            raise ModelError(
                f"{path}: tensor '{tensor.name}' keeps its data in '{location}', outside the model's folder "
                f"{folder}; refused (external data must sit next to the model)"
            )
        if not target.is_file():
            raise ModelError(f"{path}: external data file '{location}' of tensor '{tensor.name}' is missing")
        if target not in found:
            found.append(target)
    return tuple(found)


def read_onnx(path: str | Path) -> OnnxFile:
    """Parse `path` without loading external data; raise ModelError saying exactly what is wrong."""
    p = Path(path)
    try:
        data = p.read_bytes()
    except FileNotFoundError as exc:
        raise ModelError(f"{p}: model file not found") from exc
    except IsADirectoryError as exc:
        raise ModelError(f"{p}: is a directory, expected an .onnx file") from exc
    except OSError as exc:
        raise ModelError(f"{p}: cannot read model file ({exc.strerror})") from exc
    if not data:
        raise ModelError(f"{p}: model file is empty (0 bytes)")
    model = onnx.ModelProto()
    try:
        model.ParseFromString(data)
    except (DecodeError, RuntimeError, ValueError) as exc:
        if _looks_like_onnx_start(data):
            raise ModelError(
                f"{p}: ONNX file is truncated or corrupted ({len(data)} bytes cannot be parsed); "
                "copy or export it again"
            ) from exc
        raise ModelError(f"{p}: not an ONNX model (starts with {data[:8]!r})") from exc
    if not model.HasField("graph") or not model.graph.node:
        if _looks_like_onnx_start(data):
            raise ModelError(f"{p}: ONNX file is truncated: it has no graph ({len(data)} bytes)")
        raise ModelError(f"{p}: not an ONNX model (no graph)")
    if not model.opset_import:
        raise ModelError(f"{p}: ONNX file is truncated or corrupted: it declares no opset (file ends early?)")
    initializers = {t.name for t in model.graph.initializer}
    inputs = tuple(_tensor_spec(v) for v in model.graph.input if v.name not in initializers)
    outputs = tuple(_tensor_spec(v) for v in model.graph.output)
    opset = max((o.version for o in model.opset_import if o.domain in ("", "ai.onnx")), default=0)
    return OnnxFile(
        path=p,
        size_bytes=len(data),
        sha256=hashlib.sha256(data).hexdigest(),
        ir_version=int(model.ir_version),
        opset=int(opset),
        producer=f"{model.producer_name} {model.producer_version}".strip(),
        inputs=inputs,
        outputs=outputs,
        props={prop.key: prop.value for prop in model.metadata_props},
        external_files=_external_files(model, p),
    )


@dataclass(frozen=True, slots=True)
class DetectLayout:
    """How a validated detect model's tensors look: what the runtime needs to run and decode it."""

    input: TensorSpec
    output: TensorSpec
    static_batch: int | None
    static_hw: tuple[int, int] | None
    num_classes: int
    end2end: bool


def check_detect_model(onnx_file: OnnxFile, meta: UltralyticsMetadata) -> DetectLayout:
    """Check the file is an Ultralytics detect model we can run; raise ModelError otherwise."""
    src = onnx_file.path
    if meta.task != "detect":
        raise ModelError(f"{src}: task is '{meta.task}', but only 'detect' models are supported")
    inp = _image_input(onnx_file)
    if not onnx_file.outputs:
        raise ModelError(f"{src}: the graph has no outputs")
    out = onnx_file.outputs[0]
    nc = len(meta.names)
    _check_detect_output(src, out, meta, nc)
    batch = inp.shape[0] if isinstance(inp.shape[0], int) and inp.shape[0] > 0 else None
    h, w = inp.shape[2], inp.shape[3]
    static_hw = (h, w) if isinstance(h, int) and isinstance(w, int) and h > 0 and w > 0 else None
    for side in static_hw or ():
        if side % meta.stride:
            raise ModelError(f"{src}: input size {static_hw} is not a multiple of the stride {meta.stride}")
    return DetectLayout(inp, out, batch, static_hw, nc, meta.end2end)


def _image_input(onnx_file: OnnxFile) -> TensorSpec:
    """The model's one image input, (N, 3, H, W) float; ModelError naming what differs."""
    src = onnx_file.path
    if len(onnx_file.inputs) != 1:
        raise ModelError(f"{src}: expected one image input, found {len(onnx_file.inputs)}")
    inp = onnx_file.inputs[0]
    if len(inp.shape) != 4:
        raise ModelError(
            f"{src}: input '{inp.name}' has rank {len(inp.shape)} {list(inp.shape)}; "
            "expected rank 4 (N, 3, H, W)"
        )
    if isinstance(inp.shape[1], int) and inp.shape[1] != 3:
        raise ModelError(f"{src}: input '{inp.name}' has {inp.shape[1]} channels; expected 3 (N, 3, H, W)")
    if inp.dtype not in ("float32", "float16"):
        raise ModelError(f"{src}: input '{inp.name}' is {inp.dtype}; expected float32 or float16")
    return inp


def _check_detect_output(src: Path, out: TensorSpec, meta: UltralyticsMetadata, nc: int) -> None:
    """A detect head's output: (N, 4 + classes, anchors), or (N, max_det, 6) end to end."""
    if len(out.shape) != 3:
        raise ModelError(f"{src}: output '{out.name}' has rank {len(out.shape)}; a detect head gives rank 3")
    if meta.end2end:
        if isinstance(out.shape[2], int) and out.shape[2] != 6:
            raise ModelError(
                f"{src}: end-to-end output '{out.name}' is {list(out.shape)}; expected (N, max_det, 6)"
            )
    elif isinstance(out.shape[1], int) and out.shape[1] != 4 + nc:
        raise ModelError(
            f"{src}: output '{out.name}' is {list(out.shape)} but the metadata names {nc} classes; "
            f"a detect head gives (N, {4 + nc}, anchors)"
        )
