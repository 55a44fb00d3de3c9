"""How fire/smoke candidates become incidents: confirmation, size gates, lifecycle, confidence, fusion.

Part of `FireConfig` (`detectors.fire.config`): the settings the detector's track and incident logic
reads, apart from the cues' own (`detectors.fire.cue_config`).
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

HISTORY_LIMIT = 24
"""Analysed frames of per-track history the detector keeps (`detectors.fire.tracks.HISTORY_FRAMES`)."""


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
