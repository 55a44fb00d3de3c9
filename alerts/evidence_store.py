"""Where evidence files go: a local directory or an S3-compatible bucket, with retention by age and size.

Both stores name objects by a relative key (`2024/05/01/fire/cam-12/<alert_id>-snapshot.jpg`) and turn a
key into the URI put in the alert before the file exists (evidence is written in the background). The
S3 store speaks plain HTTP with our own SigV4 signing (alerts.sigv4): PUT to write, ListObjectsV2 and
DELETE for retention, path-style URLs (what MinIO and most on-premises stores expect).
"""

from __future__ import annotations

import http.client
import logging
import os
import shutil
import tempfile
import time
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Protocol
from urllib.parse import quote, urlsplit

from alerts.config import EvidenceConfig, LocalStoreConfig, S3StoreConfig
from alerts.sigv4 import Credentials, sign_s3_request
from foundation.errors import PublishError

log = logging.getLogger(__name__)

_S3_NS = "{http://s3.amazonaws.com/doc/2006-03-01/}"


@dataclass(frozen=True)
class SweepResult:
    """What one retention sweep did."""

    deleted_files: int = 0
    deleted_bytes: int = 0
    kept_files: int = 0
    kept_bytes: int = 0


@dataclass(frozen=True)
class StoredObject:
    key: str
    size_bytes: int
    mtime_s: float


class EvidenceStore(Protocol):
    """A place evidence files are written to; keys are relative paths with '/' separators."""

    def uri_for(self, key: str) -> str:
        """The URI under which `key` will be readable (put in the alert before the write)."""
        ...

    def put_bytes(self, key: str, data: bytes, content_type: str) -> None:
        """Write one object; raises PublishError on failure."""
        ...

    def put_file(self, key: str, path: Path, content_type: str) -> None:
        """Move or upload a local file as `key`; the local file is gone afterwards."""
        ...

    def list_objects(self) -> list[StoredObject]:
        """Every object in the store (for retention)."""
        ...

    def delete(self, key: str) -> None:
        """Delete one object (missing objects are not an error)."""
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


def check_key(key: str) -> str:
    """Keys are relative, '/'-separated and free of '..' so they cannot escape the store."""
    parts = key.split("/")
    if not key or key.startswith("/") or any(p in {"", ".", ".."} for p in parts):
        raise ValueError(f"invalid evidence key {key!r}")
    return key


class LocalEvidenceStore:
    """Evidence in a local directory; writes are atomic (temporary file, then rename)."""

    def __init__(self, config: LocalStoreConfig) -> None:
        self.root = config.dir.resolve()
        self.root.mkdir(parents=True, exist_ok=True)
        self.public_base_url = config.public_base_url.rstrip("/") if config.public_base_url else None

    def path_for(self, key: str) -> Path:
        return self.root / check_key(key)

    def uri_for(self, key: str) -> str:
        if self.public_base_url:
            return f"{self.public_base_url}/{quote(check_key(key))}"
        return self.path_for(key).as_uri()

    def put_bytes(self, key: str, data: bytes, content_type: str) -> None:
        target = self.path_for(key)
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=".tmp-", suffix=target.suffix)
            with os.fdopen(fd, "wb") as fh:
                fh.write(data)
            os.replace(tmp, target)
        except OSError as exc:
            raise PublishError(f"evidence {key}: cannot write to {self.root}: {exc.strerror}") from exc

    def put_file(self, key: str, path: Path, content_type: str) -> None:
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


