"""The model manifest: a small YAML file next to a model that renames classes and sets per-class thresholds.

Operators tune per class ("smoke" needs more confidence than "fire") without re-exporting the model:

    version: fire-2026.03               # shown in alerts as the model version
    names: {"0": fire, "1": smoke}      # overrides by class id (YAML keys are text); partial is fine
    class_thresholds: {smoke: 0.45, "0": 0.3}   # by name or id; other classes use conf_threshold

Errors name the file, the line and the key, like every other config error.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from numpy.typing import NDArray
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from foundation.errors import ConfigError
from foundation.yamlsafe import format_path, load_yaml_file


class ManifestModel(BaseModel):
    """The manifest file's schema."""

    model_config = ConfigDict(extra="forbid")

    version: str | None = Field(
        default=None, min_length=1, max_length=64, description="Model version reported with every alert.",
    )
    names: dict[str, str] = Field(default_factory=dict, description="Class-name overrides by class id.")
    class_thresholds: dict[str, float] = Field(
        default_factory=dict,
        description="Confidence threshold per class (id or name), each in [0, 1]; overrides conf_threshold.",
    )


@dataclass(frozen=True)
class Manifest:
    """A validated manifest, resolved against the model's classes."""

    version: str | None = None
    names: Mapping[int, str] = field(default_factory=dict)
    class_thresholds: Mapping[int, float] = field(default_factory=dict)

    def thresholds(self, num_classes: int, default: float) -> NDArray[np.float32]:
        """Per-class confidence thresholds as a (num_classes,) vector, for vectorised filtering."""
        out = np.full((num_classes,), default, np.float32)
        for cid, thr in self.class_thresholds.items():
            out[cid] = thr
        return out


def load_manifest(path: str | Path, model_names: Mapping[int, str]) -> Manifest:
    """Read and check a manifest against the model's class names; raise ConfigError with file:line."""
    doc = load_yaml_file(path)
    data = doc.data if doc.data is not None else {}
    try:
        raw = ManifestModel.model_validate(data)
    except ValidationError as exc:
        problems = []
        for err in exc.errors():
            loc = tuple(p for p in err["loc"] if isinstance(p, str | int))
            problems.append(f"{doc.source}:{doc.line_of(loc)}: {format_path(loc)}: {err['msg']}")
        raise ConfigError(f"{doc.source}: invalid model manifest", problems) from exc
    nc = len(model_names)
    problems = []
    names: dict[int, str] = {}
    for key, name in raw.names.items():
        if not key.strip().isdigit() or not 0 <= int(key) < nc:
            problems.append(
                f"{doc.source}:{doc.line_of(('names', key))}: names: {key!r} is not a class id in 0..{nc - 1}"
            )
            continue
        names[int(key)] = name
    by_name = {v: k for k, v in {**model_names, **names}.items()}
    thresholds: dict[int, float] = {}
    for key, thr in raw.class_thresholds.items():
        line = doc.line_of(("class_thresholds", key))
        cid = int(key) if key.strip().isdigit() else by_name.get(key)
        if cid is None or not 0 <= cid < nc:
            problems.append(f"{doc.source}:{line}: class_thresholds: no class {key!r} in this model")
            continue
        if not 0.0 <= thr <= 1.0:
            problems.append(f"{doc.source}:{line}: class_thresholds.{key}: {thr} is outside [0, 1]")
            continue
        thresholds[cid] = float(thr)
    if problems:
        raise ConfigError(f"{doc.source}: invalid model manifest", problems)
    return Manifest(version=raw.version, names=names, class_thresholds=thresholds)
