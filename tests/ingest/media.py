"""Generated test media: H.264 clips with motion, damaged copies, and a file in a codec FFmpeg cannot decode.

Everything is written with PyAV (real FFmpeg/libx264) into pytest's temporary directories.
"""

from __future__ import annotations

from collections.abc import Iterator
from fractions import Fraction
from pathlib import Path

import av
import numpy as np

from benchmarks.scenarios.video import write_h264


def moving_frames(n: int, width: int = 320, height: int = 240, seed: int = 0) -> Iterator[np.ndarray]:
    """A textured background with a bright square crossing it: every frame differs from the last."""
    rng = np.random.default_rng(seed)
    base = rng.integers(40, 200, size=(height // 8, width // 8, 3), dtype=np.uint8)
    background = np.kron(base, np.ones((8, 8, 1), dtype=np.uint8))
    for i in range(n):
        img = background.copy()
        x = (i * 7) % max(1, width - 40)
        y = (i * 3) % max(1, height - 40)
        img[y : y + 40, x : x + 40] = (255, 255 - (i * 5) % 255, (i * 11) % 255)
        img[:8, : (i * 4) % width] = 0  # a growing bar: a frame counter you can see
        yield img


def make_clip(
    path: Path,
    *,
    seconds: float = 4.0,
    fps: int = 25,
    gop: int = 25,
    width: int = 320,
    height: int = 240,
    bframes: int = 0,
    static: bool = False,
) -> Path:
    n = int(seconds * fps)
    frames = moving_frames(n, width, height)
    if static:
        first = next(moving_frames(1, width, height))
        frames = (first for _ in range(n))
    write_h264(path, frames, fps, gop=gop, bframes=bframes)
    return path


def damage_packets(
    src: Path, dst: Path, *, every: int = 7, garbage_after: int | None = None, seed: int = 1
) -> int:
    """Copy `src` to `dst` (same container) damaging packets, as a bad link or a buggy camera would.

    Every `every`-th non-key packet gets a run of its payload bytes overwritten (its slices fail to decode
    or decode with errors). With `garbage_after`, every packet from that index on is random bytes instead.
    Returns the number of packets damaged.
    """
    rng = np.random.default_rng(seed)
    damaged = 0
    with av.open(str(src)) as inp, av.open(str(dst), "w") as out:
        ins = inp.streams.video[0]
        outs = out.add_stream_from_template(ins)
        for i, pkt in enumerate(inp.demux(ins)):
            if pkt.size == 0:
                continue
            data = bytearray(bytes(pkt))
            if garbage_after is not None and i >= garbage_after:
                data = bytearray(rng.integers(0, 256, size=len(data), dtype=np.uint8).tobytes())
                damaged += 1
            elif not pkt.is_keyframe and i % every == 0 and len(data) > 16:
                start = len(data) // 3
                stop = min(len(data), start + max(8, len(data) // 3))
                data[start:stop] = rng.integers(0, 256, size=stop - start, dtype=np.uint8).tobytes()
                damaged += 1
            new = av.Packet(bytes(data))
            new.pts, new.dts, new.time_base = pkt.pts, pkt.dts, pkt.time_base
            new.is_keyframe = pkt.is_keyframe
            new.stream = outs
            out.mux(new)
    return damaged


def unsupported_codec_file(src_h264_mp4: Path, dst: Path) -> Path:
    """An AVI whose video stream carries an unknown FourCC: FFmpeg opens it but has no decoder for it."""
    tmp = dst.with_suffix(".h264.avi")
    with av.open(str(src_h264_mp4)) as inp, av.open(str(tmp), "w") as out:
        ins = inp.streams.video[0]
        bsf = av.bitstream.BitStreamFilterContext("h264_mp4toannexb", ins)
        outs = out.add_mux_stream(
            "h264", rate=Fraction(25), width=ins.codec_context.width, height=ins.codec_context.height
        )
        outs.time_base = Fraction(1, 25)
        n = 0
        for pkt in inp.demux(ins):
            for q in bsf.filter(pkt if pkt.size else None):
                p = av.Packet(bytes(q))
                p.pts = p.dts = n
                p.time_base = Fraction(1, 25)
                p.is_keyframe = q.is_keyframe
                p.stream = outs
                out.mux(p)
                n += 1
    data = tmp.read_bytes()
    assert b"H264" in data, "AVI muxer did not write the expected FourCC"
    dst.write_bytes(data.replace(b"H264", b"QQZZ"))
    tmp.unlink()
    return dst
