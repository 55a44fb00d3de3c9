"""Evidence clips from the packet ring: parameter sets, windows, segments (real FFmpeg muxing/decoding)."""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import av
import pytest

from foundation.errors import SourceError
from ingest.clips import PacketRing, has_param_sets


def nal_units(data: bytes) -> list[bytes]:
    """Split an Annex B buffer into NAL units (each returned with a 4-byte start code)."""
    out, starts = [], []
    i = data.find(b"\x00\x00\x01")
    while i >= 0:
        starts.append(i + 3)
        i = data.find(b"\x00\x00\x01", i + 3)
    for k, s in enumerate(starts):
        end = starts[k + 1] - 3 if k + 1 < len(starts) else len(data)
        out.append(b"\x00\x00\x00\x01" + data[s:end].rstrip(b"\x00"))
    return out


@dataclass
class FakeCodecContext:
    """Stand-in for an RTSP stream's codec context: Annex B extradata, as FFmpeg builds it from the SDP."""

    extradata: bytes
    name: str = "h264"
    width: int = 320
    height: int = 240


@dataclass
class FakeStream:
    codec_context: FakeCodecContext
    time_base: Fraction = Fraction(1, 90000)
    average_rate: Fraction = Fraction(25)
    guessed_rate: Fraction = Fraction(25)


def annexb_packets(path: Path) -> list[av.Packet]:
    with av.open(str(path)) as c:
        s = c.streams.video[0]
        bsf = av.bitstream.BitStreamFilterContext("h264_mp4toannexb", s)
        out = []
        for p in c.demux(s):
            for q in bsf.filter(p if p.size else None):
                copy = av.Packet(bytes(q))
                copy.pts, copy.dts, copy.is_keyframe = q.pts, q.dts, q.is_keyframe
                out.append(copy)
        return out


def rtsp_like(path: Path) -> tuple[bytes, list[av.Packet]]:
    """Packets as a camera that sends SPS/PPS only in its SDP: parameter sets taken out of the stream."""
    packets = annexb_packets(path)
    sps_pps = b"".join(n for n in nal_units(bytes(packets[0])) if n[4] & 0x1F in (7, 8))
    stripped = []
    for p in packets:
        body = b"".join(n for n in nal_units(bytes(p)) if n[4] & 0x1F not in (7, 8))
        q = av.Packet(body)
        q.pts, q.dts, q.is_keyframe = p.pts, p.dts, p.is_keyframe
        stripped.append(q)
    return sps_pps, stripped


def frames_in(path: Path) -> int:
    try:
        with av.open(str(path)) as c:
            return sum(1 for _ in c.decode(video=0))
    except av.FFmpegError:
        return 0


def test_param_set_detection(clip_4s: Path) -> None:
    packets = annexb_packets(clip_4s)
    assert has_param_sets(bytes(packets[0]), "h264")  # mp4toannexb puts SPS/PPS before each IDR
    assert not has_param_sets(bytes(packets[1]), "h264")
    assert has_param_sets(b"anything", "mjpeg")  # codecs without parameter sets need none


@pytest.mark.parametrize("with_sdp_param_sets", [True, False])
def test_clip_from_camera_with_parameter_sets_only_in_sdp(
    clip_4s: Path, tmp_path: Path, with_sdp_param_sets: bool
) -> None:
    sps_pps, packets = rtsp_like(clip_4s)
    assert not any(has_param_sets(bytes(p), "h264") for p in packets)
    ring = PacketRing("cam1", keep_s=10.0)
    ring.new_segment(FakeStream(FakeCodecContext(sps_pps if with_sdp_param_sets else b"")))
    t0 = 1_700_000_000.0
    tb = 1 / 12800  # the source file's time base, in which the packets' pts are counted
    for p in packets:
        p.time_base = Fraction(1, 12800)
        ring.append(p, t0 + p.pts * tb)
    out = ring.write_clip(t0 + 1.5, t0 + 2.5, tmp_path / "clip.mp4")
    # window 1.5..2.5 s; starts at the 1 s keyframe: frames 25..62 (38 frames)
    assert frames_in(out) == (38 if with_sdp_param_sets else 0)


def test_ring_keeps_only_its_window_and_splits_segments(clip_4s: Path, tmp_path: Path) -> None:
    packets = annexb_packets(clip_4s)
    ring = PacketRing("cam1", keep_s=1.0)
    stream = FakeStream(FakeCodecContext(b""))
    t0 = 1_700_000_000.0
    ring.new_segment(stream)
    for p in packets[:50]:  # 0..2 s
        ring.append(p, t0 + p.pts / 12800)
    span = ring.span()
    assert span is not None and span[1] - span[0] <= 1.0 + 1e-6
    ring.new_segment(stream)  # a reconnect: a new segment (codec parameters may change)
    for p in packets[50:]:
        ring.append(p, t0 + p.pts / 12800)
    with pytest.raises(SourceError, match="no recorded keyframe"):
        ring.write_clip(t0, t0 + 0.5, tmp_path / "gone.mp4")  # pruned long ago
    out = ring.write_clip(t0 + 3.0, t0 + 3.5, tmp_path / "tail.ts")
    assert frames_in(out) == 13  # 3.0 .. 3.48 s, starting at the 3 s keyframe
