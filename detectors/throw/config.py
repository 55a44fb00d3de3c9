"""The `detectors.throw` config section: every threshold an operator may tune, with what moving it does.

Global defaults live in the root `detectors.throw:` section; a camera's partial dict is merged over them
and validated here, so every field has a default and an empty section is valid. The facade calibration
and the masks are per camera.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from detectors.geometry.facade import FacadeCalibration
from detectors.throw.config_image import ForegroundConfig, Polygon, WeatherConfig

__all__ = [
    "ClassifierConfig",
    "EvidenceConfig",
    "ForegroundConfig",
    "Polygon",
    "ThrowConfig",
    "TrackingConfig",
    "TrajectoryConfig",
    "WeatherConfig",
]


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
    faster_than_g_tolerance_ratio: float = Field(
        default=0.1,
        ge=0.0,
        le=1.0,
        description="How far above g (share of g) a calibrated track's fitted acceleration may lie whatever its "
        "standard error: the calibration's own error. Drag only slows a falling object, so a fit well above g "
        "is a chain of blobs of different things lined up by chance (a person, a car's glare, laundry). Raise "
        "it for rough calibrations; 1 turns the test off (accel_max_ratio still caps). Not applied without a "
        "facade calibration (the scale is a guess there).",
    )
    faster_than_g_sigmas: float = Field(
        default=1.35,
        ge=0.0,
        le=10.0,
        description="How many standard errors of the fitted acceleration a calibrated track may lie above g "
        "(beyond faster_than_g_tolerance_ratio) before it is rejected as falling faster than gravity allows. "
        "Lower rejects more chains (and noisy throws fitted a little fast: their alert waits for more "
        "positions); higher accepts more.",
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
    min_late_seen_share: float = Field(
        default=0.33,
        ge=0.0,
        le=1.0,
        description="Share of the analysed frames in the later half of a track's time that must give it a "
        "position: a real fall is seen, a chance chain of rain, snow or other blobs is mostly coasted over. "
        "Lower accepts gappier tracks (faint or half-hidden objects, and more chains); higher rejects more "
        "chains (and faint objects); 0 turns it off.",
    )
    min_late_seen_chance_z: float = Field(
        default=0.9,
        ge=0.0,
        le=10.0,
        description="How far (in standard deviations) the frames a track was seen in over the later half "
        "of its time must exceed what chance alone would give (the frame's blob density times the gate's "
        "area, as a Poisson chance per frame): in a shower a coasting track finds a stray blob in a third of "
        "its frames, so a chain of rain and other blobs is 'seen' that often. Higher rejects more chains "
        "(and faint throws in heavy rain); 0 turns it off. Clear scenes have almost no chance hits.",
    )
    min_release_height_m: float = Field(
        default=0.5,
        ge=-10.0,
        le=100.0,
        description="Lowest estimated release height (metres above the facade's ground line) accepted: a "
        "fall starts above the ground it lands on; a 'fall' released at or below the ground line is "
        "street traffic, people or insects below the facade. Lower it (negative) when the calibration's "
        "ground line sits above the real street; raise it to ignore throws from the ground floor.",
    )
    min_size_kept_ratio: float = Field(
        default=0.45,
        ge=0.0,
        le=1.0,
        description="Smallest ratio of the track's median blob size over its last third to that over its "
        "first third (1 px added to each): a falling object keeps its size or grows (motion blur), a chain "
        "that began on something big (a window lighting up, a person, a car's glare) and went on over "
        "small blobs shrinks. Lower tolerates objects that turn edge-on; higher rejects more chains; 0 "
        "turns it off.",
    )
    max_sideways_gain_ratio: float = Field(
        default=0.25,
        gt=0.0,
        le=10.0,
        description="Largest rate at which a track may gain speed along the facade, as a share of its "
        "downward acceleration (the least over fits leaving one position out): drag only slows a falling "
        "object sideways, while a chain that began on a resting bird and went on over rain swerves. "
        "Higher tolerates objects pushed by strong wind (and more swerving chains); lower rejects more "
        "chains (and throws tracked with noisy positions); 10 turns it off.",
    )
    max_late_streak_share: float = Field(
        default=0.45,
        ge=0.0,
        le=1.0,
        description="Largest share of a track's positions in the later half of its time that may be blobs of "
        "the rain-streak population: a falling object stays mostly itself, a chain carried on over rain is "
        "made of streaks. Lower rejects more chains (and throws that blur like the rain in a shower); higher "
        "accepts more; 1 turns it off. Only rain makes streaks, so clear scenes are not affected.",
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
