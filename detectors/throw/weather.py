"""Seeing through rain: find the streak population of a frame so that the tracker can look past it.

A shower puts hundreds of streaks in every frame. They are many, thin, alike in direction (the wind
sets one slant for all), and each lives for one frame; brighter than a dark wall behind them and darker
than a bright one, so their polarity says nothing. A falling object is one blob that follows a gravity
curve from frame to frame. Rejecting rainy frames (the old rule) blinds the detector for the whole
shower; instead each frame's thin elongated blobs vote for the population's direction (doubled-angle
mean weighted by length, so that 179° and 1° agree), the direction is smoothed over frames, and a blob
is called a streak when it is thin, elongated and within a tolerance of that direction. Streaks may
not start a track, and a track takes one only when no other blob is in its gate, so rain neither fills
the track table nor hijacks a fall; an object that looks like a streak late in its fall (motion blur)
keeps its track.

Snow needs no population of its own: flakes are round and persistent, so they are tracked like anything
else, and the physics test rejects them (they drift at a steady speed, and a chain of flakes has no
seen beginning; see `trajectory.py`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from detectors.throw.config_image import WeatherConfig

_ANGLE_MEMORY = 0.2
"""Share of a frame's streak direction blended into the remembered one."""
_MIN_ALIGNMENT = 0.6
"""Length of the mean doubled-angle vector (0 random directions .. 1 parallel) a population needs."""


@dataclass(frozen=True, slots=True)
class BlobShape:
    """Per-blob second-moment shape in processing pixels: lengths of the axes and direction."""

    major_px: NDArray[np.float64]
    minor_px: NDArray[np.float64]
    angle_rad: NDArray[np.float64]
    """Direction of the major axis, image coordinates (x right, y down), in (-pi/2, pi/2]."""


class StreakPopulation:
    """One camera's rain: the current streak direction and which of a frame's blobs are streaks."""

    def __init__(self, config: WeatherConfig) -> None:
        self.config = config
        self._direction: complex | None = None
        """Remembered doubled-angle unit vector of the population, None when no rain was seen lately."""
        self._quiet_frames = 0
        self.active = False

    def reconfigure(self, config: WeatherConfig) -> None:
        self.config = config

    def classify(self, shape: BlobShape) -> NDArray[np.bool_]:
        """True for the blobs of this frame that belong to the streak population."""
        cfg = self.config
        n = len(shape.major_px)
        if not cfg.suppress_streaks or n == 0:
            return np.zeros(n, bool)
        thin = shape.minor_px <= cfg.streak_max_width_px
        long = shape.major_px >= cfg.streak_min_elongation * np.maximum(shape.minor_px, 1.0)
        candidate = thin & long
        self._learn(shape, candidate)
        if not self.active or self._direction is None:
            return np.zeros(n, bool)
        pop_angle = 0.5 * math.atan2(self._direction.imag, self._direction.real)
        off = np.abs(_wrap_half_turn(shape.angle_rad - pop_angle))
        return np.asarray(candidate & (off <= math.radians(cfg.streak_angle_tolerance_deg)), bool)

    def _learn(self, shape: BlobShape, candidate: NDArray[np.bool_]) -> None:
        """Update the direction from this frame's candidates; forget it after a while without rain."""
        cfg = self.config
        k = int(candidate.sum())
        if k >= cfg.streak_min_count:
            w = shape.major_px[candidate]
            doubled = np.exp(2j * shape.angle_rad[candidate])
            mean = complex(np.sum(w * doubled) / np.sum(w))
            if abs(mean) >= _MIN_ALIGNMENT:
                unit = mean / abs(mean)
                if self._direction is None:
                    self._direction = unit
                else:
                    blended = (1 - _ANGLE_MEMORY) * self._direction + _ANGLE_MEMORY * unit
                    self._direction = blended / abs(blended) if abs(blended) > 0 else unit
                self._quiet_frames = 0
                self.active = True
                return
        self._quiet_frames += 1
        if self._quiet_frames > cfg.streak_memory_frames:
            self.active = False
            self._direction = None


def _wrap_half_turn(a: NDArray[np.float64]) -> NDArray[np.float64]:
    """Angles of lines (period pi) wrapped to (-pi/2, pi/2]."""
    return np.asarray((a + math.pi / 2) % math.pi - math.pi / 2, np.float64)


def blob_shapes(
    labels_of_pixels: NDArray[np.int32],
    xs: NDArray[np.float64],
    ys: NDArray[np.float64],
    n_labels: int,
) -> tuple[NDArray[np.float64], NDArray[np.float64], BlobShape]:
    """Pixel counts, centroids (processing px) and shapes of labelled blobs, from their pixels at once.

    One pass of `np.bincount` per moment instead of a Python loop over contours: cost follows the number
    of foreground pixels, not the number of blobs (a shower has hundreds).
    """
    count = np.bincount(labels_of_pixels, minlength=n_labels).astype(np.float64)
    safe = np.maximum(count, 1.0)
    sx = np.bincount(labels_of_pixels, xs, n_labels) / safe
    sy = np.bincount(labels_of_pixels, ys, n_labels) / safe
    cxx = np.bincount(labels_of_pixels, xs * xs, n_labels) / safe - sx * sx + 1 / 12
    cyy = np.bincount(labels_of_pixels, ys * ys, n_labels) / safe - sy * sy + 1 / 12
    cxy = np.bincount(labels_of_pixels, xs * ys, n_labels) / safe - sx * sy
    half_tr = (cxx + cyy) / 2
    root = np.sqrt(np.maximum(((cxx - cyy) / 2) ** 2 + cxy * cxy, 0.0))
    major = np.sqrt(12 * np.maximum(half_tr + root, 0.0))
    minor = np.sqrt(12 * np.maximum(half_tr - root, 0.0))
    angle = 0.5 * np.arctan2(2 * cxy, cxx - cyy)
    return count, np.stack([sx, sy], 1), BlobShape(major, minor, angle)
