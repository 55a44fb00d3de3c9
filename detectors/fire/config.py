"""`FireConfig`: the `detectors.fire` section; every threshold an operator may tune, per camera.

The lead merges a camera's partial override over the defaults and validates the result here, so every
field has a default and an empty section is a working weights-free detector (colour+motion+flicker cues).
Descriptions say what raising or lowering a value does, because that is what an operator needs to know.
"""

from __future__ import annotations

import re
from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from detectors.zones import check_polygons
from models.config import GatingConfig

Point = tuple[float, float]

HISTORY_LIMIT = 24
"""Analysed frames of per-track history the detector keeps (`detectors.fire.tracks.HISTORY_FRAMES`)."""

_HOURS = re.compile(r"^(\d{2}):(\d{2})-(\d{2}):(\d{2})$")


class ClassMapConfig(BaseModel):
    """Which model class names mean fire and which mean smoke (any Ultralytics-exported detector)."""

    model_config = ConfigDict(extra="forbid")

    fire: list[str] = Field(
        default_factory=lambda: ["fire", "Fire", "flame", "flames"],
        description="Class names counted as fire; other classes of the model are ignored. Adding a name "
        "makes that class raise fire candidates.",
    )
    smoke: list[str] = Field(
        default_factory=lambda: ["smoke", "Smoke"],
        description="Class names counted as smoke (removing them stops model smoke alerts).",
    )


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


class ConfirmConfig(BaseModel):
    """Temporal confirmation: link candidates over frames, then start an incident on N of the last M."""

    model_config = ConfigDict(extra="forbid")

    frames_required: int = Field(
        default=5,
        ge=1,
        le=200,
        description="Fire: analysed frames (of the last window_frames) with a candidate before an incident "
        "starts; raising it means fewer false alarms and later alerts.",
    )
    window_frames: int = Field(
        default=7,
        ge=1,
        le=400,
        description="Fire: how many recent analysed frames the N-of-M rule looks at; raising it (with "
        "frames_required fixed) tolerates more frames without a candidate, so confirmation is easier.",
    )
    smoke_frames_required: int = Field(
        default=8,
        ge=1,
        le=200,
        description="Smoke: frames with a candidate before an incident starts (smoke is slower); raising "
        "it means fewer false smoke alerts and later ones.",
    )
    smoke_window_frames: int = Field(
        default=12,
        ge=1,
        le=400,
        description="Smoke: how many recent analysed frames the N-of-M rule looks at; raising it (with "
        "smoke_frames_required fixed) tolerates more gaps in a thin plume.",
    )
    link_min_overlap: float = Field(
        default=0.1,
        ge=0.0,
        le=1.0,
        description="Minimum overlap (intersection over the smaller box, after widening by "
        "link_margin_share) "
        "to link a candidate to an existing track; raising it splits flickering fires into several tracks.",
    )
    link_margin_share: float = Field(
        default=0.25,
        ge=0.0,
        le=2.0,
        description="Track boxes are widened by this share of their size before linking, so a flame that "
        "jumps a little stays one track.",
    )
    max_drift: float = Field(
        default=0.6,
        ge=0.0,
        le=100.0,
        description="Largest steady movement (robust trend) of a track's base point over its history, in box "
        "sizes (cue-only tracks, and model tracks with fusion.model_lamp_tests); fires stay put while cars "
        "and people walk away. Lowering it rejects more movers and also fast-spreading fires.",
    )
    max_off_share: float = Field(
        default=0.3,
        ge=0.0,
        le=1.0,
        description="Largest share of a fire track's recent frames in which its flame colour (or, for model "
        "tracks, the model's confidence) vanishes: a blinking lamp is off half the time, a fire never. "
        "Lowering it rejects more blinking lights.",
    )
    max_periodicity: float = Field(
        default=0.8,
        ge=0.0,
        le=1.0,
        description="Largest autocorrelation of a fire track's flame-area (or model-confidence) series at any "
        "lag >= 2 frames; a regularly blinking lamp scores near 1, flames flicker irregularly. Lowering it "
        "is stricter.",
    )
    max_tracks: int = Field(
        default=32,
        ge=1,
        le=1000,
        description="Most tracks kept per camera; the weakest are dropped beyond it. Raising it costs a "
        "little CPU in very busy scenes, lowering it may drop a real fire's track among many false ones.",
    )


