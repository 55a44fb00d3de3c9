"""A real Apache Kafka broker (KRaft, single node) for tests, or an external one named by env.

GRIDWATCH_TEST_KAFKA=host:port points the tests at an existing broker; otherwise the broker is started
from Maven Central jars by deploy/kafka/kafka-dev.sh in a temporary directory on a free port. The
broker can be stopped and started again on the same port and data, for outage tests.

A broker started here also has two secured listeners (unless `secure=False`): SASL_SSL with
SCRAM-SHA-512 and mutual TLS (`MTLS`, protocol SSL with client certificates required), whose
certificates and SCRAM user deploy/kafka/dev-tls.sh makes in `<workdir>/tls`. `listener(name)` gives the
settings for gridwatch, for the independent reader (librdkafka) and for the Kafka CLI.
"""

from __future__ import annotations

import os
import subprocess
import time
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tests.infra.ports import free_port

REPO = Path(__file__).resolve().parents[2]
SCRIPT = REPO / "deploy" / "kafka" / "kafka-dev.sh"


@dataclass(frozen=True)
class Listener:
    """One listener of the test broker and how each kind of client reaches it."""

    name: str
    bootstrap: str
    kafka: dict[str, Any]
    """gridwatch `alerts.kafka` keys (no topic)."""
    librdkafka: dict[str, str]
    """The independent reader's (confluent-kafka) settings."""
    java_properties: str
    """Client properties for the Kafka CLI (`--command-config`)."""


