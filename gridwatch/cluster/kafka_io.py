"""kafka-python settings for the cluster's clients, built in one place from the `cluster:` section.

The connection (brokers, TLS, SASL) is `cluster.kafka`, or the alerts relay's `alerts.kafka` when the
cluster section names none, through the same `security_settings` the relay uses, so a district
configures its brokers once. Topics are never created implicitly (`allow_auto_create_topics` off): a
registry created by accident would not be compacted; `deploy/kafka/cluster-topics.sh` creates them.
The returned dicts may contain secrets: never log them.
"""

from __future__ import annotations

import re
from typing import Any

from alerts.kafka_config import KafkaConfig
from alerts.kafka_settings import security_settings
from foundation.errors import ConfigError
from gridwatch.cluster.config import ClusterConfig

_CLIENT_ID_UNSAFE = re.compile(r"[^A-Za-z0-9._-]")


def connection(cluster: ClusterConfig, alerts_kafka: KafkaConfig | None, source: str) -> KafkaConfig:
    """The Kafka connection the cluster uses; ConfigError when neither section names one."""
    if cluster.kafka is not None:
        return cluster.kafka
    if alerts_kafka is not None:
        return alerts_kafka
    raise ConfigError(f"{source}: cluster mode needs brokers: set `cluster.kafka.bootstrap_servers` "
                      "(or `alerts.kafka`)")


def client_id(role: str, node_id: str) -> str:
    """A client id brokers show in their logs and quotas: `gridwatch-<role>-<node>`."""
    return f"gridwatch-{role}-{_CLIENT_ID_UNSAFE.sub('_', node_id)}"[:200]


def group_consumer_settings(cluster: ClusterConfig, kafka: KafkaConfig, node_id: str,
                            assignor: object) -> dict[str, Any]:
    """The group member on the assignment topic: membership only, no offsets, no records expected."""
    return {
        **security_settings(kafka),
        "client_id": client_id("node", node_id),
        "group_id": cluster.group_id,
        "enable_auto_commit": False,
        "auto_offset_reset": "latest",
        "allow_auto_create_topics": False,
        "session_timeout_ms": round(cluster.session_timeout_s * 1000),
        "heartbeat_interval_ms": round(cluster.heartbeat_interval_s * 1000),
        "max_poll_interval_ms": round(cluster.rebalance_timeout_s * 1000),
        "partition_assignment_strategy": [assignor],
    }


def registry_consumer_settings(kafka: KafkaConfig, node_id: str) -> dict[str, Any]:
    """A group-less reader of the registry: every partition from the beginning, nothing committed."""
    return {
        **security_settings(kafka),
        "client_id": client_id("registry", node_id),
        "group_id": None,
        "enable_auto_commit": False,
        "auto_offset_reset": "earliest",
        "allow_auto_create_topics": False,
    }


def producer_settings(kafka: KafkaConfig) -> dict[str, Any]:
    """The registry writer of `cameras sync`: every record acknowledged by all in-sync replicas."""
    return {
        **security_settings(kafka),
        "client_id": client_id("sync", "cli"),
        "acks": "all",
        "linger_ms": 5,
    }


def admin_settings(kafka: KafkaConfig) -> dict[str, Any]:
    """`cluster status`: describe the group and the topics."""
    return {**security_settings(kafka), "client_id": client_id("status", "cli")}
