"""A second, independent throw-scene generator: a flat facade texture under rain, snow or infrared night.

Written apart from `throw.py` (the scenes the throw detector was tuned on) and apart from the detector, so
that its gates test generalisation rather than recall of one renderer. Nothing is shared with either:
not the camera model, not the physics integration, not the drawing, not a constant.

How a scene is made:
- The facade is drawn flat, in metres (floors of windows, balconies, air-conditioner boxes, pipes, stains),
  and laid into the frame by a plane-to-image homography fixed by where its four corners fall (a camera
  looking up at a tower: the top is narrower). The operator's calibration is those four corners, clicked
  with a pixel of error, which is how the issue's independent scenes were calibrated.
- Thrown objects (balls, tumbling bottles, bags, boxes) follow gravity with quadratic air drag (midpoint
  integration at 200 Hz) from a window sill or a balcony rail, and are drawn with motion blur as several
  sub-exposures.
- Distractors: birds with a wingbeat (level flight, swoops along the top floors, drops from a ledge,
  descending glides), leaves, insects at the lens, laundry flapping, curtains, lit windows switching,
  people and cars below, headlight sweeps at night.
- Weather: rain as streaks at a wind-set slant whose length, width and faintness follow their depth,
  plus a veil; snow as flakes at depths from 2 m to 60 m whose apparent size, speed and defocus follow
  the depth; infrared night as a grey picture lit by the camera's lamp, black sky, noisier.
- Camera habits: an OSD clock and a channel name, auto-exposure pumping, wind jitter, sensor noise,
  interlaced fields, variable frame timing (jitter and dropped frames), and H.264 or H.265 encoding at a
  chosen bitrate (`write_video`).

Frames come from `frames()` as (pts_s, BGR image). Deterministic from the spec's seed.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from fractions import Fraction
from pathlib import Path
from typing import Any, Literal

import av
import cv2
import numpy as np
from numpy.typing import NDArray

GENERATOR_VERSION = "facade_weather-1"
"""Part of every cache key: bump it when a change alters the frames of a given spec."""
GRAVITY = 9.81
_INTEGRATION_HZ = 200.0
_SUBEXPOSURES = 4
_SHUTTER_S = 0.016
_RAIN_VEIL = 0.12
"""Share of the picture replaced by the grey of falling water in a shower."""


@dataclass(frozen=True)
class WeatherSceneSpec:
    """What to generate; rates per minute unless named otherwise, 0 turns a distractor off."""

    seed: int
    duration_s: float = 60.0
    width_px: int = 1280
    height_px: int = 720
    fps: float = 25.0
    floors: tuple[int, int] = (12, 20)
    """Range the scene's number of floors is drawn from."""
    throws: int = 3
    min_throw_floor: int = 1
    rain_streaks: int = 0
    """Rain streaks per frame (a shower for the whole video); 0 is dry."""
    snow_flakes: int = 0
    """Snowflakes in view (apparent size >= a third of a pixel); 0 is none."""
    night_ir: bool = False
    birds_per_min: float = 3.0
    swoop_share: float = 0.4
    """Share of birds that swoop or drop (the hard ones) rather than fly level."""
    leaves_per_min: float = 1.5
    insects_per_min: float = 1.0
    laundry: int = 2
    """Pieces of laundry flapping on balconies for the whole video."""
    light_switches_per_min: float = 4.0
    people_per_min: float = 6.0
    cars_per_min: float = 3.0
    osd: bool = True
    exposure_pumping: float = 0.0
    """Amplitude (share of brightness) of the auto-exposure's slow oscillation; 0 is steady."""
    interlaced: bool = False
    frame_jitter: float = 0.0
    """Variable frame timing: each interval is (1 ± this) of the nominal period."""
    dropped_share: float = 0.0
    """Share of frames the camera drops (variable frame rate)."""
    noise_sigma: float = 2.0
    shake_px: float = 0.3

    @property
    def period_s(self) -> float:
        return 1.0 / self.fps


@dataclass
class ReleasedObject:
    """Ground truth of one throw; `path` holds (t since release, along m, height m, out m) rows."""

    throw_id: int
    kind: str
    floor: int
    along_m: float
    height_m: float
    release_t_s: float
    landing_t_s: float
    size_m: float
    terminal_speed_m_s: float
    grey: int
    tumble_hz: float
    path: NDArray[np.float64] = field(repr=False)

    def as_truth(self) -> dict[str, Any]:
        return {
            "throw_id": self.throw_id,
            "kind": self.kind,
            "floor": self.floor,
            "along_m": round(self.along_m, 3),
            "height_m": round(self.height_m, 3),
            "release_t_s": round(self.release_t_s, 4),
            "landing_t_s": round(self.landing_t_s, 4),
            "size_m": round(self.size_m, 3),
            "terminal_speed_m_s": round(self.terminal_speed_m_s, 2),
            "grey_level": self.grey,
            "tumble_hz": round(self.tumble_hz, 2),
        }


@dataclass
class Actor:
    """A distractor alive from t0 to t1 with its own parameters."""

    kind: str
    t0: float
    t1: float
    p: dict[str, Any]


