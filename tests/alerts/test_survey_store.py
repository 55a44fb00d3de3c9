"""The evidence store as the survey archive's store: read back, list a prefix, kept by retention.

S3 runs against moto's S3 server with authentication on (tests/infra/s3.py, a real HTTP S3 implementation
in its own process), so the signed GET and the prefixed ListObjectsV2 go through boto3 end to end.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from alerts.evidence_config import EvidenceConfig, LocalStoreConfig, S3StoreConfig
from alerts.evidence_store import LocalEvidenceStore, sweep
from alerts.s3_store import S3EvidenceStore
from alerts.survey_store import EvidenceSurveyStore, survey_store
from tests.infra.s3 import MotoS3Server


def test_local_store_reads_back_lists_a_prefix_and_says_when_missing(tmp_path: Path) -> None:
    store = survey_store(EvidenceConfig.model_validate({"store": {"type": "local", "dir": str(tmp_path / "ev")}}))
    src = tmp_path / "m.tif"
    src.write_bytes(b"II*\x00cog")
    store.put_file("surveys/s1/mosaic.tif", src, "image/tiff")
    store.put_bytes("surveys/s1/survey.json", b"{}", "application/json")
    store.put_bytes("2026/01/01/fire/cam/a-snapshot.jpg", b"jpg", "image/jpeg")
    assert not src.exists()
    assert sorted(store.list_keys("surveys/")) == ["surveys/s1/mosaic.tif", "surveys/s1/survey.json"]
    assert store.list_keys("nothing/") == []
    out = tmp_path / "back" / "m.tif"
    assert store.get_file("surveys/s1/mosaic.tif", out) and out.read_bytes() == b"II*\x00cog"
    assert not store.get_file("surveys/s2/mosaic.tif", tmp_path / "x.tif")
    with pytest.raises(ValueError, match="invalid evidence key"):
        store.get_file("../etc/passwd", tmp_path / "p")


def test_retention_never_sweeps_survey_mosaics(tmp_path: Path) -> None:
    local = LocalEvidenceStore(LocalStoreConfig(dir=tmp_path / "ev"))
    local.put_bytes("surveys/s1/mosaic.tif", b"m" * 5000, "image/tiff")
    local.put_bytes("2026/01/01/fire/cam/a-snapshot.jpg", b"j" * 100, "image/jpeg")
    result = sweep(
        local, now_s=time.time() + 10 * 365 * 86_400, max_age_s=3600.0, max_total_bytes=10, keep_prefixes=("surveys/",)
    )
    assert result.deleted_files == 1
    assert local.list_keys("surveys/") == ["surveys/s1/mosaic.tif"]
    assert EvidenceConfig().retention_keep_prefixes == ["surveys/"]


@pytest.fixture
def moto_s3(tmp_path: Path) -> Iterator[S3StoreConfig]:
    pytest.importorskip("boto3")
    pytest.importorskip("moto")
    server = MotoS3Server(tmp_path / "moto").start()
    try:
        yield S3StoreConfig.model_validate(server.store_config(spool_dir=str(tmp_path / "spool")))
    finally:
        server.stop()


def test_s3_store_reads_back_and_lists_a_prefix(moto_s3: S3StoreConfig, tmp_path: Path) -> None:
    store = EvidenceSurveyStore(S3EvidenceStore(moto_s3))
    store.put_bytes("surveys/s1/survey.json", b'{"a": 1}', "application/json")
    store.put_bytes("surveys/s1/mosaic.tif", b"II*\x00" + bytes(range(256)) * 40, "image/tiff")
    store.put_bytes("2026/01/01/construction/d1/a-snapshot.jpg", b"jpg", "image/jpeg")
    assert sorted(store.list_keys("surveys/")) == ["surveys/s1/mosaic.tif", "surveys/s1/survey.json"]
    out = tmp_path / "m.tif"
    assert store.get_file("surveys/s1/mosaic.tif", out)
    assert out.read_bytes() == b"II*\x00" + bytes(range(256)) * 40
    assert not store.get_file("surveys/none/mosaic.tif", tmp_path / "n.tif")
    assert store.uri_for("surveys/s1/mosaic.tif") == "s3://gw-evidence/gw/surveys/s1/mosaic.tif"


def test_survey_store_over_s3_writes_straight_to_the_bucket(moto_s3: S3StoreConfig) -> None:
    # Not behind the alerts' upload spool: a later flight reads the mosaic back from the bucket.
    store = survey_store(EvidenceConfig(store=moto_s3))
    assert isinstance(store.store, S3EvidenceStore)
    store.put_bytes("surveys/s2/survey.json", b"{}", "application/json")
    assert store.list_keys("surveys/s2/") == ["surveys/s2/survey.json"]
