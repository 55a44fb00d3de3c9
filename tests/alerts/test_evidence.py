"""Evidence: JPEG snapshots (clean, annotated), clips remuxed by real FFmpeg (PyAV), local retention.
The S3 store is tested against a real server in tests/alerts/test_evidence_s3.py."""

import os
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import unquote, urlsplit

import av
import cv2
import numpy as np
import pytest

from alerts.clips import FileClipSource
from alerts.evidence_config import LocalStoreConfig
from alerts.evidence_store import LocalEvidenceStore, sweep
from alerts.pipeline import AlertPipeline
from benchmarks.scenarios.video import write_h264
from detectors.event import EventKind
from foundation.errors import SourceError
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
