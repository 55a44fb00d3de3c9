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

Seeds: `TUNING_SEEDS` were used to tune the cue, the self-calibration and the site thresholds;
`GATE_SEEDS` never were, and are what the accuracy gates run on.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import math
import os
import shutil
import time
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any, Literal

import numpy as np
from numpy.typing import NDArray

from benchmarks.scenarios.drone_render import Renderer
from benchmarks.scenarios.drone_scene import build_scene
from benchmarks.scenarios.drone_world import Scene
from benchmarks.scenarios.sim_camera import SimCamera, SimPose
from benchmarks.scenarios.video import write_h264

TUNING_SEEDS: tuple[int, ...] = (1, 2, 3)
"""Scenes the cue, the self-calibration and the site thresholds were tuned on."""
GATE_SEEDS: tuple[int, ...] = (101, 102, 103)
"""Scenes never used for tuning: the accuracy gates'."""
DEMO_SEED = 7

START_UTC_S = 1_779_876_000.0  # 2026-05-27T10:00:00Z
TAKEOFF_MSL_M = 96.0  # Zhengzhou lies about 100 m above sea level
_EARTH_RADIUS_M = 6_371_008.8

SrtLayout = Literal["bracket", "p4rtk"]

GENERATOR_FILES = (
    "drone.py", "drone_render.py", "drone_scene.py", "drone_world.py", "drone_canvas.py", "drone_textures.py",
    "sim_camera.py", "video.py",
)
"""The generator's source files (this folder): cached flights are keyed by their digest, and none of them may
import the detectors' code."""


@dataclass(frozen=True)
class TelemetryErrors:
    """What the SRT gets wrong (1-sigma drifts and constant offsets), drawn per flight from the seed.

    Constant attitude errors are physical: the camera is mounted slightly off the gimbal's reported
    attitude (a boresight rotation in camera axes) and the compass is off (a heading error).
    """

    gnss_sigma_m: float = 0.7
    """Horizontal GNSS drift per axis (RTK: a few centimetres)."""
    gnss_tau_s: float = 60.0
    altitude_bias_max_m: float = 1.0
    """Constant barometric/take-off height error, uniform in +-this."""
    altitude_sigma_m: float = 0.3
    boresight_max_deg: float = 1.5
    """Camera mounting error about the image's x and y axes, magnitude uniform in 0.4-1 of this."""
    boresight_roll_max_deg: float = 0.4
    """Mounting error about the optical axis."""
    compass_max_deg: float = 3.0
    wobble_deg: float = 0.08
    """The gimbal's real attitude wander (the image moves; telemetry follows it)."""
    tilt_noise_deg: float = 0.15
    """Telemetry noise of the reported pitch and roll (the image does not move)."""
    yaw_noise_deg: float = 0.4
    noise_tau_s: float = 8.0


@dataclass(frozen=True)
class FlightPlan:
    """A lawn-mower survey: parallel lines `line_spacing_m` apart at `bearing_deg`, at one altitude."""

    camera: SimCamera
    altitude_m: float = 100.0
    speed_m_s: float = 15.0
    line_spacing_m: float = 60.0
    bearing_deg: float = 0.0
    gimbal_pitch_deg: float = -90.0
    fps: float = 1.0
    srt: SrtLayout = "bracket"
    srt_focal_35mm: float | None = 24.0
    """What the SRT's focal_len says (bracket layout only); nominal, whatever the true focal is."""
    errors: TelemetryErrors = field(default_factory=TelemetryErrors)
    overshoot_m: float = 45.0


def nadir_plan(focal_px: float, **kw: Any) -> FlightPlan:
    """The issue's nadir flight: 100 m, gimbal -90, 1920x1080, per-frame bracket SRT with focal_len 24."""
    cam = SimCamera(1920, 1080, focal_px, principal_dx_px=6.0, principal_dy_px=-4.0)
    return FlightPlan(camera=cam, **kw)


def oblique_plan(focal_px: float, **kw: Any) -> FlightPlan:
    """The issue's oblique flight: 80 m, gimbal -55, 1920x1080, 1 Hz Phantom 4 RTK SRT (RTK positions)."""
    cam = SimCamera(1920, 1080, focal_px, principal_dx_px=-5.0, principal_dy_px=3.0)
    defaults: dict[str, Any] = {
        "altitude_m": 80.0,
        "gimbal_pitch_deg": -55.0,
        "line_spacing_m": 55.0,
        "srt": "p4rtk",
        "srt_focal_35mm": None,
        "errors": TelemetryErrors(gnss_sigma_m=0.05, altitude_bias_max_m=0.5),
    }
    return FlightPlan(camera=cam, **{**defaults, **kw})


