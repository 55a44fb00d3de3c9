"""Read the alerts a benchmark run published back from Kafka, with the broker's append time.

The broker stamps each record when it appends it (topic config `message.timestamp.type=LogAppendTime`),
which is when the producer's acknowledgement leaves; each alert carries `triggered_at` (capture time of
the frame that raised it) and `created_at` (when the alerts pipeline made it). So, per alert, on one
clock (the same machine): frame -> alert created, and frame -> broker ack. kafka-python is a runtime
dependency, so no extra client is needed.
"""

from __future__ import annotations

import json
import time
import uuid
from dataclasses import dataclass
from datetime import datetime

from kafka import KafkaAdminClient, KafkaConsumer
from kafka.admin import NewTopic

LOG_APPEND_TIME = 1
"""kafka-python's `timestamp_type` of a record stamped by the broker."""


@dataclass(frozen=True)
class ReadAlert:
    """What the latency figures need from one published alert."""

    source_id: str
    kind: str
    phase: str
    triggered_at: float
    created_at: float
    appended_at: float
    broker_stamped: bool

    @property
    def frame_to_created_s(self) -> float:
        return self.created_at - self.triggered_at

    @property
    def frame_to_ack_s(self) -> float:
        return self.appended_at - self.triggered_at


def create_topic(bootstrap: str, prefix: str = "gw-bench", partitions: int = 3) -> str:
    """A fresh topic whose records carry the broker's append time."""
    name = f"{prefix}-{uuid.uuid4().hex[:8]}"
    admin = KafkaAdminClient(bootstrap_servers=bootstrap, request_timeout_ms=20_000)
    try:
        admin.create_topics([NewTopic(name, num_partitions=partitions, replication_factor=1,
                                      topic_configs={"message.timestamp.type": "LogAppendTime"})])
    finally:
        admin.close()
    return name


def _epoch(text: str) -> float:
    return datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()


def read_alerts(bootstrap: str, topic: str, idle_s: float = 3.0, limit_s: float = 60.0) -> list[ReadAlert]:
    """Every alert on `topic`, from the beginning, until none arrived for `idle_s` (at most `limit_s`)."""
    consumer = KafkaConsumer(
        topic, bootstrap_servers=bootstrap, auto_offset_reset="earliest", enable_auto_commit=False,
        group_id=None, consumer_timeout_ms=int(idle_s * 1000),
    )
    out: list[ReadAlert] = []
    deadline = time.monotonic() + limit_s
    try:
        while time.monotonic() < deadline:
            got = 0
            for msg in consumer:
                got += 1
                body = json.loads(msg.value)
                out.append(ReadAlert(
                    source_id=str(body.get("source", msg.key.decode() if msg.key else "")),
                    kind=str(body.get("kind")),
                    phase=str(body.get("phase")),
                    triggered_at=_epoch(body["triggered_at"]),
                    created_at=_epoch(body["created_at"]),
                    appended_at=msg.timestamp / 1000.0,
                    broker_stamped=msg.timestamp_type == LOG_APPEND_TIME,
                ))
                if time.monotonic() >= deadline:
                    break
            if got == 0:
                break
    finally:
        consumer.close()
    return out
