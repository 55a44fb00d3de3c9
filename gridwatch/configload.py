"""Validate YAML documents against pydantic models and report every error with file, line and key path.

pydantic's own messages say what was expected but not where in the file; operators need both. This
module walks each error's location back to the YAML line, names the key path the way it is written
(`cameras[2].source.url`), lists the allowed keys for an unknown one, and never echoes input values,
so a secret that landed in the wrong field is not printed.
"""

from __future__ import annotations

import copy
import types
import typing
from collections.abc import Mapping, Sequence
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError
from pydantic_core import ErrorDetails

from foundation.errors import ConfigError
from foundation.yamlsafe import KeyPath, YamlDocument, format_path

M = TypeVar("M", bound=BaseModel)


def _data_path(data: Any, loc: Sequence[str | int]) -> KeyPath:
    """Keep the parts of a pydantic location that name keys or indexes of the data.

    Union branch and validator tags (`GroundCalibration`, `function-after[...]`) are dropped; a
    snake_case name absent from the data is kept once, because it is the key a `missing` error names.
    """
    out: list[str | int] = []
    node = data
    for part in loc:
        in_mapping = isinstance(node, Mapping) and isinstance(part, str) and part in node
        in_list = isinstance(node, list) and isinstance(part, int) and 0 <= part < len(node)
        if in_mapping or in_list:
            out.append(part)
            node = node[part]
        elif node is not None and isinstance(part, str) and part.isidentifier() and not part[:1].isupper():
            out.append(part)
            node = None
    return tuple(out)


def _unwrap(annotation: Any) -> list[Any]:
    """The concrete types inside Optional/Union/Annotated/list/dict annotations."""
    origin = typing.get_origin(annotation)
    if origin is typing.Annotated:
        return _unwrap(typing.get_args(annotation)[0])
    if origin in (typing.Union, types.UnionType):
        return [t for a in typing.get_args(annotation) for t in _unwrap(a)]
    return [annotation]


def _model_at(model: type[BaseModel], path: KeyPath) -> type[BaseModel] | None:
    """The pydantic model class that validates the mapping at `path` (for listing allowed keys)."""
    current: Any = model
    for part in path:
        if isinstance(current, type) and issubclass(current, BaseModel):
            if not isinstance(part, str) or part not in current.model_fields:
                return None
            annotation = current.model_fields[part].annotation
            candidates = [c for c in _unwrap(annotation) if c is not type(None)]
            current = candidates[0] if len(candidates) == 1 else None
            if current is None:
                return None
            continue
        origin = typing.get_origin(current)
        if origin in (list, tuple, Sequence) and isinstance(part, int):
            inner = [c for c in _unwrap(typing.get_args(current)[0]) if c is not type(None)]
            current = inner[0] if len(inner) == 1 else None
        elif origin in (dict, Mapping) and isinstance(part, str):
            inner = [c for c in _unwrap(typing.get_args(current)[1]) if c is not type(None)]
            current = inner[0] if len(inner) == 1 else None
        else:
            return None
        if current is None:
            return None
    if isinstance(current, type) and issubclass(current, BaseModel):
        return current
    return None


def describe_errors(
    exc: ValidationError, doc: YamlDocument, model: type[BaseModel], *, prefix: KeyPath = (),
    fallback_doc: YamlDocument | None = None, fallback_prefix: KeyPath = (),
) -> list[str]:
    """One line per error: `file:line: key.path: what was expected`.

    `prefix` places the validated data inside the document (e.g. a camera's detector override).
    When a key is not found under `prefix` (it came from defaults), the line is looked up in
    `fallback_doc` under `fallback_prefix`.
    """
    problems: list[str] = []
    root = _data_at(doc.data, prefix)
    for err in exc.errors(include_url=False, include_input=False):
        loc = tuple(err["loc"])
        rel = _data_path(root, loc) if root is not None else tuple(loc)
        full = (*prefix, *rel)
        line = doc.lines.get(full)
        source = doc.source
        if line is None and fallback_doc is not None:
            fb_line = fallback_doc.lines.get((*fallback_prefix, *rel))
            if fb_line is not None:
                line, source, full = fb_line, fallback_doc.source, (*fallback_prefix, *rel)
        if line is None:
            line = doc.line_of(full)
        where = f"{source}:{line}" if line else source
        problems.append(f"{where}: {_what(err, model, loc, rel, full)}")
    return problems


def _data_at(data: Any, prefix: KeyPath) -> Any:
    """The part of a document's data under `prefix`, or None where the path leaves it."""
    root: Any = data
    for p in prefix:
        if isinstance(root, Mapping):
            root = root.get(p)
        elif isinstance(root, list) and isinstance(p, int) and 0 <= p < len(root):
            root = root[p]
        else:
            root = None
    return root


def _what(err: ErrorDetails, model: type[BaseModel], loc: KeyPath, rel: KeyPath, full: KeyPath) -> str:
    """`key.path: what was expected` for one validation error."""
    kind = err["type"]
    if kind == "extra_forbidden":
        parent = _model_at(model, rel[:-1])
        allowed = ", ".join(sorted(parent.model_fields)) if parent else ""
        what = f"unknown key '{rel[-1] if rel else loc[-1]}'" + (f"; allowed here: {allowed}" if allowed else "")
        return f"{format_path(full[:-1]) if len(full) > 1 else '(top level)'}: {what}"
    if kind == "missing":
        return f"{format_path(full)}: required key is missing"
    msg = err["msg"]
    if msg.startswith("Value error, "):
        msg = msg[len("Value error, "):]
    return f"{format_path(full)}: {msg}"


def validate(model: type[M], doc: YamlDocument) -> M:
    """Validate a whole document against `model`; ConfigError lists every problem with its line."""
    data = doc.data if doc.data is not None else {}
    if not isinstance(data, Mapping):
        raise ConfigError(f"{doc.source}:1: the top level must be a mapping of sections, got {type(data).__name__}")
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        problems = describe_errors(exc, doc, model)
        raise ConfigError(f"{doc.source}: {len(problems)} problem(s)", problems) from None


def deep_merge(base: Mapping[str, Any], override: Mapping[str, Any]) -> dict[str, Any]:
    """`override` over `base`, recursively for mappings; lists and scalars are replaced, never appended."""
    out = copy.deepcopy(dict(base))
    for key, value in override.items():
        if isinstance(value, Mapping) and isinstance(out.get(key), Mapping):
            out[key] = deep_merge(out[key], value)
        else:
            out[key] = copy.deepcopy(value)
    return out
