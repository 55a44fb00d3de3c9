"""The alert wire format: a pydantic model, its JSON Schema file, and the deterministic alert id.

Evolution rule (also in the schema's description): within a major version only additive changes are
allowed: new optional fields, new enum values announced in advance. Nothing is removed, renamed or
retyped, and required fields stay required. Consumers must ignore fields they do not know, so the schema
allows additional properties and `Alert` ignores unknown fields when parsing. A breaking change bumps
the major version and goes to a new topic. `schema_version` is "MAJOR.MINOR".

History: 1.0 the first release; 1.1 adds `grid_levels` (street, community, grid, micro-grid ids and names),
`officer_team`, `routing_key` and `case_category`, all optional (absent or null in 1.0 alerts, and wherever
the grid file or config does not describe them).

`alerts/alert.schema.json` is generated from `Alert` (`python -m alerts.schema` rewrites it) and a test
checks that the committed file equals the generated one.

Ids: `alert_id` is a UUIDv5 of (source, kind, the detector's incident id, phase, update_seq) of the
event that caused the alert, so handling or sending the same event again gives the same id (consumers
de-duplicate by it), while every update of an incident gets its own id. `incident_id` is the merged
incident that several sources and updates share.
"""

from __future__ import annotations

import json
import sys
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from detectors.event import EventKind, GeoMethod, Phase

SCHEMA_MAJOR = 1
SCHEMA_MINOR = 1
SCHEMA_VERSION = f"{SCHEMA_MAJOR}.{SCHEMA_MINOR}"
SCHEMA_ID = f"urn:gridwatch:alert:{SCHEMA_MAJOR}"
SCHEMA_PATH = Path(__file__).with_name("alert.schema.json")

_ID_NAMESPACE = uuid.UUID("8a3f6c2e-5b1d-5e7a-9c4b-2d6e8f0a1b3c")

EVOLUTION_RULE = (
    "Evolution rule: within a major version only additive changes are made (new optional fields, "
    "announced enum values); nothing is removed, renamed or retyped. Consumers ignore unknown fields. "
    "A breaking change bumps the major version and uses a new topic."
)


class _Wire(BaseModel):
    """Base of every wire object: tolerant reader (unknown fields ignored), immutable once built."""

    model_config = ConfigDict(extra="ignore", frozen=True)


class GcjPoint(_Wire):
    """A position in GCJ-02, for display on Chinese map platforms only."""

    lat: float = Field(ge=-90, le=90, description="GCJ-02 latitude, degrees.")
    lon: float = Field(ge=-180, le=180, description="GCJ-02 longitude, degrees.")


class Location(_Wire):
    """Where the incident is: WGS-84 (canonical), GCJ-02 (display), how it was obtained, how accurate."""

    lat: float = Field(ge=-90, le=90, description="WGS-84 latitude, degrees.")
    lon: float = Field(ge=-180, le=180, description="WGS-84 longitude, degrees.")
    crs: Literal["EPSG:4326"] = Field(default="EPSG:4326", description="Datum of lat/lon.")
    gcj02: GcjPoint = Field(description="The same position in GCJ-02 (equal to WGS-84 outside China).")
    geo_method: GeoMethod = Field(description="How the position was obtained.")
    accuracy_m: float = Field(ge=0, description="Radius within which the incident lies, metres.")
    address_hint: str | None = Field(
        default=None, description="Human address from the camera's site, if any."
    )


class GridCellRef(_Wire):
    """The district grid cell the incident lies in (routes the ticket to its grid officer)."""

    id: str = Field(description="Grid cell id.")
    name: str = Field(description="Grid cell name.")
    source: Literal["lookup", "site"] = Field(
        description="`lookup`: found from the position in the grid GeoJSON; `site`: the camera site's cell."
    )


class GridArea(_Wire):
    """One unit of one level of the district's grid (since 1.1)."""

    id: str = Field(description="The unit's id in the district's grid file.")
    name: str = Field(description="The unit's name.")


class GridLevels(_Wire):
    """Every level of the district's grid the incident lies in, coarsest first (since 1.1). A level the
    district's grid file does not describe is null."""

    street: GridArea | None = Field(default=None, description="Street (街道) or town (镇).")
    community: GridArea | None = Field(default=None, description="Community (社区) or village (村).")
    grid: GridArea | None = Field(default=None, description="Grid (网格).")
    micro_grid: GridArea | None = Field(default=None, description="Micro-grid (微网格), the finest level.")


