"""Independent 1280x720 street scenes for the fire detector: fires next to look-alikes, and look-alikes alone.

This generator was written apart from the fire detector and from `benchmarks.scenarios.fire` (the scenes
the cue defaults were first tuned on) and shares no code, colour rule or constant with either:

- flames are heat fields drawn in one of three styles (a steady veil with streaming turbulence, leaning
  tongues, rising puffs), coloured by our own heat ramp with a white-hot core, starting about 13x26 px and
  growing to 55-80 px wide over 6-12 s, with a smoke plume above (`street_fire`);
- streets are facades with windows, pavement and road under day, dusk or night light (`street_scene`);
- look-alikes are a blinking amber warning lamp, an orange sign, a sodium street light, a red car, a
  person in a red or hi-vis jacket, and a car with its head lights on (`street_actors`);
- clips run at 10, 15, 25 or 30 fps and are compressed at a low bit rate (0.5-1.5 Mbit/s) with real
  FFmpeg encoders through PyAV (libx264 or libx265), then decoded again by whoever reads them.

Each clip is drawn from (category, seed) alone. Ground truth (ignition time, the flame's box per frame)
goes to a JSON file next to the video and is read only by the scorer (`fire_street_score`).

CLI: `python -m benchmarks.scenarios.fire_street --out var/street --seeds 1 2` writes the clips.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import math
from collections.abc import Iterator, Sequence
from dataclasses import asdict, dataclass, field
from fractions import Fraction
from pathlib import Path
from typing import Any, Literal, Protocol

import av
import cv2
import numpy as np
from numpy.typing import NDArray

from benchmarks.scenarios.street_actors import DISTRACTORS, Car, OrangeSign, SodiumLight, Walker, WarningLamp
from benchmarks.scenarios.street_fire import FLAME_STYLES, Flame, FlameSpec, SmokePlume
from benchmarks.scenarios.street_scene import build_background, layout_for

Float = NDArray[np.float32]
Image = NDArray[np.uint8]
Box = tuple[float, float, float, float]
Category = Literal["fire", "distractor"]

GENERATOR_VERSION = 2
"""Bumped whenever drawing changes, so cached clips of an older drawing are made again."""

FPS_CHOICES: tuple[float, ...] = (10.0, 15.0, 25.0, 30.0)
LIGHTING: tuple[str, ...] = ("day", "dusk", "night")
WIDTH, HEIGHT = 1280, 720


@dataclass(frozen=True)
class StreetClip:
    """Everything needed to draw and encode one clip, drawn from (category, seed)."""

    name: str
    category: Category
    seed: int
    fps: float
    duration_s: float
    lighting: str
    codec: str
    bitrate_kbps: int
    noise_sigma: float
    shake_px: float
    distractors: tuple[str, ...]
    positions_x: tuple[float, ...]
    flame: FlameSpec | None = None
    width: int = WIDTH
    height: int = HEIGHT
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def ignition_s(self) -> float | None:
        return None if self.flame is None else self.flame.ignition_s


def make_clip(category: Category, seed: int) -> StreetClip:
    """Draw one clip's frame rate, light, codec, bit rate, look-alikes and (for fires) its flame."""
    rng = np.random.default_rng([seed, 0 if category == "fire" else 1, 4711])
    fps = FPS_CHOICES[int(rng.integers(len(FPS_CHOICES)))]
    lighting = LIGHTING[int(rng.integers(len(LIGHTING)))]
    codec = "libx265" if rng.random() < 0.35 else "libx264"
    bitrate = int(rng.integers(500, 1500))
    count = 2 if category == "fire" else 3
    distractors = tuple(str(d) for d in rng.choice(DISTRACTORS, size=count, replace=False))
    flame: FlameSpec | None = None
    fire_x = float(rng.uniform(0.15, 0.85) * WIDTH)
    if category == "fire":
        layout = layout_for(WIDTH, HEIGHT, np.random.default_rng([seed, 77]))
        flame = FlameSpec(
            base_x=fire_x,
            base_y=float(layout.pavement_y + (layout.kerb_y - layout.pavement_y) * rng.uniform(0.1, 0.9)),
            ignition_s=round(float(rng.uniform(1.0, 2.5)), 2),
            start_w_px=float(rng.uniform(11.0, 15.0)),
            full_w_px=float(rng.uniform(55.0, 80.0)),
            start_aspect=float(rng.uniform(1.8, 2.2)),
            full_aspect=float(rng.uniform(1.5, 1.9)),
            growth_s=float(rng.uniform(6.0, 12.0)),
            style=FLAME_STYLES[int(rng.integers(len(FLAME_STYLES)))],
            rise_px_s=float(rng.uniform(60.0, 140.0)),
            sway_hz=float(rng.uniform(0.3, 0.9)),
            yellowness=float(rng.uniform(0.8, 1.05)),
            smoke_delay_s=float(rng.uniform(0.5, 2.5)),
            smoke_grey=float(rng.uniform(150, 200) if rng.random() < 0.6 else rng.uniform(60, 100)),
            smoke_opacity=float(rng.uniform(0.4, 0.75)),
            wind_px_s=float(rng.uniform(-25.0, 25.0)),
        )
    positions: list[float] = []
    for d in distractors:
        # Look-alikes stand beside the fire, never on it: an orange sign may be right next to it.
        near = (70.0, 130.0) if d == "orange_sign" and category == "fire" else (140.0, 500.0)
        for _ in range(50):
            x = fire_x + float(rng.choice([-1, 1]) * rng.uniform(*near))
            if 40 < x < WIDTH - 40 and all(abs(x - p) > 90 for p in positions):
                break
        positions.append(x)
    duration = (flame.ignition_s + 9.0) if flame is not None else 12.0
    return StreetClip(
        name=f"street-{category}-{seed}",
        category=category,
        seed=seed,
        fps=fps,
        duration_s=round(duration, 2),
        lighting=lighting,
        codec=codec,
        bitrate_kbps=bitrate,
        noise_sigma=round(float(rng.uniform(1.5, 4.0)), 2),
        shake_px=round(float(rng.uniform(0.2, 0.8)), 2) if rng.random() < 0.3 else 0.0,
        distractors=distractors,
        positions_x=tuple(round(p, 1) for p in positions),
        flame=flame,
    )


