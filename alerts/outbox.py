"""The durable outbox: every alert is committed to SQLite (WAL, synchronous=FULL) before it is published.

Rows are `pending` until the broker acknowledges them (`sent`); with no Kafka configured the outbox is
the destination and rows are written `stored`. The relay reads pending rows in insertion order (`seq`),
which is also each source's order. Unsent rows survive crashes and are replayed at the next start.

Bounded, and never silently lossy:
- the capacity is `max_rows`; to make room, the oldest sent/stored rows are evicted (counted in
  `OutboxStats.evicted` and logged);
- when unsent rows alone fill it, `put()` raises `OutboxFullError` (a PublishError, retryable) and counts
  `rejected_full`: the caller learns the alert was not accepted;
- health turns red at `high_water_ratio * max_rows` unsent rows, well before that point.

The table's schema and row types live in `alerts.outbox_rows`. The same database keeps the incident records of
the deduper (alerts/incident_store.py), written in the same transaction as the alert, so dedup state and alerts
never disagree after a crash.
"""

from __future__ import annotations

import logging
import sqlite3
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any

from alerts.config import OutboxConfig
from alerts.dedup import IncidentRecord
from alerts.incident_store import INCIDENTS_DDL, delete_incidents_before, load_incidents, upsert_incident
from alerts.outbox_rows import (
    ALERTS_DDL,
    COLUMNS,
    FILE_VERSION,
    PENDING,
    SENT,
    STORED,
    Ack,
    JsonMatch,
    OutboxFullError,
    OutboxHealth,
    OutboxRow,
    OutboxStats,
    list_query,
)
from alerts.schema import Alert
from foundation.errors import ConfigError, PublishError

log = logging.getLogger(__name__)

