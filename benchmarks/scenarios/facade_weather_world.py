"""What a generator B scene is made of: its spec, the building's flat facade, thrown objects, distractors.

Part of `benchmarks.scenarios.facade_weather` (read its docstring); like it, shares nothing with the
detector or with generator A.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import cv2
import numpy as np
from numpy.typing import NDArray

GRAVITY = 9.81


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
