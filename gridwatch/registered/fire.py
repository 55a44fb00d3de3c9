"""The fire/smoke detector's registration: a model (or none, in `cues` mode) and the ground calibration."""

from __future__ import annotations

from typing import cast

from pydantic import BaseModel

from alerts import kinds
from detectors.base import Detector
from detectors.fire.config import FireConfig
from detectors.fire.detector import FireDetector
from gridwatch.registration import BuildContext, DetectorRegistration, model_ref


def _build(ctx: BuildContext) -> Detector:
    cfg = cast(FireConfig, ctx.config)
    model = ctx.model(cfg.model, "fire") if cfg.mode != "cues" else None
    return FireDetector(
        cfg,
        class_names=dict(model.info.names) if model else None,
        ground=ctx.calibration.ground,
        model_ref=model_ref(model) if model else None,
        camera_id=ctx.camera_id,
    )


def _models(config: BaseModel) -> tuple[str, ...]:
    cfg = cast(FireConfig, config)
    return (cfg.model,) if cfg.model else ()


FIRE = DetectorRegistration("fire", FireConfig, _build, kinds.FIRE, models_used=_models)
