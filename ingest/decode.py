"""Opening sources and decoding them with PyAV: timeouts that fire, decode modes, sampling, resize.

FFmpeg 5 removed the RTSP `stimeout` option: the socket timeout is now `timeout` (microseconds), and
`rw_timeout` does not apply to RTSP. PyAV's bundled FFmpeg (8.x) ignores both old names silently, so we
pass `timeout` and also give PyAV its own open/read deadline, which FFmpeg polls through its interrupt
callback during every blocking read: a dead camera cannot hang a reader thread past its deadline.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import av
import numpy as np
from numpy.typing import NDArray

from foundation.errors import SourceError
from ingest.config import DecodeMode
from ingest.credentials import redact
from ingest.frame import ImageBGR
from ingest.sampling import PtsSampler

InputContainer = Any  # av.container.InputContainer (PyAV ships no usable stubs for mypy)
VideoStream = Any
VideoFrame = Any


class OpenError(SourceError):
    """Opening a source failed; `reason` is one of stats.OPEN_FAILURE_REASONS (a bounded metric label)."""

    def __init__(self, message: str, reason: str, *, retryable: bool) -> None:
        super().__init__(message, retryable=retryable)
        self.reason = reason


def _failure_reason(exc: BaseException) -> str:
    """The bounded reason of a failed open, from FFmpeg's HTTP/RTSP status class where it gives one, else from
    the error's own message: never from `str(exc)`, which names the URL, where a password or port holding
    "401" or "404" would pick the reason (a random test password did, in CI)."""
    if isinstance(exc, av.error.HTTPUnauthorizedError | av.error.HTTPForbiddenError):
        return "unauthorized"
    if isinstance(exc, av.error.HTTPNotFoundError):
        return "not_found"
    message = exc.strerror if isinstance(exc, av.FFmpegError | OSError) and exc.strerror else str(exc)
    text = str(message).lower()
    if isinstance(exc, av.ExitError | TimeoutError) or "timed out" in text or "immediate exit" in text:
        return "timeout"
    if isinstance(exc, ConnectionRefusedError) or "refused" in text:
        return "refused"
    if "401" in text or "unauthorized" in text or "403" in text or "forbidden" in text:
        return "unauthorized"
    if "404" in text or "not found" in text:
        return "not_found"
    if isinstance(exc, av.InvalidDataError | PermissionError):
        # FFmpeg reports an RTSP server that accepted the connection but never answered as invalid data
        # (or EPERM) once its socket timeout fires: the camera is up at TCP level but silent.
        return "timeout"
    return "error"


def open_input(
    url: str,
    *,
    camera_id: str,
    is_stream: bool,
    transport: str = "tcp",
    open_timeout_s: float = 10.0,
    read_timeout_s: float = 5.0,
) -> InputContainer:
    """Open `url` (RTSP or file) for reading; `OpenError` naming the camera (URL masked) on failure.

    Streams: TCP (or UDP) transport, socket timeout, corrupt packets discarded, missing pts generated.
    Files: an empty or unreadable file is not retryable; neither is one without a decodable video stream.
    """
    if not is_stream:
        path = Path(url[len("file:") :] if url.startswith("file:") else url)
        try:
            size = path.stat().st_size
        except OSError as exc:
            raise OpenError(
                f"camera {camera_id}: cannot read file {path}: {exc.strerror or exc}",
                "not_found",
                retryable=False,
            ) from exc
        if size == 0:
            raise OpenError(f"camera {camera_id}: file {path} is empty (0 bytes)", "error", retryable=False)
        options = {"fflags": "+genpts"}
        target = str(path)
    else:
        # `timeout` is the RTSP socket I/O timeout in microseconds (FFmpeg >= 5; `stimeout` before).
        options = {
            "rtsp_transport": transport,
            "timeout": str(max(1, int(read_timeout_s * 1e6))),
            "fflags": "+discardcorrupt+genpts",
            # Probe for 1 s, not FFmpeg's 5 s: the SDP already names the codec, and with thousands of
            # cameras every second of probing is a second of darkness after each reconnect.
            "analyzeduration": "1000000",
            "probesize": "1000000",
        }
        target = url
    try:
        container = av.open(target, mode="r", options=options, timeout=(open_timeout_s, read_timeout_s))
    except (av.FFmpegError, OSError) as exc:
        reason = _failure_reason(exc)
        what = "file" if not is_stream else "stream"
        raise OpenError(
            f"camera {camera_id}: cannot open {what}: {redact(str(exc), [url])}",
            reason,
            retryable=is_stream,
        ) from exc
    try:
        video_stream(container, camera_id)
    except OpenError:
        container.close()
        raise
    return container


def video_stream(container: InputContainer, camera_id: str) -> VideoStream:
    """The first video stream, or `OpenError` (not retryable) when there is none or no decoder for it."""
    if not container.streams.video:
        raise OpenError(f"camera {camera_id}: source has no video stream", "error", retryable=False)
    stream = container.streams.video[0]
    if stream.codec_context is None:
        raise OpenError(
            f"camera {camera_id}: unsupported video codec: this FFmpeg build has no decoder for it",
            "error",
            retryable=False,
        )
    return stream


def configure_decoder(stream: VideoStream, mode: DecodeMode, threads: int, *, live: bool = False) -> None:
    """Set FFmpeg's decoder for `mode` and thread count before the first packet."""
    ctx = stream.codec_context
    if live:
        # Over RTSP a packet may carry part of a frame: a keyframe of a multi-slice H.264 stream can
        # arrive as several packets (in-band SPS/PPS before each keyframe). Without CHUNKS the decoder
        # treats each packet as a whole frame and shows a damaged picture until the next keyframe.
        # Files are demuxed into whole frames, where CHUNKS would only let one damaged packet spoil
        # the frames after it.
        ctx.flags2 |= int(av.codec.context.Flags2.chunks)
    ctx.thread_count = threads
    if threads != 1:
        ctx.thread_type = "AUTO"
    if mode is DecodeMode.SKIP_NONREF:
        ctx.skip_frame = "NONREF"
    elif mode is DecodeMode.KEYFRAMES:
        ctx.skip_frame = "NONKEY"  # belt and braces: non-key packets are not even sent to the decoder