class Building:
    """The facade: size, storeys, bays, the flat texture (px per metre `tex_scale`), window states."""

    def __init__(self, rng: np.random.Generator, floors: tuple[int, int], night: bool) -> None:
        self.floors = int(rng.integers(floors[0], floors[1] + 1))
        self.storey_m = float(rng.uniform(2.8, 3.2))
        self.bays = int(rng.integers(5, 10))
        self.bay_m = float(rng.uniform(3.0, 4.2))
        self.width_m = self.bays * self.bay_m
        self.height_m = self.floors * self.storey_m + 1.0
        self.tex_scale = 12.0
        palette = [(176, 188, 200), (150, 160, 170), (170, 178, 196), (196, 200, 204), (140, 150, 168)]
        self.wall = np.array(palette[int(rng.integers(0, len(palette)))], np.float64)
        self.window_w = float(rng.uniform(1.5, 2.1))
        self.balcony = rng.random((self.floors, self.bays)) < 0.35
        self.ac_unit = rng.random((self.floors, self.bays)) < 0.3
        self.lit = rng.random((self.floors, self.bays)) < (0.45 if night else 0.15)
        self.curtain = rng.uniform(0, 1, (self.floors, self.bays)) * (rng.random((self.floors, self.bays)) < 0.4)
        self.glass = rng.uniform(40, 120, (self.floors, self.bays))
        self.night = night
        self.texture = self._draw(rng)

    def window_rect_m(self, floor_idx: int, bay: int) -> tuple[float, float, float, float]:
        """(along0, height0, along1, height1) of a window, floor index from 0 at the ground."""
        a0 = bay * self.bay_m + (self.bay_m - self.window_w) / 2
        h0 = floor_idx * self.storey_m + 0.9
        return a0, h0, a0 + self.window_w, h0 + 1.5

    def _px(self, along_m: float, height_m: float) -> tuple[int, int]:
        s = self.tex_scale
        return round(along_m * s), round((self.height_m - height_m) * s)

    def _draw(self, rng: np.random.Generator) -> NDArray[np.uint8]:
        s = self.tex_scale
        w, h = round(self.width_m * s), round(self.height_m * s)
        tex = np.empty((h, w, 3), np.float64)
        tex[:] = self.wall
        # large-scale stains and tile variation
        stain = cv2.GaussianBlur(rng.normal(0, 1, (h // 8 + 1, w // 8 + 1)), (0, 0), 2.0)
        stain = cv2.resize(stain, (w, h), interpolation=cv2.INTER_CUBIC)
        tex += (stain * 7.0)[:, :, None]
        img = np.clip(tex, 0, 255).astype(np.uint8)
        slab = tuple(int(c) for c in np.clip(self.wall - 30, 0, 255))
        for fl in range(1, self.floors + 1):
            y = self._px(0, fl * self.storey_m)[1]
            cv2.line(img, (0, y), (w - 1, y), slab, 2)
        for b in range(1, self.bays):
            if rng.random() < 0.3:
                x = self._px(b * self.bay_m, 0)[0]
                cv2.line(img, (x, 0), (x, h - 1), (110, 115, 120), 2)
        for fl in range(self.floors):
            for b in range(self.bays):
                self.draw_window(img, fl, b)
        return img

    def draw_window(self, img: NDArray[np.uint8], fl: int, b: int, lit: NDArray[np.bool_] | None = None) -> None:
        a0, h0, a1, h1 = self.window_rect_m(fl, b)
        p0, p1 = self._px(a0, h1), self._px(a1, h0)
        if (self.lit if lit is None else lit)[fl, b]:
            colour = (235, 235, 235) if self.night else (150, 205, 235)
        else:
            g = int(self.glass[fl, b]) // (3 if self.night else 1)
            colour = (g + 20, g + 10, g)
        cv2.rectangle(img, p0, p1, colour, -1)
        if self.curtain[fl, b] > 0.05:
            cx = p0[0] + round((p1[0] - p0[0]) * self.curtain[fl, b])
            tone = (170, 190, 210) if not self.night else (90, 90, 90)
            cv2.rectangle(img, p0, (cx, p1[1]), tone, -1)
        cv2.rectangle(img, p0, p1, (225, 225, 225), 1)
        if self.balcony[fl, b]:
            q0 = self._px(a0 - 0.3, h0 - 0.15)
            q1 = self._px(a1 + 0.3, h0 - 0.9)
            cv2.rectangle(img, (q0[0], q0[1]), (q1[0], q1[1]), (120, 125, 130), -1)
            for x in range(q0[0], q1[0], 4):
                cv2.line(img, (x, q0[1]), (x, q1[1]), (90, 95, 100), 1)
        if self.ac_unit[fl, b]:
            q0 = self._px(a1 + 0.15, h0 + 0.6)
            q1 = self._px(a1 + 0.85, h0 + 0.1)
            cv2.rectangle(img, q0, q1, (200, 200, 195), -1)
            cv2.circle(img, ((q0[0] + q1[0]) // 2, (q0[1] + q1[1]) // 2), 2, (120, 120, 120), -1)


class FacadeWeatherScene:
    """One generated camera: `frames()`, `truth()`, `detector_overrides()`, `write_video()`."""

    def __init__(self, spec: WeatherSceneSpec) -> None:
        self.spec = spec
        self.rng = np.random.default_rng(np.random.SeedSequence([spec.seed, 0xFACADE]))
        rng = self.rng
        self.bld = Building(rng, spec.floors, spec.night_ir)
        self.corners_px = self._place_facade()
        src = np.array(
            [[0, 0], [self.bld.width_m, 0], [self.bld.width_m, self.bld.height_m], [0, self.bld.height_m]],
            np.float32,
        )
        self.plane_to_image = cv2.getPerspectiveTransform(src, self.corners_px.astype(np.float32))
        self.distance_m = float(rng.uniform(55, 90))
        self.focal_px = self._facade_px_per_m() * self.distance_m
        self.backdrop = self._draw_backdrop()
        self.static = self.compose_static(self.bld.texture)
        self.throws: list[ReleasedObject] = []
        self.actors: list[Actor] = []
        self._schedule_throws()
        self._schedule_distractors()
        self._click_noise = rng.normal(0, 1.0, (4, 2))
        self.noise_bank = self._noise_bank(rng, spec.noise_sigma * (2.5 if spec.night_ir else 1.0))

    def _noise_bank(self, rng: np.random.Generator, sigma: float) -> list[tuple[NDArray[np.uint8], NDArray[np.uint8]]]:
        """A few frames of grey sensor noise as (to add, to subtract) uint8 pairs, drawn in turn."""
        s = self.spec
        bank = []
        for _ in range(5):
            z = rng.normal(0, sigma, (s.height_px, s.width_px))
            up = np.clip(z, 0, 255).astype(np.uint8)
            down = np.clip(-z, 0, 255).astype(np.uint8)
            bank.append((np.asarray(cv2.merge([up] * 3), np.uint8), np.asarray(cv2.merge([down] * 3), np.uint8)))
        return bank

    # ------------------------------------------------------------------ geometry
    def _place_facade(self) -> NDArray[np.float64]:
        """Image corners (bottom-left, bottom-right, top-right, top-left) of the facade rectangle."""
        s, rng = self.spec, self.rng
        w, h = s.width_px, s.height_px
        bottom_w = float(rng.uniform(0.45, 0.72)) * w
        aspect = self.bld.height_m / self.bld.width_m
        y_bottom = float(rng.uniform(0.86, 0.95)) * h
        y_top = float(rng.uniform(0.05, 0.14)) * h
        top_w = bottom_w * float(rng.uniform(0.76, 0.93))
        cx = w / 2 + float(rng.uniform(-0.12, 0.12)) * w
        lean = float(rng.uniform(-0.02, 0.02)) * w
        del aspect  # the frame, not the facade's proportions, fixes its image height (a tall tower fills it)
        return np.array(
            [
                [cx - bottom_w / 2, y_bottom],
                [cx + bottom_w / 2, y_bottom],
                [cx + top_w / 2 + lean, y_top],
                [cx - top_w / 2 + lean, y_top],
            ]
        )

    def to_image(self, along_height: NDArray[np.float64]) -> NDArray[np.float64]:
        pts = np.asarray(along_height, np.float64).reshape(-1, 1, 2)
        return np.asarray(cv2.perspectiveTransform(pts, self.plane_to_image), np.float64).reshape(-1, 2)

    def _local_px_per_m(self, along_m: float, height_m: float) -> float:
        a = self.to_image(np.array([[along_m, height_m - 0.5], [along_m, height_m + 0.5]]))
        return float(np.hypot(*(a[0] - a[1])))

    def _facade_px_per_m(self) -> float:
        return self._local_px_per_m(self.bld.width_m / 2, self.bld.height_m / 2)

    # ------------------------------------------------------------------ static picture
    def _draw_backdrop(self) -> NDArray[np.uint8]:
        s, rng = self.spec, self.rng
        h, w = s.height_px, s.width_px
        ramp = np.linspace(0.0, 1.0, h)[:, None, None]
        if s.night_ir:
            top, bottom = np.array([8, 8, 8]), np.array([22, 22, 22])
        elif s.rain_streaks or s.snow_flakes:
            top, bottom = np.array([150, 150, 148]), np.array([190, 190, 188])
        else:
            top, bottom = np.array([225, 190, 150]), np.array([240, 225, 210])
        img = np.broadcast_to(top * (1 - ramp) + bottom * ramp, (h, w, 3)).astype(np.uint8).copy()
        # distant towers
        x = 0
        while x < w:
            bw = int(rng.integers(60, 180))
            top_y = int(rng.uniform(0.3, 0.7) * h)
            shade = int(rng.integers(20, 40)) if s.night_ir else int(rng.integers(110, 160))
            cv2.rectangle(img, (x, top_y), (x + bw, h), (shade, shade + 3, shade + 6), -1)
            x += bw + int(rng.integers(0, 60))
        y_ground = int(max(self.corners_px[0, 1], self.corners_px[1, 1])) - 2
        ground = 25 if s.night_ir else 95
        cv2.rectangle(img, (0, y_ground), (w, h), (ground, ground, ground + 4), -1)
        cv2.line(img, (0, y_ground + 12), (w, y_ground + 12), (ground + 40,) * 3, 2)
        return img

    def compose_static(self, texture: NDArray[np.uint8]) -> NDArray[np.uint8]:
        """The backdrop with the facade texture laid in by the homography (and the IR lamp at night)."""
        s = self.spec
        bld = self.bld
        scale = np.array([[bld.tex_scale, 0, 0], [0, -bld.tex_scale, bld.height_m * bld.tex_scale], [0, 0, 1]])
        tex_to_image = self.plane_to_image @ np.linalg.inv(scale)
        size = (s.width_px, s.height_px)
        warped = cv2.warpPerspective(texture, tex_to_image, size, flags=cv2.INTER_AREA)
        cover = cv2.warpPerspective(np.full(texture.shape[:2], 255, np.uint8), tex_to_image, size)
        out = self.backdrop.copy()
        m = cover > 127
        out[m] = warped[m]
        if s.night_ir:
            out = self._ir_light(out)
        return out

    def _ir_light(self, img: NDArray[np.uint8]) -> NDArray[np.uint8]:
        """The IR lamp: grey, strongest near the frame's centre-bottom, fading to the corners."""
        s = self.spec
        yy, xx = np.mgrid[0 : s.height_px, 0 : s.width_px].astype(np.float32)
        r = np.hypot((xx - 0.5 * s.width_px) / s.width_px, (yy - 0.62 * s.height_px) / s.height_px)
        lamp = 0.35 + 0.85 * np.exp(-((r / 0.45) ** 2))
        grey = cv2.cvtColor(img, cv2.COLOR_BGR2GRAY).astype(np.float32)
        sky = grey < 30
        lit = np.where(sky, grey, grey * lamp)
        return np.asarray(cv2.cvtColor(np.clip(lit, 0, 255).astype(np.uint8), cv2.COLOR_GRAY2BGR), np.uint8)

    # ------------------------------------------------------------------ schedule
    def _schedule_throws(self) -> None:
        s, rng, bld = self.spec, self.rng, self.bld
        if s.throws <= 0:
            return
        slot = s.duration_s / s.throws
        for k in range(s.throws):
            floor = int(rng.integers(max(1, s.min_throw_floor), bld.floors + 1))
            bay = int(rng.integers(0, bld.bays))
            kind = str(rng.choice(["ball", "bottle", "bag", "box"], p=[0.3, 0.3, 0.2, 0.2]))
            size = {"ball": (0.08, 0.3), "bottle": (0.22, 0.35), "bag": (0.25, 0.5), "box": (0.15, 0.45)}[kind]
            vt = {"ball": (30, 60), "bottle": (25, 45), "bag": (16, 28), "box": (18, 40)}[kind]
            along = (bay + 0.5) * bld.bay_m + float(rng.uniform(-0.7, 0.7))
            height = (floor - 1) * bld.storey_m + float(rng.uniform(0.9, 1.4))
            v0 = np.array(
                [
                    float(np.clip(rng.normal(0, 1.0), -2.5, 2.5)),
                    float(rng.uniform(-1.0, 2.5)),
                    float(rng.uniform(0.5, 3.0)),
                ]
            )
            path = _fall_path(np.array([along, height, 0.4]), v0, float(rng.uniform(*vt)))
            fall_s = float(path[-1, 0])
            lo = k * slot + 1.0
            hi = max(lo, (k + 1) * slot - fall_s - 1.0)
            release = float(rng.uniform(lo, hi))
            dark = rng.random()
            grey = (
                int(rng.integers(15, 70))
                if dark < 0.4
                else int(rng.integers(185, 250))
                if dark < 0.8
                else int(rng.integers(95, 150))
            )
            self.throws.append(
                ReleasedObject(
                    throw_id=k,
                    kind=kind,
                    floor=floor,
                    along_m=along,
                    height_m=height,
                    release_t_s=release,
                    landing_t_s=release + fall_s,
                    size_m=float(rng.uniform(*size)),
                    terminal_speed_m_s=float(vt[0]),
                    grey=grey,
                    tumble_hz=float(rng.uniform(1.0, 4.5)) if kind != "ball" else 0.0,
                    path=path,
                )
            )

    def _poisson(self, kind: str, per_min: float, life: tuple[float, float]) -> None:
        rng = self.rng
        if per_min <= 0:
            return
        t = float(rng.exponential(60.0 / per_min))
        while t < self.spec.duration_s:
            span = float(rng.uniform(*life))
            self.actors.append(Actor(kind, t, t + span, self._actor_params(kind, span)))
            t += float(rng.exponential(60.0 / per_min))

    def _schedule_distractors(self) -> None:
        s = self.spec
        self._poisson("bird", s.birds_per_min, (1.5, 5.0))
        self._poisson("leaf", s.leaves_per_min, (4.0, 12.0))
        self._poisson("insect", s.insects_per_min, (0.8, 3.0))
        self._poisson("light", s.light_switches_per_min, (0.0, 0.0))
        self._poisson("person", s.people_per_min, (8.0, 25.0))
        self._poisson("car", s.cars_per_min, (3.0, 8.0))
        for _ in range(s.laundry):
            self.actors.append(Actor("laundry", 0.0, s.duration_s, self._actor_params("laundry", s.duration_s)))
        self.actors.sort(key=lambda a: a.t0)

    def _actor_params(self, kind: str, span: float) -> dict[str, Any]:
        rng, bld, s = self.rng, self.bld, self.spec
        if kind == "bird":
            style = "level" if rng.random() > s.swoop_share else str(rng.choice(["swoop", "ledge_drop", "glide"]))
            direction = 1.0 if rng.random() < 0.5 else -1.0
            speed = float(rng.uniform(5.0, 11.0))
            h0 = (
                float(rng.uniform(0.5, 1.0)) * bld.height_m
                if style != "ledge_drop"
                else (int(rng.integers(3, bld.floors)) * bld.storey_m + 0.1)
            )
            a0 = -3.0 if direction > 0 else bld.width_m + 3.0
            if style == "ledge_drop":
                a0 = float(rng.uniform(0.1, 0.9)) * bld.width_m
            return {
                "style": style,
                "dir": direction,
                "speed": speed,
                "a0": a0,
                "h0": h0,
                "dive_m": float(rng.uniform(2.0, 6.0)),
                "dive_s": float(rng.uniform(0.5, 1.2)),
                "dive_at": float(rng.uniform(0.2, 0.6)) * span,
                "span_m": float(rng.uniform(0.3, 0.7)),
                "beat_hz": float(rng.uniform(3.0, 9.0)),
                "grey": int(rng.integers(25, 90)) if not s.night_ir else int(rng.integers(120, 220)),
            }
        if kind == "leaf":
            return {
                "a0": float(rng.uniform(0, bld.width_m)),
                "h0": float(rng.uniform(0.3, 1.0)) * bld.height_m,
                "vt": float(rng.uniform(0.6, 2.2)),
                "flutter_hz": float(rng.uniform(0.5, 1.5)),
                "amp_m": float(rng.uniform(0.3, 1.4)),
                "drift": float(rng.uniform(-1.2, 1.2)),
                "size_m": float(rng.uniform(0.08, 0.25)),
                "grey": int(rng.choice([50, 90, 230])),
            }
        if kind == "insect":
            return {
                "xy": np.array([rng.uniform(0, s.width_px), rng.uniform(0, s.height_px)]),
                "v": rng.normal(0, 60, 2),
                "r": float(rng.uniform(3, 10)),
                "grey": int(rng.choice([35, 210])),
            }
        if kind == "light":
            return {"floor": int(rng.integers(0, bld.floors)), "bay": int(rng.integers(0, bld.bays))}
        if kind in ("person", "car"):
            y_ground = float(max(self.corners_px[0, 1], self.corners_px[1, 1]))
            speed = float(rng.uniform(40, 90) if kind == "person" else rng.uniform(150, 400))
            direction = 1.0 if rng.random() < 0.5 else -1.0
            return {
                "x0": -60.0 if direction > 0 else s.width_px + 60.0,
                "y": y_ground + float(rng.uniform(6, 30)),
                "v": speed * direction,
                "bgr": tuple(int(c) for c in rng.integers(30, 220, 3)),
            }
        if kind == "laundry":
            fl, b = int(rng.integers(1, bld.floors)), int(rng.integers(0, bld.bays))
            a0, h0, a1, _ = bld.window_rect_m(fl, b)
            return {
                "a": (a0 + a1) / 2,
                "h": h0 - 0.2,
                "w_m": float(rng.uniform(0.4, 0.9)),
                "len_m": float(rng.uniform(0.6, 1.2)),
                "hz": float(rng.uniform(0.4, 1.2)),
                "bgr": tuple(int(c) for c in rng.integers(40, 240, 3)),
            }
        return {}

    # ------------------------------------------------------------------ frames
    def frame_times(self) -> NDArray[np.float64]:
        """Presentation times of the frames the camera sends (jittered and with drops when asked)."""
        s = self.spec
        rng = np.random.default_rng(np.random.SeedSequence([s.seed, 0x71AE]))
        n = round(s.duration_s * s.fps)
        steps = s.period_s * (1 + s.frame_jitter * rng.uniform(-1, 1, n))
        t = np.concatenate([[0.0], np.cumsum(steps[:-1])])
        keep = rng.random(n) >= s.dropped_share
        keep[0] = True
        return np.asarray(t[keep & (t < s.duration_s)], np.float64)

    def frames(self) -> Iterator[tuple[float, NDArray[np.uint8]]]:
        """(pts_s, BGR frame) for every frame the camera sends."""
        s = self.spec
        rng = np.random.default_rng(np.random.SeedSequence([s.seed, 0xF2A3E]))
        state = _FrameState(self, rng)
        for t in self.frame_times():
            if s.interlaced:
                first = state.render(float(t))
                second = state.render(float(t) + 0.5 * s.period_s)
                img = first.copy()
                img[1::2] = second[1::2]
            else:
                img = state.render(float(t))
            yield float(t), img

    # ------------------------------------------------------------------ outputs
    def calibration(self) -> dict[str, Any]:
        """The facade's four corners at the roof line as an operator clicks them (about a pixel off)."""
        bld = self.bld
        roof = bld.height_m - 1.0  # the parapet's top is not a floor: corners are clicked at the roof slab
        corners_m = np.array([[0.0, 0.0], [bld.width_m, 0.0], [bld.width_m, roof], [0.0, roof]])
        clicked = self.to_image(corners_m) + self._click_noise
        units = max(1, bld.bays // 2)
        per = bld.width_m / units
        return {
            "image_points_px": [[round(float(x), 1), round(float(y), 1)] for x, y in clicked],
            "facade_points_m": [[round(float(a), 3), round(float(h), 3)] for a, h in corners_m],
            "image_size_px": [self.spec.width_px, self.spec.height_px],
            "floor_height_m": round(bld.storey_m, 3),
            "ground_floor_level": 1,
            "top_floor": bld.floors,
            "columns": [
                {"name": f"U{u + 1}", "from_m": round(u * per, 3), "to_m": round((u + 1) * per, 3)}
                for u in range(units)
            ],
        }

    def sky_mask(self) -> list[list[float]]:
        """A polygon (relative coordinates) over the sky above the roofline, with a margin of a storey."""
        s = self.spec
        tl, tr = self.corners_px[3], self.corners_px[2]
        margin = 1.2 * self._local_px_per_m(self.bld.width_m / 2, self.bld.height_m) * self.bld.storey_m
        y = max(0.0, min(tl[1], tr[1]) - margin) / s.height_px
        return [[0.0, 0.0], [1.0, 0.0], [1.0, y], [0.0, y]]

    def detector_overrides(self) -> dict[str, Any]:
        """What an operator writes for this camera: the facade calibration and a sky mask."""
        return {"facade": self.calibration(), "foreground": {"sky_masks": [self.sky_mask()]}}

    def truth(self) -> dict[str, Any]:
        return {
            "generator": "facade_weather",
            "spec": asdict(self.spec),
            "throws": [t.as_truth() for t in self.throws],
            "distractors": [
                {
                    "kind": a.kind + (f":{a.p['style']}" if a.kind == "bird" else ""),
                    "t0_s": round(a.t0, 3),
                    "t1_s": round(a.t1, 3),
                }
                for a in self.actors
            ],
        }

    def write_video(
        self,
        path: str | Path,
        *,
        codec: Literal["h264", "hevc"] = "h264",
        bitrate_kbps: int | None = None,
        crf: int = 23,
    ) -> Path:
        """Encode with PyAV (libx264 or libx265), each frame at its own pts (variable timing kept)."""
        out = Path(path)
        out.parent.mkdir(parents=True, exist_ok=True)
        tb = Fraction(1, 90000)
        with av.open(str(out), "w") as container:
            stream = container.add_stream(
                "libx264" if codec == "h264" else "libx265", rate=Fraction(self.spec.fps).limit_denominator(1001)
            )
            stream.width, stream.height = self.spec.width_px, self.spec.height_px
            stream.pix_fmt = "yuv420p"
            stream.time_base = tb
            opts: dict[str, object] = {"preset": "veryfast", "g": str(round(2 * self.spec.fps)), "bf": "0"}
            if bitrate_kbps:
                stream.bit_rate = bitrate_kbps * 1000
            else:
                opts["crf"] = str(crf)
            if codec == "hevc":
                opts["x265-params"] = "log-level=error"
            stream.options = opts
            for t, img in self.frames():
                frame = av.VideoFrame.from_ndarray(img, format="bgr24")
                frame.pts = round(t / tb)
                frame.time_base = tb
                for packet in stream.encode(frame):
                    container.mux(packet)
            for packet in stream.encode():
                container.mux(packet)
        (out.with_suffix(".json")).write_text(json.dumps(self.truth(), indent=1), encoding="utf-8")
        return out


class _FrameState:
    """Per-render state: window lights, flakes, camera wobble, exposure; `render(t)` draws one frame."""

    def __init__(self, scene: FacadeWeatherScene, rng: np.random.Generator) -> None:
        self.sc = scene
        self.rng = rng
        self.static = scene.static.copy()
        self.lit = scene.bld.lit.copy()
        self.texture = scene.bld.texture.copy()
        self.next_actor = 0
        self.actors = [Actor(a.kind, a.t0, a.t1, dict(a.p)) for a in scene.actors]
        self.active: list[Actor] = []
        s = scene.spec
        self.flakes = self._spawn_flakes(s.snow_flakes, fresh=True) if s.snow_flakes else np.zeros((0, 7))
        self.wobble = np.zeros(2)
        self.last_t = 0.0
        self.rain_angle = float(rng.uniform(-22, 22))
        self._static_key: NDArray[np.uint8] | None = None
        self._static_cache = np.zeros((1, 1, 3), np.float32)
        self.pump_phase = float(rng.uniform(0, 2 * math.pi))
        self.pump_period = float(rng.uniform(2.5, 6.0))

    # flakes: x px, y px, depth m, size m, fall m/s, drift m/s, sway phase
    def _spawn_flakes(self, n: int, fresh: bool) -> NDArray[np.float64]:
        s, rng = self.sc.spec, self.rng
        depth = 2.0 + 58.0 * rng.random(n) ** (1 / 3)  # uniform in the view's volume
        flakes = np.stack(
            [
                rng.uniform(-20, s.width_px + 20, n),
                rng.uniform(0, s.height_px, n) if fresh else rng.uniform(-40, -5, n),
                depth,
                rng.uniform(0.006, 0.03, n),
                rng.uniform(0.6, 1.6, n),
                np.full(n, rng.uniform(-0.8, 0.8)),
                rng.uniform(0, 2 * math.pi, n),
            ],
            1,
        )
        return flakes

    def render(self, t: float) -> NDArray[np.uint8]:
        sc, s = self.sc, self.sc.spec
        dt = max(1e-3, t - self.last_t)
        self.last_t = t
        actors = self.actors
        while self.next_actor < len(actors) and actors[self.next_actor].t0 <= t:
            a = actors[self.next_actor]
            self.next_actor += 1
            if a.kind == "light":
                fl, b = a.p["floor"], a.p["bay"]
                self.lit[fl, b] = not self.lit[fl, b]
                sc.bld.draw_window(self.texture, fl, b, self.lit)
                self.static = sc.compose_static(self.texture)
            else:
                self.active.append(a)
        self.active = [a for a in self.active if a.t1 > t]
        img = self._static_f().copy()
        for a in self.active:
            _draw_actor(img, sc, a, t, dt, self.rng)
        for obj in sc.throws:
            if obj.release_t_s - 0.5 <= t <= obj.landing_t_s + 2.0:
                _draw_object(img, sc, obj, t)
        if s.snow_flakes:
            self._snow(img, t, dt)
        gain = 1.0 + s.exposure_pumping * math.sin(2 * math.pi * t / self.pump_period + self.pump_phase)
        out = np.asarray(cv2.convertScaleAbs(img, alpha=gain), np.uint8)
        if s.rain_streaks:
            out = np.asarray(cv2.add(out, cv2.merge([self._rain_layer()] * 3)), np.uint8)
        if s.night_ir:
            out = np.asarray(cv2.cvtColor(cv2.cvtColor(out, cv2.COLOR_BGR2GRAY), cv2.COLOR_GRAY2BGR), np.uint8)
        brighter, darker = self.sc.noise_bank[int(self.rng.integers(0, len(self.sc.noise_bank)))]
        cv2.add(out, brighter, dst=out)
        cv2.subtract(out, darker, dst=out)
        out = self._wobble(out)
        if s.osd:
            _draw_osd(out, t)
        return out

    def _static_f(self) -> NDArray[np.float32]:
        """The static picture as float (rain's veil included), recomputed only when a light switches."""
        if self._static_key is not self.static:
            f = self.static.astype(np.float32)
            if self.sc.spec.rain_streaks:
                f = f * (1 - _RAIN_VEIL) + _RAIN_VEIL * 175.0
            self._static_cache = np.asarray(f, np.float32)
            self._static_key = self.static
        return self._static_cache

    def _wobble(self, img: NDArray[np.uint8]) -> NDArray[np.uint8]:
        s = self.sc.spec
        if s.shake_px <= 0:
            return img
        self.wobble = 0.9 * self.wobble + self.rng.normal(0, s.shake_px * math.sqrt(1 - 0.81), 2)
        m = np.array([[1, 0, self.wobble[0]], [0, 1, self.wobble[1]]], np.float32)
        return np.asarray(cv2.warpAffine(img, m, (s.width_px, s.height_px), borderMode=cv2.BORDER_REFLECT), np.uint8)

    def _rain_layer(self) -> NDArray[np.uint8]:
        """This frame's streaks (grey levels added), one channel."""
        s, rng = self.sc.spec, self.rng
        n = s.rain_streaks
        near = rng.random(n) ** 2  # most drops are far: short, thin, faint
        length = (6 + 46 * near) * s.height_px / 720
        ang = np.radians(self.rain_angle + rng.normal(0, 2.5, n))
        x0 = rng.uniform(-30, s.width_px + 30, n)
        y0 = rng.uniform(-40, s.height_px, n)
        x1, y1 = x0 + length * np.sin(ang), y0 + length * np.cos(ang)
        layer = np.zeros((s.height_px, s.width_px), np.uint8)
        shade = np.round(12 + 30 * (1 - near)).astype(int)
        for k in range(n):
            cv2.line(
                layer,
                (round(x0[k] * 4), round(y0[k] * 4)),
                (round(x1[k] * 4), round(y1[k] * 4)),
                int(shade[k]),
                1 if near[k] < 0.6 else 2,
                cv2.LINE_AA,
                2,
            )
        return layer

    def _snow(self, img: NDArray[np.float32], t: float, dt: float) -> None:
        s = self.sc.spec
        fl = self.flakes
        f = self.sc.focal_px
        px_per_m = f / fl[:, 2]
        sway = 0.4 * np.sin(fl[:, 6] + 2.1 * t)
        fl[:, 0] += (fl[:, 5] + sway) * px_per_m * dt
        fl[:, 1] += fl[:, 4] * px_per_m * dt
        gone = (fl[:, 1] > s.height_px + 30) | (fl[:, 0] < -60) | (fl[:, 0] > s.width_px + 60)
        if gone.any():
            fl[gone] = self._spawn_flakes(int(gone.sum()), fresh=False)
            fl[gone, 0] = self.rng.uniform(-20, s.width_px + 20, int(gone.sum()))
        size = fl[:, 3] * px_per_m
        defocus = np.maximum(0.0, 7.0 - fl[:, 2]) * 1.6  # near flakes are out of focus
        radius = np.maximum(0.5, np.hypot(size / 2, defocus))
        alpha = np.clip((size / (2 * radius)) ** 2, 0.04, 1.0) * np.clip(size / 0.8, 0.2, 1.0)
        streak = fl[:, 4] * px_per_m * _SHUTTER_S
        for x, y, r, al, st in zip(fl[:, 0], fl[:, 1], radius, alpha, streak, strict=True):
            if r < 0.55 and al < 0.25:
                continue
            x0, y0 = int(x), int(y)
            if not (0 <= x0 < s.width_px and 0 <= y0 < s.height_px):
                continue
            ri = max(1, round(r))
            ys, ye = max(0, y0 - ri), min(s.height_px, y0 + ri + round(st) + 1)
            xs, xe = max(0, x0 - ri), min(s.width_px, x0 + ri + 1)
            patch = img[ys:ye, xs:xe]
            patch += (al * (245.0 - patch)) * 0.9


def _fall_path(p0: NDArray[np.float64], v0: NDArray[np.float64], terminal_m_s: float) -> NDArray[np.float64]:
    """(t, along, height, out) rows of a fall with quadratic drag until the ground (midpoint method)."""
    k = GRAVITY / terminal_m_s**2
    dt = 1.0 / _INTEGRATION_HZ
    rows = [(0.0, *p0)]
    p, v, t = p0.astype(np.float64).copy(), v0.astype(np.float64).copy(), 0.0

    def acc(vel: NDArray[np.float64]) -> NDArray[np.float64]:
        return np.array([0.0, -GRAVITY, 0.0]) - k * float(np.linalg.norm(vel)) * vel

    while p[1] > 0.0 and t < 15.0:
        v_mid = v + 0.5 * dt * acc(v)
        p = p + dt * v_mid
        v = v + dt * acc(v_mid)
        t += dt
        rows.append((t, *p))
    return np.array(rows)


def _draw_object(img: NDArray[np.float32], sc: FacadeWeatherScene, obj: ReleasedObject, t: float) -> None:
    """The thrown object (before release: resting on the sill), blurred over the shutter time."""
    rel = t - obj.release_t_s
    path = obj.path
    weight = 1.0 / _SUBEXPOSURES
    for j in range(_SUBEXPOSURES):
        tt = min(max(0.0, rel + (j / (_SUBEXPOSURES - 1) - 0.5) * _SHUTTER_S), float(path[-1, 0]))
        along = float(np.interp(tt, path[:, 0], path[:, 1]))
        height = float(np.interp(tt, path[:, 0], path[:, 2]))
        out_m = float(np.interp(tt, path[:, 0], path[:, 3]))
        xy = sc.to_image(np.array([[along, height]]))[0]
        px = sc._local_px_per_m(along, height) * (1 + out_m / sc.distance_m)
        long_px = obj.size_m * px
        short_px = long_px * ({"ball": 1.0, "bottle": 0.3, "bag": 0.7, "box": 0.8}[obj.kind])
        angle = 360.0 * obj.tumble_hz * max(0.0, tt)
        grey = obj.grey
        if sc.spec.night_ir:
            grey = min(255, grey + 60)
        _soft_ellipse(
            img,
            xy,
            long_px,
            short_px,
            angle,
            (grey, grey, min(255, grey + 10)),
            weight * _SUBEXPOSURES if j == 0 and rel < 0 else weight,
        )
        if rel < 0:
            break


def _soft_ellipse(
    img: NDArray[np.float32],
    xy: NDArray[np.float64],
    long_px: float,
    short_px: float,
    angle_deg: float,
    bgr: tuple[int, int, int],
    weight: float,
) -> None:
    """Blend an ellipse into a float image; under a pixel, its colour is spread by its coverage."""
    h, w = img.shape[:2]
    x, y = float(xy[0]), float(xy[1])
    if not (-10 <= x < w + 10 and -10 <= y < h + 10):
        return
    a, b = max(0.5, long_px / 2), max(0.5, short_px / 2)
    cover = min(1.0, (long_px * short_px) / 1.0) if long_px * short_px < 1.0 else 1.0
    r = math.ceil(max(a, b)) + 2
    x0, y0 = int(x) - r, int(y) - r
    xs, ys = max(0, x0), max(0, y0)
    xe, ye = min(w, int(x) + r + 1), min(h, int(y) + r + 1)
    if xe <= xs or ye <= ys:
        return
    mask = np.zeros((ye - ys, xe - xs), np.float32)
    centre = (round((x - xs) * 4), round((y - ys) * 4))
    cv2.ellipse(mask, centre, (max(1, round(a * 4)), max(1, round(b * 4))), angle_deg, 0, 360, 1.0, -1, cv2.LINE_AA, 2)
    mask *= weight * cover
    patch = img[ys:ye, xs:xe]
    patch += mask[:, :, None] * (np.array(bgr, np.float32) - patch)


def _draw_actor(
    img: NDArray[np.float32], sc: FacadeWeatherScene, a: Actor, t: float, dt: float, rng: np.random.Generator
) -> None:
    p = a.p
    rel = t - a.t0
    if a.kind == "bird":
        along, height = _bird_position(p, rel)
        xy = sc.to_image(np.array([[along, height]]))[0]
        px = sc._local_px_per_m(min(max(along, 0.0), sc.bld.width_m), min(max(height, 0.5), sc.bld.height_m))
        beat = math.sin(2 * math.pi * p["beat_hz"] * rel)
        span = p["span_m"] * px * (0.55 + 0.45 * abs(beat))
        g = p["grey"]
        _soft_ellipse(img, xy, max(1.0, 0.28 * px), max(0.8, 0.12 * px), 0.0, (g, g, g), 1.0)
        tip = np.array([span / 2, -0.35 * span * beat])
        for sgn in (-1.0, 1.0):
            end = xy + np.array([sgn * tip[0], tip[1]])
            cv2.line(
                img,
                (round(xy[0] * 4), round(xy[1] * 4)),
                (round(end[0] * 4), round(end[1] * 4)),
                (g, g, g),
                max(1, round(0.06 * px)),
                cv2.LINE_AA,
                2,
            )
    elif a.kind == "leaf":
        along = p["a0"] + p["drift"] * rel + p["amp_m"] * math.sin(2 * math.pi * p["flutter_hz"] * rel)
        height = p["h0"] - p["vt"] * rel
        if height > 0:
            xy = sc.to_image(np.array([[along, height]]))[0]
            px = sc._local_px_per_m(min(max(along, 0), sc.bld.width_m), max(height, 0.5))
            g = p["grey"]
            _soft_ellipse(
                img, xy, p["size_m"] * px, 0.4 * p["size_m"] * px, 90 * math.sin(3 * rel), (g // 2, g, g // 2), 1.0
            )
    elif a.kind == "insect":
        p["v"] = 0.85 * p["v"] + rng.normal(0, 70, 2)
        p["xy"] = p["xy"] + p["v"] * dt
        g = p["grey"]
        _soft_ellipse(img, p["xy"], 2 * p["r"], 1.4 * p["r"], 0.0, (g, g, g), 0.7)
    elif a.kind in ("person", "car"):
        x = p["x0"] + p["v"] * rel
        y = p["y"]
        if a.kind == "person":
            cv2.rectangle(img, (int(x - 3), int(y - 16)), (int(x + 3), int(y)), p["bgr"], -1)
        else:
            cv2.rectangle(img, (int(x - 22), int(y - 10)), (int(x + 22), int(y)), p["bgr"], -1)
            if sc.spec.night_ir:
                _headlight_sweep(img, sc, x, p["v"] > 0)
    elif a.kind == "laundry":
        swing = math.sin(2 * math.pi * p["hz"] * rel)
        top = sc.to_image(np.array([[p["a"] - p["w_m"] / 2, p["h"]], [p["a"] + p["w_m"] / 2, p["h"]]]))
        bottom = sc.to_image(
            np.array(
                [
                    [p["a"] + p["w_m"] / 2 + 0.3 * swing, p["h"] - p["len_m"]],
                    [p["a"] - p["w_m"] / 2 + 0.3 * swing, p["h"] - p["len_m"]],
                ]
            )
        )
        quad = np.concatenate([top, bottom]).astype(np.int32)
        cv2.fillConvexPoly(img, quad, p["bgr"], cv2.LINE_AA)


def _bird_position(p: dict[str, Any], rel: float) -> tuple[float, float]:
    """(along m, height m) of a bird `rel` seconds into its flight, by its style."""
    along = p["a0"] + p["dir"] * p["speed"] * rel
    height = p["h0"] + 0.3 * math.sin(1.7 * rel)
    style = p["style"]
    if style == "swoop":
        u = min(1.0, max(0.0, (rel - p["dive_at"]) / p["dive_s"]))
        height -= p["dive_m"] * (1 - math.cos(math.pi * u)) / 2
    elif style == "glide":
        height -= 2.5 * rel
    elif style == "ledge_drop":
        fall = min(rel, 0.45)
        height = p["h0"] - 0.5 * 0.8 * GRAVITY * fall * fall - 1.5 * max(0.0, rel - 0.45)
        along = p["a0"] + p["dir"] * p["speed"] * max(0.0, rel - 0.3)
    return along, height


def _headlight_sweep(img: NDArray[np.float32], sc: FacadeWeatherScene, car_x: float, rightwards: bool) -> None:
    """A car's headlights washing over the lower floors ahead of it (night)."""
    s = sc.spec
    cx = car_x + (260.0 if rightwards else -260.0)
    cy = float(sc.corners_px[0, 1]) - 0.18 * s.height_px
    x0, x1 = max(0, int(cx - 220)), min(s.width_px, int(cx + 220))
    y0, y1 = max(0, int(cy - 140)), min(s.height_px, int(cy + 140))
    if x1 <= x0 or y1 <= y0:
        return
    xs = (np.arange(x0, x1, dtype=np.float32) - cx) / 160.0
    ys = (np.arange(y0, y1, dtype=np.float32) - cy) / 90.0
    glow = 70.0 * np.exp(-(ys[:, None] ** 2) - xs[None, :] ** 2)
    img[y0:y1, x0:x1] += glow[:, :, None]


def _draw_osd(img: NDArray[np.uint8], t: float) -> None:
    """The camera's overlay: a ticking date-time top left and the channel name bottom right."""
    h, w = img.shape[:2]
    scale = h / 720 * 0.9
    secs = 9 * 3600 + 41 * 60 + 7 + int(t)
    stamp = f"2024-07-21 Sun {secs // 3600:02d}:{secs // 60 % 60:02d}:{secs % 60:02d}"
    org = (round(0.02 * w), round(0.06 * h))
    for colour, thick in (((0, 0, 0), 4), ((255, 255, 255), 2)):
        cv2.putText(
            img, stamp, org, cv2.FONT_HERSHEY_SIMPLEX, scale, colour, max(1, round(thick * h / 720)), cv2.LINE_AA
        )
    name = "CAM-017 JINSHUI RD"
    (tw, _), _ = cv2.getTextSize(name, cv2.FONT_HERSHEY_SIMPLEX, scale, 2)
    org2 = (w - tw - round(0.02 * w), round(0.96 * h))
    for colour, thick in (((0, 0, 0), 4), ((255, 255, 255), 2)):
        cv2.putText(
            img, name, org2, cv2.FONT_HERSHEY_SIMPLEX, scale, colour, max(1, round(thick * h / 720)), cv2.LINE_AA
        )


def cached_video(spec: WeatherSceneSpec, cache_dir: Path | None = None, crf: int = 18) -> Path:
    """The scene encoded once (H.264, nearly lossless) under the cache, keyed by the spec and generator
    version, so a long distractor run costs a decode, not a render, after its first time."""
    root = cache_dir or Path(os.environ.get("GRIDWATCH_CACHE", Path.home() / ".cache" / "gridwatch"))
    key = hashlib.sha256(f"{GENERATOR_VERSION}|{crf}|{sorted(asdict(spec).items())}".encode()).hexdigest()[:20]
    path = root / "scenarios" / "facade-weather" / f"{key}.mkv"
    if path.exists() and path.with_suffix(".json").exists():
        return path
    tmp = path.with_name(f"{key}.part.mkv")
    FacadeWeatherScene(spec).write_video(tmp, crf=crf)
    tmp.with_suffix(".json").replace(path.with_suffix(".json"))
    tmp.replace(path)
    return path