def suite(seeds: Sequence[int]) -> list[StreetClip]:
    """Per seed: one fire clip (with two look-alikes in view) and one clip of three look-alikes alone."""
    return [make_clip(category, seed) for seed in seeds for category in ("fire", "distractor")]


# --------------------------------------------------------------------------- drawing


class _Actor(Protocol):
    def draw(self, frame: Float, t: float) -> None: ...


def _actors(clip: StreetClip) -> tuple[list[_Actor], Flame | None]:
    layout = layout_for(clip.width, clip.height, np.random.default_rng([clip.seed, 77]))
    actors: list[_Actor] = []
    for i, (kind, x) in enumerate(zip(clip.distractors, clip.positions_x, strict=True)):
        rng = np.random.default_rng([clip.seed, 500 + i])
        if kind == "warning_lamp":
            actors.append(WarningLamp(layout, rng, clip.lighting, x))
        elif kind == "orange_sign":
            actors.append(OrangeSign(layout, rng, clip.lighting, x))
        elif kind == "sodium_light":
            actors.append(SodiumLight(layout, rng, "dusk" if clip.lighting == "day" else clip.lighting, x))
        elif kind == "red_car":
            paints = ((30.0, 30.0, 200.0), (25.0, 70.0, 220.0), (15.0, 20.0, 150.0))
            actors.append(Car(layout, rng, clip.lighting, paints[int(rng.integers(3))], clip.duration_s))
        elif kind == "walker_red":
            actors.append(Walker(layout, rng, clip.lighting, clip.duration_s))
        elif kind == "headlights":
            actors.append(Car(layout, rng, "night" if clip.lighting == "night" else "dusk", (60.0, 60.0, 60.0),
                              clip.duration_s))
        else:
            raise ValueError(f"unknown look-alike {kind!r}")
    flame = None
    if clip.flame is not None:
        night = clip.lighting == "night"
        flame = Flame(clip.flame, clip.seed, night)
        actors.append(SmokePlume(clip.flame, flame, clip.seed, night))
    return actors, flame


def render(clip: StreetClip) -> Iterator[tuple[Image, Box | None]]:
    """Frames (BGR uint8, before compression) with the flame's ground-truth box (None: no flame)."""
    layout = layout_for(clip.width, clip.height, np.random.default_rng([clip.seed, 77]))
    bg = build_background(layout, clip.lighting, clip.seed)
    actors, flame = _actors(clip)
    rng = np.random.default_rng([clip.seed, 9090])
    bank = [rng.normal(0.0, clip.noise_sigma, (clip.height, clip.width)).astype(np.float32) for _ in range(5)]
    for i in range(round(clip.duration_s * clip.fps)):
        t = i / clip.fps
        frame = bg * np.float32(1.0 + 0.008 * math.sin(2 * math.pi * 0.21 * t))  # slow exposure drift
        for actor in actors:
            actor.draw(frame, t)
        truth = flame.draw(frame, t) if flame is not None else None
        if clip.shake_px > 0:
            dx, dy = rng.normal(0.0, clip.shake_px, 2)
            frame = np.asarray(cv2.warpAffine(frame, np.array([[1, 0, dx], [0, 1, dy]], np.float32),
                                              (clip.width, clip.height), borderMode=cv2.BORDER_REFLECT), np.float32)
        noise = bank[int(rng.integers(len(bank)))]
        if rng.random() < 0.5:
            noise = noise[::-1, ::-1]
        frame += noise[..., None]
        yield np.clip(frame, 0, 255).astype(np.uint8), truth


