"""The `detectors:` section (defaults of each detector) and a camera's `calibration:` section.

Each detector owns its model (detectors/<name>/config.py); this module only composes the defaults
section. Which model validates a camera's `detectors.<name>` is its registration's (gridwatch/registered/).
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from detectors.construction.config import ConstructionConfig
from detectors.fire.config import FireConfig
from detectors.geometry.ground import GroundCalibration
from detectors.throw.config import ThrowConfig


class DetectorsConfig(BaseModel):
    """Defaults for every camera that runs a detector; cameras override keys under their own `detectors:`."""

    model_config = ConfigDict(extra="forbid")

    fire: FireConfig = Field(default_factory=FireConfig, description="Fire and smoke (fixed cameras).")
    throw: ThrowConfig = Field(default_factory=ThrowConfig, description="Objects thrown from high floors.")
    construction: ConstructionConfig = Field(
        default_factory=ConstructionConfig, description="Illegal construction from drone footage."
    )


class CameraCalibration(BaseModel):
    """Where a fixed camera's pixels lie on the ground (the facade of a throw camera is under detectors.throw)."""

    model_config = ConfigDict(extra="forbid")

    ground: GroundCalibration | None = Field(
        default=None,
        description="Image-to-ground homography from >= 4 surveyed points; alerts then carry a ground position.",
    )

