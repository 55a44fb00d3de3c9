"""Where evidence files go: a local directory or an S3-compatible bucket, with retention by age and size.

Both stores name objects by a relative key (`2024/05/01/fire/cam-12/<alert_id>-snapshot.jpg`) and turn a
key into the URI put in the alert before the file exists (evidence is written in the background). The
S3 store (alerts/s3_store.py, boto3) sits behind a local upload spool (alerts/evidence_spool.py), so a
store that is down never holds up evidence and catches up when it is back.
"""

from __future__ import annotations

import logging
import os
import shutil
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol
from urllib.parse import quote

from alerts.evidence_config import EvidenceConfig, LocalStoreConfig, S3StoreConfig
from alerts.evidence_keys import StoredObject, check_key
from foundation.errors import ConfigError, PublishError

log = logging.getLogger(__name__)

@dataclass(frozen=True)
class SweepResult:
    """What one retention sweep did."""

    deleted_files: int = 0
    deleted_bytes: int = 0
    kept_files: int = 0
    kept_bytes: int = 0


class EvidenceStore(Protocol):
    """A place evidence files are written to; keys are relative paths with '/' separators."""

    def uri_for(self, key: str) -> str:
        """The URI under which `key` will be readable (put in the alert before the write)."""
        ...

    def put_bytes(self, key: str, data: bytes, content_type: str, metadata: Mapping[str, str] | None = None) -> None:
        """Write one object (with its metadata where the store keeps any); raises PublishError on failure."""
        ...

    def put_file(self, key: str, path: Path, content_type: str, metadata: Mapping[str, str] | None = None) -> None:
        """Move or upload a local file as `key`; the local file is gone afterwards."""
        ...

    def list_objects(self) -> list[StoredObject]:
        """Every object in the store (for retention)."""
        ...

    def delete(self, key: str) -> None:
        """Delete one object (missing objects are not an error)."""
        ...

    def start(self) -> None:
        """Start background work, if the store has any (the upload spool)."""
        ...

    def stop(self, timeout_s: float) -> bool:
        """Finish background work within timeout_s; True when nothing is left waiting."""
        ...


def sweep(
    store: EvidenceStore, *, now_s: float, max_age_s: float, max_total_bytes: int, keep_prefixes: tuple[str, ...] = ()
) -> SweepResult:
    """Delete objects older than `max_age_s`, then the oldest until the total is within `max_total_bytes`.

    Objects under `keep_prefixes` are left alone and not counted (survey mosaics outlive alert evidence).
    """
    objects = sorted(
        (o for o in store.list_objects() if not o.key.startswith(keep_prefixes)), key=lambda o: o.mtime_s
    )
    total = sum(o.size_bytes for o in objects)
    deleted_files = deleted_bytes = 0
    for obj in objects:
        too_old = now_s - obj.mtime_s > max_age_s
        if not too_old and total <= max_total_bytes:
            break
        store.delete(obj.key)
        total -= obj.size_bytes
        deleted_files += 1
        deleted_bytes += obj.size_bytes
    return SweepResult(deleted_files, deleted_bytes, len(objects) - deleted_files, total)


class LocalEvidenceStore:
    """Evidence in a local directory; writes are atomic (temporary file, then rename)."""

    def __init__(self, config: LocalStoreConfig) -> None:
        self.root = config.dir.resolve()
        try:
            self.root.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise ConfigError(f"alerts.evidence.store.dir: cannot create {self.root}: {exc.strerror or exc}") from exc
        self.public_base_url = config.public_base_url.rstrip("/") if config.public_base_url else None

    def path_for(self, key: str) -> Path:
        return self.root / check_key(key)

    def uri_for(self, key: str) -> str:
        if self.public_base_url:
            return f"{self.public_base_url}/{quote(check_key(key))}"
        return self.path_for(key).as_uri()

    def start(self) -> None:
        """Nothing runs in the background: writes are synchronous."""

    def stop(self, timeout_s: float) -> bool:
        """Nothing waits; True."""
        return True

    def put_bytes(self, key: str, data: bytes, content_type: str, metadata: Mapping[str, str] | None = None) -> None:
        """Atomic write; a directory keeps no object metadata (the key names the alert already)."""
        target = self.path_for(key)
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=".tmp-", suffix=target.suffix)
            with os.fdopen(fd, "wb") as fh:
                fh.write(data)
            os.replace(tmp, target)
        except OSError as exc:
            raise PublishError(f"evidence {key}: cannot write to {self.root}: {exc.strerror}") from exc

    def put_file(self, key: str, path: Path, content_type: str, metadata: Mapping[str, str] | None = None) -> None:
        target = self.path_for(key)
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.move(str(path), str(target))
        except OSError as exc:
            raise PublishError(f"evidence {key}: cannot move {path} into {self.root}: {exc}") from exc

    def list_objects(self) -> list[StoredObject]:
        out: list[StoredObject] = []
        for dirpath, _dirs, files in os.walk(self.root):
            for name in files:
                if name.startswith(".tmp-"):
                    continue
                p = Path(dirpath) / name
                try:
                    st = p.stat()
                except FileNotFoundError:
                    continue
                out.append(StoredObject(p.relative_to(self.root).as_posix(), st.st_size, st.st_mtime))
        return out

    def get_bytes(self, key: str) -> bytes | None:
        """The object's bytes, or None when there is none."""
        try:
            return self.path_for(key).read_bytes()
        except FileNotFoundError:
            return None
        except OSError as exc:
            raise PublishError(f"evidence {key}: cannot read from {self.root}: {exc.strerror}") from exc

    def list_keys(self, prefix: str) -> list[str]:
        """Keys under a '/'-separated prefix (walks only that part of the directory)."""
        base = self.root / prefix.rsplit("/", 1)[0] if "/" in prefix else self.root
        if not base.is_dir():
            return []
        out = []
        for dirpath, _dirs, files in os.walk(base):
            for name in files:
                if not name.startswith(".tmp-"):
                    key = (Path(dirpath) / name).relative_to(self.root).as_posix()
                    if key.startswith(prefix):
                        out.append(key)
        return out

    def delete(self, key: str) -> None:
        p = self.path_for(key)
        try:
            p.unlink(missing_ok=True)
        except OSError as exc:
            raise PublishError(f"evidence {key}: cannot delete: {exc.strerror}") from exc
        parent = p.parent
        while parent != self.root:  # drop emptied date/source directories
            try:
                parent.rmdir()
            except OSError:
                break
            parent = parent.parent


def make_store(config: EvidenceConfig) -> EvidenceStore:
    """The store the evidence config names: a local directory, or S3 behind the upload spool."""
    if isinstance(config.store, S3StoreConfig):
        from alerts.evidence_spool import SpoolingStore  # noqa: PLC0415 - both import this module
        from alerts.s3_store import S3EvidenceStore  # noqa: PLC0415 - and boto3 only when configured

        s3 = config.store
        return SpoolingStore(S3EvidenceStore(s3), s3.spool_dir, max_bytes=int(s3.spool_max_mb * 1024 * 1024),
                             backoff_initial_s=s3.retry_backoff_initial_s, backoff_max_s=s3.retry_backoff_max_s)
    return LocalEvidenceStore(config.store)
