"""Things in a street scene that are orange, red, bright or blinking but are not fire (the usual false
alarms), each drawn into a float32 BGR frame at time t. Part of the independent street-scene generator.

- `WarningLamp`: an amber road-works lamp on a striped barrier, blinking with a soft LED fade;
- `OrangeSign`: a shop or road sign in orange with lettering, lit at night;
- `SodiumLight`: a street light with an orange-yellow sodium lamp, its halo and its light on the ground,
  with the small brightness ripple of mains flicker;
- `Car`: a car (red, orange-red or dark) driving along the road, sometimes stopping; with lights on at
  dusk and night (white head lights with beams, red tail lights);
- `Walker`: a person in a red or hi-vis orange jacket walking along the pavement, swinging arms and legs,
  pausing on the way.
"""

from __future__ import annotations

import math

import cv2
import numpy as np
from numpy.typing import NDArray

from benchmarks.scenarios.street_paint import add_light, disc, glow, paste
from benchmarks.scenarios.street_scene import StreetLayout

Float = NDArray[np.float32]

DISTRACTORS: tuple[str, ...] = ("warning_lamp", "orange_sign", "sodium_light", "red_car", "walker_red", "headlights")


def _solid(h: int, w: int, bgr: tuple[float, float, float]) -> Float:
    out = np.empty((h, w, 3), np.float32)
    out[:] = np.array(bgr, np.float32)
    return out


class WarningLamp:
    """A blinking amber lamp (0.6-1.6 s period) on a red-and-white barrier; two lamps may alternate."""

    def __init__(self, layout: StreetLayout, rng: np.random.Generator, lighting: str, x: float) -> None:
        self.x = x
        self.y = layout.pavement_y + (layout.kerb_y - layout.pavement_y) * rng.uniform(0.55, 0.9)
        self.r = float(rng.uniform(4.0, 8.0))
        self.period = float(rng.uniform(0.6, 1.6))
        self.duty = float(rng.uniform(0.35, 0.6))
        self.fade = float(rng.uniform(0.03, 0.15)) * self.period
        self.phase = float(rng.uniform(0, 1))
        self.pair = bool(rng.random() < 0.4)
        self.spacing = float(rng.uniform(40, 90))
        self.night = lighting == "night"
        self.dim = lighting != "day"

    def _level(self, t: float, phase: float) -> float:
        c = ((t / self.period) + phase) % 1.0 * self.period
        on = self.duty * self.period
        if c < self.fade:
            return c / self.fade
        if c < on:
            return 1.0 if c < on - self.fade else (on - c) / self.fade
        return 0.0

    def draw(self, frame: Float, t: float) -> None:
        lamps = [(self.x, self.phase)] + ([(self.x + self.spacing, self.phase + 0.5)] if self.pair else [])
        bar_w = round(self.spacing + 40 if self.pair else 44)
        bar = _solid(10, bar_w, (235, 235, 235))
        for k in range(0, bar_w, 16):
            bar[:, k : k + 8] = (40, 40, 200)
        shade = 0.25 if self.night else (0.6 if self.dim else 1.0)
        bar_alpha = np.ones((10, bar_w), np.float32)
        paste(frame, round(self.x - 22), round(self.y + self.r + 4), bar * np.float32(shade), bar_alpha)
        lens, half = disc(self.r)
        for lx, phase in lamps:
            level = self._level(t, phase)
            off = np.array((20.0, 55.0, 105.0), np.float32) * np.float32(shade)
            on = np.array((40.0, 190.0, 255.0), np.float32)
            colour = _solid(2 * half + 1, 2 * half + 1, (0, 0, 0))
            colour[:] = off * (1 - level) + on * level
            core, ch = disc(self.r * 0.45, 1.5)
            colour[half - ch : half + ch + 1, half - ch : half + ch + 1] += (
                core[..., None] * np.array((120.0, 60.0, 0.0), np.float32) * np.float32(level)
            )
            paste(frame, round(lx) - half, round(self.y) - half, colour, lens)
            if level > 0:
                gain = (0.9 if self.night else 0.35) * level
                glow(frame, lx, self.y, self.r * 1.8, (30.0, 150.0, 255.0), gain)


class OrangeSign:
    """A static orange sign (shop board or road sign) with white lettering; lit from inside at night."""

    def __init__(self, layout: StreetLayout, rng: np.random.Generator, lighting: str, x: float) -> None:
        self.w = int(rng.integers(50, 150))
        self.h = int(rng.integers(24, 70))
        self.x = round(x - self.w / 2)
        self.y = round(layout.pavement_y - rng.uniform(40, 140))
        tones = ((20.0, 120.0, 245.0), (0.0, 95.0, 235.0), (30.0, 150.0, 250.0))
        base = np.array(tones[int(rng.integers(len(tones)))], np.float32)
        lit = 0.95 if lighting == "night" else (0.8 if lighting == "dusk" else 1.0)
        face = _solid(self.h, self.w, (0, 0, 0))
        face[:] = base * np.float32(lit)
        for row in range(6, self.h - 8, 14):
            for col in range(6, self.w - 8, int(rng.integers(9, 14))):
                if rng.random() < 0.7:
                    face[row : row + 8, col : col + int(rng.integers(3, 8))] = (235.0, 235.0, 235.0)
        face[:2] = face[-2:] = face[:, :2] = face[:, -2:] = (60.0, 60.0, 60.0)
        self.face = face

    def draw(self, frame: Float, t: float) -> None:
        paste(frame, self.x, self.y, self.face, np.ones(self.face.shape[:2], np.float32))


