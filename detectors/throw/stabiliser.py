"""The camera's shift against a slowly updated reference of its view: wind jitter to undo, a knock to relearn.

The reference is shrunk to about `_STAB_WIDTH_PX` wide; the median Lucas-Kanade flow of its corners into each
frame is the shift. A shift beyond `max_jitter_px` is 'shake'; shake that lasts means the camera moved, and the
reference is retaken (the caller then relearns its background too).
"""

from __future__ import annotations

import logging

import cv2
import numpy as np
from numpy.typing import NDArray

from detectors.throw.config_image import ForegroundConfig

# the foreground stage's logger: the "relearning background" warning kept its name when this moved out
log = logging.getLogger("detectors.throw.foreground")

_SHAKE_RELEARN_FRAMES = 25
"""Consecutive 'shake' frames after which the camera is taken to have moved and everything is relearned."""
_STAB_WIDTH_PX = 480
"""Width of the image the camera's shift is measured on: ~0.7 ms per frame, good to ~0.05 px there."""
_FEATURES = 48
"""Reference corners followed by Lucas-Kanade; the median of their flows is the camera's shift."""
_MIN_FEATURES = 6
_FEATURE_REFRESH_FRAMES = 100
_REF_RATE = 0.05
"""Blend rate of the stabilisation reference (slow: jitter averages out, a slow drift is followed)."""


class Stabiliser:
    """One camera's stabilisation reference, the corners followed on it and the current run of shake."""

    def __init__(self, camera_id: str) -> None:
        self.camera_id = camera_id
        self._ref: NDArray[np.float32] | None = None
        self._ref_u8: NDArray[np.uint8] | None = None
        self._features: NDArray[np.float32] | None = None
        self._feature_age = 0
        self._shake_run = 0

    def reset(self) -> None:
        """Forget the reference and the shake run (new frame size or method)."""
        self._ref = None
        self._ref_u8 = None
        self._features = None
        self._shake_run = 0

    def measure(
        self, grey: NDArray[np.uint8], f: int, config: ForegroundConfig
    ) -> tuple[tuple[float, float], float, str | None, bool]:
        """Shift of this frame against the reference (processing px), mean grey, 'shake' if too big, and
        whether the view has moved for good (the reference was retaken: the caller's background is stale)."""
        ph, pw = grey.shape
        s = max(1, pw // _STAB_WIDTH_PX)
        tiny = grey
        if s > 1:
            tiny = _u8(
                cv2.resize(grey[: (ph // s) * s, : (pw // s) * s], (pw // s, ph // s), interpolation=cv2.INTER_AREA)
            )
        mean_grey = float(cv2.mean(tiny)[0])
        if not config.stabilise:
            return (0.0, 0.0), mean_grey, None, False
        if self._ref is None or self._ref.shape != tiny.shape:
            self._set_reference(tiny)
            return (0.0, 0.0), mean_grey, None, False
        self._feature_age += 1
        if self._features is None or self._feature_age > _FEATURE_REFRESH_FRAMES:
            self._features = self._find_features()
        shift = self._measure_shift(tiny, self._features)
        if shift is None:  # too little texture to tell (night, fog): trust the mount this frame
            return (0.0, 0.0), mean_grey, None, False
        shift = (shift[0] * s, shift[1] * s)
        if max(abs(shift[0]), abs(shift[1])) * f > config.max_jitter_px:
            self._shake_run += 1
            if self._shake_run >= _SHAKE_RELEARN_FRAMES:
                log.warning(
                    "camera %s: view moved by (%.1f, %.1f) px for %d frames; relearning background",
                    self.camera_id,
                    shift[0] * f,
                    shift[1] * f,
                    self._shake_run,
                )
                self._set_reference(tiny)
                self._shake_run = 0
                return shift, mean_grey, "shake", True
            return shift, mean_grey, "shake", False
        self._shake_run = 0
        dx, dy = shift[0] / s, shift[1] / s
        matrix = np.array([[1.0, 0.0, -dx], [0.0, 1.0, -dy]], np.float32)
        aligned = cv2.warpAffine(
            tiny,
            matrix,
            (tiny.shape[1], tiny.shape[0]),
            flags=cv2.INTER_LINEAR,
            borderMode=cv2.BORDER_REPLICATE,
        )
        assert self._ref is not None
        cv2.accumulateWeighted(aligned, self._ref, _REF_RATE)
        self._ref_u8 = _u8(cv2.convertScaleAbs(self._ref))
        return shift, mean_grey, None, False

    def _set_reference(self, tiny: NDArray[np.uint8]) -> None:
        """Take this frame as the view to align to, with its corners to be found again."""
        self._ref = tiny.astype(np.float32)
        self._ref_u8 = tiny.copy()
        self._features = None

    def _find_features(self) -> NDArray[np.float32] | None:
        """Corners of the reference to follow (window corners, edges of roofs); None when featureless."""
        self._feature_age = 0
        if self._ref_u8 is None:
            return None
        pts = cv2.goodFeaturesToTrack(self._ref_u8, _FEATURES, 0.01, 10)
        return None if pts is None or len(pts) < _MIN_FEATURES else np.asarray(pts, np.float32)

    def _measure_shift(self, tiny: NDArray[np.uint8], feats: NDArray[np.float32] | None) -> tuple[float, float] | None:
        """Median Lucas-Kanade flow of the reference's corners into this frame: the camera's shift."""
        if feats is None or self._ref_u8 is None:
            return None
        # without OPTFLOW_USE_INITIAL_FLOW the next-points argument is output only
        nxt, status, _err = cv2.calcOpticalFlowPyrLK(
            self._ref_u8, tiny, feats, feats.copy(), winSize=(11, 11), maxLevel=2
        )
        ok = status.reshape(-1) == 1
        if int(ok.sum()) < _MIN_FEATURES:
            return None
        flow = (np.asarray(nxt, np.float64) - feats).reshape(-1, 2)[ok]
        dx, dy = np.median(flow, axis=0)
        return float(dx), float(dy)


def _u8(a: object) -> NDArray[np.uint8]:
    """Type an OpenCV result as the uint8 image it is (no copy)."""
    return np.asarray(a, np.uint8)
