"""The evidence store as the survey archive's store: read back, list a prefix, kept by retention.

S3 runs against moto's S3 server (a real HTTP S3 implementation, started in-process), so the SigV4 GET
and the prefixed ListObjectsV2 are exercised end to end.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from alerts.config import EvidenceConfig, LocalStoreConfig, S3StoreConfig
from alerts.evidence_store import LocalEvidenceStore, S3EvidenceStore, sweep
from alerts.survey_store import EvidenceSurveyStore, survey_store
from tests.infra.ports import free_port


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
def moto_s3() -> Iterator[S3StoreConfig]:
    moto_server = pytest.importorskip("moto.server")
    boto3 = pytest.importorskip("boto3")
    port = free_port()
    server = moto_server.ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    try:
        endpoint = f"http://127.0.0.1:{port}"
        boto3.client(
            "s3",
            endpoint_url=endpoint,
            region_name="us-east-1",
            aws_access_key_id="AKID",
            aws_secret_access_key="SECRET",
        ).create_bucket(Bucket="evidence")
        yield S3StoreConfig(
            endpoint_url=endpoint,
            bucket="evidence",
            region="us-east-1",
            access_key_id="AKID",
            secret_access_key="SECRET",
            prefix="gw/",
        )
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
    assert store.uri_for("surveys/s1/mosaic.tif") == "s3://evidence/gw/surveys/s1/mosaic.tif"
