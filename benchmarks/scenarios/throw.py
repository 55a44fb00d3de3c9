"""Throw scenarios with ground truth: a facade camera, objects released from known floors, distractors.

A pinhole camera stands in front of a residential facade (floors x columns of windows, neighbours on
either side, sky above, a street below) and looks up at it. Objects are released from known windows
with random sideways, outward and vertical speed, size and drag, and fall physics-true (integrated at
250 Hz, projected through the camera, motion-blurred over the exposure). Distractors: birds (level,
wandering, gliding), insects near the lens, leaves and paper at terminal speed, rain (light streaks,
heavy bursts), window lights switching, curtains drawn, people and cars at street level, flashes and
auto-exposure steps, sensor noise, wind jitter with gusts, and (via `write_scenario`) H.264 compression.

Everything is deterministic from the spec's seed. Frames can be rendered at a reduced size: with the
camera's focal length scaled, a 960x540 render matches what the detector sees after it shrinks a 1080p
frame by 2 (its default), so tests save the decode and the shrink without changing what is tested.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterator, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import cv2
import numpy as np
from numpy.typing import NDArray

from benchmarks.scenarios.video import write_h264

G_M_S2 = 9.80665
_SUBSTEPS = 10
_EXPOSURE_S = 0.02
_REF_HEIGHT_PX = 1080.0
"""Sizes given 'at 1080p' (jitter, noise) are scaled by height_px / this."""


@dataclass(frozen=True)
class ThrowScenarioSpec:
    """What to generate. Rates are per minute of video unless named otherwise; 0 turns a distractor off."""

    seed: int
    duration_s: float = 60.0
    width_px: int = 960
    height_px: int = 540
    fps: float = 25.0
    floors: int = 18
    columns: int = 8
    column_width_m: float = 7.0
    floor_height_m: float = 3.0
    camera_distance_m: float = 75.0
    throws: int = 8
    min_throw_floor: int = 1
    object_size_m: tuple[float, float] = (0.12, 0.5)
    birds_per_min: float = 2.0
    insects_per_min: float = 1.0
    leaves_per_min: float = 2.0
    people_per_min: float = 6.0
    cars_per_min: float = 3.0
    light_switches_per_min: float = 6.0
    curtains_per_min: float = 2.0
    rain_share: float = 0.15
    """Share of the video with light rain."""
    heavy_rain_bursts_per_hour: float = 6.0
    flashes_per_hour: float = 6.0
    exposure_steps_per_hour: float = 20.0
    gusts_per_hour: float = 12.0
    jitter_px: float = 0.5
    """Standard deviation of wind jitter, px at 1080p."""
    noise_sigma: float = 2.5
    """Sensor noise, grey levels at 1080p (averaging a 2x shrink halves it)."""
    steady_rain_streaks: int = 0
    """Rain streaks per frame for the whole video (a shower), on top of `rain_share`; 0 is none."""
    rain_slant: float = 0.15
    """Sideways run of the steady rain per unit of fall (wind)."""
    snow_flakes: int = 0
    """Snowflakes in view at any time for the whole video; 0 is none."""
    night_ir: bool = False
    """Night under the camera's infrared lamp: grey, dim away from the lamp's centre, noisier."""
    headlight_sweeps_per_min: float = 0.0
    """Car headlights sweeping across the lower floors (night scenes)."""

    @property
    def scale(self) -> float:
        return self.height_px / _REF_HEIGHT_PX

    @property
    def n_frames(self) -> int:
        return round(self.duration_s * self.fps)


@dataclass(frozen=True)
class ThrowTruth:
    """One released object: where from, when, how it moved (image px per frame for diagnosis)."""

    throw_id: int
    floor: int
    column: str
    along_m: float
    height_m: float
    release_t_s: float
    landing_t_s: float
    size_m: float
    velocity_m_s: tuple[float, float, float]
    terminal_speed_m_s: float
    grey_level: int
    track_px: list[tuple[float, float, float]] = field(default_factory=list)


@dataclass
class _Mover:
    """A distractor or object alive between t0 and t1 whose draw() is called per frame."""

    kind: str
    t0: float
    t1: float
    params: dict[str, Any]


@dataclass
class _Playback:
    """What carries from frame to frame while the video plays: the movers in time order, the static layer
    and its shifted copies, the wind jitter and the auto-gain."""

    movers: list[_Mover]
    layer: NDArray[np.uint8]
    shifted: dict[tuple[int, int], NDArray[np.uint8]] = field(default_factory=dict)
    active: list[_Mover] = field(default_factory=list)
    nxt: int = 0
    jitter: NDArray[np.float64] = field(default_factory=lambda: np.zeros(2))
    gain_level: float = 1.0
    gain_target: float = 1.0


class Camera:
    """Pinhole camera in front of the facade plane Y=0 (X along, Z up); the camera is at Y = -distance."""

    def __init__(self, spec: ThrowScenarioSpec, facade_w_m: float, facade_h_m: float, rng: np.random.Generator):
        self.w, self.h = spec.width_px, spec.height_px
        d = spec.camera_distance_m
        self.pos = np.array([facade_w_m / 2 + rng.uniform(-4, 4), -d, 1.6])
        top = math.atan2(facade_h_m + 3.0 - 1.6, d)
        bottom = math.atan2(-1.6 - 4.0, d)
        pitch = (top + bottom) / 2
        half = (top - bottom) / 2 + math.radians(1.0)
        self.f = (self.h / 2) / math.tan(half)
        self.fwd = np.array([0.0, math.cos(pitch), math.sin(pitch)])
        self.right = np.array([1.0, 0.0, 0.0])
        self.down = np.cross(self.fwd, self.right)
        self.down = -self.down if self.down[2] > 0 else self.down
        self.cx, self.cy = self.w / 2, self.h / 2
        self.offset = np.zeros(2)
        """Image shift added to projections (the frame's wind jitter while dynamic objects are drawn)."""

    def project(self, pts: NDArray[np.float64]) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
        """(N,3) world points -> (N,2) pixels and (N,) depth in metres."""
        d = np.asarray(pts, np.float64).reshape(-1, 3) - self.pos
        z = d @ self.fwd
        u = self.cx + self.offset[0] + self.f * (d @ self.right) / z
        v = self.cy + self.offset[1] + self.f * (d @ self.down) / z
        return np.stack([u, v], 1), z


class ThrowScene:
    """A generated throw-camera video: iterate `frames()`; `truth()`, `calibration()`, `sky_masks()`."""

    def __init__(self, spec: ThrowScenarioSpec) -> None:
        self.spec = spec
        self.rng = np.random.default_rng(spec.seed)
        rng = self.rng
        self.facade_w_m = spec.columns * spec.column_width_m
        self.facade_h_m = spec.floors * spec.floor_height_m + 1.2
        self.cam = Camera(spec, self.facade_w_m, self.facade_h_m, rng)
        self.wall_bgr = tuple(int(v) for v in rng.integers(150, 200, 3))
        n_win = spec.floors * spec.columns
        self.glass_grey = rng.choice(
            np.array([55, 75, 110, 140, 175]), size=n_win, p=[0.2, 0.25, 0.25, 0.2, 0.1]
        ).astype(np.int32)
        self.lit = rng.random(n_win) < 0.2
        self.curtain = np.zeros(n_win)
        self.neighbours = [
            (-60.0, 0.0, float(rng.uniform(18, 36))),
            (self.facade_w_m, self.facade_w_m + 60.0, float(rng.uniform(18, 36))),
        ]
        self._lit0, self._curtain0 = self.lit.copy(), self.curtain.copy()
        self._layer = self._render_static()
        self._noise_bank = self._make_noise_bank(6)
        self.throws: list[ThrowTruth] = []
        self.movers: list[_Mover] = []
        self._schedule()
        self.calibration_points = self._calibration_points()

    # ------------------------------------------------------------------ geometry helpers
    def window_quad(self, floor_index: int, col: int, frac: tuple[float, float] = (0.0, 1.0)) -> NDArray[np.float64]:
        """Image quad of a window (floor index from 0 at ground), optionally a horizontal slice of it."""
        s = self.spec
        x0 = col * s.column_width_m + (s.column_width_m - 2.4) / 2
        x_a, x_b = x0 + 2.4 * frac[0], x0 + 2.4 * frac[1]
        z0 = floor_index * s.floor_height_m + 0.9
        pts = np.array([[x_a, 0, z0], [x_b, 0, z0], [x_b, 0, z0 + 1.6], [x_a, 0, z0 + 1.6]])
        return self.cam.project(pts)[0]

    def facade_to_image(self, along_height: NDArray[np.float64]) -> NDArray[np.float64]:
        q = np.asarray(along_height, np.float64).reshape(-1, 2)
        return self.cam.project(np.stack([q[:, 0], np.zeros(len(q)), q[:, 1]], 1))[0]

    def _calibration_points(self) -> list[tuple[tuple[float, float], tuple[float, float]]]:
        """What a surveyor would click: facade corners and window corners, with half-pixel clicking error."""
        s = self.spec
        pts_m = [
            (0.0, 0.0),
            (self.facade_w_m, 0.0),
            (self.facade_w_m, s.floors * s.floor_height_m),
            (0.0, s.floors * s.floor_height_m),
            (s.column_width_m, 6 * s.floor_height_m),
            (self.facade_w_m - s.column_width_m, 6 * s.floor_height_m),
            (2 * s.column_width_m, 12 * s.floor_height_m),
            (self.facade_w_m - 2 * s.column_width_m, 12 * s.floor_height_m),
        ]
        img = self.facade_to_image(np.array(pts_m))
        img = img + self.rng.normal(0, 0.5 * s.scale * 2, img.shape)
        return [((float(u), float(v)), m) for (u, v), m in zip(img, pts_m, strict=True)]

    def calibration(self) -> dict[str, Any]:
        """The facade calibration (a `FacadeCalibration` dict) for this camera, in this render's pixels."""
        s = self.spec
        return {
            "image_points_px": [list(p) for p, _ in self.calibration_points],
            "facade_points_m": [list(m) for _, m in self.calibration_points],
            "image_size_px": [s.width_px, s.height_px],
            "floor_height_m": s.floor_height_m,
            "ground_floor_level": 1,
            "top_floor": s.floors,
            "columns": [
                {"name": _column_name(c), "from_m": c * s.column_width_m, "to_m": (c + 1) * s.column_width_m}
                for c in range(s.columns)
            ],
            "geo": {"origin_lat_deg": 31.2304, "origin_lon_deg": 121.4737, "azimuth_deg": 90.0},
        }

    def sky_masks(self) -> list[list[tuple[float, float]]]:
        """One polygon (relative coordinates) over the sky above the roofline, 2 m clear of the roofs."""
        s = self.spec
        xs: list[float] = []
        ys: list[float] = []
        spans = [
            (self.neighbours[0][0], self.neighbours[0][1], self.neighbours[0][2]),
            (0.0, self.facade_w_m, self.facade_h_m),
            (self.neighbours[1][0], self.neighbours[1][1], self.neighbours[1][2]),
        ]
        for a, b, z in spans:
            uv = self.cam.project(np.array([[a, 0.0, z + 2.0], [b, 0.0, z + 2.0]]))[0]
            xs += [float(uv[0, 0]), float(uv[1, 0])]
            ys += [float(uv[0, 1]), float(uv[1, 1])]
        poly = [(0.0, 0.0), (1.0, 0.0), (1.0, max(0.0, ys[-1] / s.height_px))]
        for x, y in reversed(list(zip(xs, ys, strict=True))):
            poly.append((min(1.0, max(0.0, x / s.width_px)), min(1.0, max(0.0, y / s.height_px))))
        poly.append((0.0, max(0.0, ys[0] / s.height_px)))
        return [poly]

    def detector_overrides(self) -> dict[str, Any]:
        """The per-camera `detectors.throw` dict an operator would write for this camera."""
        return {"facade": self.calibration(), "foreground": {"sky_masks": self.sky_masks()}}

    # ------------------------------------------------------------------ static rendering
    def _render_static(self) -> NDArray[np.uint8]:
        s, cam = self.spec, self.cam
        img = np.zeros((s.height_px, s.width_px, 3), np.uint8)
        top = np.array([235, 215, 190], np.float64)
        bottom = np.array([245, 235, 225], np.float64)
        ramp = np.linspace(0, 1, s.height_px)[:, None]
        img[:] = (top * (1 - ramp) + bottom * ramp).astype(np.uint8)[:, None, :]
        sky = img.copy()
        far = cam.project(np.array([[-1e4, 1e5, 1.6], [1e4, 1e5, 1.6]]))[0]
        horizon = int(max(0, min(s.height_px, far[0, 1])))
        img[horizon:] = (95, 100, 105)
        kerb = cam.project(np.array([[-200.0, -3.0, 0.0], [300.0, -3.0, 0.0]]))[0]
        cv2.line(img, _pt(kerb[0]), _pt(kerb[1]), (160, 160, 160), max(1, round(3 * s.scale)), cv2.LINE_AA, 4)
        for a, b, z in self.neighbours:
            quad = cam.project(np.array([[a, 8.0, 0], [b, 8.0, 0], [b, 8.0, z], [a, 8.0, z]]))[0]
            _poly(img, quad, (130, 135, 140))
            for fz in np.arange(1.0, z - 1.5, 3.0):
                for fx in np.arange(a + 1.5, b - 2.0, 4.0):
                    q = cam.project(
                        np.array(
                            [
                                [fx, 8.0, fz],
                                [fx + 1.6, 8.0, fz],
                                [fx + 1.6, 8.0, fz + 1.4],
                                [fx, 8.0, fz + 1.4],
                            ]
                        )
                    )[0]
                    _poly(img, q, (85, 90, 95))
        wall = self.facade_to_image(
            np.array([[0, 0], [self.facade_w_m, 0], [self.facade_w_m, self.facade_h_m], [0, self.facade_h_m]])
        )
        _poly(img, wall, self.wall_bgr)
        dark = tuple(max(0, c - 35) for c in self.wall_bgr)
        for fl in range(1, s.floors + 1):
            line = self.facade_to_image(
                np.array([[0, fl * s.floor_height_m], [self.facade_w_m, fl * s.floor_height_m]])
            )
            cv2.line(img, _pt(line[0]), _pt(line[1]), dark, max(1, round(2 * s.scale)), cv2.LINE_AA, 4)
        for i in range(s.floors * s.columns):
            self._draw_window(img, i)
        self._sky_px = np.all(img == sky, axis=2)
        return img

    def _draw_window(self, img: NDArray[np.uint8], i: int) -> None:
        s = self.spec
        fl, col = divmod(i, s.columns)
        quad = self.window_quad(fl, col)
        if self.lit[i]:
            colour: tuple[int, int, int] = (150, 215, 240)
        else:
            g = int(self.glass_grey[i])
            colour = (min(255, g + 15), g, max(0, g - 10))
        _poly(img, quad, colour)
        if self.curtain[i] > 0.02:
            cq = self.window_quad(fl, col, (0.0, float(self.curtain[i])))
            _poly(img, cq, (120, 150, 190) if not self.lit[i] else (110, 170, 215))
        cv2.polylines(
            img,
            [np.round(quad * 16).astype(np.int32)],
            True,
            (235, 235, 235),
            max(1, round(2 * s.scale)),
            cv2.LINE_AA,
            4,
        )

    def _make_noise_bank(self, n: int) -> list[tuple[NDArray[np.uint8], NDArray[np.uint8]]]:
        s = self.spec
        sigma = s.noise_sigma * (0.5 if s.height_px <= 600 else 1.0) * (2.5 if s.night_ir else 1.0)
        bank = []
        for _ in range(n):
            z = self.rng.normal(0, sigma, (s.height_px, s.width_px, 1)).repeat(3, axis=2)
            z += self.rng.normal(0, sigma * 0.3, (s.height_px, s.width_px, 3))
            bank.append((np.clip(z, 0, 255).astype(np.uint8), np.clip(-z, 0, 255).astype(np.uint8)))
        return bank

    # ------------------------------------------------------------------ schedule
    def _schedule(self) -> None:
        s, rng = self.spec, self.rng
        dur = s.duration_s
        # throws: one per slot, released so that the fall ends inside the video
        if s.throws > 0:
            slot = dur / s.throws
            for k in range(s.throws):
                floor = int(rng.integers(s.min_throw_floor, s.floors + 1))
                col = int(rng.integers(0, s.columns))
                fall_est = math.sqrt(2 * (floor * s.floor_height_m) / G_M_S2) + 0.6
                lo, hi = k * slot + 0.8, (k + 1) * slot - fall_est - 0.5
                t_rel = float(rng.uniform(lo, max(lo, hi)))
                self._add_throw(k, floor, col, t_rel)
        self._poisson("bird", s.birds_per_min / 60, (2.0, 8.0))
        self._poisson("insect", s.insects_per_min / 60, (0.6, 3.0))
        self._poisson("leaf", s.leaves_per_min / 60, (3.0, 12.0))
        self._poisson("person", s.people_per_min / 60, (10.0, 40.0))
        self._poisson("car", s.cars_per_min / 60, (4.0, 10.0))
        self._poisson("light", s.light_switches_per_min / 60, (0.0, 0.0))
        self._poisson("curtain", s.curtains_per_min / 60, (1.5, 4.0))
        self._poisson("flash", s.flashes_per_hour / 3600, (0.04, 0.04))
        self._poisson("exposure", s.exposure_steps_per_hour / 3600, (0.2, 0.2))
        self._poisson("gust", s.gusts_per_hour / 3600, (2.0, 6.0))
        self._poisson("heavy_rain", s.heavy_rain_bursts_per_hour / 3600, (2.0, 8.0))
        self._poisson("headlight", s.headlight_sweeps_per_min / 60, (1.5, 3.5))
        if s.rain_share > 0:
            t = 0.0
            while t < dur:
                gap = float(rng.exponential(60.0 * (1 - s.rain_share) / max(s.rain_share, 1e-6)))
                length = float(rng.exponential(60.0))
                t += gap
                if t < dur:
                    self.movers.append(_Mover("rain", t, min(dur, t + length), {"n": int(rng.integers(15, 70))}))
                t += length
        self.movers.sort(key=lambda m: m.t0)

    def _poisson(self, kind: str, rate_per_s: float, life_s: tuple[float, float]) -> None:
        if rate_per_s <= 0:
            return
        t = float(self.rng.exponential(1 / rate_per_s))
        while t < self.spec.duration_s:
            life = float(self.rng.uniform(*life_s))
            self.movers.append(_Mover(kind, t, t + life, self._params(kind, t, life)))
            t += float(self.rng.exponential(1 / rate_per_s))

    def _params(self, kind: str, t0: float, life: float) -> dict[str, Any]:
        """The random look and motion of one distractor; each kind draws from the scene's generator in its
        own fixed order, so a seed always gives the same video."""
        if kind == "bird":
            return self._bird_params()
        if kind == "insect":
            return self._insect_params()
        if kind == "leaf":
            return self._leaf_params()
        if kind in ("person", "car"):
            return self._street_params(kind, life)
        return self._event_params(kind)

    def _bird_params(self) -> dict[str, Any]:
        """A bird crossing the facade: level, wandering, gliding down or climbing."""
        rng = self.rng
        w_m, h_m = self.facade_w_m, self.facade_h_m
        style = str(rng.choice(["level", "wander", "glide", "climb"]))
        y = float(rng.uniform(-50, -2))
        speed = float(rng.uniform(6, 14)) * (1 if rng.random() < 0.5 else -1)
        vz = {
            "level": 0.0,
            "wander": 0.0,
            "glide": -float(rng.uniform(1, 4)),
            "climb": float(rng.uniform(1, 3)),
        }
        x0 = -10.0 if speed > 0 else w_m + 10.0
        x0 += float(rng.uniform(-5, 5))
        return {
            "p0": np.array([x0, y, float(rng.uniform(4, h_m + 8))]),
            "v": np.array([speed, 0.0, vz[style]]),
            "amp": float(rng.uniform(0.2, 1.5)) if style == "wander" else 0.15,
            "period": float(rng.uniform(0.6, 2.0)),
            "span": float(rng.uniform(0.25, 0.6)),
            "flap_hz": float(rng.uniform(3, 8)),
            "grey": int(rng.integers(25, 80)),
            "style": style,
        }

    def _insect_params(self) -> dict[str, Any]:
        """An insect close to the lens: image coordinates, not facade metres."""
        s, rng = self.spec, self.rng
        return {
            "p": np.array([rng.uniform(0, s.width_px), rng.uniform(0, s.height_px)]),
            "v": rng.normal(0, 4 * s.scale * 2, 2),
            "size": float(rng.uniform(1.0, 3.0)) * s.scale * 2,
            "grey": int(rng.choice([30, 220])),
        }

    def _leaf_params(self) -> dict[str, Any]:
        """A leaf or sheet of paper fluttering down at a slow steady speed."""
        rng = self.rng
        w_m, h_m = self.facade_w_m, self.facade_h_m
        return {
            "p0": np.array([rng.uniform(0, w_m), -rng.uniform(0.5, 8), rng.uniform(5, h_m)]),
            "vt": float(rng.uniform(0.5, 2.5)),
            "amp": float(rng.uniform(0.3, 1.5)),
            "period": float(rng.uniform(0.8, 2.2)),
            "drift": float(rng.uniform(-1, 1)),
            "size": float(rng.uniform(0.08, 0.3)),
            "bgr": tuple(int(v) for v in rng.choice([[40, 120, 60], [40, 80, 120], [235, 235, 235]])),
        }

    def _street_params(self, kind: str, life: float) -> dict[str, Any]:
        """A person or car passing in front of the building, kept inside the street for its whole life."""
        rng = self.rng
        w_m = self.facade_w_m
        speed = float(rng.uniform(0.8, 1.8) if kind == "person" else rng.uniform(4, 12))
        direction = 1 if rng.random() < 0.5 else -1
        y = float(-rng.uniform(1.5, 3.0) if kind == "person" else -rng.uniform(6, 10))
        span = w_m + 40
        x0 = float(rng.uniform(-20, w_m + 20))
        life_x = speed * life
        if direction < 0:
            x0 = min(x0 + life_x, span)
        return {
            "x0": x0,
            "y": y,
            "v": speed * direction,
            "bgr": tuple(int(v) for v in rng.integers(20, 230, 3)),
        }

    def _event_params(self, kind: str) -> dict[str, Any]:
        """Window lights and curtains, flashes, exposure steps, gusts, rain bursts and headlights."""
        s, rng = self.spec, self.rng
        if kind == "light":
            return {"window": int(rng.integers(0, s.floors * s.columns))}
        if kind == "curtain":
            return {"window": int(rng.integers(0, s.floors * s.columns)), "to": float(rng.uniform(0, 1))}
        if kind == "flash":
            return {"gain": float(rng.uniform(1.25, 1.6))}
        if kind == "exposure":
            return {"factor": float(rng.choice([-1, 1]) * rng.uniform(0.06, 0.15))}
        if kind == "gust":
            return {"sigma": float(rng.uniform(1.0, 2.5))}
        if kind == "heavy_rain":
            return {"n": int(rng.integers(300, 900))}
        if kind == "headlight":
            return {
                "y": float(rng.uniform(0.55, 0.95)) * s.height_px,
                "dir": 1.0 if rng.random() < 0.5 else -1.0,
                "radius": float(rng.uniform(0.08, 0.2)) * s.width_px,
                "gain": float(rng.uniform(40, 90)),
            }
        return {}

    def _add_throw(self, k: int, floor: int, col: int, t_rel: float) -> None:
        s, rng = self.spec, self.rng
        along = col * s.column_width_m + s.column_width_m / 2 + float(rng.uniform(-0.9, 0.9))
        height = (floor - 1) * s.floor_height_m + 0.9 + float(rng.uniform(0.0, 0.5))
        v = np.array([rng.uniform(-2.0, 2.0), -rng.uniform(0.3, 3.0), rng.uniform(-0.5, 2.0)])
        size = float(rng.uniform(*s.object_size_m))
        vt = float(rng.uniform(20, 60))
        grey = int(rng.choice([int(rng.integers(15, 60)), int(rng.integers(215, 250))]))
        hue = rng.integers(0, 3)
        bgr = [grey] * 3
        bgr[int(hue)] = int(np.clip(grey + rng.integers(-40, 40), 0, 255))
        p = np.array([along, -0.3, height])
        dt = 1 / (s.fps * _SUBSTEPS)
        path = [(0.0, p.copy())]
        vel = v.astype(np.float64).copy()
        t = 0.0
        while p[2] > 0 and t < 12:
            speed = float(np.linalg.norm(vel))
            acc = np.array([0.0, 0.0, -G_M_S2]) - (G_M_S2 / vt**2) * speed * vel
            vel = vel + acc * dt
            p = p + vel * dt
            t += dt
            path.append((t, p.copy()))
        landing = t
        times = np.array([q[0] for q in path])
        pos = np.array([q[1] for q in path])
        # where the object is (unshaken image px) on every frame of its fall, for diagnosis
        frame_t = np.arange(math.ceil(t_rel * s.fps), math.floor((t_rel + landing) * s.fps) + 1) / s.fps
        rel = frame_t - t_rel
        at = np.stack([np.interp(rel, times, pos[:, k]) for k in range(3)], 1)
        uv = self.cam.project(at)[0]
        track_px = [
            (round(float(a), 4), round(float(u), 2), round(float(v), 2)) for a, (u, v) in zip(frame_t, uv, strict=True)
        ]
        truth = ThrowTruth(
            throw_id=k,
            floor=floor,
            column=_column_name(col),
            along_m=float(along),
            height_m=float(height),
            release_t_s=t_rel,
            landing_t_s=t_rel + landing,
            size_m=size,
            velocity_m_s=(float(v[0]), float(v[1]), float(v[2])),
            terminal_speed_m_s=vt,
            grey_level=grey,
            track_px=track_px,
        )
        self.throws.append(truth)
        self.movers.append(
            _Mover(
                "throw",
                t_rel,
                t_rel + landing + 3.0,
                {"times": times, "pos": pos, "size": size, "bgr": tuple(bgr), "truth": truth},
            )
        )

    # ------------------------------------------------------------------ per frame
    def frames(self) -> Iterator[NDArray[np.uint8]]:
        """Every frame of the video (BGR uint8), rendered on demand."""
        s, rng = self.spec, np.random.default_rng(self.spec.seed + 1_000_003)
        self.lit, self.curtain = self._lit0.copy(), self._curtain0.copy()
        play = _Playback([_Mover(m.kind, m.t0, m.t1, dict(m.params)) for m in self.movers], self._layer.copy())
        flakes = self._new_flakes(rng, s.snow_flakes)
        lamp = self._ir_lamp() if s.night_ir else None
        for i in range(s.n_frames):
            t = i / s.fps
            self._start_due(play, t)
            self._retire_ended(play, t)
            frame = self._shaken_base(play, rng).copy()
            flash, rain_n = self._play_window_events(frame, play.active, t)
            self._draw_movers(frame, play.active, t, rng)
            rain_n += s.steady_rain_streaks
            if rain_n:
                self._draw_rain(frame, rain_n, rng)
            if len(flakes):
                self._draw_snow(frame, flakes, t, rng)
            self.cam.offset = np.zeros(2)
            yield self._expose(frame, play, flash, lamp, t, rng)

    def _start_due(self, play: _Playback, t: float) -> None:
        """Start the movers whose time has come; lights and exposure steps act at once on the static layer
        or the gain, the rest become active until they end."""
        movers = play.movers
        while play.nxt < len(movers) and movers[play.nxt].t0 <= t:
            m = movers[play.nxt]
            play.nxt += 1
            if m.kind == "light":
                w = m.params["window"]
                self.lit[w] = not self.lit[w]
                self._draw_window(play.layer, w)
                play.shifted.clear()
            elif m.kind == "exposure":
                play.gain_target *= 1 + m.params["factor"]
                play.gain_target = float(np.clip(play.gain_target, 0.75, 1.3))
            else:
                if m.kind == "curtain":
                    m.params["start"] = float(self.curtain[m.params["window"]])
                play.active.append(m)

    def _retire_ended(self, play: _Playback, t: float) -> None:
        """Drop the movers that have ended; a finished curtain is committed to the static layer first."""
        for m in play.active:
            if m.kind == "curtain" and m.t1 <= t:  # drawn; commit the curtain to the static layer
                self.curtain[m.params["window"]] = m.params["to"]
                self._draw_window(play.layer, m.params["window"])
                play.shifted.clear()
        play.active = [m for m in play.active if m.t1 > t]

    def _shaken_base(self, play: _Playback, rng: np.random.Generator) -> NDArray[np.uint8]:
        """The static layer shifted by this frame's wind jitter (cached per 1/8 px step); sets the camera's
        offset so movers are drawn shaken with it."""
        s = self.spec
        sigma = max([s.jitter_px] + [m.params["sigma"] for m in play.active if m.kind == "gust"])
        # wind jitter: Ornstein-Uhlenbeck around the mount, stronger in gusts; 1/8 px steps so the
        # shifted static layer can be cached
        sig = sigma * s.scale
        play.jitter = play.jitter * 0.85 + rng.normal(0, sig * math.sqrt(1 - 0.85**2), 2)
        key = (round(float(play.jitter[0]) * 8), round(float(play.jitter[1]) * 8))
        base = play.shifted.get(key)
        if base is None:
            if len(play.shifted) > 48:
                play.shifted.clear()
            mat = np.array([[1, 0, key[0] / 8], [0, 1, key[1] / 8]], np.float32)
            base = play.shifted[key] = np.asarray(
                cv2.warpAffine(play.layer, mat, (s.width_px, s.height_px), borderMode=cv2.BORDER_REPLICATE),
                np.uint8,
            )
        self.cam.offset = np.array([key[0] / 8, key[1] / 8])
        return base

    def _play_window_events(self, frame: NDArray[np.uint8], active: list[_Mover], t: float) -> tuple[float, int]:
        """Draw the curtains moving now; return this frame's flash gain and rain streak count."""
        flash = 1.0
        rain_n = 0
        for m in active:
            if m.kind == "curtain":
                w = m.params["window"]
                u = min(1.0, (t - m.t0) / (m.t1 - m.t0))
                self.curtain[w] = m.params["start"] + (m.params["to"] - m.params["start"]) * u
                self._draw_window(frame, w)
            elif m.kind == "flash":
                flash = m.params["gain"]
            elif m.kind in ("rain", "heavy_rain"):
                rain_n += m.params["n"]
        return flash, rain_n

    def _draw_movers(self, frame: NDArray[np.uint8], active: list[_Mover], t: float, rng: np.random.Generator) -> None:
        """Street movers far to near, then falls, leaves and birds, then insects in front of everything."""
        for m in sorted((m for m in active if m.kind in ("person", "car")), key=lambda m: -m.params["y"]):
            self._draw_ground(frame, m, t)
        for m in active:
            if m.kind == "throw":
                self._draw_throw(frame, m, t)
            elif m.kind == "leaf":
                self._draw_leaf(frame, m, t)
            elif m.kind == "bird":
                self._draw_bird(frame, m, t)
        for m in active:
            if m.kind == "insect":
                self._draw_insect(frame, m, rng)

    def _expose(
        self,
        frame: NDArray[np.uint8],
        play: _Playback,
        flash: float,
        lamp: NDArray[np.float32] | None,
        t: float,
        rng: np.random.Generator,
    ) -> NDArray[np.uint8]:
        """What the sensor makes of the scene: night under the lamp, the slow auto-gain, flashes, noise."""
        if lamp is not None:
            frame = self._to_night(frame, lamp, [m for m in play.active if m.kind == "headlight"], t)
        play.gain_level += (play.gain_target - play.gain_level) * 0.3
        gain = play.gain_level * flash
        if abs(gain - 1) > 0.003:
            frame = np.asarray(cv2.convertScaleAbs(frame, alpha=gain), np.uint8)
        pos, neg = self._noise_bank[int(rng.integers(0, len(self._noise_bank)))]
        cv2.add(frame, pos, dst=frame)
        cv2.subtract(frame, neg, dst=frame)
        return frame

    def _draw_throw(self, frame: NDArray[np.uint8], m: _Mover, t: float) -> None:
        p = m.params
        rel = t - m.t0
        times, pos = p["times"], p["pos"]
        if rel > times[-1]:
            xyz = np.stack([pos[-1], pos[-1]])
        else:
            ts = np.array([max(0.0, rel - _EXPOSURE_S / 2), min(times[-1], rel + _EXPOSURE_S / 2)])
            xyz = np.stack([np.interp(ts, times, pos[:, k]) for k in range(3)], 1)
        uv, depth = self.cam.project(xyz)
        size_px = p["size"] * self.cam.f / float(depth.mean())
        _blob(frame, uv[0], uv[1], size_px, p["bgr"])

    def _draw_leaf(self, frame: NDArray[np.uint8], m: _Mover, t: float) -> None:
        p = m.params
        rel = t - m.t0
        sway = p["amp"] * math.sin(2 * math.pi * rel / p["period"])
        z = p["p0"][2] - p["vt"] * rel + 0.25 * p["amp"] * math.cos(4 * math.pi * rel / p["period"])
        if z < 0:
            return
        xyz = np.array([[p["p0"][0] + sway + p["drift"] * rel, p["p0"][1], z]])
        uv, depth = self.cam.project(xyz)
        size = p["size"] * self.cam.f / float(depth[0]) * (0.6 + 0.4 * abs(math.cos(3 * rel)))
        _blob(frame, uv[0], uv[0], size, p["bgr"])

    def _draw_bird(self, frame: NDArray[np.uint8], m: _Mover, t: float) -> None:
        p = m.params
        rel = t - m.t0
        xyz = p["p0"] + p["v"] * rel
        xyz[2] += p["amp"] * math.sin(2 * math.pi * rel / p["period"])
        uv, depth = self.cam.project(xyz[None, :])
        span = p["span"] * self.cam.f / float(depth[0])
        flap = math.sin(2 * math.pi * p["flap_hz"] * rel)
        c = uv[0]
        wing = np.array([span / 2, span * 0.3 * flap])
        g = p["grey"]
        th = max(1, round(span / 6))
        cv2.line(frame, _pt(c), _pt(c - wing), (g, g, g), th, cv2.LINE_AA, 4)
        cv2.line(frame, _pt(c), _pt(c + wing * np.array([1, 1])), (g, g, g), th, cv2.LINE_AA, 4)
        _blob(frame, c, c, max(1.0, span / 4), (g, g, g))

    def _draw_insect(self, frame: NDArray[np.uint8], m: _Mover, rng: np.random.Generator) -> None:
        p = m.params
        p["v"] = p["v"] * 0.8 + rng.normal(0, 5 * self.spec.scale * 2, 2)
        p["p"] = p["p"] + p["v"]
        g = p["grey"]
        _blob(frame, p["p"], p["p"] - p["v"] * 0.5, p["size"], (g, g, g))

    def _draw_ground(self, frame: NDArray[np.uint8], m: _Mover, t: float) -> None:
        p = m.params
        x = p["x0"] + p["v"] * (t - m.t0)
        y = p["y"]
        if m.kind == "person":
            body = np.array([[x - 0.25, y, 0.0], [x + 0.25, y, 0.0], [x + 0.25, y, 1.45], [x - 0.25, y, 1.45]])
            _poly(frame, self.cam.project(body)[0], p["bgr"])
            head, depth = self.cam.project(np.array([[x, y, 1.6]]))
            cv2.circle(
                frame,
                _pt(head[0]),
                max(1, round(0.12 * self.cam.f / depth[0])),
                (60, 80, 110),
                -1,
                cv2.LINE_AA,
            )
        else:
            body = np.array([[x - 2.2, y, 0.2], [x + 2.2, y, 0.2], [x + 2.2, y, 1.0], [x - 2.2, y, 1.0]])
            _poly(frame, self.cam.project(body)[0], p["bgr"])
            cabin = np.array([[x - 1.2, y, 1.0], [x + 1.0, y, 1.0], [x + 0.7, y, 1.5], [x - 0.9, y, 1.5]])
            _poly(frame, self.cam.project(cabin)[0], (50, 50, 50))

    def _new_flakes(self, rng: np.random.Generator, n: int) -> NDArray[np.float64]:
        """(n, 6) flakes: x, y (px), nearness 0-1, sway phase, sway rate (rad/s), grey."""
        s = self.spec
        near = rng.uniform(0, 1, n) ** 2
        return np.stack(
            [
                rng.uniform(0, s.width_px, n),
                rng.uniform(0, s.height_px, n),
                near,
                rng.uniform(0, 2 * math.pi, n),
                rng.uniform(1.0, 3.0, n),
                rng.uniform(200, 250, n),
            ],
            1,
        )

    def _draw_snow(
        self, frame: NDArray[np.uint8], flakes: NDArray[np.float64], t: float, rng: np.random.Generator
    ) -> None:
        """Flakes drift down at a slow steady speed and sway; nearer ones are bigger, faster, blurrier."""
        s = self.spec
        k = s.scale * 2
        near = flakes[:, 2]
        fall_px = (12 + 150 * near) * k / s.fps
        sway_px = (4 + 40 * near) * k * np.cos(flakes[:, 3] + flakes[:, 4] * t) * flakes[:, 4] / s.fps
        flakes[:, 0] += sway_px + 0.3 * fall_px
        flakes[:, 1] += fall_px
        gone = flakes[:, 1] > s.height_px + 10
        flakes[gone, 1] = -5.0
        flakes[gone, 0] = rng.uniform(0, s.width_px, int(gone.sum()))
        flakes[:, 0] %= s.width_px
        sizes = (0.8 + 5.0 * near) * k
        for (x, y, _n, _p, _r, g), size, dy in zip(flakes, sizes, fall_px, strict=True):
            c = np.array([x, y])
            _blob(frame, c, c + np.array([0.0, 0.4 * dy]), float(size), (int(g), int(g), int(g)))

    def _ir_lamp(self) -> NDArray[np.float32]:
        """The infrared lamp's reach: bright in the middle, falling off towards the corners."""
        s = self.spec
        yy, xx = np.mgrid[0 : s.height_px, 0 : s.width_px].astype(np.float32)
        r2 = ((xx - s.width_px * 0.5) / (0.6 * s.width_px)) ** 2 + (
            (yy - s.height_px * 0.55) / (0.7 * s.height_px)
        ) ** 2
        lamp = 0.25 + 0.45 * np.exp(-r2)
        return np.asarray(np.where(self._sky_px, 0.12, lamp), np.float32)

    def _to_night(
        self, frame: NDArray[np.uint8], lamp: NDArray[np.float32], headlights: list[_Mover], t: float
    ) -> NDArray[np.uint8]:
        """Grey IR picture: the lamp's falloff, lit windows glowing, sweeping headlights, strong noise."""
        s = self.spec
        grey = cv2.cvtColor(frame, cv2.COLOR_BGR2GRAY).astype(np.float32) * lamp
        for m in headlights:
            p = m.params
            u = (t - m.t0) / (m.t1 - m.t0)
            cx = (u if p["dir"] > 0 else 1 - u) * 1.4 * s.width_px - 0.2 * s.width_px
            x0 = max(0, int(cx - 3 * p["radius"]))
            x1 = min(s.width_px, int(cx + 3 * p["radius"]))
            if x1 <= x0:
                continue
            xs = np.arange(x0, x1, dtype=np.float32)
            ys = np.arange(s.height_px, dtype=np.float32)
            g = np.exp(-(((xs[None, :] - cx) / p["radius"]) ** 2) - ((ys[:, None] - p["y"]) / (0.6 * p["radius"])) ** 2)
            grey[:, x0:x1] += p["gain"] * g
        out = np.clip(grey, 0, 255).astype(np.uint8)
        return np.asarray(cv2.cvtColor(out, cv2.COLOR_GRAY2BGR), np.uint8)

    def _draw_rain(self, frame: NDArray[np.uint8], n: int, rng: np.random.Generator) -> None:
        s = self.spec
        xy = rng.uniform([0, 0], [s.width_px, s.height_px], (n, 2))
        length = rng.uniform(6, 28, n) * s.scale * 2
        slant = rng.normal(s.rain_slant, 0.03)
        ends = xy + np.stack([length * slant, length], 1)
        lines = np.concatenate([xy, ends], 1)
        shade = int(rng.integers(175, 215))
        cv2.polylines(
            frame,
            [np.round(seg.reshape(2, 2) * 16).astype(np.int32) for seg in lines],
            False,
            (shade, shade, shade),
            1,
            cv2.LINE_AA,
            4,
        )

    # ------------------------------------------------------------------ outputs
    def truth(self) -> dict[str, Any]:
        """Ground truth: the spec, the camera, the calibration, every throw and every distractor."""
        return {
            "spec": asdict(self.spec),
            "camera": {"focal_px": self.cam.f, "position_m": self.cam.pos.tolist()},
            "calibration": self.calibration(),
            "sky_masks": self.sky_masks(),
            "throws": [asdict(t) for t in self.throws],
            "distractors": [
                {"kind": m.kind, "t0_s": round(m.t0, 3), "t1_s": round(m.t1, 3)}
                for m in self.movers
                if m.kind != "throw"
            ],
        }


def write_scenario(
    out_dir: str | Path, spec: ThrowScenarioSpec, *, crf: int = 23, name: str | None = None
) -> tuple[Path, Path]:
    """Render, encode (H.264 via PyAV) and write `<name>.mp4` plus `<name>.json` ground truth."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    stem = name or f"throw-seed{spec.seed}-{spec.width_px}x{spec.height_px}"
    scene = ThrowScene(spec)
    video = out / f"{stem}.mp4"
    write_h264(video, scene.frames(), spec.fps, crf=crf)
    truth = out / f"{stem}.json"
    truth.write_text(json.dumps(scene.truth(), indent=1), encoding="utf-8")
    return video, truth


def _column_name(col: int) -> str:
    return chr(ord("A") + col) if col < 26 else f"C{col}"


def _pt(p: NDArray[np.float64]) -> tuple[int, int]:
    """A pixel point in OpenCV's 4-bit fixed point (shift=4) for subpixel drawing."""
    return round(float(p[0]) * 16), round(float(p[1]) * 16)


def _poly(img: NDArray[np.uint8], quad: NDArray[np.float64], colour: Sequence[int]) -> None:
    cv2.fillConvexPoly(img, np.round(quad * 16).astype(np.int32), tuple(int(c) for c in colour), cv2.LINE_AA, 4)


def _blob(
    img: NDArray[np.uint8],
    p0: NDArray[np.float64],
    p1: NDArray[np.float64],
    size_px: float,
    colour: Sequence[int],
) -> None:
    """A motion-blurred round object from p0 to p1; under a pixel it is blended by its coverage."""
    col = tuple(int(c) for c in colour)
    if size_px < 1.2:
        x, y = int(min(max(p0[0], 0), img.shape[1] - 1)), int(min(max(p0[1], 0), img.shape[0] - 1))
        cover = max(0.15, size_px / 1.2)
        under = img[y, x].astype(np.float64)
        col = tuple(round(u + (c - u) * cover) for u, c in zip(under, col, strict=True))
    th = max(1, round(size_px))
    cv2.line(img, _pt(p0), _pt(p1), col, th, cv2.LINE_AA, 4)
