"""A peri-urban district for drone scenarios: orthophoto ground, raised textured planes, and the truth.

The scene is built in east/north/up metres around a WGS-84 origin in Shangjie District, Zhengzhou, from a
seed. What it holds, and what a survey must make of it:

- registered buildings (with heights) and registered or permitted blue colour-steel roofs: known;
- new blue colour-steel roofs on the ground (from ~30 m² up) and on registered buildings (rooftop
  additions): to be found;
- a construction site (bare soil, a scaffold under green dust net): new, but only a trained model or a
  change between surveys finds it, so scorers list it apart;
- distractors that must not be alerted: corrugated roofs of other colours (red, grey, white, green),
  blue tarps, blue cars, swimming pools, solar panels, a blue painted court.

Corrugated sheet has ribs every 0.2-0.3 m (trapezoidal profile lit from one side), drawn at 2.5 cm per
texel so the renderer can band-limit it like a camera's pixels do. Colours, textures and sizes are this
module's own, chosen from photos of such roofs, not from any detector's thresholds.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Any

import cv2
import numpy as np
from numpy.typing import NDArray

BGR = tuple[int, int, int]
Array = NDArray[np.float64]

SHANGJIE_LAT_DEG, SHANGJIE_LON_DEG = 34.8000, 113.2900
"""Shangjie District, Zhengzhou (Henan): the district the scenario flights are placed in."""
TEXEL_M = 0.025
"""Texture resolution of raised planes (roofs, panels): fine enough for 0.2 m ribs."""

# Blue colour-steel sheet as photographed from above in daylight: sea blue, deep blue, sky blue, faded.
BLUE_SHEET_BGR: tuple[BGR, ...] = ((178, 112, 38), (160, 88, 28), (196, 140, 70), (170, 128, 92), (186, 104, 52))
POOL_WATER_BGR: tuple[BGR, ...] = ((200, 180, 70), (215, 185, 95), (205, 196, 75), (212, 176, 86))
"""Turquoise to light blue pool water (hue 184-197 degrees), as photographed from above."""
OTHER_SHEET_BGR: dict[str, BGR] = {
    "red": (48, 52, 168),
    "grey": (150, 150, 146),
    "white": (214, 216, 214),
    "green": (78, 128, 62),
}


@dataclass(frozen=True)
class Structure:
    """Something with an outline on the map: what it is and whether it is registered, new or a distractor."""

    id: str
    kind: str
    """building, steel_roof, scaffold, excavation; distractors: car, pool, court, tarp, solar, roof_<colour>."""
    status: str
    """registered (known or permitted), new, or distractor."""
    ring_m: tuple[tuple[float, float], ...]
    top_m: float
    """Height of its visible top above the ground."""
    base_m: float = 0.0
    """Height of what it stands on (0, or the roof it was built on)."""
    on: str | None = None
    """Id of the building it stands on."""
    needs_model: bool = False
    """Only a trained model (or a change between surveys) can find it: scored apart."""

    @property
    def centre_m(self) -> tuple[float, float]:
        a = np.asarray(self.ring_m)
        return float(a[:, 0].mean()), float(a[:, 1].mean())

    @property
    def area_m2(self) -> float:
        a = np.asarray(self.ring_m)
        x, y = a[:, 0], a[:, 1]
        return float(0.5 * abs(np.sum(x * np.roll(y, -1) - np.roll(x, -1) * y)))


@dataclass
class Layer:
    """A textured plane at a height (a roof, a deck of panels) with walls down to its base."""

    texture: NDArray[np.uint8]
    patch_to_enu: Array
    """3x3: texture pixel (x, y, 1) -> (east, north, 1)."""
    ring_m: Array
    top_m: float
    base_m: float
    wall_bgr: BGR
    texel_m: float


@dataclass
class Scene:
    """The district: ground orthophoto (north up), raised layers, and every structure's truth."""

    seed: int
    origin_lat_deg: float
    origin_lon_deg: float
    size_m: float
    cell_m: float
    ground: NDArray[np.uint8]
    layers: list[Layer]
    structures: list[Structure]
    surround: NDArray[np.uint8]
    """Plain fields around the district (coarser cells, no structures) seen beyond its edge."""
    surround_size_m: float
    surround_cell_m: float

    def ortho_px_to_enu(self) -> Array:
        """3x3: orthophoto pixel (col, row, 1) -> (east, north, 1)."""
        return _px_to_enu(self.size_m, self.cell_m)

    def surround_px_to_enu(self) -> Array:
        return _px_to_enu(self.surround_size_m, self.surround_cell_m)


    def truth(self) -> dict[str, Any]:
        return {
            "seed": self.seed,
            "origin_lat_deg": self.origin_lat_deg,
            "origin_lon_deg": self.origin_lon_deg,
            "size_m": self.size_m,
            "structures": [
                {**asdict(s), "centre_m": s.centre_m, "area_m2": round(s.area_m2, 2)} for s in self.structures
            ],
        }


