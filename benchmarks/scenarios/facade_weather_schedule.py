"""When and how things happen in a generator B scene: the thrown objects and the distractors, drawn up front.

Part of `benchmarks.scenarios.facade_weather` (read its docstring); like it, shares nothing with the
detector or with generator A. Every draw comes from the scene's generator in a fixed order, so a spec's
seed fixes the schedule: add draws at the end, never in between, or bump `GENERATOR_VERSION`.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import NDArray

from benchmarks.scenarios.facade_weather_world import GRAVITY, Actor, Building, ReleasedObject, WeatherSceneSpec

__all__ = ["schedule_distractors", "schedule_throws"]

_INTEGRATION_HZ = 200.0


def schedule_throws(spec: WeatherSceneSpec, rng: np.random.Generator, bld: Building) -> list[ReleasedObject]:
    """`spec.throws` objects, one per equal slot of the video, each released and landed inside its slot."""
    throws: list[ReleasedObject] = []
    if spec.throws <= 0:
        return throws
    slot = spec.duration_s / spec.throws
    for k in range(spec.throws):
        floor = int(rng.integers(max(1, spec.min_throw_floor), bld.floors + 1))
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
        throws.append(
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
    return throws


def schedule_distractors(
    spec: WeatherSceneSpec, rng: np.random.Generator, bld: Building, corners_px: NDArray[np.float64]
) -> list[Actor]:
    """Every distractor of the video, sorted by start; `corners_px` (the facade's image corners, bottom
    first) puts people and cars on the ground line."""
    draw = _ActorDraw(spec, rng, bld, float(max(corners_px[0, 1], corners_px[1, 1])))
    actors: list[Actor] = []
    draw.poisson(actors, "bird", spec.birds_per_min, (1.5, 5.0))
    draw.poisson(actors, "leaf", spec.leaves_per_min, (4.0, 12.0))
    draw.poisson(actors, "insect", spec.insects_per_min, (0.8, 3.0))
    draw.poisson(actors, "light", spec.light_switches_per_min, (0.0, 0.0))
    draw.poisson(actors, "person", spec.people_per_min, (8.0, 25.0))
    draw.poisson(actors, "car", spec.cars_per_min, (3.0, 8.0))
    for _ in range(spec.laundry):
        actors.append(Actor("laundry", 0.0, spec.duration_s, draw.params("laundry", spec.duration_s)))
    actors.sort(key=lambda a: a.t0)
    return actors


class _ActorDraw:
    """Draws distractors' arrival times and per-kind parameters from the scene's generator."""

    def __init__(self, spec: WeatherSceneSpec, rng: np.random.Generator, bld: Building, y_ground_px: float):
        self.spec, self.rng, self.bld = spec, rng, bld
        self.y_ground_px = y_ground_px

    def poisson(self, actors: list[Actor], kind: str, per_min: float, life: tuple[float, float]) -> None:
        """Append arrivals of `kind` at `per_min` (exponential gaps), each living a uniform span of `life`."""
        rng = self.rng
        if per_min <= 0:
            return
        t = float(rng.exponential(60.0 / per_min))
        while t < self.spec.duration_s:
            span = float(rng.uniform(*life))
            actors.append(Actor(kind, t, t + span, self.params(kind, span)))
            t += float(rng.exponential(60.0 / per_min))

    def params(self, kind: str, span: float) -> dict[str, Any]:
        rng, bld, s = self.rng, self.bld, self.spec
        if kind == "bird":
            return self._bird(span)
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
            speed = float(rng.uniform(40, 90) if kind == "person" else rng.uniform(150, 400))
            direction = 1.0 if rng.random() < 0.5 else -1.0
            return {
                "x0": -60.0 if direction > 0 else s.width_px + 60.0,
                "y": self.y_ground_px + float(rng.uniform(6, 30)),
                "v": speed * direction,
                "bgr": tuple(int(c) for c in rng.integers(30, 220, 3)),
            }
        if kind == "laundry":
            return self._laundry()
        return {}

    def _bird(self, span: float) -> dict[str, Any]:
        rng, bld, s = self.rng, self.bld, self.spec
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

    def _laundry(self) -> dict[str, Any]:
        rng, bld = self.rng, self.bld
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
