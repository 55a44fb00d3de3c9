"""One thrown object as an incident: its identity, its best fit, and the `Event`s that report it.

An incident starts when a track passes the physics test; it may absorb a later track that continues the
same fall (the object vanished against a window of its own colour for longer than the tracker waits),
and it ends a short while after its last track ended. Events carry the trajectory and fitted curve in
source pixels (for the snapshot drawing), the floor, the clip window and the numbers behind the verdict.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from detectors.event import Event, EventKind, FacadeHit, GeoPoint, Phase
from detectors.geometry.facade import FacadeMapper
from detectors.throw.config import EvidenceConfig
from detectors.throw.events import ThrowDetails
from detectors.throw.evidence import draw_evidence
from detectors.throw.facade_map import FacadeMap
from detectors.throw.trajectory import TrajectoryFit
from ingest.frame import Frame


@dataclass
class Incident:
    """An accepted fall. `points` are the (t_s, x_px, y_px) rows its latest accepted fit used."""

    incident_id: str
    first_captured_at: float
    fit: TrajectoryFit
    points: NDArray[np.float64]
    snapshot: Frame
    size_px: float
    prefix: NDArray[np.float64]
    """Positions from earlier tracks of the same fall (empty unless a broken track was rejoined)."""
    update_seq: int = 0
    frozen: bool = False
    """Set once the object left the curve (landed, or its track took another blob): the fall is final."""
    closing_until_s: float | None = None
    """Stream time until which an ended incident waits for a continuation before its end event."""

    def next_seq(self) -> int:
        self.update_seq += 1
        return self.update_seq


def locate(facade: FacadeMap, fit: TrajectoryFit) -> tuple[FacadeHit | None, GeoPoint | None]:
    """Floor, column and WGS-84 point of the release, when the camera's facade is calibrated."""
    if not isinstance(facade, FacadeMapper):
        return None, None
    hit = facade.hit_at(fit.release_along_m, fit.release_height_m, fit.release_height_sigma_m)
    return hit, facade.geo_point(fit.release_along_m, fit.release_along_sigma_m)


def throw_event(
    inc: Incident,
    phase: Phase,
    seq: int,
    *,
    camera_id: str,
    now: float,
    facade: FacadeMap,
    evidence: EvidenceConfig,
) -> Event:
    """The incident's event for `phase`: geometry, clip window, trajectory and reasons from its fit."""
    fit, pts, snapshot = inc.fit, inc.points, inc.snapshot
    offset = snapshot.captured_at - snapshot.pts_s
    hit, geo = locate(facade, fit)
    last_t = float(pts[-1, 0])
    # a start asks for the clip up to the predicted landing; later events know the last position
    end_t = max(last_t, fit.landing_t_s) if phase is Phase.START else last_t
    m = max(2.0, inc.size_px / 2)
    xs, ys = pts[:, 1], pts[:, 2]
    box = (float(xs.min() - m), float(ys.min() - m), float(xs.max() + m), float(ys.max() + m))
    curve = fit.curve_px(facade, fit.release_t_s, last_t, 32)
    details = ThrowDetails(
        trajectory_px=tuple((round(float(t), 3), round(float(x), 1), round(float(y), 1)) for t, x, y in pts),
        fitted_curve_px=tuple((round(float(x), 1), round(float(y), 1)) for x, y in curve),
        accel_m_s2=round(fit.accel_m_s2, 3),
        accel_px_s2=round(fit.accel_px_s2, 2),
        expected_accel_px_s2=round(fit.expected_accel_px_s2, 2),
        accel_ratio=round(fit.accel_ratio, 3),
        release_pts_s=round(fit.release_t_s, 3),
        release_captured_at=round(fit.release_t_s + offset, 3),
        release_window_pts_s=(round(fit.release_window_s[0], 3), round(fit.release_window_s[1], 3)),
        release_height_m=round(fit.release_height_m, 2),
        release_height_sigma_m=round(fit.release_height_sigma_m, 2),
        release_along_m=round(fit.release_along_m, 2),
        landing_pts_s=round(fit.landing_t_s, 3),
        px_per_m=round(fit.px_per_m, 2),
        drop_m=round(fit.drop_m, 2),
        end_speed_m_s=round(fit.end_speed_m_s, 2),
        object_size_px=round(inc.size_px, 1),
        rejoined_tracks=bool(len(inc.prefix)),
        calibrated=hit is not None,
    )
    picture = draw_evidence(
        snapshot.image, facade=facade, fit=fit, points=pts, hit=hit, clock_offset_s=offset, camera_id=camera_id
    )
    return Event(
        kind=EventKind.THROW,
        source_id=camera_id,
        incident_id=inc.incident_id,
        phase=phase,
        update_seq=seq,
        started_at=inc.first_captured_at,
        last_seen_at=last_t + offset,
        trigger_captured_at=now,
        confidence=round(fit.confidence, 3),
        box_xyxy=box,
        ground=geo,
        facade=hit,
        snapshot=snapshot,
        evidence_window_s=(max(0.0, fit.release_window_s[0] - evidence.pre_roll_s), end_t + evidence.post_roll_s),
        reasons=fit.reasons(),
        details=details,
        evidence_image=picture,
    )
