"""Ultralytics metadata embedded in an exported ONNX file, parsed safely.

Ultralytics writes `names`, `imgsz`, `args`, `end2end`... as `str()` of Python values, e.g.
`{0: 'person', 1: 'bicycle'}`. They are read with `ast.literal_eval`, which accepts literals only, never
`eval`: a model file is input from outside and must not run code.
"""

from __future__ import annotations

import ast
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from foundation.errors import ModelError

_MAX_LITERAL_CHARS = 1_000_000  # a names dict of 10k classes is ~200 kB; bigger is not metadata


@dataclass(frozen=True, slots=True)
class UltralyticsMetadata:
    """What the runtime needs from the metadata: class names, nominal size, stride, task, head kind."""

    names: dict[int, str]
    imgsz: tuple[int, int]
    stride: int
    task: str
    batch: int
    end2end: bool
    dynamic: bool
    half: bool
    version: str
    date: str
    description: str
    args: dict[str, Any] = field(default_factory=dict)


def literal(text: str, key: str, source: str) -> Any:
    """One metadata value as a Python literal (dicts, lists, numbers, strings, booleans, None)."""
    if len(text) > _MAX_LITERAL_CHARS:
        raise ModelError(f"{source}: metadata '{key}' is {len(text)} characters long; refusing to parse it")
    try:
        return ast.literal_eval(text)
    except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError) as exc:
        raise ModelError(f"{source}: metadata '{key}' is not a Python literal: {text[:80]!r}") from exc


def _int(props: Mapping[str, str], key: str, source: str, default: int | None = None) -> int:
    if key not in props:
        if default is None:
            raise ModelError(f"{source}: Ultralytics metadata has no '{key}'")
        return default
    value = literal(props[key], key, source)
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ModelError(f"{source}: metadata '{key}' must be a positive integer, got {props[key]!r}")
    return value


def _names(props: Mapping[str, str], source: str) -> dict[int, str]:
    value = literal(props["names"], "names", source)
    if isinstance(value, list | tuple):
        value = dict(enumerate(value))
    if not isinstance(value, dict) or not value:
        raise ModelError(f"{source}: metadata 'names' must be a non-empty dict of class id to name")
    out: dict[int, str] = {}
    for k, v in value.items():
        if isinstance(k, bool) or not isinstance(k, int) or k < 0:
            raise ModelError(f"{source}: metadata 'names' has class id {k!r}; ids are integers >= 0")
        out[k] = str(v)
    if sorted(out) != list(range(len(out))):
        raise ModelError(f"{source}: metadata 'names' ids must be 0..{len(out) - 1} without gaps")
    return out


def _imgsz(props: Mapping[str, str], source: str) -> tuple[int, int]:
    value = literal(props["imgsz"], "imgsz", source)
    if isinstance(value, int) and not isinstance(value, bool):
        value = [value, value]
    if (
        not isinstance(value, list | tuple) or len(value) != 2
        or not all(isinstance(v, int) and not isinstance(v, bool) and v > 0 for v in value)
    ):
        raise ModelError(f"{source}: metadata 'imgsz' must be [height, width], got {props['imgsz']!r}")
    return int(value[0]), int(value[1])


def _bool(value: Any) -> bool:
    return value is True or (isinstance(value, str) and value.strip().lower() == "true")


def parse_metadata(props: Mapping[str, str], source: str) -> UltralyticsMetadata:
    """Parse the ONNX `metadata_props` Ultralytics writes; raise ModelError naming the file and key."""
    missing = [k for k in ("names", "stride", "task", "imgsz") if k not in props]
    if len(missing) == 4:
        raise ModelError(
            f"{source}: no Ultralytics metadata (names, stride, task, imgsz); export the model with "
            "Ultralytics (`gridwatch models export`)"
        )
    if missing:
        raise ModelError(f"{source}: Ultralytics metadata lacks {', '.join(missing)}")
    args_raw = literal(props["args"], "args", source) if "args" in props else {}
    args: dict[str, Any] = dict(args_raw) if isinstance(args_raw, dict) else {}
    end2end_raw = literal(props["end2end"], "end2end", source) if "end2end" in props else False
    return UltralyticsMetadata(
        names=_names(props, source),
        imgsz=_imgsz(props, source),
        stride=_int(props, "stride", source),
        task=str(props["task"]).strip(),
        batch=_int(props, "batch", source, default=1),
        end2end=_bool(end2end_raw) or _bool(args.get("nms", False)),
        dynamic=_bool(args.get("dynamic", False)),
        half=_bool(args.get("half", False)) or args.get("quantize") == 16,
        version=str(props.get("version", "")),
        date=str(props.get("date", "")),
        description=str(props.get("description", "")),
        args=args,
    )
