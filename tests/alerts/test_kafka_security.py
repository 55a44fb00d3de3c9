"""The relay and `alerts tail` over the real broker's secured listeners (SASL_SSL with SCRAM-SHA-512, and
mutual TLS), read back by an independent client (librdkafka) through the same listener; wrong
credentials named by listener and cause; alerts kept through a credential outage and all delivered once
the settings are fixed. Certificates and the SCRAM user come from deploy/kafka/dev-tls.sh; the expired
certificate and the unknown CA from tests/infra/tls.py."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest

from alerts.config import AlertsConfig
from alerts.kafka_config import KafkaConfig
from alerts.kafka_probe import Layer, probe_server
from alerts.kafka_producer import kafka_producer
from alerts.reader import tail_topic
from alerts.runtime import AlertsRuntime
from foundation.errors import PublishError
from tests.alerts.test_relay_kafka import check_topic, produce
from tests.infra.kafka import KafkaBroker, Listener, read_topic
from tests.infra.tls import expired_client_certificate, untrusted_ca

pytestmark = pytest.mark.integration

SECURED = ["SASL_SSL", "MTLS"]
FAST_FAIL = {"bootstrap_timeout_ms": 1500, "request_timeout_ms": 3000, "delivery_timeout_ms": 10_000,
             "max_block_ms": 3000}


@pytest.fixture(scope="module")
def broker(kafka_broker: KafkaBroker) -> KafkaBroker:
    if not kafka_broker.secure:
        pytest.skip("GRIDWATCH_TEST_KAFKA names an external broker: no secured listeners to test")
    return kafka_broker


def alerts_config(tmp_path: Path, kafka: dict[str, Any]) -> AlertsConfig:
    return AlertsConfig.model_validate({
        "outbox": {"path": str(tmp_path / "outbox.sqlite3")},
        "kafka": kafka,
        "evidence": {"enabled": False},
        "dedup": {"enabled": False},
    })


@pytest.mark.parametrize("name", SECURED)
def test_relay_publishes_and_tail_reads_over_the_secured_listener(
    tmp_path: Path, broker: KafkaBroker, name: str
) -> None:
    listener = broker.listener(name)
    topic = broker.new_topic(f"gw-{name.lower()}", partitions=3)
    rt = AlertsRuntime(alerts_config(tmp_path, {**listener.kafka, "topic": topic}), node_id="n",
                       config_version="v")
    rt.start()
    ids = produce(rt, 30)
    assert rt.relay is not None and rt.relay.drain(60.0), rt.relay.stats.last_error
    assert rt.relay.stats.published["acked"] == 30 and rt.relay.stats.producer_failures == 0
    assert rt.stop(10.0)

    msgs = read_topic(listener.bootstrap, topic, expect=30, timeout_s=60, settings=listener.librdkafka)
    assert len(msgs) == 30
    check_topic(msgs, tmp_path / "outbox.sqlite3", ids)

    tailed = list(tail_topic(KafkaConfig.model_validate({**listener.kafka, "topic": topic}),
                             from_beginning=True, max_messages=30, timeout_s=30))
    assert {m.alert_id for m in tailed} == set(ids)


def bad_settings(broker: KafkaBroker, tmp_path: Path) -> dict[str, tuple[Listener, dict[str, Any], list[str]]]:
    """case -> (listener, gridwatch Kafka settings, what the error must say)."""
    sasl, mtls = broker.listener("SASL_SSL"), broker.listener("MTLS")
    cert, key = expired_client_certificate(broker.tls_dir, tmp_path / "expired")
    return {
        "wrong password": (sasl, {**sasl.kafka, "password": "not-the-password"},
                           ["SCRAM-SHA-512", "'gridwatch'", "wrong user name or password", "invalid credentials"]),
        "untrusted CA": (sasl, {**sasl.kafka, "ssl_cafile": str(untrusted_ca(tmp_path / "rogue"))},
                         ["certificate is not trusted", "ssl_cafile", "rogue-ca.pem"]),
        "expired client certificate": (mtls, {**mtls.kafka, "ssl_certfile": str(cert), "ssl_keyfile": str(key)},
                                       ["ssl_certfile", "expired.pem", "expired on 2020-02-01"]),
    }


def test_wrong_password_untrusted_ca_and_expired_certificate_are_named_with_their_listener(
    tmp_path: Path, broker: KafkaBroker
) -> None:
    topic = broker.new_topic("gw-badcreds", partitions=1)
    for case, (listener, settings, says) in bad_settings(broker, tmp_path).items():
        cfg = KafkaConfig.model_validate({**settings, "topic": topic, **FAST_FAIL})
        protocol = "SSL" if listener.name == "MTLS" else listener.name
        for what, attempt in (("relay", lambda c=cfg: kafka_producer(c)),
                              ("alerts tail", lambda c=cfg: next(tail_topic(c, timeout_s=1)))):
            with pytest.raises(PublishError) as err:
                attempt()
            message = str(err.value)
            assert f"kafka listener {protocol}://{listener.bootstrap}" in message, (case, what, message)
            for part in says:
                assert part in message, (case, what, part, message)
            assert "\n" not in message and "Traceback" not in message
            assert str(listener.kafka.get("password", "<none>")) not in message
            assert err.value.retryable, "fixing credentials and retrying must be able to help"


def test_the_broker_itself_refuses_the_expired_certificate(tmp_path: Path, broker: KafkaBroker,
                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    """Without the local expiry check the TLS layer still names the refusal: the broker enforces it."""
    mtls = broker.listener("MTLS")
    cert, key = expired_client_certificate(broker.tls_dir, tmp_path / "expired")
    cfg = KafkaConfig.model_validate({**mtls.kafka, "ssl_certfile": str(cert), "ssl_keyfile": str(key)})
    monkeypatch.setattr("alerts.kafka_probe.certificate_validity", lambda _path: None)
    problem = probe_server(cfg, mtls.bootstrap, 5.0)
    assert problem is not None and problem.layer is Layer.TLS
    assert "refused the client certificate" in problem.cause and str(cert) in problem.cause
    good = KafkaConfig.model_validate(mtls.kafka)
    assert probe_server(good, mtls.bootstrap, 5.0) is None


def test_alerts_wait_through_a_credential_outage_and_all_arrive_after_the_fix(
    tmp_path: Path, broker: KafkaBroker
) -> None:
    listener = broker.listener("SASL_SSL")
    topic = broker.new_topic("gw-credoutage", partitions=3)
    wrong = {**listener.kafka, "password": "rotated-away", "topic": topic, **FAST_FAIL,
             "retry_backoff_initial_s": 0.2, "retry_backoff_max_s": 1.0, "unreachable_red_after_s": 1.0}
    rt = AlertsRuntime(alerts_config(tmp_path, wrong), node_id="n", config_version="v")
    rt.start()
    assert rt.relay is not None
    during = produce(rt, 200)
    deadline = time.monotonic() + 30
    while rt.relay.stats.producer_failures < 2 and time.monotonic() < deadline:
        time.sleep(0.2)
    time.sleep(1.1)  # past unreachable_red_after_s
    health = rt.health()
    assert not health.ok and rt.outbox.depth() == 200 and rt.relay.stats.published["acked"] == 0
    assert f"SASL_SSL://{listener.bootstrap}" in health.reason and "wrong user name or password" in health.reason

    rt.reconfigure_kafka(KafkaConfig.model_validate({**wrong, "password": listener.kafka["password"]}))
    after = produce(rt, 50, start=200)
    assert rt.relay.drain(60.0), rt.relay.stats.last_error
    assert rt.health().ok
    assert rt.stop(10.0)
    msgs = read_topic(listener.bootstrap, topic, expect=250, timeout_s=60, settings=listener.librdkafka)
    check_topic(msgs, tmp_path / "outbox.sqlite3", during + after)
    delivered = len({m["headers"]["alert_id"] for m in msgs})  # type: ignore[index]
    print(f"credential outage: {delivered} of {len(during) + len(after)} alerts delivered "
          f"({len(during)} written during the outage)")
    assert delivered == 250
