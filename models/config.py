"""Configuration of the models package: one `ModelConfig` per ONNX model, its `BatcherConfig`, and tiling.

The lead composes `models: [ModelConfig, ...]` into the root config; detectors refer to a model by `name`.
Every model forbids unknown keys, and an entry with only `name` and `path` is valid. Defaults follow
Ultralytics' own predictor (conf 0.25, IoU 0.7, 300 boxes), so thresholds tuned there mean the same here.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from models.weights import CATALOGUE, Precision

Provider = Literal["tensorrt", "cuda", "cpu"]


def _default_providers() -> list[Provider]:
    return ["cpu"]


class BatcherConfig(BaseModel):
    """The cross-camera dynamic batcher in front of one model (Triton/nvstreammux style)."""

    model_config = ConfigDict(extra="forbid")

    max_batch: int = Field(
        default=8, ge=1, le=256,
        description="Frames per inference call. A batch goes as soon as this many frames can be taken.",
    )
    max_delay_ms: float = Field(
        default=10.0, ge=0.0, le=10_000.0,
        description="Longest a batch waits for more frames, counted from its oldest frame's arrival; "
        "a silent camera therefore never delays the others longer than this.",
    )
    max_share: float = Field(
        default=0.5, gt=0.0, le=1.0,
        description="Largest share of one batch a single camera may take (at least one frame). 1.0 turns "
        "the fairness cap off; keep it below 1 so one full-rate camera cannot starve the others.",
    )
    request_timeout_ms: float = Field(
        default=1000.0, gt=0.0, le=600_000.0,
        description="Default deadline of a submitted frame: a frame still queued after this is stale, its "
        "future fails with StaleFrameError and the drop is counted with reason 'stale'.",
    )
    queue_size: int = Field(
        default=64, ge=1, le=100_000,
        description="Frames that may wait in the queue across all cameras; when full, the oldest frame is "
        "dropped (reason 'overflow'): freshness beats completeness for live video.",
    )


class TilingConfig(BaseModel):
    """SAHI-style sliced inference for large drone frames and small objects."""

    model_config = ConfigDict(extra="forbid")

    tile_px: int = Field(
        default=640, ge=32, le=8192,
        description="Side of a square tile in source pixels; the model's input size gives 1:1 pixels.",
    )
    overlap_ratio: float = Field(
        default=0.2, ge=0.0, lt=0.9,
        description="Share of a tile overlapping its neighbour, so an object cut by one tile is whole in "
        "another.",
    )
    match_metric: Literal["iou", "ios"] = Field(
        default="ios",
        description="How duplicate boxes from neighbouring tiles are matched when merging: intersection over "
        "union, or over the smaller box (better for a box cut in half at a tile edge).",
    )
    match_threshold: float = Field(
        default=0.5, gt=0.0, le=1.0,
        description="Boxes of the same class matching above this are merged (the higher score is kept).",
    )
    include_full_frame: bool = Field(
        default=False,
        description="Also run the whole frame, downscaled to the model size, so objects larger than a tile "
        "are found too.",
    )


class GatingConfig(BaseModel):
    """Gated inference for one camera's model-using detector: analyse only what changed.

    Each analysed frame either skips the model (nothing changed and nothing is being watched), runs it on
    a few crops around what changed and what the detector watches (changed blobs, its candidates, open
    incidents), or runs the full frame: on a staggered schedule (`sweep_every_s`, for steady fires that
    cause no change), or when crops would cost more than the frame. See `models.gating`.
    """

    model_config = ConfigDict(extra="forbid")

    enabled: bool = Field(
        default=True,
        description="Gate the model with the change signal and regions. Off: every analysed frame runs the "
        "whole frame through the model (the costliest setting, as before gating existed).",
    )
    sweep_every_s: float = Field(
        default=15.0, ge=1.0, le=3600.0,
        description="A full-frame look at least this often (in capture time), staggered across cameras. "
        "Lowering it finds a fire that causes no change sooner and costs more model time.",
    )
    change_width_px: int = Field(
        default=320, ge=64, le=1920,
        description="Width the change signal works at (a sub-stream size). Raising it notices smaller "
        "changes and costs CPU in proportion to the pixel count.",
    )
    change_threshold: int = Field(
        default=14, ge=1, le=255,
        description="Grey-level difference from the background model that counts as change (after the "
        "frame-wide brightness shift is removed). Lowering it reacts to fainter changes and to more noise.",
    )
    min_blob_px: int = Field(
        default=3, ge=1, le=10_000,
        description="Smallest changed blob kept (its box area, in pixels at `change_width_px`). Raising it "
        "ignores small flickers (leaves, noise) and may miss a tiny distant flame until it grows.",
    )
    background_alpha: float = Field(
        default=0.15, gt=0.0, le=1.0,
        description="How fast the background model follows the picture, per analysed frame. Higher forgets "
        "a parked car sooner; lower keeps a slow change (spreading smoke) visible longer.",
    )
    context_share: float = Field(
        default=0.6, ge=0.0, le=5.0,
        description="Context added around each region on every side, as a share of its shorter side, so "
        "the model sees what surrounds a flame. Raising it gives bigger crops (less magnification).",
    )
    min_crop_share: float = Field(
        default=0.2, gt=0.0, le=1.0,
        description="Smallest crop side as a share of the frame's shorter side. Lowering it magnifies small "
        "regions more (a distant flame gets more model pixels) with less context.",
    )
    crop_input_px: int = Field(
        default=320, ge=32, le=2048,
        description="Model input for a crop's longer side (rounded down to the stride; a large crop gets "
        "more, so it is never seen coarser than the whole frame; dynamic-shape models only, fixed-shape "
        "models use their own size). Raising it magnifies small regions more and costs more per crop.",
    )
    max_regions: int = Field(
        default=4, ge=1, le=64,
        description="More crops than this in one frame (after merging overlaps) run the full frame instead.",
    )
    recheck_after_s: float = Field(
        default=1.0, ge=0.0, le=60.0,
        description="A changed blob inside a crop (or a sweep or full frame) the model saw with nothing in it "
        "less than this long ago is not looked at again yet (a blinking lamp, a swaying sign); a region the "
        "detector watches inside a crop the model saw less than this long ago, with no change there since "
        "but such blobs, gets that look's "
        "detections again instead of a new run. Raising it saves model time on restless scenes and on still "
        "look-alikes, and can delay a fire starting right there, or slow smoke too faint to count as "
        "change, by up to this long; 0 runs the model on every change and watched region every time.",
    )
    incident_relook_s: float = Field(
        default=2.0, ge=0.0, le=30.0,
        description="An open incident's region (its recent extent, with `context_share` around it) is looked at "
        "by the model at most this often: between looks the detector gets the last look's detections there "
        "again, whatever changed inside it (a burning fire flickers on every frame), so the incident stays "
        "linked and its model evidence held. A fire that spreads out of the looked-at region, a sweep, or "
        "anything outside it is looked at as before. Raising it saves model time on burning cameras and "
        "delays an update (a fire growing inside the region, a better view) and the end of an incident by "
        "up to this long; 0 looks on every analysed frame.",
    )
    rest_cues_when_still: bool = Field(
        default=True,
        description="On an analysed frame where the change signal found nothing changed anywhere and the "
        "detector watches nothing (path `skipped`), the detector's own weights-free cues rest too: the fire "
        "cues take the frame as the previous one again instead of colour-testing and flicker-testing it "
        "(most of a quiet camera's CPU once the model is gated). Off: the cues run on every analysed frame, "
        "which may find a flame too small or faint for the change signal before the next sweep.",
    )
    max_changed_share: float = Field(
        default=0.35, gt=0.0, le=1.0,
        description="When more of the picture than this changed at once (lights switched, the camera "
        "moved), the full frame runs instead of crops.",
    )


class ModelConfig(BaseModel):
    """One ONNX model exported by Ultralytics, how it runs, and how its outputs are filtered."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(
        ..., min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.-]+$",
        description="Name detectors use to refer to this model (also the `model` metric label).",
    )
    path: Path | None = Field(
        default=None,
        description="The .onnx file (external data, if any, must sit in its folder); or use `fetched`.",
    )
    fetched: str | None = Field(
        default=None,
        description="Instead of `path`: trained weights fetched at set-up by `gridwatch models fetch NAME` "
        f"(known: {', '.join(sorted(CATALOGUE))}), read from $GRIDWATCH_CACHE; never downloaded at run time.",
    )
    precision: Precision = Field(
        default="auto",
        description="Fetched weights only: 'fp32', 'int8' (refused unless its stored agreement with fp32 "
        "passed the gate) or 'auto' (INT8 when it passed, else fp32). INT8 runs about 2.5x faster on CPUs.",
    )
    manifest: Path | None = Field(
        default=None,
        description="Optional YAML manifest: `version`, class-name overrides (`names`), per-class "
        "confidence thresholds (`class_thresholds`, by id or name).",
    )
    providers: list[Provider] = Field(
        default_factory=_default_providers, min_length=1, max_length=3,
        description="Execution providers in order of preference; unavailable ones are skipped with a "
        "warning and the CPU is always the last resort. The provider used is logged and reported.",
    )
    device_id: int = Field(
        default=0, ge=0, le=64, description="GPU index for the cuda and tensorrt providers.",
    )
    fp16: bool = Field(
        default=False,
        description="Let TensorRT build fp16 kernels. Models exported with --half run in fp16 whatever this "
        "says.",
    )
    trt_cache_dir: Path | None = Field(
        default=None, description="Where TensorRT keeps built engines, so a restart does not rebuild them.",
    )
    intra_op_threads: int = Field(
        default=0, ge=0, le=256,
        description="ONNX Runtime threads inside one operator (0: ONNX Runtime decides, one per physical "
        "core). Set it to the cores this model may use when several models share a node.",
    )
    inter_op_threads: int = Field(
        default=1, ge=0, le=256,
        description="ONNX Runtime threads across independent operators (0: ONNX Runtime decides).",
    )
    spin_wait: bool = Field(
        default=True,
        description="Let ONNX Runtime's worker threads spin between operators: a little lower latency on "
        "dedicated cores, wasted CPU when several models or processes share them (then turn it off).",
    )
    conf_threshold: float = Field(
        default=0.25, ge=0.0, le=1.0,
        description="Boxes scoring at or below this are dropped (per-class thresholds in the manifest "
        "override it).",
    )
    iou_threshold: float = Field(
        default=0.7, ge=0.0, le=1.0,
        description="Class-aware NMS: a box overlapping a better one of its class above this is removed.",
    )
    max_det: int = Field(default=300, ge=1, le=10_000, description="Most boxes kept per image, best first.")
    agnostic_nms: bool = Field(default=False, description="NMS across classes instead of within each class.")
    imgsz: tuple[int, int] | None = Field(
        default=None,
        description="Input (height, width) for a model exported with dynamic shapes, e.g. [384, 640]; each "
        "a multiple of the model's stride. Default: the size the model was exported at.",
    )
    rect: bool = Field(
        default=False,
        description="Dynamic-shape models only: pad each batch only up to the stride instead of to the full "
        "square (640x384 for 16:9 feeds), as Ultralytics does for same-shape batches. Saves compute.",
    )
    warmup_runs: int = Field(
        default=1, ge=0, le=100,
        description="Inference runs on a blank batch before the model reports ready.",
    )
    batch: BatcherConfig = Field(
        default_factory=BatcherConfig,
        description="Cross-camera dynamic batching in front of this model.",
    )

    @model_validator(mode="after")
    def _one_source(self) -> ModelConfig:
        if (self.path is None) == (self.fetched is None):
            raise ValueError("give exactly one of `path` (an .onnx file) and `fetched` (fetched weights' name)")
        if self.fetched is not None and self.fetched not in CATALOGUE:
            raise ValueError(f"fetched: no weights named '{self.fetched}' (known: {', '.join(sorted(CATALOGUE))})")
        if self.path is not None and self.precision != "auto":
            raise ValueError("precision applies to `fetched` weights; a `path` model runs as exported")
        return self

    @field_validator("providers")
    @classmethod
    def _unique_providers(cls, value: list[Provider]) -> list[Provider]:
        if len(set(value)) != len(value):
            raise ValueError(f"providers must not repeat, got {value}")
        return value

    @field_validator("imgsz")
    @classmethod
    def _imgsz_range(cls, value: tuple[int, int] | None) -> tuple[int, int] | None:
        if value is not None and not all(32 <= v <= 8192 for v in value):
            raise ValueError(f"imgsz must be (height, width) with each side in 32..8192, got {value}")
        return value