# --------------------------------------------------------------------------- encoding


@dataclass(frozen=True)
class ClipFiles:
    clip: StreetClip
    video: Path
    truth: Path


def _spec_hash(clip: StreetClip) -> str:
    text = json.dumps({"v": GENERATOR_VERSION, "clip": asdict(clip)}, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def encode(path: Path, frames: Iterator[Image], fps: float, codec: str, bitrate_kbps: int) -> int:
    """Encode BGR frames with FFmpeg's `codec` (libx264/libx265) at a target bit rate, as a cheap camera does."""
    rate = Fraction(fps).limit_denominator(1001)
    n = 0
    with av.open(str(path), "w") as container:
        stream = container.add_stream(codec, rate=rate)
        if not isinstance(stream, av.VideoStream):
            raise ValueError(f"{codec} is not a video encoder")
        stream.pix_fmt = "yuv420p"
        stream.bit_rate = bitrate_kbps * 1000
        gop = str(max(1, round(2 * fps)))
        if codec == "libx265":
            stream.options = {"preset": "ultrafast", "x265-params": f"log-level=error:keyint={gop}:bframes=0"}
        else:
            stream.options = {"preset": "veryfast", "g": gop, "bf": "0"}
        for image in frames:
            if n == 0:
                stream.height, stream.width = image.shape[:2]
            for packet in stream.encode(av.VideoFrame.from_ndarray(np.ascontiguousarray(image), format="bgr24")):
                container.mux(packet)
            n += 1
        for packet in stream.encode():
            container.mux(packet)
    return n


def write_clip(clip: StreetClip, out_dir: str | Path) -> ClipFiles:
    """Draw and encode `clip` into `out_dir` (`<name>.mp4` + `<name>.json`); reuse files of the same spec."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    video, truth_path = out / f"{clip.name}.mp4", out / f"{clip.name}.json"
    digest = _spec_hash(clip)
    if video.is_file() and truth_path.is_file():
        try:
            if json.loads(truth_path.read_text(encoding="utf-8")).get("spec_hash") == digest:
                return ClipFiles(clip, video, truth_path)
        except (OSError, ValueError):
            pass
    boxes: list[dict[str, Any]] = []

    def frames() -> Iterator[Image]:
        for i, (img, box) in enumerate(render(clip)):
            if box is not None:
                boxes.append({"t_s": round(i / clip.fps, 4), "xyxy": [round(v, 1) for v in box]})
            yield img

    tmp = video.with_suffix(".part.mp4")
    encode(tmp, frames(), clip.fps, clip.codec, clip.bitrate_kbps)
    tmp.replace(video)
    truth = {
        "spec_hash": digest,
        "clip": asdict(clip),
        "kind": "fire" if clip.flame is not None else None,
        "ignition_s": clip.ignition_s,
        "boxes": boxes,
    }
    truth_path.write_text(json.dumps(truth, indent=1), encoding="utf-8")
    return ClipFiles(clip, video, truth_path)


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description="Write independent street-scene fire clips with ground truth.")
    ap.add_argument("--out", default="var/street", help="output directory")
    ap.add_argument("--seeds", type=int, nargs="+", required=True, help="each makes a fire and a look-alike clip")
    ap.add_argument("--png", action="store_true", help="also write a still of each clip's last frame")
    args = ap.parse_args(argv)
    for clip in suite(args.seeds):
        files = write_clip(clip, args.out)
        print(files.video, clip.fps, clip.lighting, clip.codec, clip.bitrate_kbps, clip.distractors,
              clip.flame.style if clip.flame else "-")
        if args.png:
            with av.open(str(files.video)) as container:
                last = None
                for vf in container.decode(video=0):
                    last = vf
                if last is not None:
                    cv2.imwrite(str(files.video.with_suffix(".png")), last.to_ndarray(format="bgr24"))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
