"""The `detectors.throw` config section: every threshold an operator may tune, with what moving it does.

Global defaults live in the root `detectors.throw:` section; a camera's partial dict is merged over them
and validated here, so every field has a default and an empty section is valid. The facade calibration
and the masks are per camera.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from detectors.geometry.facade import FacadeCalibration
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


class TrackingConfig(BaseModel):
    """Gravity-aware association of blobs into tracks."""

    model_config = ConfigDict(extra="forbid")

    max_speed_m_s: float = Field(
        default=45.0,
        gt=1.0,
        le=200.0,
        description="Fastest object followed (m/s); bounds how far a new track may jump in one frame. "
        "Higher links fast objects from high floors but invites wrong links in busy scenes.",
    )
    gate_px: float = Field(
        default=6.0,
        gt=0.5,
        le=200.0,
        description="Base distance (source px) a blob may lie from a track's gravity prediction. Raise it "
        "for jerky or low-resolution video; lower it when tracks swap between nearby objects.",
    )
    gate_speed_fraction: float = Field(
        default=0.25,
        ge=0.0,
        le=2.0,
        description="Extra gate per pixel of motion per frame, for velocity uncertainty.",
    )
    max_missed_frames: int = Field(
        default=3,
        ge=0,
        le=25,
        description="Frames a track survives without a blob (occlusion, rejected frames, low contrast). "
        "Higher bridges longer gaps but keeps dead tracks longer.",
    )
    falling_max_missed_frames: int = Field(
        default=6,
        ge=0,
        le=25,
        description="Frames a track that is falling (downwards faster than falling_speed_m_s) survives "
        "without a blob. A falling object vanishes for 3-5 frames each time it crosses a band of the "
        "facade of its own brightness (a white bag over a white spandrel), and its gravity prediction "
        "stays good while it is unseen; slow tracks (laundry, people) keep max_missed_frames, since a long "
        "coast lets them reach an unrelated blob.",
    )
    falling_speed_m_s: float = Field(
        default=3.0,
        gt=0.0,
        le=50.0,
        description="Downward speed (m/s along the facade's vertical) from which a track counts as falling "
        "for falling_max_missed_frames; a dropped object reaches 3 m/s 0.3 s after release.",
    )
    max_tracks: int = Field(
        default=1024,
        ge=4,
        le=8192,
        description="Most tracks kept at once; new blobs are not tracked while full (counted as "
        "'track_limit'). In snow every flake holds a track, and a flake without one is free for a chain "
        "of flakes to pass through, so keep this above the flakes in view.",
    )
    rejoin_s: float = Field(
        default=0.6,
        ge=0.0,
        le=5.0,
        description="How long an ended fall waits for a track that continues it (the object vanished "
        "against a window of its own colour) before the incident ends. Longer joins longer gaps and "
        "delays the end event; 0 never joins.",
    )
    max_track_duration_s: float = Field(
        default=8.0,
        gt=0.5,
        le=60.0,
        description="A track older than this is closed and judged (stops static blobs living forever).",
    )


class TrajectoryConfig(BaseModel):
    """The physics test: x(t) linear, height(t) quadratic, acceleration compared with g on the facade."""

    model_config = ConfigDict(extra="forbid")

    min_points: int = Field(
        default=10,
        ge=5,
        le=500,
        description="Positions a track needs before it is judged. Higher is surer and later.",
    )
    min_duration_s: float = Field(
        default=0.4,
        gt=0.0,
        le=10.0,
        description="Shortest observed fall judged (seconds). Higher rejects more short-lived noise.",
    )
    min_drop_m: float = Field(
        default=2.5,
        gt=0.0,
        le=100.0,
        description="Shortest observed drop (metres on the facade). Raise it to ignore short falls "
        "(balcony to awning); lower it to catch throws from low floors earlier.",
    )
    accel_min_ratio: float = Field(
        default=0.6,
        gt=0.0,
        le=1.0,
        description="Lowest fitted acceleration accepted, as a share of g. Lower accepts draggier objects "
        "(and more leaves/paper); higher rejects light objects.",
    )
    accel_max_ratio: float = Field(
        default=1.45,
        ge=1.0,
        le=5.0,
        description="Highest fitted acceleration accepted, as a share of g. Higher tolerates poor "
        "calibration; lower rejects more tracking errors.",
    )
    min_observed_drop_share: float = Field(
        default=0.25,
        ge=0.0,
        le=0.9,
        description="Share of positions that must lie in the lower two thirds of the drop, so the drop is "
        "seen rather than inferred from a few blobs after a gap. Lower accepts gappier tracks (and more "
        "slow objects joined to rain); higher needs falls seen to the end.",
    )
    max_residual_px: float = Field(
        default=3.0,
        gt=0.1,
        le=100.0,
        description="Largest RMS distance (source px) of track points from the fitted curve. Lower demands "
        "a cleaner parabola (rejects wandering birds/insects sooner); higher tolerates noisy video.",
    )
    max_accel_sigma_ratio: float = Field(
        default=0.1,
        gt=0.0,
        le=2.0,
        description="Largest standard error of the fitted acceleration, as a share of g: the track must "
        "show the speed growing as g·t, not leave it to noise. Lower waits for longer, cleaner tracks "
        "(later alerts, fewer chance chains in rain and snow); higher alerts on shorter, noisier tracks.",
    )
    max_sideways_ratio: float = Field(
        default=1.0,
        gt=0.0,
        le=20.0,
        description="Largest distance travelled along the facade per metre of drop while tracked: a fall "
        "is vertical-dominant, a swooping bird is not. Raise it for objects flung hard sideways from "
        "low floors; lower it to reject more swoops.",
    )
    max_unseen_fall_s: float = Field(
        default=1.0,
        ge=0.0,
        le=10.0,
        description="Longest time between the estimated release and the first tracked position while the "
        "fitted path lay in the watched view: a real fall is seen from near its start, a chain of "
        "snowflakes or rain blobs appears mid-air already fast. Raise it when objects often start "
        "unseen (dark windows, low contrast); lower it to reject more chance chains.",
    )
    wingbeat_min_share: float = Field(
        default=0.5,
        gt=0.0,
        le=1.0,
        description="A track whose size or contrast pulses at 3-15 Hz with a sinusoid explaining at least "
        "this share of its (detrended) variance has a wingbeat, and must then fall like a textbook free "
        "fall (see wingbeat_accel_tolerance). Lower suspects more tracks of being birds; 1 turns it off.",
    )
    wingbeat_min_amplitude: float = Field(
        default=0.12,
        ge=0.0,
        le=5.0,
        description="Smallest pulse (half peak-to-peak, relative to the mean size or contrast) taken for a "
        "wingbeat; smaller pulses are pixel noise. Lower suspects more; higher only strong flapping.",
    )
    wingbeat_accel_tolerance: float = Field(
        default=0.15,
        ge=0.0,
        le=1.0,
        description="How far (share of g) the acceleration of a track with a wingbeat may be from g, and "
        "its sideways ratio is held to half of max_sideways_ratio. Lower rejects more flapping birds "
        "(and tumbling objects that fall less cleanly).",
    )
    max_horizontal_speed_m_s: float = Field(
        default=8.0,
        gt=0.0,
        le=100.0,
        description="Fastest sideways speed along the facade (m/s) accepted; faster is a bird or vehicle.",
    )
    min_end_speed_m_s: float = Field(
        default=3.0,
        ge=0.0,
        le=100.0,
        description="Slowest downward speed (m/s) at the last point accepted; slower is a leaf or paper.",
    )
    max_backtrack_s: float = Field(
        default=2.0,
        gt=0.0,
        le=10.0,
        description="Longest extrapolation back to the release point (seconds); beyond it the release "
        "height is taken at this limit and its uncertainty grows.",
    )
    release_speed_sigma_m_s: float = Field(
        default=2.0,
        ge=0.0,
        le=20.0,
        description="Assumed spread of the vertical speed at release (m/s); widens the floor ± uncertainty.",
    )


class ClassifierConfig(BaseModel):
    """Optional crop classifier that vetoes birds (or other configured classes) before an alert."""

    model_config = ConfigDict(extra="forbid")

    model: str | None = Field(
        default=None,
        description="Name of the configured model whose crop function the service passes in; empty means "
        "no model stage.",
    )
    reject_classes: list[str] = Field(
        default_factory=lambda: ["bird"],
        max_length=64,
        description="Class names that veto a candidate when the model sees them in the crop.",
    )
    min_confidence: float = Field(
        default=0.4,
        ge=0.0,
        le=1.0,
        description="Confidence a reject class needs to veto. Lower vetoes more (and may drop real throws).",
    )
    crop_size_px: int = Field(
        default=128,
        ge=16,
        le=2048,
        description="Side of the square crop (source px) around the object given to the model.",
    )


class EvidenceConfig(BaseModel):
    """The clip window the alerts package cuts from the camera's packet ring."""

    model_config = ConfigDict(extra="forbid")

    pre_roll_s: float = Field(
        default=3.0,
        ge=0.0,
        le=60.0,
        description="Seconds of video kept before the estimated release. Longer shows more of the window.",
    )
    post_roll_s: float = Field(
        default=3.0,
        ge=0.0,
        le=60.0,
        description="Seconds kept after the last tracked position (the landing).",
    )


