"""The look-alikes the generated fire scenes (`benchmarks.scenarios.fire`) draw: cars, lit signs, amber
lights, clouds, people in orange. None is fire or smoke, so none returns a ground-truth box.

They share no code or constant with the detector (see `benchmarks.scenarios.fire`).
"""

from __future__ import annotations

import math

import cv2
import numpy as np

from benchmarks.scenarios.fire_elements import FireScenario, Float, add_glow


class Car:
    """A red, orange-red or orange car driving across the road, sometimes slowly (parking)."""

    def __init__(self, sc: FireScenario, rng: np.random.Generator) -> None:
        s = sc.width / 640
        self.len = rng.uniform(70, 110) * s
        self.hgt = self.len * rng.uniform(0.38, 0.48)
        self.y = sc.height * rng.uniform(0.72, 0.9)
        self.speed = rng.choice([-1, 1]) * rng.uniform(15, 160) * s
        self.t_in = rng.uniform(0.0, 3.0)
        self.x_start = -self.len if self.speed > 0 else sc.width + self.len
        body = [(20.0, 25.0, 200.0), (20.0, 80.0, 230.0), (0.0, 120.0, 240.0), (40.0, 60.0, 210.0)]
        self.colour = body[int(rng.integers(len(body)))]
        self.width = sc.width

    def draw(self, frame: Float, t: float) -> None:
        if t < self.t_in:
            return None
        travel = (abs(self.speed) * (t - self.t_in)) % (self.width + 2 * self.len)
        x = self.x_start + travel if self.speed > 0 else self.x_start - travel
        ln, h, y = self.len, self.hgt, self.y
        body = np.array(
            [
                [x, y],
                [x + ln, y],
                [x + ln, y - 0.55 * h],
                [x + 0.75 * ln, y - 0.6 * h],
                [x + 0.62 * ln, y - h],
                [x + 0.3 * ln, y - h],
                [x + 0.18 * ln, y - 0.6 * h],
                [x, y - 0.55 * h],
            ],
            np.float32,
        )
        cv2.fillPoly(frame, [np.round(body).astype(np.int32)], self.colour, cv2.LINE_AA)
        win = np.array(
            [
                [x + 0.33 * ln, y - 0.93 * h],
                [x + 0.6 * ln, y - 0.93 * h],
                [x + 0.7 * ln, y - 0.62 * h],
                [x + 0.24 * ln, y - 0.62 * h],
            ],
            np.float32,
        )
        cv2.fillPoly(frame, [np.round(win).astype(np.int32)], (60.0, 50.0, 40.0), cv2.LINE_AA)
        for wx in (x + 0.22 * ln, x + 0.78 * ln):
            cv2.circle(frame, (round(wx), round(y)), max(2, round(0.13 * ln)), (20.0, 20.0, 20.0), -1, cv2.LINE_AA)
        return None


class Sign:
    """A static orange sign with white lettering (lit at night)."""

    def __init__(self, sc: FireScenario, rng: np.random.Generator) -> None:
        s = sc.width / 640
        self.w = rng.uniform(30, 80) * s
        self.h = self.w * rng.uniform(0.4, 0.8)
        self.x = rng.uniform(0.05, 0.85) * sc.width
        self.y = rng.uniform(0.35, 0.65) * sc.height
        self.colour = (0.0, float(rng.uniform(110, 160)), 255.0)
        self.strokes = int(rng.integers(2, 5))
        self.lit = sc.lighting == "night"

    def draw(self, frame: Float, t: float) -> None:
        x, y, w, h = self.x, self.y, self.w, self.h
        cv2.rectangle(frame, (round(x), round(y)), (round(x + w), round(y + h)), self.colour, -1)
        for i in range(self.strokes):
            sx = x + (i + 0.5) * w / self.strokes
            cv2.line(
                frame,
                (round(sx - 0.12 * w / self.strokes), round(y + 0.3 * h)),
                (round(sx + 0.12 * w / self.strokes), round(y + 0.7 * h)),
                (255.0, 255.0, 255.0),
                2,
            )
        if self.lit:
            add_glow(frame, x + w / 2, y + h / 2, max(w, h), (0.0, 90.0, 160.0), strength=0.25)


