"""Frames from a video file, pulled by the caller: for `gridwatch replay`, benchmarks and accuracy tests.

Unlike `CameraReader` (a thread that pushes frames and reconnects), this is a plain iterator: the caller
decides the pace. `realtime=True` paces frames at the file's native speed, as a camera would send them.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import av

from foundation.errors import SourceError
from ingest.config import DecodeMode, TelemetryDefaults
from ingest.decode import PacketPacer, StreamDecoder, open_input, to_bgr
from ingest.frame import Frame
from ingest.srt import TelemetryTrack, load_srt


def iter_file_frames(
    path: str | Path,
    camera_id: str,
    *,
    analysis_fps: float | None = None,
    realtime: bool = False,
    telemetry: TelemetryTrack | str | Path | None = None,
    telemetry_defaults: TelemetryDefaults | None = None,
    decode: DecodeMode = DecodeMode.FULL,
    decode_threads: int = 0,
    resize_width: int | None = None,
    resize_height: int | None = None,
    start_utc_s: float | None = None,
) -> Iterator[Frame]:
    """Decode `path` (MP4/MKV/TS...) into `Frame`s, sampled to `analysis_fps`, with a `Pose` per frame
    when `telemetry` (a track or a DJI .SRT path) is given.

    `captured_at` is `start_utc_s` (default: now) plus the frame's time from the start of the file.
    Raises `SourceError` for an empty, unreadable or undecodable file, or unusable telemetry.
    """
    track: TelemetryTrack | None
    if telemetry is None or isinstance(telemetry, TelemetryTrack):
        track = telemetry
    else:
        track = load_srt(telemetry, telemetry_defaults)
    container = open_input(str(path), camera_id=camera_id, is_stream=False)
    try:
        stream = container.streams.video[0]
        decoder = StreamDecoder(stream, decode, decode_threads, analysis_fps)
        t0_utc = time.time() if start_utc_s is None else start_utc_s
        pacer = PacketPacer() if realtime else None
        pts0: float | None = None
        seq = 0
        try:
            for packet in container.demux(stream):
                if pacer is not None:
                    time.sleep(pacer.delay_s(packet))
                for frame, pts_s in decoder.decode(packet):
                    if pts0 is None:
                        pts0 = pts_s
                    rel_s = pts_s - pts0
                    yield Frame(
                        camera_id=camera_id,
                        seq=seq,
                        captured_at=t0_utc + rel_s,
                        pts_s=pts_s,
                        image=to_bgr(frame, resize_width, resize_height),
                        pose=track.pose_at(rel_s) if track is not None else None,
                        keyframe=bool(frame.key_frame),
                    )
                    seq += 1
        except av.FFmpegError as exc:
            raise SourceError(f"camera {camera_id}: reading {path} failed: {exc}", retryable=False) from exc
        if decoder.counters.decoded == 0:
            raise SourceError(f"camera {camera_id}: {path} has no decodable video frame", retryable=False)
    finally:
        container.close()
