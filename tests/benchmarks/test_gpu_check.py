"""The prepared GPU check, exercised without a GPU: provider planning and fallback (a provider listed by the
build but landing on the CPU counts as missing), arguments, the derived figure, and a quick CPU stand-in run
that writes the same reports (the GPU figures themselves need a GPU node)."""

from __future__ import annotations

import json
from pathlib import Path

import onnxruntime as ort
import pytest

from benchmarks import gpu_check
from benchmarks.gpu_check import cameras_per_gpu, main, plan, session_probe, startable
from benchmarks.infer import default_model
from models.config import Provider
from tests.benchmarks.helpers import check_report

CPU_ONLY = ["AzureExecutionProvider", "CPUExecutionProvider"]
WITH_CUDA = ["CUDAExecutionProvider", "CPUExecutionProvider"]


def test_present_providers_run_as_themselves_and_missing_ones_only_fall_back_when_allowed() -> None:
    p = plan(["tensorrt", "cuda"], WITH_CUDA, [32, 8, 16, 8], allow_cpu=False, gpu="test GPU")
    assert p.runs == [("cuda", "cuda")] and p.missing == ["tensorrt"] and p.batches == [8, 16, 32]
    none = plan(["tensorrt", "cuda"], CPU_ONLY, [8], allow_cpu=False, gpu=None)
    assert none.runs == [] and none.missing == ["tensorrt", "cuda"]
    stand_in = plan(["tensorrt", "cuda"], CPU_ONLY, [8], allow_cpu=True, gpu=None)
    assert stand_in.runs == [("tensorrt", "cpu")], "one CPU run stands in for the missing providers"


def test_a_missing_gpu_provider_is_a_clear_error_unless_allowed(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--dry-run"]) == 2
    err = capsys.readouterr().err
    assert "tensorrt, cuda not usable" in err and "--allow-cpu" in err and "CPUExecutionProvider" in err
    assert main(["--dry-run", "--allow-cpu"]) == 0
    assert "CPU stand-in" in capsys.readouterr().out
    assert main(["--dry-run", "--providers", "cpu", "--batches", "0"]) == 2
    with pytest.raises(SystemExit):
        main(["--providers", "rocm"])


def fake_probe_landing_on_cpu(calls: list[Provider]) -> gpu_check.Probe:
    """A fake probe: every provider's session lands on the CPU, as onnxruntime-gpu does without a GPU."""
    def probe(provider: Provider) -> Provider:
        calls.append(provider)
        return "cpu"
    return probe


def test_a_listed_gpu_provider_whose_session_lands_on_the_cpu_counts_as_missing() -> None:
    calls: list[Provider] = []
    with_trt = ["TensorrtExecutionProvider", *WITH_CUDA]
    usable = startable(with_trt, ["tensorrt", "cuda", "cpu"], fake_probe_landing_on_cpu(calls))
    assert usable == ["CPUExecutionProvider"] and calls == ["tensorrt", "cuda"], "the CPU is never probed"
    assert startable(WITH_CUDA, ["cuda"], lambda p: p) == WITH_CUDA, "a provider that starts stays"
    assert startable(CPU_ONLY, ["tensorrt", "cuda"], fake_probe_landing_on_cpu(calls)) == CPU_ONLY
    assert calls == ["tensorrt", "cuda"], "providers the build lacks are not probed"


def test_onnxruntime_gpu_without_a_gpu_exits_2_naming_the_fallback(
        monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    monkeypatch.setattr(gpu_check.ort, "get_available_providers", lambda: WITH_CUDA)
    calls: list[Provider] = []
    monkeypatch.setattr(gpu_check, "session_probe", lambda _model: fake_probe_landing_on_cpu(calls))
    model = tmp_path / "m.onnx"
    assert main(["--dry-run", "--model", str(model), "--providers", "cuda"]) == 2
    err = capsys.readouterr().err
    assert "cuda not usable" in err and "listed by this ONNX Runtime build but its session ran on the CPU" in err
    assert calls == ["cuda"]
    assert main(["--dry-run", "--model", str(model), "--providers", "cuda", "--allow-cpu"]) == 0
    assert "requested cuda -> runs on cpu" in capsys.readouterr().out


def test_the_real_probe_reports_where_a_session_actually_runs() -> None:
    probe = session_probe(default_model())
    assert probe("cpu") == "cpu"
    if "CUDAExecutionProvider" not in ort.get_available_providers():
        assert probe("cuda") == "cpu", "a CPU-only build runs a cuda request on the CPU"


def test_cameras_per_gpu_is_images_per_second_over_what_each_camera_asks() -> None:
    assert cameras_per_gpu(400.0, 2.0, 0.25) == 800.0, "400 img/s / (2 fps x a quarter of the input)"
    assert cameras_per_gpu(400.0, 2.0, 1.0) == 200.0, "ungated: every analysed frame whole"
    assert cameras_per_gpu(None, 2.0, 0.25) is None and cameras_per_gpu(400.0, 2.0, 0.0) is None
    assert cameras_per_gpu(400.0, 0.0, 0.5) is None


@pytest.mark.slow
def test_the_cpu_stand_in_writes_the_infer_and_district_reports_and_the_summary(tmp_path: Path) -> None:
    assert main(["--quick", "--allow-cpu", "--out", str(tmp_path), "--batches", "2"]) == 0
    check_report(tmp_path / "infer-cpu", "infer", min_pngs=2)
    district = check_report(tmp_path / "district-cpu", "district", min_pngs=2)
    payload = check_report(tmp_path, "gpu_check")
    (row,) = payload["rows"]
    assert row["requested"] == "tensorrt" and row["provider"] == "cpu" and row["pipeline_img_s_b2"] > 0
    gated = district["rows"][0]
    assert gated["system"] == "gridwatch gated" and row["model_input_share"] == gated["model_input_share"]
    stride = float(district["environment"]["spec"]["vid_stride"])
    assert row["cameras_per_gpu_derived"] == cameras_per_gpu(row["pipeline_img_s_b2"], 25.0 / stride,
                                                             gated["model_input_share"])
    assert any("CPU stand-in" in n for n in payload["notes"])
    assert json.loads((tmp_path / "infer-cpu" / "infer.json").read_text())["environment"]["provider"] == "cpu"
