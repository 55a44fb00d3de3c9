"""Secret canaries: passwords planted where an operator puts them (camera URL, Kafka SASL password) must
appear in no output a consumer or an operator receives. Here: a drone flight replayed from a generated
video + DJI SRT (alert payloads, evidence file names and bytes, the flight summary's GeoJSON, text and
PNG), and the cluster registry that `cameras sync` writes to the real broker. The live service (RTSP
camera, Kafka over SASL_SSL, evidence clips) is checked in test_service_e2e.py; S3 object keys and
metadata in tests/alerts/test_evidence_s3.py."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

from tests.infra.kafka import KafkaBroker, read_topic

pytestmark = pytest.mark.integration

REPO = Path(__file__).resolve().parents[2]
CAMERA_CANARY = "Canary-Cam-Pw-3381"
KAFKA_CANARY = "Canary-Kafka-Pw-3382"


def env_with_canaries() -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": str(REPO), "DRONE_PW": CAMERA_CANARY, "CAM_PW": CAMERA_CANARY,
            "KAFKA_PW": KAFKA_CANARY}


def files_containing(root: Path, *needles: str) -> list[str]:
    """Every file under root whose name or bytes contain a needle (also percent- and base64-free plain)."""
    hits = []
    for path in root.rglob("*"):
        if not path.is_file():
            continue
        data = path.read_bytes()
        for needle in needles:
            if needle in str(path) or needle.encode() in data:
                hits.append(f"{path}: {needle}")
    return hits


@pytest.mark.slow
def test_drone_replay_alerts_evidence_and_flight_summary_carry_no_secret(tmp_path: Path) -> None:
    from benchmarks.scenarios.drone import write_flight
    from benchmarks.scenarios.drone_flight import FlightPlan
    from benchmarks.scenarios.drone_scene import build_scene
    from benchmarks.scenarios.sim_camera import SimCamera

    small_camera = SimCamera(640, 360, 444.0)  # a 24 mm (35 mm equivalent) lens at 640x360
    flight = write_flight(tmp_path / "media", build_scene(12, size_m=120.0), FlightPlan(camera=small_camera, fps=1.0))
    config = tmp_path / "drone.yaml"
    config.write_text("""
cameras:
  - id: drone-1
    source: {url: "rtsp://pilot:${DRONE_PW}@dock.example/live"}
    detectors: {construction: {}}
alerts:
  kafka: {bootstrap_servers: ["kafka.example:9094"], security_protocol: SASL_SSL, sasl_mechanism: SCRAM-SHA-512,
          username: gridwatch, password: "${KAFKA_PW}"}
""", encoding="utf-8")
    out = tmp_path / "out"
    out.mkdir()
    result = subprocess.run(
        [sys.executable, "-m", "gridwatch", "replay", str(flight.video), "--telemetry", str(flight.srt), "--config",
         str(config), "--camera", "drone-1", "--out", str(out / "alerts.jsonl"), "--evidence-dir", str(out / "ev")],
        capture_output=True, text=True, env=env_with_canaries(), cwd=tmp_path, timeout=300, check=False)
    assert result.returncode == 0, result.stderr[-3000:]
    written = sorted(p.relative_to(out).as_posix() for p in out.rglob("*") if p.is_file())
    assert "alerts.jsonl" in written and (out / "alerts.jsonl").read_text().strip(), result.stderr[-2000:]
    assert {"ev/drone-1.geojson", "ev/drone-1.txt", "ev/drone-1.png"} <= set(written)
    assert any(name.endswith("-snapshot.jpg") for name in written) and any(n.endswith("-annotated.jpg")
                                                                           for n in written)
    assert files_containing(out, CAMERA_CANARY, KAFKA_CANARY) == []
    assert CAMERA_CANARY not in result.stderr + result.stdout and KAFKA_CANARY not in result.stderr + result.stdout


def test_the_cluster_registry_carries_references_not_secrets(tmp_path: Path, kafka_broker: KafkaBroker) -> None:
    suffix = uuid.uuid4().hex[:8]
    registry = kafka_broker.new_topic(f"gw-canary-reg-{suffix}", partitions=1)
    assignment = kafka_broker.new_topic(f"gw-canary-asg-{suffix}", partitions=2)
    district = tmp_path / "district.yaml"
    district.write_text(f"""
cluster:
  kafka: {{bootstrap_servers: ["{kafka_broker.bootstrap}"]}}
  registry_topic: {registry}
  assignment_topic: {assignment}
cameras:
  - id: cam-canary
    source: {{url: "rtsp://viewer:${{CAM_PW}}@10.0.0.7/stream1"}}
    detectors: {{fire: {{}}}}
    site: {{lat_deg: 30.2472, lon_deg: 120.2021}}
""", encoding="utf-8")
    env = env_with_canaries()
    del env["CAM_PW"]  # the operator's machine has no camera secrets: sync must not need them
    sync = subprocess.run([sys.executable, "-m", "gridwatch", "cameras", "sync", str(district)], capture_output=True,
                          text=True, env=env, cwd=tmp_path, timeout=120, check=False)
    assert sync.returncode == 0, sync.stderr
    records = read_topic(kafka_broker.bootstrap, registry, expect=1, timeout_s=30)
    assert len(records) == 1
    value = records[0]["value"]
    assert isinstance(value, bytes) and b"${CAM_PW}" in value  # the reference travels, each node resolves it
    assert CAMERA_CANARY.encode() not in value and CAMERA_CANARY not in sync.stdout + sync.stderr
