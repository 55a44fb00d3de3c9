"""Configuration of the alerts package: the root `alerts:` section and a camera's `site:` section.

Every model forbids unknown keys and has defaults that make an empty section valid: alerts go to a local
SQLite outbox (the destination when no Kafka is configured), evidence to a local directory, no grid
lookup, and incident dedup with per-kind radii and windows. Secrets are `SecretStr` and come from
`${ENV}` or `${file:...}` in YAML (see foundation.yamlsafe); they never appear in reprs or errors.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator, model_validator

from detectors.event import EventKind, Phase

_TOPIC = re.compile(r"^[A-Za-z0-9._-]{1,249}$")


def check_topic_name(value: str) -> str:
    """A legal Kafka topic name, or ValueError saying what is allowed (for config validators)."""
    if not _TOPIC.match(value) or value in {".", ".."}:
        raise ValueError("topic must be 1-249 characters of [A-Za-z0-9._-]")
    return value
_HOSTPORT = re.compile(r"^[^\s:/,]+(:\d{1,5})?$")
_DAY_S = 86400.0


class OutboxConfig(BaseModel):
    """The durable SQLite outbox every alert is written to before anything is sent."""

    model_config = ConfigDict(extra="forbid")

    path: Path = Field(
        default=Path("var/alerts/outbox.sqlite3"),
        description="SQLite file of the outbox (WAL mode; keep it on a local disk, not NFS).",
    )
    max_rows: int = Field(
        default=100_000,
        ge=10,
        le=100_000_000,
        description="Capacity in rows. Sent rows are evicted oldest first to make room; when unsent rows "
        "alone fill it, new alerts are refused with OutboxFullError (never dropped silently).",
    )
    high_water_ratio: float = Field(
        default=0.8,
        gt=0.0,
        lt=1.0,
        description="Share of max_rows of unsent rows at which health turns red, before the outbox is full.",
    )
    keep_sent_s: float = Field(
        default=7 * _DAY_S,
        ge=0.0,
        le=3650 * _DAY_S,
        description="How long sent rows are kept for `gridwatch alerts list` and replay before pruning.",
    )
    busy_timeout_s: float = Field(
        default=10.0,
        gt=0.0,
        le=300.0,
        description="How long a writer waits for another process (e.g. the CLI) holding the database lock.",
    )


class KafkaConfig(BaseModel):
    """Where and how the relay publishes: brokers, topic, TLS/SASL, and the producer's timeouts."""

    model_config = ConfigDict(extra="forbid")

    bootstrap_servers: list[str] = Field(
        default_factory=lambda: ["127.0.0.1:9092"],
        min_length=1,
        description="Broker host:port list (a comma-separated string is accepted too).",
    )
    topic: str = Field(default="gridwatch.alerts", description="Topic the alerts are published to.")
    client_id: str = Field(
        default="gridwatch-alerts", min_length=1, max_length=200, description="Kafka client id."
    )
    security_protocol: Literal["PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL"] = Field(
        default="PLAINTEXT", description="Transport security; SSL with certfile/keyfile is mutual TLS."
    )
    sasl_mechanism: Literal["PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512"] | None = Field(
        default=None, description="SASL mechanism; required with SASL_PLAINTEXT and SASL_SSL."
    )
    username: str | None = Field(default=None, description="SASL user name.")
    password: SecretStr | None = Field(
        default=None, description="SASL password (from ${ENV} or ${file:...})."
    )
    ssl_cafile: Path | None = Field(default=None, description="CA bundle (PEM) to verify the brokers.")
    ssl_certfile: Path | None = Field(default=None, description="Client certificate (PEM) for mutual TLS.")
    ssl_keyfile: Path | None = Field(default=None, description="Client private key (PEM) for mutual TLS.")
    ssl_key_password: SecretStr | None = Field(
        default=None, description="Password of the client private key."
    )
    ssl_check_hostname: bool = Field(
        default=True, description="Verify that broker certificates match host names."
    )
    linger_ms: int = Field(default=5, ge=0, le=10_000, description="Producer batching delay.")
    request_timeout_ms: int = Field(
        default=15_000, ge=1_000, le=300_000, description="Per-request broker timeout."
    )
    delivery_timeout_ms: int = Field(
        default=120_000,
        ge=5_000,
        le=3_600_000,
        description="How long the producer keeps retrying one record before the relay takes it back "
        "and re-sends it from the outbox.",
    )
    max_block_ms: int = Field(
        default=10_000, ge=100, le=300_000, description="Longest a send may block waiting for topic metadata."
    )
    bootstrap_timeout_ms: int = Field(
        default=10_000,
        ge=500,
        le=300_000,
        description="Longest the relay waits to reach a broker when (re)connecting.",
    )
    batch_size_bytes: int = Field(
        default=262_144,
        ge=1024,
        le=8_388_608,
        description="Producer batch size per partition; large batches drain a backlog about 3x faster than "
        "kafka-python's 16 KiB default.",
    )
    batch_max_rows: int = Field(
        default=500,
        ge=1,
        le=100_000,
        description="Outbox rows the relay sends per window before waiting for acks.",
    )
    retry_backoff_initial_s: float = Field(
        default=0.5,
        gt=0.0,
        le=60.0,
        description="First wait after a failed window; doubles per failure, with jitter.",
    )
    retry_backoff_max_s: float = Field(
        default=30.0, gt=0.0, le=600.0, description="Cap of the retry backoff."
    )
    unreachable_red_after_s: float = Field(
        default=60.0,
        gt=0.0,
        le=3600.0,
        description="Health turns red when unsent rows wait and no broker answered for this long.",
    )

    @field_validator("bootstrap_servers", mode="before")
    @classmethod
    def _split_servers(cls, value: object) -> object:
        if isinstance(value, str):
            return [s.strip() for s in value.split(",") if s.strip()]
        return value

    @field_validator("bootstrap_servers")
    @classmethod
    def _check_servers(cls, value: list[str]) -> list[str]:
        bad = [s for s in value if not _HOSTPORT.match(s)]
        if bad:
            raise ValueError(f"bootstrap servers must be host or host:port, got {bad}")
        return value

    @field_validator("topic")
    @classmethod
    def _check_topic(cls, value: str) -> str:
        return check_topic_name(value)

    @model_validator(mode="after")
    def _check_security(self) -> KafkaConfig:
        sasl = self.security_protocol.startswith("SASL")
        if sasl and (self.sasl_mechanism is None or not self.username or self.password is None):
            raise ValueError(f"{self.security_protocol} needs sasl_mechanism, username and password")
        if not sasl and self.sasl_mechanism is not None:
            raise ValueError(f"sasl_mechanism is set but security_protocol is {self.security_protocol}")
        if (self.ssl_certfile is None) != (self.ssl_keyfile is None):
            raise ValueError("mutual TLS needs both ssl_certfile and ssl_keyfile")
        if self.retry_backoff_max_s < self.retry_backoff_initial_s:
            raise ValueError("retry_backoff_max_s must be >= retry_backoff_initial_s")
        if self.delivery_timeout_ms < self.request_timeout_ms + self.linger_ms:
            raise ValueError("delivery_timeout_ms must be >= request_timeout_ms + linger_ms")
        return self


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


