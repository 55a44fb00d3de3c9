"""Build a camera's detectors from its resolved config and the loaded models.

The only place that knows each detector's constructor: it hands each one its model's class names and
reference, the camera's calibration, and the model functions it needs besides per-frame detection
(tiled inference for drone frames, a crop classifier for throw cameras).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import cast

import numpy as np
from numpy.typing import NDArray
from pydantic import BaseModel

from detectors.base import Detector
from detectors.construction.config import ConstructionConfig
from detectors.construction.detector import ConstructionDetector
from detectors.construction.registry import Registry
from detectors.construction.survey.archive import SurveyStore
from detectors.construction.survey.run import SurveyRecorder
from detectors.event import ModelRef
from detectors.fire.config import FireConfig
from detectors.fire.detector import FireDetector
from detectors.throw.config import ThrowConfig
from detectors.throw.detector import ThrowDetector
from foundation.errors import ConfigError
from gridwatch.config import ResolvedCamera
from models.config import TilingConfig
from models.detections import Detections
from models.runtime import YoloModel
from models.tiling import predict_tiled_config


def model_ref(model: YoloModel) -> ModelRef:
    return ModelRef(name=model.info.name, version=model.info.version, sha256=model.info.sha256)


def _model(models: Mapping[str, YoloModel], name: str | None, camera_id: str, detector: str) -> YoloModel | None:
    if not name:
        return None
    model = models.get(name)
    if model is None:
        raise ConfigError(f"camera {camera_id}: detector {detector} needs model '{name}', which is not loaded")
    return model


def models_needed(cameras: Mapping[str, ResolvedCamera]) -> set[str]:
    """Names of the models some enabled camera's detectors use (only those are loaded)."""
    names: set[str] = set()
    for cam in cameras.values():
        if not cam.config.enabled:
            continue
        for cfg in cam.detectors.values():
            for attr in ("model",):
                value = getattr(cfg, attr, None)
                if isinstance(value, str) and value:
                    names.add(value)
            classifier = getattr(cfg, "classifier", None)
            if classifier is not None and getattr(classifier, "model", None):
                names.add(classifier.model)
    return names


def _single_image(model: YoloModel) -> Callable[[NDArray[np.uint8]], Detections]:
    """One image (a crop) through the model, outside the batcher: crops are rare and small."""

    def infer(image: NDArray[np.uint8]) -> Detections:
        return model.predict([image])[0]

    return infer


def _tiled(model: YoloModel, tiling: TilingConfig) -> Callable[[NDArray[np.uint8]], Detections]:
    """Tiled inference for large drone frames (small roofs stay visible at the model's input size)."""

    def infer(image: NDArray[np.uint8]) -> Detections:
        return predict_tiled_config(model, image, tiling)

    return infer


def build_detector(
    name: str,
    cfg: BaseModel,
    camera: ResolvedCamera,
    models: Mapping[str, YoloModel],
    survey_store: SurveyStore | None = None,
) -> Detector:
    """One detector for one camera (or flight). `survey_store` keeps survey mosaics (the evidence store)."""
    cam_id = camera.id
    if name == "fire":
        fire_cfg = cast(FireConfig, cfg)
        model = _model(models, fire_cfg.model, cam_id, name) if fire_cfg.mode != "cues" else None
        return FireDetector(
            fire_cfg,
            class_names=dict(model.info.names) if model else None,
            ground=camera.config.calibration.ground,
            model_ref=model_ref(model) if model else None,
            camera_id=cam_id,
        )
    if name == "throw":
        throw_cfg = cast(ThrowConfig, cfg)
        clf_model = _model(models, throw_cfg.classifier.model, cam_id, name)
        return ThrowDetector(
            cam_id,
            throw_cfg,
            classifier=_single_image(clf_model) if clf_model else None,
            class_names=dict(clf_model.info.names) if clf_model else None,
        )
    if name == "construction":
        con_cfg = cast(ConstructionConfig, cfg)
        model = _model(models, con_cfg.model, cam_id, name)
        detector = ConstructionDetector(
            con_cfg,
            infer=_tiled(model, con_cfg.tiling) if model is not None and con_cfg.tiled else None,
            class_names=dict(model.info.names) if model else None,
            model_ref=model_ref(model) if model else None,
        )
        if con_cfg.survey.enabled:
            detector.survey = survey_recorder(con_cfg, detector.registry, survey_store)
        return detector
    raise ConfigError(f"camera {cam_id}: unknown detector '{name}'")


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


def build_detectors(
    camera: ResolvedCamera, models: Mapping[str, YoloModel], survey_store: SurveyStore | None = None
) -> list[Detector]:
    """Every detector a camera's config enables, in a stable order (fire, throw, construction)."""
    order = ("fire", "throw", "construction")
    return [
        build_detector(name, camera.detectors[name], camera, models, survey_store)
        for name in order
        if name in camera.detectors
    ]
