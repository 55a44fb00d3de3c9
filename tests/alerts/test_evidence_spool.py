"""The upload spool with a fake remote store (unit tests): retries back off exponentially while the store
fails, the bound drops the oldest waiting evidence and counts it, interrupted writes are not sent, and
evidence spooled by an earlier run goes first."""

from __future__ import annotations

import time
from collections.abc import Mapping
from pathlib import Path

from alerts.evidence_spool import SpoolingStore
from alerts.evidence_store import StoredObject
from foundation.errors import PublishError


class FakeRemote:
    """Fails the first `failures` uploads, then stores; records when each attempt came."""

    def __init__(self, failures: int = 0) -> None:
        self.failures = failures
        self.attempts: list[float] = []
        self.stored: dict[str, tuple[bytes, str, dict[str, str]]] = {}

    def uri_for(self, key: str) -> str:
        return f"s3://fake/{key}"

    def put_file(self, key: str, path: Path, content_type: str, metadata: Mapping[str, str] | None = None) -> None:
        self.attempts.append(time.monotonic())
        if len(self.attempts) <= self.failures:
            raise PublishError("evidence store fake: PUT failed: HTTP 503 SlowDown", retryable=True)
        self.stored[key] = (path.read_bytes(), content_type, dict(metadata or {}))
        path.unlink()

    def list_objects(self) -> list[StoredObject]:
        return []

    def delete(self, key: str) -> None:
        self.stored.pop(key, None)


def test_uploads_retry_with_exponential_backoff_until_the_store_answers(tmp_path: Path) -> None:
    remote = FakeRemote(failures=4)
    spool = SpoolingStore(remote, tmp_path / "spool", max_bytes=10_000, backoff_initial_s=0.05, backoff_max_s=0.4)
    spool.start()
    spool.put_bytes("a/1.jpg", b"one", "image/jpeg", {"alert-id": "1"})
    assert spool.uri_for("a/1.jpg") == "s3://fake/a/1.jpg"
    assert spool.drain(10)
    assert spool.stop(1)
    gaps = [b - a for a, b in zip(remote.attempts, remote.attempts[1:], strict=False)]
    assert len(remote.attempts) == 5 and spool.stats.upload_failures == 4
    # 0.05, 0.1, 0.2, 0.4 (capped) with +-20 % jitter, plus scheduling slack on a loaded machine
    for gap, nominal in zip(gaps, [0.05, 0.1, 0.2, 0.4], strict=True):
        assert 0.75 * nominal <= gap <= nominal * 1.25 + 0.3, (gaps, nominal)
    assert gaps[3] > 2.0 * gaps[0], gaps
    assert remote.stored["a/1.jpg"] == (b"one", "image/jpeg", {"alert-id": "1"})
    assert spool.stats.last_error == "" and spool.stats.pending == 0


def test_the_bound_drops_the_oldest_waiting_evidence(tmp_path: Path) -> None:
    spool = SpoolingStore(FakeRemote(), tmp_path / "spool", max_bytes=250)
    for i in range(4):  # not started: everything waits
        spool.put_bytes(f"k/{i}.jpg", bytes(100), "image/jpeg")
        time.sleep(0.01)
    assert spool.stats.dropped == 2 and spool.stats.pending == 2
    assert sorted(p.name for p in (tmp_path / "spool" / "k").glob("*.jpg")) == ["2.jpg", "3.jpg"]


def test_an_earlier_run_s_files_go_first_and_interrupted_writes_are_not_sent(tmp_path: Path) -> None:
    root = tmp_path / "spool"
    earlier = SpoolingStore(FakeRemote(), root, max_bytes=10_000)
    earlier.put_bytes("old/a.jpg", b"a", "image/jpeg")
    (root / "old" / "torn.jpg").write_bytes(b"half")  # data without its meta file: a write cut short
    remote = FakeRemote()
    later = SpoolingStore(remote, root, max_bytes=10_000)
    later.start()
    later.put_bytes("new/b.jpg", b"b", "image/jpeg")
    assert later.drain(5) and later.stop(1)
    assert list(remote.stored) == ["old/a.jpg", "new/b.jpg"]
