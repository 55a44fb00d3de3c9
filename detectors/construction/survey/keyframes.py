"""Keyframes of a flight: the frames a mosaic is built from, shrunk to the mosaic's resolution.

A survey video analysed at 1 fps shows each spot of ground in many frames; a mosaic needs it in a few.
A frame becomes a keyframe when its view has moved `keyframe_step` of the frame's ground height since
the last keyframe (and is near nadir and usable at all). It is kept shrunk to about the mosaic's
ground resolution, with the homography that puts its pixels on the ground, from telemetry alone: the
features correct that later (`align.py`).
"""

from __future__ import annotations

import logging
from collections import Counter
from dataclasses import dataclass, field

import cv2
import numpy as np
from numpy.typing import NDArray

from detectors.construction.survey.config import SurveyConfig
from detectors.geometry.drone import build_view, unusable_reason
from detectors.geometry.drone_config import DroneCameraSpec, DroneGeometryConfig
from ingest.frame import Frame

log = logging.getLogger(__name__)

INSET = 0.02
"""Share of the frame's width/height left out at each edge when fitting the ground homography (and in
the mosaic): the outermost pixels are the most distorted and often vignetted."""


@dataclass(frozen=True)
class Keyframe:
    """One keyframe: the shrunk image and where its pixels lie on the ground (telemetry only)."""

    seq: int
    captured_at: float
    image: NDArray[np.uint8]
    to_enu: NDArray[np.float64]
    """3x3 homography: shrunk-image pixel -> (east, north) metres of the flight's origin, ground plane."""
    centre_enu: tuple[float, float]
    ground_px_m: float
    """Ground size of a shrunk-image pixel at the image centre."""
    off_nadir_deg: float
    nadir_enu: tuple[float, float]
    """The point straight below the camera (where relief leans away from)."""
    height_m: float
    """Camera height above the ground plane."""


@dataclass
class KeyframeCollector:
    """Picks and keeps the keyframes of one flight (`add` for every analysed frame)."""

    config: SurveyConfig
    camera: DroneCameraSpec
    geometry: DroneGeometryConfig
    flight_id: str
    origin: tuple[float, float] | None = None
    keyframes: list[Keyframe] = field(default_factory=list)
    skipped: Counter[str] = field(default_factory=Counter)
    frames_seen: int = 0
    first_at: float | None = None
    last_at: float | None = None
    _warned_full: bool = False

    def add(self, frame: Frame) -> bool:
        """Consider one frame; True when it became a keyframe."""
        self.frames_seen += 1
        self.first_at = frame.captured_at if self.first_at is None else self.first_at
        self.last_at = frame.captured_at
        pose = frame.pose
        reason = unusable_reason(pose, self.geometry)
        if reason is not None:
            self.skipped[reason] += 1
            return False
        assert pose is not None
        if self.origin is None:
            self.origin = (pose.lat_deg, pose.lon_deg)
        view = build_view(pose, frame.width, frame.height, self.camera, self.geometry, origin=self.origin)
        if view.off_nadir_deg > self.config.max_off_nadir_deg:
            self.skipped["off_nadir"] += 1
            return False
        w, h = frame.width, frame.height
        centre = view.pixel_to_ground(np.array([[w / 2.0, h / 2.0]]))[0]
        ground_h = view.height_m * h / view.intrinsics.fy_px
        if self.keyframes:
            last = np.array(self.keyframes[-1].centre_enu)
            if float(np.hypot(*(centre - last))) < self.config.keyframe_step * ground_h:
                self.skipped["overlap"] += 1
                return False
        if len(self.keyframes) >= self.config.max_keyframes:
            self.skipped["max_keyframes"] += 1
            if not self._warned_full:
                log.warning(
                    "survey %s: %d keyframes kept, later frames are left out of the mosaic",
                    self.flight_id,
                    self.config.max_keyframes,
                )
                self._warned_full = True
            return False
        gsd = view.height_m / view.intrinsics.fx_px
        scale = min(1.0, gsd / self.config.resolution_m)
        small_w, small_h = max(8, round(w * scale)), max(8, round(h * scale))
        small = np.asarray(cv2.resize(frame.image, (small_w, small_h), interpolation=cv2.INTER_AREA), np.uint8)
        corners = np.array(
            [
                [INSET * w, INSET * h],
                [(1 - INSET) * w, INSET * h],
                [(1 - INSET) * w, (1 - INSET) * h],
                [INSET * w, (1 - INSET) * h],
            ]
        )
        ground = view.pixel_to_ground(corners)
        if not np.isfinite(ground).all():
            self.skipped["beyond_ray_limit"] += 1
            return False
        full_to_enu = cv2.getPerspectiveTransform(corners.astype(np.float32), ground.astype(np.float32)).astype(
            np.float64
        )
        sx, sy = w / small_w, h / small_h
        small_to_full = np.array([[sx, 0.0, 0.5 * sx - 0.5], [0.0, sy, 0.5 * sy - 0.5], [0.0, 0.0, 1.0]])
        self.keyframes.append(
            Keyframe(
                seq=frame.seq,
                captured_at=frame.captured_at,
                image=small,
                to_enu=full_to_enu @ small_to_full,
                centre_enu=(float(centre[0]), float(centre[1])),
                ground_px_m=gsd * max(sx, sy),
                off_nadir_deg=view.off_nadir_deg,
                nadir_enu=view.camera_enu,
                height_m=view.height_m,
            )
        )
        return True

    @property
    def memory_bytes(self) -> int:
        return sum(k.image.nbytes for k in self.keyframes)


def footprint_m(keyframe: Keyframe) -> NDArray[np.float64]:
    """The keyframe's ground outline (4 corners, metres of the flight's origin)."""
    h, w = keyframe.image.shape[:2]
    corners = np.array(
        [
            [INSET * w, INSET * h],
            [(1 - INSET) * w, INSET * h],
            [(1 - INSET) * w, (1 - INSET) * h],
            [INSET * w, (1 - INSET) * h],
        ],
        np.float64,
    )
    pts = cv2.perspectiveTransform(corners.reshape(-1, 1, 2), keyframe.to_enu).reshape(-1, 2)
    return np.asarray(pts, np.float64)
