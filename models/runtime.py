"""A loaded YOLO model: validated ONNX file + ONNX Runtime session + exact pre/post-processing.

`load_model(cfg)` checks the file (see models.onnxfile), reads the Ultralytics metadata and the optional
manifest, starts a session on the best available provider, and warms it up. `YoloModel.predict(images)`
takes BGR frames of any sizes and returns one `Detections` per frame in that frame's pixels; frames are
letterboxed into one contiguous tensor, run in as few inference calls as the model allows (a static-batch
export runs in chunks of its batch, padded), and decoded without per-box Python objects.

The model is thread-safe: ONNX Runtime sessions allow concurrent `run`, and the preprocessing buffers
are per thread. Stage timings accumulate in `stats()` for the metrics module.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from types import MappingProxyType
from typing import Any

import numpy as np
import onnxruntime as ort
from numpy.typing import NDArray

from foundation.errors import ModelError
from models.config import ModelConfig
from models.detections import Detections
from models.manifest import Manifest, load_manifest
from models.metadata import UltralyticsMetadata, parse_metadata
from models.onnxfile import DetectLayout, OnnxFile, check_detect_model, read_onnx
from models.postprocess import PostprocessParams, postprocess
from models.preprocess import Preprocessor
from models.providers import ORT_ERRORS, create_session
from models.weights import resolve_fetched

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ModelInfo:
    """What a loaded model is and how it runs; `name`, `version`, `sha256` make an Event's ModelRef."""

    name: str
    version: str
    sha256: str
    path: Path
    names: Mapping[int, str]
    imgsz: tuple[int, int]
    stride: int
    task: str
    end2end: bool
    provider: str
    input_dtype: str
    static_batch: int | None
    max_batch: int
    dynamic_hw: bool
    rect: bool
    ultralytics_version: str

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name, "version": self.version, "sha256": self.sha256, "path": str(self.path),
            "names": dict(self.names), "imgsz": list(self.imgsz), "stride": self.stride, "task": self.task,
            "end2end": self.end2end, "provider": self.provider, "input_dtype": self.input_dtype,
            "static_batch": self.static_batch, "max_batch": self.max_batch, "dynamic_hw": self.dynamic_hw,
            "rect": self.rect, "ultralytics_version": self.ultralytics_version,
        }


@dataclass(frozen=True)
class ModelStats:
    """Cumulative counters for one model (the metrics module turns them into Prometheus counters)."""

    model: str
    calls: int = 0
    inference_runs: int = 0
    images: int = 0
    preprocess_s: float = 0.0
    inference_s: float = 0.0
    postprocess_s: float = 0.0
    errors: int = 0


class _IoBinding:
    """Runs through ONNX Runtime I/O binding with a per-thread, per-shape input buffer on the device.

    Used when a GPU provider runs the model: the input is copied into a device buffer allocated once
    per shape instead of a fresh allocation per call. The output comes back to host memory, where
    post-processing runs.
    """

    def __init__(self, session: ort.InferenceSession, device_type: str, device_id: int) -> None:
        self.session = session
        self.device_type = device_type
        self.device_id = device_id
        self.input_name = session.get_inputs()[0].name
        self.output_name = session.get_outputs()[0].name
        self._local = threading.local()

    def run(self, tensor: NDArray[np.floating]) -> NDArray[np.floating]:
        cache: dict[tuple[int, ...], ort.OrtValue] = getattr(self._local, "inputs", None) or {}
        self._local.inputs = cache
        value = cache.get(tensor.shape)
        if value is None:
            cache.clear()  # one shape at a time per thread keeps device memory bounded
            value = ort.OrtValue.ortvalue_from_numpy(np.array(tensor), self.device_type, self.device_id)
            cache[tensor.shape] = value
        else:
            value.update_inplace(tensor)
        binding = self.session.io_binding()
        binding.bind_ortvalue_input(self.input_name, value)
        binding.bind_output(self.output_name, "cpu")
        self.session.run_with_iobinding(binding)
        out: NDArray[np.floating] = binding.copy_outputs_to_cpu()[0]
        return out


