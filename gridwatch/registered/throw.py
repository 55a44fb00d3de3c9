"""The throw detector's registration: weights-free, with an optional crop classifier run outside the batcher."""

from __future__ import annotations

from collections.abc import Callable
from typing import cast

import numpy as np
from numpy.typing import NDArray
from pydantic import BaseModel

from alerts import kinds
from detectors.base import Detector
from detectors.throw.config import ThrowConfig
from detectors.throw.detector import ThrowDetector
from gridwatch.registration import BuildContext, DetectorRegistration
from models.detections import Detections
from models.runtime import YoloModel


def _single_image(model: YoloModel) -> Callable[[NDArray[np.uint8]], Detections]:
    """One image (a crop) through the model, outside the batcher: crops are rare and small."""

    def infer(image: NDArray[np.uint8]) -> Detections:
        return model.predict([image])[0]

    return infer


def _build(ctx: BuildContext) -> Detector:
    cfg = cast(ThrowConfig, ctx.config)
    clf_model = ctx.model(cfg.classifier.model, "throw")
    return ThrowDetector(
        ctx.camera_id,
        cfg,
        classifier=_single_image(clf_model) if clf_model else None,
        class_names=dict(clf_model.info.names) if clf_model else None,
    )


def _models(config: BaseModel) -> tuple[str, ...]:
    cfg = cast(ThrowConfig, config)
    return (cfg.classifier.model,) if cfg.classifier.model else ()


THROW = DetectorRegistration("throw", ThrowConfig, _build, kinds.THROW, models_used=_models)
