"""`gridwatch bench size` and the dispatcher, through the real CLI entry point."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from gridwatch.cli import main
from tests.benchmarks.helpers import PNG_MAGIC

REPO = Path(__file__).resolve().parents[2]
DISTRICT = REPO / "configs" / "deployments" / "district-example.yaml"


def test_size_prints_a_sizing_for_the_district_with_its_assumptions(
    measured: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str],
) -> None:
    out = tmp_path / "size"
    assert main(["bench", "size", str(DISTRICT), "--measured", str(measured), "--out", str(out)]) == 0
    text = capsys.readouterr().out
    assert "3,082 cameras" in text and "nodes needed:" in text and "cameras per node:" in text
    for group in ("throw-facade", "fire-substream", "fire-keyframes"):
        assert group in text
    assert "Assumptions:" in text and "Measured figures used:" in text and str(measured) in text
    assert "district grid: 1,887 cells in " in text and "1.6 cameras per cell" in text  # the sample district
    summary = json.loads((out / "size.json").read_text())["summary"]
    assert summary["cameras"] == 3082 and summary["nodes_needed"] >= 1
    assert f"nodes needed:          {summary['nodes_needed']} " in text
    assert (out / "size_core_demand.png").read_bytes()[:8] == PNG_MAGIC


def test_size_without_reports_says_which_suites_to_run(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["bench", "size", str(DISTRICT), "--bench-dir", str(tmp_path / "empty")]) == 1
    err = capsys.readouterr().err
    for suite in ("decode", "compare", "pipeline", "throw"):
        assert f"gridwatch bench {suite}\n" in err
    assert "--run-missing" in err


def test_an_unknown_suite_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["bench", "speed"]) == 2
    assert "choose one of: decode, infer, compare, pipeline, alerts, throw, district, size, all" in capsys.readouterr().err


def test_suite_options_are_the_suites_own(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_:
        main(["bench", "pipeline", "--help"])
    assert exit_.value.code == 0
    out = capsys.readouterr().out
    assert "gridwatch bench pipeline" in out and "--cameras" in out and "--no-kafka" in out
