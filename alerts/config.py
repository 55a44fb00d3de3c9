"""Configuration of the alerts package: the root `alerts:` section and a camera's `site:` section.

The Kafka client settings live in `alerts.kafka_config`, the evidence settings in `alerts.evidence_config`.

Every model forbids unknown keys and has defaults that make an empty section valid: alerts go to a local
SQLite outbox (the destination when no Kafka is configured), evidence to a local directory, no grid
lookup, and incident dedup with per-kind radii and windows. Secrets are `SecretStr` and come from
`${ENV}` or `${file:...}` in YAML (see foundation.yamlsafe); they never appear in reprs or errors.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from alerts.evidence_config import EvidenceConfig
from alerts.kafka_config import KafkaConfig
from detectors.event import EventKind

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
