"""Builders for events, frames and configs used across the alerts tests."""

from __future__ import annotations

import itertools
from pathlib import Path
from typing import Any

import numpy as np

from alerts.config import AlertsConfig
from alerts.schema import Alert, alert_id_for, utc
from detectors.construction.events import ConstructionDetails
from detectors.event import Event, EventDetails, EventKind, FacadeHit, GeoMethod, GeoPoint, ModelRef, Phase
from detectors.fire.events import FireDetails
from detectors.throw.events import ThrowDetails
from ingest.frame import Frame

# Points well inside two micro-grids of the made-up sample district (configs/grid/sample-district.geojson):
# A = SJ-02-08-02-1 (the demo fire camera's site), B = SJ-03-09-04-4 (the demo street camera's site).
MG_A_LAT, MG_A_LON = 34.8102, 113.2745
MG_B_LAT, MG_B_LON = 34.8000, 113.2900

_seq = itertools.count()


def frame(
    source_id: str = "cam-1",
    *,
    t: float = 1_700_000_000.0,
    pts_s: float = 10.0,
    size: tuple[int, int] = (240, 320),
) -> Frame:
    """A small BGR frame with a gradient, so JPEGs are not trivially empty."""
    h, w = size
    img = np.zeros((h, w, 3), np.uint8)
    img[:, :, 1] = np.linspace(0, 255, w, dtype=np.uint8)[None, :]
    img[:, :, 2] = np.linspace(0, 255, h, dtype=np.uint8)[:, None]
    return Frame(source_id, next(_seq), t, pts_s, img)


def fire_details(growth_ratio: float = 1.0, area_m2_est: float | None = None) -> FireDetails:
    """Fire/smoke details as the fire detector fills them."""
    return FireDetails(area_px=12_000.0, area_share=0.04, growth_rate_per_s=0.05, growth_ratio=growth_ratio,
                       frames_seen=6, track_id=1, area_m2_est=area_m2_est)


def throw_details(trajectory_px: tuple[tuple[float, float, float], ...] = ((0.0, 100.0, 20.0),)) -> ThrowDetails:
    """Throw details as the throw detector fills them (only the trajectory matters to alerts)."""
    return ThrowDetails(
        trajectory_px=trajectory_px, fitted_curve_px=tuple((x, y) for _, x, y in trajectory_px), accel_m_s2=9.6,
        accel_px_s2=480.0, expected_accel_px_s2=490.0, accel_ratio=0.98, release_pts_s=0.0,
        release_captured_at=1_700_000_000.0, release_window_pts_s=(-0.3, 0.0), release_height_m=31.0, release_height_sigma_m=1.5, release_along_m=12.5,
        landing_pts_s=2.5, px_per_m=50.0, drop_m=3.0, end_speed_m_s=7.7, object_size_px=6.0, rejoined_tracks=False,
        calibrated=True,
    )


DEFAULT_DETAILS: dict[EventKind, EventDetails] = {
    EventKind.FIRE: fire_details(),
    EventKind.SMOKE: fire_details(),
    EventKind.THROW: throw_details(),
    EventKind.CONSTRUCTION: ConstructionDetails(flight_id="F1", site_id="S1", structure_kind="steel_roof"),
}
"""Each kind's details as its detector declares them (`detectors/<name>/events.py`)."""


def event(
    kind: EventKind = EventKind.FIRE,
    *,
    source_id: str = "cam-1",
    incident_id: str = "inc-1",
    phase: Phase = Phase.START,
    update_seq: int = 0,
    t: float = 1_700_000_000.0,
    lat: float | None = MG_A_LAT,
    lon: float | None = MG_A_LON,
    accuracy_m: float = 5.0,
    method: GeoMethod = GeoMethod.GROUND_HOMOGRAPHY,
    snapshot: Frame | None = None,
    window_s: tuple[float, float] | None = None,
    **extra: Any,
) -> Event:
    ground = GeoPoint(lat, lon, accuracy_m, method) if lat is not None and lon is not None else None
    fields: dict[str, Any] = {
        "box_xyxy": (20.0, 30.0, 120.0, 150.0),
        "model": ModelRef("fire-yolov8n", "1", "ab" * 32),
        "reasons": {"frames_confirmed": 5, "mean_score": 0.81},
        "details": DEFAULT_DETAILS[kind],
    }
    fields.update(extra)
    return Event(
        kind=kind,
        source_id=source_id,
        incident_id=incident_id,
        phase=phase,
        update_seq=update_seq,
        started_at=t - 2.0,
        last_seen_at=t,
        trigger_captured_at=t,
        confidence=0.87,
        ground=ground,
        snapshot=snapshot,
        evidence_window_s=window_s,
        **fields,
    )


def alert(i: int, source: str = "cam-1") -> Alert:
    t = utc(1_700_000_000.0 + i)
    return Alert(
        alert_id=alert_id_for(source, "fire", f"inc-{i}", "start", 0),
        incident_id=f"I{i}",
        source_incident_id=f"inc-{i}",
        kind="fire",
        phase="start",
        update_seq=0,
        source=source,
        incident_sources=[source],
        started_at=t,
        last_seen_at=t,
        triggered_at=t,
        created_at=t,
        confidence=0.5,
        node_id="n",
        config_version="c",
    )


def throw_event(**kw: Any) -> Event:
    return event(
        EventKind.THROW,
        facade=FacadeHit(along_m=12.5, height_m=31.0, floor=11, floor_uncertainty=1, column="B"),
        details=throw_details(((0.0, 100.0, 20.0), (0.1, 101.0, 40.0), (0.2, 102.0, 80.0))),
        method=GeoMethod.FACADE_HOMOGRAPHY,
        **kw,
    )


def alerts_config(tmp: Path, **sections: Any) -> AlertsConfig:
    """An AlertsConfig writing everything under `tmp` (no Kafka unless given)."""
    data: dict[str, Any] = {
        "outbox": {"path": str(tmp / "outbox.sqlite3")},
        "evidence": {
            "store": {"type": "local", "dir": str(tmp / "evidence")},
            "scratch_dir": str(tmp / "scratch"),
        },
    }
    for key, value in sections.items():
        if isinstance(value, dict) and isinstance(data.get(key), dict):
            data[key] = {**data[key], **value}
        else:
            data[key] = value
    return AlertsConfig.model_validate(data)


class FakeClock:
    """A settable clock for outbox/relay timing in unit tests."""

    def __init__(self, now: float = 1_700_000_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now

    def advance(self, dt: float) -> None:
        self.now += dt
