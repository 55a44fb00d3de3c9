"""Ingest worker processes (real processes, real FFmpeg, real shared memory)."""

from __future__ import annotations

import logging
import os
import signal
import threading
import time
from pathlib import Path

import av
import numpy as np
import pytest

from foundation.errors import ConfigError
from ingest.config import IngestConfig, SourceConfig
from ingest.frame import Frame
from ingest.pool import IngestPool
from ingest.queues import PerCameraQueues
from ingest.sources import CameraGroup, open_frame_source
from ingest.stats import CameraState
from tests.ingest.helpers import wait_for

pytestmark = pytest.mark.slow


def shm_names() -> set[str]:
    return set(os.listdir("/dev/shm"))


def test_pool_and_in_process_readers_deliver_the_same_frames(clip_4s: Path) -> None:
    cams = {f"cam{i}": SourceConfig(url=str(clip_4s), analysis_fps=5, resize_width=160) for i in range(2)}
    in_proc, pooled = PerCameraQueues(100), PerCameraQueues(100)
    group = CameraGroup(cams, IngestConfig(), in_proc.sink)
    pool = IngestPool(cams, IngestConfig(workers=2), pooled.sink)
    pool.start()
    group.start()
    try:
        wait_for(lambda: set(group.states().values()) == {CameraState.ENDED}, 20, "in-process cameras to end")
        wait_for(lambda: set(pool.states().values()) == {CameraState.ENDED}, 30, "pooled cameras to end")
        time.sleep(0.2)  # let the drain pick up the last frames
    finally:
        group.stop(5)
        pool.stop(10)
    for cid in cams:
        a, b = in_proc.queue(cid).drain(), pooled.queue(cid).drain()
        assert [f.seq for f in a] == [f.seq for f in b] == list(range(20))
        for fa, fb in zip(a, b, strict=True):
            assert fa.pts_s == fb.pts_s and fa.keyframe == fb.keyframe and fa.camera_id == fb.camera_id == cid
            assert fb.image.shape == (120, 160, 3) and np.array_equal(fa.image, fb.image)


def test_crashed_worker_is_restarted_and_its_cameras_resume(
    clip_4s: Path, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    cams = {
        f"cam{i}": SourceConfig(url=str(clip_4s), loop=True, analysis_fps=5, clip_buffer_s=5)
        for i in range(4)
    }
    queues = PerCameraQueues(1000)
    before_shm = shm_names()
    pool = open_frame_source(
        cams, IngestConfig(workers=2, max_frame_width=320, max_frame_height=240), queues.sink
    )
    assert isinstance(pool, IngestPool)
    pool.start()
    try:
        wait_for(lambda: set(pool.states().values()) == {CameraState.STREAMING}, 30, "all cameras streaming")
        pids = pool.worker_pids()
        victim = pids["cam0"]
        assert victim is not None
        victims = sorted(c for c, p in pids.items() if p == victim)
        survivors = sorted(c for c, p in pids.items() if p != victim)
        assert len(victims) == 2 and len(survivors) == 2

        # an evidence clip cut by the worker that demuxes the camera
        wait_for(lambda: pool.stats()["cam1"].frames_delivered >= 10, 10, "2 s of frames")
        now = time.time()
        clip = pool.write_clip("cam1", now - 1.5, now - 0.5, tmp_path / "cam1.mp4", wait_s=1.0)
        with av.open(str(clip)) as c:
            n_clip = sum(1 for _ in c.decode(video=0))
        assert 25 <= n_clip <= 55  # 1 s window plus pre-roll back to its keyframe (GOP 1 s)

        seqs_before = {c: queues.queue(c).stats().put_total for c in cams}
        os.kill(victim, signal.SIGKILL)
        wait_for(
            lambda: all(pool.states()[c] is not CameraState.STREAMING for c in victims), 5, "crash noticed"
        )
        wait_for(
            lambda: (
                pool.pool_stats().worker_restarts == 1
                and all(pool.states()[c] is CameraState.STREAMING for c in victims)
            ),
            30,
            "restart",
        )
        assert pool.worker_pids()["cam0"] not in (None, victim)
        during = {c: queues.queue(c).stats().put_total - seqs_before[c] for c in survivors}
        assert all(n >= 3 for n in during.values()), f"survivors stalled during the restart: {during}"
        wait_for(
            lambda: all(queues.queue(c).stats().put_total > seqs_before[c] + 10 for c in victims),
            15,
            "frames after the restart",
        )
        snaps = pool.stats()
        for c in victims:
            assert snaps[c].reconnects >= 1 and snaps[c].connects >= 2
            seqs = [f.seq for f in queues.queue(c).drain()]
            assert np.all(np.diff(seqs) > 0), "frame numbering continues across the restart"
        assert pool.pool_stats().workers_alive == 2
    finally:
        pool.stop(10)
    assert set(pool.states().values()) <= {CameraState.STOPPED}
    assert shm_names() == before_shm, "shared memory left behind"
    messages = [r.getMessage() for r in caplog.records]
    assert any("serving 2 camera(s)" in m for m in messages), "worker log records reach the service"
    assert any("exited with code -9" in m for m in messages)


def test_slow_consumer_overruns_the_ring_without_slowing_capture(clip_4s: Path) -> None:
    got: list[Frame] = []
    release = threading.Event()

    def slow_sink(frame: Frame) -> None:
        got.append(frame)
        release.wait(0.05)

    cams = {"fast": SourceConfig(url=str(clip_4s), realtime=False, resize_width=160, resize_height=120)}
    pool = IngestPool(cams, IngestConfig(workers=1, ring_slots=4), slow_sink)
    pool.start()
    try:
        wait_for(lambda: pool.states()["fast"] is CameraState.ENDED, 30, "end of file")
        time.sleep(0.5)
        snap = pool.stats()["fast"]
    finally:
        release.set()
        pool.stop(10)
    assert snap.frames_delivered == 100  # the worker delivered every frame at full speed
    assert snap.drops["ring_overrun"] > 0
    assert len(got) + snap.drops["ring_overrun"] + snap.drops["torn_read"] == 100
    assert np.all(np.diff([f.seq for f in got]) > 0)


def test_pool_capacity_is_checked() -> None:
    cams = {f"c{i}": SourceConfig(url=f"rtsp://cam{i}/x") for i in range(5)}
    with pytest.raises(ConfigError, match="exceed workers x cameras_per_worker"):
        IngestPool(cams, IngestConfig(workers=2, cameras_per_worker=2), lambda f: None)
    with pytest.raises(ConfigError, match="workers must be >= 1"):
        IngestPool(cams, IngestConfig(workers=0), lambda f: None)