class AreaConfig(BaseModel):
    """Size gates on candidate boxes."""

    model_config = ConfigDict(extra="forbid")

    min_box_area_share: float = Field(
        default=0.0002,
        ge=0.0,
        le=1.0,
        description="Smallest candidate box as a share of the frame area; raising it ignores small distant "
        "fires (and small false sources), lowering it alerts on smaller ignitions.",
    )
    max_box_width_share: float = Field(
        default=0.6,
        gt=0.0,
        le=1.0,
        description="Candidate boxes wider than this share of the frame width are dropped (a sunset sky, a "
        "whole-frame lighting change); raising it keeps very close, very large fires.",
    )


class ScheduleConfig(BaseModel):
    """When new incidents may start; open incidents keep updating and end normally outside the hours."""

    model_config = ConfigDict(extra="forbid")

    active_hours: list[str] = Field(
        default_factory=list,
        description="Local time ranges 'HH:MM-HH:MM' in which new incidents may start (a range may wrap "
        "midnight, '24:00' ends a day); empty means always.",
    )
    timezone: str = Field(
        default="Asia/Shanghai", description="IANA time zone in which active_hours are read (local time)."
    )

    @field_validator("active_hours")
    @classmethod
    def _hours(cls, value: list[str]) -> list[str]:
        for item in value:
            m = _HOURS.match(item.strip())
            if not m:
                raise ValueError(f"'{item}' is not 'HH:MM-HH:MM'")
            h1, m1, h2, m2 = (int(g) for g in m.groups())
            if h1 > 24 or h2 > 24 or m1 > 59 or m2 > 59 or h1 * 60 + m1 > 1440 or h2 * 60 + m2 > 1440:
                raise ValueError(f"'{item}' has an hour or minute out of range")
        return value

    @field_validator("timezone")
    @classmethod
    def _zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown time zone '{value}'") from exc
        return value


class LifecycleConfig(BaseModel):
    """Incident lifecycle: update cadence, end, cooldown and the evidence clip window."""

    model_config = ConfigDict(extra="forbid")

    end_after_s: float = Field(
        default=20.0,
        gt=0.0,
        le=3600.0,
        description="An incident ends when no candidate was linked to it for this long; raising it bridges "
        "longer occlusions (smoke, a passing bus), lowering it closes tickets sooner.",
    )
    cooldown_s: float = Field(
        default=120.0,
        ge=0.0,
        le=86400.0,
        description="After an incident ends, a new one of the same kind overlapping its box does not start "
        "for this long; raising it suppresses re-alerts of a flapping source.",
    )
    update_min_interval_s: float = Field(
        default=10.0,
        ge=0.0,
        le=3600.0,
        description="Least time between two update events of one incident; lowering it sends more "
        "updates, raising it fewer.",
    )
    update_growth_factor: float = Field(
        default=1.5,
        gt=1.0,
        le=100.0,
        description="Send an update when the fire area has grown by this factor since the last event; "
        "lowering it sends more updates.",
    )
    update_min_confidence_gain: float = Field(
        default=0.1,
        ge=0.0,
        le=1.0,
        description="Send an update (a better snapshot) when confidence rose by this much since the "
        "last event; lowering it sends more updates.",
    )
    heartbeat_s: float = Field(
        default=120.0,
        ge=0.0,
        le=86400.0,
        description="Send an update at least this often while the incident lasts (0: never), so the "
        "dispatcher sees it is still burning; lowering it sends more heartbeats.",
    )
    pre_roll_s: float = Field(
        default=5.0,
        ge=0.0,
        le=600.0,
        description="Seconds of video before the first candidate in the evidence clip; raising it shows "
        "more of how the fire began, in a larger clip.",
    )
    post_roll_s: float = Field(
        default=5.0,
        ge=0.0,
        le=600.0,
        description="Seconds of video after the triggering frame in the evidence clip; raising it shows "
        "more of the development, in a larger clip.",
    )


