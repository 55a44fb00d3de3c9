"""Evidence clips: the protocol a source implements to cut a clip, and a file-based implementation.

The ingest package implements `ClipSource` for live cameras from its ring buffer of encoded packets;
`FileClipSource` does the same for a recorded file (drone MP4s, `gridwatch replay`). Either way the clip
is a remux of the original packets from the keyframe at or before the start: no decode, no re-encode,
so a clip costs milliseconds and keeps the camera's own picture quality.
"""

from __future__ import annotations

from pathlib import Path
from typing import Protocol, runtime_checkable

import av

from foundation.errors import SourceError


@runtime_checkable
class ClipSource(Protocol):
    """Something that can write the packets of a presentation-time window to an MP4 file."""

    def write_clip(self, start_pts_s: float, end_pts_s: float, out_path: Path) -> Path:
        """Remux packets covering [start_pts_s, end_pts_s] (from the keyframe at or before the start)
        into `out_path` (MP4) and return the path written. Raises SourceError when the window is not
        (or no longer) available."""
        ...


class FileClipSource:
    """Cuts clips out of a recorded video file by stream copy (PyAV remux)."""

    def __init__(self, path: str | Path, *, source_id: str = "") -> None:
        self.path = Path(path)
        self.source_id = source_id or self.path.name

    def write_clip(self, start_pts_s: float, end_pts_s: float, out_path: Path) -> Path:
        if end_pts_s <= start_pts_s:
            raise SourceError(f"source {self.source_id}: empty clip window [{start_pts_s}, {end_pts_s}]")
        out_path.parent.mkdir(parents=True, exist_ok=True)
        try:
            with av.open(str(self.path)) as src:
                if not src.streams.video:
                    raise SourceError(f"source {self.source_id}: {self.path} has no video stream")
                stream = src.streams.video[0]
                tb = stream.time_base
                if tb is None:
                    raise SourceError(f"source {self.source_id}: {self.path} video stream has no time base")
                n = _remux(
                    src,
                    stream=stream,
                    tb_s=float(tb),
                    start_s=start_pts_s,
                    end_s=end_pts_s,
                    out_path=out_path,
                )
        except av.FFmpegError as exc:
            out_path.unlink(missing_ok=True)
            raise SourceError(f"source {self.source_id}: cannot cut clip from {self.path}: {exc}") from exc
        if n == 0:
            out_path.unlink(missing_ok=True)
            raise SourceError(
                f"source {self.source_id}: no packets in [{start_pts_s:.2f}, {end_pts_s:.2f}] s "
                f"of {self.path}"
            )
        return out_path


def _remux(
    src: av.container.InputContainer,
    *,
    stream: av.VideoStream,
    tb_s: float,
    start_s: float,
    end_s: float,
    out_path: Path,
) -> int:
    """Copy packets from the keyframe at or before start_s up to end_s.

    Returns how many written packets fall inside [start_s, end_s]: zero means the recording does not
    cover the window (the caller then discards the file).
    """
    src.seek(max(0, int(start_s / tb_s)), stream=stream, backward=True, any_frame=False)
    inside = 0
    offset: int | None = None
    with av.open(str(out_path), "w", format="mp4") as dst:
        out = dst.add_stream_from_template(stream)
        for packet in src.demux(stream):
            if packet.dts is None or packet.pts is None:
                continue  # the demuxer's flush packet
            pts_s = packet.pts * tb_s
            if offset is None:
                if not packet.is_keyframe or pts_s > end_s:
                    continue
                offset = packet.dts
            if packet.dts * tb_s > end_s:
                break
            inside += start_s <= pts_s <= end_s
            packet.pts -= offset
            packet.dts -= offset
            packet.stream = out
            dst.mux(packet)
    return inside
