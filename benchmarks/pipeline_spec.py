"""What `gridwatch bench pipeline` simulates: its own module, so the runner (`benchmarks.pipeline`) and the
report (`benchmarks.pipeline_report`) both read it without importing each other."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class PipelineSpec:
    """What is simulated: cameras, their streams, the analysis they get, the model and the run length."""

    cameras: int = 4
    seconds: float = 30.0
    warmup_s: float = 10.0
    width: int = 640
    height: int = 360
    stream_fps: float = 25.0
    analysis_fps: float = 2.0
    decode: str = "full"
    source: str = "rtsp"
    model: Path | None = None
    imgsz: int = 640
    max_batch: int = 4
    threads: int = 2
    workers: int = 0
    kafka: bool = True
    bootstrap: str | None = None
    scrape_every_s: float = 2.0

