"""Drone survey scenarios with ground truth: an orthophoto-like district, a flight over it, video + DJI SRT.

The scene is built in local east/north metres around a WGS-84 origin, deterministically from a seed:
grass and soil, roads with markings, trees, registered buildings (with heights), registered blue
colour-steel roofs and a permitted scaffold, and the things a survey must find: new blue roofs on the
ground and on registered buildings' roofs (rooftop additions), and new scaffolds. Blue distractors that
must not be alerted (cars, a pool, a painted court, a tarp) are part of every scene.

A flight is a lawn-mower path (take-off climb, parallel lines at a bearing, turns) at an altitude with
a nadir or oblique gimbal. Frames are rendered from the *true* pose with parallax: the ground is one
plane, every roof/scaffold is a textured plane at its own height with walls down to what it stands on.
The SRT telemetry carries the *measured* pose: the truth plus slowly drifting GNSS, altitude and gimbal
errors, rounded as DJI writes them, in the modern layout (`FrameCnt: N, DiffTime: ..ms`, clock line,
`[focal_len: ..] [latitude: ..] [longitude: ..] [rel_alt: .. abs_alt: ..] [gb_yaw: .. gb_pitch: ..
gb_roll: ..]`).

Seeds: `TUNING_SEEDS` were used to tune the cue and the site thresholds; `GATE_SEEDS` never were, and
are what the accuracy gate runs on. `DEMO_SEED` is the scene behind configs/registry/demo-district.geojson.
"""

from __future__ import annotations

import argparse
import json
import math
import time
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import cv2
import numpy as np
from numpy.typing import NDArray

from benchmarks.scenarios.video import write_h264
from detectors.geometry.drone import Intrinsics, rotation_world_from_camera
from detectors.geometry.geodesy import enu_to_wgs84
from ingest.frame import Frame, Pose

TUNING_SEEDS: tuple[int, ...] = (1, 2, 3)
"""Scenes the cue and site thresholds were tuned on."""
GATE_SEEDS: tuple[int, ...] = (101, 102)
"""Scenes never used for tuning: the accuracy gate's."""
DEMO_SEED = 7
"""The demo scene (configs/registry/demo-district.geojson is its registry)."""

BASE_LAT, BASE_LON = 34.7800, 113.2600
"""Scenes sit in and around the made-up sample district at Shangjie's location (benchmarks.scenarios.district);
the demo scene (seed 7) lies inside it."""
TAKEOFF_MSL_M = 12.0
START_UTC_S = 1_779_876_000.0  # 2026-05-27T10:00:00Z

BGR = tuple[int, int, int]


# -- scene -----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Structure:
    """A thing in the scene with an outline on the map: what it is, whether it is registered or new."""

    id: str
    kind: str
    """building, steel_roof, scaffold; distractors: car, pool, court, tarp."""
    status: str
    """registered, new or distractor."""
    ring_m: tuple[tuple[float, float], ...]
    top_m: float
    """Height of its visible top above the ground."""
    base_m: float = 0.0
    """Height of what it stands on (0, or the roof it was built on)."""
    on: str | None = None
    """Id of the building it stands on."""

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
    """A textured plane at a height (a roof, a scaffold deck) with walls down to its base."""

    texture: NDArray[np.uint8]
    alpha: NDArray[np.uint8]
    patch_to_enu: NDArray[np.float64]
    """3x3: texture pixel (x, y, 1) -> (east, north, 1)."""
    ring_m: NDArray[np.float64]
    top_m: float
    base_m: float
    wall_bgr: BGR


@dataclass
class Scene:
    """The district: ground orthophoto (north up), elevated layers, and every structure's truth."""

    seed: int
    origin_lat_deg: float
    origin_lon_deg: float
    size_m: float
    cell_m: float
    ground: NDArray[np.uint8]
    layers: list[Layer]
    structures: list[Structure]

    def ground_to_enu(self) -> NDArray[np.float64]:
        """3x3: orthophoto pixel (col, row, 1) -> (east, north, 1)."""
        h = self.size_m / 2
        c = self.cell_m
        return np.array([[c, 0, -h + c / 2], [0, -c, h - c / 2], [0, 0, 1]], np.float64)

    def lonlat(self, ring_m: NDArray[np.float64] | tuple[tuple[float, float], ...]) -> list[list[float]]:
        a = np.asarray(ring_m, np.float64)
        lat, lon = enu_to_wgs84(self.origin_lat_deg, self.origin_lon_deg, a[:, 0], a[:, 1])
        return [[float(x), float(y)] for x, y in zip(lon, lat, strict=True)]

    def registry_geojson(self) -> dict[str, Any]:
        """The registry of known/permitted structures of this scene, as the detector reads it."""
        feats = []
        for s in self.structures:
            if s.status != "registered":
                continue
            ring = self.lonlat(s.ring_m)
            ring.append(ring[0])
            props: dict[str, Any] = {"id": s.id, "kind": s.kind}
            if s.kind == "building":
                props["height_m"] = round(s.top_m, 1)
            else:
                props["permit"] = f"PERMIT-{self.seed}-{s.id}"
            feats.append(
                {
                    "type": "Feature",
                    "properties": props,
                    "geometry": {
                        "type": "Polygon",
                        "coordinates": [[[round(x, 8), round(y, 8)] for x, y in ring]],
                    },
                }
            )
        return {
            "type": "FeatureCollection",
            "name": f"gridwatch demo registry, MADE UP (generated scene seed {self.seed})",
            "features": feats,
        }

    def truth(self) -> dict[str, Any]:
        return {
            "seed": self.seed,
            "origin_lat_deg": self.origin_lat_deg,
            "origin_lon_deg": self.origin_lon_deg,
            "size_m": self.size_m,
            "structures": [
                {
                    **asdict(s),
                    "ring_lonlat": self.lonlat(s.ring_m),
                    "centre_m": s.centre_m,
                    "area_m2": round(s.area_m2, 2),
                }
                for s in self.structures
            ],
        }


