"""Evidence settings: the `alerts.evidence:` section and its store (a local folder or S3).

S3 credentials are `SecretStr` and come from `${ENV}` or `${file:...}` in YAML; they never appear in reprs or
errors.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator, model_validator

from detectors.event import EventKind, Phase

_DAY_S = 86400.0


class LocalStoreConfig(BaseModel):
    """Evidence files in a local directory (served to the ticketing system by a web server, if any)."""

    model_config = ConfigDict(extra="forbid")

    type: Literal["local"] = Field(default="local", description="Store kind.")
    dir: Path = Field(default=Path("var/evidence"), description="Directory evidence files are written to.")
    public_base_url: str | None = Field(
        default=None, description="URL prefix under which `dir` is served; without it URIs are file:// paths."
    )


class S3StoreConfig(BaseModel):
    """Evidence objects in an S3-compatible store (MinIO, Ceph, OSS/COS S3 APIs) through boto3 (the `s3`
    extra). Evidence is spooled locally first and uploaded in the background, so a store that is down
    never delays an alert; the spool catches up when the store is back."""

    model_config = ConfigDict(extra="forbid")

    type: Literal["s3"] = Field(default="s3", description="Store kind.")
    endpoint_url: str = Field(description="http(s)://host[:port] of the S3 API.")
    bucket: str = Field(min_length=3, max_length=63, description="Bucket name.")
    region: str = Field(default="us-east-1", min_length=1, description="Signing region.")
    access_key_id: SecretStr = Field(description="Access key id (from ${ENV}).")
    secret_access_key: SecretStr = Field(description="Secret access key (from ${ENV}).")
    session_token: SecretStr | None = Field(default=None, description="Temporary-credential session token.")
    prefix: str = Field(default="", description="Key prefix inside the bucket, e.g. `gridwatch/`.")
    public_base_url: str | None = Field(
        default=None,
        description="URL prefix that serves the bucket's keys; without it URIs are s3://bucket/key.",
    )
    timeout_s: float = Field(default=10.0, gt=0.0, le=300.0, description="HTTP timeout per request.")
    ca_bundle: Path | None = Field(
        default=None, description="CA bundle (PEM) that verifies an https endpoint; None: the system CAs."
    )
    max_attempts: int = Field(
        default=3, ge=1, le=20,
        description="Attempts per request inside boto3 (standard retry mode: backoff with jitter).",
    )
    spool_dir: Path = Field(
        default=Path("var/evidence-spool"),
        description="Local directory of evidence waiting for upload; keep it on persistent storage so "
        "evidence survives a restart.",
    )
    spool_max_mb: float = Field(
        default=2048.0, gt=0.0, le=1e7,
        description="Largest spool; beyond it the oldest waiting evidence is dropped and counted.",
    )
    retry_backoff_initial_s: float = Field(
        default=1.0, gt=0.0, le=600.0, description="First wait after a failed upload; doubles per failure."
    )
    retry_backoff_max_s: float = Field(
        default=60.0, gt=0.0, le=3600.0, description="Cap of the upload retry backoff."
    )

    @model_validator(mode="after")
    def _check_backoff(self) -> S3StoreConfig:
        if self.retry_backoff_max_s < self.retry_backoff_initial_s:
            raise ValueError("retry_backoff_max_s must be >= retry_backoff_initial_s")
        return self

    @field_validator("endpoint_url")
    @classmethod
    def _check_endpoint(cls, value: str) -> str:
        if not re.match(r"^https?://[^/\s]+/?$", value):
            raise ValueError("endpoint_url must be http(s)://host[:port] without a path")
        return value.rstrip("/")


class EvidenceConfig(BaseModel):
    """Snapshots (clean and annotated JPEGs) and short clips attached to alerts, and their retention."""

    model_config = ConfigDict(extra="forbid")

    enabled: bool = Field(default=True, description="Write evidence at all.")
    store: Annotated[LocalStoreConfig | S3StoreConfig, Field(discriminator="type")] = Field(
        default_factory=LocalStoreConfig, description="Where evidence goes: `type: local` or `type: s3`."
    )
    scratch_dir: Path = Field(
        default=Path("var/evidence-tmp"), description="Local directory for clips before they are stored."
    )
    jpeg_quality: int = Field(default=85, ge=1, le=100, description="JPEG quality of snapshots.")
    snapshot_max_width_px: int | None = Field(
        default=None,
        ge=64,
        le=16384,
        description="Downscale snapshots wider than this; None keeps full size.",
    )
    clip_kinds: list[EventKind] = Field(
        default_factory=lambda: [EventKind.FIRE, EventKind.SMOKE, EventKind.THROW],
        description="Kinds whose alerts get a clip (taken from the source's packet ring buffer).",
    )
    clip_phases: list[Phase] = Field(
        default_factory=lambda: [Phase.START], description="Event phases whose alerts get a clip."
    )
    clip_pre_roll_s: float = Field(
        default=3.0, ge=0.0, le=120.0, description="Seconds before the event window."
    )
    clip_post_roll_s: float = Field(
        default=3.0, ge=0.0, le=120.0, description="Seconds after the event window."
    )
    clip_wait_margin_s: float = Field(
        default=1.0, ge=0.0, le=60.0, description="Extra wait after the post-roll before the clip is cut."
    )
    queue_max_jobs: int = Field(
        default=64,
        ge=1,
        le=10_000,
        description="Pending evidence jobs; beyond it new evidence is skipped and counted, alerts still go.",
    )
    retention_max_age_s: float = Field(
        default=30 * _DAY_S, gt=0.0, le=3650 * _DAY_S, description="Evidence older than this is deleted."
    )
    retention_max_total_mb: float = Field(
        default=20_480.0,
        gt=0.0,
        le=1e9,
        description="Oldest evidence is deleted while the store holds more than this.",
    )
    retention_sweep_interval_s: float = Field(
        default=600.0, ge=1.0, le=_DAY_S, description="How often the retention sweep runs."
    )
    retention_keep_prefixes: list[str] = Field(
        default_factory=lambda: ["surveys/"],
        description="Key prefixes the retention sweep never deletes nor counts: survey mosaics are the "
        "baseline the next survey of the same ground is compared with (see detectors.construction.survey).",
    )
