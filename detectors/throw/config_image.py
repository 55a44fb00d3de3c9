"""The image side of the `detectors.throw` section: background subtraction, frame rejection, masks, and
the rain streak population. Part of `detectors.throw.config` (the section's root and the rest live there).
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from detectors.zones import check_polygons

Polygon = list[tuple[float, float]]


def _check_polygons(polygons: list[Polygon]) -> list[Polygon]:
    check_polygons(polygons)
    return polygons


class ForegroundConfig(BaseModel):
    """Background subtraction, stabilisation and frame rejection."""

    model_config = ConfigDict(extra="forbid")

    method: Literal["difference", "mog2"] = Field(
        default="difference",
        description="'difference' (running-average background, edge-aware threshold; ~4x cheaper) or "
        "'mog2' (OpenCV Gaussian mixture; copes better with swaying trees, costs far more CPU).",
    )
    process_width_px: int = Field(
        default=960,
        ge=160,
        le=7680,
        description="Frames are shrunk by the largest whole factor that keeps them at least this wide. "
        "Lower is faster but objects under ~2 source pixels fade; raise it for small objects.",
    )
    learning_rate: float = Field(
        default=0.04,
        gt=0.0,
        le=0.5,
        description="Share of each frame blended into the background. Higher forgets lit windows and "
        "shadows faster but can absorb slow objects; lower keeps slow changes as foreground longer.",
    )
    diff_threshold: int = Field(
        default=14,
        ge=3,
        le=120,
        description="Fewest grey levels a pixel must differ from the background to be foreground (raised "
        "with the noise, see noise_threshold_sigmas). Lower finds fainter objects (a white bag on a light "
        "wall) and more noise; higher misses low-contrast objects.",
    )
    noise_threshold_sigmas: float = Field(
        default=5.0,
        ge=0.0,
        le=20.0,
        description="The threshold is at least this many times the sensor noise measured on the frames, so "
        "it rises at night and at high gain and falls back by day. Lower sees fainter objects in noisy "
        "video (and more noise blobs); 0 keeps diff_threshold fixed.",
    )
    edge_threshold_gain: float = Field(
        default=0.6,
        ge=0.0,
        le=5.0,
        description="Extra threshold per grey level of background gradient, so residual jitter on window "
        "edges is not foreground. Raise it on shaky mounts; lower it to see objects crossing edges.",
    )
    mog2_var_threshold: float = Field(
        default=25.0,
        gt=1.0,
        le=400.0,
        description="MOG2 only: squared Mahalanobis distance for foreground. Lower is more sensitive.",
    )
    min_blob_area_px: float = Field(
        default=2.0,
        ge=0.0,
        le=10000.0,
        description="Smallest blob (source pixels, bounding box) kept. Raise it to ignore noise specks, "
        "lower it for very small objects.",
    )
    max_blob_area_px: float = Field(
        default=20000.0,
        gt=0.0,
        le=1.0e7,
        description="Largest blob (source pixels) kept; bigger ones are lighting changes or near objects.",
    )
    dilate_px: int = Field(
        default=1,
        ge=0,
        le=10,
        description="Dilation radius (processing pixels) that joins fragments of one object. Raise it when "
        "streaks break up; lower it when nearby objects merge.",
    )
    max_foreground_fraction: float = Field(
        default=0.1,
        gt=0.0,
        le=1.0,
        description="The frame is cut into 4x4 tiles; when more than half of the watched tiles have more "
        "than this share of foreground, the frame is rejected (a flash, an exposure step, the IR lamp "
        "switching). Rain spreads thinly and a headlight fills a few tiles, so neither is rejected. Lower "
        "rejects more readily; higher lets more global changes through as blobs.",
    )
    max_blobs_per_frame: int = Field(
        default=4000,
        ge=1,
        le=100000,
        description="CPU cap: a frame with more blobs than this is rejected ('too_many_blobs'). Rain is "
        "handled by the weather section, not by this cap; lower it only to bound the cost per frame.",
    )
    max_brightness_jump: float = Field(
        default=10.0,
        gt=0.0,
        le=255.0,
        description="Mean grey-level change between frames above which the frame is rejected and the "
        "background relearned (flash, auto-exposure step). Lower is stricter.",
    )
    stabilise: bool = Field(
        default=True,
        description="Cancel small camera jitter (optical flow of fixed corners) before subtraction; turn it "
        "off only on rock-steady mounts to save ~1 ms per frame.",
    )
    max_jitter_px: float = Field(
        default=8.0,
        gt=0.0,
        le=100.0,
        description="Largest shift (source pixels) stabilisation corrects; a bigger one rejects the frame as "
        "'shake'. Raise it for poles that sway.",
    )
    sky_masks: list[Polygon] = Field(
        default_factory=list,
        max_length=64,
        description="Polygons (pixels, or 0-1 relative) of sky: nothing there is tracked (birds, clouds).",
    )
    shield_masks: list[Polygon] = Field(
        default_factory=list,
        max_length=64,
        description="Polygons of other areas to ignore (trees, flags, a lamp, a road with traffic).",
    )

    osd_masks: list[Polygon] = Field(
        default_factory=lambda: [
            [(0.0, 0.0), (0.45, 0.0), (0.45, 0.09), (0.0, 0.09)],
            [(0.55, 0.9), (1.0, 0.9), (1.0, 1.0), (0.55, 1.0)],
        ],
        max_length=16,
        description="Polygons of the camera's on-screen display (the ticking clock top left, the channel "
        "name bottom right, where most cameras put them by default): ignored like shields. Set [] when the "
        "OSD is off or elsewhere; a throw released under the OSD is then seen only once it leaves it.",
    )

    @field_validator("sky_masks", "shield_masks", "osd_masks")
    @classmethod
    def check_polygons(cls, polygons: list[Polygon]) -> list[Polygon]:
        return _check_polygons(polygons)


class WeatherConfig(BaseModel):
    """Seeing through rain: the streak population is found per frame and kept from starting tracks."""

    model_config = ConfigDict(extra="forbid")

    suppress_streaks: bool = Field(
        default=True,
        description="Find each frame's rain streaks (thin, elongated, alike in direction) and keep "
        "them from starting or stealing tracks. Off: streaks are tracked like any blob (more CPU in rain, "
        "more wrong links).",
    )
    streak_max_width_px: float = Field(
        default=2.5,
        gt=0.0,
        le=20.0,
        description="Widest streak (processing pixels, across its length). Raise it for near, blurred "
        "drops; lower it when thin falling objects are taken for rain.",
    )
    streak_min_elongation: float = Field(
        default=2.0,
        ge=1.2,
        le=50.0,
        description="Length over width a blob needs to count as a streak. Lower catches short streaks "
        "(and more small objects); higher leaves short streaks to the tracker.",
    )
    streak_angle_tolerance_deg: float = Field(
        default=15.0,
        gt=0.0,
        le=90.0,
        description="How far (degrees) a streak's direction may lie from the population's. Raise it for "
        "gusty rain; lower it to keep thin falling objects out of the rain when the rain slants.",
    )
    streak_min_count: int = Field(
        default=12,
        ge=2,
        le=5000,
        description="Streak-like blobs a frame needs before it counts as rain (and the direction is "
        "learned). Lower reacts to drizzle; higher ignores a few thin blobs in dry weather.",
    )
    streak_memory_frames: int = Field(
        default=50,
        ge=1,
        le=10000,
        description="Frames without a streak population after which the rain is taken to have stopped.",
    )