class SodiumLight:
    """A street light with a sodium lamp: orange-yellow core, halo, pool of light; off in daylight."""

    def __init__(self, layout: StreetLayout, rng: np.random.Generator, lighting: str, x: float) -> None:
        self.x = x
        self.ground = layout.kerb_y - 2
        self.head_y = layout.pavement_y - layout.height * rng.uniform(0.12, 0.28)
        self.on = lighting != "day"
        self.night = lighting == "night"
        self.rng = np.random.default_rng([int(rng.integers(1 << 30)), 5])
        self.halo = float(rng.uniform(10, 22))

    def draw(self, frame: Float, t: float) -> None:
        pole = _solid(round(self.ground - self.head_y), 4, (70, 70, 72))
        paste(frame, round(self.x - 2), round(self.head_y), pole * np.float32(0.3 if self.night else 1.0),
              np.ones(pole.shape[:2], np.float32))
        head = _solid(7, 30, (60, 60, 60))
        paste(frame, round(self.x - 15), round(self.head_y - 4), head, np.ones((7, 30), np.float32))
        if not self.on:
            return
        ripple = 1.0 + 0.04 * float(self.rng.normal())  # mains flicker aliased by the shutter
        lamp = _solid(5, 22, (150.0, 230.0, 255.0))
        paste(frame, round(self.x - 11), round(self.head_y + 2), lamp, np.full((5, 22), min(1.0, ripple), np.float32))
        glow(frame, self.x, self.head_y + 4, self.halo, (20.0, 130.0, 255.0), 0.8 * ripple)
        pool = np.zeros((60, 200), np.float32)
        cv2.ellipse(pool, (100, 30), (90, 22), 0, 0, 360, 1.0, -1)
        pool = np.asarray(cv2.GaussianBlur(pool, (0, 0), 12), np.float32)
        gain = (0.55 if self.night else 0.25) * ripple
        light = pool[..., None] * np.array((10, 70, 140), np.float32) * np.float32(gain)
        add_light(frame, round(self.x - 100), round(self.ground - 40), light)


class Car:
    """A car driving along the road; `paint` sets its body colour; lights on at dusk and night."""

    def __init__(self, layout: StreetLayout, rng: np.random.Generator, lighting: str, paint: tuple[float, float, float],
                 duration_s: float) -> None:
        s = layout.width / 1280
        self.len = float(rng.uniform(170, 240)) * s
        self.hgt = self.len * float(rng.uniform(0.34, 0.42))
        self.y = layout.kerb_y + (layout.height - layout.kerb_y) * rng.uniform(0.35, 0.85)
        self.dir = 1 if rng.random() < 0.5 else -1
        self.speed = float(rng.uniform(50, 220)) * s
        self.t_in = float(rng.uniform(0.0, 0.4 * duration_s))
        self.stop_at = float(rng.uniform(0.3, 0.7)) * layout.width if rng.random() < 0.4 else None
        self.stop_s = float(rng.uniform(1.5, 4.0))
        self.width = layout.width
        shade = 0.7 if lighting == "dusk" else (0.3 if lighting == "night" else 1.0)
        self.paint = np.array(paint, np.float32) * np.float32(shade)
        self.lights = lighting != "day"

    def _x(self, t: float) -> float | None:
        if t < self.t_in:
            return None
        travel = (t - self.t_in) * self.speed
        if self.stop_at is not None:
            stop_d = self.stop_at + self.len
            if travel > stop_d:
                travel = max(stop_d, travel - self.stop_s * self.speed)
        x = -self.len + travel if self.dir > 0 else self.width + self.len - travel
        return x if -self.len * 1.5 < x < self.width + self.len * 1.5 else None

    def draw(self, frame: Float, t: float) -> None:
        x = self._x(t)
        if x is None:
            return
        length, height = round(self.len), round(self.hgt)
        body = np.zeros((height, length, 3), np.float32)
        alpha = np.zeros((height, length), np.float32)
        lower = round(height * 0.5)
        cv2.rectangle(alpha, (0, lower), (length - 1, height - 8), 1.0, -1)
        corners = [(0.22, lower), (0.33, 2), (0.7, 2), (0.82, lower)]
        roof = np.array([(round(length * k), y) for k, y in corners], np.int32)
        cv2.fillPoly(alpha, [roof], 1.0)
        body[:] = self.paint
        body[lower - 2 : lower + 3] = self.paint * 1.5 + 30  # light on the shoulder line
        win = np.zeros((height, length), np.float32)
        cv2.fillPoly(win, [roof + np.array([(5, -3), (4, 4), (-4, 4), (-5, -3)], np.int32)], 1.0)
        body[win > 0] = (70.0, 60.0, 55.0)
        for wx in (round(length * 0.2), round(length * 0.8)):
            cv2.circle(alpha, (wx, height - 10), round(height * 0.17), 1.0, -1)
            cv2.circle(body, (wx, height - 10), round(height * 0.17), (25.0, 25.0, 25.0), -1)
        if self.dir < 0:
            body, alpha = body[:, ::-1].copy(), alpha[:, ::-1].copy()
        x0, y0 = round(x), round(self.y - height)
        paste(frame, x0, y0, body, alpha)
        if self.lights:
            front = x0 + (length - 4 if self.dir > 0 else 4)
            back = x0 + (4 if self.dir > 0 else length - 4)
            ly = y0 + round(height * 0.6)
            glow(frame, front, ly, 5.0, (215.0, 240.0, 255.0), 1.6)
            glow(frame, back, ly, 4.0, (20.0, 20.0, 230.0), 1.2)
            beam = np.zeros((40, 220), np.float32)
            cv2.fillPoly(beam, [np.array([(0, 18), (219, 0), (219, 39), (0, 22)], np.int32)], 1.0)
            beam = np.asarray(cv2.GaussianBlur(beam, (0, 0), 8), np.float32)
            if self.dir < 0:
                beam = beam[:, ::-1].copy()
            bx = front if self.dir > 0 else front - 220
            add_light(frame, bx, ly + 4, beam[..., None] * np.array((60, 75, 85), np.float32))