class AmberLight:
    """A blinking amber warning light (fixed period and duty cycle, optionally two alternating lamps)."""

    def __init__(self, sc: FireScenario, rng: np.random.Generator) -> None:
        s = sc.width / 640
        self.r = rng.uniform(4, 10) * s
        self.x = rng.uniform(0.1, 0.9) * sc.width
        self.y = rng.uniform(0.45, 0.75) * sc.height
        self.period = float(rng.uniform(0.5, 2.0))
        self.duty = float(rng.uniform(0.35, 0.65))
        self.pair = bool(rng.uniform() < 0.4)
        self.phase = float(rng.uniform(0, self.period))

    def _lamp(self, frame: Float, x: float, on: bool) -> None:
        cv2.line(frame, (round(x), round(self.y)), (round(x), round(self.y + 6 * self.r)), (60.0, 60.0, 60.0), 2)
        if on:
            add_glow(frame, x, self.y, 4 * self.r, (0.0, 120.0, 255.0), strength=0.6)
            cv2.circle(frame, (round(x), round(self.y)), round(self.r), (0.0, 175.0, 255.0), -1, cv2.LINE_AA)
            cv2.circle(frame, (round(x), round(self.y)), max(1, round(self.r / 2)), (170.0, 235.0, 255.0), -1)
        else:
            cv2.circle(frame, (round(x), round(self.y)), round(self.r), (0.0, 55.0, 90.0), -1, cv2.LINE_AA)

    def draw(self, frame: Float, t: float) -> None:
        on = ((t + self.phase) % self.period) < self.duty * self.period
        self._lamp(frame, self.x, on)
        if self.pair:
            self._lamp(frame, self.x + 5 * self.r, not on)


class Clouds:
    """Dark clouds drifting slowly across a sunset sky."""

    def __init__(self, sc: FireScenario, rng: np.random.Generator) -> None:
        n = int(rng.integers(2, 5))
        s = sc.width / 640
        self.c = np.column_stack(
            [
                rng.uniform(0, sc.width, n),
                rng.uniform(0.05, 0.3, n) * sc.height,
                rng.uniform(30, 90, n) * s,
                rng.uniform(6, 16, n) * s,
            ]
        )
        self.v = rng.uniform(2, 8) * s * rng.choice([-1, 1])
        self.width = sc.width

    def draw(self, frame: Float, t: float) -> None:
        for x, y, a, b in self.c:
            cx = (x + self.v * t) % (self.width + 2 * a) - a
            cv2.ellipse(
                frame,
                (round(cx), round(y)),
                (round(a), round(b)),
                0,
                0,
                360,
                (90.0, 60.0, 80.0),
                -1,
                cv2.LINE_AA,
            )


class Person:
    """A person in a red or orange top walking across, pausing part of the way, swinging arms and legs."""

    def __init__(self, sc: FireScenario, rng: np.random.Generator) -> None:
        s = sc.width / 640
        self.h = rng.uniform(45, 90) * s * (sc.height / 360) / (sc.width / 640)
        self.y = sc.height * rng.uniform(0.75, 0.95)
        self.speed = rng.uniform(20, 60) * s * rng.choice([-1, 1])
        self.x0 = rng.uniform(0.1, 0.4) * sc.width if self.speed > 0 else rng.uniform(0.6, 0.9) * sc.width
        self.pause_at = rng.uniform(1.0, 5.0)
        self.pause_s = rng.uniform(0.0, 4.0)
        shirts = [(30.0, 30.0, 210.0), (20.0, 90.0, 235.0), (10.0, 60.0, 220.0)]
        self.shirt = shirts[int(rng.integers(len(shirts)))]
        self.gait_hz = rng.uniform(1.6, 2.2)

    def draw(self, frame: Float, t: float) -> None:
        walk_t = t if t < self.pause_at else max(self.pause_at, t - self.pause_s)
        moving = not (self.pause_at <= t < self.pause_at + self.pause_s)
        x = self.x0 + self.speed * walk_t
        h, y = self.h, self.y
        swing = math.sin(2 * math.pi * self.gait_hz * t) * 0.25 * h if moving else 0.02 * h * math.sin(3 * t)
        hip = (x, y - 0.48 * h)
        for sgn in (1, -1):
            cv2.line(
                frame,
                (round(hip[0]), round(hip[1])),
                (round(x + sgn * swing), round(y)),
                (50.0, 40.0, 40.0),
                max(2, round(0.08 * h)),
                cv2.LINE_AA,
            )
        cv2.rectangle(
            frame,
            (round(x - 0.12 * h), round(y - 0.82 * h)),
            (round(x + 0.12 * h), round(y - 0.45 * h)),
            self.shirt,
            -1,
        )
        for sgn in (1, -1):
            cv2.line(
                frame,
                (round(x + sgn * 0.12 * h), round(y - 0.8 * h)),
                (round(x + sgn * (0.14 * h + 0.5 * swing)), round(y - 0.5 * h)),
                self.shirt,
                max(2, round(0.06 * h)),
                cv2.LINE_AA,
            )
        cv2.circle(frame, (round(x), round(y - 0.9 * h)), max(2, round(0.08 * h)), (120.0, 150.0, 190.0), -1)