def rect_ring(cx: float, cy: float, length: float, width: float, angle_deg: float) -> NDArray[np.float64]:
    """Corners of a rectangle centred at (cx, cy), `length` along `angle_deg` (anticlockwise from east)."""
    a = math.radians(angle_deg)
    u = np.array([math.cos(a), math.sin(a)])
    v = np.array([-math.sin(a), math.cos(a)])
    c = np.array([cx, cy])
    return np.array(
        [
            c - u * length / 2 - v * width / 2,
            c + u * length / 2 - v * width / 2,
            c + u * length / 2 + v * width / 2,
            c - u * length / 2 + v * width / 2,
        ]
    )


def _noise(rng: np.random.Generator, h: int, w: int, scale_px: float) -> NDArray[np.float32]:
    """Smooth random field in [-1, 1] with features about `scale_px` wide."""
    sh, sw = max(2, int(h / scale_px) + 2), max(2, int(w / scale_px) + 2)
    small = rng.standard_normal((sh, sw)).astype(np.float32)
    big = cv2.resize(small, (w, h), interpolation=cv2.INTER_CUBIC)
    out: NDArray[np.float32] = np.clip(big / 2.0, -1, 1)
    return out


def _tint(
    base: BGR, h: int, w: int, rng: np.random.Generator, *, vary: float, grain: float
) -> NDArray[np.uint8]:
    """A flat colour with slow brightness variation (`vary`, relative) and per-pixel grain (grey levels)."""
    img = np.empty((h, w, 3), np.float32)
    img[:] = base
    img *= (1 + vary * _noise(rng, h, w, max(8.0, min(h, w) / 3)))[..., None]
    img += rng.standard_normal((h, w, 1), dtype=np.float32) * np.float32(grain)
    return np.clip(img, 0, 255).astype(np.uint8)


