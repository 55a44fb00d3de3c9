"""A district's cameras for `gridwatch bench district`: mostly quiet streets, some traffic, night lamps, a few fires.

Built from the independent street-scene generator (`fire_street`, `street_scene`, `street_actors`,
`street_fire`), which shares no code, colour rule or constant with the fire detector or with gridwatch's
gating. Each camera is drawn from (seed, index) alone:

- `static`: a street at day, dusk or night with nothing moving; half of them with an orange sign or a
  sodium light in view (still look-alikes);
- `traffic`: a red car, a car with head lights, and/or a person in a red or hi-vis jacket passing;
- `night_lamps`: a night street with a blinking amber warning lamp and a sodium light, sometimes a car;
- `fire`: a street where a flame ignites at a known time (8-16 s in: the gate has settled by then) beside
  one or two look-alikes, and grows with a smoke plume.

Frames are drawn at 1280x720 (the size the actors are drawn for) and shrunk to the camera's analysed
stream, by default a 640x360 sub-stream at 25 fps as the district example's fire cameras send, then
compressed at a low bit rate (0.4-0.9 Mbit/s) with libx264. Ground truth (ignition time, the flame's box
per frame in stream pixels) goes to a JSON file next to each clip, read only by the bench's scorer.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator, Sequence
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any, Literal

import cv2
import numpy as np
from numpy.typing import NDArray

from benchmarks.scenarios.fire_street import StreetClip, encode, make_clip, render

Kind = Literal["static", "traffic", "night_lamps", "fire"]

MIX_VERSION = 1
"""Bumped whenever the drawing or the mix changes, so cached clips of an older mix are made again."""

DURATION_S = 30.0
FPS = 25.0
SHARES: tuple[tuple[Kind, float], ...] = (("fire", 0.2), ("night_lamps", 0.15), ("traffic", 0.2))
"""Share of each kind among the cameras; the rest are `static`."""


@dataclass(frozen=True)
class DistrictCamera:
    """One camera of the mix: its kind, the street clip drawn for it, and the stream it is encoded as."""

    name: str
    kind: Kind
    clip: StreetClip
    width: int
    height: int
    bitrate_kbps: int

    @property
    def ignition_s(self) -> float | None:
        return self.clip.ignition_s


def kinds_for(n: int) -> list[Kind]:
    """The kind of each of `n` cameras: at least one fire, the shares of `SHARES`, the rest static."""
    out: list[Kind] = []
    for kind, share in SHARES:
        count = max(1, round(n * share)) if kind == "fire" else round(n * share)
        out += [kind] * count
    out += ["static"] * max(0, n - len(out))
    return out[:n]


def _positions(rng: np.random.Generator, count: int, avoid_x: float | None, width: int) -> tuple[float, ...]:
    xs: list[float] = []
    for _ in range(count):
        x = float(rng.uniform(60, width - 60))
        for _ in range(50):
            far = avoid_x is None or abs(x - avoid_x) > 140
            if far and all(abs(x - p) > 120 for p in xs):
                break
            x = float(rng.uniform(60, width - 60))
        xs.append(x)
    return tuple(xs)


def make_camera(
    kind: Kind, seed: int, index: int, width: int = 640, height: int = 360, duration_s: float = DURATION_S,
) -> DistrictCamera:
    """Draw one camera of `kind` (clip, look-alikes, light, bit rate) from (seed, index); a fire ignites
    8-16 s in (at most half-way through a shorter clip)."""
    rng = np.random.default_rng([seed, index, 1812])
    base = make_clip("fire" if kind == "fire" else "distractor", seed * 1000 + index)
    lighting = "night" if kind == "night_lamps" else base.lighting
    distractors: tuple[str, ...]
    if kind == "static":
        distractors = (str(rng.choice(["orange_sign", "sodium_light"])),) if rng.random() < 0.5 else ()
    elif kind == "traffic":
        pool = ["red_car", "headlights", "walker_red"]
        distractors = tuple(str(d) for d in rng.choice(pool, size=int(rng.integers(1, 3)), replace=False))
    elif kind == "night_lamps":
        distractors = ("warning_lamp", "sodium_light") + (("headlights",) if rng.random() < 0.4 else ())
    else:
        distractors = base.distractors[: int(rng.integers(1, 3))]
    flame = base.flame
    if flame is not None:
        flame = replace(flame, ignition_s=round(min(float(rng.uniform(8.0, 16.0)), duration_s / 2), 2))
    fire_x = flame.base_x if flame is not None else None
    clip = replace(
        base, name=f"district-{seed}-{index:03d}-{kind}", fps=FPS, duration_s=duration_s, lighting=lighting,
        codec="libx264", distractors=distractors, positions_x=_positions(rng, len(distractors), fire_x, base.width),
        flame=flame,
    )
    return DistrictCamera(clip.name, kind, clip, width, height, int(rng.integers(400, 900)))


def district(
    n: int, seed: int, width: int = 640, height: int = 360, duration_s: float = DURATION_S,
) -> list[DistrictCamera]:
    """`n` cameras of the mix (see `kinds_for`), in a fixed order."""
    return [make_camera(kind, seed, i, width, height, duration_s) for i, kind in enumerate(kinds_for(n))]


@dataclass(frozen=True)
class CameraFiles:
    camera: DistrictCamera
    video: Path
    truth: Path


def _digest(cam: DistrictCamera) -> str:
    text = json.dumps({"v": MIX_VERSION, "camera": asdict(cam)}, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def write_camera(cam: DistrictCamera, out_dir: str | Path) -> CameraFiles:
    """Draw, shrink and encode one camera's clip into `out_dir` (reused when the spec is unchanged)."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    video, truth_path = out / f"{cam.name}.mp4", out / f"{cam.name}.json"
    digest = _digest(cam)
    if video.is_file() and truth_path.is_file():
        try:
            if json.loads(truth_path.read_text(encoding="utf-8")).get("spec_hash") == digest:
                return CameraFiles(cam, video, truth_path)
        except (OSError, ValueError):
            pass
    sx, sy = cam.width / cam.clip.width, cam.height / cam.clip.height
    boxes: list[dict[str, Any]] = []

    def frames() -> Iterator[NDArray[np.uint8]]:
        for i, (drawn, box) in enumerate(render(cam.clip)):
            if box is not None:
                xyxy = [box[0] * sx, box[1] * sy, box[2] * sx, box[3] * sy]
                boxes.append({"t_s": round(i / cam.clip.fps, 4), "xyxy": [round(v, 1) for v in xyxy]})
            same = (cam.width, cam.height) == (cam.clip.width, cam.clip.height)
            yield drawn if same else np.asarray(
                cv2.resize(drawn, (cam.width, cam.height), interpolation=cv2.INTER_AREA), np.uint8)

    tmp = video.with_suffix(".part.mp4")
    encode(tmp, frames(), cam.clip.fps, cam.clip.codec, cam.bitrate_kbps)
    tmp.replace(video)
    truth = {"spec_hash": digest, "camera": cam.name, "kind": cam.kind, "fire": cam.kind == "fire",
             "ignition_s": cam.ignition_s, "width": cam.width, "height": cam.height, "fps": cam.clip.fps,
             "duration_s": cam.clip.duration_s, "lighting": cam.clip.lighting,
             "distractors": list(cam.clip.distractors), "boxes": boxes}
    truth_path.write_text(json.dumps(truth, indent=1), encoding="utf-8")
    return CameraFiles(cam, video, truth_path)


def write_district(cameras: Sequence[DistrictCamera], out_dir: str | Path) -> list[CameraFiles]:
    """Every camera's clip (made once, then reused from `out_dir`)."""
    return [write_camera(cam, out_dir) for cam in cameras]
