"""The annotated snapshot an officer gets with a throw alert: where on the building, when, and how it fell.

Drawn by the detector because only it holds the facade calibration. Over the snapshot frame:
- the facade grid: every floor's slab line across the calibrated facade, numbered down the left edge,
  and the column (unit) boundaries, named along the top;
- the release window: the cell of the floors within the estimate's ± and the along-facade spread around
  the release point, shaded, with the release point marked;
- the whole trajectory: every tracked position (earlier broken tracks of the same fall included), and
  the fitted fall curve from the release to the predicted landing (dashed where it was not observed);
- a caption in a band added below the picture (so it hides nothing): floor ± and unit, the release
  time window (UTC), the landing time, the fitted acceleration against g, the drop, and the camera.
Without a calibration, the trajectory and the caption (without a floor) are drawn.
"""

from __future__ import annotations

from datetime import UTC, datetime

import cv2
import numpy as np
from numpy.typing import NDArray

from detectors.event import FacadeHit
from detectors.geometry.facade import FacadeMapper
from detectors.throw.facade_map import FacadeMap
from detectors.throw.trajectory import TrajectoryFit

_GRID = (200, 200, 200)
_GRID_DARK = (40, 40, 40)
_WINDOW = (40, 40, 230)
_TRACK = (255, 0, 255)
_CURVE = (0, 215, 255)
_WHITE = (255, 255, 255)
_RELEASE_WINDOW_MIN_ALONG_M = 1.0
"""Half-width of the shaded release cell when the along-facade estimate is sharper than this."""


def draw_evidence(
    image: NDArray[np.uint8],
    *,
    facade: FacadeMap,
    fit: TrajectoryFit,
    points: NDArray[np.float64],
    hit: FacadeHit | None,
    clock_offset_s: float,
    camera_id: str,
) -> NDArray[np.uint8]:
    """A BGR copy of `image` with the facade grid, the release window and the trajectory, over a caption.

    `points` are (t_s, x_px, y_px) in the frame's pixels; `clock_offset_s` turns stream seconds into
    epoch seconds (captured_at - pts) for the caption.
    """
    out = np.ascontiguousarray(image).copy()
    thick = max(1, round(out.shape[0] / 540))
    if isinstance(facade, FacadeMapper):
        _draw_grid(out, facade, thick)
        if hit is not None:
            _draw_release_window(out, facade, fit, hit, thick)
    _draw_trajectory(out, facade, fit, points, thick)
    return _with_caption(out, fit, hit, clock_offset_s, camera_id, thick)


def _line(
    out: NDArray[np.uint8], p: NDArray[np.float64], q: NDArray[np.float64], colour: tuple[int, int, int], thick: int
) -> None:
    if np.isfinite(p).all() and np.isfinite(q).all():
        cv2.line(out, _pt(p), _pt(q), colour, thick, cv2.LINE_AA)


def _pt(p: NDArray[np.float64]) -> tuple[int, int]:
    return round(float(p[0])), round(float(p[1]))


def _draw_grid(out: NDArray[np.uint8], facade: FacadeMapper, thick: int) -> None:
    """Floor slab lines with floor numbers, and column boundaries with their names."""
    cal = facade.calibration
    along = np.array([p[0] for p in cal.facade_points_m], np.float64)
    height = np.array([p[1] for p in cal.facade_points_m], np.float64)
    a0, a1 = float(along.min()), float(along.max())
    top_m = float(height.max())
    top = cal.top_floor if cal.top_floor is not None else facade.floor_of(top_m)
    scale = 0.38 * thick
    for floor in range(cal.ground_floor_level, top + 1):
        hm = facade.floor_bottom_m(floor)
        ends = facade.to_image(np.array([[a0, hm], [a1, hm]], np.float64))
        _line(out, ends[0], ends[1], _GRID_DARK, thick + 1)
        _line(out, ends[0], ends[1], _GRID, 1)
        mid = facade.to_image(np.array([[a0, hm + 0.5 * cal.floor_height_m]], np.float64))[0]
        if np.isfinite(mid).all():
            _label(out, f"{floor}F", (round(mid[0]) - 40 * thick, round(mid[1]) + 4 * thick), _WHITE, scale, thick)
    bounds = sorted({c.from_m for c in cal.columns} | {c.to_m for c in cal.columns})
    for b in bounds:
        ends = facade.to_image(np.array([[b, 0.0], [b, top_m]], np.float64))
        _line(out, ends[0], ends[1], _GRID_DARK, thick + 1)
        _line(out, ends[0], ends[1], _GRID, 1)
    for col in cal.columns:
        name_at = facade.to_image(np.array([[(col.from_m + col.to_m) / 2, top_m]], np.float64))[0]
        if np.isfinite(name_at).all():
            _label(out, col.name, (round(name_at[0]) - 10 * thick, round(name_at[1]) - 6 * thick), _WHITE, scale, thick)


