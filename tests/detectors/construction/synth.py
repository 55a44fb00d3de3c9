"""Helpers shared by the construction tests: synthetic drone images with a ribbed blue roof."""

from __future__ import annotations

import functools
import math

import cv2
import numpy as np
from numpy.typing import NDArray

from detectors.construction.config import ConstructionConfig
from detectors.geometry.drone import DroneView, build_view
from detectors.geometry.drone_config import DroneCameraSpec, DroneGeometryConfig
from detectors.geometry.geodesy import enu_to_wgs84
from ingest.frame import Frame, Pose

LAT, LON = 31.2304, 121.4737
W, H = 1280, 720
# 24 mm-equivalent on a 4:3 sensor, 1280 px wide: f = 24 / 43.27 * 1600 = 887.5 px, 0.1127 m/px at 100 m.
CAMERA = DroneCameraSpec()


def config(**overrides: object) -> ConstructionConfig:
    """The default config with self-calibration off (these flights are too short to calibrate; the tests
    that need calibration turn it on), plus `overrides` (a validated mapping)."""
    return ConstructionConfig.model_validate({"calibration": {"enabled": False}, **overrides})


def grass(h: int = H, w: int = W, seed: int = 0) -> NDArray[np.uint8]:
    """Green noise (a fresh copy; the noise itself is made once per size and seed)."""
    return _grass(h, w, seed).copy()


@functools.lru_cache(maxsize=8)
def _grass(h: int, w: int, seed: int) -> NDArray[np.uint8]:
    rng = np.random.default_rng(seed)
    img = np.empty((h, w, 3), np.float32)
    img[:] = (70, 128, 88)
    img += rng.normal(0, 6, (h, w, 1)).astype(np.float32)
    return np.clip(img, 0, 255).astype(np.uint8)


def ribbed_roof(
    img: NDArray[np.uint8],
    centre_px: tuple[float, float],
    size_px: tuple[float, float],
    angle_deg: float,
    *,
    ribs: bool = True,
    bgr: tuple[int, int, int] = (175, 95, 35),
    rib_px: float = 6.0,
) -> NDArray[np.uint8]:
    """Draw a blue rectangle (ribbed like colour-steel sheet, or smooth) into a copy of the image."""
    out = img.copy()
    length, width = size_px
    patch = np.empty((round(width), round(length), 3), np.float32)
    patch[:] = bgr
    if ribs:
        x = np.arange(patch.shape[1]) / rib_px
        profile = np.clip(np.abs(x - np.floor(x) - 0.5) * 4 - 0.6, -1, 1)
        patch *= (1 + 0.2 * profile)[None, :, None]
    patch = np.clip(patch, 0, 255).astype(np.uint8)
    a = math.radians(angle_deg)
    cx, cy = centre_px
    # patch (u, v) -> image: rotate by angle around the patch centre, then move to centre_px.
    m = np.array([[math.cos(a), -math.sin(a), 0.0], [math.sin(a), math.cos(a), 0.0]])
    m[:, 2] = np.array([cx, cy]) - m[:, :2] @ np.array([length / 2, width / 2])
    warped = cv2.warpAffine(patch, m, (out.shape[1], out.shape[0]), flags=cv2.INTER_LINEAR)
    mask = cv2.warpAffine(
        np.full(patch.shape[:2], 255, np.uint8), m, (out.shape[1], out.shape[0]), flags=cv2.INTER_NEAREST
    )
    cv2.copyTo(warped, mask, out)
    return out


def nadir_pose(
    alt_m: float = 100.0,
    yaw_deg: float = 0.0,
    lat: float = LAT,
    lon: float = LON,
    pitch_deg: float = -90.0,
    **kw: object,
) -> Pose:
    return Pose(
        lat_deg=lat, lon_deg=lon, rel_alt_m=alt_m, gimbal_yaw_deg=yaw_deg, gimbal_pitch_deg=pitch_deg, **kw
    )  # type: ignore[arg-type]


def view_of(pose: Pose, w: int = W, h: int = H) -> DroneView:
    return build_view(pose, w, h, CAMERA, DroneGeometryConfig(), origin=(LAT, LON))


def frame(
    image: NDArray[np.uint8], pose: Pose | None, seq: int, flight: str = "F1", t0: float = 1.78e9
) -> Frame:
    return Frame(camera_id=flight, seq=seq, captured_at=t0 + seq, pts_s=float(seq), image=image, pose=pose)


ROOF_E, ROOF_N, ROOF_W, ROOF_L = 20.0, 50.0, 12.0, 8.0  # a 12 x 8 m shed, 2.5 m tall, centred here


def pose_at(north_m: float, alt_m: float = 100.0, **kw: object) -> Pose:
    lat, lon = enu_to_wgs84(LAT, LON, 0.0, north_m)
    return nadir_pose(alt_m, lat=float(lat), lon=float(lon), **kw)


def roof_frame(
    seq: int,
    north_m: float,
    *,
    flight: str = "F1",
    roof: bool = True,
    alt_m: float = 100.0,
    **pose_kw: object,
) -> Frame:
    """The drone `north_m` north of the origin looking straight down, the shed drawn where it projects."""
    pose = pose_at(north_m, alt_m, **pose_kw)
    img = grass(seed=seq % 3)
    if roof:
        view = view_of(pose)
        centre = view.ground_to_pixel(np.array([[ROOF_E, ROOF_N]]), 2.5)[0]
        scale = view.intrinsics.fx_px / (view.height_m - 2.5)
        img = ribbed_roof(img, (float(centre[0]), float(centre[1])), (ROOF_W * scale, ROOF_L * scale), 0.0)
    return Frame(camera_id=flight, seq=seq, captured_at=1.78e9 + seq, pts_s=float(seq), image=img, pose=pose)


def flight(n: int = 9, step_m: float = 12.0, **kw: object) -> list[Frame]:
    return [roof_frame(i, i * step_m, **kw) for i in range(n)]
