"""Execution providers: pick TensorRT / CUDA / CPU from config and what this ONNX Runtime build offers.

Selection is a pure function of (requested, available), so it is unit-tested on any machine. The CPU
provider always ends the list: ONNX Runtime needs it for nodes a GPU provider does not take, and it is the
fallback when a GPU provider is missing or fails to start. Which provider actually runs is read back from
the session and logged, never assumed.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import onnxruntime as ort
from onnxruntime.capi import onnxruntime_pybind11_state as _ort_state

from foundation.errors import ModelError
from models.config import ModelConfig, Provider

log = logging.getLogger(__name__)

ORT_NAMES: dict[str, str] = {
    "tensorrt": "TensorrtExecutionProvider",
    "cuda": "CUDAExecutionProvider",
    "cpu": "CPUExecutionProvider",
}
SHORT_NAMES: dict[str, str] = {v: k for k, v in ORT_NAMES.items()}

ORT_ERRORS: tuple[type[Exception], ...] = (
    RuntimeError, ValueError, TypeError, MemoryError,
    *(
        getattr(_ort_state, name) for name in (
            "Fail", "InvalidArgument", "NoSuchFile", "NoModel", "EngineError", "RuntimeException",
            "InvalidProtobuf", "ModelLoaded", "NotImplemented", "InvalidGraph", "EPFail",
        ) if isinstance(getattr(_ort_state, name, None), type)
    ),
)
"""What ONNX Runtime raises (its pybind error types derive from Exception directly), for `except` clauses."""


@dataclass(frozen=True)
class ProviderChoice:
    """Providers to try in order, each with its options, and the requested ones that were not available."""

    providers: list[tuple[str, dict[str, str]]]
    skipped: list[str] = field(default_factory=list)

    @property
    def names(self) -> list[str]:
        return [name for name, _ in self.providers]

    @property
    def uses_gpu(self) -> bool:
        return any(name != ORT_NAMES["cpu"] for name in self.names)


def provider_options(
    provider: Provider, *, device_id: int = 0, fp16: bool = False, trt_cache_dir: Path | None = None,
) -> dict[str, str]:
    """ONNX Runtime options for one provider (strings, as the C API takes them)."""
    if provider == "cuda":
        return {"device_id": str(device_id)}
    if provider == "tensorrt":
        opts = {"device_id": str(device_id), "trt_fp16_enable": "True" if fp16 else "False"}
        if trt_cache_dir is not None:
            opts |= {"trt_engine_cache_enable": "True", "trt_engine_cache_path": str(trt_cache_dir)}
        return opts
    return {}


def select_providers(
    requested: Sequence[Provider], available: Sequence[str], *, device_id: int = 0, fp16: bool = False,
    trt_cache_dir: Path | None = None,
) -> ProviderChoice:
    """The requested providers this build has, in the requested order, with the CPU always last."""
    chosen: list[tuple[str, dict[str, str]]] = []
    skipped: list[str] = []
    for short in requested:
        name = ORT_NAMES[short]
        if name not in available:
            skipped.append(short)
            continue
        if short != "cpu":
            opts = provider_options(short, device_id=device_id, fp16=fp16, trt_cache_dir=trt_cache_dir)
            chosen.append((name, opts))
    chosen.append((ORT_NAMES["cpu"], {}))
    return ProviderChoice(chosen, skipped)


def session_options(cfg: ModelConfig) -> ort.SessionOptions:
    """Threading and graph optimisation for one model's session."""
    opts = ort.SessionOptions()
    opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    opts.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    opts.intra_op_num_threads = cfg.intra_op_threads
    opts.inter_op_num_threads = cfg.inter_op_threads
    opts.add_session_config_entry("session.intra_op.allow_spinning", "1" if cfg.spin_wait else "0")
    opts.log_severity_level = 3  # ORT's own warnings go to stderr, not our log; errors still raise
    return opts


def create_session(path: Path, cfg: ModelConfig) -> tuple[ort.InferenceSession, str]:
    """An InferenceSession on the best available provider; returns it with the short name of the one used.

    If a GPU provider is present but fails to start (driver, CUDA/cuDNN/TensorRT libraries), the model
    falls back to the CPU with a warning rather than leaving every camera without detections.
    """
    available = ort.get_available_providers()
    choice = select_providers(
        cfg.providers, available, device_id=cfg.device_id, fp16=cfg.fp16, trt_cache_dir=cfg.trt_cache_dir,
    )
    if choice.skipped:
        log.warning(
            "model %s: provider(s) %s not available in this ONNX Runtime build (available: %s)",
            cfg.name, ", ".join(choice.skipped), ", ".join(available),
        )
    attempts: list[list[tuple[str, dict[str, str]]]] = [choice.providers]
    if choice.uses_gpu:
        attempts.append([(ORT_NAMES["cpu"], {})])
    last_error: Exception | None = None
    for providers in attempts:
        try:
            names: list[Any] = [name for name, _ in providers]
            session = ort.InferenceSession(
                str(path), sess_options=session_options(cfg), providers=names,
                provider_options=[opts for _, opts in providers],
            )
        except ORT_ERRORS as exc:
            last_error = exc
            if len(providers) > 1:
                log.warning("model %s: could not start on %s (%s); falling back to the CPU",
                            cfg.name, providers[0][0], exc)
            continue
        used = SHORT_NAMES.get(session.get_providers()[0], session.get_providers()[0])
        if used != cfg.providers[0]:
            log.warning("model %s: running on %s, not the preferred %s", cfg.name, used, cfg.providers[0])
        log.info("model %s: ONNX Runtime %s on provider %s (threads intra=%d inter=%d)",
                 cfg.name, ort.__version__, used, cfg.intra_op_threads, cfg.inter_op_threads)
        return session, used
    raise ModelError(f"{path}: ONNX Runtime cannot load the model: {last_error}") from last_error
