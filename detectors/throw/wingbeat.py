"""Wingbeat: does a track's blob pulse in size or contrast at a few hertz, as a flapping bird's does?

A bird's silhouette grows and shrinks with every stroke (3-12 Hz for pigeons, sparrows, swifts), and
its brightness follows. A thrown object's blob changes slowly (motion blur lengthens it as it speeds
up, the wall behind it changes), which a quadratic in time absorbs. So each series (size relative to
its mean, contrast relative to its mean) is detrended by a quadratic and a sinusoid of each frequency in
the wingbeat band is fitted by least squares on the track's own (possibly uneven) timestamps. A pulse
counts only where it explains a large share of the variance of both series at the same frequency: pixel
noise on a small blob's size can fake a pulse in one series, rarely in both at once.

A tumbling bottle pulses too, so the detector does not veto on a wingbeat alone: a pulsing track must
then fall like a textbook free fall (see `ThrowDetector`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

_MIN_SAMPLES = 15
"""Fewer positions than this cannot show a pulse against a trend."""
_FREQ_STEP_HZ = 0.25


@dataclass(frozen=True, slots=True)
class Wingbeat:
    """The strongest pulse found: its frequency, the share of variance it explains, its amplitude."""

    freq_hz: float
    share: float
    """Share (0-1) of the detrended series' variance explained by the sinusoid."""
    amplitude: float
    """Half peak-to-peak of the sinusoid, relative to the series' mean."""

    @classmethod
    def none(cls) -> Wingbeat:
        return cls(0.0, 0.0, 0.0)


def wingbeat(
    t_s: NDArray[np.float64],
    size_px: NDArray[np.float32],
    contrast: NDArray[np.float32],
    band_hz: tuple[float, float],
) -> Wingbeat:
    """The strongest pulse of size or contrast within `band_hz` (clipped to the sampling's Nyquist)."""
    n = len(t_s)
    if n < _MIN_SAMPLES:
        return Wingbeat.none()
    t = np.asarray(t_s, np.float64) - float(t_s[0])
    span = float(t[-1])
    if span <= 0:
        return Wingbeat.none()
    nyquist = 0.5 * (n - 1) / span
    lo, hi = band_hz[0], min(band_hz[1], 0.95 * nyquist)
    if hi <= lo:
        return Wingbeat.none()
    freqs = np.arange(lo, hi + 1e-9, _FREQ_STEP_HZ)
    size = np.asarray(size_px, np.float64)
    shade = np.asarray(contrast, np.float64)
    if float(np.mean(size)) <= 0 or float(np.mean(shade)) <= 0:
        return Wingbeat.none()
    share_size, amp_size = _sinusoid_shares(t, size / float(np.mean(size)), freqs)
    share_shade, _ = _sinusoid_shares(t, shade / float(np.mean(shade)), freqs)
    joint = np.minimum(share_size, share_shade)
    k = int(np.argmax(joint))
    return Wingbeat(float(freqs[k]), float(joint[k]), float(amp_size[k]))


def _sinusoid_shares(
    t: NDArray[np.float64], y: NDArray[np.float64], freqs: NDArray[np.float64]
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Per frequency: share of the detrended variance a sinusoid explains, and its amplitude."""
    trend = np.stack([np.ones_like(t), t, t * t], 1)
    resid = y - trend @ np.linalg.lstsq(trend, y, rcond=None)[0]
    total = float(resid @ resid)
    shares = np.zeros(len(freqs))
    amps = np.zeros(len(freqs))
    if total <= 1e-12:
        return shares, amps
    for i, f in enumerate(freqs):
        w = 2 * np.pi * f
        design = np.stack([np.cos(w * t), np.sin(w * t), np.ones_like(t), t, t * t], 1)
        coef, *_ = np.linalg.lstsq(design, y, rcond=None)
        shares[i] = max(0.0, 1.0 - float(np.sum((y - design @ coef) ** 2)) / total)
        amps[i] = float(np.hypot(coef[0], coef[1]))
    return shares, amps
