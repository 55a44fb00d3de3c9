"""Evidence waiting for a remote store, kept on local disk and uploaded by a background thread.

Why: uploading inline would let a slow or dead store hold up the evidence of every camera, and a failed
upload would leave the alert's URI pointing at nothing. With the spool a write is local and immediate;
the uploader moves files to the store oldest first, retrying with exponential backoff and jitter while
the store is down or refuses us (a wrong key stays refused until the config is fixed and the service
restarted; nothing is lost meanwhile). Files survive restarts and the next run sends them, so an alert's
URI, decided before the write, becomes valid as soon as the store is back. The spool is bounded
(`spool_max_mb`): beyond it the oldest waiting evidence is dropped and counted, never an alert.

Layout: `<spool_dir>/<key>` holds the data and `<spool_dir>/<key>.meta.json` its content type and object
metadata, written last; a data file without its meta file is an interrupted write and is not sent.
"""

from __future__ import annotations

import json
import logging
import os
import random
import shutil
import tempfile
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from alerts.evidence_store import StoredObject, check_key
from foundation.errors import ConfigError, PublishError

log = logging.getLogger(__name__)

_META = ".meta.json"
_IDLE_WAIT_S = 1.0


class RemoteStore(Protocol):
    """What the uploader needs from the store behind the spool (alerts.s3_store.S3EvidenceStore)."""

    def uri_for(self, key: str) -> str: ...

    def put_file(self, key: str, path: Path, content_type: str, metadata: Mapping[str, str] | None = None) -> None:
        """Upload and remove the local file; PublishError on failure."""
        ...

    def list_objects(self) -> list[StoredObject]: ...

    def delete(self, key: str) -> None: ...


@dataclass
class SpoolStats:
    """Counters for /status and the tests."""

    uploaded: int = 0
    upload_failures: int = 0
    dropped: int = 0
    pending: int = 0
    pending_bytes: int = 0
    last_error: str = ""


@dataclass(frozen=True)
class _Waiting:
    key: str
    data: Path
    meta: Path
    size: int
    mtime: float


