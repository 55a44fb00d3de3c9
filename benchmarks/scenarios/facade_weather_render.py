"""Drawing generator B's frames: the per-render state (lights, flakes, wobble, exposure), thrown objects,
distractors, weather and the OSD.

Part of `benchmarks.scenarios.facade_weather` (read its docstring); like it, shares nothing with the
detector or with generator A.
"""

from __future__ import annotations

import math
from typing import Any, Protocol

import cv2
import numpy as np
from numpy.typing import NDArray

from benchmarks.scenarios.facade_weather_world import GRAVITY, Actor, Building, ReleasedObject, WeatherSceneSpec

_SUBEXPOSURES = 4
_SHUTTER_S = 0.016
_RAIN_VEIL = 0.12
"""Share of the picture replaced by the grey of falling water in a shower."""


class FacadeWeatherScene(Protocol):
    """What drawing reads of its scene (`benchmarks.scenarios.facade_weather.FacadeWeatherScene` has it); a
    protocol, so this module does not import the scene module that imports it."""

    spec: WeatherSceneSpec
    bld: Building
    static: NDArray[np.uint8]
    actors: list[Actor]
    throws: list[ReleasedObject]
    corners_px: NDArray[np.float64]
    distance_m: float
    focal_px: float
    noise_bank: list[tuple[NDArray[np.uint8], NDArray[np.uint8]]]

    def to_image(self, along_height: NDArray[np.float64]) -> NDArray[np.float64]: ...
    def compose_static(self, texture: NDArray[np.uint8]) -> NDArray[np.uint8]: ...
    def local_px_per_m(self, along_m: float, height_m: float) -> float: ...


class FrameState:
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
        px = sc.local_px_per_m(along, height) * (1 + out_m / sc.distance_m)
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
        px = sc.local_px_per_m(min(max(along, 0.0), sc.bld.width_m), min(max(height, 0.5), sc.bld.height_m))
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
            px = sc.local_px_per_m(min(max(along, 0), sc.bld.width_m), max(height, 0.5))
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
