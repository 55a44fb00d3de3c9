"""Evidence clips without re-encoding: a per-camera ring of recent encoded packets, remuxed on demand.

The ring keeps the last `keep_s` seconds of the camera's compressed stream (the main stream when the
camera has a sub-stream). `write_clip` picks the packets of a time window, starting at the keyframe at or
before the window, and remuxes them into MP4/MKV/TS: no decode, no encode, the camera's own quality.

Windows are given in UTC epoch seconds, the clock of `Frame.captured_at`, not in pts: pts restarts at
every reconnect and differs between a camera's sub- and main stream, while wall time is common to both.
Packets are stored in Annex B form (parameter sets in-band), so a clip can be cut after the source
connection that produced it is gone.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Any, Protocol

import av

from foundation.errors import SourceError


class CameraClipWriter(Protocol):
    """Cuts an evidence clip of one of its cameras from the packet ring (in-process or in a worker).

    The service adapts it to the alerts package's per-camera `ClipSource` (pts window -> UTC window).
    """

    def write_clip(
        self,
        camera_id: str,
        start_utc_s: float,
        end_utc_s: float,
        out_path: str | Path,
        *,
        wait_s: float = 0.0,
    ) -> Path: ...


@dataclass(frozen=True)
class StreamParams:
    codec: str
    width: int
    height: int
    time_base: Fraction
    rate: Fraction | None


@dataclass(frozen=True, slots=True)
class _Entry:
    t_utc: float
    pts: int | None
    dts: int | None
    keyframe: bool
    data: bytes
    segment: int


_ANNEXB_FILTERS = {"h264": "h264_mp4toannexb", "hevc": "hevc_mp4toannexb"}
_PARAM_SET_NALS = {"h264": frozenset({7}), "hevc": frozenset({32, 33})}  # SPS (H.264); VPS, SPS (HEVC)


def has_param_sets(data: bytes, codec: str, scan_bytes: int = 4096) -> bool:
    """True when an Annex B packet carries a sequence parameter set near its start (before the slices)."""
    wanted = _PARAM_SET_NALS.get(codec)
    if not wanted:
        return True
    head = data[:scan_bytes]
    i = head.find(b"\x00\x00\x01")
    while 0 <= i < len(head) - 3:
        b = head[i + 3]
        nal = (b & 0x1F) if codec == "h264" else ((b >> 1) & 0x3F)
        if nal in wanted:
            return True
        i = head.find(b"\x00\x00\x01", i + 3)
    return False


class PacketRing:
    """Recent encoded packets of one camera (thread-safe: one writer, any number of clip writers)."""

    def __init__(self, camera_id: str, keep_s: float) -> None:
        self.camera_id = camera_id
        self.keep_s = keep_s
        self._entries: deque[_Entry] = deque()
        self._params: dict[int, StreamParams] = {}
        self._segment = 0
        self._bsf: Any = None
        self._param_sets = b""
        self._codec = ""
        self._cond = threading.Condition()
        self.bytes_held = 0

    def new_segment(self, stream: Any) -> None:
        """Call when a connection (or file) opens: its codec parameters apply to the packets that follow."""
        ctx = stream.codec_context
        rate = stream.average_rate or stream.guessed_rate
        params = StreamParams(
            codec=ctx.name,
            width=int(ctx.width),
            height=int(ctx.height),
            time_base=Fraction(stream.time_base) if stream.time_base else Fraction(1, 90000),
            rate=Fraction(rate) if rate else None,
        )
        extradata = bytes(ctx.extradata or b"")
        bsf = None
        if params.codec in _ANNEXB_FILTERS and extradata[:1] == b"\x01":
            # MP4/MKV carry H.264/HEVC length-prefixed with parameter sets out of band: convert, so every
            # keyframe in the ring carries its SPS/PPS and any window can be cut on its own.
            bsf = av.bitstream.BitStreamFilterContext(_ANNEXB_FILTERS[params.codec], stream)
        # RTSP cameras may send SPS/PPS only in the SDP (FFmpeg's extradata, Annex B): keep it, to put in
        # front of keyframes that lack it, so a clip cut anywhere decodes.
        annexb = extradata.startswith((b"\x00\x00\x01", b"\x00\x00\x00\x01"))
        keep = bsf is None and annexb and params.codec in _PARAM_SET_NALS
        with self._cond:
            self._segment += 1
            self._params[self._segment] = params
            self._bsf = bsf
            self._codec = params.codec
            self._param_sets = extradata if keep else b""

    def append(self, packet: Any, t_utc: float) -> None:
        """Store one demuxed packet received at (or, for files, standing for) UTC time `t_utc`."""
        if not packet.size:
            return
        packets = self._bsf.filter(packet) if self._bsf is not None else [packet]
        with self._cond:
            for p in packets:
                data = bytes(p)
                key = bool(p.is_keyframe)
                if key and self._param_sets and not has_param_sets(data, self._codec):
                    data = self._param_sets + data
                entry = _Entry(t_utc, p.pts, p.dts, key, data, self._segment)
                self._entries.append(entry)
                self.bytes_held += len(entry.data)
            oldest_allowed = t_utc - self.keep_s
            while len(self._entries) > 1 and self._entries[0].t_utc < oldest_allowed:
                self.bytes_held -= len(self._entries.popleft().data)
            live = {e.segment for e in (self._entries[0], self._entries[-1])} if self._entries else set()
            for seg in [s for s in self._params if s < min(live, default=self._segment)]:
                del self._params[seg]
            self._cond.notify_all()

    def span(self) -> tuple[float, float] | None:
        """(oldest, newest) UTC time held, or None when empty."""
        with self._cond:
            if not self._entries:
                return None
            return self._entries[0].t_utc, self._entries[-1].t_utc

    def _select(self, start_utc_s: float, end_utc_s: float) -> tuple[list[_Entry], StreamParams] | None:
        entries = list(self._entries)
        first = None
        for i, e in enumerate(entries):  # the last keyframe at or before the start
            if e.t_utc > start_utc_s:
                break
            if e.keyframe:
                first = i
        if first is None:  # window starts before the ring: take the first keyframe inside the window
            first = next(
                (i for i, e in enumerate(entries) if e.keyframe and start_utc_s <= e.t_utc <= end_utc_s), None
            )
        if first is None:
            return None
        seg = entries[first].segment
        chosen = [e for e in entries[first:] if e.t_utc <= end_utc_s]
        chosen = [e for e in chosen if e.segment == seg]  # a reconnect may change resolution: stop there
        return chosen, self._params[seg]

    def write_clip(
        self, start_utc_s: float, end_utc_s: float, out_path: str | Path, *, wait_s: float = 0.0
    ) -> Path:
        """Remux the packets covering [start, end] into `out_path` (format from its suffix, MP4 default).

        Waits up to `wait_s` for the ring to reach `end_utc_s` (post-roll still arriving); then writes what
        it has. `SourceError` when no keyframe of the window is held (too old, or the camera was down).
        """
        if end_utc_s < start_utc_s:
            raise SourceError(f"camera {self.camera_id}: clip window ends before it starts")
        deadline = time.monotonic() + wait_s
        with self._cond:
            while (not self._entries or self._entries[-1].t_utc < end_utc_s) and time.monotonic() < deadline:
                self._cond.wait(max(0.0, deadline - time.monotonic()))
            picked = self._select(start_utc_s, end_utc_s)
            held = (self._entries[0].t_utc, self._entries[-1].t_utc) if self._entries else None
        if picked is None or not picked[0]:
            have = f"{held[0]:.1f}..{held[1]:.1f}" if held else "nothing"
            raise SourceError(
                f"camera {self.camera_id}: no recorded keyframe for clip {start_utc_s:.1f}..{end_utc_s:.1f} "
                f"(buffer holds {have})"
            )
        entries, params = picked
        return _remux(entries, params, Path(out_path), self.camera_id)


def _remux(entries: list[_Entry], params: StreamParams, out: Path, camera_id: str) -> Path:
    out.parent.mkdir(parents=True, exist_ok=True)
    fmt = {".mkv": "matroska", ".ts": "mpegts"}.get(out.suffix.lower(), "mp4")
    tb = params.time_base
    t0 = entries[0].t_utc
    base = next(
        (e.dts if e.dts is not None else e.pts for e in entries if (e.dts or e.pts) is not None), None
    )
    last_dts: int | None = None
    try:
        with av.open(str(out), mode="w", format=fmt) as container:
            stream = container.add_mux_stream(
                params.codec, rate=params.rate, width=params.width, height=params.height
            )
            stream.time_base = tb
            for e in entries:
                synth = round((e.t_utc - t0) / tb)
                dts = (e.dts - base) if (e.dts is not None and base is not None) else synth
                pts = (e.pts - base) if (e.pts is not None and base is not None) else dts
                if last_dts is not None and dts <= last_dts:
                    dts = last_dts + 1  # muxers need strictly increasing dts
                pts = max(pts, dts)
                last_dts = dts
                pkt = av.Packet(e.data)
                pkt.pts, pkt.dts, pkt.time_base = pts, dts, tb
                pkt.is_keyframe = e.keyframe
                pkt.stream = stream
                container.mux(pkt)
    except (av.FFmpegError, OSError, ValueError) as exc:
        raise SourceError(f"camera {camera_id}: writing clip {out} failed: {exc}") from exc
    return out
