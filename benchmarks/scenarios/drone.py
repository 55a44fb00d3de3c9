"""Drone survey scenarios with ground truth: a flight over a generated district, as H.264 video + DJI SRT.

The district comes from `drone_scene` (Shangjie District, Zhengzhou) and the camera from `sim_camera`;
neither shares code, constants or conventions with `detectors/`. A flight is a lawn-mower path (parallel
lines, turns) at one altitude with a nadir or oblique gimbal. Frames are rendered from the *true* pose
with parallax (the ground plane, every roof a textured plane at its height with walls), band-limited
like a camera's pixels, blurred, noised and H.264 encoded. The SRT carries the *measured* pose: the truth
plus what real telemetry gets wrong (GNSS drift, barometric altitude bias, constant gimbal offsets and
jitter), rounded as DJI writes it, in one of two layouts:

- `bracket`: a modern DJI per-frame SRT (`FrameCnt`, clock line, `[focal_len: 24.00]` - a nominal
  35 mm-equivalent focal that says nothing about the video mode's crop - lat/lon, rel/abs altitude,
  `[gb_yaw gb_pitch gb_roll]`);
- `p4rtk`: the Phantom 4 RTK's 1 Hz comma layout (`GPS (lon, lat, sats)`, `H ..m`, `F.PRY`, `G.PRY`),
  with no focal at all.

The camera's true focal (pixels) is a scenario parameter, so a gate can make the truth differ from what
the detector is configured with. Every scenario writes its own registry of registered/permitted
structures next to the video. Rendered flights are cached under `$GRIDWATCH_CACHE/scenarios/drone`,
keyed by the generator's source and the flight's parameters.

The flight plan and its true/measured track are in `drone_flight`, the SRT writer in `drone_srt`; this module
renders, writes and caches whole flights.

Seeds: `TUNING_SEEDS` were used to tune the cue, the self-calibration and the site thresholds;
`GATE_SEEDS` never were, and are what the accuracy gates run on.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
from collections.abc import Iterator
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from benchmarks.scenarios.drone_flight import (
    START_UTC_S,
    FlightPlan,
    FlightTrack,
    enu_to_latlon,
    nadir_plan,
    oblique_plan,
    plan_flight,
)
from benchmarks.scenarios.drone_render import Renderer
from benchmarks.scenarios.drone_scene import build_scene
from benchmarks.scenarios.drone_srt import srt_text
from benchmarks.scenarios.drone_world import Scene
from benchmarks.scenarios.video import write_h264

TUNING_SEEDS: tuple[int, ...] = (1, 2, 3)
"""Scenes the cue, the self-calibration and the site thresholds were tuned on."""
GATE_SEEDS: tuple[int, ...] = (101, 102, 103)
"""Scenes never used for tuning: the accuracy gates'."""
DEMO_SEED = 7

GENERATOR_FILES = (
    "drone.py", "drone_flight.py", "drone_srt.py", "drone_render.py", "drone_scene.py", "drone_world.py",
    "drone_canvas.py", "drone_textures.py", "sim_camera.py", "video.py",
)
"""The generator's source files (this folder): cached flights are keyed by their digest, and none of them may
import the detectors' code."""


def iter_images(scene: Scene, track: FlightTrack, plan: FlightPlan, every: int = 1) -> Iterator[NDArray[np.uint8]]:
    renderer = Renderer(scene, plan.camera, scene.seed + 5)
    for i in range(0, len(track), every):
        yield renderer.frame(track.true_poses[i], i)


# -- SRT -------------------------------------------------------------------------------------------------


def _lonlat(scene: Scene, ring: Any) -> list[list[float]]:
    a = np.asarray(ring, np.float64)
    lat, lon = enu_to_latlon(scene, a[:, 0], a[:, 1])
    return [[round(float(x), 8), round(float(y), 8)] for x, y in zip(lon, lat, strict=True)]


def registry_geojson(scene: Scene) -> dict[str, Any]:
    """The registry of this scene's registered and permitted structures, as a district would keep it."""
    feats = []
    for s in scene.structures:
        if s.status != "registered":
            continue
        ring = _lonlat(scene, s.ring_m)
        props: dict[str, Any] = {"id": s.id, "kind": s.kind}
        if s.kind == "building":
            props["height_m"] = round(s.top_m, 1)
        else:
            props["permit"] = f"ZZ-SJ-{scene.seed}-{s.id}"
        feats.append({"type": "Feature", "properties": props,
                      "geometry": {"type": "Polygon", "coordinates": [[*ring, ring[0]]]}})
    return {"type": "FeatureCollection", "name": f"registry of scenario scene {scene.seed}", "features": feats}