class LevelPropertiesConfig(BaseModel):
    """The feature properties that hold one level's id and name in the grid GeoJSON."""

    model_config = ConfigDict(extra="forbid")

    id_property: str = Field(min_length=1, max_length=200, description="Property holding the level's id.")
    name_property: str = Field(
        min_length=1, max_length=200, description="Property holding the level's name."
    )


class GridLevelsConfig(BaseModel):
    """Which levels the grid file describes (each cell carries the ids and names of the levels above it).
    A level left out is null in the alerts; a level named here must be on every feature."""

    model_config = ConfigDict(extra="forbid")

    street: LevelPropertiesConfig | None = Field(default=None, description="Street (街道) or town (镇).")
    community: LevelPropertiesConfig | None = Field(default=None, description="Community (社区) or village.")
    grid: LevelPropertiesConfig | None = Field(default=None, description="Grid (网格).")
    micro_grid: LevelPropertiesConfig | None = Field(
        default=None, description="Micro-grid (微网格); usually the cell itself (`id`, `name`)."
    )


class GridConfig(BaseModel):
    """The district's grid (GeoJSON polygons of its finest cells) that routes a ticket to the right area
    and officer team."""

    model_config = ConfigDict(extra="forbid")

    path: Path | None = Field(
        default=None, description="GeoJSON FeatureCollection of Polygon/MultiPolygon cells."
    )
    id_property: str = Field(default="id", min_length=1, description="Feature property holding the cell id.")
    name_property: str = Field(
        default="name", min_length=1, description="Feature property holding the cell name."
    )
    coordinates: Literal["wgs84", "gcj02"] = Field(
        default="wgs84",
        description="Datum of the polygon coordinates (grids drawn on Chinese map platforms are gcj02).",
    )
    levels: GridLevelsConfig = Field(
        default_factory=GridLevelsConfig,
        description="Feature properties of each level (street, community, grid, micro-grid) the alert carries.",
    )
    officer_team_property: str | None = Field(
        default=None,
        min_length=1,
        max_length=200,
        description="Feature property holding the cell's officer team; None: alerts carry no team.",
    )