class S3EvidenceStore:
    """Evidence in an S3-compatible bucket through signed HTTP requests (path-style URLs)."""

    def __init__(self, config: S3StoreConfig) -> None:
        parts = urlsplit(config.endpoint_url)
        self.scheme = parts.scheme
        self.host = parts.netloc
        self.bucket = config.bucket
        self.region = config.region
        self.prefix = config.prefix.lstrip("/")
        self.timeout_s = config.timeout_s
        self.public_base_url = config.public_base_url.rstrip("/") if config.public_base_url else None
        self._creds = Credentials(
            config.access_key_id.get_secret_value(),
            config.secret_access_key.get_secret_value(),
            config.session_token.get_secret_value() if config.session_token else None,
        )

    def _object_key(self, key: str) -> str:
        return self.prefix + check_key(key)

    def uri_for(self, key: str) -> str:
        if self.public_base_url:
            return f"{self.public_base_url}/{quote(self._object_key(key))}"
        return f"s3://{self.bucket}/{self._object_key(key)}"

    def _request(
        self,
        method: str,
        object_key: str | None,
        *,
        body: bytes = b"",
        query: dict[str, str] | None = None,
        content_type: str | None = None,
    ) -> tuple[int, bytes]:
        path = f"/{self.bucket}" + (f"/{object_key}" if object_key is not None else "/")
        extra = {"content-type": content_type} if content_type else None
        headers = sign_s3_request(
            self._creds,
            method=method,
            host=self.host,
            path=path,
            query=query,
            body=body,
            extra_headers=extra,
            region=self.region,
            now_s=time.time(),
        )
        url = quote(path, safe="/-_.~")
        if query:
            url += "?" + "&".join(
                f"{quote(k, safe='-_.~')}={quote(v, safe='-_.~')}" for k, v in query.items()
            )
        conn_cls = http.client.HTTPSConnection if self.scheme == "https" else http.client.HTTPConnection
        conn = conn_cls(self.host, timeout=self.timeout_s)
        try:
            conn.request(method, url, body=body if body else None, headers=headers)
            resp = conn.getresponse()
            data = resp.read()
            return resp.status, data
        except (OSError, http.client.HTTPException) as exc:
            raise PublishError(
                f"evidence store {self.scheme}://{self.host}/{self.bucket}: {method} failed: {exc}",
                retryable=True,
            ) from exc
        finally:
            conn.close()

    def _check(self, status: int, data: bytes, what: str) -> None:
        if status >= 300:
            code = _xml_text(data, "Code") or data[:120].decode("utf-8", "replace")
            raise PublishError(
                f"evidence store {self.host}/{self.bucket}: {what} answered HTTP {status} ({code})",
                retryable=status >= 500,
            )

    def put_bytes(self, key: str, data: bytes, content_type: str) -> None:
        status, body = self._request("PUT", self._object_key(key), body=data, content_type=content_type)
        self._check(status, body, f"PUT {key}")

    def put_file(self, key: str, path: Path, content_type: str) -> None:
        # Evidence clips are a few MB: one signed PUT with the whole body is simplest and resumable by retry.
        self.put_bytes(key, path.read_bytes(), content_type)
        path.unlink(missing_ok=True)

    def list_objects(self) -> list[StoredObject]:
        out: list[StoredObject] = []
        token: str | None = None
        while True:
            query = {"list-type": "2", "prefix": self.prefix}
            if token:
                query["continuation-token"] = token
            status, body = self._request("GET", None, query=query)
            self._check(status, body, "ListObjectsV2")
            objects, token = _parse_list(body)
            out += [StoredObject(o.key[len(self.prefix) :], o.size_bytes, o.mtime_s) for o in objects]
            if not token:
                return out

    def get_bytes(self, key: str) -> bytes | None:
        """The object's bytes, or None when there is none (HTTP 404)."""
        status, body = self._request("GET", self._object_key(key))
        if status == 404:
            return None
        self._check(status, body, f"GET {key}")
        return body

    def list_keys(self, prefix: str) -> list[str]:
        """Keys under a prefix (ListObjectsV2 with the prefix, all pages)."""
        out: list[str] = []
        token: str | None = None
        while True:
            query = {"list-type": "2", "prefix": self.prefix + prefix}
            if token:
                query["continuation-token"] = token
            status, body = self._request("GET", None, query=query)
            self._check(status, body, "ListObjectsV2")
            objects, token = _parse_list(body)
            out += [o.key[len(self.prefix) :] for o in objects]
            if not token:
                return out

    def delete(self, key: str) -> None:
        status, body = self._request("DELETE", self._object_key(key))
        if status != 404:
            self._check(status, body, f"DELETE {key}")


def _xml_text(data: bytes, tag: str) -> str | None:
    try:
        root = ET.fromstring(data)  # noqa: S314 - our configured store's reply; expat resolves no entities
    except ET.ParseError:
        return None
    el = root.find(f".//{_S3_NS}{tag}")
    if el is None:
        el = root.find(f".//{tag}")
    return el.text if el is not None else None


def _parse_list(data: bytes) -> tuple[list[StoredObject], str | None]:
    """Objects and the continuation token of one ListObjectsV2 page."""
    try:
        root = ET.fromstring(data)  # noqa: S314 - our configured store's reply; expat resolves no entities
    except ET.ParseError as exc:
        raise PublishError(f"evidence store: unreadable ListObjectsV2 reply ({exc})") from exc
    ns = _S3_NS if root.tag.startswith(_S3_NS) else ""
    objects: list[StoredObject] = []
    for c in root.findall(f"{ns}Contents"):
        key = c.findtext(f"{ns}Key") or ""
        size = int(c.findtext(f"{ns}Size") or 0)
        modified = c.findtext(f"{ns}LastModified") or "1970-01-01T00:00:00Z"
        mtime = datetime.fromisoformat(modified.replace("Z", "+00:00")).timestamp()
        objects.append(StoredObject(key, size, mtime))
    truncated = (root.findtext(f"{ns}IsTruncated") or "false").lower() == "true"
    token = root.findtext(f"{ns}NextContinuationToken") if truncated else None
    return objects, token


def make_store(config: EvidenceConfig) -> EvidenceStore:
    """The store the evidence config names."""
    if isinstance(config.store, S3StoreConfig):
        return S3EvidenceStore(config.store)
    return LocalEvidenceStore(config.store)
