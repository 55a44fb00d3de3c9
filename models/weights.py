"""Trained weights fetched at set-up (`gridwatch models fetch NAME`): the catalogue and the runtime lookup.

A config names fetched weights instead of a file (`models: [{name: fire, fetched: fire-smoke}]`). At run
time nothing is downloaded: the weights must already sit in the cache, under
`$GRIDWATCH_CACHE/weights/NAME/PACKAGE-VERSION/` (default cache `~/.cache/gridwatch`), with the
`manifest.json` that `models.fetch` writes last. Missing weights fail with the command that fetches them.

`precision` picks the export: `fp32`, `int8` (refused unless the INT8 model's agreement with fp32, measured
at fetch time on frames not used for calibration and stored in the manifest, passed the gate), or `auto`
(INT8 when it passed, else fp32).

The weights are never committed and never redistributed: the registry package is fetched on each
machine, and its licence is recorded as the package states it (see `WeightsPackage.licence_note`).
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from foundation.errors import ModelError

log = logging.getLogger(__name__)

Precision = Literal["auto", "fp32", "int8"]

MANIFEST_FILE = "manifest.json"
MODEL_MANIFEST_FILE = "model.yaml"
INT8_MIN_AGREEMENT = 0.95
"""INT8 is used only when its recall and precision against fp32 (IoU 0.5) both reach this."""
INT8_MIN_REFERENCE_BOXES = 20
"""Fewer fp32 boxes than this on the held-out frames says nothing about agreement: the gate fails."""


@dataclass(frozen=True)
class WeightsPackage:
    """A registry package that ships trained weights, pinned by version and wheel hash."""

    name: str
    package: str
    version: str
    wheel_file: str
    wheel_sha256: str
    weights_member: str
    layers_member: str | None
    main_classes: tuple[str, ...]
    class_names: Mapping[int, str]
    imgsz: int
    licence_note: str

    @property
    def requirement(self) -> str:
        return f"{self.package}=={self.version}"


FIRE_SMOKE = WeightsPackage(
    name="fire-smoke",
    package="fire-detector",
    version="1.0.3",
    wheel_file="fire_detector-1.0.3-py3-none-any.whl",
    wheel_sha256="b0cbb62f8224f78acceb7e3ec0e32178479ea9367ef7526d1c05ff620673e8b1",
    weights_member="fire_detector/models/light_yolov8_flame.pt",
    layers_member="fire_detector/modules.py",
    main_classes=("FasterNetC2f", "FasterNetBlock", "PartialConv2d"),
    class_names={0: "smoke", 1: "fire"},
    imgsz=640,
    licence_note=(
        "The package states no licence (no License field or classifier in its METADATA). The weights are "
        "fetched from PyPI at set-up on each machine, never committed and never redistributed by gridwatch; "
        "a deployment should bring weights it holds the rights to."
    ),
)
"""YOLOv8 with FasterNet C2f blocks, classes {0: smoke, 1: fire}, from PyPI `fire-detector` 1.0.3."""

CATALOGUE: Mapping[str, WeightsPackage] = {FIRE_SMOKE.name: FIRE_SMOKE}


def cache_root() -> Path:
    """`$GRIDWATCH_CACHE`, default `~/.cache/gridwatch` (the same cache the set-up script fills)."""
    return Path(os.environ.get("GRIDWATCH_CACHE") or Path.home() / ".cache" / "gridwatch")


def package_spec(name: str) -> WeightsPackage:
    spec = CATALOGUE.get(name)
    if spec is None:
        raise ModelError(f"no fetchable weights named '{name}' (known: {', '.join(sorted(CATALOGUE))})")
    return spec


def weights_dir(spec: WeightsPackage, root: Path | None = None) -> Path:
    return (root or cache_root()) / "weights" / spec.name / f"{spec.package}-{spec.version}"


def fetch_hint(name: str) -> str:
    return f"run `gridwatch models fetch {name}` (or `make setup`)"


@dataclass(frozen=True)
class Int8Agreement:
    """INT8 boxes against fp32 boxes on held-out frames (same class, IoU >= iou), and the gate's verdict."""

    frames: int
    reference_boxes: int
    test_boxes: int
    recall: float
    precision: float
    iou: float
    conf_threshold: float
    calibration: str

    @property
    def passed(self) -> bool:
        return (
            self.reference_boxes >= INT8_MIN_REFERENCE_BOXES
            and self.recall >= INT8_MIN_AGREEMENT
            and self.precision >= INT8_MIN_AGREEMENT
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "frames": self.frames, "reference_boxes": self.reference_boxes, "test_boxes": self.test_boxes,
            "recall": self.recall, "precision": self.precision, "iou": self.iou,
            "conf_threshold": self.conf_threshold, "calibration": self.calibration,
            "gate": {"min_recall": INT8_MIN_AGREEMENT, "min_precision": INT8_MIN_AGREEMENT,
                     "min_reference_boxes": INT8_MIN_REFERENCE_BOXES},
            "passed": self.passed,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Int8Agreement:
        return cls(
            frames=int(data["frames"]), reference_boxes=int(data["reference_boxes"]),
            test_boxes=int(data["test_boxes"]), recall=float(data["recall"]),
            precision=float(data["precision"]), iou=float(data["iou"]),
            conf_threshold=float(data["conf_threshold"]), calibration=str(data["calibration"]),
        )


@dataclass(frozen=True)
class FetchedWeights:
    """A completed fetch, as its manifest describes it."""

    name: str
    folder: Path
    package: str
    version: str
    wheel_sha256: str
    weights_sha256: str
    fp32_sha256: str
    int8_sha256: str | None
    int8_agreement: Int8Agreement | None
    class_names: Mapping[int, str]
    manifest: Mapping[str, Any]

    @property
    def fp32(self) -> Path:
        return self.folder / "fp32.onnx"

    @property
    def int8(self) -> Path:
        return self.folder / "int8.onnx"

    @property
    def model_manifest(self) -> Path:
        return self.folder / MODEL_MANIFEST_FILE

    def choose(self, precision: Precision) -> Path:
        """The ONNX file for `precision` (see the module docstring); ModelError when INT8 is not allowed."""
        if precision == "fp32":
            return self.fp32
        ok = self.int8_sha256 is not None and self.int8_agreement is not None and self.int8_agreement.passed
        if ok:
            return self.int8
        if precision == "int8":
            a = self.int8_agreement
            why = "no INT8 export was made" if a is None else (
                f"its agreement with fp32 failed the gate (recall {a.recall:.3f}, precision {a.precision:.3f}, "
                f"{a.reference_boxes} reference boxes; needs >= {INT8_MIN_AGREEMENT} and >= "
                f"{INT8_MIN_REFERENCE_BOXES} boxes)"
            )
            raise ModelError(f"fetched weights '{self.name}': INT8 refused: {why}; use precision fp32 or auto")
        return self.fp32


def read_fetched(name: str, root: Path | None = None) -> FetchedWeights:
    """The manifest of fetched weights `name`; ModelError naming the fetch command when absent or broken."""
    spec = package_spec(name)
    folder = weights_dir(spec, root)
    path = folder / MANIFEST_FILE
    if not path.is_file():
        raise ModelError(f"fetched weights '{name}' ({spec.requirement}) are not in {folder}: {fetch_hint(name)}")
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        exports = data["exports"]
        int8 = exports.get("int8")
        return FetchedWeights(
            name=name,
            folder=folder,
            package=str(data["package"]),
            version=str(data["version"]),
            wheel_sha256=str(data["wheel"]["sha256"]),
            weights_sha256=str(data["weights"]["sha256"]),
            fp32_sha256=str(exports["fp32"]["sha256"]),
            int8_sha256=None if int8 is None else str(int8["sha256"]),
            int8_agreement=None if int8 is None else Int8Agreement.from_dict(int8["agreement"]),
            class_names={int(k): str(v) for k, v in data["class_names"].items()},
            manifest=data,
        )
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise ModelError(f"{path}: unreadable fetch manifest ({exc}); {fetch_hint(name)}") from exc


def resolve_fetched(name: str, precision: Precision, root: Path | None = None) -> tuple[Path, Path]:
    """(ONNX file, model manifest) of fetched weights at `precision`; ModelError when absent or refused."""
    fetched = read_fetched(name, root)
    path = fetched.choose(precision)
    for needed in (path, fetched.model_manifest):
        if not needed.is_file():
            raise ModelError(f"fetched weights '{name}': {needed} is missing; {fetch_hint(name)}")
    if precision == "auto":
        a = fetched.int8_agreement
        log.info("fetched weights %s: using %s (%s)", name, path.name,
                 "INT8 agreement with fp32 passed" if path == fetched.int8 else
                 "no INT8 export" if a is None else f"INT8 agreement failed: recall {a.recall:.3f}, "
                 f"precision {a.precision:.3f}")
    return path, fetched.model_manifest
