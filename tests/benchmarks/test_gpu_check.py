"""The prepared GPU check, exercised without a GPU: provider planning and fallback, arguments, and a quick
CPU stand-in run that writes the same reports (the GPU figures themselves need a GPU node)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from benchmarks.gpu_check import main, plan
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
    assert "tensorrt, cuda not in this ONNX Runtime build" in err and "--allow-cpu" in err
    assert main(["--dry-run", "--allow-cpu"]) == 0
    assert "CPU stand-in" in capsys.readouterr().out
    assert main(["--dry-run", "--providers", "cpu", "--batches", "0"]) == 2
    with pytest.raises(SystemExit):
        main(["--providers", "rocm"])


@pytest.mark.slow
def test_the_cpu_stand_in_writes_the_infer_report_and_the_summary(tmp_path: Path) -> None:
    assert main(["--quick", "--allow-cpu", "--skip-district", "--out", str(tmp_path), "--batches", "2"]) == 0
    check_report(tmp_path / "infer-cpu", "infer", min_pngs=2)
    payload = check_report(tmp_path, "gpu_check")
    (row,) = payload["rows"]
    assert row["requested"] == "tensorrt" and row["provider"] == "cpu" and row["pipeline_img_s_b2"] > 0
    assert any("CPU stand-in" in n for n in payload["notes"])
    assert json.loads((tmp_path / "infer-cpu" / "infer.json").read_text())["environment"]["provider"] == "cpu"
