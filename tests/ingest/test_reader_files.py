"""CameraReader and CameraGroup on files (real FFmpeg): states, stalls, isolation, loop, evidence clips."""

from __future__ import annotations

import time
from pathlib import Path

import av
import numpy as np
import pytest

from foundation.errors import SourceError
from ingest.config import IngestConfig, SourceConfig
from ingest.queues import DropOldestQueue, PerCameraQueues
from ingest.reader import CameraReader
from ingest.sources import CameraGroup, open_frame_source
from ingest.stats import CameraState
from tests.ingest.helpers import modern_srt, wait_for


def test_file_camera_plays_to_the_end(clip_4s: Path) -> None:
    q: DropOldestQueue = DropOldestQueue(1000)
    reader = CameraReader("cam1", SourceConfig(url=str(clip_4s), realtime=False, analysis_fps=5), q.put)
    reader.start()
    wait_for(lambda: reader.state is CameraState.ENDED, 20, "end of file")
    frames = q.drain()
    snap = reader.snapshot()
    assert len(frames) == 20 == snap.frames_delivered
    assert snap.frames_decoded == 100 and snap.frames_skipped == 80 and snap.packets == 100
    assert snap.connects == 1 and snap.reconnects == 0 and (snap.width, snap.height) == (320, 240)
    assert [f.seq for f in frames] == list(range(20))
    assert reader.stop(2)
    assert reader.state is CameraState.ENDED  # an ended file stays ended (stopping changes nothing)


def test_loop_keeps_time_moving_forward(clip_4s: Path) -> None:
    q: DropOldestQueue = DropOldestQueue(1000)
    reader = CameraReader(
        "cam1", SourceConfig(url=str(clip_4s), realtime=False, loop=True, analysis_fps=2), q.put
    )
    reader.start()
    wait_for(lambda: reader.stats.get("frames_delivered") >= 20, 20, "three passes over the file")
    reader.stop(2)
    pts = [f.pts_s for f in q.drain()]
    assert len(pts) >= 20 and np.all(np.diff(pts) > 0)
    assert pts[-1] > 8.0  # past two whole passes of a 4 s file


def test_bad_files_fail_only_their_camera(
    clip_4s: Path, empty_file: Path, unsupported_file: Path, tmp_path: Path
) -> None:
    queues = PerCameraQueues(100)
    cams = {
        "good": SourceConfig(url=str(clip_4s), realtime=True, loop=True, analysis_fps=5),
        "empty": SourceConfig(url=str(empty_file)),
        "unsupported": SourceConfig(url=str(unsupported_file)),
        "missing": SourceConfig(url=str(tmp_path / "missing.mp4")),
    }
    group = CameraGroup(cams, IngestConfig(), queues.sink)
    group.start()
    try:
        wait_for(
            lambda: all(group.states()[c] is CameraState.FAILED for c in ("empty", "unsupported", "missing")),
            10,
            "bad cameras to fail",
        )
        before = group.stats()["good"].frames_delivered
        time.sleep(1.0)
        assert group.states()["good"] is CameraState.STREAMING
        assert group.stats()["good"].frames_delivered >= before + 4  # 5 fps keeps flowing
        errors = {c: group.readers[c].last_error for c in ("empty", "unsupported", "missing")}
        assert "is empty (0 bytes)" in errors["empty"]
        assert "unsupported video codec" in errors["unsupported"]
        assert "cannot read file" in errors["missing"]
        assert all(e.startswith(f"camera {c}:") for c, e in errors.items())
    finally:
        group.stop(5)
    assert set(group.states().values()) <= {CameraState.STOPPED, CameraState.FAILED}


def test_drone_file_gets_poses_and_bad_telemetry_fails_only_its_camera(clip_4s: Path, tmp_path: Path) -> None:
    good_srt = tmp_path / "good.SRT"
    good_srt.write_text(modern_srt([(30.0, 120.0, 80.0, 45.0, -70.0, 0.0)] * 120), encoding="utf-8")
    bad_srt = tmp_path / "bad.SRT"
    bad_srt.write_text("1\n00:00:00,000 --> 00:00:01,000\n[iso: 100] [shutter: 1/60.0]\n", encoding="utf-8")
    queues = PerCameraQueues(100)
    cams = {
        "drone": SourceConfig(url=str(clip_4s), realtime=False, analysis_fps=5, telemetry=good_srt),
        "drone_bad": SourceConfig(url=str(clip_4s), realtime=False, telemetry=bad_srt),
    }
    group = CameraGroup(cams, IngestConfig(), queues.sink)
    group.start()
    try:
        wait_for(lambda: group.states()["drone"] is CameraState.ENDED, 20, "drone file to end")
        wait_for(lambda: group.states()["drone_bad"] is CameraState.FAILED, 5, "bad telemetry to fail")
    finally:
        group.stop(5)
    frames = queues.queue("drone").drain()
    assert len(frames) == 20 and all(f.pose is not None for f in frames)
    pose = frames[-1].pose
    assert pose is not None and (pose.lat_deg, pose.gimbal_yaw_deg, pose.gimbal_pitch_deg) == (
        30.0,
        45.0,
        -70.0,
    )
    error = group.readers["drone_bad"].last_error
    assert error.startswith("camera drone_bad:") and "no valid telemetry sample" in error


