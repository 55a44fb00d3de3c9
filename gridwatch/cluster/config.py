"""The `cluster:` section: where the registry and assignment topics are, and what this node can take.

Timeouts are in seconds here and converted to the client's milliseconds in one place (`kafka_io`). The
session timeout is the failover time budget: a node that dies keeps its cameras dark for about this long
before the group gives them to the others, so it is kept short (10 s by default) but above the broker's
`group.min.session.timeout.ms` (6 s by default).
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from alerts.kafka_config import KafkaConfig, check_topic_name


class CapacityConfig(BaseModel):
    """What this node advertises to the group; the assignor never gives it more than this."""

    model_config = ConfigDict(extra="forbid")

    max_cameras: int = Field(
        default=200, ge=0, le=100_000,
        description="Most cameras this node runs (decode and GPU budget). Buckets that would push it over go "
        "to other nodes, or stay unassigned (and are reported) when every node is full.",
    )
    gpu_slots: int = Field(
        default=1, ge=1, le=64,
        description="This node's share of the work relative to the others: cameras are spread in proportion "
        "to slots (a node with two GPUs: 2; a CPU-only node: 1).",
    )


class ClusterConfig(BaseModel):
    """Cluster mode (`gridwatch run --cluster`, `gridwatch cameras sync`, `gridwatch cluster status`)."""

    model_config = ConfigDict(extra="forbid")

    kafka: KafkaConfig | None = Field(
        default=None,
        description="Brokers and TLS/SASL for the cluster topics (only the connection fields are used); "
        "default: the connection of `alerts.kafka`.",
    )
    group_id: str = Field(
        default="gridwatch-video", min_length=1, max_length=249,
        description="Consumer group every video node of the district joins.",
    )
    registry_topic: str = Field(
        default="gridwatch.cameras",
        description="Compacted topic holding every camera's definition (key = camera id; empty value = removed).",
    )
    assignment_topic: str = Field(
        default="gridwatch.buckets",
        description="Topic whose partitions are the camera buckets; nothing is written to it, the group only "
        "shares its partitions. Its partition count is the bucket count: do not change it while nodes run.",
    )
    capacity: CapacityConfig = Field(default_factory=CapacityConfig, description="What this node can take.")
    session_timeout_s: float = Field(
        default=10.0, ge=1.0, le=300.0,
        description="A node silent for this long loses its buckets to the others (the failover time); the "
        "broker only accepts values within its group.min/max.session.timeout.ms (6-1800 s by default).",
    )
    heartbeat_interval_s: float = Field(
        default=2.0, gt=0.0, le=60.0,
        description="How often the node tells the group it is alive; at most a third of the session timeout.",
    )
    rebalance_timeout_s: float = Field(
        default=30.0, ge=2.0, le=600.0,
        description="How long a rebalance waits for every node to rejoin (the client's max.poll.interval.ms).",
    )
    revoke_wait_s: float = Field(
        default=4.0, gt=0.0, le=60.0,
        description="How long a rebalance waits for this node to stop the cameras of buckets it gives up "
        "before letting another node start them. It blocks this node's heartbeats, so it must stay below "
        "half the session timeout.",
    )
    registry_load_timeout_s: float = Field(
        default=60.0, gt=0.0, le=3600.0,
        description="How long a starting node reads the registry before joining the group anyway.",
    )
    rejoin_min_interval_s: float = Field(
        default=30.0, ge=1.0, le=3600.0,
        description="Least time between the rebalances a node asks for itself (when the registry outgrew its "
        "capacity or left buckets unassigned).",
    )

    @field_validator("registry_topic", "assignment_topic")
    @classmethod
    def _check_topic(cls, value: str) -> str:
        return check_topic_name(value)

    @model_validator(mode="after")
    def _check(self) -> ClusterConfig:
        if self.registry_topic == self.assignment_topic:
            raise ValueError("registry_topic and assignment_topic must be different topics")
        if self.heartbeat_interval_s > self.session_timeout_s / 3:
            raise ValueError("heartbeat_interval_s must be at most a third of session_timeout_s")
        if self.revoke_wait_s >= self.session_timeout_s / 2:
            raise ValueError("revoke_wait_s must stay below half of session_timeout_s (it blocks heartbeats)")
        if self.rebalance_timeout_s < self.session_timeout_s:
            raise ValueError("rebalance_timeout_s must be at least session_timeout_s")
        return self
