"""Which bucket a camera belongs to: a stable hash of its id, the same on every node and every release.

Python's `hash()` is salted per process, so it cannot be used; SHA-1 of the UTF-8 id (first 8 bytes, big
endian) modulo the bucket count is cheap, uniform enough for thousands of ids, and easy to reproduce
from any language (the ticketing side can compute where a camera runs).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable


def bucket_of(camera_id: str, buckets: int) -> int:
    """The bucket (assignment-topic partition) of `camera_id` among `buckets` buckets."""
    if buckets < 1:
        raise ValueError(f"bucket count must be at least 1, got {buckets}")
    digest = hashlib.sha1(camera_id.encode("utf-8"), usedforsecurity=False).digest()
    return int.from_bytes(digest[:8], "big") % buckets


def bucket_loads(camera_ids: Iterable[str], buckets: int) -> dict[int, int]:
    """Cameras per bucket (every bucket present, zero when empty): what the assignor balances."""
    loads = dict.fromkeys(range(buckets), 0)
    for cid in camera_ids:
        loads[bucket_of(cid, buckets)] += 1
    return loads
