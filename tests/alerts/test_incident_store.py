"""The incident table on its own: an update replaces a record, age-out deletes, a reopened file restores."""

from __future__ import annotations

import sqlite3
from dataclasses import replace
from pathlib import Path

from alerts.dedup import IncidentRecord
from alerts.incident_store import INCIDENTS_DDL, delete_incidents_before, load_incidents, upsert_incident


def _db(path: Path) -> sqlite3.Connection:
    db = sqlite3.connect(str(path), isolation_level=None)
    db.executescript(INCIDENTS_DDL)
    return db


def test_upsert_replaces_and_age_out_deletes(tmp_path: Path) -> None:
    db = _db(tmp_path / "inc.sqlite3")
    first = IncidentRecord("I1", "fire", "fire", 34.7, 113.6, 5.0, 10.0, 20.0, 1, False, ("cam-1",))
    old = IncidentRecord("I0", "throw", "throw", None, None, None, 1.0, 2.0, 1, True, ())
    upsert_incident(db, first)
    upsert_incident(db, old)
    later = replace(first, last_seen_s=40.0, next_seq=2, sources=("cam-1", "cam-2"))
    upsert_incident(db, later)
    assert sorted(load_incidents(db, since_s=0.0), key=lambda r: r.incident_id) == [old, later]
    assert delete_incidents_before(db, 30.0) == 1  # I0 (last seen 2 s); I1 now last seen 40 s
    assert load_incidents(db, since_s=0.0) == [later]
    db.close()
    assert load_incidents(_db(tmp_path / "inc.sqlite3"), since_s=35.0) == [later]  # survives a reopen
