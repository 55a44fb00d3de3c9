"""One camera, one thread: connect, decode, sample, watch for stalls, reconnect forever.

The thread never waits on anyone but its camera: frames go to a non-blocking `sink` (e.g.
`DropOldestQueue.put`), reads are bounded by FFmpeg's socket timeout and PyAV's interrupt deadline, and
between attempts it sleeps an exponential backoff with jitter and a cap. Decoding releases the GIL, so
one process can run many readers.
"""

from __future__ import annotations

import logging
import random
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import av

from foundation.errors import SourceError
from ingest.backoff import Backoff
from ingest.clips import PacketRing
from ingest.config import SourceConfig, TelemetryDefaults
from ingest.credentials import redact
from ingest.decode import FreezeDetector, OpenError, PacketPacer, StreamDecoder, open_input, to_bgr
from ingest.failurelog import FailureLog
from ingest.frame import Frame
from ingest.mainstream import MainStreamRecorder
from ingest.srt import TelemetryTrack, load_srt
from ingest.stats import CameraState, CameraStats, CameraStatsSnapshot

log = logging.getLogger(__name__)

Sink = Callable[[Frame], None]

@dataclass
class _Pass:
    """What one pass over a connection (or a file) has seen so far."""

    live: bool
    start_wall: float
    last_decode_m: float
    got_frame: bool = False
    pts0: float | None = None
    last_rel_s: float = 0.0


