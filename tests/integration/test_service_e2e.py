"""End to end, real at every step: RTSP camera -> PyAV -> batched ONNX Runtime (Ultralytics-exported
YOLO) -> fire detector -> alert -> SQLite outbox -> Kafka over SASL_SSL (SCRAM-SHA-512; PLAINTEXT on an
external broker), read back with an independent client through the same listener.

The same running service is scraped: `/metrics` must pass `promtool check metrics`; `/status`, the logs,
the alert payloads (outbox and topic), and the evidence files (names and bytes, clips included) must never
show the camera password or the Kafka password.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from tests.infra.kafka import KafkaBroker, read_topic
from tests.infra.ports import free_port
from tests.infra.rtsp import RtspServer
from tests.infra.service import GridwatchProcess

pytestmark = pytest.mark.integration

CANARY = "Canary-Pw-7781xQ"
REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def fire_clip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from benchmarks.scenarios.fire import make_scenario, write_scenario

    out = tmp_path_factory.mktemp("e2e-media")
    files = write_scenario(make_scenario("fire", 7, ("orange_sign",)), out)  # the demo's fire scene
    return files.video


@dataclass
class RunningService:
    proc: GridwatchProcess
    topic: str
    bootstrap: str
    camera_id: str
    reader: dict[str, str]
    """librdkafka settings of the listener the service publishes through."""
    work: Path
    secrets: tuple[str, ...]


@pytest.fixture(scope="module")
def running_service(
    tmp_path_factory: pytest.TempPathFactory, kafka_broker: KafkaBroker, fire_clip: Path
) -> Iterator[RunningService]:
    from tests.infra.weights import fire_smoke_weights

    fire_smoke_weights()  # the trained fire/smoke weights `make setup` fetches (`both` mode needs a real model)
    work = tmp_path_factory.mktemp("e2e")
    rtsp = RtspServer({"/fire": {"file": str(fire_clip)}}, work).start()
    topic = kafka_broker.new_topic("gw-e2e")
    listener = kafka_broker.listener("SASL_SSL" if kafka_broker.secure else "PLAINTEXT")
    kafka = {**listener.kafka, "topic": topic}
    kafka_password = str(kafka.pop("password", ""))
    if kafka_password:
        kafka["password"] = "${KAFKA_PASSWORD}"
    kafka_yaml = "{" + ", ".join(f'{k}: "{v}"' for k, v in kafka.items()) + "}"
    port = free_port()
    config = work / "e2e.yaml"
    config.write_text(f"""
service:
  node_id: it-node-1
  reload_poll_s: 0
  metrics: {{enabled: true, address: 127.0.0.1, port: {port}}}
models:
  - name: fire-smoke
    fetched: fire-smoke
    precision: auto
    providers: [cpu]
    batch: {{max_batch: 4, max_delay_ms: 20}}
detectors:
  fire: {{analysis_fps: 5, mode: both, model: fire-smoke}}
cameras:
  - id: cam-e2e
    source:
      url: rtsp://admin:${{CAM_PASSWORD}}@127.0.0.1:{rtsp.port}/fire
      clip_buffer_s: 20
    detectors: {{fire: {{}}}}
    site: {{lat_deg: 34.8102, lon_deg: 113.2745, accuracy_m: 25}}
alerts:
  outbox: {{path: {work}/outbox.sqlite3}}
  kafka: {kafka_yaml}
  evidence:
    store: {{type: local, dir: {work}/evidence}}
    scratch_dir: {work}/evidence-tmp
  grid:
    path: {REPO}/configs/grid/sample-district.geojson
    levels:
      street: {{id_property: street_id, name_property: street_name}}
      community: {{id_property: community_id, name_property: community_name}}
      grid: {{id_property: grid_id, name_property: grid_name}}
      micro_grid: {{id_property: id, name_property: name}}
    officer_team_property: officer_team
