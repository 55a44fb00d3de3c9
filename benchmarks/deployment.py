"""The deployment description `gridwatch bench size` reads: camera groups, what they run, and the node.

It describes a district, not one node's config: how many cameras of each kind, their streams, how they
are decoded, which detectors run at which rate, and what hardware a node has. `benchmarks.sizing` turns
it and the measured figures into cameras per node and nodes needed. Same habits as the service config:
pydantic, `extra="forbid"`, bounds and a description on every field, YAML loaded with line numbers.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from foundation.errors import ConfigError
from foundation.yamlsafe import format_path, load_yaml_file

DecodeName = Literal["full", "keyframes", "skip_nonref"]
DetectorName = Literal["fire", "throw"]


class StreamSpec(BaseModel):
    """The stream frames are decoded from (the sub-stream, when the camera has one)."""

    model_config = ConfigDict(extra="forbid")

    width: int = Field(ge=16, le=7680, description="Frame width in pixels.")
    height: int = Field(ge=16, le=4320, description="Frame height in pixels.")
    fps: float = Field(default=25.0, gt=0, le=120, description="Frames per second the camera sends.")
    gop_s: float = Field(
        default=2.0, gt=0, le=20,
        description="Seconds between keyframes; keyframe-only decoding analyses one frame per GOP.",
    )

    @property
    def pixels(self) -> int:
        return self.width * self.height


class DetectorUse(BaseModel):
    """One detector on the cameras of a group."""

    model_config = ConfigDict(extra="forbid")

    fps: float = Field(gt=0, le=120, description="Frames per second the detector analyses.")
    model: bool = Field(
        default=True,
        description="Whether every analysed frame goes through the YOLO model (fire: yes; throw: no, it is "
        "motion-based and only its optional crop classifier uses a model, on candidates).",
    )
    process_width_px: int | None = Field(
        default=None, ge=160, le=7680,
        description="Throw only: the width the foreground stage works at (the detector's own setting).",
    )


class CameraGroup(BaseModel):
    """Cameras that are set up alike."""

    model_config = ConfigDict(extra="forbid")

    role: str = Field(min_length=1, max_length=64, description="Name of the group, shown in the sizing.")
    count: int = Field(ge=0, le=1_000_000, description="Number of cameras.")
    description: str = Field(default="", description="What these cameras are (for the reader).")
    stream: StreamSpec = Field(description="The analysed stream.")
    decode: DecodeName = Field(default="full", description="full | keyframes | skip_nonref.")
    detectors: dict[DetectorName, DetectorUse] = Field(min_length=1, description="Detectors and their rates.")

    @property
    def analysis_fps(self) -> float:
        """Frames per second decoded into pictures for analysis (the busiest detector's rate, capped by
        what the decode mode can deliver)."""
        fps = max(d.fps for d in self.detectors.values())
        if self.decode == "keyframes":
            fps = min(fps, 1.0 / self.stream.gop_s)
        return min(fps, self.stream.fps)

    @property
    def model_fps(self) -> float:
        """Frames per second that go through the model (detectors sharing a frame share one inference)."""
        rates = [min(d.fps, self.analysis_fps) for d in self.detectors.values() if d.model]
        return max(rates, default=0.0)


class GpuSpec(BaseModel):
    """A GPU in the node. Its throughput is an input: it cannot be measured on a machine without one."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, description="The GPU, for the reader.")
    inference_img_per_s: float = Field(
        gt=0, le=1_000_000,
        description="Model-only images per second of this model on this GPU at the batch size used "
        "(run `gridwatch bench infer` on such a node to measure it).",
    )


class NodeSpec(BaseModel):
    """The hardware of one video node."""

    model_config = ConfigDict(extra="forbid")

    cores: int = Field(ge=1, le=1024, description="CPU cores (hardware threads) of the node.")
    memory_gib: float = Field(gt=0, le=65536, description="Memory of the node.")
    gpu: GpuSpec | None = Field(default=None, description="A GPU for inference; none: inference on CPU.")
    cpu_speed_vs_measured: float = Field(
        default=1.0, gt=0, le=10,
        description="Speed of one of its cores relative to one core of the benchmark machine (1.0: alike).",
    )
    target_utilisation: float = Field(
        default=0.7, gt=0, le=1,
        description="Share of the cores planned to be busy; the rest absorbs bursts, reconnects, restarts.",
    )
    reserved_cores: float = Field(
        default=1.0, ge=0, le=1024, description="Cores kept for the OS, the HTTP endpoint, the outbox and Kafka.",
    )
    reserved_memory_gib: float = Field(default=4.0, ge=0, le=65536, description="Memory kept for the OS.")

    @model_validator(mode="after")
    def _check(self) -> NodeSpec:
        if self.reserved_cores >= self.cores:
            raise ValueError("reserved_cores must be fewer than cores")
        if self.reserved_memory_gib >= self.memory_gib:
            raise ValueError("reserved_memory_gib must be less than memory_gib")
        return self


class Deployment(BaseModel):
    """A district (or any fleet) to size."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, description="Name of the deployment.")
    description: str = Field(default="", description="What it is, and how the camera split was chosen.")
    node: NodeSpec = Field(description="Hardware of one node.")
    model_imgsz: int = Field(
        default=640, ge=32, le=4096,
        description="Input size of the detection model (long side; frames are letterboxed with rect padding).",
    )
    groups: list[CameraGroup] = Field(min_length=1, description="The cameras, by group.")
    grid: Path | None = Field(
        default=None,
        description="The district's grid GeoJSON (its finest cells), relative to this file; sizing states "
        "how many cells the cameras cover, for the reader.",
    )

    @property
    def cameras(self) -> int:
        return sum(g.count for g in self.groups)

    def grid_cells(self) -> int | None:
        """How many cells (features) the district's grid file has; None without a grid file."""
        if self.grid is None:
            return None
        try:
            data = json.loads(self.grid.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise ConfigError(f"{self.grid}: cannot read the district's grid ({exc})") from exc
        features = data.get("features") if isinstance(data, dict) else None
        if not isinstance(features, list):
            raise ConfigError(f"{self.grid}: not a GeoJSON FeatureCollection")
        return len(features)


def load_deployment(path: str | Path) -> Deployment:
    """Read and validate a deployment YAML; errors name the file, line and key path."""
    doc = load_yaml_file(path)
    try:
        dep = Deployment.model_validate(doc.data)
    except ValidationError as exc:
        problems = []
        for err in exc.errors():
            loc = tuple(p for p in err["loc"] if isinstance(p, str | int))
            problems.append(f"{doc.source}:{doc.line_of(loc) or '?'}: {format_path(loc)}: {err['msg']}")
        raise ConfigError(f"{doc.source}: not a valid deployment description", problems=problems) from exc
    if dep.grid is not None and not dep.grid.is_absolute():
        dep = dep.model_copy(update={"grid": Path(path).parent / dep.grid})
    return dep