def _px_to_enu(size_m: float, cell_m: float) -> Array:
    h, c = size_m / 2, cell_m
    return np.array([[c, 0, -h + c / 2], [0, -c, h - c / 2], [0, 0, 1]], np.float64)


def rect_ring(cx: float, cy: float, length: float, width: float, angle_deg: float) -> Array:
    """Corners of a rectangle centred at (cx, cy), `length` along `angle_deg` (anticlockwise from east)."""
    a = math.radians(angle_deg)
    u = np.array([math.cos(a), math.sin(a)])
    v = np.array([-math.sin(a), math.cos(a)])
    c = np.array([cx, cy])
    return np.array(
        [c - u * length / 2 - v * width / 2, c + u * length / 2 - v * width / 2,
         c + u * length / 2 + v * width / 2, c - u * length / 2 + v * width / 2]
    )


def _smooth_noise(rng: np.random.Generator, h: int, w: int, scale_px: float) -> NDArray[np.float32]:
    """Smooth random field of about unit spread with features about `scale_px` wide."""
    sh, sw = max(2, int(h / scale_px) + 2), max(2, int(w / scale_px) + 2)
    small = rng.standard_normal((sh, sw)).astype(np.float32)
    out = np.asarray(cv2.resize(small, (w, h), interpolation=cv2.INTER_CUBIC), np.float32)
    return out


def _tint(base: BGR, h: int, w: int, rng: np.random.Generator, *, vary: float, grain: float) -> NDArray[np.uint8]:
    """A colour with slow brightness variation (`vary`, relative) and grain (grey levels)."""
    img = np.empty((h, w, 3), np.float32)
    img[:] = base
    img *= (1 + vary * np.clip(_smooth_noise(rng, h, w, max(8.0, min(h, w) / 3)) / 2, -1, 1))[..., None]
    img += rng.standard_normal((h, w, 1), dtype=np.float32) * np.float32(grain)
    return np.clip(img, 0, 255).astype(np.uint8)