@dataclass(frozen=True)
class FlightTrack:
    """Per-frame true poses and the measured telemetry of one flight."""

    t_s: NDArray[np.float64]
    true_poses: tuple[SimPose, ...]
    measured: dict[str, NDArray[np.float64]]
    """lat, lon, rel_alt, abs_alt, yaw, pitch, roll, aircraft_yaw, speed as written to the SRT."""
    offsets: dict[str, float]
    """The constant telemetry offsets drawn for this flight (truth, for the scorer and reports)."""

    def __len__(self) -> int:
        return int(self.t_s.shape[0])


def _waypoints(scene: Scene, plan: FlightPlan) -> NDArray[np.float64]:
    b = math.radians(plan.bearing_deg)
    along = np.array([math.sin(b), math.cos(b)])
    across = np.array([math.cos(b), -math.sin(b)])
    half = scene.size_m / 2
    ahead = plan.altitude_m * math.tan(math.radians(90 + plan.gimbal_pitch_deg))
    reach = half + ahead + plan.overshoot_m
    offsets = np.arange(-half + plan.line_spacing_m / 2, half, plan.line_spacing_m)
    pts = []
    for k, off in enumerate(offsets):
        ends = [-reach, reach] if k % 2 == 0 else [reach, -reach]
        # an oblique camera looks ahead: shift each line back so the footprint, not the drone, covers it
        back = -ahead * (1 if k % 2 == 0 else -1)
        pts += [across * off + along * (e + back) for e in ends]
    return np.array(pts)


def _drift(rng: np.random.Generator, n: int, dt: float, sigma: float, tau: float) -> NDArray[np.float64]:
    """A stationary first-order Gauss-Markov process with standard deviation `sigma`."""
    phi = math.exp(-dt / tau)
    out = np.empty(n)
    x = rng.normal(0, sigma)
    q = sigma * math.sqrt(1 - phi * phi)
    for i in range(n):
        out[i] = x
        x = phi * x + rng.normal(0, q)
    return out


def _enu_to_latlon(scene: Scene, east: NDArray[np.float64], north: NDArray[np.float64]) -> tuple[
    NDArray[np.float64], NDArray[np.float64]
]:
    """Local metres -> degrees on a sphere (accurate to millimetres over a few hundred metres)."""
    lat = scene.origin_lat_deg + np.degrees(north / _EARTH_RADIUS_M)
    lon = scene.origin_lon_deg + np.degrees(east / (_EARTH_RADIUS_M * math.cos(math.radians(scene.origin_lat_deg))))
    return lat, lon


def plan_flight(scene: Scene, plan: FlightPlan, seed: int = 0) -> FlightTrack:
    """Sample the path at `plan.fps`: true poses for rendering, measured telemetry for the SRT."""
    rng = np.random.default_rng([scene.seed, seed, round(plan.altitude_m), round(-plan.gimbal_pitch_deg)])
    wps = _waypoints(scene, plan)
    seg = np.diff(wps, axis=0)
    seg_len = np.linalg.norm(seg, axis=1)
    cum = np.concatenate([[0.0], np.cumsum(seg_len)])
    dt = 1.0 / plan.fps
    n = int(cum[-1] / plan.speed_m_s * plan.fps) + 1
    t = np.arange(n) * dt
    s = np.clip(t * plan.speed_m_s, 0, cum[-1])
    k = np.clip(np.searchsorted(cum, s, side="right") - 1, 0, len(seg) - 1)
    pos = wps[k] + seg[k] * ((s - cum[k]) / seg_len[k])[:, None]
    heading = np.degrees(np.arctan2(seg[k, 0], seg[k, 1]))
    err = plan.errors

    def signed(mag: float) -> float:
        return float(rng.choice([-1, 1]) * rng.uniform(0.4, 1.0) * mag)

    offsets = {
        "altitude_m": float(rng.uniform(-1, 1) * err.altitude_bias_max_m),
        "boresight_x_deg": signed(err.boresight_max_deg),
        "boresight_y_deg": signed(err.boresight_max_deg),
        "boresight_z_deg": signed(err.boresight_roll_max_deg),
        "compass_deg": signed(err.compass_max_deg),
    }
    tau = err.noise_tau_s
    true_yaw = heading + _drift(rng, n, dt, err.wobble_deg, tau)
    true_pitch = plan.gimbal_pitch_deg + _drift(rng, n, dt, err.wobble_deg, tau)
    true_roll = _drift(rng, n, dt, err.wobble_deg, tau)
    mount = (offsets["boresight_x_deg"], offsets["boresight_y_deg"], offsets["boresight_z_deg"])
    poses = tuple(
        SimPose(float(pos[i, 0]), float(pos[i, 1]), plan.altitude_m, float(true_yaw[i]), float(true_pitch[i]),
                float(true_roll[i]), boresight_deg=mount, compass_error_deg=offsets["compass_deg"])
        for i in range(n)
    )
    e_m = pos[:, 0] + _drift(rng, n, dt, err.gnss_sigma_m, err.gnss_tau_s)
    n_m = pos[:, 1] + _drift(rng, n, dt, err.gnss_sigma_m, err.gnss_tau_s)
    lat, lon = _enu_to_latlon(scene, e_m, n_m)
    rel = plan.altitude_m + offsets["altitude_m"] + _drift(rng, n, dt, err.altitude_sigma_m, 30.0)
    measured = {
        "lat": lat,
        "lon": lon,
        "rel_alt": rel,
        "abs_alt": rel + TAKEOFF_MSL_M,
        "yaw": (true_yaw + _drift(rng, n, dt, err.yaw_noise_deg, tau) + 180) % 360 - 180,
        "pitch": true_pitch + _drift(rng, n, dt, err.tilt_noise_deg, tau),
        "roll": true_roll + _drift(rng, n, dt, err.tilt_noise_deg, tau),
        "aircraft_yaw": (heading + _drift(rng, n, dt, 1.0, tau) + 180) % 360 - 180,
        "speed": np.full(n, plan.speed_m_s),
    }
    return FlightTrack(np.asarray(t, np.float64), poses, measured, offsets)