class YoloModel:
    """An Ultralytics detect model ready to run. Build it with `load_model(cfg)`."""

    def __init__(
        self, cfg: ModelConfig, checked: LoadedFile, session: ort.InferenceSession, provider: str,
    ) -> None:
        onnx_file, meta, layout, manifest = checked.onnx, checked.meta, checked.layout, checked.manifest
        self.cfg = cfg
        self.session = session
        self.layout = layout
        self._input_name = layout.input.name
        self._output_name = layout.output.name
        names = {**meta.names, **manifest.names}
        imgsz = layout.static_hw or cfg.imgsz or meta.imgsz
        if layout.static_hw and cfg.imgsz and cfg.imgsz != layout.static_hw:
            raise ModelError(
                f"{onnx_file.path}: model '{cfg.name}' has a fixed input {layout.static_hw}; "
                f"imgsz {cfg.imgsz} needs a model exported with --dynamic"
            )
        if any(side % meta.stride for side in imgsz):
            raise ModelError(
                f"{onnx_file.path}: model '{cfg.name}': imgsz {imgsz} is not a multiple of the stride "
                f"{meta.stride}"
            )
        if cfg.rect and layout.static_hw:
            raise ModelError(
                f"{onnx_file.path}: model '{cfg.name}': rect needs dynamic height/width; this export is "
                f"fixed at {layout.static_hw} (export with --dynamic)"
            )
        max_batch = layout.static_batch or cfg.batch.max_batch
        if layout.static_batch and cfg.batch.max_batch > layout.static_batch:
            log.info("model %s: exported with a fixed batch of %d; batches of %d run in %d-frame chunks",
                     cfg.name, layout.static_batch, cfg.batch.max_batch, layout.static_batch)
        dtype = np.float16 if layout.input.dtype == "float16" else np.float32
        self.info = ModelInfo(
            name=cfg.name,
            version=manifest.version or onnx_file.sha256[:12],
            sha256=onnx_file.sha256,
            path=onnx_file.path,
            names=MappingProxyType(names),
            imgsz=imgsz,
            stride=meta.stride,
            task=meta.task,
            end2end=layout.end2end,
            provider=provider,
            input_dtype=layout.input.dtype,
            static_batch=layout.static_batch,
            max_batch=max_batch,
            dynamic_hw=layout.static_hw is None,
            rect=cfg.rect,
            ultralytics_version=meta.version,
        )
        self.params = PostprocessParams(
            thresholds=manifest.thresholds(layout.num_classes, cfg.conf_threshold),
            iou_threshold=cfg.iou_threshold,
            max_det=cfg.max_det,
            agnostic=cfg.agnostic_nms,
        )
        self._preprocess = Preprocessor(imgsz, meta.stride, rect=cfg.rect, dtype=dtype)
        # Gated crops: letterboxed to the size each call asks for, never padded beyond it (see predict).
        self._crop_preprocess = Preprocessor(imgsz, meta.stride, rect=False, dtype=dtype)
        on_gpu = provider in ("cuda", "tensorrt")
        self._binding = _IoBinding(session, "cuda", cfg.device_id) if on_gpu else None
        self._stats = ModelStats(model=cfg.name)
        self._stats_lock = threading.Lock()
        self._ready = threading.Event()

    @property
    def name(self) -> str:
        return self.info.name

    @property
    def ready(self) -> bool:
        """True once warm-up has run (health/readiness reads this)."""
        return self._ready.is_set()

    def warmup(self) -> None:
        """Run `warmup_runs` blank batches at full and single size so the first real frame is not slow."""
        h, w = self.info.imgsz
        blank = np.full((h, w, 3), 114, np.uint8)
        t0 = time.perf_counter()
        for _ in range(self.cfg.warmup_runs):  # not counted in stats(): those are for real frames
            self._predict([blank] * self.info.max_batch)
            if self.info.max_batch > 1 and self.info.static_batch is None:
                self._predict([blank])
        if self.cfg.warmup_runs:
            log.info("model %s: warmed up in %.2f s (%d run(s), batch %d)", self.name,
                     time.perf_counter() - t0, self.cfg.warmup_runs, self.info.max_batch)
        self._ready.set()

    def run_tensor(self, tensor: NDArray[np.floating]) -> NDArray[np.floating]:
        """Model-only inference on a prepared (B, 3, H, W) tensor; the raw first output."""
        try:
            if self._binding is not None:
                return self._binding.run(tensor)
            out: NDArray[np.floating] = self.session.run([self._output_name], {self._input_name: tensor})[0]
            return out
        except ORT_ERRORS as exc:
            with self._stats_lock:
                self._stats = replace(self._stats, errors=self._stats.errors + 1)
            raise ModelError(f"model {self.name}: inference failed on input {tensor.shape}: {exc}") from exc

    def predict(
        self, images: Sequence[NDArray[np.uint8]], input_hw: tuple[int, int] | None = None,
    ) -> list[Detections]:
        """Detections for each BGR image (any sizes), boxes in that image's pixels, in input order.

        `input_hw` letterboxes every image to that (height, width) instead of the model's `imgsz` (gated
        inference runs small crops at a small input); it needs a dynamic-shape export and multiples of
        the stride, and equals `imgsz` for a fixed-shape export.
        """
        size = None if input_hw is None else self._check_input(input_hw)
        results, (t_pre, t_inf, t_post, runs) = self._predict(images, size)
        with self._stats_lock:
            s = self._stats
            self._stats = replace(
                s, calls=s.calls + 1, inference_runs=s.inference_runs + runs, images=s.images + len(images),
                preprocess_s=s.preprocess_s + t_pre, inference_s=s.inference_s + t_inf,
                postprocess_s=s.postprocess_s + t_post,
            )
        return results

    def _check_input(self, input_hw: tuple[int, int]) -> tuple[int, int] | None:
        """`input_hw` validated for this export; None when it is the model's own (square) input."""
        hw = (int(input_hw[0]), int(input_hw[1]))
        if hw == self.info.imgsz and not self.info.rect:
            return None
        if not self.info.dynamic_hw:
            if hw == self.info.imgsz:
                return None
            raise ModelError(f"model {self.name}: input {hw} asked of a fixed-shape export ({self.info.imgsz}); "
                             "export with --dynamic to run crops at another size")
        if any(side % self.info.stride or side < self.info.stride for side in hw):
            raise ModelError(f"model {self.name}: input {hw} is not a multiple of the stride {self.info.stride}")
        return hw

    def _predict(
        self, images: Sequence[NDArray[np.uint8]], input_hw: tuple[int, int] | None = None,
    ) -> tuple[list[Detections], tuple[float, float, float, int]]:
        """Results plus (preprocess s, inference s, postprocess s, inference runs)."""
        results: list[Detections] = []
        chunk = self.info.max_batch
        t_pre = t_inf = t_post = 0.0
        runs = 0
        for start in range(0, len(images), chunk):
            part = images[start : start + chunk]
            t0 = time.perf_counter()
            if input_hw is None:
                tensor, boxes = self._preprocess(part, rows=self.info.static_batch)
            else:
                tensor, boxes = self._crop_preprocess(part, rows=self.info.static_batch, imgsz=input_hw)
            t1 = time.perf_counter()
            output = self.run_tensor(tensor)
            t2 = time.perf_counter()
            results += postprocess(output, boxes, self.params, end2end=self.info.end2end)
            t3 = time.perf_counter()
            t_pre, t_inf, t_post, runs = t_pre + t1 - t0, t_inf + t2 - t1, t_post + t3 - t2, runs + 1
        return results, (t_pre, t_inf, t_post, runs)

    def stats(self) -> ModelStats:
        """A snapshot of the cumulative counters."""
        with self._stats_lock:
            return self._stats


