"""The construction detector's registration: tiled inference for drone frames, the survey recorder, and
the flight and survey summaries written when a flight ends."""

from __future__ import annotations

from collections.abc import Callable
from typing import cast

import numpy as np
from numpy.typing import NDArray
from pydantic import BaseModel

from alerts import kinds
from detectors.base import Detector
from detectors.construction.config import ConstructionConfig
from detectors.construction.detector import ConstructionDetector
from detectors.construction.registry import Registry
from detectors.construction.survey.archive import SurveyStore
from detectors.construction.survey.run import SurveyRecorder
from gridwatch.registration import BuildContext, DetectorRegistration, NamedSummary, model_ref
from models.config import TilingConfig
from models.detections import Detections
from models.runtime import YoloModel
from models.tiling import predict_tiled_config


def _tiled(model: YoloModel, tiling: TilingConfig) -> Callable[[NDArray[np.uint8]], Detections]:
    """Tiled inference for large drone frames (small roofs stay visible at the model's input size)."""

    def infer(image: NDArray[np.uint8]) -> Detections:
        return predict_tiled_config(model, image, tiling)

    return infer


def survey_recorder(cfg: ConstructionConfig, registry: Registry, store: SurveyStore | None) -> SurveyRecorder:
    """Change between surveys for a construction detector, keeping mosaics in `store`."""
    return SurveyRecorder(
        cfg.survey,
        cfg.camera,
        cfg.geometry,
        registry,
        known_min_overlap=cfg.registry.known_min_overlap,
        tolerance_m=cfg.registry.tolerance_m,
        search_radius_m=cfg.registry.search_radius_m,
        store=store,
    )


def _build(ctx: BuildContext) -> Detector:
    cfg = cast(ConstructionConfig, ctx.config)
    model = ctx.model(cfg.model, "construction")
    detector = ConstructionDetector(
        cfg,
        infer=_tiled(model, cfg.tiling) if model is not None and cfg.tiled else None,
        class_names=dict(model.info.names) if model else None,
        model_ref=model_ref(model) if model else None,
    )
    if cfg.survey.enabled:
        detector.survey = survey_recorder(cfg, detector.registry, ctx.survey_store)
    return detector


def _models(config: BaseModel) -> tuple[str, ...]:
    cfg = cast(ConstructionConfig, config)
    return (cfg.model,) if cfg.model else ()


def _keeps_surveys(config: BaseModel) -> bool:
    return cast(ConstructionConfig, config).survey.enabled


def _summaries(detector: Detector) -> list[NamedSummary]:
    det = cast(ConstructionDetector, detector)  # the registry hands each registration its own detectors
    out = [NamedSummary(flight_id, "summary", summary) for flight_id, summary in det.summaries.items()]
    if det.survey is not None:  # change between surveys: also kept in the store beside the mosaic
        out += [NamedSummary(fid, "survey", result.summary) for fid, result in det.survey.results.items()]
    return out


CONSTRUCTION = DetectorRegistration(
    "construction",
    ConstructionConfig,
    _build,
    kinds.CONSTRUCTION,
    models_used=_models,
    keeps_surveys=_keeps_surveys,
    summaries=_summaries,
)
