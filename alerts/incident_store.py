"""The deduper's incident records, kept in the outbox's SQLite file (table `incidents`).

They live in the same database as the alerts so that an alert and the incident state it changed are
committed in one transaction (`Outbox.put`): after a crash, dedup state and alerts never disagree. This
module holds the table and its queries; the outbox owns the connection, the lock and the transaction.
"""

from __future__ import annotations

import json
import sqlite3

from alerts.dedup import IncidentRecord

INCIDENTS_DDL = """
CREATE TABLE IF NOT EXISTS incidents (
    incident_id TEXT PRIMARY KEY,
    family TEXT NOT NULL,
    kind TEXT NOT NULL,
    lat_deg REAL,
    lon_deg REAL,
    accuracy_m REAL,
    first_seen_s REAL NOT NULL,
    last_seen_s REAL NOT NULL,
    next_seq INTEGER NOT NULL,
    ended INTEGER NOT NULL,
    sources TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS incidents_last_seen ON incidents(last_seen_s);
"""

_UPSERT = (
    "INSERT INTO incidents (incident_id, family, kind, lat_deg, lon_deg, accuracy_m, first_seen_s, "
    "last_seen_s, next_seq, ended, sources) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
    "ON CONFLICT(incident_id) DO UPDATE SET lat_deg=excluded.lat_deg, lon_deg=excluded.lon_deg, "
    "accuracy_m=excluded.accuracy_m, first_seen_s=excluded.first_seen_s, "
    "last_seen_s=excluded.last_seen_s, next_seq=excluded.next_seq, ended=excluded.ended, "
    "sources=excluded.sources"
)


def upsert_incident(db: sqlite3.Connection, rec: IncidentRecord) -> None:
    """Insert or update one record, inside the caller's transaction (the alert's)."""
    db.execute(
        _UPSERT,
        (
            rec.incident_id,
            rec.family,
            rec.kind,
            rec.lat_deg,
            rec.lon_deg,
            rec.accuracy_m,
            rec.first_seen_s,
            rec.last_seen_s,
            rec.next_seq,
            int(rec.ended),
            json.dumps(list(rec.sources)),
        ),
    )


def delete_incidents_before(db: sqlite3.Connection, last_seen_before_s: float) -> int:
    """Delete records last seen before `last_seen_before_s`; returns how many."""
    cur = db.execute("DELETE FROM incidents WHERE last_seen_s < ?", (last_seen_before_s,))
    return max(0, cur.rowcount)


def load_incidents(db: sqlite3.Connection, since_s: float) -> list[IncidentRecord]:
    """Records last seen at or after `since_s` (what the deduper restores at start)."""
    rows = db.execute(
        "SELECT incident_id, family, kind, lat_deg, lon_deg, accuracy_m, first_seen_s, last_seen_s, "
        "next_seq, ended, sources FROM incidents WHERE last_seen_s >= ?",
        (since_s,),
    ).fetchall()
    return [
        IncidentRecord(r[0], r[1], r[2], r[3], r[4], r[5], r[6], r[7], int(r[8]), bool(r[9]), tuple(json.loads(r[10])))
        for r in rows
    ]
