"""The survey generator's ground on a given day: `ground_texture(world, day)` paints it as seen from straight
above at `world.cell_m` metres per pixel (static materials from the world's seed; cars, wet patches,
seasonal colour and shadows from the day). Roofs of raised things are painted here too and re-drawn at
their height by the renderer (`survey.py`), which also draws their walls.
"""

from __future__ import annotations

import math

import cv2
import numpy as np
from numpy.typing import NDArray

from benchmarks.scenarios.survey_materials import material, noise
from benchmarks.scenarios.survey_world import Array, Day, Image, Raised, World, blob, rect

CAR_COLOURS: tuple[tuple[int, int, int], ...] = (
    (235, 235, 235),
    (30, 30, 32),
    (170, 172, 175),
    (40, 40, 170),
    (150, 80, 30),
    (120, 120, 120),
    (210, 215, 220),
)

# -- painting a day --------------------------------------------------------------------------------------


def _fill(canvas: NDArray[np.float32], mask: Image, tex: NDArray[np.float32]) -> None:
    m = mask.astype(bool)
    canvas[m] = tex[m]


def _mark(w: World, mask: Image, ring: Array) -> None:
    """Set a polygon to 1 in a full-size mask, in place."""
    cv2.fillPoly(mask, [np.round(w.to_px(ring) * 16).astype(np.int32)], 1, lineType=cv2.LINE_8, shift=4)


def _scale_inside(w: World, canvas: NDArray[np.float32], ring: Array, gain: float, offset: float) -> None:
    """canvas = canvas * gain + offset inside a small polygon."""
    px = w.to_px(ring)
    x0, y0 = np.maximum(np.floor(px.min(axis=0)).astype(int), 0)
    x1, y1 = np.ceil(px.max(axis=0)).astype(int) + 1
    sub = canvas[y0:y1, x0:x1]
    if sub.size == 0:
        return
    m = np.zeros(sub.shape[:2], np.uint8)
    cv2.fillPoly(m, [np.round((px - (x0, y0)) * 16).astype(np.int32)], 1, lineType=cv2.LINE_8, shift=4)
    sel = m.astype(bool)
    sub[sel] = sub[sel] * gain + offset


def _paint_region(w: World, canvas: NDArray[np.float32], ring: Array, name: str, rng: np.random.Generator) -> None:
    """Paint a material inside a polygon (texture generated for the polygon's bounding box only)."""
    px = w.to_px(ring)
    hgt, wid = canvas.shape[:2]
    x0, y0 = np.floor(px.min(axis=0)).astype(int)
    x1, y1 = np.ceil(px.max(axis=0)).astype(int) + 1
    x0, y0, x1, y1 = max(x0, 0), max(y0, 0), min(x1, wid), min(y1, hgt)
    if x1 <= x0 or y1 <= y0:
        return
    mask = np.zeros((y1 - y0, x1 - x0), np.uint8)
    cv2.fillPoly(mask, [np.round((px - (x0, y0)) * 16).astype(np.int32)], 1, lineType=cv2.LINE_8, shift=4)
    tex = material(name, y1 - y0, x1 - x0, rng, w.cell_m)
    _fill(canvas[y0:y1, x0:x1], mask, tex)


def _markings(w: World, canvas: NDArray[np.float32]) -> None:
    """Dashed lane lines along the roads (white paint)."""
    for area in w.areas:
        if area.material != "asphalt":
            continue
        r = area.ring
        length = np.linalg.norm(r[1] - r[0])
        width = np.linalg.norm(r[3] - r[0])
        if length < 200 or width > 30:
            continue
        a, b = (r[0] + r[3]) / 2, (r[1] + r[2]) / 2
        d = (b - a) / length
        for s in np.arange(0, length, 9.0):
            p, q = w.to_px(np.array([a + d * s, a + d * (s + 4.5)]))
            cv2.line(
                canvas,
                tuple(np.round(p).astype(int)),
                tuple(np.round(q).astype(int)),
                (225, 228, 230),
                max(1, round(0.15 / w.cell_m)),
            )