# -- rendering -------------------------------------------------------------------------------------------


def iter_images(scene: Scene, track: FlightTrack, plan: FlightPlan, every: int = 1) -> Iterator[NDArray[np.uint8]]:
    renderer = Renderer(scene, plan.camera, scene.seed + 5)
    for i in range(0, len(track), every):
        yield renderer.frame(track.true_poses[i], i)


# -- SRT -------------------------------------------------------------------------------------------------


def _srt_time(t: float) -> str:
    ms = round(t * 1000)
    return f"{ms // 3_600_000:02d}:{ms // 60_000 % 60:02d}:{ms // 1000 % 60:02d},{ms % 1000:03d}"


def srt_text(track: FlightTrack, plan: FlightPlan, start_utc_s: float = START_UTC_S) -> str:
    """The measured telemetry as the flight's DJI SRT, in the plan's layout."""
    m = track.measured
    dt = 1.0 / plan.fps
    blocks = []
    home_lon, home_lat = float(m["lon"][0]), float(m["lat"][0])
    for i in range(len(track)):
        t0 = float(track.t_s[i])
        if plan.srt == "p4rtk":
            body = (
                f"F/5.6, SS 400, ISO 100, EV 0, GPS ({m['lon'][i]:.6f}, {m['lat'][i]:.6f}, 18), "
                f"HOME ({home_lon:.6f}, {home_lat:.6f}, {TAKEOFF_MSL_M:.2f}m), D 0.00m, H {m['rel_alt'][i]:.2f}m, "
                f"H.S {m['speed'][i]:.2f}m/s, V.S 0.00m/s, "
                f"F.PRY (0.0°, 0.0°, {m['aircraft_yaw'][i]:.1f}°), "
                f"G.PRY ({m['pitch'][i]:.1f}°, {m['roll'][i]:.1f}°, {m['yaw'][i]:.1f}°)"
            )
        else:
            clock_ms = round((start_utc_s + t0) * 1000)
            stamp = time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(clock_ms // 1000)) + f".{clock_ms % 1000:03d}"
            focal = "" if plan.srt_focal_35mm is None else f"[focal_len: {plan.srt_focal_35mm:.2f}] "
            body = (
                f'<font size="28">FrameCnt: {i + 1}, DiffTime: {round(dt * 1000)}ms\n{stamp}\n'
                f"[iso: 100] [shutter: 1/1000.0] [fnum: 2.8] [ev: 0] [color_md: default] {focal}"
                f"[latitude: {m['lat'][i]:.6f}] [longitude: {m['lon'][i]:.6f}] "
                f"[rel_alt: {m['rel_alt'][i]:.3f} abs_alt: {m['abs_alt'][i]:.3f}] "
                f"[gb_yaw: {m['yaw'][i]:.1f} gb_pitch: {m['pitch'][i]:.1f} gb_roll: {m['roll'][i]:.1f}] "
                f"[ct: 5500] </font>"
            )
        blocks.append(f"{i + 1}\n{_srt_time(t0)} --> {_srt_time(t0 + dt)}\n{body}\n")
    return "\n".join(blocks)


# -- registry and files ----------------------------------------------------------------------------------


def _lonlat(scene: Scene, ring: Any) -> list[list[float]]:
    a = np.asarray(ring, np.float64)
    lat, lon = _enu_to_latlon(scene, a[:, 0], a[:, 1])
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