class SpoolingStore:
    """An EvidenceStore whose writes land in `spool_dir` and reach `remote` in the background."""

    def __init__(
        self,
        remote: RemoteStore,
        spool_dir: Path,
        *,
        max_bytes: int,
        backoff_initial_s: float = 1.0,
        backoff_max_s: float = 60.0,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.remote = remote
        self.root = spool_dir
        self.max_bytes = max_bytes
        self.backoff_initial_s = backoff_initial_s
        self.backoff_max_s = backoff_max_s
        self.stats = SpoolStats()
        self._mono = monotonic
        self._cv = threading.Condition()
        self._stop = threading.Event()
        self._stop_deadline = float("inf")
        self._thread: threading.Thread | None = None
        self._in_flight: str | None = None

    # -- the store --------------------------------------------------------------------------------------

    def uri_for(self, key: str) -> str:
        return self.remote.uri_for(key)

    def put_bytes(self, key: str, data: bytes, content_type: str,
                  metadata: Mapping[str, str] | None = None) -> None:
        target = self._data_path(key)
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=".tmp-")
            with os.fdopen(fd, "wb") as fh:
                fh.write(data)
            os.replace(tmp, target)
        except OSError as exc:
            raise PublishError(f"evidence {key}: cannot spool into {self.root}: {exc.strerror}") from exc
        self._commit(key, content_type, metadata)

    def put_file(self, key: str, path: Path, content_type: str,
                 metadata: Mapping[str, str] | None = None) -> None:
        target = self._data_path(key)
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.move(str(path), str(target))
        except OSError as exc:
            raise PublishError(f"evidence {key}: cannot spool {path} into {self.root}: {exc}") from exc
        self._commit(key, content_type, metadata)

    def list_objects(self) -> list[StoredObject]:
        """What the remote store holds (retention applies there; spooled files are not yet stored)."""
        return self.remote.list_objects()

    def delete(self, key: str) -> None:
        self.remote.delete(key)

    # -- lifecycle ----------------------------------------------------------------------------------------

    def start(self) -> None:
        """Start the uploader; evidence spooled by an earlier run goes first (oldest first)."""
        if self._thread is not None:
            return
        try:
            self.root.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise ConfigError(f"alerts.evidence.store.spool_dir: cannot create {self.root}: "
                              f"{exc.strerror or exc}") from exc
        self._refresh_counts()
        self._stop.clear()
        self._stop_deadline = float("inf")
        self._thread = threading.Thread(target=self._run, name="evidence-upload", daemon=True)
        self._thread.start()

    def stop(self, timeout_s: float) -> bool:
        """Keep uploading until the spool is empty or `timeout_s` passes; what is left is sent next start."""
        self._stop_deadline = self._mono() + timeout_s
        self._stop.set()
        with self._cv:
            self._cv.notify_all()
        if self._thread is not None:
            self._thread.join(max(0.1, timeout_s + 1.0))
            self._thread = None
        self._refresh_counts()
        return self.stats.pending == 0

    def drain(self, timeout_s: float) -> bool:
        """Wait until nothing waits for upload (the uploader must run). True if drained."""
        deadline = self._mono() + timeout_s
        with self._cv:
            while self.stats.pending and self._mono() < deadline:
                self._cv.wait(0.05)
            return self.stats.pending == 0

    # -- internals ----------------------------------------------------------------------------------------

    def _data_path(self, key: str) -> Path:
        return self.root / check_key(key)

    def _commit(self, key: str, content_type: str, metadata: Mapping[str, str] | None) -> None:
        data = self._data_path(key)
        meta = data.with_name(data.name + _META)
        body = json.dumps({"key": key, "content_type": content_type, "metadata": dict(metadata or {})})
        try:
            fd, tmp = tempfile.mkstemp(dir=data.parent, prefix=".tmp-")
            with os.fdopen(fd, "w", encoding="utf-8") as fh:
                fh.write(body)
            os.replace(tmp, meta)
        except OSError as exc:
            data.unlink(missing_ok=True)
            raise PublishError(f"evidence {key}: cannot spool into {self.root}: {exc.strerror}") from exc
        with self._cv:
            self.stats.pending += 1
            self.stats.pending_bytes += data.stat().st_size
            self._enforce_bound()
            self._cv.notify_all()

    def _waiting(self) -> list[_Waiting]:
        out: list[_Waiting] = []
        if not self.root.is_dir():
            return out
        for dirpath, _dirs, files in os.walk(self.root):
            for name in files:
                if not name.endswith(_META):
                    continue
                meta = Path(dirpath) / name
                data = meta.with_name(name[: -len(_META)])
                try:
                    st = data.stat()
                except FileNotFoundError:
                    meta.unlink(missing_ok=True)  # the data went (uploaded or dropped); the meta is stale
                    continue
                key = data.relative_to(self.root).as_posix()
                out.append(_Waiting(key, data, meta, st.st_size, st.st_mtime))
        return sorted(out, key=lambda w: (w.mtime, w.key))

    def _refresh_counts(self) -> None:
        waiting = self._waiting()
        with self._cv:
            self.stats.pending = len(waiting)
            self.stats.pending_bytes = sum(w.size for w in waiting)
            self._cv.notify_all()

    def _enforce_bound(self) -> None:
        """Drop the oldest waiting evidence while the spool is above its bound (caller holds the lock)."""
        if self.stats.pending_bytes <= self.max_bytes:
            return
        for item in self._waiting():
            if self.stats.pending_bytes <= self.max_bytes:
                break
            if item.key == self._in_flight:
                continue
            item.data.unlink(missing_ok=True)
            item.meta.unlink(missing_ok=True)
            self.stats.pending -= 1
            self.stats.pending_bytes -= item.size
            self.stats.dropped += 1
            log.warning("evidence %s dropped: the upload spool is above %d bytes", item.key, self.max_bytes)

    def _run(self) -> None:
        backoff = self.backoff_initial_s
        while True:
            if self._stop.is_set() and self._mono() >= self._stop_deadline:
                return
            waiting = self._waiting()
            if not waiting:
                if self._stop.is_set():
                    return
                with self._cv:
                    self._cv.wait(_IDLE_WAIT_S)
                continue
            failed = False
            for item in waiting:
                if self._stop.is_set() and self._mono() >= self._stop_deadline:
                    return
                if not self._upload(item):
                    failed = True
                    break
                backoff = self.backoff_initial_s
            if failed:
                if self._stop.is_set():
                    return  # a failing store at shutdown: the files wait for the next start
                self._stop.wait(backoff * random.uniform(0.8, 1.2))
                backoff = min(backoff * 2.0, self.backoff_max_s)

    def _upload(self, item: _Waiting) -> bool:
        try:
            meta = json.loads(item.meta.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return True  # dropped meanwhile, or unreadable: the next scan decides
        with self._cv:
            self._in_flight = item.key
        try:
            self.remote.put_file(item.key, item.data, str(meta.get("content_type", "application/octet-stream")),
                                 meta.get("metadata") or {})
        except PublishError as exc:
            self.stats.upload_failures += 1
            if str(exc) != self.stats.last_error:
                log.warning("evidence upload failed, retrying with backoff (%d waiting): %s", self.stats.pending,
                            exc)
            self.stats.last_error = str(exc)
            return False
        except FileNotFoundError:
            return True  # dropped by the bound while we opened it
        finally:
            with self._cv:
                self._in_flight = None
        item.data.unlink(missing_ok=True)
        item.meta.unlink(missing_ok=True)
        with self._cv:
            self.stats.uploaded += 1
            self.stats.pending = max(0, self.stats.pending - 1)
            self.stats.pending_bytes = max(0, self.stats.pending_bytes - item.size)
            if self.stats.last_error:
                log.info("evidence uploads resumed (%d waiting)", self.stats.pending)
                self.stats.last_error = ""
            self._cv.notify_all()
        return True