@dataclass(frozen=True)
class LoadedFile:
    """The checks `load_model` runs before starting a session, exposed for `inspect` and tests."""

    onnx: OnnxFile
    meta: UltralyticsMetadata
    layout: DetectLayout
    manifest: Manifest = field(default_factory=Manifest)


def check_model_file(path: str | Path, manifest: str | Path | None = None) -> LoadedFile:
    """Validate an ONNX file (and manifest) as an Ultralytics detect model; raise ModelError/ConfigError."""
    onnx_file = read_onnx(path)
    meta = parse_metadata(onnx_file.props, str(onnx_file.path))
    layout = check_detect_model(onnx_file, meta)
    man = load_manifest(manifest, meta.names) if manifest is not None else Manifest()
    return LoadedFile(onnx_file, meta, layout, man)


def model_files(cfg: ModelConfig) -> tuple[Path, Path | None]:
    """(ONNX file, manifest) of a model config: its `path`, or its fetched weights at its `precision`.

    Fetched weights are looked up in the cache only; ModelError names the fetch command when absent.
    """
    if cfg.fetched is not None:
        path, manifest = resolve_fetched(cfg.fetched, cfg.precision)
        return path, cfg.manifest or manifest
    if cfg.path is None:  # the config model forbids this; kept for type narrowing
        raise ModelError(f"model '{cfg.name}': neither `path` nor `fetched` is set")
    return cfg.path, cfg.manifest


def load_model(cfg: ModelConfig, *, warmup: bool = True) -> YoloModel:
    """Validate, start and (by default) warm up the model `cfg` describes."""
    path, manifest = model_files(cfg)
    checked = check_model_file(path, manifest)
    session, provider = create_session(checked.onnx.path, cfg)
    model = YoloModel(cfg, checked, session, provider)
    log.info(
        "model %s: %s (%s, %d classes, imgsz %s, %s, batch %s, sha256 %s)", cfg.name, path,
        "end-to-end" if model.info.end2end else "anchor head + NMS", len(model.info.names), model.info.imgsz,
        model.info.input_dtype, model.info.static_batch or "dynamic", model.info.sha256[:12],
    )
    if warmup:
        model.warmup()
    return model