class KindDedupConfig(BaseModel):
    """How one kind of incident is merged across sources and over time."""

    model_config = ConfigDict(extra="forbid")

    radius_m: float = Field(
        description="Events closer than this (plus position accuracy) are one incident.", gt=0.0, le=50_000.0
    )
    window_s: float = Field(
        description="An incident accepts new sources until this long after last seen.",
        gt=0.0,
        le=3650 * _DAY_S,
    )
    cooldown_s: float = Field(
        description="Minimum interval between update alerts of one source and kind.", ge=0.0, le=30 * _DAY_S
    )
    emit_end: bool = Field(
        default=True, description="Send an `end` alert when the last source of the incident ends."
    )
    same_source_rejoins: bool = Field(
        default=True,
        description="A new detector incident on a source already in a nearby incident joins it (a fire that "
        "flares up again). Off for kinds where each detector incident is a new event (a second throw).",
    )


class DedupConfig(BaseModel):
    """Incident dedup: one fire seen by two cameras, or one construction site seen in many flights, is one
    incident with updates."""

    model_config = ConfigDict(extra="forbid")

    enabled: bool = Field(
        default=True, description="Merge events into incidents; off gives one incident per event chain."
    )
    merge_fire_smoke: bool = Field(default=True, description="Fire and smoke at one place are one incident.")
    accuracy_slack_max_m: float = Field(
        default=100.0,
        ge=0.0,
        le=10_000.0,
        description="The match radius grows by the two positions' accuracy radii, at most by this much.",
    )
    fire: KindDedupConfig = Field(
        default_factory=lambda: KindDedupConfig(radius_m=150.0, window_s=600.0, cooldown_s=60.0),
        description="Fire incidents.",
    )
    smoke: KindDedupConfig = Field(
        default_factory=lambda: KindDedupConfig(radius_m=300.0, window_s=600.0, cooldown_s=60.0),
        description="Smoke incidents (smoke drifts, so the radius is wider).",
    )
    throw: KindDedupConfig = Field(
        default_factory=lambda: KindDedupConfig(
            radius_m=30.0, window_s=3.0, cooldown_s=5.0, same_source_rejoins=False
        ),
        description="Thrown objects: only the same throw seen by two cameras at the same moment merges.",
    )
    construction: KindDedupConfig = Field(
        default_factory=lambda: KindDedupConfig(
            radius_m=40.0, window_s=90 * _DAY_S, cooldown_s=3600.0, emit_end=False
        ),
        description="Construction sites: many frames and flights over weeks are one incident; a flight "
        "leaving the site does not end it.",
    )

    def for_kind(self, kind: EventKind) -> KindDedupConfig:
        cfg: KindDedupConfig = getattr(self, kind.value)
        return cfg


class CaseCategoryConfig(BaseModel):
    """One kind's event class on the ticketing platform (数字化城管 事件 大类/小类)."""

    model_config = ConfigDict(extra="forbid")

    scheme: str | None = Field(
        default=None, max_length=100, description="Code list the codes come from, e.g. `CJ/T 214-2007`."
    )
    major_code: str | None = Field(
        default=None, min_length=1, max_length=32, description="大类 code; None where not known."
    )
    major_name: str = Field(min_length=1, max_length=100, description="大类 name, e.g. 市容环境.")
    minor_code: str | None = Field(
        default=None, min_length=1, max_length=32, description="小类 code; None where not known."
    )
    minor_name: str = Field(min_length=1, max_length=100, description="小类 name, e.g. 私搭乱建.")
    placeholder: bool = Field(
        default=False,
        description="True while the district has not confirmed this class on its platform; sent in every "
        "alert so the consumer can tell.",
    )


