"""CI smoke runs: every suite at `--quick` size through the real CLI, asserting only that it runs and
writes its reports (JSON with the environment, markdown with the table and plot links, PNG plots).

Figures are never asserted: performance is measured by `gridwatch bench`, not by tests. The pipeline and
alerts runs use the session's real Kafka broker; the pipeline also the real RTSP server and service.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from gridwatch.cli import main
from tests.benchmarks.helpers import check_report
from tests.infra.kafka import KafkaBroker

THROW_ONLY = """
name: smoke
node: {cores: 16, memory_gib: 32}
groups:
  - role: throw
    count: 40
    stream: {width: 1920, height: 1080, fps: 25}
    detectors: {throw: {fps: 25, model: false}}
"""


@pytest.mark.slow
def test_all_runs_the_chosen_suites_then_sizes_from_their_reports(tmp_path: Path) -> None:
    dep = tmp_path / "throw-only.yaml"
    dep.write_text(THROW_ONLY, encoding="utf-8")
    out = tmp_path / "bench"
    rc = main(["bench", "all", "--quick", "--no-progress", "--out", str(out), "--deployment", str(dep),
               "--skip", "infer", "compare", "pipeline", "alerts"])
    assert rc == 0
    check_report(out / "decode", "decode")
    check_report(out / "throw", "throw")
    size = json.loads((out / "size" / "size.json").read_text(encoding="utf-8"))
    assert size["summary"]["cameras"] == 40 and size["summary"]["nodes_needed"] >= 1
    assert str(out / "throw" / "throw.json") in " ".join(size["notes"])


@pytest.mark.slow
def test_infer_quick(tmp_path: Path) -> None:
    assert main(["bench", "infer", "--quick", "--no-progress", "--out", str(tmp_path)]) == 0
    check_report(tmp_path, "infer", min_pngs=2)


@pytest.mark.slow
def test_compare_quick(tmp_path: Path) -> None:
    assert main(["bench", "compare", "--quick", "--no-progress", "--out", str(tmp_path)]) == 0
    payload = check_report(tmp_path, "compare", min_pngs=2)
    methods = {r["method"] for r in payload["rows"]}
    assert {"gridwatch DynamicBatcher (B cameras)", "Ultralytics YOLO.predict", "naive OpenCV + ORT loop",
            "model only (ORT run on a ready tensor)"} <= methods
    assert {"gridwatch / Ultralytics", "pipeline / model only"} <= set(payload["summary"])


@pytest.mark.slow
@pytest.mark.integration
def test_pipeline_quick(tmp_path: Path, kafka_broker: KafkaBroker) -> None:
    out = tmp_path / "pipeline"
    rc = main(["bench", "pipeline", "--quick", "--no-progress", "--out", str(out),
               "--bootstrap", kafka_broker.bootstrap])
    assert rc == 0
    payload = check_report(out, "pipeline", min_pngs=2)
    assert payload["summary"]["service_exit_code"] == 0
    assert payload["summary"]["cameras"] == 1
    assert (out / "pipeline_timeline.json").exists()


@pytest.mark.integration
def test_alerts_quick(tmp_path: Path, kafka_broker: KafkaBroker) -> None:
    rc = main(["bench", "alerts", "--quick", "--no-progress", "--out", str(tmp_path),
               "--bootstrap", kafka_broker.bootstrap])
    assert rc == 0
    payload = check_report(tmp_path, "alerts")
    assert {r["section"] for r in payload["rows"]} == {"throughput", "latency", "grid", "gcj02"}
