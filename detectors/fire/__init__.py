"""Fire and smoke detection on fixed cameras: model boxes and/or weights-free cues, confirmed over time."""

from detectors.fire.config import FireConfig
from detectors.fire.detector import FireDetector

__all__ = ["FireConfig", "FireDetector"]
