"""The SQLite outbox: durable settings, order, idempotence, bounds, health, eviction, requeue, restart."""

import subprocess
import sys
from pathlib import Path

import pytest

from alerts.config import OutboxConfig
from alerts.dedup import IncidentRecord
from alerts.outbox import Outbox
from alerts.outbox_rows import SENT, STORED, Ack, OutboxFullError
from foundation.errors import ConfigError
from tests.alerts.factories import FakeClock, alert


def make(tmp_path: Path, **kw: object) -> Outbox:
    return Outbox(OutboxConfig(path=tmp_path / "ob.sqlite3", **kw), clock=FakeClock())


def test_wal_and_full_sync_are_set(tmp_path: Path) -> None:
    ob = make(tmp_path)
    assert ob._db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert ob._db.execute("PRAGMA synchronous").fetchone()[0] == 2  # FULL
    ob.close()


def test_pending_rows_come_back_in_insertion_order_and_ids_are_idempotent(tmp_path: Path) -> None:
    ob = make(tmp_path)
    seqs = [ob.put(alert(i, f"cam-{i % 3}"), trigger_captured_at=1.0) for i in range(10)]
    assert ob.put(alert(4, "cam-1"), trigger_captured_at=1.0) == seqs[4]  # same alert_id: same row
    rows = ob.pending(100)
    assert [r.seq for r in rows] == sorted(seqs) and len(rows) == 10
    assert rows[0].alert()["alert_id"] == alert(0, "cam-0").alert_id
    assert ob.stats().duplicates == 1 and ob.depth() == 10
    ob.mark_sent([Ack(rows[0].seq, 2, 17, 5.0)])
    r0 = ob.get(rows[0].alert_id)
    assert r0 is not None and (r0.status, r0.kafka_partition, r0.kafka_offset) == (SENT, 2, 17)
    assert ob.depth() == 9


def test_health_turns_red_at_high_water_before_full_and_full_refuses(tmp_path: Path) -> None:
    ob = make(tmp_path, max_rows=10, high_water_ratio=0.8)
    for i in range(7):
        ob.put(alert(i), trigger_captured_at=1.0)
    assert ob.health().ok and not ob.stats().over_high_water
    ob.put(alert(7), trigger_captured_at=1.0)
    assert not ob.health().ok and ob.stats().over_high_water  # 8 of 10: red, 2 rows still free
    ob.put(alert(8), trigger_captured_at=1.0)
    ob.put(alert(9), trigger_captured_at=1.0)
    with pytest.raises(OutboxFullError) as err:
        ob.put(alert(10), trigger_captured_at=1.0)
    assert err.value.retryable and "not accepted" in str(err.value)
    assert ob.stats().rejected_full == 1 and ob.get(alert(10).alert_id) is None
    assert "full" in ob.health().reason


def test_sent_rows_are_evicted_oldest_first_to_make_room(tmp_path: Path) -> None:
    ob = make(tmp_path, max_rows=10)
    for i in range(10):
        ob.put(alert(i), trigger_captured_at=1.0)
    rows = ob.pending(4)
    ob.mark_sent([Ack(r.seq, 0, k, 2.0) for k, r in enumerate(rows)])
    ob.put(alert(10), trigger_captured_at=1.0)
    assert ob.stats().evicted >= 1
    assert ob.get(alert(0).alert_id) is None  # oldest sent row went first
    assert all(ob.get(alert(i).alert_id) is not None for i in range(4, 11))  # no unsent row was touched


def test_destination_mode_stores_rows_and_keeps_the_newest(tmp_path: Path) -> None:
    ob = Outbox(OutboxConfig(path=tmp_path / "ob.sqlite3", max_rows=10), destination=True)
    for i in range(25):
        ob.put(alert(i), trigger_captured_at=1.0)
    st = ob.stats()
    assert st.pending == 0 and st.total <= 10 and st.evicted == 25 - st.total
    assert {r.status for r in ob.rows(limit=100)} == {STORED}
    assert ob.rows(limit=1)[0].alert_id == alert(24).alert_id
    assert ob.health().ok


def test_requeue_and_prune(tmp_path: Path) -> None:
    clock = FakeClock(1000.0)
    ob = Outbox(OutboxConfig(path=tmp_path / "ob.sqlite3", keep_sent_s=100.0), clock=clock)
    for i in range(6):
        ob.put(alert(i, f"cam-{i % 2}"), trigger_captured_at=1.0)
    ob.mark_sent([Ack(r.seq, 0, r.seq, 1000.0) for r in ob.pending(10)])
    assert ob.depth() == 0
    assert ob.requeue(source="cam-1") == 3 and ob.depth() == 3
    assert ob.requeue(alert_ids=[alert(0, "cam-0").alert_id]) == 1 and ob.depth() == 4
    assert ob.requeue(alert_ids=[alert(0, "cam-0").alert_id]) == 0  # already pending
    ob.mark_sent([Ack(r.seq, 0, r.seq, 1000.0) for r in ob.pending(10)])
    assert ob.prune(now_s=1050.0) == 0
    assert ob.prune(now_s=1101.0) == 6 and ob.stats().total == 0


def test_incidents_are_written_with_the_alert(tmp_path: Path) -> None:
    ob = make(tmp_path)
    rec = IncidentRecord("I1", "fire", "fire", 30.2, 120.2, 5.0, 10.0, 20.0, 3, False, ("cam-1", "cam-2"))
    ob.put(alert(1), trigger_captured_at=1.0, incident=rec)
    assert ob.load_incidents(since_s=15.0) == [rec]
    assert ob.load_incidents(since_s=25.0) == []


def test_unsent_rows_survive_a_killed_process(tmp_path: Path) -> None:
    """A child process commits rows and dies by SIGKILL; a new outbox sees every committed row pending."""
    db = tmp_path / "ob.sqlite3"
    code = (
        "import os, sys\n"
        "from alerts.config import OutboxConfig\nfrom alerts.outbox import Outbox\n"
        "from tests.alerts.factories import alert\n"
        f"ob = Outbox(OutboxConfig(path=r'{db}'))\n"
        "for i in range(50):\n    ob.put(alert(i), trigger_captured_at=1.0)\n"
        "print('committed', flush=True)\nos.kill(os.getpid(), 9)\n"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=Path(__file__).resolve().parents[2],
        check=False,
    )
    assert "committed" in proc.stdout and proc.returncode == -9, proc.stderr
    ob = Outbox(OutboxConfig(path=db))
    assert ob.depth() == 50
    assert [r.alert_id for r in ob.pending(100)] == [alert(i).alert_id for i in range(50)]


def test_unreadable_file_is_a_config_error(tmp_path: Path) -> None:
    bad = tmp_path / "ob.sqlite3"
    bad.write_bytes(b"this is not a database" * 100)
    with pytest.raises(ConfigError, match=r"ob\.sqlite3"):
        Outbox(OutboxConfig(path=bad))
