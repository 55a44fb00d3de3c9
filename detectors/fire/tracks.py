"""Tracks: candidates linked over analysed frames by overlap, with the history confirmation needs.

A camera has a handful of tracks at most, so a track is a small Python object; the per-frame work on
candidates (overlap matrices, box sums) stays vectorised. Flames jump around, so tracks are linked by
intersection over the smaller box after widening the track box, not by IoU.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field

import numpy as np
from numpy.typing import NDArray

from detectors.fire.candidates import SOURCE_CUE, SOURCE_MODEL, Candidates, overlap_min, widen
from detectors.fire.incident_config import HISTORY_LIMIT
from ingest.frame import Frame

HISTORY_FRAMES = HISTORY_LIMIT
"""Frames of per-track history kept for growth, drift and periodicity (about 5 s at 5 fps)."""


@dataclass
class Incident:
    """The open incident a confirmed track carries: its identity and what was last reported."""

    incident_id: str
    started_at: float
    start_pts_s: float
    update_seq: int = 0
    last_event_at: float = 0.0
    last_event_area: float = 0.0
    last_event_confidence: float = 0.0
    confidence: float = 0.0
    start_area: float = 0.0
    reasons: dict[str, float | int | str | bool] = field(default_factory=dict)


@dataclass
class Track:
    """One possible fire or smoke region on one camera."""

    track_id: int
    kind: int
    box: NDArray[np.float64]
    first_seen_at: float
    first_seen_pts_s: float
    last_seen_at: float
    last_seen_pts_s: float
    window_frames: int
    hits: deque[bool] = field(init=False)
    times: deque[float] = field(default_factory=lambda: deque(maxlen=HISTORY_FRAMES))
    boxes: deque[NDArray[np.float64]] = field(default_factory=lambda: deque(maxlen=HISTORY_FRAMES))
    disorder: deque[float] = field(default_factory=lambda: deque(maxlen=HISTORY_FRAMES))
    blur: deque[float] = field(default_factory=lambda: deque(maxlen=HISTORY_FRAMES))
    model_conf: deque[float] = field(default_factory=lambda: deque(maxlen=HISTORY_FRAMES))
    sources: deque[int] = field(default_factory=lambda: deque(maxlen=HISTORY_FRAMES))
    colour_series: deque[float] = field(default_factory=lambda: deque(maxlen=HISTORY_FRAMES))
    model_series: deque[float] = field(default_factory=lambda: deque(maxlen=HISTORY_FRAMES))
    corroborated: deque[bool] = field(default_factory=lambda: deque(maxlen=HISTORY_FRAMES))
    inner_change: deque[float] = field(default_factory=lambda: deque(maxlen=HISTORY_FRAMES))
    frames_seen: int = 0
    best_score: float = -1.0
    best_frame: Frame | None = None
    incident: Incident | None = None

    def __post_init__(self) -> None:
        self.hits = deque(maxlen=self.window_frames)

    def resize_window(self, window_frames: int) -> None:
        """Keep the newest hits when the confirmation window changes (hot reload)."""
        if window_frames != self.window_frames:
            self.window_frames = window_frames
            self.hits = deque(list(self.hits)[-window_frames:], maxlen=window_frames)

    @property
    def hit_count(self) -> int:
        return sum(self.hits)

    def record_hit(self, frame: Frame, cands: Candidates, index: int) -> None:
        """Link candidate `index` of this frame to the track."""
        box = cands.xyxy[index].astype(np.float64)
        self.hits.append(True)
        self.box = box
        self.last_seen_at = frame.captured_at
        self.last_seen_pts_s = frame.pts_s
        self.frames_seen += 1
        self.times.append(frame.captured_at)
        self.boxes.append(box)
        self.disorder.append(float(cands.disorder[index]))
        self.blur.append(float(cands.blur_ratio[index]))
        self.model_conf.append(float(cands.model_conf[index]))
        self.sources.append(int(cands.source[index]))
        self.inner_change.append(float("nan"))
        score = float(cands.score[index])
        if score >= self.best_score:
            self.best_score = score
            self.best_frame = frame

    def absorb(self, cands: Candidates, index: int) -> None:
        """Add a second candidate of this frame to the track's hit (one fire seen as two blobs)."""
        if not self.boxes:
            return
        add = cands.xyxy[index].astype(np.float64)
        box = np.concatenate([np.minimum(self.box[:2], add[:2]), np.maximum(self.box[2:], add[2:])])
        self.box = box
        self.boxes[-1] = box
        self.disorder[-1] = float(np.fmax(self.disorder[-1], cands.disorder[index]))
        self.model_conf[-1] = float(np.fmax(self.model_conf[-1], cands.model_conf[index]))
        self.sources[-1] |= int(cands.source[index])

    def record_miss(self) -> None:
        self.hits.append(False)

    def record_model_evidence(self, confidence: float, corroborated: bool) -> None:
        """Per analysed frame: the best model confidence of this track's kind over its region (0: none),
        and whether any fire/smoke box of the model touched its widened region."""
        self.model_series.append(confidence)
        self.corroborated.append(corroborated)

    def model_series_since_first(self) -> NDArray[np.float64]:
        """The model-confidence series from the first frame the model saw this track: a track the cues
        found before the model did is not 'off' in the frames before the model's first box."""
        series = np.array(self.model_series, np.float64)
        seen = np.flatnonzero(series > 0)
        out: NDArray[np.float64] = series[int(seen[0]):] if len(seen) else series[:0]
        return out

    def recent(self, frames: int) -> int:
        """How many history entries fall inside the last `frames` analysed frames (the hit count)."""
        return min(len(self.times), sum(list(self.hits)[-frames:]))

    def window_boxes(self) -> NDArray[np.float64]:
        n = max(1, self.recent(self.window_frames))
        return np.array(list(self.boxes)[-n:], np.float64).reshape(-1, 4)

    def extent(self) -> NDArray[np.float64]:
        """Union of the boxes of the hits in the confirmation window: the region the fire occupies."""
        boxes = self.window_boxes()
        out: NDArray[np.float64] = np.concatenate([boxes[:, :2].min(axis=0), boxes[:, 2:].max(axis=0)])
        return out

    def window_inner_change(self) -> NDArray[np.float64]:
        """The finite per-hit inside-change values (smoke tracks in `both` mode) of the confirmation window."""
        n = self.recent(self.window_frames)
        values = np.array(list(self.inner_change)[-n:] if n else [], np.float64)
        out: NDArray[np.float64] = values[np.isfinite(values)]
        return out

    def source_counts(self) -> tuple[int, int, int]:
        """(model, cue, both) hits in the confirmation window."""
        n = self.recent(self.window_frames)
        src = np.array(list(self.sources)[-n:], np.uint8) if n else np.zeros((0,), np.uint8)
        model = (src & SOURCE_MODEL) > 0
        cue = (src & SOURCE_CUE) > 0
        return int(model.sum()), int(cue.sum()), int((model & cue).sum())