class Outbox:
    """SQLite outbox shared by the pipeline (writes), the relay (reads, marks) and the CLI (list, requeue)."""

    def __init__(
        self, config: OutboxConfig, *, destination: bool = False, clock: Callable[[], float] = time.time
    ) -> None:
        self.config = config
        self.path = Path(config.path)
        self.destination = destination
        self._clock = clock
        self._lock = threading.RLock()
        self._new_rows = threading.Condition(self._lock)
        self.high_water_rows = max(1, int(config.max_rows * config.high_water_ratio))
        self._inserted = self._duplicates = self._rejected = self._evicted = self._marked = self._pruned = 0
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise ConfigError(f"alerts.outbox.path: cannot create the folder {self.path.parent}: "
                              f"{exc.strerror or exc}") from exc
        try:
            self._db = sqlite3.connect(
                str(self.path), timeout=config.busy_timeout_s, isolation_level=None, check_same_thread=False
            )
            mode = self._db.execute("PRAGMA journal_mode=WAL").fetchone()[0]
            if str(mode).lower() != "wal":
                raise ConfigError(f"outbox {self.path}: the file system does not support WAL (got {mode})")
            self._db.execute("PRAGMA synchronous=FULL")
            self._db.executescript(ALERTS_DDL + INCIDENTS_DDL)
            version = self._db.execute("PRAGMA user_version").fetchone()[0]
            if version == 0:
                self._db.execute(f"PRAGMA user_version={FILE_VERSION}")
            elif version != FILE_VERSION:
                raise ConfigError(
                    f"outbox {self.path}: file format {version}, this version reads {FILE_VERSION}"
                )
        except sqlite3.Error as exc:
            raise ConfigError(f"alerts.outbox.path: cannot open the SQLite outbox {self.path}: {exc}") from exc
        self._pending = 0
        self._total = 0
        self.refresh_counts()

    # -- writing ------------------------------------------------------------------------------------

    def put(self, alert: Alert, *, trigger_captured_at: float, incident: IncidentRecord | None = None) -> int:
        """Commit one alert (and its incident record) durably; returns its seq. Idempotent per alert_id.

        Raises OutboxFullError when unsent rows fill the outbox (see the module docstring).
        """
        status = STORED if self.destination else PENDING
        payload = alert.to_json_bytes()
        with self._lock:
            if not self.destination and self._pending >= self.config.max_rows:
                self._rejected += 1
                log.error(
                    "outbox %s full: %d unsent alerts; camera %s alert %s refused",
                    self.path,
                    self._pending,
                    alert.source,
                    alert.alert_id,
                )
                raise OutboxFullError(
                    f"outbox {self.path} holds {self._pending} unsent alerts "
                    f"(max_rows {self.config.max_rows}); "
                    f"alert {alert.alert_id} of camera {alert.source} was not accepted"
                )
            try:
                self._db.execute("BEGIN IMMEDIATE")
                try:
                    if self._total >= self.config.max_rows:
                        self._evict_locked()
                    cur = self._db.execute(
                        "INSERT OR IGNORE INTO alerts (alert_id, source, kind, phase, incident_id, status, "
                        "created_at, trigger_captured_at, payload) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                        (
                            alert.alert_id,
                            alert.source,
                            alert.kind.value,
                            alert.phase.value,
                            alert.incident_id,
                            status,
                            alert.created_at.timestamp(),
                            trigger_captured_at,
                            payload,
                        ),
                    )
                    inserted = cur.rowcount == 1
                    if incident is not None:
                        upsert_incident(self._db, incident)
                    self._db.execute("COMMIT")
                except BaseException:
                    self._db.execute("ROLLBACK")
                    raise
            except sqlite3.Error as exc:
                raise PublishError(f"outbox {self.path}: cannot write alert {alert.alert_id}: {exc}") from exc
            if not inserted:
                self._duplicates += 1
                row = self._db.execute(
                    "SELECT seq FROM alerts WHERE alert_id = ?", (alert.alert_id,)
                ).fetchone()
                return int(row[0])
            seq = int(cur.lastrowid or 0)
            self._inserted += 1
            self._total += 1
            if status == PENDING:
                self._pending += 1
                if self._pending == self.high_water_rows:
                    log.error(
                        "outbox %s reached its high-water mark: %d unsent alerts of %d",
                        self.path,
                        self._pending,
                        self.config.max_rows,
                    )
            self._new_rows.notify_all()
            return seq

    def _evict_locked(self) -> None:
        chunk = max(1, self.config.max_rows // 100)
        n = self._total - self.config.max_rows + chunk
        cur = self._db.execute(
            "DELETE FROM alerts WHERE seq IN (SELECT seq FROM alerts WHERE status != ? ORDER BY seq LIMIT ?)",
            (PENDING, n),
        )
        if cur.rowcount > 0:
            self._evicted += cur.rowcount
            self._total -= cur.rowcount
            log.warning(
                "outbox %s at capacity (%d rows): evicted the %d oldest %s rows",
                self.path,
                self.config.max_rows,
                cur.rowcount,
                "stored" if self.destination else "sent",
            )

    def mark_sent(self, acks: Sequence[Ack]) -> int:
        """Mark acknowledged rows sent (one transaction). Returns rows changed."""
        if not acks:
            return 0
        with self._lock:
            try:
                self._db.execute("BEGIN IMMEDIATE")
                before = self._db.total_changes
                self._db.executemany(
                    "UPDATE alerts SET status = ?, sent_at = ?, kafka_partition = ?, kafka_offset = ?, "
                    "attempts = attempts + 1, last_error = NULL WHERE seq = ? AND status = ?",
                    [(SENT, a.acked_at, a.partition, a.offset, a.seq, PENDING) for a in acks],
                )
                changed = self._db.total_changes - before
                self._db.execute("COMMIT")
            except sqlite3.Error as exc:
                self._rollback()
                raise PublishError(f"outbox {self.path}: cannot mark {len(acks)} rows sent: {exc}") from exc
            self._pending = max(0, self._pending - changed)
            self._marked += changed
            return changed

    def mark_failed(self, seqs: Iterable[int], error: str) -> None:
        """Record a failed attempt (the rows stay pending and are re-sent)."""
        rows = [(error[:500], s) for s in seqs]
        if not rows:
            return
        with self._lock:
            try:
                self._db.executemany(
                    "UPDATE alerts SET attempts = attempts + 1, last_error = ? WHERE seq = ?", rows
                )
            except sqlite3.Error as exc:
                raise PublishError(f"outbox {self.path}: cannot record failed attempts: {exc}") from exc

    def requeue(
        self,
        *,
        alert_ids: Sequence[str] | None = None,
        since_s: float | None = None,
        until_s: float | None = None,
        source: str | None = None,
        limit: int | None = None,
    ) -> int:
        """Set sent/stored rows back to pending so the relay sends them again (same alert_id). Returns n."""
        where = ["status != ?"]
        args: list[Any] = [PENDING]
        if alert_ids is not None:
            if not alert_ids:
                return 0
            where.append(f"alert_id IN ({','.join('?' * len(alert_ids))})")
            args += list(alert_ids)
        if since_s is not None:
            where.append("created_at >= ?")
            args.append(since_s)
        if until_s is not None:
            where.append("created_at < ?")
            args.append(until_s)
        if source is not None:
            where.append("source = ?")
            args.append(source)
        sql = f"SELECT seq FROM alerts WHERE {' AND '.join(where)} ORDER BY seq"  # noqa: S608 - fixed fragments
        if limit is not None:
            sql += f" LIMIT {int(limit)}"
        with self._lock:
            try:
                self._db.execute("BEGIN IMMEDIATE")
                seqs = [r[0] for r in self._db.execute(sql, args).fetchall()]
                self._db.executemany(
                    "UPDATE alerts SET status = ? WHERE seq = ?", [(PENDING, s) for s in seqs]
                )
                self._db.execute("COMMIT")
            except sqlite3.Error as exc:
                self._rollback()
                raise PublishError(f"outbox {self.path}: cannot requeue rows: {exc}") from exc
            self._pending += len(seqs)
            self._new_rows.notify_all()
            return len(seqs)

    def prune(self, now_s: float | None = None) -> int:
        """Delete sent rows older than keep_sent_s. Returns rows deleted."""
        cutoff = (self._clock() if now_s is None else now_s) - self.config.keep_sent_s
        with self._lock:
            try:
                cur = self._db.execute("DELETE FROM alerts WHERE status = ? AND sent_at < ?", (SENT, cutoff))
            except sqlite3.Error as exc:
                raise PublishError(f"outbox {self.path}: cannot prune sent rows: {exc}") from exc
            n = max(0, cur.rowcount)
            self._total -= n
            self._pruned += n
            return n

    def delete_incidents_before(self, last_seen_before_s: float) -> int:
        """Forget incidents last seen before `last_seen_before_s` (no event can join them any more)."""
        with self._lock:
            return delete_incidents_before(self._db, last_seen_before_s)

    def _rollback(self) -> None:
        try:
            self._db.execute("ROLLBACK")
        except sqlite3.Error:
            log.debug("outbox %s: rollback after a failed transaction found no transaction", self.path)

    # -- reading ------------------------------------------------------------------------------------

    def pending(self, limit: int) -> list[OutboxRow]:
        """The oldest unsent rows, in seq order (per-source order)."""
        with self._lock:
            cur = self._db.execute(
                f"SELECT {COLUMNS} FROM alerts WHERE status = ? ORDER BY seq LIMIT ?",  # noqa: S608
                (PENDING, int(limit)),
            )
            return [OutboxRow(*r) for r in cur.fetchall()]

    def rows(
        self,
        *,
        status: str | None = None,
        source: str | None = None,
        since_s: float | None = None,
        matches: Sequence[JsonMatch] = (),
        limit: int | None = 50,
        newest_first: bool = True,
    ) -> list[OutboxRow]:
        """Rows for `gridwatch alerts list`: optionally one status or source, created at or after since_s,
        and whose alert JSON satisfies every match; limit None returns them all."""
        sql, args = list_query(
            status=status, source=source, since_s=since_s, matches=matches, limit=limit, newest_first=newest_first
        )
        with self._lock:
            found = self._db.execute(sql, args).fetchall()
        return [OutboxRow(*r) for r in found]

    def get(self, alert_id: str) -> OutboxRow | None:
        with self._lock:
            r = self._db.execute(f"SELECT {COLUMNS} FROM alerts WHERE alert_id = ?", (alert_id,)).fetchone()  # noqa: S608
        return OutboxRow(*r) if r else None

    def load_incidents(self, since_s: float) -> list[IncidentRecord]:
        """Incident records seen since `since_s` (for the deduper at start)."""
        with self._lock:
            return load_incidents(self._db, since_s)

    def wait_for_rows(self, timeout_s: float) -> bool:
        """Block until a row is pending (or the timeout passes). True if rows are pending."""
        with self._new_rows:
            if self._pending == 0:
                self._new_rows.wait(timeout_s)
            return self._pending > 0

    def wake(self) -> None:
        """Wake threads blocked in wait_for_rows (used when stopping)."""
        with self._new_rows:
            self._new_rows.notify_all()

    def depth(self) -> int:
        """Unsent rows."""
        return self._pending

    def refresh_counts(self) -> None:
        """Recount rows (another process, e.g. `gridwatch alerts replay`, may have changed them)."""
        with self._lock:
            self._pending = int(
                self._db.execute("SELECT COUNT(*) FROM alerts WHERE status = ?", (PENDING,)).fetchone()[0]
            )
            self._total = int(self._db.execute("SELECT COUNT(*) FROM alerts").fetchone()[0])
            if self._pending:
                self._new_rows.notify_all()

    def stats(self) -> OutboxStats:
        with self._lock:
            oldest = self._db.execute(
                "SELECT MIN(created_at) FROM alerts WHERE status = ?", (PENDING,)
            ).fetchone()[0]
            pending = self._pending
            return OutboxStats(
                pending=pending,
                total=self._total,
                max_rows=self.config.max_rows,
                high_water_rows=self.high_water_rows,
                over_high_water=pending >= self.high_water_rows,
                oldest_pending_age_s=max(0.0, self._clock() - oldest) if oldest is not None else 0.0,
                inserted=self._inserted,
                duplicates=self._duplicates,
                rejected_full=self._rejected,
                evicted=self._evicted,
                marked_sent=self._marked,
                pruned=self._pruned,
            )

    def health(self) -> OutboxHealth:
        pending = self._pending
        if pending >= self.config.max_rows:
            reason = f"outbox full: {pending} unsent alerts, new alerts are refused"
        elif pending >= self.high_water_rows:
            reason = f"outbox above high-water mark: {pending} of {self.config.max_rows} rows unsent"
        else:
            reason = "ok"
        return OutboxHealth(
            pending < self.high_water_rows, pending, self.high_water_rows, self.config.max_rows, reason
        )

    def close(self) -> None:
        with self._lock:
            try:
                self._db.close()
            except sqlite3.Error as exc:
                log.warning("outbox %s: close failed: %s", self.path, exc)
