"""Evidence: JPEG snapshots (clean, annotated), clips remuxed by real FFmpeg (PyAV), retention, S3 store."""

import hashlib
import os
import re
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlsplit

import av
import cv2
import numpy as np
import pytest

from alerts.clips import FileClipSource
from alerts.config import LocalStoreConfig, S3StoreConfig
from alerts.evidence_store import LocalEvidenceStore, S3EvidenceStore, sweep
from alerts.pipeline import AlertPipeline
from benchmarks.scenarios.video import write_h264
from detectors.event import EventKind
from foundation.errors import PublishError, SourceError
from tests.alerts.factories import alerts_config, event, frame, throw_event

FPS = 25


@pytest.fixture(scope="module")
def source_video(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """10 s of 320x240 H.264 at 25 fps, one keyframe per second; the frame number is drawn as a bar."""
    path = tmp_path_factory.mktemp("video") / "cam.mp4"

    def frames() -> Iterator[np.ndarray]:
        for i in range(10 * FPS):
            img = np.full((240, 320, 3), 40, np.uint8)
            cv2.rectangle(img, (0, 200), (min(319, i), 239), (255, 255, 255), -1)
            yield img

    write_h264(path, frames(), fps=FPS, gop=FPS)
    return path


def local_path(uri: str) -> Path:
    assert uri.startswith("file://")
    return Path(unquote(urlsplit(uri).path))


def test_snapshots_and_clip_are_written_after_the_alert(tmp_path: Path, source_video: Path) -> None:
    cfg = alerts_config(
        tmp_path, evidence={"clip_pre_roll_s": 1.0, "clip_post_roll_s": 1.0, "clip_wait_margin_s": 0.0}
    )
    p = AlertPipeline(cfg, node_id="n", config_version="c")
    p.start()
    snap = frame("cam-9", pts_s=5.0)
    alert = p.handle(
        event(EventKind.FIRE, source_id="cam-9", snapshot=snap, window_s=(3.2, 5.0)),
        clip_source=FileClipSource(source_video, source_id="cam-9"),
    )
    assert alert is not None
    ev = alert.evidence
    assert ev.snapshot_uri and ev.snapshot_annotated_uri and ev.clip_uri
    assert (ev.clip_start_pts_s, ev.clip_end_pts_s) == (2.2, 6.0)
    assert p.evidence is not None and p.evidence.flush(20.0)
    p.close()

    clean = cv2.imread(str(local_path(ev.snapshot_uri)))
    drawn = cv2.imread(str(local_path(ev.snapshot_annotated_uri)))
    assert clean.shape == drawn.shape == snap.image.shape
    assert float(np.abs(clean.astype(int) - snap.image.astype(int)).mean()) < 4.0  # JPEG of the frame
    x1, y1, y2 = 20, 30, 150  # left edge of the factories.event box (20, 30, 120, 150)
    edge = drawn[y1 + 20 : y2 - 20, x1].astype(int)
    assert (edge[:, 2] > 180).all() and (edge[:, 0] < 80).all()  # red box edge (BGR) on the fire snapshot
    assert float(np.abs(clean[y1 + 20 : y2 - 20, x1].astype(int)[:, 2] - edge[:, 2]).mean()) > 40

    with av.open(str(local_path(ev.clip_uri))) as clip:
        stream = clip.streams.video[0]
        packets = [pk for pk in clip.demux(stream) if pk.pts is not None]
        clip.seek(0)
        decoded = list(clip.decode(video=0))
    assert packets[0].is_keyframe
    # from the keyframe at 2.0 s (at or before 2.2 s) up to 6.0 s: 101 frames, all decodable, no re-encode
    assert len(packets) == len(decoded) == 101
    assert stream.codec_context.name == "h264"
    bar_px = int((decoded[0].to_ndarray(format="bgr24")[220, :, 0] > 128).sum())
    assert 48 <= bar_px <= 52  # the first frame of the clip is frame 50 of the source (bar 0..50 px)
    assert p.evidence.stats.written == {"snapshot": 1, "annotated": 1, "clip": 1}


def test_throw_snapshot_draws_the_trajectory(tmp_path: Path) -> None:
    p = AlertPipeline(alerts_config(tmp_path), node_id="n", config_version="c")
    p.start()
    alert = p.handle(throw_event(snapshot=frame("cam-t")), clip_source=None)
    assert alert is not None and p.evidence is not None and p.evidence.flush(10.0)
    p.close()
    drawn = cv2.imread(str(local_path(alert.evidence.snapshot_annotated_uri or "")))
    seg = drawn[45:75, 98:105].astype(int)  # between trajectory points (101, 40) and (102, 80)
    magenta = (seg[:, :, 0] > 150) & (seg[:, :, 2] > 150) & (seg[:, :, 1] < 100)
    assert magenta.sum() > 10
    assert alert.evidence.clip_uri is None and p.evidence.stats.skipped["no_clip_source"] == 1


def test_clip_outside_the_recording_is_a_source_error(tmp_path: Path, source_video: Path) -> None:
    src = FileClipSource(source_video, source_id="cam-9")
    with pytest.raises(SourceError, match="cam-9"):
        src.write_clip(30.0, 32.0, tmp_path / "x.mp4")
    assert not (tmp_path / "x.mp4").exists()


def test_full_evidence_queue_skips_evidence_but_not_the_alert(tmp_path: Path, source_video: Path) -> None:
    cfg = alerts_config(tmp_path, evidence={"queue_max_jobs": 2, "clip_post_roll_s": 60.0})
    p = AlertPipeline(cfg, node_id="n", config_version="c")  # not started: jobs stay queued
    clip = FileClipSource(source_video)
    a = p.handle(event(source_id="c1", snapshot=frame("c1"), window_s=(1.0, 2.0)), clip_source=clip)
    b = p.handle(
        event(source_id="c2", incident_id="b", lat=31.0, snapshot=frame("c2"), window_s=(1.0, 2.0)),
        clip_source=clip,
    )
    assert a is not None and a.evidence.clip_uri is not None
    assert b is not None and b.evidence.snapshot_uri is None and b.evidence.clip_uri is None
    assert p.evidence is not None and p.evidence.stats.skipped["queue_full"] == 1
    assert p.outbox.get(b.alert_id) is not None
    p.evidence.start()
    assert p.evidence.stop(10.0)  # stop runs queued jobs now; the clip gets what the file has
    assert p.evidence.stats.written["clip"] == 1


def test_local_retention_by_age_then_size(tmp_path: Path) -> None:
    store = LocalEvidenceStore(LocalStoreConfig(dir=tmp_path / "ev"))
    now = time.time()
    for i in range(6):
        key = f"2024/05/0{i + 1}/fire/cam-1/a{i}-snapshot.jpg"
        store.put_bytes(key, b"x" * 1000, "image/jpeg")
        os.utime(store.path_for(key), (now - (6 - i) * 86400, now - (6 - i) * 86400))
    result = sweep(store, now_s=now, max_age_s=4.5 * 86400, max_total_bytes=2500)
    left = sorted(o.key for o in store.list_objects())
    assert left == ["2024/05/05/fire/cam-1/a4-snapshot.jpg", "2024/05/06/fire/cam-1/a5-snapshot.jpg"]
    assert (result.deleted_files, result.kept_bytes) == (4, 2000)
    assert not (tmp_path / "ev" / "2024" / "05" / "01").exists()  # emptied directories are removed


class FakeS3Server:
    """A fake S3 endpoint at the HTTP seam: stores PUT bodies, lists (ListObjectsV2 XML) and deletes.

    It checks what a real store checks before the signature itself (which the SigV4 vectors cover):
    path-style bucket, the payload hash header matching the body, and a well-formed Authorization header.
    """

    def __init__(self, bucket: str, deny: bool = False) -> None:
        self.bucket = bucket
        self.deny = deny
        self.objects: dict[str, tuple[bytes, float, str]] = {}
        self.requests: list[tuple[str, str, dict[str, str]]] = []
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:
                return

            def _auth_ok(self, body: bytes) -> bool:
                h = {k.lower(): v for k, v in self.headers.items()}
                server.requests.append((self.command, self.path, h))
                auth = h.get("authorization", "")
                return (
                    not server.deny
                    and hashlib.sha256(body).hexdigest() == h.get("x-amz-content-sha256")
                    and re.match(
                        r"AWS4-HMAC-SHA256 Credential=AKID/\d{8}/eu-1/s3/aws4_request, "
                        r"SignedHeaders=[a-z0-9;-]+, Signature=[0-9a-f]{64}$",
                        auth,
                    )
                    is not None
                )

            def _reply(self, code: int, body: bytes = b"") -> None:
                self.send_response(code)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def do_PUT(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                if not self._auth_ok(body):
                    self._reply(403, b"<Error><Code>SignatureDoesNotMatch</Code></Error>")
                    return
                key = unquote(self.path).split(f"/{server.bucket}/", 1)[1]
                server.objects[key] = (body, time.time(), self.headers.get("Content-Type", ""))
                self._reply(200)

            def do_GET(self) -> None:
                if not self._auth_ok(b""):
                    self._reply(403)
                    return
                q = parse_qs(urlsplit(self.path).query)
                prefix = q.get("prefix", [""])[0]
                items = "".join(
                    f"<Contents><Key>{k}</Key><Size>{len(v[0])}</Size><LastModified>"
                    f"{datetime.fromtimestamp(v[1], UTC).strftime('%Y-%m-%dT%H:%M:%S.000Z')}"
                    "</LastModified></Contents>"
                    for k, v in sorted(server.objects.items())
                    if k.startswith(prefix)
                )
                xml = (
                    '<?xml version="1.0" encoding="UTF-8"?><ListBucketResult '
                    'xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><IsTruncated>false</IsTruncated>'
                    f"{items}</ListBucketResult>"
                )
                self._reply(200, xml.encode())

            def do_DELETE(self) -> None:
                if not self._auth_ok(b""):
                    self._reply(403)
                    return
                server.objects.pop(unquote(self.path).split(f"/{server.bucket}/", 1)[1], None)
                self._reply(204)

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.httpd.server_address[1]
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


def s3_config(port: int) -> S3StoreConfig:
    return S3StoreConfig(
        endpoint_url=f"http://127.0.0.1:{port}",
        bucket="evidence",
        region="eu-1",
        access_key_id="AKID",
        secret_access_key="TOPSECRET",
        prefix="gw/",
    )


def test_s3_store_put_list_sweep_delete() -> None:
    fake = FakeS3Server("evidence")
    try:
        store = S3EvidenceStore(s3_config(fake.port))
        key = "2024/05/01/fire/cam 1/a-snapshot.jpg"
        assert store.uri_for(key) == f"s3://evidence/gw/{key}"
        store.put_bytes(key, b"\xff\xd8jpeg", "image/jpeg")
        assert fake.objects["gw/" + key][0] == b"\xff\xd8jpeg"
        assert fake.objects["gw/" + key][2] == "image/jpeg"
        store.put_bytes("2024/05/01/fire/cam-2/b-snapshot.jpg", b"y" * 100, "image/jpeg")
        listed = sorted(store.list_objects(), key=lambda o: o.key)
        assert [o.key for o in listed] == [
            "2024/05/01/fire/cam 1/a-snapshot.jpg",
            "2024/05/01/fire/cam-2/b-snapshot.jpg",
        ]
        result = sweep(store, now_s=time.time(), max_age_s=3600.0, max_total_bytes=100)
        assert result.deleted_files == 1 and list(fake.objects) == ["gw/2024/05/01/fire/cam-2/b-snapshot.jpg"]
        method, path, headers = fake.requests[0]
        assert (method, path) == ("PUT", "/evidence/gw/2024/05/01/fire/cam%201/a-snapshot.jpg")
        assert "TOPSECRET" not in headers["authorization"]
    finally:
        fake.close()


def test_s3_rejection_is_a_publish_error_without_secrets() -> None:
    fake = FakeS3Server("evidence", deny=True)
    try:
        store = S3EvidenceStore(s3_config(fake.port))
        with pytest.raises(PublishError) as err:
            store.put_bytes("k.jpg", b"x", "image/jpeg")
        assert "403" in str(err.value) and "SignatureDoesNotMatch" in str(err.value)
        assert not err.value.retryable and "TOPSECRET" not in str(err.value)
    finally:
        fake.close()
