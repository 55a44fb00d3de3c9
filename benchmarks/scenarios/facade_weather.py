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
import os
from collections.abc import Iterator
from dataclasses import asdict
from fractions import Fraction
from pathlib import Path
from typing import Any, Literal

import av
import cv2
import numpy as np
from numpy.typing import NDArray

from benchmarks.scenarios.facade_weather_render import FrameState
from benchmarks.scenarios.facade_weather_schedule import schedule_distractors, schedule_throws
from benchmarks.scenarios.facade_weather_world import Actor, Building, ReleasedObject, WeatherSceneSpec

__all__ = ["GENERATOR_VERSION", "FacadeWeatherScene", "WeatherSceneSpec", "cached_video"]

GENERATOR_VERSION = "facade_weather-1"
"""Part of every cache key: bump it when a change alters the frames of a given spec."""


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
        self.throws: list[ReleasedObject] = schedule_throws(spec, rng, self.bld)
        self.actors: list[Actor] = schedule_distractors(spec, rng, self.bld, self.corners_px)
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

    def local_px_per_m(self, along_m: float, height_m: float) -> float:
        a = self.to_image(np.array([[along_m, height_m - 0.5], [along_m, height_m + 0.5]]))
        return float(np.hypot(*(a[0] - a[1])))

    def _facade_px_per_m(self) -> float:
        return self.local_px_per_m(self.bld.width_m / 2, self.bld.height_m / 2)

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
        state = FrameState(self, rng)
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

    def sky_mask(self) -> list[list[float]] | None:
        """A polygon (relative coordinates) over the sky above the roofline, with a margin of a storey; None
        when the facade (with that margin) reaches the top of the picture and no sky is seen."""
        s = self.spec
        tl, tr = self.corners_px[3], self.corners_px[2]
        margin = 1.2 * self.local_px_per_m(self.bld.width_m / 2, self.bld.height_m) * self.bld.storey_m
        y = max(0.0, min(tl[1], tr[1]) - margin) / s.height_px
        if y * s.height_px < 1.0:
            return None
        return [[0.0, 0.0], [1.0, 0.0], [1.0, y], [0.0, y]]

    def detector_overrides(self) -> dict[str, Any]:
        """What an operator writes for this camera: the facade calibration and a sky mask."""
        sky = self.sky_mask()
        return {"facade": self.calibration(), "foreground": {"sky_masks": [sky] if sky else []}}

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
        fast_decode: bool = False,
    ) -> Path:
        """Encode with PyAV (libx264 or libx265), each frame at its own pts (variable timing kept).

        `fast_decode` tunes the encoder for cheap decoding (no CABAC, no deblocking: about half the decode
        CPU, measured 3.5 -> 1.7 ms per 960x540 frame, for ~15 % more bytes), for files decoded many times."""
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
            if fast_decode:
                opts["tune"] = "fastdecode"
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


def cached_video(spec: WeatherSceneSpec, cache_dir: Path | None = None, crf: int = 18) -> Path:
    """The scene encoded once (H.264, nearly lossless, tuned for fast decoding) under the cache, keyed by
    the spec and generator version, so a long distractor run costs a decode, not a render, after its first
    time."""
    root = cache_dir or Path(os.environ.get("GRIDWATCH_CACHE", Path.home() / ".cache" / "gridwatch"))
    recipe = f"{GENERATOR_VERSION}|{crf}|fastdecode|{sorted(asdict(spec).items())}"
    key = hashlib.sha256(recipe.encode()).hexdigest()[:20]
    path = root / "scenarios" / "facade-weather" / f"{key}.mkv"
    if path.exists() and path.with_suffix(".json").exists():
        return path
    tmp = path.with_name(f"{key}.part.mkv")
    FacadeWeatherScene(spec).write_video(tmp, crf=crf, fast_decode=True)
    tmp.with_suffix(".json").replace(path.with_suffix(".json"))
    tmp.replace(path)
    return path