class ThrowConfig(BaseModel):
    """`detectors.throw`: objects thrown or dropped from high floors (高空抛物)."""

    model_config = ConfigDict(extra="forbid")

    analysis_fps: float = Field(
        default=25.0,
        ge=10.0,
        le=60.0,
        description="Frames per second analysed. Keep the camera's full rate: at lower rates fast objects "
        "jump too far between frames to be linked and the fit has fewer points.",
    )
    facade: FacadeCalibration | None = Field(
        default=None,
        description="This camera's facade calibration; without it no floor is given and the physics test "
        "uses fallback_px_per_m.",
    )
    fallback_px_per_m: float = Field(
        default=15.0,
        gt=0.1,
        le=1000.0,
        description="Image scale (source px per metre of fall) assumed when no facade is calibrated.",
    )
    foreground: ForegroundConfig = Field(
        default_factory=ForegroundConfig, description="Background subtraction and frame rejection."
    )
    weather: WeatherConfig = Field(default_factory=WeatherConfig, description="Rain streak suppression.")
    tracking: TrackingConfig = Field(default_factory=TrackingConfig, description="Blob association.")
    trajectory: TrajectoryConfig = Field(default_factory=TrajectoryConfig, description="The physics test.")
    classifier: ClassifierConfig = Field(default_factory=ClassifierConfig, description="Optional bird veto on crops.")
    evidence: EvidenceConfig = Field(default_factory=EvidenceConfig, description="Evidence clip window.")
