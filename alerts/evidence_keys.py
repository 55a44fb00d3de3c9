"""Evidence object keys and listings, shared by every store (local, S3, the upload spool).

Here, not in evidence_store.py, so the S3 store and the spool need not import the module that builds them.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class StoredObject:
    """One object in an evidence store, as retention sees it."""

    key: str
    size_bytes: int
    mtime_s: float


def check_key(key: str) -> str:
    """Keys are relative, '/'-separated and free of '..' so they cannot escape the store."""
    parts = key.split("/")
    if not key or key.startswith("/") or any(p in {"", ".", ".."} for p in parts):
        raise ValueError(f"invalid evidence key {key!r}")
    return key
