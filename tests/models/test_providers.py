"""Execution-provider selection and fallback, and the I/O-binding path (real ONNX Runtime, CPU here)."""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import onnxruntime as ort
import pytest

from models.config import ModelConfig
from models.providers import create_session, provider_options, select_providers, session_options
from models.runtime import _IoBinding

ALL = ["TensorrtExecutionProvider", "CUDAExecutionProvider", "CPUExecutionProvider"]


def test_requested_order_is_kept_and_cpu_always_ends_the_list() -> None:
    choice = select_providers(
        ["tensorrt", "cuda", "cpu"], ALL, device_id=1, fp16=True, trt_cache_dir=Path("/c"),
    )
    assert choice.names == ALL and not choice.skipped and choice.uses_gpu
    assert choice.providers[0][1] == {"device_id": "1", "trt_fp16_enable": "True",
                                      "trt_engine_cache_enable": "True", "trt_engine_cache_path": "/c"}
    assert choice.providers[1][1] == {"device_id": "1"}
    assert select_providers(["cuda"], ALL).names == ALL[1:]


def test_missing_gpu_providers_are_skipped_and_reported() -> None:
    choice = select_providers(["tensorrt", "cuda"], ["CPUExecutionProvider"])
    assert choice.names == ["CPUExecutionProvider"] and choice.skipped == ["tensorrt", "cuda"]
    assert not choice.uses_gpu


def test_provider_options_without_cache_dir() -> None:
    assert provider_options("tensorrt") == {"device_id": "0", "trt_fp16_enable": "False"}
    assert provider_options("cpu") == {}


def test_session_falls_back_to_what_this_build_has_and_logs_it(
    yolo_model_dynamic: Path, caplog: pytest.LogCaptureFixture,
) -> None:
    cfg = ModelConfig(name="fallback", path=yolo_model_dynamic, providers=["tensorrt", "cuda", "cpu"],
                      intra_op_threads=1)
    with caplog.at_level(logging.INFO, logger="models.providers"):
        session, used = create_session(yolo_model_dynamic, cfg)
    expected = "cuda" if "CUDAExecutionProvider" in ort.get_available_providers() else "cpu"
    assert used in (expected, "tensorrt")
    assert session.get_providers()[0].lower().startswith(used)
    assert f"on provider {used}" in caplog.text
    if used == "cpu":
        assert "not available in this ONNX Runtime build" in caplog.text


def test_io_binding_gives_the_same_output_as_run(yolo_model_dynamic: Path) -> None:
    session, _ = create_session(yolo_model_dynamic, ModelConfig(name="b", path=yolo_model_dynamic))
    binding = _IoBinding(session, "cpu", 0)  # the GPU path's code, on the device this machine has
    rng = np.random.default_rng(0)
    for shape in [(2, 3, 320, 320), (2, 3, 320, 320), (1, 3, 256, 320)]:
        x = rng.random(shape, dtype=np.float32)
        np.testing.assert_array_equal(binding.run(x), session.run(None, {"images": x})[0])


def test_thread_and_spin_settings_reach_the_session_options() -> None:
    cfg = ModelConfig(name="t", path=Path("m.onnx"), intra_op_threads=2, inter_op_threads=1, spin_wait=False)
    opts = session_options(cfg)
    assert (opts.intra_op_num_threads, opts.inter_op_num_threads) == (2, 1)
    assert opts.get_session_config_entry("session.intra_op.allow_spinning") == "0"