class CaseCategory(_Wire):
    """The ticketing platform's event class of this kind of incident (since 1.1), from the node's config
    (`alerts.case_categories`)."""

    scheme: str | None = Field(
        default=None, description="Code list the codes come from, e.g. `CJ/T 214-2007`; null if none."
    )
    major_code: str | None = Field(default=None, description="大类 code; null where not known.")
    major_name: str = Field(description="大类 name, e.g. 市容环境.")
    minor_code: str | None = Field(default=None, description="小类 code; null where not known.")
    minor_name: str = Field(description="小类 name, e.g. 私搭乱建.")
    placeholder: bool = Field(
        description="True while the class is a placeholder the district has not confirmed on its platform."
    )


class ThrowInfo(_Wire):
    """Object thrown from a building: where on the facade it started."""

    floor: int | None = Field(default=None, description="Floor the object came from.")
    floor_uncertainty: int | None = Field(default=None, ge=0, description="± floors.")
    facade_column: str | None = Field(
        default=None, description="Facade column (window stack) label, if calibrated."
    )
    along_m: float | None = Field(default=None, description="Metres along the calibrated facade.")
    height_m: float | None = Field(default=None, description="Metres above the facade's ground line.")
    trajectory_px: list[tuple[float, float, float]] | None = Field(
        default=None, description="Tracked trajectory as [t_s, x_px, y_px] in the camera image."
    )


class FireInfo(_Wire):
    """Fire or smoke: size and growth."""

    area_m2: float | None = Field(default=None, ge=0, description="Estimated burning or smoke area, m².")
    growth_ratio: float | None = Field(
        default=None, ge=0, description="Current area / area at the incident's start."
    )


class GeoJsonPolygon(_Wire):
    """A GeoJSON Polygon in WGS-84 [lon, lat]; the first ring is the outline."""

    type: Literal["Polygon"] = Field(default="Polygon", description="GeoJSON geometry type.")
    coordinates: list[list[tuple[float, float]]] = Field(description="Rings of [lon, lat] positions, closed.")


class ConstructionInfo(_Wire):
    """Construction seen from a drone: the site's footprint."""

    footprint: GeoJsonPolygon | None = Field(default=None, description="Footprint polygon, WGS-84.")
    area_m2: float | None = Field(default=None, ge=0, description="Footprint area, m².")


class Evidence(_Wire):
    """Where the evidence is. Files are written shortly after the alert (clips after their post-roll)."""

    snapshot_uri: str | None = Field(default=None, description="Clean JPEG of the trigger frame.")
    snapshot_annotated_uri: str | None = Field(
        default=None, description="JPEG with the box (and trajectory) drawn."
    )
    clip_uri: str | None = Field(
        default=None, description="MP4 clip remuxed from the source's packets (no re-encode)."
    )
    clip_start_pts_s: float | None = Field(
        default=None, description="Clip start, stream presentation time, seconds."
    )
    clip_end_pts_s: float | None = Field(
        default=None, description="Clip end, stream presentation time, seconds."
    )


class ModelInfo(_Wire):
    """The model that contributed to the alert."""

    name: str = Field(description="Model name as configured.")
    version: str = Field(description="Model version.")
    sha256: str = Field(description="SHA-256 of the model file.")


ReasonValue = float | int | str | bool


