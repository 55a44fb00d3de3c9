"""The `Frame`: one decoded picture from one camera or drone, and the drone `Pose` it was taken from."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from numpy.typing import NDArray

ImageBGR = NDArray[np.uint8]


@dataclass(frozen=True, slots=True)
class Pose:
    """Where a drone camera was and where it looked when a frame was taken (from DJI telemetry).

    Angles in degrees: yaw clockwise from north, pitch negative looking down (-90 = nadir), roll
    right-wing-down positive. `defaulted` names the fields that came from configured defaults because
    the telemetry family lacks them, so geometry can widen its accuracy estimate and say why.
    """

    lat_deg: float
    lon_deg: float
    rel_alt_m: float | None = None
    abs_alt_m: float | None = None
    gimbal_yaw_deg: float = 0.0
    gimbal_pitch_deg: float = -90.0
    gimbal_roll_deg: float = 0.0
    aircraft_yaw_deg: float | None = None
    aircraft_pitch_deg: float | None = None
    aircraft_roll_deg: float | None = None
    focal_len_35mm: float | None = None
    t_s: float = 0.0
    utc_s: float | None = None
    family: str = ""
    defaulted: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True, eq=False)
class Frame:
    """One decoded frame. Never mutated: the image is made read-only on construction.

    `captured_at` is UTC epoch seconds (wall clock at capture, or derived for files); `pts_s` is the
    stream's presentation time in seconds; `seq` counts frames delivered for this camera from 0.
    """

    camera_id: str
    seq: int
    captured_at: float
    pts_s: float
    image: ImageBGR
    pose: Pose | None = None
    keyframe: bool = False
    meta: dict[str, float] = field(default_factory=dict)

    def __post_init__(self) -> None:
        img = self.image
        if img.ndim != 3 or img.shape[2] != 3 or img.dtype != np.uint8:
            raise ValueError(
                f"camera {self.camera_id}: Frame.image must be HxWx3 uint8 BGR, got {img.shape} {img.dtype}"
            )
        if img.flags.writeable:
            img.flags.writeable = False

    @property
    def height(self) -> int:
        return int(self.image.shape[0])

    @property
    def width(self) -> int:
        return int(self.image.shape[1])
