"""Drawing the fire detector's state for `gridwatch replay --annotate`: what it saw and why it decided.

Thin boxes are this frame's candidates (orange: fire, grey: smoke), medium boxes are tracks with their
N-of-M counter, thick red/white boxes are open incidents with their confidence and main reasons.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import cv2
import numpy as np
from numpy.typing import NDArray

from detectors.fire.candidates import KIND_FIRE, KIND_NAMES, Candidates
from detectors.fire.tracks import Track

_CAND = {KIND_FIRE: (0, 140, 255), 1: (180, 180, 180)}
_TRACK = {KIND_FIRE: (0, 200, 255), 1: (220, 220, 220)}
_INCIDENT = {KIND_FIRE: (0, 0, 255), 1: (255, 255, 255)}
_REASON_KEYS = ("flicker_disorder", "growth_rate_per_s", "drift_box_sizes", "periodicity", "rise_box_heights")
_SHORT = {
    "flicker_disorder": "flicker",
    "growth_rate_per_s": "growth/s",
    "drift_box_sizes": "drift",
    "periodicity": "period",
    "rise_box_heights": "rise",
}


def _num(value: object) -> str:
    return f"{value:.2f}" if isinstance(value, float) else str(value)


def draw_state(
    image: NDArray[np.uint8],
    cands: Candidates,
    tracks: Sequence[Track],
    windows: Mapping[int, int],
    frame_size: tuple[int, int],
) -> NDArray[np.uint8]:
    """A copy of `image` with candidates, tracks and incidents drawn; boxes scale to the image size."""
    out = np.ascontiguousarray(image.copy())
    h, w = out.shape[:2]
    fw, fh = frame_size
    sx = w / fw if fw else 1.0
    sy = h / fh if fh else 1.0
    font = max(0.3, min(w, h) / 1000)
    thick = max(1, round(min(w, h) / 400))

    def pt(x: float, y: float) -> tuple[int, int]:
        return round(x * sx), round(y * sy)

    for box, kind in zip(cands.xyxy.tolist(), cands.kind.tolist(), strict=True):
        cv2.rectangle(out, pt(box[0], box[1]), pt(box[2], box[3]), _CAND.get(kind, (0, 255, 0)), 1)
    for track in tracks:
        x1, y1, x2, y2 = track.extent().tolist()
        name = KIND_NAMES[track.kind]
        counter = f"{name} #{track.track_id} {track.hit_count}/{windows.get(track.kind, len(track.hits))}"
        if track.incident is None:
            cv2.rectangle(out, pt(x1, y1), pt(x2, y2), _TRACK.get(track.kind, (0, 255, 0)), thick)
            _label(out, counter, pt(x1, y1), font, _TRACK.get(track.kind, (0, 255, 0)))
            continue
        inc = track.incident
        colour = _INCIDENT.get(track.kind, (0, 0, 255))
        cv2.rectangle(out, pt(x1, y1), pt(x2, y2), colour, thick * 2)
        lines = [f"{name.upper()} {inc.confidence:.2f} {counter}"]
        lines += [f"{_SHORT[k]} {_num(inc.reasons[k])}" for k in _REASON_KEYS if k in inc.reasons]
        x, y = pt(x1, y2)
        step = round(cv2.getTextSize("Ag", cv2.FONT_HERSHEY_SIMPLEX, font, 1)[0][1] * 1.8)
        for i, text in enumerate(lines):
            _label(out, text, (x, y + (i + 1) * step), font, colour)
    return out


def _label(
    image: NDArray[np.uint8], text: str, origin: tuple[int, int], font: float, colour: tuple[int, int, int]
) -> None:
    """Text on a dark box, so it stays readable over flames and sky."""
    (tw, th), base = cv2.getTextSize(text, cv2.FONT_HERSHEY_SIMPLEX, font, 1)
    x = min(max(0, origin[0]), max(0, image.shape[1] - tw - 2))
    y = max(origin[1] - 3, th + 2)
    cv2.rectangle(image, (x, y - th - 2), (x + tw + 2, y + base), (0, 0, 0), -1)
    cv2.putText(image, text, (x + 1, y), cv2.FONT_HERSHEY_SIMPLEX, font, colour, 1, cv2.LINE_AA)