class KafkaBroker:
    def __init__(self, workdir: Path, secure: bool = True) -> None:
        self.external = os.environ.get("GRIDWATCH_TEST_KAFKA")
        self.workdir = workdir
        self.port = free_port()
        self.bootstrap = self.external or f"127.0.0.1:{self.port}"
        self.secure = secure and self.external is None
        self.sasl_ssl_port = free_port() if self.secure else 0
        self.mtls_port = free_port() if self.secure else 0

    @property
    def tls_dir(self) -> Path:
        """Certificates, keys and the SCRAM user of the secured listeners (deploy/kafka/dev-tls.sh)."""
        return self.workdir / "tls"

    def listener(self, name: str) -> Listener:
        """`PLAINTEXT`, `SASL_SSL` (SCRAM-SHA-512 over TLS) or `MTLS` (TLS with a client certificate)."""
        if name == "PLAINTEXT":
            return Listener(name, self.bootstrap, {"bootstrap_servers": self.bootstrap},
                            {"bootstrap.servers": self.bootstrap}, "")
        if not self.secure:
            raise RuntimeError("this broker has no secured listeners (external or secure=False)")
        tls = self.tls_dir
        store_pw = (tls / "store.password").read_text().strip()
        ca = str(tls / "ca.pem")
        if name == "SASL_SSL":
            bootstrap = f"127.0.0.1:{self.sasl_ssl_port}"
            user = (tls / "scram-user").read_text().strip()
            password = (tls / "scram.password").read_text().strip()
            return Listener(
                name, bootstrap,
                {"bootstrap_servers": bootstrap, "security_protocol": "SASL_SSL",
                 "sasl_mechanism": "SCRAM-SHA-512", "username": user, "password": password, "ssl_cafile": ca},
                {"bootstrap.servers": bootstrap, "security.protocol": "SASL_SSL",
                 "sasl.mechanism": "SCRAM-SHA-512", "sasl.username": user, "sasl.password": password,
                 "ssl.ca.location": ca},
                "security.protocol=SASL_SSL\nsasl.mechanism=SCRAM-SHA-512\n"
                "sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required "
                f'username="{user}" password="{password}";\n'
                f"ssl.truststore.type=PEM\nssl.truststore.location={ca}\n",
            )
        if name == "MTLS":
            bootstrap = f"127.0.0.1:{self.mtls_port}"
            cert, key = str(tls / "client.pem"), str(tls / "client.key")
            return Listener(
                name, bootstrap,
                {"bootstrap_servers": bootstrap, "security_protocol": "SSL", "ssl_cafile": ca,
                 "ssl_certfile": cert, "ssl_keyfile": key},
                {"bootstrap.servers": bootstrap, "security.protocol": "SSL", "ssl.ca.location": ca,
                 "ssl.certificate.location": cert, "ssl.key.location": key},
                f"security.protocol=SSL\nssl.truststore.type=PEM\nssl.truststore.location={ca}\n"
                f"ssl.keystore.type=PKCS12\nssl.keystore.location={tls / 'client.p12'}\n"
                f"ssl.keystore.password={store_pw}\n",
            )
        raise ValueError(f"unknown listener {name}")

    @property
    def controllable(self) -> bool:
        """Whether this broker was started here and can be stopped and restarted by tests."""
        return self.external is None

    def start(self) -> KafkaBroker:
        if self.external:
            return self
        secured = ["--sasl-ssl-port", str(self.sasl_ssl_port), "--mtls-port", str(self.mtls_port)] \
            if self.secure else []
        subprocess.run([str(SCRIPT), "start", str(self.workdir), str(self.port), *secured], check=True,
                       stdout=subprocess.DEVNULL, timeout=180)
        self.wait_ready()
        return self

    def stop(self) -> None:
        if not self.external:
            subprocess.run([str(SCRIPT), "stop", str(self.workdir)], check=False, timeout=60)

    def kill(self) -> None:
        """SIGKILL the broker (a crash, not a clean stop)."""
        if self.external:
            raise RuntimeError("cannot kill an external broker")
        pid = int((self.workdir / "broker.pid").read_text())
        os.kill(pid, 9)

    def wait_ready(self, timeout_s: float = 60) -> None:
        """Wait until the broker answers metadata requests and can create topics."""
        from kafka import KafkaAdminClient

        deadline = time.monotonic() + timeout_s
        last: Exception | None = None
        while time.monotonic() < deadline:
            try:
                admin = KafkaAdminClient(bootstrap_servers=self.bootstrap, request_timeout_ms=5000)
                admin.list_topics()
                admin.close()
                return
            except Exception as exc:  # noqa: BLE001 - any failure means "not ready yet"
                last = exc
                time.sleep(0.5)
        raise RuntimeError(f"Kafka broker at {self.bootstrap} not ready: {last}")

    def new_topic(self, prefix: str = "gw-test", partitions: int = 3) -> str:
        from kafka import KafkaAdminClient
        from kafka.admin import NewTopic

        name = f"{prefix}-{uuid.uuid4().hex[:8]}"
        admin = KafkaAdminClient(bootstrap_servers=self.bootstrap, request_timeout_ms=10000)
        try:
            admin.create_topics([NewTopic(name, num_partitions=partitions, replication_factor=1)])
        finally:
            admin.close()
        return name


def read_topic(bootstrap: str, topic: str, expect: int, timeout_s: float = 30.0,
               settings: Mapping[str, str] | None = None) -> list[dict[str, object]]:
    """Read a topic from the beginning with an independent client (confluent-kafka / librdkafka).

    Returns dicts with key, value (bytes), headers, partition, offset; stops at `expect` messages or
    at the timeout. `settings` (a `Listener.librdkafka`) reads through a secured listener.
    """
    from confluent_kafka import Consumer

    consumer = Consumer({
        "bootstrap.servers": bootstrap,
        **(settings or {}),
        "group.id": f"gw-reader-{uuid.uuid4().hex[:8]}",
        "auto.offset.reset": "earliest",
        "enable.auto.commit": False,
    })
    out: list[dict[str, object]] = []
    try:
        consumer.subscribe([topic])
        deadline = time.monotonic() + timeout_s
        while len(out) < expect and time.monotonic() < deadline:
            msg = consumer.poll(0.5)
            if msg is None or msg.error():
                continue
            out.append({
                "key": msg.key(),
                "value": msg.value(),
                "headers": dict(msg.headers() or []),
                "partition": msg.partition(),
                "offset": msg.offset(),
            })
    finally:
        consumer.close()
    return out
