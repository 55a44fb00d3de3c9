"""The evidence store, as the survey archive's `SurveyStore` (detectors.construction.survey.archive).

Detectors never import this package, so the survey archive names the few operations it needs in a
protocol of its own; this adapter gives them over the local or S3 evidence store, so survey mosaics,
change crops and survey summaries sit beside the alerts' evidence, under one retention policy that keeps
them (`alerts.evidence.retention_keep_prefixes`). `gridwatch` wires it into the construction detector.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Protocol

from alerts.evidence_config import EvidenceConfig, S3StoreConfig
from alerts.evidence_keys import check_key
from alerts.evidence_store import EvidenceStore, LocalEvidenceStore
from foundation.errors import PublishError


class ReadableEvidenceStore(EvidenceStore, Protocol):
    """An evidence store that can also read objects back and list a prefix (both stores can)."""

    def get_bytes(self, key: str) -> bytes | None:
        """The object's bytes, or None when there is none."""
        ...

    def list_keys(self, prefix: str) -> list[str]:
        """Keys under a '/'-separated prefix."""
        ...


class EvidenceSurveyStore:
    """`SurveyStore` over an evidence store (structural: nothing here imports detectors)."""

    def __init__(self, store: ReadableEvidenceStore) -> None:
        self.store = store

    def uri_for(self, key: str) -> str:
        return self.store.uri_for(key)

    def put_bytes(self, key: str, data: bytes, content_type: str) -> None:
        self.store.put_bytes(key, data, content_type)

    def put_file(self, key: str, path: Path, content_type: str) -> None:
        self.store.put_file(key, path, content_type)

    def get_file(self, key: str, dest: Path) -> bool:
        """Write the object to `dest` (atomically); False when there is no such object."""
        data = self.store.get_bytes(check_key(key))
        if data is None:
            return False
        dest.parent.mkdir(parents=True, exist_ok=True)
        try:
            fd, tmp = tempfile.mkstemp(dir=dest.parent, prefix=".tmp-", suffix=dest.suffix)
            with os.fdopen(fd, "wb") as fh:
                fh.write(data)
            os.replace(tmp, dest)
        except OSError as exc:
            raise PublishError(f"survey store: cannot write {dest}: {exc.strerror}") from exc
        return True

    def list_keys(self, prefix: str) -> list[str]:
        return self.store.list_keys(prefix)


def survey_store(config: EvidenceConfig) -> EvidenceSurveyStore:
    """The survey store over the evidence store the config names (local directory or S3)."""
    if isinstance(config.store, S3StoreConfig):
        # Straight to the bucket, not behind the alerts' upload spool: a later flight must read a mosaic
        # back, and a survey write that fails is logged by the recorder and the flight kept uncompared.
        from alerts.s3_store import S3EvidenceStore  # noqa: PLC0415 - boto3 only when configured

        store: ReadableEvidenceStore = S3EvidenceStore(config.store)
    else:
        store = LocalEvidenceStore(config.store)
    return EvidenceSurveyStore(store)
