"""`FireConfig`: the `detectors.fire` section; every threshold an operator may tune, per camera.

The lead merges a camera's partial override over the defaults and validates the result here, so every
field has a default and an empty section is a working weights-free detector (colour+motion+flicker cues).
Descriptions say what raising or lowering a value does, because that is what an operator needs to know.
The cues' settings live in `cue_config`, the track and incident rules in `incident_config`.
"""

from __future__ import annotations

import re
from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from detectors.fire.cue_config import FlameCueConfig, SmokeCueConfig
from detectors.fire.incident_config import (
    AreaConfig,
    ConfidenceConfig,
    ConfirmConfig,
    FusionConfig,
    LifecycleConfig,
)
from detectors.zones import check_polygons
from models.config import GatingConfig

Point = tuple[float, float]

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