def _draw_release_window(
    out: NDArray[np.uint8], facade: FacadeMapper, fit: TrajectoryFit, hit: FacadeHit, thick: int
) -> None:
    """Shade the floors within the estimate's ± around the release point, and mark the point."""
    lo_floor = hit.floor - hit.floor_uncertainty
    hi_floor = hit.floor + hit.floor_uncertainty
    h0, h1 = facade.floor_bottom_m(lo_floor), facade.floor_bottom_m(hi_floor + 1)
    half = max(_RELEASE_WINDOW_MIN_ALONG_M, 2 * fit.release_along_sigma_m)
    a = fit.release_along_m
    quad = facade.to_image(np.array([[a - half, h0], [a + half, h0], [a + half, h1], [a - half, h1]], np.float64))
    if not np.isfinite(quad).all():
        return
    poly = np.round(quad).astype(np.int32)
    shade = out.copy()
    cv2.fillPoly(shade, [poly], _WINDOW, cv2.LINE_AA)
    cv2.addWeighted(shade, 0.35, out, 0.65, 0, dst=out)
    cv2.polylines(out, [poly], True, _WINDOW, thick + 1, cv2.LINE_AA)
    rel = facade.to_image(np.array([[fit.release_along_m, fit.release_height_m]], np.float64))[0]
    if np.isfinite(rel).all():
        cv2.drawMarker(out, _pt(rel), _WHITE, cv2.MARKER_CROSS, 14 * thick, thick + 1, cv2.LINE_AA)


def _draw_trajectory(
    out: NDArray[np.uint8], facade: FacadeMap, fit: TrajectoryFit, points: NDArray[np.float64], thick: int
) -> None:
    """Fitted curve release -> landing (dashed outside the observed span) and every tracked position."""
    t_first, t_last = float(points[0, 0]), float(points[-1, 0])
    t_land = max(fit.landing_t_s, t_last)
    spans = [(fit.release_t_s, t_first, True), (t_first, t_last, False), (t_last, t_land, True)]
    for t0, t1, dashed in spans:
        if t1 <= t0:
            continue
        curve = fit.curve_px(facade, t0, t1, max(8, round(40 * (t1 - t0)) + 2))
        if not np.isfinite(curve).all():
            continue
        pts = np.round(curve).astype(np.int32)
        step = 2 if dashed else 1
        for i in range(0, len(pts) - 1, step):
            cv2.line(out, tuple(pts[i]), tuple(pts[i + 1]), _CURVE, thick, cv2.LINE_AA)
    xy = np.round(points[:, 1:3]).astype(np.int32)
    cv2.polylines(out, [xy.reshape(-1, 1, 2)], False, _TRACK, thick, cv2.LINE_AA)
    for x, y in xy:
        cv2.circle(out, (int(x), int(y)), thick + 1, _TRACK, -1, cv2.LINE_AA)


def _clock(epoch_s: float) -> str:
    return datetime.fromtimestamp(epoch_s, tz=UTC).strftime("%H:%M:%S.%f")[:-5]


def _with_caption(
    out: NDArray[np.uint8],
    fit: TrajectoryFit,
    hit: FacadeHit | None,
    offset_s: float,
    camera_id: str,
    thick: int,
) -> NDArray[np.uint8]:
    """The picture over a dark band holding the figures an officer reads first."""
    lo, hi = (t + offset_s for t in fit.release_window_s)
    day = datetime.fromtimestamp(fit.release_t_s + offset_s, tz=UTC).strftime("%Y-%m-%d")
    where = (
        f"floor {hit.floor} +/-{hit.floor_uncertainty}" + (f", unit {hit.column}" if hit.column else "")
        if hit is not None
        else "floor unknown (camera not calibrated)"
    )
    lines = [
        f"THROW  {where}   camera {camera_id}",
        f"released {day} {_clock(lo)}-{_clock(hi)} UTC, "
        f"landed ~{_clock(fit.landing_t_s + offset_s)}",
        f"fall: a = {fit.accel_m_s2:.1f} m/s2 ({fit.accel_ratio:.2f} g), drop {fit.drop_m:.1f} m, "
        f"{fit.n_points} positions",
    ]
    line_h = 22 * thick
    band = np.full((line_h * len(lines) + 10 * thick, out.shape[1], 3), 15, np.uint8)
    for i, text in enumerate(lines):
        _label(band, text, (8 * thick, (i + 1) * line_h), _WHITE if i else (80, 80, 255), 0.5 * thick, thick)
    return np.ascontiguousarray(np.concatenate([out, band], axis=0))


def _label(
    out: NDArray[np.uint8], text: str, org: tuple[int, int], colour: tuple[int, int, int], scale: float, thick: int
) -> None:
    """Text on a dark box, readable on a lit wall and on night sky alike."""
    (tw, th), base = cv2.getTextSize(text, cv2.FONT_HERSHEY_SIMPLEX, scale, thick)
    x, y = org
    cv2.rectangle(out, (x - 3, y - th - 4), (x + tw + 3, y + base + 1), (15, 15, 15), -1)
    cv2.putText(out, text, (x, y), cv2.FONT_HERSHEY_SIMPLEX, scale, colour, thick, cv2.LINE_AA)
