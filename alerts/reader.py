"""What `gridwatch alerts list|tail|replay` call: read the outbox, follow the topic, re-send alerts.

Each function returns data; the CLI prints it. They open their own outbox connection, so they work
while the service runs (SQLite WAL lets readers and one writer share the file).
"""

from __future__ import annotations

import json
import threading
import time
from collections import Counter
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from kafka import KafkaConsumer, TopicPartition
from kafka.errors import KafkaError

from alerts.config import AlertsConfig, OutboxConfig
from alerts.grid import GridLevel
from alerts.kafka_config import KafkaConfig
from alerts.kafka_probe import connection_error
from alerts.kafka_producer import ProducerFactory, kafka_producer
from alerts.kafka_settings import security_settings
from alerts.outbox import Outbox
from alerts.outbox_rows import JsonMatch, OutboxRow
from alerts.relay import KafkaRelay
from foundation.errors import ConfigError


@dataclass(frozen=True)
class TopicMessage:
    """One message read from the alerts topic."""

    partition: int
    offset: int
    timestamp_ms: int
    key: str | None
    alert_id: str | None
    alert: dict[str, Any] | None
    raw: bytes


@dataclass(frozen=True)
class ReplayResult:
    """What a replay did: rows set back to pending, and how many were acknowledged before the timeout."""

    requeued: int
    sent: bool
    pending_left: int


def list_alerts(
    config: OutboxConfig,
    *,
    status: str | None = None,
    source: str | None = None,
    since_s: float | None = None,
    kind: str | None = None,
    areas: Mapping[GridLevel, str] | None = None,
    limit: int | None = 50,
) -> list[OutboxRow]:
    """Newest outbox rows first, optionally only one status (pending/sent/stored), source or kind, those
    created at or after since_s, and those in the given areas (each level matched by its id or its name,
    e.g. {GridLevel.COMMUNITY: "乙08社区"}). Alerts older than schema 1.1 have no levels: an area filter
    never selects them. limit None returns every matching row."""
    matches = [JsonMatch(("$.kind",), kind)] if kind is not None else []
    for level, value in (areas or {}).items():
        base = f"$.grid_levels.{GridLevel(level).value}"
        matches.append(JsonMatch((f"{base}.id", f"{base}.name"), value))
    outbox = Outbox(config)
    try:
        return outbox.rows(status=status, source=source, since_s=since_s, matches=matches, limit=limit)
    finally:
        outbox.close()


GroupBy = GridLevel | Literal["officer_team", "kind"]


@dataclass
class AlertGroup:
    """The alerts of one area (or officer team, or kind): how many, of which kinds, in how many incidents."""

    key: str
    """The area's id (or the team, or the kind); "-" for alerts without one."""
    name: str
    alerts: int = 0
    kinds: Counter[str] = field(default_factory=Counter)
    incidents: set[str] = field(default_factory=set)


def group_alerts(rows: Sequence[OutboxRow], by: GroupBy) -> list[AlertGroup]:
    """Rows grouped by a level's area (or officer team, or kind), largest group first."""
    groups: dict[str, AlertGroup] = {}
    for row in rows:
        alert = row.alert()
        key, name = _group_key(alert, by)
        group = groups.setdefault(key, AlertGroup(key, name))
        group.alerts += 1
        group.kinds[str(alert.get("kind", "?"))] += 1
        group.incidents.add(str(alert.get("incident_id", row.incident_id)))
    return sorted(groups.values(), key=lambda g: (-g.alerts, g.key))


def _group_key(alert: Mapping[str, Any], by: GroupBy) -> tuple[str, str]:
    if by == "kind":
        kind = str(alert.get("kind", "-"))
        return kind, kind
    if by == "officer_team":
        team = alert.get("officer_team")
        return (str(team), str(team)) if team else ("-", "(no officer team)")
    area = (alert.get("grid_levels") or {}).get(GridLevel(by).value) or {}
    if not area:
        return "-", f"(no {GridLevel(by).value})"
    return str(area.get("id", "-")), str(area.get("name", ""))


def tail_topic(
    config: KafkaConfig,
    *,
    from_beginning: bool = False,
    max_messages: int | None = None,
    timeout_s: float | None = None,
    stop: threading.Event | None = None,
) -> Iterator[TopicMessage]:
    """Follow the alerts topic (all partitions, no consumer group) until max_messages, timeout or stop."""
    try:
        consumer = KafkaConsumer(**security_settings(config), group_id=None, enable_auto_commit=False)
    except (KafkaError, OSError) as exc:
        raise connection_error(config, "alerts tail", exc) from exc
    try:
        partitions = consumer.partitions_for_topic(config.topic)
        if not partitions:
            raise ConfigError(f"kafka topic {config.topic!r} does not exist")
        tps = [TopicPartition(config.topic, p) for p in sorted(partitions)]
        consumer.assign(tps)
        if from_beginning:
            consumer.seek_to_beginning(*tps)
        else:
            consumer.seek_to_end(*tps)
        deadline = time.monotonic() + timeout_s if timeout_s is not None else float("inf")
        n = 0
        while time.monotonic() < deadline and not (stop is not None and stop.is_set()):
            batch = consumer.poll(timeout_ms=200)
            for records in batch.values():
                for rec in records:
                    yield _message(rec)
                    n += 1
                    if max_messages is not None and n >= max_messages:
                        return
    finally:
        consumer.close()


def _message(rec: Any) -> TopicMessage:
    headers = dict(rec.headers or [])
    raw: bytes = rec.value or b""
    try:
        alert = json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        alert = None
    header_id = headers.get("alert_id")
    return TopicMessage(
        partition=int(rec.partition),
        offset=int(rec.offset),
        timestamp_ms=int(rec.timestamp),
        key=rec.key.decode("utf-8", "replace") if rec.key is not None else None,
        alert_id=header_id.decode("ascii", "replace") if header_id is not None else None,
        alert=alert if isinstance(alert, dict) else None,
        raw=raw,
    )


def replay(
    config: AlertsConfig,
    *,
    alert_ids: Sequence[str] | None = None,
    since_s: float | None = None,
    until_s: float | None = None,
    source: str | None = None,
    limit: int | None = None,
    send: bool = True,
    timeout_s: float = 60.0,
    producer_factory: ProducerFactory = kafka_producer,
) -> ReplayResult:
    """Re-send alerts (same alert_id, so consumers drop what they already have).

    Selected rows go back to `pending`. With `send`, a relay runs here until they are acknowledged or
    `timeout_s` passes; without it the service's relay sends them. A running service relay may then send
    some rows twice: duplicates of one alert_id, which consumers already handle.
    """
    if config.kafka is None:
        raise ConfigError("alerts.kafka is not configured: the outbox is the destination, nothing to re-send")
    outbox = Outbox(config.outbox)
    try:
        n = outbox.requeue(alert_ids=alert_ids, since_s=since_s, until_s=until_s, source=source, limit=limit)
        if not send or n == 0:
            return ReplayResult(n, False, outbox.depth())
        relay = KafkaRelay(outbox, config.kafka, producer_factory=producer_factory)
        relay.start()
        relay.drain(timeout_s)
        relay.stop(deadline_s=5.0)
        return ReplayResult(n, outbox.depth() == 0, outbox.depth())
    finally:
        outbox.close()
