"""Configuration of ingest: one camera's `source:` section and the root `ingest:` section.

Every field has bounds and a description, units are in the names, and an empty section is valid. The
camera URL is a `SecretStr` because it may carry `user:password`; read it only through
`SourceConfig.url_text()` and never print it (use `ingest.credentials.mask_url`).
"""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr, model_validator


class DecodeMode(StrEnum):
    """How much of the stream is decoded. Decoding, not analysis, sets the CPU cost of a camera."""

    FULL = "full"
    """Every frame is decoded (needed for 25 fps throw cameras, and by H.264 whenever frames are sampled)."""
    KEYFRAMES = "keyframes"
    """Only keyframes reach the decoder: one frame per GOP (e.g. every 2 s), for slow detectors (fire)."""
    SKIP_NONREF = "skip_nonref"
    """FFmpeg skips frames no other frame refers to (B-frames in most streams); saves nothing without them."""


class SourceConfig(BaseModel):
    """One camera's source: an RTSP stream (optionally with a low-resolution sub-stream) or a file."""

    model_config = ConfigDict(extra="forbid")

    url: SecretStr = Field(
        description="rtsp://[user:password@]host[:port]/path, or a video file path (MP4/MKV/TS). "
        "May carry credentials (use ${ENV}); it is never logged.",
    )
    sub_url: SecretStr | None = Field(
        default=None,
        description="Low-resolution analysis stream. When set, frames come from it and `url` is only "
        "recorded (not decoded) for evidence clips.",
    )
    transport: Literal["tcp", "udp"] = Field(
        default="tcp", description="RTSP lower transport; TCP survives lossy links."
    )
    analysis_fps: float | None = Field(
        default=None,
        gt=0,
        le=120,
        description="Frames per second handed to detectors (None: every decoded frame).",
    )
    decode: DecodeMode = Field(default=DecodeMode.FULL, description="full | keyframes | skip_nonref.")
    decode_threads: int = Field(
        default=1,
        ge=0,
        le=16,
        description="FFmpeg decoder threads per camera (0: FFmpeg picks). 1 is best when one "
        "process serves many cameras; more helps a single file replay.",
    )
    resize_width: int | None = Field(
        default=None,
        ge=16,
        le=7680,
        description="Scale frames to this width at decode (keeps aspect if height unset).",
    )
    resize_height: int | None = Field(
        default=None,
        ge=16,
        le=4320,
        description="Scale frames to this height at decode (keeps aspect if width unset).",
    )
    open_timeout_s: float = Field(
        default=10.0, gt=0, le=300, description="Give up connecting/opening after this long."
    )
    read_timeout_s: float = Field(
        default=5.0,
        gt=0,
        le=300,
        description="No packet for this long: the camera is stalled (no_packets) and reconnects.",
    )
    no_decode_timeout_s: float = Field(
        default=10.0,
        gt=0,
        le=600,
        description="Packets arrive but no frame decodes for this long: stalled (no_decode), reconnect.",
    )
    backoff_initial_s: float = Field(default=0.5, gt=0, le=60, description="First wait before reconnecting.")
    backoff_max_s: float = Field(
        default=30.0, gt=0, le=3600, description="Cap of the exponential reconnect backoff."
    )
    backoff_jitter: float = Field(
        default=0.2,
        ge=0,
        le=1,
        description="Random +-fraction applied to each backoff wait, so cameras do not reconnect "
        "in lockstep after a network blip.",
    )
    frozen_after_s: float = Field(
        default=30.0,
        gt=0,
        le=3600,
        description="Identical frames for this long: the camera is flagged frozen.",
    )
    frozen_max_diff: float = Field(
        default=12.0,
        ge=0,
        le=255,
        description="Frames count as identical when no sampled pixel changed by more than this many grey "
        "levels (re-encoding a still picture changes pixels by a few levels; motion by tens).",
    )
    realtime: bool = Field(
        default=True,
        description="Files only: deliver at native speed (like a camera). False: as fast as possible.",
    )
    loop: bool = Field(default=False, description="Files only: start again at the end instead of ending.")
    telemetry: Path | None = Field(default=None, description="DJI .SRT telemetry for a drone video file.")
    clip_buffer_s: float = Field(
        default=0.0,
        ge=0,
        le=600,
        description="Seconds of encoded packets kept for evidence clips (pre-roll); "
        "0 disables the buffer. With `sub_url`, the main stream is recorded (not decoded) to fill it.",
    )

    @model_validator(mode="after")
    def _check(self) -> SourceConfig:
        if self.backoff_initial_s > self.backoff_max_s:
            raise ValueError("backoff_initial_s must not exceed backoff_max_s")
        if not self.url.get_secret_value().strip():
            raise ValueError("url must not be empty")
        if self.telemetry is not None and self.is_stream:
            raise ValueError("telemetry (.SRT) applies to video files, not to RTSP streams")
        return self

    def url_text(self) -> str:
        """The real URL (with credentials): pass it to FFmpeg only, never to a log or an error."""
        return self.url.get_secret_value()

    def analysis_url_text(self) -> str:
        """The URL frames are decoded from: the sub-stream when there is one."""
        return (self.sub_url or self.url).get_secret_value()

    @property
    def is_stream(self) -> bool:
        """True for network streams (reconnect forever); False for files (a bad file fails its camera)."""
        return "://" in self.url.get_secret_value() and not self.url.get_secret_value().startswith("file:")


