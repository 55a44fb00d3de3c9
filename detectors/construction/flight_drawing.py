"""Drawing a construction flight on a frame for operators: candidate boxes, site footprints re-projected
through the frame's view with id, status, kind and area, and a status line.
"""

from __future__ import annotations

import cv2
import numpy as np
from numpy.typing import NDArray

from detectors.construction.candidates import GroundCandidates
from detectors.construction.flight_state import FlightState
from detectors.construction.sites import SiteStatus
from detectors.geometry.drone import DroneView


def draw_flight(
    image: NDArray[np.uint8],
    flight: FlightState,
    view: DroneView | None,
    candidates: GroundCandidates | None = None,
) -> NDArray[np.uint8]:
    """Draw a flight's sites as seen from `view` (footprints re-projected, ids, status) on a copy."""
    out = image.copy()
    colours = {
        SiteStatus.NEW: (40, 40, 230),
        SiteStatus.KNOWN: (60, 180, 60),
        SiteStatus.PENDING: (0, 170, 255),
    }
    if view is not None:
        if candidates is not None:
            for quad in candidates.pixel.quads_px:
                cv2.polylines(out, [np.round(quad).astype(np.int32)], True, (0, 255, 255), 1, cv2.LINE_AA)
        h, w = out.shape[:2]
        sx, sy = w / view.intrinsics.width_px, h / view.intrinsics.height_px
        for site in flight.book.live:
            px = view.ground_to_pixel(site.best.ring_m, site.best.plane_up_m) * (sx, sy)
            if not np.isfinite(px).all() or not _on_screen(px, w, h):
                continue
            colour = colours[site.status]
            cv2.polylines(out, [np.round(px).astype(np.int32)], True, colour, 2, cv2.LINE_AA)
            label = f"{site.site_id} {site.status.value} {site.kind.value} {site.best.area_m2:.0f}m2 x{site.frames}"
            x, y = np.round(px.min(axis=0)).astype(int)
            _text(out, label, (max(0, int(x)), max(12, int(y) - 4)), colour)
        status = (
            f"{flight.flight_id} #{flight.last_seq} h={view.height_m:.0f}m "
            f"off-nadir {view.off_nadir_deg:.0f}deg yaw:{view.yaw_source}"
        )
    else:
        status = f"{flight.flight_id} #{flight.last_seq} skipped: {flight.last_skip or 'not analysed'}"
    new = sum(s.status == SiteStatus.NEW for s in flight.book.live)
    known = sum(s.status == SiteStatus.KNOWN for s in flight.book.live)
    _text(out, f"{status} | sites new {new} known {known}", (8, 20), (255, 255, 255))
    return out


def _on_screen(px: NDArray[np.float64], w: int, h: int) -> bool:
    return bool(px[:, 0].max() >= 0 and px[:, 1].max() >= 0 and px[:, 0].min() < w and px[:, 1].min() < h)


def _text(img: NDArray[np.uint8], text: str, org: tuple[int, int], colour: tuple[int, int, int]) -> None:
    """Label on a dark box, readable on any background."""
    (w, h), base = cv2.getTextSize(text, cv2.FONT_HERSHEY_SIMPLEX, 0.5, 1)
    x, y = org
    cv2.rectangle(img, (x - 2, y - h - 3), (x + w + 2, y + base), (0, 0, 0), -1)
    cv2.putText(img, text, org, cv2.FONT_HERSHEY_SIMPLEX, 0.5, colour, 1, cv2.LINE_AA)