def output_size(src_w: int, src_h: int, want_w: int | None, want_h: int | None) -> tuple[int, int]:
    """Target size for resize at decode; one side given keeps the aspect ratio (rounded to even)."""
    if want_w is None and want_h is None:
        return src_w, src_h
    if want_w is not None and want_h is not None:
        return want_w, want_h
    if want_w is not None:
        return want_w, max(2, 2 * round(want_w * src_h / max(1, src_w) / 2))
    assert want_h is not None
    return max(2, 2 * round(want_h * src_w / max(1, src_h) / 2)), want_h


def to_bgr(frame: VideoFrame, width: int | None = None, height: int | None = None) -> ImageBGR:
    """Decoded frame -> HxWx3 uint8 BGR, scaled by swscale in the same pass when a size is given."""
    w, h = output_size(frame.width, frame.height, width, height)
    if (w, h) == (frame.width, frame.height):
        img = frame.to_ndarray(format="bgr24")
    else:
        img = frame.to_ndarray(format="bgr24", width=w, height=h, interpolation="AREA")
    return np.ascontiguousarray(img)


def frame_pts_s(frame: VideoFrame, fallback_s: float) -> float:
    """Presentation time in seconds; `fallback_s` when FFmpeg has none (first RTSP frames may lack it)."""
    t = frame.time
    if t is None or not math.isfinite(t):
        return fallback_s
    return float(t)


