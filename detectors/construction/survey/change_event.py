"""The alert of a new change between two surveys: an `Event` whose snapshot is the before and after crops
side by side, with the change's ground position, footprint, scores and registry relation.
"""

from __future__ import annotations

import math
import time

import cv2
import numpy as np

from detectors.construction.events import ConstructionDetails, SurveyChangeDetails
from detectors.construction.survey.changes import Change, crop
from detectors.construction.survey.config import SurveyConfig
from detectors.construction.survey.mosaic import Canvas
from detectors.event import Event, EventKind, GeoMethod, GeoPoint, Phase
from ingest.frame import Frame


def change_event(
    flight_id: str,
    survey_id: str,
    used: list[str],
    previous_at: float | None,
    change: Change,
    previous: Canvas,
    after: Canvas,
    at: float,
    config: SurveyConfig,
) -> Event:
    """The `start` event of a new change between two surveys: the before and after crops side by side as
    its snapshot (the change boxed in the after half), where it is, and why it counts as change."""
    region = change.region
    margin = max(4, round(config.crop_margin_m / after.lattice.resolution_m))
    before_img = crop(previous.image, previous.valid, change.box_px, margin)
    after_img = crop(after.image, after.valid, change.box_px, margin, change.outline_px)
    gap = np.full((before_img.shape[0], 6, 3), 255, np.uint8)
    pair = np.ascontiguousarray(np.hstack([before_img, gap, after_img]))
    _caption(pair, f"before {_day(previous_at)}", 0)
    _caption(pair, f"after {_day(change.seen_at)}", before_img.shape[1] + 6)
    x0 = before_img.shape[1] + 6 + margin
    y0 = margin
    box = (
        float(x0),
        float(y0),
        float(x0 + change.box_px[2] - change.box_px[0]),
        float(y0 + change.box_px[3] - change.box_px[1]),
    )
    snapshot = Frame(camera_id=flight_id, seq=0, captured_at=change.seen_at, pts_s=0.0, image=pair)
    m = change.registry
    ev = change.evidence
    return Event(
        kind=EventKind.CONSTRUCTION,
        source_id=flight_id,
        incident_id=f"construction-change-{survey_id}-{change.change_id}",
        phase=Phase.START,
        update_seq=0,
        started_at=change.seen_at,
        last_seen_at=change.seen_at,
        trigger_captured_at=at,
        confidence=round(1.0 - math.exp(-region.mean_score / config.change.threshold), 3),
        box_xyxy=box,
        ground=GeoPoint(change.lat_deg, change.lon_deg, round(change.accuracy_m, 2), GeoMethod.DRONE_RAY),
        footprint_lonlat=tuple((float(a), float(b)) for a, b in change.ring_lonlat),
        area_m2=round(change.area_m2, 1),
        snapshot=snapshot,
        reasons={
            "area_m2": round(change.area_m2, 1),
            "solid_area_m2": round(region.solid_m2, 1),
            "width_m": round(region.width_m, 1),
            "change_score": round(region.mean_score, 2),
            "threshold": config.change.threshold,
            "after_contrast": round(region.after_contrast, 1),
            "colour_spread": round(ev.colour_spread, 1),
            "edge_density": round(ev.edge_density, 3),
            "grid_balance": round(ev.grid_balance, 3),
            "relief_corrected_m": round(change.relief_corrected_m, 2),
            "registry_same_kind_overlap": round(m.same_kind_overlap, 3) if m else 0.0,
        },
        details=ConstructionDetails(
            flight_id=flight_id,
            site_id=change.change_id,
            structure_kind=change.structure_kind.value,
            on_registered_id=m.on_id if m else None,
            on_registered_kind=m.on_kind.value if m and m.on_kind else None,
            change=SurveyChangeDetails(
                change_kind=change.kind.value,
                survey_id=survey_id,
                previous_survey_ids=tuple(used),
                previous_captured_at=previous_at,
                before_crop_uri=change.crops.get("before"),
                after_crop_uri=change.crops.get("after"),
            ),
        ),
    )


def _caption(img: np.ndarray, text: str, x: int) -> None:
    cv2.rectangle(img, (x, 0), (x + 8 + 8 * len(text), 16), (0, 0, 0), -1)
    cv2.putText(img, text, (x + 4, 12), cv2.FONT_HERSHEY_SIMPLEX, 0.4, (255, 255, 255), 1, cv2.LINE_AA)


def _day(t: float | None) -> str:
    return time.strftime("%Y-%m-%d", time.gmtime(t)) if t is not None else "?"