class ConfidenceConfig(BaseModel):
    """How the evidence adds up to an event confidence in [0, 1]."""

    model_config = ConfigDict(extra="forbid")

    cue_base: float = Field(
        default=0.5,
        ge=0.0,
        le=1.0,
        description="Confidence of a confirmed cue-only track before bonuses; raising it ranks cue "
        "alerts higher against model alerts.",
    )
    agreement_bonus: float = Field(
        default=0.25,
        ge=0.0,
        le=1.0,
        description="Added when the model and the cues agree on the same place in at least one window "
        "frame; raising it ranks agreed alerts higher.",
    )
    growth_bonus: float = Field(
        default=0.15,
        ge=0.0,
        le=1.0,
        description="Added in full when the fire area grows at growth_ref_per_s or faster (pro rata "
        "below); raising it ranks growing fires higher.",
    )
    growth_ref_per_s: float = Field(
        default=0.2,
        gt=0.0,
        le=100.0,
        description="Relative area growth per second that earns the whole growth bonus; lowering it "
        "rewards slow growth as much as fast.",
    )
    flicker_bonus: float = Field(
        default=0.15,
        ge=0.0,
        le=1.0,
        description="Added in full when the median flicker (disorder) is twice min_disorder or more.",
    )


class FusionConfig(BaseModel):
    """How model and cue evidence combine: lamp tests on model tracks, and the `both`-mode rule.

    Rule in `both` mode: a track the model confirms (N of M frames with a box at or above
    `min_model_confidence`) starts an incident on its own, after the same lamp tests cue tracks pass
    (off-share, periodicity, drift); a fire track no flickering blob agreed with also needs a mean
    confidence of `model_only_min_confidence`. A cue-only track (flicker, but the model never gave it a box at
    `min_model_confidence`) starts one only when `cue_only` allows: `corroborated` (default) needs weaker
    model evidence touching it in its window, a box of any fire/smoke class at or above
    `corroboration_min_confidence` (smoke rising over a flame counts); `alert` lets cue-only tracks alert
    alone (as `cues` mode does); `never` lets only the model start incidents. A smoke track only the model
    sees must also show its inside changing more than its surroundings (`model_smoke_min_change`).
    """

    model_config = ConfigDict(extra="forbid")

    cue_only: Literal["corroborated", "alert", "never"] = Field(
        default="corroborated",
        description="`both` mode: what a cue-only track needs to start an incident. 'corroborated': some "
        "model evidence near it (fewest false alarms that were measured); 'alert': nothing more (finds "
        "flames the model never boxes, and raises the cues' false alarms too); 'never': cue-only tracks "
        "only add confidence to model tracks.",
    )
    corroboration_min_confidence: float = Field(
        default=0.25,
        ge=0.0,
        le=1.0,
        description="`both` mode: model boxes at or above this (fire or smoke class, through the same size, "
        "zone and mask gates) corroborate a cue-only track they touch, though below min_model_confidence "
        "they start nothing. Boxes below the model's own conf_threshold never arrive. Lowering it lets more "
        "cue tracks through (and more false ones), raising it towards min_model_confidence approaches "
        "'never'.",
    )
    corroboration_margin_share: float = Field(
        default=0.5,
        ge=0.0,
        le=5.0,
        description="`both` mode: a cue track's region is widened by this share of its size on each side "
        "when looking for corroborating model boxes (smoke rises above the flame that makes it); raising "
        "it accepts evidence farther away.",
    )
    model_only_min_confidence: float = Field(
        default=0.5,
        ge=0.0,
        le=1.0,
        description="`both` mode: a fire track only the model sees (no flickering flame-colour blob agreed "
        "with it in its window) needs this mean model confidence; with agreement, min_model_confidence is "
        "enough. The model scores steady orange things (a lit sign, a sunset glow, a lamp) at 0.35-0.5 and "
        "flames higher; raising it trusts the model alone less, 0 turns the tier off.",
    )
    lamp_min_frames: int = Field(
        default=10,
        ge=1,
        le=HISTORY_LIMIT,
        description="`model` and `both` modes, with model_lamp_tests: a model-backed fire track starts an "
        "incident only once the model has been watching it for this many analysed frames (2 s at 5 fps), "
        "so the lamp tests have seen a blink or two; raising it rejects slower lamps and delays model "
        "alerts by the same time.",
    )
    model_lamp_tests: bool = Field(
        default=True,
        description="`model` and `both` modes: also reject model-confirmed fire tracks that blink (off-share), "
        "repeat (periodicity) or move (drift), judged on the model's per-frame confidence and, in `both` "
        "mode, on the flame-colour pixels in the track. The model calls a blinking amber lamp fire; turning "
        "this off lets such tracks alert.",
    )
    model_smoke_min_change: float = Field(
        default=2.0,
        ge=0.0,
        le=50.0,
        description="`both` mode: a smoke track only the model sees (no cue agreed with it) starts or updates "
        "an incident only while the median, over its confirmation window, of the frame-to-frame brightness "
        "change inside its box minus the median change in a ring around it is at least this many grey levels "
        "(0-255). A plume churns and drifts inside its box; a still band of sky or haze the model calls smoke "
        "changes no more than its surroundings (tuning street clips: -0.6 to 1.1; FURG house6's real smoke "
        "4.4-4.9). Raising it holds back thin or slow smoke, lowering it towards 0 lets still 'smoke' "
        "through; 0 turns the test off.",
    )
    model_smoke_must_rise: bool = Field(
        default=False,
        description="`both` mode: a smoke track only the model sees must also rise or grow by "
        "smoke.min_rise_share over its kept history, like a cue smoke track. Smoke from a fire rises and "
        "spreads; the model also scores a still band of sky or haze as smoke at 0.5-0.75 (tuning street clips). "
        "True rejects such still 'smoke' and delays smoke alerts until the plume has moved; false lets "
        "every model-confirmed smoke track alert. Measured (README): true cut the street look-alike clips "
        "alerted from 3/10 to 0/10 with the same fires and latencies, but delayed FURG's first alert from "
        "1.4 s (smoke) to 4.6 s (fire), past the 3 s gate, so it stays off by default.",
    )
    model_smoke_top_edge_share: float = Field(
        default=0.0,
        ge=0.0,
        le=0.5,
        description="`both` mode: a model-seen smoke track whose box tops all stay within this share of the "
        "frame height from the top edge over its kept history (a band of sky or haze along the top of the "
        "frame) must grow or rise by smoke.min_rise_share before it alerts, as with model_smoke_must_rise but "
        "only for such boxes; smoke rising from a fire lower in the frame alerts at once. The model scores "
        "still sky at the top of the frame as smoke at 0.55-0.75 (tuning street clips: box tops at 6-8 px "
        "of 720). Raising it tests boxes that start lower; 0 turns the test off. Measured (README) at 0.03: "
        "street look-alike clips alerted 0/10 instead of 3/10, same fires and latencies, but FURG's first "
        "alert came at 4.6 s instead of 1.4 s (its early smoke is held too), so it is off by default.",
    )


