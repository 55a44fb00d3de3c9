"""Unit tests of the Kafka connection probe and of reconnecting with new settings, without a broker:
a fake Kafka responder on a socket pair for the wire framing, fake producers for the relay, and config
pairs for the reload plan. The real broker's answers are covered by tests/alerts/test_kafka_security.py."""

from __future__ import annotations

import socket
import struct
import threading
import time
from pathlib import Path

import pytest

from alerts.kafka_config import KafkaConfig
from alerts.kafka_probe import Layer, check_client_files, probe_server
from alerts.kafka_settings import listener_name, security_settings, split_server
from alerts.kafka_wire import KafkaWire, WireError
from alerts.relay import KafkaRelay
from gridwatch.config import load_config_text
from gridwatch.reload import _only_kafka_connection_changed
from tests.alerts.test_relay_unit import FakeProducer, fill, kafka_cfg
from tests.infra.ports import free_port


class FakeKafkaResponder:
    """A fake broker end: reads one size-prefixed request and answers with the given body bytes."""

    def __init__(self, answer: bytes, raw: bool = False) -> None:
        self.client, self.server = socket.socketpair()
        self.answer, self.raw = answer, raw
        self.request: bytes = b""
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self) -> None:
        (size,) = struct.unpack(">i", self.server.recv(4))
        self.request = self.server.recv(size)
        (correlation,) = struct.unpack_from(">i", self.request, 4)
        body = self.answer if self.raw else struct.pack(">i", correlation) + self.answer
        self.server.sendall(body if self.raw else struct.pack(">i", len(body)) + body)


def _string(text: str) -> bytes:
    return struct.pack(">h", len(text)) + text.encode()


def test_sasl_handshake_lists_the_mechanisms_the_listener_offers() -> None:
    fake = FakeKafkaResponder(struct.pack(">h", 33) + struct.pack(">i", 2) + _string("PLAIN") + _string("GSSAPI"))
    answer = KafkaWire(fake.client, "probe").sasl_handshake("SCRAM-SHA-512")
    fake.thread.join(2)
    assert answer.error_code == 33 and answer.mechanisms == ("PLAIN", "GSSAPI")
    api_key, version = struct.unpack_from(">hh", fake.request)
    assert (api_key, version) == (17, 1) and fake.request.endswith(_string("SCRAM-SHA-512"))


def test_sasl_authenticate_returns_the_broker_message() -> None:
    fake = FakeKafkaResponder(struct.pack(">h", 58) + _string("invalid credentials") + struct.pack(">i", 0))
    answer = KafkaWire(fake.client, "probe").sasl_authenticate(b"n,,n=u,r=abc")
    assert (answer.error_code, answer.error_message) == (58, "invalid credentials")


def test_a_tls_answer_to_a_plaintext_request_is_named() -> None:
    fake = FakeKafkaResponder(bytes([0x15, 0x03, 0x03, 0x00, 0x02, 0x02, 0x46]), raw=True)
    with pytest.raises(WireError, match="answered with TLS"):
        KafkaWire(fake.client, "probe").api_versions()


def test_a_closed_connection_is_a_wire_error() -> None:
    client, server = socket.socketpair()

    def read_then_close() -> None:  # a broker dropping a request it does not like
        server.recv(1024)
        server.close()

    threading.Thread(target=read_then_close, daemon=True).start()
    with pytest.raises(WireError, match="closed the connection"):
        KafkaWire(client, "probe").api_versions()


def test_missing_client_files_are_named_by_their_key(tmp_path: Path) -> None:
    cfg = KafkaConfig(security_protocol="SSL", ssl_cafile=tmp_path / "nope.pem")
    assert check_client_files(cfg) == f"ssl_cafile {tmp_path / 'nope.pem'} cannot be read"
    problem = probe_server(cfg, "127.0.0.1:1", 1.0)
    assert problem is not None and problem.layer is Layer.FILES
    assert str(problem).startswith("kafka listener SSL://127.0.0.1:1: ssl_cafile")
    assert check_client_files(KafkaConfig()) is None  # PLAINTEXT reads no files


