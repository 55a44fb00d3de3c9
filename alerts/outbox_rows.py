"""The outbox's table: its SQLite schema, the row types read from it and the query behind `alerts list`.

`alerts.outbox.Outbox` owns the database; this module holds what readers of its rows (the relay, the reader,
the CLI) need without the store itself.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from foundation.errors import PublishError

PENDING = "pending"
SENT = "sent"
STORED = "stored"
STATUSES = (PENDING, SENT, STORED)
FILE_VERSION = 1

ALERTS_DDL = """
CREATE TABLE IF NOT EXISTS alerts (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    alert_id TEXT NOT NULL UNIQUE,
    source TEXT NOT NULL,
    kind TEXT NOT NULL,
    phase TEXT NOT NULL,
    incident_id TEXT NOT NULL,
    status TEXT NOT NULL,
    created_at REAL NOT NULL,
    trigger_captured_at REAL NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    last_error TEXT,
    sent_at REAL,
    kafka_partition INTEGER,
    kafka_offset INTEGER,
    payload BLOB NOT NULL
);
CREATE INDEX IF NOT EXISTS alerts_status_seq ON alerts(status, seq);
"""


class OutboxFullError(PublishError):
    """The outbox holds `max_rows` unsent alerts; the new alert was not accepted (retry after the relay
    catches up)."""

    retryable = True


@dataclass(frozen=True)
class OutboxRow:
    """One outbox row; `payload` is the exact JSON published."""

    seq: int
    alert_id: str
    source: str
    kind: str
    phase: str
    incident_id: str
    status: str
    created_at: float
    trigger_captured_at: float
    attempts: int
    last_error: str | None
    sent_at: float | None
    kafka_partition: int | None
    kafka_offset: int | None
    payload: bytes

    def alert(self) -> dict[str, Any]:
        """The alert as a JSON object."""
        data: dict[str, Any] = json.loads(self.payload)
        return data


@dataclass(frozen=True)
class JsonMatch:
    """Selects rows whose alert JSON holds `value` at any of `paths` (SQLite JSON paths, e.g.
    `$.grid_levels.community.id`)."""

    paths: tuple[str, ...]
    value: str


@dataclass(frozen=True)
class Ack:
    """A broker acknowledgement for one row."""

    seq: int
    partition: int
    offset: int
    acked_at: float


@dataclass(frozen=True)
class OutboxStats:
    """Snapshot for the metrics registry (gauges and counters; no labels needed)."""

    pending: int
    total: int
    max_rows: int
    high_water_rows: int
    over_high_water: bool
    oldest_pending_age_s: float
    inserted: int
    duplicates: int
    rejected_full: int
    evicted: int
    marked_sent: int
    pruned: int


@dataclass(frozen=True)
class OutboxHealth:
    """Red when unsent rows reach the high-water mark; `reason` says why in words."""

    ok: bool
    pending: int
    high_water_rows: int
    max_rows: int
    reason: str


COLUMNS = (
    "seq, alert_id, source, kind, phase, incident_id, status, created_at, trigger_captured_at, attempts, "
    "last_error, sent_at, kafka_partition, kafka_offset, payload"
)


def list_query(
    *,
    status: str | None,
    source: str | None,
    since_s: float | None,
    matches: Sequence[JsonMatch],
    limit: int | None,
    newest_first: bool,
) -> tuple[str, list[Any]]:
    """SQL and bound values selecting rows for `gridwatch alerts list` (see `Outbox.rows`)."""
    if status is not None and status not in STATUSES:
        raise ValueError(f"status must be one of {STATUSES}, got {status!r}")
    where: list[str] = []
    args: list[Any] = []
    if status is not None:
        where.append("status = ?")
        args.append(status)
    if source is not None:
        where.append("source = ?")
        args.append(source)
    if since_s is not None:
        where.append("created_at >= ?")
        args.append(since_s)
    for m in matches:
        if not m.paths:
            raise ValueError("a JsonMatch needs at least one path")
        where.append("(" + " OR ".join(["json_extract(CAST(payload AS TEXT), ?) = ?"] * len(m.paths)) + ")")
        for path in m.paths:
            args += [path, m.value]
    sql = f"SELECT {COLUMNS} FROM alerts"  # noqa: S608 - fixed fragments, values bound
    if where:
        sql += " WHERE " + " AND ".join(where)
    sql += f" ORDER BY seq {'DESC' if newest_first else 'ASC'} LIMIT ?"
    return sql, [*args, -1 if limit is None else int(limit)]