def link(
    tracks: list[Track], cands: Candidates, min_overlap: float, margin_share: float
) -> tuple[list[tuple[int, int]], NDArray[np.bool_]]:
    """Greedy one-to-one matching of tracks to candidates of the same kind by widened overlap with
    each track's recent extent.

    Returns (track index, candidate index) pairs and a mask of candidates left unmatched.
    """
    unmatched = np.ones((len(cands),), bool)
    if not tracks or len(cands) == 0:
        return [], unmatched
    # Linked against the region the track covered over its window, not its last box: a fire's blobs
    # jump between tongues and windows from frame to frame, and must stay one track.
    tboxes = widen(np.array([t.extent() for t in tracks], np.float64), margin_share)
    tkinds = np.array([t.kind for t in tracks], np.int8)
    ov = overlap_min(tboxes, cands.xyxy)
    ov = np.where(tkinds[:, None] == cands.kind[None, :], ov, 0.0)
    ti, ci = np.nonzero(ov >= max(min_overlap, 1e-9))
    order = np.argsort(-ov[ti, ci], kind="stable")
    pairs: list[tuple[int, int]] = []
    used_t: set[int] = set()
    for k in order:
        t, c = int(ti[k]), int(ci[k])
        if t in used_t or not unmatched[c]:
            continue
        used_t.add(t)
        unmatched[c] = False
        pairs.append((t, c))
    return pairs, unmatched