def test_nothing_listening_is_a_tcp_problem() -> None:
    port = free_port()
    problem = probe_server(KafkaConfig(bootstrap_servers=[f"127.0.0.1:{port}"]), f"127.0.0.1:{port}", 1.0)
    assert problem is not None and problem.layer is Layer.TCP and "refused" in problem.cause.lower()


def test_listener_names_and_settings_keep_the_password_out_of_names() -> None:
    cfg = KafkaConfig(bootstrap_servers=["kafka-0:9094"], security_protocol="SASL_SSL", sasl_mechanism="SCRAM-SHA-512",
                      username="gw", password="s3cret-canary")  # type: ignore[arg-type]
    assert listener_name(cfg, "kafka-0:9094") == "SASL_SSL://kafka-0:9094"
    assert split_server("kafka-0:9094") == ("kafka-0", 9094) and split_server("kafka-0") == ("kafka-0", 9092)
    settings = security_settings(cfg)
    assert settings["sasl_plain_password"] == "s3cret-canary" and settings["security_protocol"] == "SASL_SSL"
    assert "s3cret-canary" not in repr(cfg)


def test_relay_reconfigure_keeps_stats_and_sends_waiting_rows_with_the_new_settings(tmp_path: Path) -> None:
    ob = fill(tmp_path, ["A", "B", "A"])
    sent: list[tuple[bytes, str]] = []
    seen: list[KafkaConfig] = []

    def factory(cfg: KafkaConfig) -> FakeProducer:
        seen.append(cfg)
        if cfg.client_id == "wrong":
            from foundation.errors import PublishError

            raise PublishError("kafka listener SASL_SSL://x:1: SASL refused", retryable=True)
        return FakeProducer(sent)

    relay = KafkaRelay(ob, kafka_cfg(client_id="wrong"), producer_factory=factory)
    relay.start()
    deadline = time.monotonic() + 5
    while relay.stats.producer_failures < 2 and time.monotonic() < deadline:
        time.sleep(0.02)
    assert ob.depth() == 3 and "SASL refused" in relay.stats.last_error
    relay.reconfigure(kafka_cfg(client_id="fixed"))
    assert relay.drain(5.0)
    assert relay.stop(2.0)
    assert len(sent) == 3 and seen[-1].client_id == "fixed"
    assert relay.stats.producer_failures >= 2 and relay.stats.published["acked"] == 3  # same counters


BASE = """
service: {{reload_poll_s: 0, metrics: {{enabled: false}}}}
alerts:
  outbox: {{path: /tmp/x.sqlite3}}
  {kafka}
"""


def test_only_a_kafka_connection_change_reconnects_live() -> None:
    def loaded(kafka: str, extra: str = ""):  # type: ignore[no-untyped-def]
        return load_config_text(BASE.format(kafka=kafka) + extra)

    wrong = loaded("kafka: {bootstrap_servers: [k:9094], security_protocol: SASL_SSL, sasl_mechanism: SCRAM-SHA-512, "
                   "username: gw, password: wrong}")
    fixed = loaded("kafka: {bootstrap_servers: [k:9094], security_protocol: SASL_SSL, sasl_mechanism: SCRAM-SHA-512, "
                   "username: gw, password: right}")
    none = loaded("dedup: {enabled: false}")
    assert _only_kafka_connection_changed(wrong, fixed)
    assert not _only_kafka_connection_changed(wrong, none)  # removing Kafka needs a restart
    other = loaded("kafka: {bootstrap_servers: [k:9094], security_protocol: SASL_SSL, sasl_mechanism: SCRAM-SHA-512, "
                   "username: gw, password: right}\n  dedup: {enabled: false}")
    assert not _only_kafka_connection_changed(wrong, other)  # a dedup change too: restart
