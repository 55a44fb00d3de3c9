"""What a throw scenario is asked to generate, and what it reports it generated (the ground truth rows)."""

from __future__ import annotations

from dataclasses import dataclass, field

_REF_HEIGHT_PX = 1080.0
"""Sizes given 'at 1080p' (jitter, noise) are scaled by height_px / this."""


@dataclass(frozen=True)
class ThrowScenarioSpec:
    """What to generate. Rates are per minute of video unless named otherwise; 0 turns a distractor off."""

    seed: int
    duration_s: float = 60.0
    width_px: int = 960
    height_px: int = 540
    fps: float = 25.0
    floors: int = 18
    columns: int = 8
    column_width_m: float = 7.0
    floor_height_m: float = 3.0
    camera_distance_m: float = 75.0
    throws: int = 8
    min_throw_floor: int = 1
    object_size_m: tuple[float, float] = (0.12, 0.5)
    birds_per_min: float = 2.0
    insects_per_min: float = 1.0
    leaves_per_min: float = 2.0
    people_per_min: float = 6.0
    cars_per_min: float = 3.0
    light_switches_per_min: float = 6.0
    curtains_per_min: float = 2.0
    rain_share: float = 0.15
    """Share of the video with light rain."""
    heavy_rain_bursts_per_hour: float = 6.0
    flashes_per_hour: float = 6.0
    exposure_steps_per_hour: float = 20.0
    gusts_per_hour: float = 12.0
    jitter_px: float = 0.5
    """Standard deviation of wind jitter, px at 1080p."""
    noise_sigma: float = 2.5
    """Sensor noise, grey levels at 1080p (averaging a 2x shrink halves it)."""
    steady_rain_streaks: int = 0
    """Rain streaks per frame for the whole video (a shower), on top of `rain_share`; 0 is none."""
    rain_slant: float = 0.15
    """Sideways run of the steady rain per unit of fall (wind)."""
    snow_flakes: int = 0
    """Snowflakes in view at any time for the whole video; 0 is none."""
    night_ir: bool = False
    """Night under the camera's infrared lamp: grey, dim away from the lamp's centre, noisier."""
    headlight_sweeps_per_min: float = 0.0
    """Car headlights sweeping across the lower floors (night scenes)."""

    @property
    def scale(self) -> float:
        return self.height_px / _REF_HEIGHT_PX

    @property
    def n_frames(self) -> int:
        return round(self.duration_s * self.fps)


@dataclass(frozen=True)
class ThrowTruth:
    """One released object: where from, when, how it moved (image px per frame for diagnosis)."""

    throw_id: int
    floor: int
    column: str
    along_m: float
    height_m: float
    release_t_s: float
    landing_t_s: float
    size_m: float
    velocity_m_s: tuple[float, float, float]
    terminal_speed_m_s: float
    grey_level: int
    track_px: list[tuple[float, float, float]] = field(default_factory=list)
