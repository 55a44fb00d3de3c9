"""Drawing for `gridwatch replay --annotate`: what the throw detector sees and why it decided.

Masks are outlined, floors drawn as faint lines, live tracks as polylines (red once they are an
incident), and each recently judged track with its fitted curve, its acceleration against g and its
verdict; counters sit in the top-left corner. Everything is drawn on a copy.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import cv2
import numpy as np
from numpy.typing import NDArray

from detectors.geometry.facade import FacadeMapper
from detectors.throw.config import ThrowConfig
from detectors.throw.facade_map import FacadeMap
from detectors.throw.trajectory import TrajectoryFit
from detectors.zones import polygon_px

if TYPE_CHECKING:
    from detectors.base import DetectorStats


@dataclass(frozen=True, slots=True)
class JudgedTrack:
    """A recent decision kept for drawing: the positions, the fit, and when it was made (stream s)."""

    points: NDArray[np.float64]
    fit: TrajectoryFit
    at_s: float


_GREEN = (60, 200, 60)
_RED = (40, 40, 230)
_YELLOW = (0, 210, 255)
_GREY = (150, 150, 150)
_SKY = (230, 160, 60)
_WHITE = (255, 255, 255)


def draw_state(
    image: NDArray[np.uint8],
    *,
    config: ThrowConfig,
    facade: FacadeMap | None,
    live_tracks: Sequence[tuple[NDArray[np.float64], bool]],
    recent: Sequence[tuple[NDArray[np.float64], TrajectoryFit]],
    shift_px: tuple[float, float],
    stats: DetectorStats,
    frame_rejected: str | None,
) -> NDArray[np.uint8]:
    """A BGR copy of `image` with the detector's state drawn on it."""
    out = np.ascontiguousarray(image).copy()
    thick = max(1, round(out.shape[0] / 540))
    off = np.array(shift_px, np.float64)
    _draw_masks(out, config, thick)
    if isinstance(facade, FacadeMapper):
        _draw_floors(out, facade, off, thick)
    for pts, incident in live_tracks:
        xy = np.round(pts[:, 1:3] + off).astype(np.int32)
        cv2.polylines(out, [xy], False, _RED if incident else _YELLOW, thick, cv2.LINE_AA)
    for pts, fit in recent:
        _draw_fit(out, facade, pts, fit, off, thick)
    _draw_counters(out, stats, frame_rejected, thick)
    return out


def _draw_masks(out: NDArray[np.uint8], config: ThrowConfig, thick: int) -> None:
    """Outline the sky, shield and on-screen-display masks, so operators see where nothing is looked for."""
    h, w = out.shape[:2]
    fg = config.foreground
    for polys, colour in ((fg.sky_masks, _SKY), (fg.shield_masks, _GREY), (fg.osd_masks, _GREY)):
        for p in polys:
            poly = np.round(polygon_px(p, w, h)).astype(np.int32)
            cv2.polylines(out, [poly], True, colour, thick, cv2.LINE_AA)


def _draw_fit(
    out: NDArray[np.uint8],
    facade: FacadeMap | None,
    pts: NDArray[np.float64],
    fit: TrajectoryFit,
    off: NDArray[np.float64],
    thick: int,
) -> None:
    """A judged track: its points, the fitted curve back to the release, and the verdict with its numbers."""
    colour = _GREEN if fit.accepted else _GREY
    if facade is not None and np.isfinite(fit.height_coef).all():
        curve = fit.curve_px(facade, min(fit.release_t_s, float(pts[0, 0])), float(pts[-1, 0]), 40) + off
        if np.isfinite(curve).all():
            cv2.polylines(out, [np.round(curve).astype(np.int32)], False, colour, thick, cv2.LINE_AA)
    for x, y in np.round(pts[:, 1:3] + off).astype(np.int32):
        cv2.circle(out, (int(x), int(y)), thick + 1, colour, -1, cv2.LINE_AA)
    verdict = "THROW" if fit.accepted else f"reject: {fit.reason}"
    label = f"{verdict} a={fit.accel_m_s2:.1f} m/s2 ({fit.accel_ratio:.2f} g) drop {fit.drop_m:.1f} m"
    if fit.accepted and isinstance(facade, FacadeMapper):
        hit = facade.hit_at(fit.release_along_m, fit.release_height_m, fit.release_height_sigma_m)
        label += f" floor {hit.floor}+/-{hit.floor_uncertainty}" + (f" col {hit.column}" if hit.column else "")
    x0, y0 = (np.round(pts[0, 1:3] + off)).astype(int)
    _text(out, label, (int(x0) + 8, max(14, int(y0) - 8)), colour, thick)


def _draw_counters(out: NDArray[np.uint8], stats: DetectorStats, frame_rejected: str | None, thick: int) -> None:
    """The running counts and rejection reasons in the corner: why nothing fired is as useful as an alert."""
    lines = [
        f"throw  frames {stats.frames}  candidates {stats.candidates}  alerts {stats.confirmations}",
        "rejected: " + (", ".join(f"{k} {v}" for k, v in sorted(stats.rejected.items())) or "none"),
    ]
    if frame_rejected:
        lines.append(f"this frame rejected: {frame_rejected}")
    for i, line in enumerate(lines):
        _text(out, line, (8, 18 * thick * (i + 1)), _WHITE if i < 2 else _RED, thick)


def _draw_floors(out: NDArray[np.uint8], facade: FacadeMapper, off: NDArray[np.float64], thick: int) -> None:
    """Faint floor lines across the calibrated part of the facade, labelled every few floors."""
    cal = facade.calibration
    along = np.array([p[0] for p in cal.facade_points_m], np.float64)
    height = np.array([p[1] for p in cal.facade_points_m], np.float64)
    a0, a1 = float(along.min()), float(along.max())
    top = cal.top_floor if cal.top_floor is not None else facade.floor_of(float(height.max()))
    for floor in range(cal.ground_floor_level, top + 1):
        hm = facade.floor_bottom_m(floor)
        ends = facade.to_image(np.array([[a0, hm], [a1, hm]], np.float64)) + off
        if not np.isfinite(ends).all():
            continue
        p, q = np.round(ends).astype(np.int32)
        cv2.line(out, (int(p[0]), int(p[1])), (int(q[0]), int(q[1])), _GREY, 1, cv2.LINE_AA)
        if (floor - cal.ground_floor_level) % 5 == 0:
            _text(out, f"{floor}F", (int(p[0]) - 36 * thick, int(p[1])), _GREY, thick)


def _text(out: NDArray[np.uint8], text: str, org: tuple[int, int], colour: tuple[int, int, int], thick: int) -> None:
    """Text on a dark box, readable on sky and on walls alike."""
    scale = 0.42 * thick
    (tw, th), base = cv2.getTextSize(text, cv2.FONT_HERSHEY_SIMPLEX, scale, thick)
    x, y = org
    cv2.rectangle(out, (x - 2, y - th - 3), (x + tw + 2, y + base), (20, 20, 20), -1)
    cv2.putText(out, text, (x, y), cv2.FONT_HERSHEY_SIMPLEX, scale, colour, thick, cv2.LINE_AA)
