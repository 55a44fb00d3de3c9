"""The optional bird veto: a classifier looks at a crop around a track's last position."""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping

import numpy as np
from numpy.typing import NDArray

from detectors.throw.config import ClassifierConfig
from detectors.throw.stats import ThrowStats
from foundation.errors import ModelError
from ingest.frame import Frame
from models.detections import Detections

# the detector's logger: the classifier-failure warning kept its name when this moved out
log = logging.getLogger("detectors.throw.detector")

CropClassifier = Callable[[NDArray[np.uint8]], Detections]
"""A crop (BGR) -> detections in crop pixels; the service binds the configured model's function."""


def crop_veto(
    classifier: CropClassifier | None,
    class_names: Mapping[int, str],
    ccfg: ClassifierConfig,
    frame: Frame,
    xy: NDArray[np.float64],
    size_px: float,
    last_shift: tuple[float, float],
    stats: ThrowStats,
    camera_id: str,
) -> str | None:
    """Run the crop classifier if there is one; return 'classifier' when it sees a reject class. A failing
    classifier is counted and logged, and the track is judged by motion alone."""
    if classifier is None:
        return None
    half = max(ccfg.crop_size_px, int(size_px * 3)) // 2
    # tracks are in the stabilised (reference) view; the frame is shifted by the jitter
    cx, cy = int(xy[0] + last_shift[0]), int(xy[1] + last_shift[1])
    x1, y1 = max(0, cx - half), max(0, cy - half)
    crop = np.ascontiguousarray(frame.image[y1 : cy + half, x1 : cx + half])
    if crop.size == 0:
        return None
    try:
        dets = classifier(crop)
    except ModelError:
        stats.classifier_errors += 1
        log.warning(
            "camera %s: throw crop classifier failed; judging by motion alone",
            camera_id,
            exc_info=True,
        )
        return None
    reject = set(ccfg.reject_classes)
    for cls, conf in zip(dets.class_id, dets.confidence, strict=True):
        if class_names.get(int(cls), str(int(cls))) in reject and float(conf) >= ccfg.min_confidence:
            return "classifier"
    return None