class Walker:
    """A person in a red or hi-vis orange jacket walking along the pavement, pausing once on the way."""

    def __init__(self, layout: StreetLayout, rng: np.random.Generator, lighting: str, duration_s: float) -> None:
        s = layout.width / 1280
        self.tall = float(rng.uniform(90, 130)) * s
        self.y = layout.pavement_y + (layout.kerb_y - layout.pavement_y) * rng.uniform(0.3, 0.95)
        self.dir = 1 if rng.random() < 0.5 else -1
        self.speed = float(rng.uniform(25, 60)) * s
        start = rng.uniform(0.1, 0.6) if self.dir > 0 else rng.uniform(0.4, 0.9)
        self.x0 = float(start * layout.width)
        self.pause_at = float(rng.uniform(0.2, 0.6) * duration_s)
        self.pause_s = float(rng.uniform(1.5, 4.0))
        jackets = ((40.0, 40.0, 200.0), (20.0, 110.0, 245.0), (30.0, 30.0, 160.0))
        light = 0.25 if lighting == "night" else (0.65 if lighting == "dusk" else 1.0)
        self.jacket = tuple(c * light for c in jackets[int(rng.integers(len(jackets)))])
        self.skin = tuple(c * light for c in (120.0, 150.0, 200.0))
        self.trousers = tuple(c * light for c in (50.0, 40.0, 35.0))

    def draw(self, frame: Float, t: float) -> None:
        walked = t if t < self.pause_at else max(self.pause_at, t - self.pause_s)
        moving = not (self.pause_at <= t < self.pause_at + self.pause_s)
        x = self.x0 + self.dir * self.speed * walked
        tall = self.tall
        pw, ph = round(tall * 0.7), round(tall) + 4
        patch = np.zeros((ph, pw, 3), np.float32)
        alpha = np.zeros((ph, pw), np.float32)
        cx = pw // 2
        swing = math.sin(2 * math.pi * 1.8 * t) * (0.35 if moving else 0.04)
        hip = (cx, round(tall * 0.55))
        for sgn in (1, -1):  # legs
            foot = (round(cx + sgn * swing * tall * 0.3), ph - 2)
            cv2.line(alpha, hip, foot, 1.0, max(2, round(tall * 0.07)))
            cv2.line(patch, hip, foot, self.trousers, max(2, round(tall * 0.07)))
        corners = [(-0.1, 0.2), (0.1, 0.2), (0.09, 0.56), (-0.09, 0.56)]
        torso = np.array([(cx + round(tall * dx), round(tall * dy)) for dx, dy in corners], np.int32)
        cv2.fillPoly(alpha, [torso], 1.0)
        cv2.fillPoly(patch, [torso], self.jacket)
        shoulder = (cx, round(tall * 0.23))
        for sgn in (1, -1):  # arms in jacket sleeves
            hand = (round(cx - sgn * swing * tall * 0.25), round(tall * 0.5))
            cv2.line(alpha, shoulder, hand, 1.0, max(2, round(tall * 0.055)))
            cv2.line(patch, shoulder, hand, self.jacket, max(2, round(tall * 0.055)))
        cv2.circle(alpha, (cx, round(tall * 0.11)), round(tall * 0.08), 1.0, -1)
        cv2.circle(patch, (cx, round(tall * 0.11)), round(tall * 0.08), self.skin, -1)
        paste(frame, round(x - pw / 2), round(self.y - ph), patch, alpha)