def ground_texture(w: World, day: Day) -> tuple[Image, NDArray[np.bool_]]:
    """The ground of `day` from straight above (BGR, `w.cell_m` m/px), and the mask of raised roofs.

    Static materials come from the world's seed, so both days share them exactly; cars, wet patches,
    seasonal colour and shadows come from the day.
    """
    canvas, veg = _static_ground(w)
    raised = [*w.buildings]
    if day.with_new:
        raised += _paint_new_structures(w, canvas)
    for b in w.buildings:
        cv2.fillPoly(veg, [np.round(w.to_px(b.ring) * 16).astype(np.int32)], 0, lineType=cv2.LINE_8, shift=4)
    if day.with_new:
        for s in w.new:
            cv2.fillPoly(veg, [np.round(w.to_px(s.ring) * 16).astype(np.int32)], 0, lineType=cv2.LINE_8, shift=4)
    veg_f = veg.astype(np.float32)
    day_rng = np.random.default_rng(day.seed)
    cars = _cars(w, day, day_rng)
    for ring, colour in cars:
        cv2.fillPoly(canvas, [np.round(w.to_px(ring) * 16).astype(np.int32)], colour, lineType=cv2.LINE_8, shift=4)
        _scale_inside(w, canvas, _shrink(ring, 0.35, 0.3), 0.35, 15.0)
    if day.autumn > 0:
        canvas = _autumn_colour(w, day, canvas, veg_f, day_rng)
    if day.wet_patches:
        canvas = _wet_patches(w, day, canvas, veg_f, day_rng)
    roofs = np.zeros(veg.shape, np.uint8)
    for thing in raised:
        _mark(w, roofs, thing.ring)
    lit = roofs.copy()
    for ring, _ in cars:
        _mark(w, lit, ring)
    shadow = _shadow_mask(w, day, raised, cars) * (1 - lit.astype(np.float32))
    tint = np.array([0.55, 0.47, 0.42], np.float32)
    canvas = canvas * (1 - shadow[..., None] * (1 - tint))
    return np.clip(canvas, 0, 255).astype(np.uint8), roofs.astype(bool)


def _static_ground(w: World) -> tuple[NDArray[np.float32], Image]:
    """Areas, road markings, trees and building roofs (float BGR canvas), and the vegetation mask.

    Everything here draws from one generator seeded by the world alone, in a fixed order, so the before
    and after days get the very same pixels where nothing changed."""
    wid, hgt = w.size_px
    canvas = np.zeros((hgt, wid, 3), np.float32)
    rng = np.random.default_rng(w.seed * 7919 + 1)
    for area in w.areas:
        _paint_region(w, canvas, area.ring, area.material, rng)
    _markings(w, canvas)
    veg = np.zeros((hgt, wid), np.uint8)
    for area in w.areas:
        if area.material == "grass":
            _mark(w, veg, area.ring)
    for t in w.trees:
        c = w.to_px(np.array([[t.x, t.y]]))[0]
        r = t.radius_m / w.cell_m
        tex = material("tree", int(2 * r) + 3, int(2 * r) + 3, rng, w.cell_m)
        m = np.zeros(tex.shape[:2], np.uint8)
        cv2.circle(m, (int(r) + 1, int(r) + 1), int(r), 1, -1)
        _paste(canvas, veg, tex, m, int(c[0] - r - 1), int(c[1] - r - 1))
    for b in w.buildings:
        _paint_region(w, canvas, b.ring, b.roof, rng)
    return canvas, veg


def _paint_new_structures(w: World, canvas: NDArray[np.float32]) -> list[Raised]:
    """Paint the new structures (from their own generator, so adding them leaves the static ground as it
    was); returns those with height (roofs, scaffolds) as raised things for walls and shadows."""
    rng_new = np.random.default_rng(w.seed * 7919 + 2)
    raised: list[Raised] = []
    for s in w.new:
        if s.kind == "bare_soil":
            _paint_region(w, canvas, s.ring, "excavated_soil", rng_new)
        elif s.kind == "dust_net":
            _paint_region(w, canvas, s.ring, "dust_net", rng_new)
        else:
            raised.append(
                Raised(
                    s.id,
                    s.ring,
                    s.height_m,
                    s.colour,
                    base_m=s.base_m,
                    wall="safety_net" if s.kind == "scaffold" else "wall",
                )
            )
            _paint_region(w, canvas, s.ring, s.colour, rng_new)
    return raised