class FireConfig(BaseModel):
    """`detectors.fire`: fire and smoke detection for fixed cameras (model, cues or both)."""

    model_config = ConfigDict(extra="forbid")

    analysis_fps: float = Field(
        default=5.0,
        gt=0.0,
        le=30.0,
        description="Frames per second analysed; raising it confirms sooner (frames_required is counted in "
        "analysed frames) at proportionally more CPU.",
    )
    mode: Literal["model", "cues", "both"] = Field(
        default="cues",
        description="'model': only the fire/smoke model's boxes; 'cues': only the weights-free colour, "
        "flicker and smoke cues; 'both': the model's tracks, plus cue tracks the model corroborates (see "
        "`fusion`), and agreement raises confidence. Use 'both' with trained weights, 'cues' without.",
    )
    model: str | None = Field(
        default=None,
        description="Name of the fire/smoke model in `models:`; required for mode 'model' or 'both', "
        "unused for 'cues'.",
    )
    class_map: ClassMapConfig = Field(
        default_factory=ClassMapConfig,
        description="Model class names per kind.",
    )
    min_model_confidence: float = Field(
        default=0.35,
        ge=0.0,
        le=1.0,
        description="Model boxes below this confidence are not candidates; raising it means fewer false "
        "candidates and later or missed alerts.",
    )
    flame: FlameCueConfig = Field(default_factory=FlameCueConfig, description="Weights-free flame cue.")
    smoke: SmokeCueConfig = Field(default_factory=SmokeCueConfig, description="Weights-free smoke cue.")
    confirm: ConfirmConfig = Field(default_factory=ConfirmConfig, description="Temporal confirmation.")
    area: AreaConfig = Field(default_factory=AreaConfig, description="Candidate size gates.")
    zones: list[list[Point]] = Field(
        default_factory=list,
        description="Polygons (pixels, or 0-1 relative) where fire may be reported; empty: the whole frame.",
    )
    masks: list[list[Point]] = Field(
        default_factory=list,
        description="Polygons of known false sources (a lamp, a chimney, an orange sign) that are ignored.",
    )
    mask_max_overlap: float = Field(
        default=0.5,
        ge=0.0,
        le=1.0,
        description="A model box more than this share inside the masks is dropped; lowering it drops boxes "
        "that merely touch a mask.",
    )
    schedule: ScheduleConfig = Field(default_factory=ScheduleConfig, description="Active hours.")
    lifecycle: LifecycleConfig = Field(default_factory=LifecycleConfig, description="Incident lifecycle.")
    confidence: ConfidenceConfig = Field(default_factory=ConfidenceConfig, description="Confidence scoring.")
    gating: GatingConfig = Field(
        default_factory=GatingConfig,
        description="Model modes only: run the model only on frames and regions that changed, plus a "
        "staggered full-frame sweep (see models.gating). Off: every analysed frame runs whole.",
    )
    fusion: FusionConfig = Field(
        default_factory=FusionConfig, description="Lamp tests on model tracks and the `both`-mode rule."
    )
    ground_pixel_sigma_share: float = Field(
        default=0.1,
        ge=0.0,
        le=10.0,
        description="Uncertainty of a fire's base pixel as a share of its box height, for the accuracy "
        "radius of its ground position; raising it reports a wider radius.",
    )

    @field_validator("zones", "masks")
    @classmethod
    def _polygons(cls, value: list[list[Point]]) -> list[list[Point]]:
        check_polygons(value)
        return value

    @model_validator(mode="after")
    def _consistent(self) -> FireConfig:
        if self.mode in ("model", "both") and not self.model:
            raise ValueError(f"mode '{self.mode}' needs `model` (a fire/smoke model's name in `models:`)")
        c = self.confirm
        if c.frames_required > c.window_frames:
            raise ValueError(
                f"confirm.frames_required ({c.frames_required}) exceeds confirm.window_frames ({c.window_frames})"
            )
        if c.smoke_frames_required > c.smoke_window_frames:
            raise ValueError(
                f"confirm.smoke_frames_required ({c.smoke_frames_required}) exceeds "
                f"confirm.smoke_window_frames ({c.smoke_window_frames})"
            )
        return self