# Defaults: see configs/reference/alerts.yaml for where each comes from and how far it was verified.
_STANDARD = "CJ/T 214-2007"


def _fire_category() -> CaseCategoryConfig:
    return CaseCategoryConfig(scheme=_STANDARD, major_name="突发事件", minor_name="火灾", placeholder=True)


class CaseCategoriesConfig(BaseModel):
    """The platform's event class of each kind of alert. Every kind has an entry (None: no class sent)."""

    model_config = ConfigDict(extra="forbid")

    throw: CaseCategoryConfig | None = Field(
        default_factory=lambda: CaseCategoryConfig(major_name="扩展事件", minor_name="高空抛物", placeholder=True),
        description="Objects thrown from high buildings (not in the classic event list: a placeholder).",
    )
    fire: CaseCategoryConfig | None = Field(
        default_factory=_fire_category, description="Fire (突发事件/火灾; codes not verified: a placeholder)."
    )
    smoke: CaseCategoryConfig | None = Field(
        default_factory=_fire_category, description="Smoke (treated as a fire until confirmed: a placeholder)."
    )
    construction: CaseCategoryConfig | None = Field(
        default_factory=lambda: CaseCategoryConfig(
            scheme=_STANDARD, major_code="01", major_name="市容环境", minor_code="0101", minor_name="私搭乱建"
        ),
        description="Illegal construction (市容环境/私搭乱建).",
    )

    def for_kind(self, kind: EventKind) -> CaseCategoryConfig | None:
        """The class of one kind; a kind without an entry here is a programming error and raises."""
        if kind.value not in type(self).model_fields:
            raise KeyError(f"case_categories has no entry for kind {kind.value!r}")
        category: CaseCategoryConfig | None = getattr(self, kind.value)
        return category


class AlertsConfig(BaseModel):
    """The root `alerts:` section."""

    model_config = ConfigDict(extra="forbid")

    outbox: OutboxConfig = Field(default_factory=OutboxConfig, description="The durable local outbox.")
    kafka: KafkaConfig | None = Field(
        default=None, description="Kafka destination; None means the outbox itself is the destination."
    )
    evidence: EvidenceConfig = Field(default_factory=EvidenceConfig, description="Snapshots and clips.")
    grid: GridConfig = Field(default_factory=GridConfig, description="Grid lookup: levels and officer team.")
    case_categories: CaseCategoriesConfig = Field(
        default_factory=CaseCategoriesConfig, description="The platform's event class of each kind."
    )
    dedup: DedupConfig = Field(default_factory=DedupConfig, description="Incident dedup and cooldowns.")


class SiteConfig(BaseModel):
    """A camera's `site:` section: where it stands (cameras without calibration) and its fixed grid cell."""

    model_config = ConfigDict(extra="forbid")

    lat_deg: float = Field(
        ge=-90.0, le=90.0, description="WGS-84 latitude of the camera (or what it watches)."
    )
    lon_deg: float = Field(ge=-180.0, le=180.0, description="WGS-84 longitude.")
    accuracy_m: float = Field(
        default=100.0,
        gt=0.0,
        le=100_000.0,
        description="Radius within which an event seen by this camera lies.",
    )
    grid_cell_id: str | None = Field(
        default=None,
        min_length=1,
        description="Fixed cell (an id of the grid file); skips the lookup of uncalibrated positions. Its "
        "levels and officer team still come from the grid file when it has the cell.",
    )
    grid_cell_name: str | None = Field(
        default=None, description="Name of the fixed grid cell (defaults to its id)."
    )
    address_hint: str | None = Field(
        default=None, max_length=500, description="Human address, e.g. building and street."
    )

    @model_validator(mode="after")
    def _check_cell(self) -> SiteConfig:
        if self.grid_cell_name is not None and self.grid_cell_id is None:
            raise ValueError("grid_cell_name needs grid_cell_id")
        return self
