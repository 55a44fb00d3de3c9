"""A running service (real subprocess) whose Kafka password is wrong: /readyz names the listener and the
cause, the outbox keeps every alert, and after the secret file is fixed a SIGHUP reconnects the relay and
every alert reaches the topic (read by librdkafka through the same SASL_SSL listener)."""

from __future__ import annotations

import signal
import time
from pathlib import Path

import pytest

from alerts.config import AlertsConfig
from alerts.runtime import AlertsRuntime
from tests.alerts.factories import event
from tests.infra.kafka import KafkaBroker, read_topic
from tests.infra.ports import free_port
from tests.infra.service import GridwatchProcess

pytestmark = [pytest.mark.integration]

WAITING = 40


def config_text(work: Path, port: int, kafka: dict[str, object], topic: str) -> str:
    return f"""
service:
  node_id: creds-node
  metrics: {{enabled: true, address: 127.0.0.1, port: {port}}}
alerts:
  outbox: {{path: {work}/outbox.sqlite3}}
  evidence: {{enabled: false}}
  kafka:
    bootstrap_servers: ["{kafka['bootstrap_servers']}"]
    topic: {topic}
    security_protocol: SASL_SSL
    sasl_mechanism: SCRAM-SHA-512
    username: {kafka['username']}
    password: ${{file:{work}/kafka-password}}
    ssl_cafile: {kafka['ssl_cafile']}
    bootstrap_timeout_ms: 1500
    retry_backoff_initial_s: 0.2
    retry_backoff_max_s: 1.0
    unreachable_red_after_s: 1.0
cameras: []
"""


def fill_outbox(work: Path, kafka: dict[str, object], topic: str) -> list[str]:
    """Alerts written while the broker was unreachable: pending rows the service's relay must send."""
    cfg = AlertsConfig.model_validate({"outbox": {"path": str(work / "outbox.sqlite3")},
                                       "kafka": {**kafka, "topic": topic}, "evidence": {"enabled": False},
                                       "dedup": {"enabled": False}})
    rt = AlertsRuntime(cfg, node_id="creds-node", config_version="earlier")
    ids = []
    for i in range(WAITING):
        alert = rt.pipeline.handle(event(source_id=f"cam-{i % 4}", incident_id=f"i{i}", t=time.time(),
                                         lat=30.0 + 0.001 * i, lon=120.0))
        assert alert is not None
        ids.append(alert.alert_id)
    rt.outbox.close()
    return ids


def until(what: str, timeout_s: float, probe) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if probe():
            return
        time.sleep(0.3)
    raise AssertionError(f"timed out after {timeout_s} s waiting for {what}")


def test_wrong_password_is_reported_and_a_sighup_with_the_fixed_secret_delivers_every_alert(
    tmp_path: Path, kafka_broker: KafkaBroker
) -> None:
    if not kafka_broker.secure:
        pytest.skip("GRIDWATCH_TEST_KAFKA names an external broker: no secured listeners")
    listener = kafka_broker.listener("SASL_SSL")
    topic = kafka_broker.new_topic("gw-creds", partitions=3)
    ids = fill_outbox(tmp_path, listener.kafka, topic)
    secret = tmp_path / "kafka-password"
    secret.write_text("a-password-that-was-rotated-away\n")
    port = free_port()
    cfg = tmp_path / "creds.yaml"
    cfg.write_text(config_text(tmp_path, port, listener.kafka, topic), encoding="utf-8")
    proc = GridwatchProcess(cfg, tmp_path, http_port=port).start()
    try:
        def refused() -> bool:
            try:
                code, body = proc.get("/readyz")
            except OSError:  # not listening yet
                return False
            return code == 503 and b"wrong user name or password" in body

        until("/readyz to name the refused login", 60, lambda: _alive(proc) and refused())
        code, body = proc.get("/readyz")
        assert code == 503
        assert f"SASL_SSL://{listener.bootstrap}".encode() in body
        status = proc.json("/status")
        assert status["outbox"]["pending"] == WAITING
        assert "SCRAM-SHA-512" in status["kafka"]["last_error"]

        secret.write_text(f"{listener.kafka['password']}\n")
        proc.signal(signal.SIGHUP)
        until("every waiting alert to be acknowledged", 60, lambda: proc.json("/status")["outbox"]["pending"] == 0)
        assert proc.get("/readyz")[0] == 200
        assert proc.stop() == 0
    finally:
        proc.stop()
    msgs = read_topic(listener.bootstrap, topic, expect=WAITING, timeout_s=60, settings=listener.librdkafka)
    assert {m["headers"]["alert_id"].decode() for m in msgs} == set(ids)  # type: ignore[union-attr,index]
    log = proc.log_text()
    assert "Traceback" not in log, log[-3000:]
    assert listener.kafka["password"] not in log and "a-password-that-was-rotated-away" not in log
    assert "now publishing with the new settings" in log


def _alive(proc: GridwatchProcess) -> bool:
    assert proc.proc is not None
    if proc.proc.poll() is not None:
        raise AssertionError(f"gridwatch exited {proc.proc.returncode}:\n{proc.log_text()[-3000:]}")
    return True