def steel_roof_texture(
    rng: np.random.Generator, length_m: float, width_m: float, cell_m: float
) -> NDArray[np.uint8]:
    """Blue corrugated steel: trapezoidal ribs across the length, a ridge, weathering."""
    w, h = max(4, round(length_m / cell_m)), max(4, round(width_m / cell_m))
    base: BGR = [(175, 95, 35), (190, 110, 45), (195, 140, 95), (160, 60, 20), (200, 120, 60)][
        int(rng.integers(5))
    ]
    img = _tint(base, h, w, rng, vary=0.06, grain=3.0).astype(np.float32)
    pitch_m = float(rng.uniform(0.55, 0.8))
    amp = float(rng.uniform(0.14, 0.24))
    x = (np.arange(w) + 0.5) * cell_m / pitch_m
    phase = x - np.floor(x)
    profile = np.clip(np.abs(phase - 0.5) * 4 - 0.6, -1, 1)  # trapezoid in [-1, 1]
    img *= (1 + amp * profile)[None, :, None]
    if rng.random() < 0.7:  # gable ridge along the length: the two halves catch the sun differently
        img[: h // 2] *= 1.07
        img[h // 2 - 1 : h // 2 + 1] *= 0.7
    return np.clip(img, 0, 255).astype(np.uint8)


def building_roof_texture(
    rng: np.random.Generator, length_m: float, width_m: float, cell_m: float
) -> NDArray[np.uint8]:
    w, h = max(4, round(length_m / cell_m)), max(4, round(width_m / cell_m))
    style = int(rng.integers(3))
    if style == 0:  # concrete flat roof with parapet and rooftop units
        img = _tint((150, 152, 155), h, w, rng, vary=0.10, grain=5.0)
        p = max(1, round(0.4 / cell_m))
        cv2.rectangle(img, (0, 0), (w - 1, h - 1), (115, 118, 120), p)
        for _ in range(int(rng.integers(1, 4))):
            uw, uh = round(rng.uniform(1.0, 2.5) / cell_m), round(rng.uniform(1.0, 2.0) / cell_m)
            x0, y0 = (
                int(rng.integers(p, max(p + 1, w - uw - p))),
                int(rng.integers(p, max(p + 1, h - uh - p))),
            )
            cv2.rectangle(img, (x0, y0), (x0 + uw, y0 + uh), (200, 200, 198), -1)
    elif style == 1:  # terracotta tiles, gable
        img = _tint((60, 85, 165), h, w, rng, vary=0.08, grain=6.0)
        img[: h // 2] = np.clip(img[: h // 2].astype(np.int16) + 18, 0, 255).astype(np.uint8)
        cv2.line(img, (0, h // 2), (w - 1, h // 2), (40, 55, 110), max(1, round(0.3 / cell_m)))
    else:  # dark bitumen
        img = _tint((78, 80, 84), h, w, rng, vary=0.10, grain=6.0)
    return img


def scaffold_texture(
    rng: np.random.Generator, length_m: float, width_m: float, cell_m: float
) -> NDArray[np.uint8]:
    """A scaffold seen from above: planks and tubes under green safety netting."""
    w, h = max(4, round(length_m / cell_m)), max(4, round(width_m / cell_m))
    img = _tint((70, 135, 60), h, w, rng, vary=0.12, grain=8.0)
    step = max(2, round(1.8 / cell_m))
    for x in range(0, w, step):
        cv2.line(img, (x, 0), (x, h - 1), (60, 70, 75), max(1, round(0.12 / cell_m)))
    cv2.line(img, (0, h // 2), (w - 1, h // 2), (90, 120, 150), max(1, round(0.3 / cell_m)))
    return img


class _Placer:
    """Rejection sampling of non-overlapping rectangles (with a clearance) inside the scene."""

    def __init__(self, rng: np.random.Generator, half_m: float) -> None:
        self.rng = rng
        self.half = half_m
        self.taken: list[NDArray[np.float64]] = []

    def free(self, ring: NDArray[np.float64], clearance_m: float) -> bool:
        if np.abs(ring).max() > self.half - 4:
            return False
        grown = _grow(ring, clearance_m)
        for other in self.taken:
            area, _ = cv2.intersectConvexConvex(grown.astype(np.float32), other.astype(np.float32))
            if area > 0:
                return False
        return True

    def place(
        self,
        length: tuple[float, float],
        width: tuple[float, float],
        angle_deg: float,
        clearance_m: float,
        tries: int = 400,
    ) -> NDArray[np.float64] | None:
        for _ in range(tries):
            cx, cy = self.rng.uniform(-self.half + 10, self.half - 10, 2)
            ring = rect_ring(
                float(cx),
                float(cy),
                float(self.rng.uniform(*length)),
                float(self.rng.uniform(*width)),
                angle_deg + float(self.rng.uniform(-6, 6)),
            )
            if self.free(ring, clearance_m):
                self.taken.append(ring)
                return ring
        return None


def _grow(ring: NDArray[np.float64], by_m: float) -> NDArray[np.float64]:
    c = ring.mean(axis=0)
    d = ring - c
    n = np.linalg.norm(d, axis=1, keepdims=True)
    out: NDArray[np.float64] = c + d * (n + by_m * math.sqrt(2)) / np.maximum(n, 1e-9)
    return out


def _ring_frame(ring: NDArray[np.float64]) -> tuple[NDArray[np.float64], float, float, NDArray[np.float64]]:
    """(3x3 unit-square-free affine basis) for a rectangle ring: origin corner, length, width, 2x2 axes."""
    u = ring[1] - ring[0]
    v = ring[3] - ring[0]
    length, width = float(np.linalg.norm(u)), float(np.linalg.norm(v))
    return ring[0], length, width, np.column_stack([u / length, v / width])


def _layer(
    texture: NDArray[np.uint8],
    ring: NDArray[np.float64],
    top_m: float,
    base_m: float,
    wall: BGR,
) -> Layer:
    origin, length, width, axes = _ring_frame(ring)
    h, w = texture.shape[:2]
    sx, sy = length / w, width / h
    a = np.eye(3)
    a[:2, :2] = axes @ np.diag([sx, sy])
    a[:2, 2] = origin + axes @ np.array([sx / 2, sy / 2])
    return Layer(
        texture=texture,
        alpha=np.full((h, w), 255, np.uint8),
        patch_to_enu=a,
        ring_m=ring,
        top_m=top_m,
        base_m=base_m,
        wall_bgr=wall,
    )


def build_scene(seed: int, size_m: float = 240.0, cell_m: float = 0.1) -> Scene:
    """A deterministic district of `size_m` x `size_m` metres (see the module docstring)."""
    rng = np.random.default_rng(seed)
    half = size_m / 2
    n = round(size_m / cell_m)
    origin_lat = BASE_LAT + (seed % 37) * 0.0021
    origin_lon = BASE_LON + (seed % 23) * 0.0027
    ground = _tint((70, 128, 88), n, n, rng, vary=0.18, grain=7.0)
    # soil patches
    for _ in range(6):
        soil_c = rng.uniform(0, n, 2).astype(int)
        soil_axes = (int(rng.uniform(8, 25) / cell_m), int(rng.uniform(5, 15) / cell_m))
        cv2.ellipse(
            ground,
            (int(soil_c[0]), int(soil_c[1])),
            soil_axes,
            float(rng.uniform(0, 180)),
            0,
            360,
            (85, 115, 140),
            -1,
        )
    ground = np.asarray(cv2.GaussianBlur(ground, (0, 0), 1.5), np.uint8)
    grain = rng.standard_normal((n, n, 1), dtype=np.float32) * np.float32(5.0)
    ground = np.clip(ground + grain, 0, 255).astype(np.uint8)
    placer = _Placer(rng, half)
    to_px = np.linalg.inv(
        np.array([[cell_m, 0, -half + cell_m / 2], [0, -cell_m, half - cell_m / 2], [0, 0, 1]])
    )

    def px(ring: NDArray[np.float64]) -> NDArray[np.int32]:
        h = np.column_stack([ring, np.ones(len(ring))]) @ to_px.T
        return np.round(h[:, :2] * 16).astype(np.int32)

    def fill(ring: NDArray[np.float64], colour: BGR) -> None:
        cv2.fillPoly(ground, [px(ring)], colour, lineType=cv2.LINE_AA, shift=4)

    structures: list[Structure] = []
    layers: list[Layer] = []
    # roads: one east-west, one north-south
    road_w = float(rng.uniform(8, 11))
    ew_y = float(rng.uniform(-half * 0.5, half * 0.5))
    ns_x = float(rng.uniform(-half * 0.5, half * 0.5))
    roads = [rect_ring(0, ew_y, size_m * 1.2, road_w, 0.0), rect_ring(ns_x, 0, size_m * 1.2, road_w, 90.0)]
    road_img = _tint((92, 94, 96), n, n, rng, vary=0.08, grain=6.0)
    road_mask = np.zeros((n, n), np.uint8)
    for r in roads:
        cv2.fillPoly(road_mask, [px(r)], 255, lineType=cv2.LINE_AA, shift=4)
        placer.taken.append(_grow(r, 1.0))
    ground = np.where(road_mask[..., None] > 127, road_img, ground)
    for x0 in np.arange(-half, half, 6.0):  # dashed centre lines
        fill(rect_ring(float(x0 + 1.5), ew_y, 3.0, 0.15, 0.0), (230, 230, 230))
        fill(rect_ring(ns_x, float(x0 + 1.5), 3.0, 0.15, 90.0), (230, 230, 230))
    # buildings (registered, with heights)
    buildings: list[tuple[str, NDArray[np.float64], float]] = []
    for i in range(12):
        ring = placer.place((16, 32), (11, 18), float(rng.choice([0.0, 90.0])), clearance_m=4.0)
        if ring is None:
            continue
        height = float(rng.choice([6.0, 9.0, 12.0, 15.0, 18.0, 21.0]))
        bid = f"B{i + 1:02d}"
        buildings.append((bid, ring, height))
        _, length, width, _ = _ring_frame(ring)
        roof = building_roof_texture(rng, length, width, cell_m)
        layers.append(_layer(roof, ring, height, 0.0, (150, 160, 170)))
        structures.append(Structure(bid, "building", "registered", _tup(ring), top_m=height))

    def shed(ring: NDArray[np.float64], top: float, base: float) -> None:
        _, length, width, _ = _ring_frame(ring)
        layers.append(
            _layer(steel_roof_texture(rng, length, width, cell_m), ring, top, base, (170, 170, 175))
        )

    # rooftop additions: new blue sheds on registered buildings, and one permitted (registered) one
    roof_hosts = rng.permutation(len(buildings))[:3]
    for j, k in enumerate(roof_hosts):
        bid, bring, bh = buildings[int(k)]
        origin, length, width, axes = _ring_frame(bring)
        sl, sw = min(length - 3, float(rng.uniform(6, 10))), min(width - 3, float(rng.uniform(4.5, 7)))
        a0 = float(rng.uniform(1.5, length - sl - 1.5))
        b0 = float(rng.uniform(1.5, width - sw - 1.5))
        c = origin + axes @ np.array([a0 + sl / 2, b0 + sw / 2])
        angle = math.degrees(math.atan2(axes[1, 0], axes[0, 0]))
        ring = rect_ring(float(c[0]), float(c[1]), sl, sw, angle)
        top = bh + 2.5
        shed(ring, top, bh)
        status = "registered" if j == 2 else "new"
        sid = f"R{j + 1:02d}" if status == "registered" else f"N{j + 1:02d}"
        structures.append(Structure(sid, "steel_roof", status, _tup(ring), top_m=top, base_m=bh, on=bid))
    # blue sheds on the ground: two registered, two new
    for j in range(4):
        ring = placer.place((9, 18), (6, 11), float(rng.uniform(0, 180)), clearance_m=8.0)
        if ring is None:
            continue
        shed(ring, 3.2, 0.0)
        status = "registered" if j < 2 else "new"
        sid = f"R{j + 10:02d}" if status == "registered" else f"N{j + 10:02d}"
        structures.append(Structure(sid, "steel_roof", status, _tup(ring), top_m=3.2))
    # scaffolds along a long side of a building: two new, one permitted
    hosts = [k for k in rng.permutation(len(buildings)) if int(k) not in set(roof_hosts.tolist())][:3]
    for j, k in enumerate(hosts):
        bid, bring, bh = buildings[int(k)]
        origin, length, width, axes = _ring_frame(bring)
        side = 1.0 if rng.random() < 0.5 else -1.0
        offset = (width / 2 + 0.8) * side
        c = bring.mean(axis=0) + axes[:, 1] * offset
        angle = math.degrees(math.atan2(axes[1, 0], axes[0, 0]))
        ring = rect_ring(float(c[0]), float(c[1]), length, 1.4, angle)
        top = bh + 1.0
        _, sl, sw, _ = _ring_frame(ring)
        layers.append(_layer(scaffold_texture(rng, sl, sw, cell_m), ring, top, 0.0, (70, 120, 65)))
        status = "registered" if j == 2 else "new"
        sid = f"F{j + 1:02d}" if status == "registered" else f"S{j + 1:02d}"
        structures.append(Structure(sid, "scaffold", status, _tup(ring), top_m=top, on=bid))
    # blue distractors on the ground: cars on the roads, a pool, a painted court, a tarp
    for j in range(4):
        along = float(rng.uniform(-half + 15, half - 15))
        lane = float(rng.choice([-1.0, 1.0])) * road_w / 4
        ring = (
            rect_ring(along, ew_y + lane, 4.6, 1.85, 0.0)
            if j % 2 == 0
            else rect_ring(ns_x + lane, along, 4.6, 1.85, 90.0)
        )
        fill(ring, (150, 70, 25))
        fill(_grow(ring, -0.6), (90, 50, 30))
        structures.append(Structure(f"D{j + 1:02d}", "car", "distractor", _tup(ring), top_m=1.5))
    extras = [
        ("pool", (11, 14), (5, 7), (215, 175, 70)),
        ("court", (26, 30), (14, 16), (160, 95, 40)),
        ("tarp", (5, 8), (4, 6), (200, 120, 40)),
    ]
    for j, (kind, len_range, width_range, colour) in enumerate(extras):
        ring = placer.place(len_range, width_range, float(rng.uniform(0, 180)), clearance_m=5.0)
        if ring is None:
            continue
        if kind == "tarp":
            tarp_c = ring.mean(axis=0)
            ang = np.sort(rng.uniform(0, 2 * math.pi, 9))
            spoke = rng.uniform(1.8, 3.5, 9)
            blob = tarp_c + np.column_stack([np.cos(ang) * spoke, np.sin(ang) * spoke])
            fill(blob, colour)
            ring = blob
        else:
            fill(ring, colour)
            if kind == "court":
                inner = _grow(ring, -1.0)
                cv2.polylines(ground, [px(inner)], True, (235, 235, 235), 2, cv2.LINE_AA, shift=4)
                mid = (inner[0] + inner[1]) / 2, (inner[3] + inner[2]) / 2
                cv2.line(
                    ground,
                    tuple(px(np.array([mid[0]]))[0]),
                    tuple(px(np.array([mid[1]]))[0]),
                    (235, 235, 235),
                    2,
                    cv2.LINE_AA,
                    shift=4,
                )
            else:
                cv2.polylines(ground, [px(ring)], True, (230, 230, 225), 3, cv2.LINE_AA, shift=4)
        structures.append(Structure(f"D{j + 10:02d}", kind, "distractor", _tup(ring), top_m=0.0))
    # trees (flat, dark green crowns with a shaded side)
    for _ in range(70):
        tree_c = rng.uniform(-half, half, 2)
        radius_m = float(rng.uniform(1.5, 4.0))
        ring = rect_ring(float(tree_c[0]), float(tree_c[1]), 2 * radius_m, 2 * radius_m, 0.0)
        if not placer.free(ring, 0.5):
            continue
        cx, cy = (int(v) for v in px(tree_c[None])[0])
        rad_px = int(radius_m / cell_m * 16)
        cv2.circle(ground, (cx, cy), rad_px, (40, 95, 45), -1, cv2.LINE_AA, shift=4)
        cv2.circle(
            ground, (cx - rad_px // 4, cy - rad_px // 4), rad_px // 2, (55, 120, 60), -1, cv2.LINE_AA, 4
        )
    layers.sort(key=lambda layer: layer.top_m)
    return Scene(
        seed=seed,
        origin_lat_deg=origin_lat,
        origin_lon_deg=origin_lon,
        size_m=size_m,
        cell_m=cell_m,
        ground=ground,
        layers=layers,
        structures=structures,
    )


def _tup(ring: NDArray[np.float64]) -> tuple[tuple[float, float], ...]:
    return tuple((round(float(x), 3), round(float(y), 3)) for x, y in ring)


# -- flight ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class TelemetryNoise:
    """1-sigma telemetry errors (slow drifts, as GNSS and barometers have) written into the SRT."""

    position_m: float = 0.8
    altitude_m: float = 0.4
    tilt_deg: float = 0.3
    yaw_deg: float = 0.8
    correlation_s: float = 20.0


@dataclass(frozen=True)
class FlightPlan:
    """A lawn-mower survey: parallel lines at `bearing_deg`, `line_spacing_m` apart, at one altitude."""

    altitude_m: float = 100.0
    speed_m_s: float = 12.0
    line_spacing_m: float = 70.0
    bearing_deg: float = 0.0
    gimbal_pitch_deg: float = -90.0
    fps: float = 5.0
    width_px: int = 1280
    height_px: int = 720
    focal_35mm: float = 24.0
    climb_s: float = 4.0
    noise: TelemetryNoise = field(default_factory=TelemetryNoise)


@dataclass(frozen=True)
class FlightTrack:
    """Per-frame true and measured poses (arrays over frames) of one flight over a scene."""

    t_s: NDArray[np.float64]
    east_m: NDArray[np.float64]
    north_m: NDArray[np.float64]
    alt_m: NDArray[np.float64]
    yaw_deg: NDArray[np.float64]
    pitch_deg: NDArray[np.float64]
    roll_deg: NDArray[np.float64]
    measured: dict[str, NDArray[np.float64]]
    """lat, lon, rel_alt, abs_alt, yaw, pitch, roll as written to the SRT (rounded like DJI)."""

    def __len__(self) -> int:
        return int(self.t_s.shape[0])


def _waypoints(scene: Scene, plan: FlightPlan) -> NDArray[np.float64]:
    b = math.radians(plan.bearing_deg)
    along = np.array([math.sin(b), math.cos(b)])
    across = np.array([math.cos(b), -math.sin(b)])
    half = scene.size_m / 2
    ahead = plan.altitude_m * math.tan(math.radians(90 + plan.gimbal_pitch_deg))
    reach = half * 1.15 + ahead + 25.0
    offsets = np.arange(-half, half + plan.line_spacing_m, plan.line_spacing_m)
    pts = []
    for k, off in enumerate(offsets):
        ends = [-reach, reach] if k % 2 == 0 else [reach, -reach]
        pts += [across * off + along * e for e in ends]
    return np.array(pts)


def _ar1(rng: np.random.Generator, n: int, dt: float, sigma: float, tau: float) -> NDArray[np.float64]:
    """A stationary first-order Gauss-Markov process (drift) with standard deviation `sigma`."""
    phi = math.exp(-dt / tau)
    out = np.empty(n)
    x = rng.normal(0, sigma)
    q = sigma * math.sqrt(1 - phi * phi)
    for i in range(n):
        out[i] = x
        x = phi * x + rng.normal(0, q)
    return out


def plan_flight(scene: Scene, plan: FlightPlan, seed: int | None = None) -> FlightTrack:
    """Sample the path at `plan.fps`: true poses for rendering, measured ones for the SRT."""
    rng = np.random.default_rng(scene.seed * 1000 + (seed or 0) + 17)
    wps = _waypoints(scene, plan)
    seg = np.diff(wps, axis=0)
    seg_len = np.linalg.norm(seg, axis=1)
    cum = np.concatenate([[0.0], np.cumsum(seg_len)])
    dt = 1.0 / plan.fps
    n_climb = round(plan.climb_s * plan.fps)
    n_cruise = int(cum[-1] / plan.speed_m_s * plan.fps) + 1
    n = n_climb + n_cruise
    t = np.arange(n) * dt
    s = np.clip((np.arange(n) - n_climb) * dt * plan.speed_m_s, 0, cum[-1])
    k = np.clip(np.searchsorted(cum, s, side="right") - 1, 0, len(seg) - 1)
    frac = (s - cum[k]) / seg_len[k]
    pos = wps[k] + seg[k] * frac[:, None]
    heading = np.degrees(np.arctan2(seg[k, 0], seg[k, 1]))
    alt = np.full(n, plan.altitude_m)
    alt[:n_climb] = np.linspace(2.0, plan.altitude_m, n_climb, endpoint=False) if n_climb else alt[:n_climb]
    noise = plan.noise
    tau = noise.correlation_s
    e_m = pos[:, 0] + _ar1(rng, n, dt, noise.position_m / math.sqrt(2), tau)
    n_m = pos[:, 1] + _ar1(rng, n, dt, noise.position_m / math.sqrt(2), tau)
    lat, lon = enu_to_wgs84(scene.origin_lat_deg, scene.origin_lon_deg, e_m, n_m)
    rel = alt + _ar1(rng, n, dt, noise.altitude_m, tau)
    measured = {
        "lat": np.round(lat, 6),
        "lon": np.round(lon, 6),
        "rel_alt": np.round(rel, 3),
        "abs_alt": np.round(rel + TAKEOFF_MSL_M, 3),
        "yaw": np.round(((heading + _ar1(rng, n, dt, noise.yaw_deg, tau)) + 180) % 360 - 180, 1),
        "pitch": np.round(plan.gimbal_pitch_deg + _ar1(rng, n, dt, noise.tilt_deg, tau), 1),
        "roll": np.round(_ar1(rng, n, dt, noise.tilt_deg, tau), 1),
    }
    return FlightTrack(
        t_s=t.astype(np.float64),
        east_m=pos[:, 0],
        north_m=pos[:, 1],
        alt_m=alt,
        yaw_deg=heading,
        pitch_deg=np.full(n, plan.gimbal_pitch_deg),
        roll_deg=np.zeros(n),
        measured=measured,
    )


def measured_pose(track: FlightTrack, i: int, focal_35mm: float) -> Pose:
    """The pose the SRT reports for frame i (what ingest.srt yields for it, minus interpolation)."""
    m = track.measured
    return Pose(
        lat_deg=float(m["lat"][i]),
        lon_deg=float(m["lon"][i]),
        rel_alt_m=float(m["rel_alt"][i]),
        abs_alt_m=float(m["abs_alt"][i]),
        gimbal_yaw_deg=float(m["yaw"][i]),
        gimbal_pitch_deg=float(m["pitch"][i]),
        gimbal_roll_deg=float(m["roll"][i]),
        focal_len_35mm=focal_35mm,
        t_s=float(track.t_s[i]),
        utc_s=START_UTC_S + float(track.t_s[i]),
        family="bracket",
    )


# -- rendering -------------------------------------------------------------------------------------------


def _plane_homography(
    k: NDArray[np.float64], r: NDArray[np.float64], cam: NDArray[np.float64], z: float
) -> NDArray[np.float64]:
    """3x3: (east, north, 1) on the plane at height z -> image pixel (homogeneous)."""
    m = np.array([[1.0, 0.0, -cam[0]], [0.0, 1.0, -cam[1]], [0.0, 0.0, z - cam[2]]])
    out: NDArray[np.float64] = k @ r.T @ m
    return out


def _project(hmat: NDArray[np.float64], pts: NDArray[np.float64]) -> NDArray[np.float64]:
    h = np.column_stack([pts, np.ones(len(pts))]) @ hmat.T
    out: NDArray[np.float64] = h[:, :2] / h[:, 2:3]
    return out


def render_frame(
    scene: Scene,
    track: FlightTrack,
    i: int,
    plan: FlightPlan,
    noise: list[tuple[NDArray[np.uint8], NDArray[np.uint8]]] | None = None,
) -> NDArray[np.uint8]:
    """The camera image of frame i from its true pose: ground, then walls and tops by height."""
    w, h = plan.width_px, plan.height_px
    k = Intrinsics.from_35mm(w, h, plan.focal_35mm).matrix()
    r = rotation_world_from_camera(
        float(track.yaw_deg[i]), float(track.pitch_deg[i]), float(track.roll_deg[i])
    )
    cam = np.array([track.east_m[i], track.north_m[i], track.alt_m[i]])
    g = _plane_homography(k, r, cam, 0.0) @ scene.ground_to_enu()
    # Beyond the scene the ground is mirrored, so a flight's overshoot sees more district, not a void.
    img = cv2.warpPerspective(
        scene.ground, g, (w, h), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT_101
    )
    forward = r[:, 2]
    for layer in scene.layers:
        ring = layer.ring_m
        # Only layers wholly in front of the camera: a vertex behind it would project through infinity
        # (such a layer lies far outside the field of view anyway).
        depth = np.concatenate(
            [
                np.column_stack([ring - cam[:2], np.full(len(ring), z - cam[2])]) @ forward
                for z in (layer.top_m, layer.base_m)
            ]
        )
        if depth.min() <= 1.0:
            continue
        top_h = _plane_homography(k, r, cam, layer.top_m)
        top = _project(top_h, ring)
        base = _project(_plane_homography(k, r, cam, layer.base_m), ring)
        allp = np.concatenate([top, base])
        x0, y0 = np.floor(allp.min(axis=0)).astype(int)
        x1, y1 = np.ceil(allp.max(axis=0)).astype(int)
        x0, y0, x1, y1 = max(0, x0), max(0, y0), min(w, x1 + 1), min(h, y1 + 1)
        if x1 <= x0 or y1 <= y0:
            continue
        roi = img[y0:y1, x0:x1]
        for j in range(len(ring)):  # walls: quads between the base and the top outline
            quad = np.array([base[j], base[(j + 1) % 4], top[(j + 1) % 4], top[j]]) - (x0, y0)
            shade = 0.75 + 0.25 * abs(math.cos(j * math.pi / 2 + 0.6))
            colour = tuple(int(c * shade) for c in layer.wall_bgr)
            cv2.fillConvexPoly(roi, np.round(quad * 16).astype(np.int32), colour, cv2.LINE_AA, shift=4)
        shift = np.array([[1, 0, -x0], [0, 1, -y0], [0, 0, 1]], np.float64)
        hm = shift @ top_h @ layer.patch_to_enu
        size = (x1 - x0, y1 - y0)
        tex = cv2.warpPerspective(
            layer.texture, hm, size, flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT
        )
        alpha = cv2.warpPerspective(
            layer.alpha, hm, size, flags=cv2.INTER_NEAREST, borderMode=cv2.BORDER_CONSTANT
        )
        cv2.copyTo(tex, alpha, roi)
    if noise is not None:  # sensor noise and a little exposure wobble
        img = cv2.convertScaleAbs(img, alpha=1.0 + 0.03 * math.sin(i / 17.0))
        up, down = noise[i % len(noise)]
        img = cv2.subtract(cv2.add(img, up), down)
    return np.asarray(img, np.uint8)


def sensor_noise(
    shape: tuple[int, int], seed: int, sigma: float = 2.0, bank: int = 4
) -> list[tuple[NDArray[np.uint8], NDArray[np.uint8]]]:
    """A few frames of Gaussian sensor noise as (positive, negative) uint8 parts, reused in turn."""
    rng = np.random.default_rng(seed)
    out = []
    for _ in range(bank):
        n = rng.normal(0, sigma, (*shape, 3))
        out.append((np.clip(n, 0, 255).astype(np.uint8), np.clip(-n, 0, 255).astype(np.uint8)))
    return out


def iter_frames(
    scene: Scene, track: FlightTrack, plan: FlightPlan, *, flight_id: str = "flight", every: int = 1
) -> Iterator[Frame]:
    """Rendered frames with their measured poses, without encoding (unit tests, quick benchmarks)."""
    noise = sensor_noise((plan.height_px, plan.width_px), scene.seed + 5)
    for i in range(0, len(track), every):
        img = render_frame(scene, track, i, plan, noise)
        yield Frame(
            camera_id=flight_id,
            seq=i,
            captured_at=START_UTC_S + float(track.t_s[i]),
            pts_s=float(track.t_s[i]),
            image=img,
            pose=measured_pose(track, i, plan.focal_35mm),
        )


# -- SRT -----------------------------------------------------------------------------------------------------


def _srt_time(t: float) -> str:
    ms = round(t * 1000)
    return f"{ms // 3_600_000:02d}:{ms // 60_000 % 60:02d}:{ms // 1000 % 60:02d},{ms % 1000:03d}"


def write_dji_srt(
    path: str | Path, track: FlightTrack, plan: FlightPlan, start_utc_s: float = START_UTC_S
) -> Path:
    """Write the measured telemetry as a modern DJI SRT (one block per video frame)."""
    m = track.measured
    dt = 1.0 / plan.fps
    blocks = []
    for i in range(len(track)):
        t0 = float(track.t_s[i])
        clock_ms = round((start_utc_s + t0) * 1000)
        stamp = time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(clock_ms // 1000)) + f".{clock_ms % 1000:03d}"
        blocks.append(
            f"{i + 1}\n{_srt_time(t0)} --> {_srt_time(t0 + dt)}\n"
            f'<font size="28">FrameCnt: {i + 1}, DiffTime: {round(dt * 1000)}ms\n{stamp}\n'
            f"[iso: 100] [shutter: 1/1000.0] [fnum: 2.8] [ev: 0] [color_md: default] "
            f"[focal_len: {plan.focal_35mm:.2f}] "
            f"[latitude: {m['lat'][i]:.6f}] [longitude: {m['lon'][i]:.6f}] "
            f"[rel_alt: {m['rel_alt'][i]:.3f} abs_alt: {m['abs_alt'][i]:.3f}] "
            f"[gb_yaw: {m['yaw'][i]:.1f} gb_pitch: {m['pitch'][i]:.1f} gb_roll: {m['roll'][i]:.1f}] "
            f"[ct: 5500] </font>\n"
        )
    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text("\n".join(blocks), encoding="utf-8")
    return out


# -- files -------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class FlightFiles:
    """A written scenario: the video, its SRT, the scene's registry and the ground truth."""

    video: Path
    srt: Path
    registry: Path
    truth: Path
    frames: int
    start_utc_s: float


def write_flight(out_dir: str | Path, scene: Scene, plan: FlightPlan, name: str = "flight") -> FlightFiles:
    """Render and encode the flight (H.264 via PyAV), and write SRT, registry and truth JSON next to it."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    track = plan_flight(scene, plan)
    noise = sensor_noise((plan.height_px, plan.width_px), scene.seed + 5)
    video = out / f"{name}.mp4"
    frames = write_h264(
        video, (render_frame(scene, track, i, plan, noise) for i in range(len(track))), plan.fps, crf=20
    )
    srt = write_dji_srt(out / f"{name}.SRT", track, plan)
    registry = out / f"{name}.registry.geojson"
    registry.write_text(json.dumps(scene.registry_geojson(), indent=1), encoding="utf-8")
    truth = out / f"{name}.truth.json"
    payload = {
        **scene.truth(),
        "plan": asdict(plan),
        "frames": frames,
        "start_utc_s": START_UTC_S,
        "true_track": {
            "t_s": track.t_s.round(3).tolist(),
            "east_m": track.east_m.round(3).tolist(),
            "north_m": track.north_m.round(3).tolist(),
            "alt_m": track.alt_m.round(3).tolist(),
            "yaw_deg": track.yaw_deg.round(3).tolist(),
        },
    }
    truth.write_text(json.dumps(payload), encoding="utf-8")
    return FlightFiles(
        video=video, srt=srt, registry=registry, truth=truth, frames=frames, start_utc_s=START_UTC_S
    )


def main(argv: list[str] | None = None) -> int:
    """`python -m benchmarks.scenarios.drone OUT_DIR [--seed N] [--pitch -90]`: write one scenario."""
    ap = argparse.ArgumentParser(description=main.__doc__)
    ap.add_argument("out_dir")
    ap.add_argument("--seed", type=int, default=DEMO_SEED)
    ap.add_argument("--pitch", type=float, default=-90.0, help="gimbal pitch, -90 nadir")
    ap.add_argument("--altitude", type=float, default=100.0)
    ap.add_argument("--bearing", type=float, default=0.0)
    ap.add_argument("--fps", type=float, default=5.0)
    args = ap.parse_args(argv)
    scene = build_scene(args.seed)
    plan = FlightPlan(
        altitude_m=args.altitude, gimbal_pitch_deg=args.pitch, bearing_deg=args.bearing, fps=args.fps
    )
    files = write_flight(args.out_dir, scene, plan, name=f"drone-seed{args.seed}")
    print(f"wrote {files.frames} frames: {files.video}, {files.srt}, {files.registry}, {files.truth}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