class FreezeDetector:
    """Flags a camera whose picture stops changing (a stale frame re-encoded over and over).

    Two frames count as identical when no pixel on a sampling grid (about 120 rows) changed by more than
    `max_diff` grey levels: an encoder re-quantising a still picture moves pixels by a few levels (most at
    each keyframe), while anything that moves, however small, changes some pixels by tens of levels.
    """

    def __init__(self, frozen_after_s: float, max_diff: float, grid_rows: int = 120) -> None:
        self.frozen_after_s = frozen_after_s
        self.max_diff = max_diff
        self.grid_rows = grid_rows
        self._prev: NDArray[np.int16] | None = None
        self._same_since: float | None = None

    def update(self, image: ImageBGR, t_s: float) -> bool:
        """Feed one delivered frame at time `t_s` (seconds, any clock); True while the feed is frozen."""
        step = max(1, image.shape[0] // self.grid_rows)
        thumb = image[::step, ::step, 1].astype(np.int16)  # green ~ luma; strided: no full pass
        prev = self._prev
        self._prev = thumb
        if prev is None or prev.shape != thumb.shape:
            self._same_since = None
            return False
        if int(np.abs(thumb - prev).max()) > self.max_diff:
            self._same_since = None
            return False
        if self._same_since is None:
            self._same_since = t_s
        return (t_s - self._same_since) >= self.frozen_after_s

    def reset(self) -> None:
        self._prev = None
        self._same_since = None


class PacketPacer:
    """Holds packets of a file back to their native rate (`realtime`), as a camera would send them.

    Pacing is on packets (decode order), not on frames, so a file whose packets do not decode still
    arrives at camera speed and its stall is seen as a camera's would be.
    """

    def __init__(self) -> None:
        self._t0_m: float | None = None
        self._first_s: float | None = None

    def delay_s(self, packet: Any) -> float:
        """Seconds to wait before handling `packet` (0 when it is due or has no timestamp)."""
        ts = packet.dts if packet.dts is not None else packet.pts
        if ts is None or not packet.time_base:
            return 0.0
        t = float(ts * packet.time_base)
        now = time.monotonic()
        if self._t0_m is None or self._first_s is None or t < self._first_s:
            self._t0_m, self._first_s = now, t
            return 0.0
        lag = (self._t0_m + (t - self._first_s)) - now
        if lag < -1.0:
            self._t0_m -= lag  # fell behind (slow machine): carry on from here, do not burst to catch up
        return max(0.0, lag)


@dataclass
class DecodeCounters:
    """Per-call counts from `StreamDecoder.decode`, for the caller's stats."""

    decoded: int = 0
    skipped: int = 0
    errors: int = 0


class StreamDecoder:
    """Decoding policy for one opened video stream: mode, sampling and pts handling.

    `decode(packet)` returns the decoded frames that pass the sampler as (frame, pts_s) pairs; images are
    converted only for those, so sampling saves the colour conversion (the decode itself cannot be
    skipped for reference frames). In keyframes mode non-key packets never reach the decoder.
    """

    def __init__(
        self, stream: VideoStream, mode: DecodeMode, threads: int, analysis_fps: float | None, *,
        live: bool = False,
    ) -> None:
        self.stream = stream
        self.mode = mode = DecodeMode(mode)
        configure_decoder(stream, mode, threads, live=live)
        self.sampler = PtsSampler(analysis_fps)
        rate = stream.average_rate or stream.guessed_rate
        self.frame_period_s = 1.0 / float(rate) if rate else 0.04
        self._last_pts_s: float | None = None
        self.counters = DecodeCounters()

    def decode(self, packet: Any) -> list[tuple[VideoFrame, float]]:
        if self.mode is DecodeMode.KEYFRAMES and packet.size and not packet.is_keyframe:
            return []
        try:
            frames = self.stream.codec_context.decode(packet)
        except av.FFmpegError:
            # A corrupt packet costs its frame(s) only; the decoder recovers at the next good slice.
            self.counters.errors += 1
            return []
        out: list[tuple[VideoFrame, float]] = []
        for frame in frames:
            self.counters.decoded += 1
            fallback = 0.0 if self._last_pts_s is None else self._last_pts_s + self.frame_period_s
            pts_s = frame_pts_s(frame, fallback)
            self._last_pts_s = pts_s
            if self.sampler.accept(pts_s):
                out.append((frame, pts_s))
            else:
                self.counters.skipped += 1
        return out

    def take_counters(self) -> DecodeCounters:
        c = self.counters
        self.counters = DecodeCounters()
        return c
