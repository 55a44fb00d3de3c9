"""Component: the detector's model path with a real ONNX Runtime model through models.tiling.

The test model is yolov8n with seeded random weights (tests/conftest.py), so its class scores are ~1e-4:
at the default threshold it finds nothing (the cue still finds the roof), and with the threshold at 0
it returns boxes of random classes, which the class map turns into construction candidates.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from detectors.construction import ConstructionConfig, ConstructionDetector
from models.config import ModelConfig
from models.runtime import load_model
from models.tiling import predict_tiled_config
from tests.detectors.construction.synth import flight


def tiled(model_path: Path, conf_threshold: float):
    model = load_model(
        ModelConfig(name="yolo-random", path=model_path, conf_threshold=conf_threshold, max_det=20),
        warmup=False,
    )
    calls: list[int] = []

    def infer(image: np.ndarray):
        calls.append(image.shape[1])
        return predict_tiled_config(model, image, ConstructionConfig().tiling)

    return model, infer, calls


def test_random_weights_find_nothing_and_the_cue_still_works(yolo_model_dynamic: Path) -> None:
    model, infer, calls = tiled(yolo_model_dynamic, 0.25)
    cfg = ConstructionConfig(model="yolo-random", calibration={"enabled": False})  # type: ignore[arg-type]
    det = ConstructionDetector(cfg, infer=infer, class_names=dict(model.info.names))
    events = []
    for f in flight(n=4):  # the shed is in view from the second frame on; a site needs three sightings
        events += det.process(f, None)
    assert calls == [1280] * 4
    assert len(events) == 1 and events[0].reasons["sources"] == "cue"


def test_model_boxes_become_candidates_through_the_class_map(yolo_model_dynamic: Path) -> None:
    model, infer, _ = tiled(yolo_model_dynamic, 0.0)
    names = dict(model.info.names)
    cfg = ConstructionConfig.model_validate(
        {
            "model": "yolo-random",
            "min_model_confidence": 0.0,
            "min_area_m2": 0.0,
            "model_classes": {name: "scaffold" for name in names.values()},
            "cue": {"enabled": False},
            "calibration": {"enabled": False},
        }
    )
    det = ConstructionDetector(cfg, infer=infer, class_names=names)
    for f in flight(n=2):
        det.process(f, None)
    assert det.stats.candidates > 0
    assert det.stats.rejected["unmapped_class"] == 0
