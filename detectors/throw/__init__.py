"""High-altitude throwing detector (高空抛物): foreground, gravity-aware tracking, free-fall test, floor."""

from detectors.throw.config import ThrowConfig
from detectors.throw.crop_veto import CropClassifier
from detectors.throw.detector import ThrowDetector
from detectors.throw.stats import ThrowStats

__all__ = ["CropClassifier", "ThrowConfig", "ThrowDetector", "ThrowStats"]
