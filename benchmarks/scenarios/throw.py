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
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import cv2
import numpy as np
from numpy.typing import NDArray

from benchmarks.scenarios.throw_camera import Camera, fill_quad, subpixel_point
from benchmarks.scenarios.throw_painters import Mover, MoverPainter
from benchmarks.scenarios.throw_schedule import ThrowSchedule, column_name
from benchmarks.scenarios.throw_spec import ThrowScenarioSpec, ThrowTruth
from benchmarks.scenarios.video import write_h264


@dataclass
class _Playback:
    """What carries from frame to frame while the video plays: the movers in time order, the static layer
    and its shifted copies, the wind jitter and the auto-gain."""

    movers: list[Mover]
    layer: NDArray[np.uint8]
    shifted: dict[tuple[int, int], NDArray[np.uint8]] = field(default_factory=dict)
    active: list[Mover] = field(default_factory=list)
    nxt: int = 0
    jitter: NDArray[np.float64] = field(default_factory=lambda: np.zeros(2))
    gain_level: float = 1.0
    gain_target: float = 1.0


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
        self._paint = MoverPainter(spec, self.cam, self._sky_px)
        self._noise_bank = self._make_noise_bank(6)
        schedule = ThrowSchedule(spec, rng, self.cam, (self.facade_w_m, self.facade_h_m))
        self.throws: list[ThrowTruth] = schedule.throws
        self.movers: list[Mover] = schedule.movers
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
                {"name": column_name(c), "from_m": c * s.column_width_m, "to_m": (c + 1) * s.column_width_m}
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
        cv2.line(
            img,
            subpixel_point(kerb[0]),
            subpixel_point(kerb[1]),
            (160, 160, 160),
            max(1, round(3 * s.scale)),
            cv2.LINE_AA,
            4,
        )
        for a, b, z in self.neighbours:
            quad = cam.project(np.array([[a, 8.0, 0], [b, 8.0, 0], [b, 8.0, z], [a, 8.0, z]]))[0]
            fill_quad(img, quad, (130, 135, 140))
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
                    fill_quad(img, q, (85, 90, 95))
        wall = self.facade_to_image(
            np.array([[0, 0], [self.facade_w_m, 0], [self.facade_w_m, self.facade_h_m], [0, self.facade_h_m]])
        )
        fill_quad(img, wall, self.wall_bgr)
        dark = tuple(max(0, c - 35) for c in self.wall_bgr)
        for fl in range(1, s.floors + 1):
            line = self.facade_to_image(
                np.array([[0, fl * s.floor_height_m], [self.facade_w_m, fl * s.floor_height_m]])
            )
            cv2.line(
                img, subpixel_point(line[0]), subpixel_point(line[1]), dark, max(1, round(2 * s.scale)), cv2.LINE_AA, 4
            )
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
        fill_quad(img, quad, colour)
        if self.curtain[i] > 0.02:
            cq = self.window_quad(fl, col, (0.0, float(self.curtain[i])))
            fill_quad(img, cq, (120, 150, 190) if not self.lit[i] else (110, 170, 215))
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

    # ------------------------------------------------------------------ per frame
    def frames(self) -> Iterator[NDArray[np.uint8]]:
        """Every frame of the video (BGR uint8), rendered on demand."""
        s, rng = self.spec, np.random.default_rng(self.spec.seed + 1_000_003)
        self.lit, self.curtain = self._lit0.copy(), self._curtain0.copy()
        play = _Playback([Mover(m.kind, m.t0, m.t1, dict(m.params)) for m in self.movers], self._layer.copy())
        flakes = self._paint.new_flakes(rng, s.snow_flakes)
        lamp = self._paint.ir_lamp() if s.night_ir else None
        for i in range(s.n_frames):
            t = i / s.fps
            self._start_due(play, t)
            self._retire_ended(play, t)
            frame = self._shaken_base(play, rng).copy()
            flash, rain_n = self._play_window_events(frame, play.active, t)
            self._draw_movers(frame, play.active, t, rng)
            rain_n += s.steady_rain_streaks
            if rain_n:
                self._paint.draw_rain(frame, rain_n, rng)
            if len(flakes):
                self._paint.draw_snow(frame, flakes, t, rng)
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

    def _play_window_events(self, frame: NDArray[np.uint8], active: list[Mover], t: float) -> tuple[float, int]:
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

    def _draw_movers(self, frame: NDArray[np.uint8], active: list[Mover], t: float, rng: np.random.Generator) -> None:
        """Street movers far to near, then falls, leaves and birds, then insects in front of everything."""
        for m in sorted((m for m in active if m.kind in ("person", "car")), key=lambda m: -m.params["y"]):
            self._paint.draw_ground(frame, m, t)
        for m in active:
            if m.kind == "throw":
                self._paint.draw_throw(frame, m, t)
            elif m.kind == "leaf":
                self._paint.draw_leaf(frame, m, t)
            elif m.kind == "bird":
                self._paint.draw_bird(frame, m, t)
        for m in active:
            if m.kind == "insect":
                self._paint.draw_insect(frame, m, rng)

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
            frame = self._paint.to_night(frame, lamp, [m for m in play.active if m.kind == "headlight"], t)
        play.gain_level += (play.gain_target - play.gain_level) * 0.3
        gain = play.gain_level * flash
        if abs(gain - 1) > 0.003:
            frame = np.asarray(cv2.convertScaleAbs(frame, alpha=gain), np.uint8)
        pos, neg = self._noise_bank[int(rng.integers(0, len(self._noise_bank)))]
        cv2.add(frame, pos, dst=frame)
        cv2.subtract(frame, neg, dst=frame)
        return frame

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