class CameraReader:
    """Reads one camera (RTSP stream or file) in a thread and hands `Frame`s to `sink`.

    `sink` is called from the reader thread and must not block (use `DropOldestQueue.put` or similar).
    `state` and `stats` may be read from any thread. Files with `telemetry` get a `Pose` per frame.
    """

    def __init__(
        self,
        camera_id: str,
        cfg: SourceConfig,
        sink: Sink,
        *,
        telemetry: TelemetryTrack | None = None,
        telemetry_defaults: TelemetryDefaults | None = None,
        stats: CameraStats | None = None,
        first_seq: int = 0,
        rand: Callable[[], float] = random.random,
    ) -> None:
        self.camera_id = camera_id
        self.cfg = cfg
        self.sink = sink
        self.stats = stats if stats is not None else CameraStats()
        self._telemetry = telemetry
        self._telemetry_defaults = telemetry_defaults or TelemetryDefaults()
        self._seq = first_seq
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._recorder: MainStreamRecorder | None = None
        self._backoff = Backoff(cfg.backoff_initial_s, cfg.backoff_max_s, cfg.backoff_jitter, rand)
        self._failures = FailureLog(camera_id, "stream" if cfg.is_stream else "file")
        self._freeze = FreezeDetector(cfg.frozen_after_s, cfg.frozen_max_diff)
        self._loop_offset_s = 0.0
        self._attempts = 0
        self.last_error = ""
        self.ring: PacketRing | None = (
            PacketRing(camera_id, cfg.clip_buffer_s) if cfg.clip_buffer_s > 0 else None
        )
        self._urls = [
            u for u in (cfg.url.get_secret_value(), cfg.sub_url and cfg.sub_url.get_secret_value()) if u
        ]

    # -- control ---------------------------------------------------------------------------------------

    def start(self) -> None:
        if self._thread is not None:
            raise RuntimeError(f"camera {self.camera_id}: reader already started")
        self._thread = threading.Thread(target=self._run, name=f"cam-{self.camera_id}", daemon=True)
        self._thread.start()
        if self.ring is not None and self.cfg.sub_url is not None:
            self._recorder = MainStreamRecorder(self.camera_id, self.cfg, self.ring, self._stop)
            self._recorder.start()

    def request_stop(self) -> None:
        """Ask the thread to stop without waiting (stop many cameras at once, then `join` each)."""
        self._stop.set()

    def join(self, timeout_s: float) -> bool:
        deadline = time.monotonic() + timeout_s
        recorder = self._recorder.thread if self._recorder else None
        threads = [t for t in (self._thread, recorder) if t is not None]
        for t in threads:
            t.join(max(0.0, deadline - time.monotonic()))
        alive = any(t.is_alive() for t in threads)
        if alive:
            log.warning(
                "camera %s: reader did not stop within %.1f s (blocked in a read)", self.camera_id, timeout_s
            )
        return not alive

    def stop(self, timeout_s: float = 5.0) -> bool:
        """Stop and wait up to `timeout_s`; True if the thread ended. A read in progress ends within
        `read_timeout_s` at the latest."""
        self.request_stop()
        return self.join(timeout_s)

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    @property
    def state(self) -> CameraState:
        """The camera's state. A thread stuck in a read past its deadline reads as `no_packets`."""
        st = self.stats.state
        if st in (CameraState.STREAMING, CameraState.FROZEN):
            last = self.stats.get("last_packet_at")
            if last > 0 and time.time() - last > self.cfg.read_timeout_s + 2.0:
                return CameraState.NO_PACKETS
        return st

    def snapshot(self) -> CameraStatsSnapshot:
        snap = self.stats.snapshot(self.camera_id)
        state = self.state
        if state != snap.state:
            snap = CameraStatsSnapshot(**{**snap.__dict__, "state": state})
        return snap

    def write_clip(
        self, start_utc_s: float, end_utc_s: float, out_path: str | Path, *, wait_s: float = 0.0
    ) -> Path:
        """Remux the buffered packets of [start, end] (UTC seconds) into `out_path` (see `PacketRing`)."""
        if self.ring is None:
            raise SourceError(f"camera {self.camera_id}: no clip buffer (set source.clip_buffer_s > 0)")
        return self.ring.write_clip(start_utc_s, end_utc_s, out_path, wait_s=wait_s)

    # -- the thread ------------------------------------------------------------------------------------

    def _run(self) -> None:
        try:
            if self._telemetry is None and self.cfg.telemetry is not None:
                self._telemetry = load_srt(self.cfg.telemetry, self._telemetry_defaults)
            while not self._stop.is_set():
                try:
                    outcome = self._session()
                except Exception:
                    log.exception("camera %s: reader error; reconnecting", self.camera_id)
                    outcome = "retry"
                if outcome in ("stop", "ended", "failed"):
                    self._finish(outcome)
                    break
                if outcome != "loop":
                    self._wait_before_retry()
        except SourceError as exc:  # telemetry unusable: this camera cannot run, the others can
            self.last_error = f"camera {self.camera_id}: {redact(str(exc), self._urls)}"
            log.error("%s", self.last_error)
            self.stats.set_state(CameraState.FAILED)
        except Exception:
            log.exception("camera %s: reader crashed", self.camera_id)
            self.stats.set_state(CameraState.FAILED)
        finally:
            # A file that ended, or a camera that failed for good, keeps that state: a stop asked just after
            # `_finish` (the caller saw ENDED and stopped the reader) must not turn it into STOPPED.
            if self._stop.is_set() and self.stats.state not in (CameraState.ENDED, CameraState.FAILED):
                self.stats.set_state(CameraState.STOPPED)

    def _finish(self, outcome: str) -> None:
        """Record how the reader ended: a file played out, or a failure retrying cannot fix."""
        if outcome == "ended":
            self.stats.set_state(CameraState.ENDED)
            log.info("camera %s: file ended after %d frame(s)", self.camera_id, self._seq)
        elif outcome == "failed":
            self.stats.set_state(CameraState.FAILED)

    def _wait_before_retry(self) -> None:
        wait_s = self._backoff.next_s()
        if self.stats.state in (CameraState.CANNOT_CONNECT, CameraState.NO_PACKETS, CameraState.NO_DECODE):
            self._failures.failed(self.stats.state.value, self.last_error, wait_s)
        self._stop.wait(wait_s)

    def _session(self) -> str:
        """One connection (or one pass over a file). Returns stop | retry | loop | ended | failed."""
        cfg = self.cfg
        if self._attempts:
            self.stats.add("reconnects")
        self._attempts += 1
        url = cfg.analysis_url_text()
        try:
            container = open_input(
                url,
                camera_id=self.camera_id,
                is_stream=cfg.is_stream,
                transport=cfg.transport,
                open_timeout_s=cfg.open_timeout_s,
                read_timeout_s=cfg.read_timeout_s,
            )
        except OpenError as exc:
            self.stats.add(f"open_failures.{exc.reason}")
            self.last_error = redact(str(exc), self._urls)
            if self._stop.is_set():
                return "stop"
            if not exc.retryable:
                log.error("%s", self.last_error)
                return "failed"
            self.stats.set_state(CameraState.CANNOT_CONNECT)
            return "retry"
        try:
            return self._stream(container)
        finally:
            try:
                container.close()
            except (av.FFmpegError, OSError) as exc:
                log.debug("camera %s: close failed: %s", self.camera_id, redact(str(exc), self._urls))

    def _stream(self, container: Any) -> str:
        """Read one connection (or one pass over a file) to its end. Returns stop | retry | loop | ended | failed."""
        cfg = self.cfg
        stream = container.streams.video[0]
        decoder = StreamDecoder(stream, cfg.decode, cfg.decode_threads, cfg.analysis_fps, live=cfg.is_stream)
        ring = self.ring if (self.ring is not None and cfg.sub_url is None) else None
        if ring is not None:
            ring.new_segment(stream)
        self.stats.add("connects")
        self._freeze.reset()
        read = _Pass(live=cfg.is_stream, start_wall=time.time(), last_decode_m=time.monotonic())
        pacer = PacketPacer() if (not cfg.is_stream and cfg.realtime) else None
        try:
            for packet in container.demux(stream):
                if self._stopped_before(packet, pacer):
                    return "stop"
                outcome = self._packet(packet, decoder, ring, read)
                if outcome is not None:
                    return outcome
        except (av.FFmpegError, OSError) as exc:
            return self._read_error(exc, read.live)
        return self._end_of_pass(read, decoder)

    def _stopped_before(self, packet: Any, pacer: PacketPacer | None) -> bool:
        """Wait out a real-time file's pacing; True when a stop was asked meanwhile."""
        if pacer is not None:
            delay = pacer.delay_s(packet)
            if delay > 0 and self._stop.wait(delay):
                return True
        return self._stop.is_set()

    def _packet(self, packet: Any, decoder: StreamDecoder, ring: PacketRing | None, read: _Pass) -> str | None:
        """Count, buffer and decode one packet, deliver its frames; an outcome when the pass must end."""
        stats = self.stats
        now_m = time.monotonic()
        if packet.size:
            stats.add("packets")
            stats.add("bytes_in", packet.size)
            stats.set("last_packet_at", time.time())
        results = decoder.decode(packet)
        decoded = self._count_decoded(decoder)
        if decoded:
            read.last_decode_m = now_m
        if ring is not None and packet.size:
            ring.append(packet, self._packet_time(packet, read))
        if not decoded and packet.size and now_m - read.last_decode_m > self.cfg.no_decode_timeout_s:
            if stats.set_state(CameraState.NO_DECODE):
                self.last_error = (
                    f"camera {self.camera_id}: packets arrive but nothing decoded for "
                    f"{now_m - read.last_decode_m:.1f} s ({stats.get('decode_errors'):.0f} decode errors)"
                )
            if read.live:
                return "retry"
        for frame, pts_s in results:
            self._deliver_decoded(frame, pts_s, read)
        return None

    def _count_decoded(self, decoder: StreamDecoder) -> int:
        counts = decoder.take_counters()
        if counts.decoded:
            self.stats.add("frames_decoded", counts.decoded)
        if counts.skipped:
            self.stats.add("frames_skipped", counts.skipped)
        if counts.errors:
            self.stats.add("decode_errors", counts.errors)
        return counts.decoded

    def _deliver_decoded(self, frame: Any, pts_s: float, read: _Pass) -> None:
        """Time one decoded frame (pts relative to the pass, offset by earlier loops) and deliver it."""
        if read.pts0 is None:
            read.pts0 = pts_s
        rel_s = pts_s - read.pts0
        read.last_rel_s = rel_s
        offset_s = self._loop_offset_s
        captured_at = time.time() if read.live else read.start_wall + offset_s + rel_s
        self._deliver(frame, pts_s + offset_s, rel_s + offset_s, captured_at)
        if not read.got_frame:
            read.got_frame = True
            self._backoff.reset()
            self._failures.recovered()

    def _read_error(self, exc: av.FFmpegError | OSError, live: bool) -> str:
        """Classify a failed read: a live stream that timed out or errored retries; a broken file fails."""
        if self._stop.is_set():
            return "stop"
        msg = redact(str(exc), self._urls)
        if isinstance(exc, av.ExitError | TimeoutError) or "timed out" in msg.lower() or not live:
            if live:
                self.stats.set_state(CameraState.NO_PACKETS)
                self.last_error = f"camera {self.camera_id}: no packet for {self.cfg.read_timeout_s:.1f} s ({msg})"
                return "retry"
            self.last_error = f"camera {self.camera_id}: reading file failed: {msg}"
            log.error("%s", self.last_error)
            return "failed"
        self.last_error = f"camera {self.camera_id}: stream read error: {msg}"
        self.stats.set_state(CameraState.CONNECTING)
        return "retry"

    def _end_of_pass(self, read: _Pass, decoder: StreamDecoder) -> str:
        """The demuxer ran out: a live stream reconnects, a file ends, fails (nothing decodable) or loops."""
        if self._stop.is_set():
            return "stop"
        if read.live:
            self.last_error = f"camera {self.camera_id}: server ended the stream"
            log.info("%s; reconnecting", self.last_error)
            self.stats.set_state(CameraState.CONNECTING)
            return "retry"
        if not read.got_frame and read.pts0 is None:
            self.last_error = f"camera {self.camera_id}: file has no decodable frame"
            log.error("%s", self.last_error)
            return "failed"
        if self.cfg.loop:
            self._loop_offset_s += read.last_rel_s + decoder.frame_period_s
            decoder.sampler.reset()
            return "loop"
        return "ended"

    def _packet_time(self, packet: Any, read: _Pass) -> float:
        """UTC time of a packet in the clip ring: arrival for live streams, derived from pts for files."""
        if read.live:
            return time.time()
        base = read.start_wall + self._loop_offset_s
        if packet.pts is not None and packet.time_base and read.pts0 is not None:
            return base + float(packet.pts * packet.time_base) - read.pts0
        return base + read.last_rel_s

    def _deliver(self, frame: Any, pts_s: float, rel_s: float, captured_at: float) -> None:
        cfg = self.cfg
        image = to_bgr(frame, cfg.resize_width, cfg.resize_height)
        frozen = self._freeze.update(image, rel_s)
        self.stats.set_state(CameraState.FROZEN if frozen else CameraState.STREAMING)
        # telemetry is timed from the start of the file: each pass of a looped file starts again at 0
        pose = self._telemetry.pose_at(rel_s - self._loop_offset_s) if self._telemetry is not None else None
        out = Frame(
            camera_id=self.camera_id,
            seq=self._seq,
            captured_at=captured_at,
            pts_s=pts_s,
            image=image,
            pose=pose,
            keyframe=bool(frame.key_frame),
        )
        self._seq += 1
        self.sink(out)
        s = self.stats
        s.add("frames_delivered")
        s.set("last_frame_at", time.time())
        s.set("last_seq", out.seq)
        s.set("width", out.width)
        s.set("height", out.height)
