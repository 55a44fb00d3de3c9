"""The random timetable of a throw scene: which objects are released from where and when, and which
distractors (birds, insects, leaves, street traffic, lights, curtains, flashes, exposure steps, gusts,
rain) come and go.

Everything draws from the scene's generator in a fixed order, so a seed always gives the same video; the
scene draws its camera, facade and noise before the schedule and its calibration clicks after it.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from benchmarks.scenarios.throw_camera import Camera
from benchmarks.scenarios.throw_painters import Mover
from benchmarks.scenarios.throw_spec import ThrowScenarioSpec, ThrowTruth

G_M_S2 = 9.80665
_SUBSTEPS = 10


class ThrowSchedule:
    """Draws the throws (`throws`, with their truth) and every mover (`movers`, sorted by start time)."""

    def __init__(
        self,
        spec: ThrowScenarioSpec,
        rng: np.random.Generator,
        cam: Camera,
        facade_size_m: tuple[float, float],
    ) -> None:
        self._spec, self._rng, self._cam = spec, rng, cam
        self._facade_w_m, self._facade_h_m = facade_size_m
        self.throws: list[ThrowTruth] = []
        self.movers: list[Mover] = []
        self._build()

    def _build(self) -> None:
        s, rng = self._spec, self._rng
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
                    self.movers.append(Mover("rain", t, min(dur, t + length), {"n": int(rng.integers(15, 70))}))
                t += length
        self.movers.sort(key=lambda m: m.t0)

    def _poisson(self, kind: str, rate_per_s: float, life_s: tuple[float, float]) -> None:
        if rate_per_s <= 0:
            return
        t = float(self._rng.exponential(1 / rate_per_s))
        while t < self._spec.duration_s:
            life = float(self._rng.uniform(*life_s))
            self.movers.append(Mover(kind, t, t + life, self._params(kind, t, life)))
            t += float(self._rng.exponential(1 / rate_per_s))

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
        rng = self._rng
        w_m, h_m = self._facade_w_m, self._facade_h_m
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
        s, rng = self._spec, self._rng
        return {
            "p": np.array([rng.uniform(0, s.width_px), rng.uniform(0, s.height_px)]),
            "v": rng.normal(0, 4 * s.scale * 2, 2),
            "size": float(rng.uniform(1.0, 3.0)) * s.scale * 2,
            "grey": int(rng.choice([30, 220])),
        }

    def _leaf_params(self) -> dict[str, Any]:
        """A leaf or sheet of paper fluttering down at a slow steady speed."""
        rng = self._rng
        w_m, h_m = self._facade_w_m, self._facade_h_m
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
        rng = self._rng
        w_m = self._facade_w_m
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
        s, rng = self._spec, self._rng
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
        s, rng = self._spec, self._rng
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
        uv = self._cam.project(at)[0]
        track_px = [
            (round(float(a), 4), round(float(u), 2), round(float(v), 2)) for a, (u, v) in zip(frame_t, uv, strict=True)
        ]
        truth = ThrowTruth(
            throw_id=k,
            floor=floor,
            column=column_name(col),
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
            Mover(
                "throw",
                t_rel,
                t_rel + landing + 3.0,
                {"times": times, "pos": pos, "size": size, "bgr": tuple(bgr), "truth": truth},
            )
        )


def column_name(col: int) -> str:
    """The column letter an operator reads on the facade (A, B, ...; C26 onwards past Z)."""
    return chr(ord("A") + col) if col < 26 else f"C{col}"
