"""Build a fire/smoke `Event` from a track and its incident: box, ground position and area, details, evidence
window. Kept apart from the per-frame loop in `detectors.fire.detector`, which decides *when* to emit."""

from __future__ import annotations

import math

from detectors.base import DetectorStats
from detectors.event import Event, EventKind, GeoPoint, ModelRef, Phase
from detectors.fire.assessment import Assessment
from detectors.fire.camera_state import CameraState
from detectors.fire.candidates import KIND_FIRE, KIND_SMOKE
from detectors.fire.config import FireConfig
from detectors.fire.events import FireDetails
from detectors.fire.tracks import Track
from detectors.geometry.ground import GroundMapper

EVENT_KIND = {KIND_FIRE: EventKind.FIRE, KIND_SMOKE: EventKind.SMOKE}


def _ground_and_area(
    ground_mapper: GroundMapper | None, box: tuple[float, float, float, float], frame_size: tuple[int, int],
    area_px: float, cfg: FireConfig,
) -> tuple[GeoPoint | None, float | None]:
    """Where the fire's base lands on the ground and its area in m² (None without a calibration, or where
    the base does not meet the ground)."""
    x1, y1, x2, y2 = box
    fw, fh = frame_size
    ground: GeoPoint | None = None
    area_m2: float | None = None
    if ground_mapper is not None and fw > 0:
        base_x, base_y = (x1 + x2) / 2, y2
        ground = ground_mapper.locate(
            base_x, base_y, (fw, fh), pixel_sigma_px=max(1.0, cfg.ground_pixel_sigma_share * (y2 - y1))
        )
        mpp = ground_mapper.metres_per_px(base_x, base_y, (fw, fh))
        if ground is not None and math.isfinite(mpp):
            area_m2 = round(area_px * mpp * mpp, 3)
    return ground, area_m2


def build_event(
    camera_id: str,
    st: CameraState,
    track: Track,
    phase: Phase,
    *,
    now: float,
    pts_s: float,
    a: Assessment,
    cfg: FireConfig,
    ground_mapper: GroundMapper | None,
    model_ref: ModelRef | None,
    stats: DetectorStats,
) -> Event:
    """The event of `phase` for `track`'s open incident (counted in `stats.events`); `model_ref` is reported
    only when the model contributed a hit to the track."""
    inc = track.incident
    assert inc is not None
    box = track.extent()
    x1, y1, x2, y2 = (float(v) for v in box)
    fw, fh = st.frame_size
    area_px = max(0.0, (x2 - x1) * (y2 - y1))
    ground, area_m2 = _ground_and_area(ground_mapper, (x1, y1, x2, y2), st.frame_size, area_px, cfg)
    model_hits, _, _ = track.source_counts()
    details = FireDetails(
        area_px=round(area_px, 1),
        area_share=round(area_px / max(1, fw * fh), 6),
        growth_rate_per_s=round(a.growth_rate_per_s, 4),
        growth_ratio=round(area_px / max(inc.start_area, 1.0), 3),
        frames_seen=track.frames_seen,
        track_id=track.track_id,
        area_m2_est=area_m2,
    )
    stats.events[EVENT_KIND[track.kind].value] += 1
    life = cfg.lifecycle
    return Event(
        kind=EVENT_KIND[track.kind],
        source_id=camera_id,
        incident_id=inc.incident_id,
        phase=phase,
        update_seq=inc.update_seq,
        started_at=inc.started_at,
        last_seen_at=track.last_seen_at,
        trigger_captured_at=now,
        confidence=round(max(inc.confidence, a.confidence) if phase is Phase.END else a.confidence, 4),
        box_xyxy=(x1, y1, x2, y2),
        ground=ground,
        area_m2=area_m2,
        snapshot=track.best_frame,
        evidence_window_s=(max(0.0, inc.start_pts_s - life.pre_roll_s), pts_s + life.post_roll_s),
        model=model_ref if model_hits else None,
        reasons=dict(a.reasons),
        details=details,
    )
