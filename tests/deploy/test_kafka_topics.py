"""deploy/kafka/topics.sh: argument checks without a broker, then the recipe against the real dev broker."""

from __future__ import annotations

import os
import subprocess
import uuid
from typing import Any

import pytest

from tests.deploy.deploycheck import DEPLOY
from tests.infra.kafka import KafkaBroker

SCRIPT = DEPLOY / "kafka" / "topics.sh"


def run(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    base = {k: v for k, v in os.environ.items()
            if not k.startswith(("GRIDWATCH_TOPIC_", "GRIDWATCH_ALERTS_TOPIC", "GRIDWATCH_KAFKA_"))
            and k not in ("KAFKA_TOPICS_CMD", "KAFKA_HOME")}
    return subprocess.run([str(SCRIPT), *args], check=False, capture_output=True, text=True, timeout=120,
                          env={**base, **env})


def topic_state(bootstrap: str, topic: str) -> tuple[int, set[int], dict[str, str]]:
    """(partitions, replication factors, topic configs) as an independent client (librdkafka) sees them."""
    from confluent_kafka.admin import AdminClient
    from confluent_kafka.admin._config import ConfigResource
    from confluent_kafka.admin._resource import ResourceType

    admin = AdminClient({"bootstrap.servers": bootstrap})
    meta = admin.list_topics(topic, timeout=15).topics[topic]
    assert meta.error is None, meta.error
    replication = {len(p.replicas) for p in meta.partitions.values()}
    futures = admin.describe_configs([ConfigResource(ResourceType.TOPIC, topic)])
    entries: dict[str, Any] = next(iter(futures.values())).result(timeout=15)
    return len(meta.partitions), replication, {name: str(e.value) for name, e in entries.items()}


def test_argument_errors_exit_2_without_a_broker() -> None:
    assert run().returncode == 2  # no bootstrap server
    out = run("--bootstrap-server", "127.0.0.1:1", "--replication-factor", "1", "--min-insync-replicas", "2")
    assert out.returncode == 2 and "above the replication factor" in out.stderr
    assert run("--bootstrap-server", "127.0.0.1:1", "--partitions", "0").returncode == 2
    assert run("--bootstrap-server", "127.0.0.1:1", "--topic", "bad topic").returncode == 2
    assert run("--bootstrap-server", "127.0.0.1:1", "--bogus").returncode == 2


def test_dry_run_defaults_to_production_settings_and_takes_overrides_from_the_environment() -> None:
    prod = run("--bootstrap-server", "kafka:9093", "--dry-run")
    assert prod.returncode == 0, prod.stderr
    for part in ("--create", "--if-not-exists", "--topic gridwatch.alerts", "--partitions 12",
                 "--replication-factor 3", "min.insync.replicas=2", "cleanup.policy=delete",
                 "retention.ms=604800000", "unclean.leader.election.enable=false"):
        assert part in prod.stdout, part
    dev = run("--dry-run", GRIDWATCH_KAFKA_BOOTSTRAP="127.0.0.1:9092", GRIDWATCH_TOPIC_REPLICATION="1")
    assert dev.returncode == 0, dev.stderr
    assert "--replication-factor 1" in dev.stdout and "min.insync.replicas=1" in dev.stdout
    assert "development only" in dev.stderr


@pytest.mark.integration
def test_creates_the_topic_on_a_real_broker_and_checks_it_again(kafka_broker: KafkaBroker) -> None:
    topic = f"gw-alerts-{uuid.uuid4().hex[:8]}"
    args = ("--bootstrap-server", kafka_broker.bootstrap, "--topic", topic)
    first = run(*args, GRIDWATCH_TOPIC_REPLICATION="1")
    assert first.returncode == 0, first.stderr
    assert first.stdout.strip() == topic

    partitions, replication, configs = topic_state(kafka_broker.bootstrap, topic)
    assert partitions == 12 and replication == {1}
    assert configs["cleanup.policy"] == "delete"
    assert configs["min.insync.replicas"] == "1"
    assert configs["retention.ms"] == "604800000"
    assert configs["unclean.leader.election.enable"] == "false"

    again = run(*args, "--replication-factor", "1")
    assert again.returncode == 0, again.stderr  # idempotent

    differs = run(*args, "--replication-factor", "1", "--partitions", "6", "--retention-ms", "86400000")
    assert differs.returncode == 1
    assert "partitions: 12, recipe 6" in differs.stderr
    assert "retention.ms" in differs.stderr and "--add-config retention.ms=86400000" in differs.stderr
    assert topic_state(kafka_broker.bootstrap, topic)[0] == 12, "never changes the partition count"


@pytest.mark.integration
def test_replication_3_is_refused_by_a_single_broker(kafka_broker: KafkaBroker) -> None:
    topic = f"gw-alerts-{uuid.uuid4().hex[:8]}"
    out = run("--bootstrap-server", kafka_broker.bootstrap, "--topic", topic)
    assert out.returncode == 1
    assert "replication factor" in out.stderr.lower()
