"""A real Apache Kafka broker (KRaft, single node) for tests, or an external one named by env.

GRIDWATCH_TEST_KAFKA=host:port points the tests at an existing broker; otherwise the broker is started
from Maven Central jars by deploy/kafka/kafka-dev.sh in a temporary directory on a free port. The
broker can be stopped and started again on the same port and data, for outage tests.
"""

from __future__ import annotations

import os
import subprocess
import time
import uuid
from pathlib import Path

from tests.infra.ports import free_port

REPO = Path(__file__).resolve().parents[2]
SCRIPT = REPO / "deploy" / "kafka" / "kafka-dev.sh"


class KafkaBroker:
    def __init__(self, workdir: Path) -> None:
        self.external = os.environ.get("GRIDWATCH_TEST_KAFKA")
        self.workdir = workdir
        self.port = free_port()
        self.bootstrap = self.external or f"127.0.0.1:{self.port}"

    @property
    def controllable(self) -> bool:
        """Whether this broker was started here and can be stopped and restarted by tests."""
        return self.external is None

    def start(self) -> KafkaBroker:
        if self.external:
            return self
        subprocess.run([str(SCRIPT), "start", str(self.workdir), str(self.port)], check=True,
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


def read_topic(bootstrap: str, topic: str, expect: int, timeout_s: float = 30.0) -> list[dict[str, object]]:
    """Read a topic from the beginning with an independent client (confluent-kafka / librdkafka).

    Returns dicts with key, value (bytes), headers, partition, offset; stops at `expect` messages or
    at the timeout.
    """
    from confluent_kafka import Consumer

    consumer = Consumer({
        "bootstrap.servers": bootstrap,
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