@dataclass(frozen=True)
class FlightFiles:
    """A written scenario: the video, its SRT, the scene's registry and the ground truth."""

    video: Path
    srt: Path
    registry: Path
    truth: Path
    frames: int
    start_utc_s: float


def write_flight(out_dir: str | Path, scene: Scene, plan: FlightPlan, name: str = "flight") -> FlightFiles:
    """Render and encode the flight (H.264 via PyAV); write SRT, registry and truth JSON next to it."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    track = plan_flight(scene, plan)
    video = out / f"{name}.mp4"
    gop = max(1, round(10 * plan.fps))  # a keyframe every 10 s of flight; frames between are P-frames
    frames = write_h264(video, iter_images(scene, track, plan), plan.fps, gop=gop, crf=21, preset="superfast")
    srt = out / f"{name}.SRT"
    srt.write_text(srt_text(track, plan), encoding="utf-8")
    registry = out / f"{name}.registry.geojson"
    registry.write_text(json.dumps(registry_geojson(scene), indent=1), encoding="utf-8")
    truth = out / f"{name}.truth.json"
    cam = plan.camera
    payload = {
        **scene.truth(),
        "structures_lonlat": {s.id: _lonlat(scene, s.ring_m) for s in scene.structures},
        "plan": {**asdict(replace(plan, camera=cam)), "camera_hfov_deg": cam.hfov_deg},
        "telemetry_offsets": track.offsets,
        "frames": frames,
        "start_utc_s": START_UTC_S,
    }
    truth.write_text(json.dumps(payload), encoding="utf-8")
    return FlightFiles(video, srt, registry, truth, frames, START_UTC_S)


def _cache_root() -> Path:
    base = os.environ.get("GRIDWATCH_CACHE") or str(Path.home() / ".cache" / "gridwatch")
    return Path(base) / "scenarios" / "drone"


def _generator_digest() -> str:
    here = Path(__file__).resolve().parent
    h = hashlib.sha256()
    for name in GENERATOR_FILES:
        h.update((here / name).read_bytes())
    return h.hexdigest()[:10]


def cached_flight(scene_seed: int, plan: FlightPlan, name: str, cache_dir: Path | None = None) -> FlightFiles:
    """The flight's files from the cache, rendered on first use (safe when several processes race)."""
    key = hashlib.sha256(
        json.dumps({"seed": scene_seed, "plan": asdict(plan), "gen": _generator_digest()}, sort_keys=True).encode()
    ).hexdigest()[:14]
    root = cache_dir or _cache_root()
    final = root / f"{name}-{key}"
    done = final / "done.json"
    if not done.exists():
        tmp = root / f".{name}-{key}-{os.getpid()}"
        shutil.rmtree(tmp, ignore_errors=True)
        files = write_flight(tmp, build_scene(scene_seed), plan, name="flight")
        (tmp / "done.json").write_text(json.dumps({"frames": files.frames}), encoding="utf-8")
        try:
            tmp.rename(final)
        except OSError:  # another process finished first
            shutil.rmtree(tmp, ignore_errors=True)
        for stale in root.glob(f"{name}-*"):  # earlier generator versions of this flight
            if stale != final and (stale / "done.json").exists():
                shutil.rmtree(stale, ignore_errors=True)
    frames = int(json.loads(done.read_text(encoding="utf-8"))["frames"])
    return FlightFiles(final / "flight.mp4", final / "flight.SRT", final / "flight.registry.geojson",
                       final / "flight.truth.json", frames, START_UTC_S)


def main(argv: list[str] | None = None) -> int:
    """`python -m benchmarks.scenarios.drone OUT_DIR [--seed N] [--kind nadir|oblique] [--focal-px F]`."""
    ap = argparse.ArgumentParser(description=main.__doc__)
    ap.add_argument("out_dir")
    ap.add_argument("--seed", type=int, default=DEMO_SEED)
    ap.add_argument("--kind", choices=["nadir", "oblique"], default="nadir")
    ap.add_argument("--focal-px", type=float, default=1331.0, help="true focal of the camera, pixels at 1920 wide")
    args = ap.parse_args(argv)
    plan = nadir_plan(args.focal_px) if args.kind == "nadir" else oblique_plan(args.focal_px)
    files = write_flight(args.out_dir, build_scene(args.seed), plan, name=f"drone-{args.kind}-seed{args.seed}")
    print(f"wrote {files.frames} frames: {files.video}, {files.srt}, {files.registry}, {files.truth}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
