"""The service's one entry point to ingest: all cameras, in-process threads or worker processes.

`open_frame_source(cameras, cfg, sink)` returns a `CameraGroup` (cfg.workers == 0: one thread per
camera in this process; small deployments and tests) or an `IngestPool` (worker processes). Both deliver
the same `Frame`s to `sink`, report the same per-camera state and stats, and cut evidence clips.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from pathlib import Path
from typing import Protocol

from foundation.errors import SourceError
from ingest.clips import CameraClipWriter
from ingest.config import IngestConfig, SourceConfig
from ingest.pool import IngestPool
from ingest.reader import CameraReader, Sink
from ingest.stats import CameraState, CameraStatsSnapshot


class FrameSource(CameraClipWriter, Protocol):
    """What the service drives: start, stop, observe, and cut clips, whatever runs the cameras."""

    def start(self) -> None: ...

    def request_stop(self) -> None:
        """Ask every camera to stop without waiting, so that several sources stop side by side."""
        ...

    def stop(self, timeout_s: float = 10.0) -> None: ...

    def states(self) -> dict[str, CameraState]: ...

    def stats(self) -> dict[str, CameraStatsSnapshot]: ...


class CameraGroup:
    """All cameras as threads of this process (one `CameraReader` each)."""

    def __init__(self, cameras: Mapping[str, SourceConfig], cfg: IngestConfig, sink: Sink) -> None:
        self.cfg = cfg
        self.readers: dict[str, CameraReader] = {
            cid: CameraReader(cid, source, sink, telemetry_defaults=cfg.telemetry)
            for cid, source in cameras.items()
        }

    def start(self) -> None:
        for reader in self.readers.values():
            reader.start()

    def request_stop(self) -> None:
        for reader in self.readers.values():
            reader.request_stop()

    def stop(self, timeout_s: float = 10.0) -> None:
        """Signal every camera first, then join each against one shared deadline."""
        deadline = time.monotonic() + timeout_s
        self.request_stop()
        for reader in self.readers.values():
            reader.join(max(0.0, deadline - time.monotonic()))

    def states(self) -> dict[str, CameraState]:
        return {cid: r.state for cid, r in self.readers.items()}

    def stats(self) -> dict[str, CameraStatsSnapshot]:
        return {cid: r.snapshot() for cid, r in self.readers.items()}

    def write_clip(
        self,
        camera_id: str,
        start_utc_s: float,
        end_utc_s: float,
        out_path: str | Path,
        *,
        wait_s: float = 0.0,
    ) -> Path:
        reader = self.readers.get(camera_id)
        if reader is None:
            raise SourceError(f"camera {camera_id}: not in this camera group")
        return reader.write_clip(start_utc_s, end_utc_s, out_path, wait_s=wait_s)


def open_frame_source(cameras: Mapping[str, SourceConfig], cfg: IngestConfig, sink: Sink) -> FrameSource:
    """A `CameraGroup` when `cfg.workers` is 0, else an `IngestPool` (not started yet)."""
    if cfg.workers == 0:
        return CameraGroup(cameras, cfg, sink)
    return IngestPool(cameras, cfg, sink)
