"""`gridwatch replay` on a generated clip: alerts as JSON lines in the Kafka schema, an annotated video."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import av
import jsonschema
import pytest

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def clips(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    from benchmarks.scenarios.fire import make_scenario, write_scenario

    out = tmp_path_factory.mktemp("replay-media")
    return {
        "fire": write_scenario(make_scenario("fire", 23, ()), out).video,
        "street": write_scenario(make_scenario("distractor", 23, ("red_car", "amber_light")), out).video,
    }


def run_replay(tmp_path: Path, video: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    config = tmp_path / "replay.yaml"
    config.write_text(
        "detectors:\n  fire: {analysis_fps: 5, mode: cues}\n"
        "cameras:\n  - id: cam-r\n    source: {url: /dev/null}\n    detectors: {fire: {}}\n"
        "    site: {lat_deg: 34.8102, lon_deg: 113.2745}\n"
        f"alerts:\n  grid: {{path: {REPO}/configs/grid/sample-district.geojson}}\n",
        encoding="utf-8",
    )
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    return subprocess.run(
        [sys.executable, "-m", "gridwatch", "replay", str(video), "--config", str(config), "--camera", "cam-r",
         *extra], capture_output=True, text=True, env=env, cwd=tmp_path, timeout=300,
    )


def test_replay_writes_schema_valid_json_lines_and_an_annotated_video(tmp_path: Path, clips: dict[str, Path]) -> None:
    out, annotated = tmp_path / "alerts.jsonl", tmp_path / "annotated.mp4"
    result = run_replay(tmp_path, clips["fire"], "--out", str(out), "--annotate", str(annotated))
    assert result.returncode == 0, result.stderr[-3000:]
    lines = out.read_text(encoding="utf-8").splitlines()
    assert lines, result.stderr[-3000:]
    schema = json.loads((REPO / "alerts" / "alert.schema.json").read_text(encoding="utf-8"))
    alerts = [json.loads(line) for line in lines]
    for alert in alerts:
        jsonschema.validate(alert, schema)
    assert alerts[0]["kind"] == "fire" and alerts[0]["phase"] == "start" and alerts[0]["source"] == "cam-r"
    assert alerts[0]["reasons"], "alerts must say why the detector fired"
    with av.open(str(annotated)) as container:
        n = sum(1 for _ in container.decode(video=0))
    assert n > 10


def test_replay_of_distractors_writes_no_alert(tmp_path: Path, clips: dict[str, Path]) -> None:
    out = tmp_path / "alerts.jsonl"
    result = run_replay(tmp_path, clips["street"], "--out", str(out))
    assert result.returncode == 0, result.stderr[-3000:]
    assert out.read_text(encoding="utf-8") == ""


def test_replay_names_an_unknown_camera(tmp_path: Path, clips: dict[str, Path]) -> None:
    result = run_replay(tmp_path, clips["fire"], "--camera", "nope")
    assert result.returncode == 2
    assert "no camera 'nope'" in result.stderr and "cam-r" in result.stderr