def _autumn_colour(
    w: World, day: Day, canvas: NDArray[np.float32], veg_f: NDArray[np.float32], day_rng: np.random.Generator
) -> NDArray[np.float32]:
    """Vegetation yellowed by `day.autumn`, unevenly (40 m noise): change a detector must not call construction."""
    hgt, wid = veg_f.shape
    strength = np.clip(day.autumn * (0.75 + 0.35 * noise(day_rng, hgt // 8, wid // 8, 40 / w.cell_m / 8, 2)), 0, 1)
    strength = cv2.resize(strength, (wid, hgt)) * veg_f
    autumn_colour = np.array([60, 140, 150], np.float32)
    luminance = canvas.mean(axis=2, keepdims=True) / 95.0
    out: NDArray[np.float32] = canvas * (1 - strength[..., None]) + autumn_colour * luminance * strength[..., None]
    return out


def _wet_patches(
    w: World, day: Day, canvas: NDArray[np.float32], veg_f: NDArray[np.float32], day_rng: np.random.Generator
) -> NDArray[np.float32]:
    """Darker, more saturated blobs on paving and soil after rain: another change that is not construction."""
    hgt, wid = veg_f.shape
    wet = np.zeros((hgt, wid), np.float32)
    for _ in range(day.wet_patches):
        cx, cy = day_rng.uniform(w.x0 + 40, w.x1 - 40), day_rng.uniform(w.y0 + 40, w.y1 - 40)
        rx, ry = (float(v) for v in day_rng.uniform(3, 12, 2))
        patch = blob(float(cx), float(cy), rx, ry, day_rng)
        cv2.fillPoly(wet, [np.round(w.to_px(patch)).astype(np.int32)], 1.0)
    wet = cv2.GaussianBlur(wet, (0, 0), 0.6 / w.cell_m) * (1 - veg_f)
    grey = canvas.mean(axis=2, keepdims=True)
    wetted = (grey + (canvas - grey) * 1.3) * 0.62
    out: NDArray[np.float32] = canvas * (1 - wet[..., None]) + wetted * wet[..., None]
    return out


def _paste(canvas: NDArray[np.float32], veg: Image, tex: NDArray[np.float32], mask: Image, x: int, y: int) -> None:
    h, w = mask.shape
    hh, ww = canvas.shape[:2]
    if x < 0 or y < 0 or x + w > ww or y + h > hh:
        return
    m = mask.astype(bool)
    canvas[y : y + h, x : x + w][m] = tex[m]
    veg[y : y + h, x : x + w][m] = 1


def _shrink(ring: Array, along: float, across: float) -> Array:
    c = ring.mean(axis=0)
    u = (ring[1] - ring[0]) / 2
    v = (ring[3] - ring[0]) / 2
    return np.array(
        [
            c - u * along - v * (1 - across),
            c + u * along - v * (1 - across),
            c + u * along + v * (1 - across),
            c - u * along + v * (1 - across),
        ]
    )


def _cars(w: World, day: Day, rng: np.random.Generator) -> list[tuple[Array, tuple[int, int, int]]]:
    """Cars parked in a share of the stalls and along the kerbs of the roads, different each day."""
    out = []
    for s in w.stalls:
        if rng.random() < day.car_occupancy:
            jitter = rng.normal(0, 0.15, 2)
            out.append(
                (
                    rect(s[0] + jitter[0], s[1] + jitter[1], 4.6, 1.85, s[2] + rng.normal(0, 2)),
                    CAR_COLOURS[int(rng.integers(len(CAR_COLOURS)))],
                )
            )
    for area in w.areas:
        if area.material != "asphalt":
            continue
        r = area.ring
        length = float(np.linalg.norm(r[1] - r[0]))
        width = float(np.linalg.norm(r[3] - r[0]))
        if length < 200 or width > 30:
            continue
        d = (r[1] - r[0]) / length
        n = (r[3] - r[0]) / width
        angle = math.degrees(math.atan2(d[1], d[0]))
        for side in (0.12, 0.88):
            for along in np.arange(5, length - 5, 6.0):
                if rng.random() < day.car_occupancy * 0.5:
                    p = r[0] + d * float(along) + n * width * side
                    out.append((rect(p[0], p[1], 4.6, 1.85, angle), CAR_COLOURS[int(rng.integers(len(CAR_COLOURS)))]))
    return out


def _shadow_mask(
    w: World, day: Day, raised: list[Raised], cars: list[tuple[Array, tuple[int, int, int]]]
) -> NDArray[np.float32]:
    """Where the ground is in shadow (0..1, soft edge): raised things, trees and cars cast it away from the sun."""
    wid, hgt = w.size_px
    mask = np.zeros((hgt, wid), np.uint8)
    az = math.radians(day.sun_azimuth_deg)
    away = -np.array([math.sin(az), math.cos(az)]) / math.tan(math.radians(day.sun_elevation_deg))

    def cast(ring: Array, height: float) -> None:
        pts = np.vstack([ring, ring + away * height])
        hull = cv2.convexHull(np.round(w.to_px(pts) * 16).astype(np.int32))
        cv2.fillConvexPoly(mask, hull, 1, lineType=cv2.LINE_8, shift=4)

    for r in raised:
        if r.base_m == 0:
            cast(r.ring, r.height_m)
    for t in w.trees:
        ang = np.linspace(0, 2 * math.pi, 16, endpoint=False)
        crown = np.column_stack([t.x + t.radius_m * np.cos(ang), t.y + t.radius_m * np.sin(ang)])
        pts = np.vstack([crown + away * t.height_m * 0.6, crown + away * t.height_m])
        cv2.fillConvexPoly(
            mask, cv2.convexHull(np.round(w.to_px(pts) * 16).astype(np.int32)), 1, lineType=cv2.LINE_8, shift=4
        )
    for ring, _ in cars:
        cast(ring, 1.5)
    soft = np.asarray(cv2.GaussianBlur(mask.astype(np.float32), (0, 0), 0.25 / w.cell_m), np.float32)
    # The cast shadow of a raised thing falls beside it; under its own roof the roof is drawn later.
    return soft