class Alert(_Wire):
    """One alert as published (JSON, Kafka key = `source`, header `alert_id`)."""

    schema_version: str = Field(
        default=SCHEMA_VERSION,
        pattern=rf"^{SCHEMA_MAJOR}\.[0-9]+$",
        description="MAJOR.MINOR of this schema.",
    )
    alert_id: str = Field(description="Deterministic UUID; re-sends of the same alert keep it.")
    incident_id: str = Field(description="Merged incident shared by every update and every source.")
    source_incident_id: str = Field(description="The detector's incident id on this source.")
    kind: EventKind = Field(description="What was detected.")
    phase: Phase = Field(description="Incident lifecycle step this alert reports.")
    update_seq: int = Field(ge=0, description="Counts the alerts of the incident from 0 (the start).")
    source: str = Field(min_length=1, description="Camera id or drone flight id that saw it.")
    incident_sources: list[str] = Field(description="Every source that has seen this incident so far.")
    started_at: datetime = Field(description="When this source first saw the incident (UTC, ISO-8601).")
    last_seen_at: datetime = Field(description="When this source last saw it (UTC).")
    ended_at: datetime | None = Field(default=None, description="When the incident ended (phase end only).")
    triggered_at: datetime = Field(description="Capture time of the frame that triggered this alert (UTC).")
    created_at: datetime = Field(description="When this alert was created (UTC).")
    confidence: float = Field(ge=0, le=1, description="Detector confidence.")
    box_xyxy: tuple[float, float, float, float] | None = Field(
        default=None, description="Bounding box in source pixels [x1, y1, x2, y2]."
    )
    location: Location | None = Field(
        default=None, description="Where; null when the source has no position at all."
    )
    grid_cell: GridCellRef | None = Field(
        default=None,
        description="The cell of the district's grid file the incident lies in (its finest level, e.g. the "
        "micro-grid); null outside every known cell.",
    )
    grid_levels: GridLevels | None = Field(
        default=None,
        description="Since 1.1: every level (street, community, grid, micro-grid) the incident lies in; null "
        "when the grid file describes no levels or no cell was found.",
    )
    officer_team: str | None = Field(
        default=None, description="Since 1.1: the officer team of the cell (micro-grid); null when unknown."
    )
    routing_key: str | None = Field(
        default=None,
        description="Since 1.1: `<finest area id>/<kind>` (e.g. `SJ-02-05-03-4/fire`), for the ticketing "
        "consumer to route by; area ids are hierarchical in the sample district, so a prefix selects a "
        "street or community. Null when no area is known.",
    )
    case_category: CaseCategory | None = Field(
        default=None, description="Since 1.1: the platform's event class (大类/小类) of this kind."
    )
    throw: ThrowInfo | None = Field(default=None, description="Kind `throw` only.")
    fire: FireInfo | None = Field(default=None, description="Kinds `fire` and `smoke` only.")
    construction: ConstructionInfo | None = Field(default=None, description="Kind `construction` only.")
    evidence: Evidence = Field(default_factory=Evidence, description="Snapshot and clip URIs.")
    model: ModelInfo | None = Field(default=None, description="Model that contributed, if any.")
    node_id: str = Field(min_length=1, description="The video node that produced the alert.")
    config_version: str = Field(description="Version (hash) of the configuration in force.")
    reasons: dict[str, ReasonValue] = Field(
        default_factory=dict, description="The numbers behind the decision (why it fired)."
    )

    def to_json_bytes(self) -> bytes:
        """The Kafka message value: compact UTF-8 JSON, nulls kept so every field is visible."""
        return self.model_dump_json().encode("utf-8")


def alert_id_for(source_id: str, kind: str, source_incident_id: str, phase: str, update_seq: int) -> str:
    """Deterministic alert id of one event (see the module docstring)."""
    name = "\x1f".join((source_id, str(kind), source_incident_id, str(phase), str(int(update_seq))))
    return str(uuid.uuid5(_ID_NAMESPACE, name))


def incident_id_for(source_id: str, kind: str, source_incident_id: str) -> str:
    """Deterministic id of an incident first seen as this source's detector incident."""
    name = "\x1f".join(("incident", source_id, str(kind), source_incident_id))
    return str(uuid.uuid5(_ID_NAMESPACE, name))


def utc(ts_s: float) -> datetime:
    """Epoch seconds -> aware UTC datetime (serialised as ISO-8601 with `Z`)."""
    return datetime.fromtimestamp(ts_s, tz=UTC)


def json_schema() -> dict[str, Any]:
    """The JSON Schema (draft 2020-12) of `Alert`, as committed in alert.schema.json."""
    schema = Alert.model_json_schema(mode="serialization")
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": SCHEMA_ID,
        "title": f"gridwatch alert v{SCHEMA_VERSION}",
        **{k: v for k, v in schema.items() if k not in {"title", "description"}},
        "description": "One gridwatch alert (Kafka key = source, header alert_id). " + EVOLUTION_RULE,
    }


def render_schema() -> str:
    """The schema file's exact text."""
    return json.dumps(json_schema(), indent=2, ensure_ascii=False, sort_keys=True) + "\n"


def load_schema() -> dict[str, Any]:
    """The committed schema file shipped in the package."""
    data: dict[str, Any] = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))
    return data


def main(argv: list[str] | None = None) -> int:
    """`python -m alerts.schema [PATH]`: regenerate the schema file (default: the packaged one)."""
    args = sys.argv[1:] if argv is None else argv
    target = Path(args[0]) if args else SCHEMA_PATH
    target.write_text(render_schema(), encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