def corrugated_texture(
    rng: np.random.Generator, length_m: float, width_m: float, colour: BGR, *, sun_side: float = 1.0
) -> NDArray[np.uint8]:
    """Trapezoidal corrugated sheet, ribs across the length every 0.2-0.3 m, lit from one side.

    Crest ~25 %, webs ~15 % each, valley ~45 % of the pitch; the web facing the sun is brighter, the
    other darker. A gable ridge, sheet laps and weathering streaks as on real roofs.
    """
    w, h = max(8, round(length_m / TEXEL_M)), max(8, round(width_m / TEXEL_M))
    img = _tint(colour, h, w, rng, vary=0.05, grain=2.0).astype(np.float32)
    pitch_m = float(rng.uniform(0.2, 0.3))
    phase = ((np.arange(w) + 0.5) * TEXEL_M / pitch_m) % 1.0
    shade = np.ones(w, np.float32)
    lit = float(rng.uniform(0.16, 0.26)) * sun_side
    shade[(phase >= 0.25) & (phase < 0.40)] = 1 + lit  # web rising to the crest
    shade[(phase >= 0.85)] = 1 - lit  # web falling to the valley
    shade[(phase < 0.25)] = 1.04  # crest
    img *= shade[None, :, None]
    if rng.random() < 0.8:  # ridge along the length: the halves catch the sun differently
        img[: h // 2] *= 1.06
        img[h // 2 - 2 : h // 2 + 2] *= 0.8
    sheet = max(4, round(0.9 / TEXEL_M))  # sheet laps every ~0.9 m: a slightly darker line
    img[:, ::sheet] *= 0.93
    streaks = 1 + 0.05 * np.clip(_smooth_noise(rng, 4, w, 6.0)[0], -2, 2)
    img *= streaks[None, :, None]
    return np.clip(img, 0, 255).astype(np.uint8)


def building_roof_texture(rng: np.random.Generator, length_m: float, width_m: float) -> NDArray[np.uint8]:
    w, h = max(8, round(length_m / TEXEL_M)), max(8, round(width_m / TEXEL_M))
    style = int(rng.integers(3))
    if style == 0:  # concrete flat roof with parapet and rooftop units
        img = _tint((150, 152, 155), h, w, rng, vary=0.12, grain=5.0)
        p = max(1, round(0.4 / TEXEL_M))
        cv2.rectangle(img, (0, 0), (w - 1, h - 1), (112, 116, 118), p)
        for _ in range(int(rng.integers(2, 6))):
            uw, uh = round(rng.uniform(1.0, 2.5) / TEXEL_M), round(rng.uniform(1.0, 2.0) / TEXEL_M)
            x0 = int(rng.integers(p, max(p + 1, w - uw - p)))
            y0 = int(rng.integers(p, max(p + 1, h - uh - p)))
            cv2.rectangle(img, (x0, y0), (x0 + uw, y0 + uh), (200, 200, 198), -1)
            cv2.rectangle(img, (x0, y0), (x0 + uw, y0 + uh), (90, 90, 92), 3)
    elif style == 1:  # terracotta tiles, gable, tile rows
        img = _tint((62, 86, 160), h, w, rng, vary=0.08, grain=6.0)
        img[: h // 2] = np.clip(img[: h // 2].astype(np.int16) + 18, 0, 255).astype(np.uint8)
        rows = max(2, round(0.35 / TEXEL_M))
        img[::rows] = (img[::rows] * 0.8).astype(np.uint8)
    else:  # dark bitumen with patches
        img = _tint((78, 80, 84), h, w, rng, vary=0.15, grain=6.0)
        for _ in range(4):
            c = (int(rng.integers(0, w)), int(rng.integers(0, h)))
            cv2.circle(img, c, int(rng.integers(10, 60)), (95, 97, 100), -1)
    return img


def solar_texture(rng: np.random.Generator, length_m: float, width_m: float) -> NDArray[np.uint8]:
    """Rows of dark blue panels (1.0 x 1.7 m, silver frames) with gaps between rows."""
    w, h = max(8, round(length_m / TEXEL_M)), max(8, round(width_m / TEXEL_M))
    img = _tint((118, 62, 38), h, w, rng, vary=0.06, grain=4.0)
    cell = max(2, round(0.16 / TEXEL_M))
    img[:, ::cell] = (img[:, ::cell] * 0.85).astype(np.uint8)  # cell lines
    pw, ph = round(1.0 / TEXEL_M), round(1.7 / TEXEL_M)
    for x in range(0, w, pw):
        cv2.line(img, (x, 0), (x, h - 1), (170, 170, 168), 1)
    gap = round(0.6 / TEXEL_M)
    for y in range(0, h, ph + gap):
        cv2.line(img, (0, y), (w - 1, y), (170, 170, 168), 1)
        img[y + ph : y + ph + gap] = (70, 76, 80)  # the roof or ground seen between rows
    return img


def scaffold_texture(rng: np.random.Generator, length_m: float, width_m: float) -> NDArray[np.uint8]:
    """A scaffold from above under green dust netting: planks and tubes, net folds."""
    w, h = max(8, round(length_m / TEXEL_M)), max(8, round(width_m / TEXEL_M))
    img = _tint((72, 132, 58), h, w, rng, vary=0.15, grain=8.0)
    step = max(2, round(1.8 / TEXEL_M))
    for x in range(0, w, step):
        cv2.line(img, (x, 0), (x, h - 1), (60, 70, 75), max(1, round(0.08 / TEXEL_M)))
    return img


def tarp_texture(rng: np.random.Generator, size_m: float) -> NDArray[np.uint8]:
    """A blue plastic tarp: wrinkles and folds in every direction, glossy highlights."""
    n = max(8, round(size_m / TEXEL_M))
    img = _tint((190, 112, 30), n, n, rng, vary=0.04, grain=3.0).astype(np.float32)
    folds = _smooth_noise(rng, n, n, n / 6) + 0.5 * _smooth_noise(rng, n, n, n / 20)
    img *= (1 + 0.18 * np.clip(folds / 2, -1.5, 1.5))[..., None]
    return np.clip(img, 0, 255).astype(np.uint8)


class _Placer:
    """Rejection sampling of non-overlapping rectangles (with a clearance) inside the scene."""

    def __init__(self, rng: np.random.Generator, half_m: float) -> None:
        self.rng = rng
        self.half = half_m
        self.taken: list[Array] = []

    def free(self, ring: Array, clearance_m: float) -> bool:
        if np.abs(ring).max() > self.half - 6:
            return False
        grown = _grow(ring, clearance_m)
        for other in self.taken:
            area, _ = cv2.intersectConvexConvex(grown.astype(np.float32), other.astype(np.float32))
            if area > 0:
                return False
        return True

    def place(
        self, length: tuple[float, float], width: tuple[float, float], angle_deg: float, clearance_m: float,
        tries: int = 500,
    ) -> Array | None:
        for _ in range(tries):
            cx, cy = self.rng.uniform(-self.half + 12, self.half - 12, 2)
            ring = rect_ring(
                float(cx), float(cy), float(self.rng.uniform(*length)), float(self.rng.uniform(*width)),
                angle_deg + float(self.rng.uniform(-8, 8)),
            )
            if self.free(ring, clearance_m):
                self.taken.append(ring)
                return ring
        return None


def _grow(ring: Array, by_m: float) -> Array:
    c = ring.mean(axis=0)
    d = ring - c
    n = np.linalg.norm(d, axis=1, keepdims=True)
    out: Array = c + d * (n + by_m * math.sqrt(2)) / np.maximum(n, 1e-9)
    return out


def _axes(ring: Array) -> tuple[Array, float, float, Array]:
    """A rectangle ring's first corner, length (first side), width, and 2x2 unit axes as columns."""
    u, v = ring[1] - ring[0], ring[3] - ring[0]
    length, width = float(np.linalg.norm(u)), float(np.linalg.norm(v))
    return ring[0], length, width, np.column_stack([u / length, v / width])


def _layer(texture: NDArray[np.uint8], ring: Array, top_m: float, base_m: float, wall: BGR) -> Layer:
    origin, length, width, axes = _axes(ring)
    h, w = texture.shape[:2]
    sx, sy = length / w, width / h
    a = np.eye(3)
    a[:2, :2] = axes @ np.diag([sx, sy])
    a[:2, 2] = origin + axes @ np.array([sx / 2, sy / 2])
    return Layer(texture, a, ring, top_m, base_m, wall, TEXEL_M)


def _tup(ring: Array) -> tuple[tuple[float, float], ...]:
    return tuple((round(float(x), 3), round(float(y), 3)) for x, y in ring)


class _Ground:
    """The orthophoto being drawn (0.1 m cells, north up) and helpers to paint polygons in metres."""

    def __init__(self, rng: np.random.Generator, size_m: float, cell_m: float) -> None:
        self.n = round(size_m / cell_m)
        self.half, self.cell = size_m / 2, cell_m
        n = self.n
        img = _tint((72, 122, 92), n, n, rng, vary=0.22, grain=6.0).astype(np.float32)
        img *= (1 + 0.08 * np.clip(_smooth_noise(rng, n, n, 12.0), -2, 2))[..., None]  # clumps of grass
        self.img = np.clip(img, 0, 255).astype(np.uint8)
        self.to_px = np.linalg.inv(
            np.array([[cell_m, 0, -self.half + cell_m / 2], [0, -cell_m, self.half - cell_m / 2], [0, 0, 1]])
        )

    def px(self, ring: Array) -> NDArray[np.int32]:
        h = np.column_stack([ring, np.ones(len(ring))]) @ self.to_px.T
        return np.round(h[:, :2] * 16).astype(np.int32)

    def fill(self, ring: Array, colour: BGR) -> None:
        cv2.fillPoly(self.img, [self.px(ring)], colour, lineType=cv2.LINE_AA, shift=4)

    def blend(self, ring: Array, colour: BGR, alpha: float) -> None:
        """The polygon painted at `alpha` opacity (only its bounding box is touched)."""
        pts = self.px(ring)
        x0, y0 = np.maximum(pts.min(axis=0) // 16 - 2, 0)
        x1, y1 = np.minimum(pts.max(axis=0) // 16 + 3, self.n)
        if x1 <= x0 or y1 <= y0:
            return
        roi = self.img[y0:y1, x0:x1]
        over = roi.copy()
        cv2.fillPoly(over, [pts - np.array([x0, y0]) * 16], colour, lineType=cv2.LINE_AA, shift=4)
        self.img[y0:y1, x0:x1] = cv2.addWeighted(over, alpha, roi, 1 - alpha, 0)

    def paste(self, texture: NDArray[np.uint8], ring: Array) -> None:
        """A texture warped onto a rectangle of the ground (pools, courts, tarps drawn flat)."""
        h, w = texture.shape[:2]
        src = np.array([[0, 0], [w, 0], [w, h], [0, h]], np.float32)
        dst = (np.column_stack([ring, np.ones(4)]) @ self.to_px.T)[:, :2].astype(np.float32)
        m = cv2.getPerspectiveTransform(src, dst)
        warped = cv2.warpPerspective(texture, m, (self.n, self.n), flags=cv2.INTER_AREA)
        mask = cv2.warpPerspective(np.full((h, w), 255, np.uint8), m, (self.n, self.n), flags=cv2.INTER_NEAREST)
        cv2.copyTo(warped, mask, self.img)


def _shadow(ground: _Ground, ring: Array, height_m: float, sun_az_deg: float, sun_el_deg: float) -> None:
    """A building's shadow on the ground: its footprint swept away from the sun."""
    length = height_m / math.tan(math.radians(sun_el_deg))
    az = math.radians(sun_az_deg + 180.0)
    off = np.array([math.sin(az), math.cos(az)]) * length
    pts = np.concatenate([ring, ring + off]).astype(np.float32)
    hull = cv2.convexHull(pts).reshape(-1, 2).astype(np.float64)
    ground.blend(hull, (30, 40, 36), 0.55)


def build_scene(seed: int, size_m: float = 260.0, cell_m: float = 0.1, surround_margin_m: float = 260.0) -> Scene:
    """A deterministic district of `size_m` x `size_m` metres (see the module docstring), inside plain fields
    reaching `surround_margin_m` beyond it (what an oblique camera sees past the district's edge)."""
    rng = np.random.default_rng(seed)
    half = size_m / 2
    origin_lat = SHANGJIE_LAT_DEG + ((seed * 7) % 19 - 9) * 0.0011
    origin_lon = SHANGJIE_LON_DEG + ((seed * 11) % 23 - 11) * 0.0013
    g = _Ground(rng, size_m, cell_m)
    sun_az, sun_el = float(rng.uniform(120, 240)), float(rng.uniform(40, 65))
    ring: Array | None
    for _ in range(10):  # bare soil and worn paths
        c = rng.uniform(-half, half, 2)
        ring = rect_ring(float(c[0]), float(c[1]), float(rng.uniform(8, 30)), float(rng.uniform(4, 14)),
                         float(rng.uniform(0, 180)))
        g.blend(ring, (92, 122, 146), float(rng.uniform(0.5, 0.85)))
    placer = _Placer(rng, half)
    structures: list[Structure] = []
    layers: list[Layer] = []
    # roads with markings and kerbs
    road_w = float(rng.uniform(8, 11))
    ew_y, ns_x = (float(v) for v in rng.uniform(-half * 0.45, half * 0.45, 2))
    roads = [rect_ring(0, ew_y, size_m * 1.2, road_w, 0.0), rect_ring(ns_x, 0, size_m * 1.2, road_w, 90.0)]
    for r in roads:
        g.fill(_grow(r, 0.3), (170, 172, 170))
        g.paste(_tint((92, 94, 96), 64, 64, rng, vary=0.1, grain=7.0), r)
        placer.taken.append(_grow(r, 1.0))
    for x0 in np.arange(-half, half, 6.0):
        g.fill(rect_ring(float(x0 + 1.5), ew_y, 3.0, 0.15, 0.0), (230, 230, 230))
        g.fill(rect_ring(ns_x, float(x0 + 1.5), 3.0, 0.15, 90.0), (230, 230, 230))
    # registered buildings with heights
    buildings: list[tuple[str, Array, float]] = []
    for i in range(11):
        ring = placer.place((16, 32), (11, 18), float(rng.choice([0.0, 90.0])), clearance_m=5.0)
        if ring is None:
            continue
        height = float(rng.choice([6.0, 9.0, 12.0, 15.0, 18.0]))
        bid = f"B{i + 1:02d}"
        buildings.append((bid, ring, height))
        _, length, width, _ = _axes(ring)
        _shadow(g, ring, height, sun_az, sun_el)
        layers.append(_layer(building_roof_texture(rng, length, width), ring, height, 0.0, (150, 160, 170)))
        structures.append(Structure(bid, "building", "registered", _tup(ring), top_m=height))

    def sheet_roof(ring: Array, top: float, base: float, colour: BGR) -> None:
        _, length, width, _ = _axes(ring)
        tex = corrugated_texture(rng, length, width, colour, sun_side=float(rng.choice([-1.0, 1.0])))
        if base == 0.0:
            _shadow(g, ring, top, sun_az, sun_el)
        layers.append(_layer(tex, ring, top, base, (172, 172, 176)))

    def blue() -> BGR:
        return BLUE_SHEET_BGR[int(rng.integers(len(BLUE_SHEET_BGR)))]

    # a registered factory hall with a blue roof, and registered / new blue sheds on the ground
    hall = placer.place((34, 44), (18, 24), float(rng.choice([0.0, 90.0])), clearance_m=6.0)
    if hall is not None:
        sheet_roof(hall, 8.0, 0.0, blue())
        structures.append(Structure("R01", "steel_roof", "registered", _tup(hall), top_m=8.0))
    ground_sheds = [("registered", (9, 16), (6, 10)), ("registered", (10, 14), (7, 9)),
                    ("new", (6.5, 7.5), (4.2, 4.8)), ("new", (8, 10), (6, 7.5)), ("new", (12, 18), (7, 10))]
    for j, (status, lr, wr) in enumerate(ground_sheds):
        ring = placer.place(lr, wr, float(rng.uniform(0, 180)), clearance_m=8.0)
        if ring is None:
            continue
        top = float(rng.uniform(2.8, 4.0))
        sheet_roof(ring, top, 0.0, blue())
        sid = f"R{j + 10:02d}" if status == "registered" else f"N{j + 10:02d}"
        structures.append(Structure(sid, "steel_roof", status, _tup(ring), top_m=top))
    # rooftop additions: new blue sheds on registered buildings, one permitted
    hosts = [int(k) for k in rng.permutation(len(buildings))]
    for j, k in enumerate(hosts[:3]):
        bid, bring, bh = buildings[k]
        origin, length, width, axes = _axes(bring)
        sl, sw = min(length - 3, float(rng.uniform(6, 10))), min(width - 3, float(rng.uniform(4.5, 7)))
        a0, b0 = float(rng.uniform(1.5, length - sl - 1.5)), float(rng.uniform(1.5, width - sw - 1.5))
        c = origin + axes @ np.array([a0 + sl / 2, b0 + sw / 2])
        angle = math.degrees(math.atan2(axes[1, 0], axes[0, 0]))
        ring = rect_ring(float(c[0]), float(c[1]), sl, sw, angle)
        top = bh + 2.5
        sheet_roof(ring, top, bh, blue())
        status = "registered" if j == 2 else "new"
        sid = f"R{j + 2:02d}" if status == "registered" else f"N{j + 1:02d}"
        structures.append(Structure(sid, "steel_roof", status, _tup(ring), top_m=top, base_m=bh, on=bid))
    # solar panels on a fourth building's roof
    if len(hosts) > 3:
        bid, bring, bh = buildings[hosts[3]]
        ring = _grow(bring, -2.0)
        _, length, width, _ = _axes(ring)
        layers.append(_layer(solar_texture(rng, length, width), ring, bh + 0.6, bh, (120, 120, 120)))
        structures.append(Structure("D20", "solar", "distractor", _tup(ring), top_m=bh + 0.6, base_m=bh, on=bid))
    # corrugated roofs of other colours (sheds on the ground)
    for j, name in enumerate(("red", "grey", "white", "green")):
        ring = placer.place((8, 16), (6, 10), float(rng.uniform(0, 180)), clearance_m=6.0)
        if ring is None:
            continue
        top = float(rng.uniform(2.8, 4.0))
        sheet_roof(ring, top, 0.0, OTHER_SHEET_BGR[name])
        structures.append(Structure(f"D{j + 21:02d}", f"roof_{name}", "distractor", _tup(ring), top_m=top))
    # a construction site: bare soil, a scaffold under green net along its side (needs a model)
    site = placer.place((22, 30), (16, 22), float(rng.choice([0.0, 90.0])), clearance_m=6.0)
    if site is not None:
        g.blend(site, (96, 128, 158), 0.9)
        structures.append(Structure("X01", "excavation", "new", _tup(site), top_m=0.0, needs_model=True))
        origin, length, width, axes = _axes(site)
        side = site.mean(axis=0) + axes[:, 1] * (width / 2 - 1.5)
        along = math.degrees(math.atan2(axes[1, 0], axes[0, 0]))
        scaf = rect_ring(float(side[0]), float(side[1]), length - 4, 1.6, along)
        _, sl, sw, _ = _axes(scaf)
        layers.append(_layer(scaffold_texture(rng, sl, sw), scaf, 7.0, 0.0, (70, 120, 65)))
        structures.append(Structure("S01", "scaffold", "new", _tup(scaf), top_m=7.0, needs_model=True))
    # blue distractors on the ground: cars on the roads, a pool, a court, tarps, a solar array
    for j in range(5):
        along = float(rng.uniform(-half + 15, half - 15))
        lane = float(rng.choice([-1.0, 1.0])) * road_w / 4
        ring = rect_ring(along, ew_y + lane, 4.7, 1.85, 0.0) if j % 2 == 0 else rect_ring(
            ns_x + lane, along, 4.7, 1.85, 90.0)
        g.fill(ring, (158, 78, 26))
        g.fill(_grow(ring, -0.55), (70, 48, 36))  # windows and roof
        g.fill(_grow(ring, -0.75), (150, 72, 24))
        structures.append(Structure(f"D{j + 1:02d}", "car", "distractor", _tup(ring), top_m=1.5))
    pool = placer.place((10, 16), (5, 8), float(rng.uniform(0, 180)), clearance_m=5.0)
    if pool is not None:
        _, pl, pw, _ = _axes(pool)
        tex = _tint((212, 176, 86), round(pw / 0.05), round(pl / 0.05), rng, vary=0.06, grain=3.0)
        ripple = _smooth_noise(rng, tex.shape[0], tex.shape[1], 6.0)
        tex = np.clip(tex * (1 + 0.06 * np.clip(ripple, -2, 2))[..., None], 0, 255).astype(np.uint8)
        for y in range(round(2.5 / 0.05), tex.shape[0] - 10, round(2.5 / 0.05)):
            cv2.line(tex, (0, y), (tex.shape[1] - 1, y), (150, 100, 40), 3)  # lane lines along the pool
        water = POOL_WATER_BGR[int(rng.integers(len(POOL_WATER_BGR)))]
        tex = np.clip(tex.astype(np.float32) * (np.array(water, np.float32) / (212, 176, 86)), 0, 255).astype(np.uint8)
        g.fill(_grow(pool, 1.0), (200, 204, 206))  # the deck
        g.paste(tex, pool)
        structures.append(Structure("D10", "pool", "distractor", _tup(pool), top_m=0.0))
    court = placer.place((26, 30), (14, 16), float(rng.uniform(0, 180)), clearance_m=5.0)
    if court is not None:
        g.fill(court, (160, 96, 42))
        inner = _grow(court, -1.0)
        cv2.polylines(g.img, [g.px(inner)], True, (235, 235, 235), 2, cv2.LINE_AA, shift=4)
        structures.append(Structure("D11", "court", "distractor", _tup(court), top_m=0.0))
    for j in range(2):
        spot = placer.place((5, 8), (4, 6), float(rng.uniform(0, 180)), clearance_m=4.0)
        if spot is None:
            continue
        c = spot.mean(axis=0)
        ang = np.sort(rng.uniform(0, 2 * math.pi, 9))
        spoke = rng.uniform(1.8, 3.6, 9)
        blob = c + np.column_stack([np.cos(ang) * spoke, np.sin(ang) * spoke])
        size = float(np.ptp(blob, axis=0).max()) + 1
        tex = tarp_texture(rng, size)
        box = rect_ring(float(c[0]), float(c[1]), size, size, 0.0)
        tarp = g.img.copy()
        g.paste(tex, box)
        mask = np.zeros(g.img.shape[:2], np.uint8)
        cv2.fillPoly(mask, [g.px(blob)], 255, lineType=cv2.LINE_8, shift=4)
        g.img = np.where(mask[..., None] > 0, g.img, tarp)
        structures.append(Structure(f"D{j + 12:02d}", "tarp", "distractor", _tup(blob), top_m=0.0))
    array = placer.place((12, 18), (6, 9), float(rng.choice([0.0, 90.0])), clearance_m=5.0)
    if array is not None:
        _, al, aw, _ = _axes(array)
        layers.append(_layer(solar_texture(rng, al, aw), array, 1.2, 0.0, (90, 90, 90)))
        structures.append(Structure("D14", "solar", "distractor", _tup(array), top_m=1.2))
    # trees: crowns with a lit and a shaded side
    for _ in range(90):
        c = rng.uniform(-half, half, 2)
        r_m = float(rng.uniform(1.5, 4.0))
        if not placer.free(rect_ring(float(c[0]), float(c[1]), 2 * r_m, 2 * r_m, 0.0), 0.5):
            continue
        cx, cy = (int(v) for v in g.px(c[None])[0])
        rad = int(r_m / cell_m * 16)
        cv2.circle(g.img, (cx, cy), rad, (38, 92, 44), -1, cv2.LINE_AA, shift=4)
        cv2.circle(g.img, (cx - rad // 4, cy - rad // 4), rad // 2, (56, 120, 62), -1, cv2.LINE_AA, 4)
    g.img = np.asarray(cv2.GaussianBlur(g.img, (0, 0), 0.6), np.uint8)
    layers.sort(key=lambda layer: layer.top_m)
    surround_m, surround_cell = size_m + 2 * surround_margin_m, 0.25
    return Scene(seed, origin_lat, origin_lon, size_m, cell_m, g.img, layers, structures,
                 _fields(rng, surround_m, surround_cell), surround_m, surround_cell)


def _fields(rng: np.random.Generator, size_m: float, cell_m: float) -> NDArray[np.uint8]:
    """Grass, soil and tree crowns with nothing a survey looks for: what lies beyond the district."""
    n = round(size_m / cell_m)
    img = _tint((72, 122, 92), n, n, rng, vary=0.22, grain=5.0).astype(np.float32)
    img *= (1 + 0.08 * np.clip(_smooth_noise(rng, n, n, 5.0), -2, 2))[..., None]
    out = np.clip(img, 0, 255).astype(np.uint8)
    for _ in range(round(400 * (size_m / 780.0) ** 2)):
        c = (int(rng.integers(0, n)), int(rng.integers(0, n)))
        r = int(rng.uniform(1.5, 4.0) / cell_m)
        cv2.circle(out, c, r, (38, 92, 44), -1, cv2.LINE_AA)
        cv2.circle(out, (c[0] - r // 4, c[1] - r // 4), max(1, r // 2), (56, 120, 62), -1, cv2.LINE_AA)
    over = out.copy()
    for _ in range(round(60 * (size_m / 780.0) ** 2)):  # bare soil, one in every ~100 m square
        at = rng.uniform(0, n, 2)
        axes = (int(rng.uniform(8, 30) / cell_m), int(rng.uniform(4, 14) / cell_m))
        cv2.ellipse(over, (int(at[0]), int(at[1])), axes, float(rng.uniform(0, 180)), 0, 360, (92, 122, 146), -1)
    return np.asarray(cv2.addWeighted(over, 0.7, out, 0.3, 0), np.uint8)
