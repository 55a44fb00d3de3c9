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

Layout: what a scene is (`drone_world`), how it is drawn in metres (`drone_canvas`), its textures
(`drone_textures`); this module places everything from the seed.
"""

from __future__ import annotations

import math

import cv2
import numpy as np
from numpy.typing import NDArray

from benchmarks.scenarios.drone_canvas import Ground, Placer, cast_shadow, grow_ring, rect_ring, ring_axes
from benchmarks.scenarios.drone_textures import (
    BGR,
    TEXEL_M,
    building_roof_texture,
    corrugated_texture,
    scaffold_texture,
    smooth_noise,
    solar_texture,
    tarp_texture,
    tint,
)
from benchmarks.scenarios.drone_world import Layer, Scene, Structure

Array = NDArray[np.float64]

SHANGJIE_LAT_DEG, SHANGJIE_LON_DEG = 34.8000, 113.2900
"""Shangjie District, Zhengzhou (Henan): the district the scenario flights are placed in."""

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


def _layer(texture: NDArray[np.uint8], ring: Array, top_m: float, base_m: float, wall: BGR) -> Layer:
    origin, length, width, axes = ring_axes(ring)
    h, w = texture.shape[:2]
    sx, sy = length / w, width / h
    a = np.eye(3)
    a[:2, :2] = axes @ np.diag([sx, sy])
    a[:2, 2] = origin + axes @ np.array([sx / 2, sy / 2])
    return Layer(texture, a, ring, top_m, base_m, wall, TEXEL_M)


def _tup(ring: Array) -> tuple[tuple[float, float], ...]:
    return tuple((round(float(x), 3), round(float(y), 3)) for x, y in ring)


def build_scene(seed: int, size_m: float = 260.0, cell_m: float = 0.1, surround_margin_m: float = 260.0) -> Scene:
    """A deterministic district of `size_m` x `size_m` metres (see the module docstring), inside plain fields
    reaching `surround_margin_m` beyond it (what an oblique camera sees past the district's edge)."""
    d = _District(seed, size_m, cell_m)
    # The order of these steps is the order of the random draws: changing it changes every scene.
    d.soil_paths()
    d.roads()
    d.buildings()
    d.sheds()
    d.rooftop_additions()
    d.other_roofs()
    d.construction_site()
    d.cars()
    d.pool()
    d.court()
    d.tarps()
    d.solar_array()
    d.trees()
    g = d.g
    g.img = np.asarray(cv2.GaussianBlur(g.img, (0, 0), 0.6), np.uint8)
    d.layers.sort(key=lambda layer: layer.top_m)
    surround_m, surround_cell = size_m + 2 * surround_margin_m, 0.25
    origin_lat = SHANGJIE_LAT_DEG + ((seed * 7) % 19 - 9) * 0.0011
    origin_lon = SHANGJIE_LON_DEG + ((seed * 11) % 23 - 11) * 0.0013
    return Scene(seed, origin_lat, origin_lon, size_m, cell_m, g.img, d.layers, d.structures,
                 _fields(d.rng, surround_m, surround_cell), surround_m, surround_cell)


class _District:
    """The district being drawn: the ground, what stands on it, and the truth of each structure."""

    def __init__(self, seed: int, size_m: float, cell_m: float) -> None:
        self.rng = rng = np.random.default_rng(seed)
        self.size_m, self.cell_m, self.half = size_m, cell_m, size_m / 2
        self.g = Ground(rng, size_m, cell_m)
        self.sun_az, self.sun_el = float(rng.uniform(120, 240)), float(rng.uniform(40, 65))
        self.placer = Placer(rng, self.half)
        self.structures: list[Structure] = []
        self.layers: list[Layer] = []
        self.road_w = self.ew_y = self.ns_x = 0.0
        self.registered: list[tuple[str, Array, float]] = []
        """Registered buildings: id, ring, height."""
        self.hosts: list[int] = []

    def soil_paths(self) -> None:
        """Bare soil and worn paths."""
        rng, half = self.rng, self.half
        for _ in range(10):
            c = rng.uniform(-half, half, 2)
            ring = rect_ring(float(c[0]), float(c[1]), float(rng.uniform(8, 30)), float(rng.uniform(4, 14)),
                             float(rng.uniform(0, 180)))
            self.g.blend(ring, (92, 122, 146), float(rng.uniform(0.5, 0.85)))

    def roads(self) -> None:
        """Two crossing roads with markings and kerbs."""
        rng, half, g = self.rng, self.half, self.g
        self.road_w = float(rng.uniform(8, 11))
        self.ew_y, self.ns_x = (float(v) for v in rng.uniform(-half * 0.45, half * 0.45, 2))
        ew_y, ns_x = self.ew_y, self.ns_x
        roads = [rect_ring(0, ew_y, self.size_m * 1.2, self.road_w, 0.0),
                 rect_ring(ns_x, 0, self.size_m * 1.2, self.road_w, 90.0)]
        for r in roads:
            g.fill(grow_ring(r, 0.3), (170, 172, 170))
            g.paste(tint((92, 94, 96), 64, 64, rng, vary=0.1, grain=7.0), r)
            self.placer.taken.append(grow_ring(r, 1.0))
        for x0 in np.arange(-half, half, 6.0):
            g.fill(rect_ring(float(x0 + 1.5), ew_y, 3.0, 0.15, 0.0), (230, 230, 230))
            g.fill(rect_ring(ns_x, float(x0 + 1.5), 3.0, 0.15, 90.0), (230, 230, 230))

    def buildings(self) -> None:
        """Registered buildings with heights."""
        rng = self.rng
        for i in range(11):
            ring = self.placer.place((16, 32), (11, 18), float(rng.choice([0.0, 90.0])), clearance_m=5.0)
            if ring is None:
                continue
            height = float(rng.choice([6.0, 9.0, 12.0, 15.0, 18.0]))
            bid = f"B{i + 1:02d}"
            self.registered.append((bid, ring, height))
            _, length, width, _ = ring_axes(ring)
            cast_shadow(self.g, ring, height, self.sun_az, self.sun_el)
            self.layers.append(
                _layer(building_roof_texture(rng, length, width), ring, height, 0.0, (150, 160, 170))
            )
            self.structures.append(Structure(bid, "building", "registered", _tup(ring), top_m=height))

    def _sheet_roof(self, ring: Array, top: float, base: float, colour: BGR) -> None:
        _, length, width, _ = ring_axes(ring)
        tex = corrugated_texture(self.rng, length, width, colour, sun_side=float(self.rng.choice([-1.0, 1.0])))
        if base == 0.0:
            cast_shadow(self.g, ring, top, self.sun_az, self.sun_el)
        self.layers.append(_layer(tex, ring, top, base, (172, 172, 176)))

    def _blue(self) -> BGR:
        return BLUE_SHEET_BGR[int(self.rng.integers(len(BLUE_SHEET_BGR)))]

    def sheds(self) -> None:
        """A registered factory hall with a blue roof, and registered / new blue sheds on the ground."""
        rng, placer = self.rng, self.placer
        hall = placer.place((34, 44), (18, 24), float(rng.choice([0.0, 90.0])), clearance_m=6.0)
        if hall is not None:
            self._sheet_roof(hall, 8.0, 0.0, self._blue())
            self.structures.append(Structure("R01", "steel_roof", "registered", _tup(hall), top_m=8.0))
        ground_sheds = [("registered", (9, 16), (6, 10)), ("registered", (10, 14), (7, 9)),
                        ("new", (6.5, 7.5), (4.2, 4.8)), ("new", (8, 10), (6, 7.5)), ("new", (12, 18), (7, 10))]
        for j, (status, lr, wr) in enumerate(ground_sheds):
            ring = placer.place(lr, wr, float(rng.uniform(0, 180)), clearance_m=8.0)
            if ring is None:
                continue
            top = float(rng.uniform(2.8, 4.0))
            self._sheet_roof(ring, top, 0.0, self._blue())
            sid = f"R{j + 10:02d}" if status == "registered" else f"N{j + 10:02d}"
            self.structures.append(Structure(sid, "steel_roof", status, _tup(ring), top_m=top))

    def rooftop_additions(self) -> None:
        """New blue sheds on registered buildings (one permitted), and solar panels on a fourth roof."""
        rng = self.rng
        self.hosts = [int(k) for k in rng.permutation(len(self.registered))]
        for j, k in enumerate(self.hosts[:3]):
            bid, bring, bh = self.registered[k]
            origin, length, width, axes = ring_axes(bring)
            sl, sw = min(length - 3, float(rng.uniform(6, 10))), min(width - 3, float(rng.uniform(4.5, 7)))
            a0, b0 = float(rng.uniform(1.5, length - sl - 1.5)), float(rng.uniform(1.5, width - sw - 1.5))
            c = origin + axes @ np.array([a0 + sl / 2, b0 + sw / 2])
            angle = math.degrees(math.atan2(axes[1, 0], axes[0, 0]))
            ring = rect_ring(float(c[0]), float(c[1]), sl, sw, angle)
            top = bh + 2.5
            self._sheet_roof(ring, top, bh, self._blue())
            status = "registered" if j == 2 else "new"
            sid = f"R{j + 2:02d}" if status == "registered" else f"N{j + 1:02d}"
            self.structures.append(
                Structure(sid, "steel_roof", status, _tup(ring), top_m=top, base_m=bh, on=bid)
            )
        if len(self.hosts) > 3:
            bid, bring, bh = self.registered[self.hosts[3]]
            ring = grow_ring(bring, -2.0)
            _, length, width, _ = ring_axes(ring)
            self.layers.append(_layer(solar_texture(rng, length, width), ring, bh + 0.6, bh, (120, 120, 120)))
            self.structures.append(
                Structure("D20", "solar", "distractor", _tup(ring), top_m=bh + 0.6, base_m=bh, on=bid)
            )

    def other_roofs(self) -> None:
        """Corrugated roofs of other colours (sheds on the ground)."""
        rng = self.rng
        for j, name in enumerate(("red", "grey", "white", "green")):
            ring = self.placer.place((8, 16), (6, 10), float(rng.uniform(0, 180)), clearance_m=6.0)
            if ring is None:
                continue
            top = float(rng.uniform(2.8, 4.0))
            self._sheet_roof(ring, top, 0.0, OTHER_SHEET_BGR[name])
            self.structures.append(
                Structure(f"D{j + 21:02d}", f"roof_{name}", "distractor", _tup(ring), top_m=top)
            )

    def construction_site(self) -> None:
        """Bare soil and a scaffold under green net along its side (needs a model)."""
        rng = self.rng
        site = self.placer.place((22, 30), (16, 22), float(rng.choice([0.0, 90.0])), clearance_m=6.0)
        if site is None:
            return
        self.g.blend(site, (96, 128, 158), 0.9)
        self.structures.append(Structure("X01", "excavation", "new", _tup(site), top_m=0.0, needs_model=True))
        _, length, width, axes = ring_axes(site)
        side = site.mean(axis=0) + axes[:, 1] * (width / 2 - 1.5)
        along = math.degrees(math.atan2(axes[1, 0], axes[0, 0]))
        scaf = rect_ring(float(side[0]), float(side[1]), length - 4, 1.6, along)
        _, sl, sw, _ = ring_axes(scaf)
        self.layers.append(_layer(scaffold_texture(rng, sl, sw), scaf, 7.0, 0.0, (70, 120, 65)))
        self.structures.append(Structure("S01", "scaffold", "new", _tup(scaf), top_m=7.0, needs_model=True))

    def cars(self) -> None:
        """Blue cars on the roads."""
        rng, half, g = self.rng, self.half, self.g
        for j in range(5):
            along = float(rng.uniform(-half + 15, half - 15))
            lane = float(rng.choice([-1.0, 1.0])) * self.road_w / 4
            ring = rect_ring(along, self.ew_y + lane, 4.7, 1.85, 0.0) if j % 2 == 0 else rect_ring(
                self.ns_x + lane, along, 4.7, 1.85, 90.0)
            g.fill(ring, (158, 78, 26))
            g.fill(grow_ring(ring, -0.55), (70, 48, 36))  # windows and roof
            g.fill(grow_ring(ring, -0.75), (150, 72, 24))
            self.structures.append(Structure(f"D{j + 1:02d}", "car", "distractor", _tup(ring), top_m=1.5))

    def pool(self) -> None:
        """A swimming pool with lane lines and a deck."""
        rng, g = self.rng, self.g
        pool = self.placer.place((10, 16), (5, 8), float(rng.uniform(0, 180)), clearance_m=5.0)
        if pool is None:
            return
        _, pl, pw, _ = ring_axes(pool)
        tex = tint((212, 176, 86), round(pw / 0.05), round(pl / 0.05), rng, vary=0.06, grain=3.0)
        ripple = smooth_noise(rng, tex.shape[0], tex.shape[1], 6.0)
        tex = np.clip(tex * (1 + 0.06 * np.clip(ripple, -2, 2))[..., None], 0, 255).astype(np.uint8)
        for y in range(round(2.5 / 0.05), tex.shape[0] - 10, round(2.5 / 0.05)):
            cv2.line(tex, (0, y), (tex.shape[1] - 1, y), (150, 100, 40), 3)  # lane lines along the pool
        water = POOL_WATER_BGR[int(rng.integers(len(POOL_WATER_BGR)))]
        tex = np.clip(tex.astype(np.float32) * (np.array(water, np.float32) / (212, 176, 86)), 0, 255).astype(np.uint8)
        g.fill(grow_ring(pool, 1.0), (200, 204, 206))  # the deck
        g.paste(tex, pool)
        self.structures.append(Structure("D10", "pool", "distractor", _tup(pool), top_m=0.0))

    def court(self) -> None:
        """A blue painted court with its lines."""
        g = self.g
        court = self.placer.place((26, 30), (14, 16), float(self.rng.uniform(0, 180)), clearance_m=5.0)
        if court is None:
            return
        g.fill(court, (160, 96, 42))
        inner = grow_ring(court, -1.0)
        cv2.polylines(g.img, [g.px(inner)], True, (235, 235, 235), 2, cv2.LINE_AA, shift=4)
        self.structures.append(Structure("D11", "court", "distractor", _tup(court), top_m=0.0))

    def tarps(self) -> None:
        """Two blue tarps of irregular outline on the ground."""
        rng, g = self.rng, self.g
        for j in range(2):
            spot = self.placer.place((5, 8), (4, 6), float(rng.uniform(0, 180)), clearance_m=4.0)
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
            self.structures.append(Structure(f"D{j + 12:02d}", "tarp", "distractor", _tup(blob), top_m=0.0))

    def solar_array(self) -> None:
        """A solar array standing on the ground."""
        rng = self.rng
        array = self.placer.place((12, 18), (6, 9), float(rng.choice([0.0, 90.0])), clearance_m=5.0)
        if array is None:
            return
        _, al, aw, _ = ring_axes(array)
        self.layers.append(_layer(solar_texture(rng, al, aw), array, 1.2, 0.0, (90, 90, 90)))
        self.structures.append(Structure("D14", "solar", "distractor", _tup(array), top_m=1.2))

    def trees(self) -> None:
        """Tree crowns with a lit and a shaded side, where nothing else stands."""
        rng, half, g = self.rng, self.half, self.g
        for _ in range(90):
            c = rng.uniform(-half, half, 2)
            r_m = float(rng.uniform(1.5, 4.0))
            if not self.placer.free(rect_ring(float(c[0]), float(c[1]), 2 * r_m, 2 * r_m, 0.0), 0.5):
                continue
            cx, cy = (int(v) for v in g.px(c[None])[0])
            rad = int(r_m / self.cell_m * 16)
            cv2.circle(g.img, (cx, cy), rad, (38, 92, 44), -1, cv2.LINE_AA, shift=4)
            cv2.circle(g.img, (cx - rad // 4, cy - rad // 4), rad // 2, (56, 120, 62), -1, cv2.LINE_AA, 4)


def _fields(rng: np.random.Generator, size_m: float, cell_m: float) -> NDArray[np.uint8]:
    """Grass, soil and tree crowns with nothing a survey looks for: what lies beyond the district."""
    n = round(size_m / cell_m)
    img = tint((72, 122, 92), n, n, rng, vary=0.22, grain=5.0).astype(np.float32)
    img *= (1 + 0.08 * np.clip(smooth_noise(rng, n, n, 5.0), -2, 2))[..., None]
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