""", encoding="utf-8")
    proc = GridwatchProcess(config, work, http_port=port,
                            env={"CAM_PASSWORD": CANARY, "KAFKA_PASSWORD": kafka_password}).start()
    try:
        proc.wait_ready()
        yield RunningService(proc, topic, listener.bootstrap, "cam-e2e", listener.librdkafka, work,
                             tuple(s for s in (CANARY, kafka_password) if s))
    finally:
        proc.stop()
        rtsp.stop()


def schema() -> dict[str, Any]:
    out: dict[str, Any] = json.loads((REPO / "alerts" / "alert.schema.json").read_text(encoding="utf-8"))
    return out


def test_fire_alert_reaches_kafka_and_validates(running_service: RunningService) -> None:
    messages = read_topic(running_service.bootstrap, running_service.topic, expect=1, timeout_s=120,
                          settings=running_service.reader)
    assert messages, "no alert reached Kafka:\n" + running_service.proc.log_text()[-3000:]
    validator = jsonschema.Draft202012Validator(schema())
    for msg in messages:
        alert = json.loads(msg["value"])  # type: ignore[arg-type]
        validator.validate(alert)
        assert msg["key"] == running_service.camera_id.encode()
        assert msg["headers"]["alert_id"] == alert["alert_id"].encode()
        # the incident may open as smoke (the trained model sees the plume first), then turn fire by an update
        assert alert["kind"] in ("fire", "smoke") and alert["phase"] == "start"
        assert alert["node_id"] == "it-node-1"
        assert alert["grid_cell"]["id"] == "SJ-02-08-02-1"  # the made-up sample district's micro-grid
        assert alert["schema_version"] == "1.1" and alert["officer_team"] == "OT-0548"
        assert [alert["grid_levels"][lv]["id"] for lv in ("street", "community", "grid", "micro_grid")] == [
            "SJ-02", "SJ-02-08", "SJ-02-08-02", "SJ-02-08-02-1"]
        assert alert["routing_key"] == f"SJ-02-08-02-1/{alert['kind']}"
        assert alert["case_category"]["minor_name"] == "火灾" and alert["case_category"]["placeholder"] is True
        assert alert["location"]["gcj02"]["lat"] != alert["location"]["lat"]


def test_status_and_metrics_are_served_and_lint_clean(running_service: RunningService) -> None:
    status = running_service.proc.json("/status")
    cam = status["cameras"]["cam-e2e"]
    assert cam["frames_analysed"] > 0
    assert "***@" in cam["source"]
    code, body = running_service.proc.get("/metrics")
    assert code == 200
    text = body.decode()
    assert 'gridwatch_camera_frames_decoded_total{camera_id="cam-e2e"}' in text
    assert "gridwatch_model_inference_seconds_bucket" in text
    promtool = shutil.which("promtool")
    assert promtool, "promtool (Debian package prometheus) is required; deploy/dev/bootstrap.sh installs it"
    lint = subprocess.run([promtool, "check", "metrics"], input=body, capture_output=True, timeout=30)
    assert lint.returncode == 0, lint.stdout + lint.stderr
    for blob in (json.dumps(status), text):
        assert CANARY not in blob


def test_clean_shutdown_delivers_end_alerts_and_never_logs_the_password(running_service: RunningService) -> None:
    read_topic(running_service.bootstrap, running_service.topic, expect=1, timeout_s=120,
                          settings=running_service.reader)
    assert running_service.proc.stop() == 0
    messages = read_topic(running_service.bootstrap, running_service.topic, expect=100, timeout_s=8,
                          settings=running_service.reader)
    phases = [json.loads(m["value"])["phase"] for m in messages]  # type: ignore[arg-type]
    assert "start" in phases
    log = running_service.proc.log_text()
    assert "service stopped (all alerts delivered: True)" in log
    for secret in running_service.secrets:
        assert secret not in log


def test_alert_payloads_and_evidence_carry_no_secret(running_service: RunningService) -> None:
    """Runs after the clean shutdown: every alert is in the outbox and the topic, every clip is cut."""
    import sqlite3

    db = sqlite3.connect(str(running_service.work / "outbox.sqlite3"))
    payloads = [bytes(row[0]) for row in db.execute("SELECT payload FROM alerts")]
    db.close()
    messages = read_topic(running_service.bootstrap, running_service.topic, expect=len(payloads), timeout_s=30,
                          settings=running_service.reader)
    assert payloads and len(messages) >= len(payloads)
    evidence = [p for p in (running_service.work / "evidence").rglob("*") if p.is_file()]
    assert any(p.name.endswith("-clip.mp4") for p in evidence) and any(p.name.endswith(".jpg") for p in evidence)
    blobs = [*payloads, *(bytes(m["value"]) for m in messages), *(p.read_bytes() for p in evidence)]  # type: ignore[arg-type]
    names = [p.relative_to(running_service.work).as_posix() for p in evidence]
    for secret in running_service.secrets:
        assert not any(secret.encode() in blob for blob in blobs), "a secret reached an alert or evidence"
        assert not any(secret in name for name in names)
