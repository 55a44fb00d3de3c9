"""The weights-free cues' settings (`flame`, `smoke` of the `detectors.fire` section).

Part of `FireConfig` (`detectors.fire.config`); kept apart because the cues are the largest group of
thresholds and the only one `detectors.fire.colour` and `detectors.fire.cues` read.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field


class FlameCueConfig(BaseModel):
    """Weights-free flame cue: flame colour, then shape change between analysed frames (flicker)."""

    model_config = ConfigDict(extra="forbid")

    work_width_px: int = Field(
        default=480,
        ge=64,
        le=1920,
        description="Frames are shrunk to this width for the cues; raising it finds smaller, farther flames "
        "but costs CPU in proportion to the pixel count.",
    )
    colour_rules: Literal["both", "ycbcr", "rgb", "either"] = Field(
        default="both",
        description="Which flame-colour rules a pixel must pass: 'both' (fewest false pixels), 'ycbcr' or "
        "'rgb' alone, or 'either' (most flame pixels, more orange/red false pixels).",
    )
    min_red: int = Field(
        default=140,
        ge=0,
        le=255,
        description="RGB rule: minimum red value of a flame pixel; raising it ignores dim red/orange "
        "surfaces but misses flames seen through smoke or at dusk.",
    )
    min_saturation: float = Field(
        default=0.2,
        ge=0.0,
        le=1.0,
        description="RGB rule: saturation a pixel needs at red = min_red (less as red rises towards 255); "
        "raising it rejects washed-out orange, lowering it accepts pale flames and also pale lamps.",
    )
    min_cr_minus_cb: int = Field(
        default=30,
        ge=0,
        le=255,
        description="YCbCr rule: minimum Cr - Cb (how much redder than blue); raising it keeps only "
        "strongly orange pixels.",
    )
    min_luma: int = Field(
        default=90,
        ge=0,
        le=255,
        description="YCbCr rule: minimum brightness Y of a flame pixel; raising it ignores dark red "
        "objects (brick, rust, a red shirt in shade) but misses dim flames and embers.",
    )
    relative_to_frame: bool = Field(
        default=True,
        description="YCbCr rule: a flame pixel must also be brighter and redder than the frame average "
        "(Celik-style); turning it off helps when a fire fills much of the view.",
    )
    stable_after_frames: int = Field(
        default=15,
        ge=1,
        le=10_000,
        description="A pixel flame-coloured in this many analysed frames in a row belongs to a static "
        "orange thing (a sign, a brick wall) and no longer seeds blobs, so a flame next to it is judged "
        "on its own; flames keep changing at their edges. Lowering it also ignores steady flame cores sooner.",
    )
    min_component_px: int = Field(
        default=6,
        ge=1,
        le=100_000,
        description="Smallest flame-coloured blob (pixels at work_width_px) that can become a candidate; "
        "raising it ignores sparks and noise, lowering it reacts to smaller, farther ignitions.",
    )
    merge_gap_share: float = Field(
        default=0.03,
        ge=0.0,
        le=0.5,
        description="Blobs closer than this share of the frame width are one fire (tongues of one flame, "
        "windows of one burning house); raising it merges more.",
    )
    min_disorder: float = Field(
        default=0.18,
        ge=0.0,
        le=1.0,
        description="Share of a blob's flame pixels that must change between analysed frames for the blob "
        "to count as flickering; raising it rejects more lamps, signs and slow red cars but needs livelier "
        "flames; lowering it reacts to calmer flames and to more static red things.",
    )
    max_shift_share: float = Field(
        default=0.05,
        ge=0.0,
        le=0.5,
        description="Flicker is measured after the best rigid shift of the previous frame up to this share "
        "of the frame width, so a car or person sliding by does not count as flicker; raising it rejects "
        "faster movers (and slightly lowers the flicker of real flames), 0 turns motion compensation off.",
    )
    stabilise: bool = Field(
        default=True,
        description="Compensate the camera's own sway (global sub-pixel shift between analysed frames) "
        "before measuring flicker; turn off only for rock-steady cameras to save about 1 ms per frame.",
    )
    max_shake_share: float = Field(
        default=0.02,
        ge=0.0,
        le=0.2,
        description="Largest global shift (share of the frame width) treated as camera sway; larger "
        "shifts (a PTZ move) are not compensated. Raising it compensates stronger shake.",
    )
    fine_width_px: int = Field(
        default=960,
        ge=64,
        le=4096,
        description="Blobs that pass the coarse flicker test are checked again on full-resolution crops "
        "scaled as if the frame were this wide, so edge_tolerance_px and min_fine_changed_px mean the same "
        "share of the view on every camera; raising it makes both finer (more sensitive, more noise).",
    )
    min_fine_disorder: float = Field(
        default=0.15,
        ge=0.0,
        le=1.0,
        description="Disorder a blob must also show at fine resolution with the edge tolerance; raising it "
        "rejects more outline noise (thin sunset strips, compression) and delays small flames.",
    )
    min_fine_changed_px: int = Field(
        default=40,
        ge=0,
        le=100_000,
        description="Fewest changed pixels (in the fine view) for a blob to count as flickering at all: "
        "noise on a smooth orange sky flips a few pixels, a flame many. Raising it delays small, distant "
        "flames; lowering it lets colour noise through.",
    )
    edge_tolerance_px: int = Field(
        default=1,
        ge=0,
        le=10,
        description="In the fine test, outline changes within this many pixels do not count (camera sway, "
        "compression noise along an orange edge); 0 counts every changed pixel.",
    )
    min_overlap_prev: float = Field(
        default=0.3,
        ge=0.0,
        le=1.0,
        description="A blob is judged on flicker only when at least this share of its colour pixels existed "
        "in the previous frame too (so a lamp switching on is not 'flicker'); raising it is stricter.",
    )
    hot_min_luma: int = Field(
        default=180,
        ge=0,
        le=255,
        description="Brightness (Y) of a hot pixel: a flame emits light, so a blob needs some bright, not "
        "bluish pixels in it or at its edge (its yellow-white core). Raising it rejects more dim orange "
        "things (coats, brick, a beige wall at dusk) but also dim or distant flames; 0 turns the test off.",
    )
    min_hot_share: float = Field(
        default=0.02,
        ge=0.0,
        le=1.0,
        description="Share of a blob's flame-coloured pixels that must be matched by hot pixels (at least "
        "one); blobs below it are rejected as 'dim'. Raising it demands a larger bright core.",
    )
    inner_luma_step: int = Field(
        default=6,
        ge=1,
        le=255,
        description="Brightness change (Y levels) beyond the previous frame's 3x3 range for a pixel inside "
        "a blob to count as changed; raising it ignores stronger compression noise but needs livelier "
        "flames.",
    )
    inner_warmth_step: int = Field(
        default=8,
        ge=1,
        le=255,
        description="Colour change (Cr - Cb levels) beyond the previous frame's 3x3 range for a pixel to count "
        "as changed (a flame shifting between orange and yellow); raising it ignores more colour noise.",
    )
    min_inner_change: float = Field(
        default=0.08,
        ge=0.0,
        le=2.0,
        description="Inner change a blob needs to count as flickering when its outline stays put: twice the "
        "smaller of the shares of its pixels that brightened and that darkened (or got warmer and cooler). "
        "Turbulence scores high, a sign or a fading lamp near 0. Raising it rejects more noisy static "
        "things and calmer flames; above 1 turns this test off (outline flicker only).",
    )


class SmokeCueConfig(BaseModel):
    """Weights-free smoke cue (experimental): grey, translucent change that rises, grows and blurs."""

    model_config = ConfigDict(extra="forbid")

    enabled: bool = Field(
        default=False,
        description="Experimental: turn on the weights-free smoke cue. It is weaker than the flame cue on "
        "real footage (fog, steam, shadows); prefer a smoke model where one is available.",
    )
    work_width_px: int = Field(
        default=240,
        ge=32,
        le=1920,
        description="Width the smoke cue works at (smoke is large and soft); raising it finds smaller "
        "plumes at more CPU.",
    )
    max_blur_ratio: float = Field(
        default=1.0,
        gt=0.0,
        le=10.0,
        description="Median edge energy in a smoke track's box relative to the background's; smoke veils "
        "edges (below 1), solid grey objects bring new ones (above 1). Lowering it demands clearer veiling.",
    )
    background_alpha: float = Field(
        default=0.03,
        gt=0.0,
        le=1.0,
        description="How fast the background model follows the scene per analysed frame; raising it forgets "
        "slow smoke sooner (misses it), lowering it is slower to accept lighting changes (false change).",
    )
    min_change: int = Field(
        default=10,
        ge=1,
        le=255,
        description="Minimum grey-level change from the background for a smoke pixel; raising it needs "
        "thicker smoke, lowering it reacts to thin haze and to noise.",
    )
    max_chroma: int = Field(
        default=22,
        ge=0,
        le=255,
        description="Maximum colourfulness (|Cb-128|+|Cr-128|) of a smoke pixel; raising it accepts "
        "tinted smoke and also coloured moving objects.",
    )
    min_component_px: int = Field(
        default=30,
        ge=1,
        le=100_000,
        description="Smallest smoke blob (pixels at the cue's work width); raising it ignores small wisps.",
    )
    min_rise_share: float = Field(
        default=0.15,
        ge=0.0,
        le=5.0,
        description="Over the confirmation window the plume top must rise or the box grow by this share of "
        "its height; raising it waits for clearer rising smoke, lowering it accepts static grey change.",
    )