class TelemetryDefaults(BaseModel):
    """Values used where a DJI telemetry family lacks a field; each use is recorded in `Pose.defaulted`."""

    model_config = ConfigDict(extra="forbid")

    gimbal_pitch_deg: float = Field(
        default=-90.0, ge=-180, le=180, description="Gimbal pitch when absent (-90 = nadir)."
    )
    gimbal_yaw_deg: float = Field(
        default=0.0, ge=-360, le=360, description="Gimbal yaw when absent (degrees from north)."
    )
    gimbal_roll_deg: float = Field(default=0.0, ge=-180, le=180, description="Gimbal roll when absent.")
    rel_alt_m: float | None = Field(
        default=None,
        ge=-1000,
        le=10000,
        description="Height above take-off when absent (None: leave unknown).",
    )
    max_gap_s: float = Field(
        default=3.0,
        gt=0,
        le=3600,
        description="Interpolate only between samples at most this far apart; elsewhere use the nearest "
        "sample if within half of this, else the frame gets no pose.",
    )
    clock_utc_offset_h: float = Field(
        default=0.0,
        ge=-14,
        le=14,
        description="DJI writes the drone's local clock; hours to subtract to get UTC.",
    )


class IngestConfig(BaseModel):
    """The root `ingest:` section: worker processes, queues and defaults for all cameras."""

    model_config = ConfigDict(extra="forbid")

    workers: int = Field(
        default=0,
        ge=0,
        le=256,
        description="Worker processes decoding cameras (0: decode in the service process, "
        "one thread per camera; for small deployments and tests).",
    )
    cameras_per_worker: int = Field(
        default=64,
        ge=1,
        le=1024,
        description="Most cameras one worker process serves; more cameras than "
        "workers x this is a configuration error.",
    )
    ring_slots: int = Field(
        default=4,
        ge=2,
        le=64,
        description="Shared-memory frame slots per camera between a worker and the service; "
        "when the service falls behind the oldest frame is overwritten and counted as dropped.",
    )
    max_frame_width: int = Field(
        default=1920,
        ge=16,
        le=7680,
        description="Largest frame a worker can hand over (sizes the shared memory; "
        "only touched pages use RAM). Cameras resized at decode use their own size.",
    )
    max_frame_height: int = Field(
        default=1080, ge=16, le=4320, description="Largest frame height a worker can hand over."
    )
    queue_size: int = Field(
        default=8, ge=1, le=1024, description="Frames buffered per camera on the consumer side (drop-oldest)."
    )
    worker_restart_backoff_max_s: float = Field(
        default=30.0, gt=0, le=600, description="Cap of the wait before restarting a crashed worker again."
    )
    worker_heartbeat_timeout_s: float = Field(
        default=20.0, gt=1, le=600, description="A worker silent for this long is killed and restarted."
    )
    poll_interval_ms: float = Field(
        default=5.0, gt=0, le=1000, description="How often the service side checks the workers' frame rings."
    )
    telemetry: TelemetryDefaults = Field(
        default_factory=TelemetryDefaults,
        description="Defaults for drone telemetry fields a DJI family lacks.",
    )
