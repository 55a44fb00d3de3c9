"""A drone survey's flight for the generated scenarios (`benchmarks.scenarios.drone`): the plan (lawn-mower
lines, altitude, gimbal, SRT layout, telemetry errors) and the track flown (true poses, measured telemetry).

A module of its own so the SRT writer (`drone_srt`) and the renderer both read plans and tracks without
importing each other. Shares nothing with `detectors/`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
from numpy.typing import NDArray

from benchmarks.scenarios.drone_world import Scene
from benchmarks.scenarios.sim_camera import SimCamera, SimPose

START_UTC_S = 1_779_876_000.0  # 2026-05-27T10:00:00Z
TAKEOFF_MSL_M = 96.0  # Zhengzhou lies about 100 m above sea level
_EARTH_RADIUS_M = 6_371_008.8

SrtLayout = Literal["bracket", "p4rtk"]


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


def enu_to_latlon(scene: Scene, east: NDArray[np.float64], north: NDArray[np.float64]) -> tuple[
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
    lat, lon = enu_to_latlon(scene, e_m, n_m)
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
