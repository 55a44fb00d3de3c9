"""Evidence to S3 through boto3 against a real S3 server process that checks every request's signature
(moto's server with authentication on; why moto: tests/infra/s3.py). A wrong key or secret is refused and
reported without secrets; a store that stops answering never delays an alert, the evidence waits in the
spool and reaches the store when it answers again, across a restart too, and the alert's URIs then name
objects that exist, with their metadata."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from alerts.evidence_config import S3StoreConfig
from alerts.evidence_spool import SpoolingStore
from alerts.evidence_store import sweep
from alerts.pipeline import AlertPipeline
from alerts.s3_store import S3EvidenceStore
from detectors.event import EventKind
from foundation.errors import PublishError
from tests.alerts.factories import alerts_config, event, frame
from tests.infra.s3 import MotoS3Server, wait_until

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def s3(tmp_path_factory: pytest.TempPathFactory) -> Iterator[MotoS3Server]:
    server = MotoS3Server(tmp_path_factory.mktemp("moto")).start()
    try:
        yield server
    finally:
        server.stop()


def s3_config(s3: MotoS3Server, tmp: Path, **overrides: Any) -> dict[str, Any]:
    return s3.store_config(spool_dir=str(tmp / "spool"), timeout_s=1.0, max_attempts=1,
                           retry_backoff_initial_s=0.2, retry_backoff_max_s=1.0, **overrides)


def pipeline(s3: MotoS3Server, tmp: Path, **store: Any) -> AlertPipeline:
    cfg = alerts_config(tmp, evidence={"store": s3_config(s3, tmp, **store), "scratch_dir": str(tmp / "scratch")},
                        dedup={"enabled": False})
    return AlertPipeline(cfg, node_id="n", config_version="c")


def object_key(uri: str) -> str:
    prefix = "s3://gw-evidence/"
    assert uri.startswith(prefix), uri
    return uri[len(prefix):]


def test_put_head_list_sweep_delete(s3: MotoS3Server, tmp_path: Path) -> None:
    store = S3EvidenceStore(S3StoreConfig.model_validate(s3_config(s3, tmp_path)))
    key = "2026/05/01/fire/cam 1/a-snapshot.jpg"
    assert store.uri_for(key) == f"s3://gw-evidence/gw/{key}"
    store.put_bytes(key, b"\xff\xd8jpeg", "image/jpeg", {"alert-id": "a", "kind": "fire", "source": "cam%201"})
    head = store.head(key)
    assert head["ContentType"] == "image/jpeg" and head["ContentLength"] == 6
    assert head["Metadata"] == {"alert-id": "a", "kind": "fire", "source": "cam%201"}
    clip = tmp_path / "clip.mp4"
    clip.write_bytes(b"m" * 100)
    store.put_file("2026/05/01/fire/cam-2/b-clip.mp4", clip, "video/mp4")
    assert not clip.exists()
    assert sorted(o.key for o in store.list_objects()) == [key, "2026/05/01/fire/cam-2/b-clip.mp4"]
    result = sweep(store, now_s=time.time(), max_age_s=3600.0, max_total_bytes=100)
    assert result.deleted_files == 1 and [o.key for o in store.list_objects()] == ["2026/05/01/fire/cam-2/b-clip.mp4"]
    store.delete("2026/05/01/fire/cam-2/b-clip.mp4")
    assert store.list_objects() == []


@pytest.mark.parametrize(("wrong", "code"), [("secret_access_key", "SignatureDoesNotMatch"),
                                             ("access_key_id", "InvalidAccessKeyId")])
def test_a_wrong_key_is_refused_and_reported_without_secrets(
    s3: MotoS3Server, tmp_path: Path, wrong: str, code: str
) -> None:
    bad_value = "Wrong-Canary-7731"
    store = S3EvidenceStore(S3StoreConfig.model_validate(s3_config(s3, tmp_path, **{wrong: bad_value})))
    with pytest.raises(PublishError) as err:
        store.put_bytes("k/x.jpg", b"x", "image/jpeg")
    message = str(err.value)
    assert code in message and s3.endpoint_url in message and "access_key_id" in message
    assert not err.value.retryable
    assert bad_value not in message and s3.secret_access_key not in message

    # Through the pipeline: the alert goes out at once, the evidence waits in the spool, nothing is stored.
    p = pipeline(s3, tmp_path, **{wrong: bad_value})
    p.start()
    alert = p.handle(event(EventKind.FIRE, source_id="cam-r", snapshot=frame("cam-r"), t=time.time()))
    assert alert is not None and alert.evidence.snapshot_uri
    spool = p.evidence.store if p.evidence else None
    assert isinstance(spool, SpoolingStore)
    wait_until(lambda: spool.stats.upload_failures >= 2, 20, "upload retries")
    assert code in spool.stats.last_error and spool.stats.pending == 2 and spool.stats.uploaded == 0
    p.close()


def test_a_store_that_stops_answering_never_delays_alerts_and_evidence_catches_up(
    s3: MotoS3Server, tmp_path: Path
) -> None:
    p = pipeline(s3, tmp_path)
    p.start()
    s3.pause()
    try:
        started = time.monotonic()
        alerts = [p.handle(event(EventKind.FIRE, source_id=f"cam-{i}", incident_id=f"o{i}",
                                 snapshot=frame(f"cam-{i}"), t=time.time())) for i in range(6)]
        handle_s = time.monotonic() - started
        assert all(a is not None for a in alerts) and p.outbox.depth() == 0  # outbox is the destination here
        assert handle_s < 3.0, f"alerts waited for the store: {handle_s:.1f} s for 6"
        spool = p.evidence.store if p.evidence else None
        assert isinstance(spool, SpoolingStore)
        wait_until(lambda: spool.stats.pending == 12 and spool.stats.upload_failures >= 1, 30,
                   "12 evidence files spooled and a failed upload")
        assert spool.stats.uploaded == 0
    finally:
        s3.resume()
    assert spool.drain(60), spool.stats.last_error
    client: Any = s3.client()
    secrets = (s3.secret_access_key, s3.access_key_id)
    for a in alerts:
        assert a is not None
        assert not any(secret in a.model_dump_json() for secret in secrets)  # canaries: the store's keys
        for uri in (a.evidence.snapshot_uri, a.evidence.snapshot_annotated_uri):
            assert uri is not None
            head = client.head_object(Bucket=s3.bucket, Key=object_key(uri))
            assert head["ContentType"] == "image/jpeg"
            assert head["Metadata"] == {"alert-id": a.alert_id, "kind": "fire", "source": a.source}
            assert not any(secret in f"{uri} {head['Metadata']}" for secret in secrets)
    p.close()


def test_spooled_evidence_survives_a_restart(s3: MotoS3Server, tmp_path: Path) -> None:
    first = pipeline(s3, tmp_path)
    first.start()
    s3.pause()
    try:
        alert = first.handle(event(EventKind.FIRE, source_id="cam-restart", snapshot=frame("cam-restart"),
                                   t=time.time()))
        spool = first.evidence.store if first.evidence else None
        assert isinstance(spool, SpoolingStore)
        wait_until(lambda: spool.stats.pending == 2, 20, "two spooled files")
        first.close()  # stops while the store does not answer: the files stay in the spool
    finally:
        s3.resume()
    assert alert is not None and len(list((tmp_path / "spool").rglob("*.jpg"))) == 2
    second = pipeline(s3, tmp_path)
    second.start()
    again = second.evidence.store if second.evidence else None
    assert isinstance(again, SpoolingStore)
    assert again.drain(30), again.stats.last_error
    client: Any = s3.client()
    assert alert.evidence.snapshot_uri is not None
    assert client.head_object(Bucket=s3.bucket, Key=object_key(alert.evidence.snapshot_uri))["ContentLength"] > 0
    assert list((tmp_path / "spool").rglob("*.jpg")) == []
    second.close()