def test_packets_without_decodable_frames_flag_no_decode(clip_garbage_tail: Path) -> None:
    q: DropOldestQueue = DropOldestQueue(100)
    cfg = SourceConfig(url=str(clip_garbage_tail), realtime=True, no_decode_timeout_s=1.0)
    reader = CameraReader("cam1", cfg, q.put)
    reader.start()
    try:
        wait_for(lambda: reader.stats.get("frames_delivered") >= 20, 10, "the good first second")
        waited = wait_for(lambda: reader.state is CameraState.NO_DECODE, 6, "no_decode")
        snap = reader.snapshot()
        assert snap.decode_errors > 0 and snap.packets > snap.frames_decoded
        assert waited < 4.0  # flagged about 1 s (no_decode_timeout_s) after the good part ended
        time.sleep(0.7)
    finally:
        reader.stop(2)
    assert reader.snapshot().stall_s["no_decode"] > 0.5


def test_identical_frames_flag_frozen(clip_static: Path, clip_4s: Path) -> None:
    q: DropOldestQueue = DropOldestQueue(100)
    frozen = CameraReader("still", SourceConfig(url=str(clip_static), loop=True, frozen_after_s=1.0), q.put)
    moving = CameraReader("moving", SourceConfig(url=str(clip_4s), loop=True, frozen_after_s=1.0), q.put)
    frozen.start()
    moving.start()
    try:
        waited = wait_for(lambda: frozen.state is CameraState.FROZEN, 5, "frozen")
        assert waited < 3.0
        time.sleep(1.5)
        assert moving.state is CameraState.STREAMING
        assert frozen.state is CameraState.FROZEN  # stays frozen across keyframes (re-quantised picture)
    finally:
        frozen.stop(2)
        moving.stop(2)
    assert frozen.snapshot().stall_s["frozen"] > 1.0 and moving.snapshot().stall_s["frozen"] == 0.0


def test_consumer_that_never_reads_costs_frames_not_capture(clip_4s: Path) -> None:
    q: DropOldestQueue = DropOldestQueue(2)
    reader = CameraReader("cam1", SourceConfig(url=str(clip_4s), realtime=False), q.put)
    reader.start()
    wait_for(lambda: reader.state is CameraState.ENDED, 20, "end of file")
    assert reader.stats.get("frames_delivered") == 100
    assert q.stats().dropped["queue_full"] == 98
    assert [f.seq for f in q.drain()] == [98, 99]


def test_stop_interrupts_realtime_wait_promptly(clip_4s: Path) -> None:
    reader = CameraReader("cam1", SourceConfig(url=str(clip_4s), analysis_fps=0.2, loop=True), lambda f: None)
    reader.start()
    wait_for(lambda: reader.stats.get("frames_delivered") >= 1, 10, "first frame")
    t0 = time.monotonic()
    assert reader.stop(3)
    assert time.monotonic() - t0 < 1.0


def decoded_frames(path: Path) -> list[av.VideoFrame]:
    with av.open(str(path)) as c:
        return list(c.decode(video=0))


@pytest.mark.parametrize("suffix", [".mp4", ".mkv"])
def test_evidence_clip_is_remuxed_from_the_packet_ring(clip_4s: Path, tmp_path: Path, suffix: str) -> None:
    frames: DropOldestQueue = DropOldestQueue(1000)
    cfg = SourceConfig(url=str(clip_4s), loop=True, clip_buffer_s=6.0)
    reader = CameraReader("cam1", cfg, frames.put)
    reader.start()
    try:
        wait_for(lambda: reader.stats.get("frames_delivered") >= 75, 10, "3 s of frames")
        delivered = frames.drain()
        start, end = delivered[30].captured_at, delivered[60].captured_at  # 1.2 s .. 2.4 s of the file
        out = reader.write_clip(start, end, tmp_path / f"evidence{suffix}", wait_s=1.0)
    finally:
        reader.stop(2)
    clip = decoded_frames(out)
    # from the keyframe at or before the window start (1.0 s) to the window end (2.4 s), both included
    assert len(clip) == 36
    assert clip[0].key_frame
    # the remuxed pictures are the camera's own: same as the frames delivered for those times
    ref = delivered[25].image  # the 1.0 s keyframe
    assert np.abs(clip[0].to_ndarray(format="bgr24").astype(int) - ref).mean() < 1.0


def test_clip_window_outside_the_buffer_is_a_clear_error(clip_4s: Path, tmp_path: Path) -> None:
    reader = CameraReader(
        "cam1", SourceConfig(url=str(clip_4s), loop=True, clip_buffer_s=2.0), lambda f: None
    )
    reader.start()
    try:
        wait_for(lambda: reader.stats.get("frames_delivered") >= 10, 10, "frames")
        now = time.time()
        with pytest.raises(SourceError, match="camera cam1: no recorded keyframe"):
            reader.write_clip(now - 3600, now - 3500, tmp_path / "old.mp4")
        with pytest.raises(SourceError, match="ends before it starts"):
            reader.write_clip(now, now - 1, tmp_path / "bad.mp4")
    finally:
        reader.stop(2)
    no_buffer = CameraReader("cam2", SourceConfig(url=str(clip_4s)), lambda f: None)
    with pytest.raises(SourceError, match="no clip buffer"):
        no_buffer.write_clip(0, 1, tmp_path / "x.mp4")


def test_open_frame_source_in_process_when_no_workers(clip_4s: Path) -> None:
    queues = PerCameraQueues(10)
    source = open_frame_source(
        {"a": SourceConfig(url=str(clip_4s), realtime=False)}, IngestConfig(), queues.sink
    )
    assert isinstance(source, CameraGroup)
    source.start()
    wait_for(lambda: source.states()["a"] is CameraState.ENDED, 20, "end")
    source.stop(2)
    assert queues.queue("a").stats().put_total == 100
