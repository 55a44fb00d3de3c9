"""`Candidates`: one analysed frame's possible fire/smoke boxes as a struct of arrays, from any source.

The model stage and the cue stages each yield Candidates in source pixels; they are merged (a model box
and a cue box of the same kind that overlap become one candidate seen by both), filtered by size, zones
and masks, and handed to the tracker. Numbers that explain a decision (model confidence, flicker
disorder, blur) ride along so the event can report them.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from detectors.fire.config import ClassMapConfig
from models.detections import Detections

KIND_FIRE = 0
KIND_SMOKE = 1
KIND_NAMES = ("fire", "smoke")

SOURCE_MODEL = 1
SOURCE_CUE = 2


@dataclass(frozen=True, slots=True)
class Candidates:
    """K candidate boxes in source pixels with per-candidate evidence (NaN where a source has no value)."""

    xyxy: NDArray[np.float32]
    kind: NDArray[np.int8]
    score: NDArray[np.float32]
    source: NDArray[np.uint8]
    model_conf: NDArray[np.float32]
    disorder: NDArray[np.float32]
    blur_ratio: NDArray[np.float32]

    def __post_init__(self) -> None:
        k = len(self.xyxy)
        if self.xyxy.shape != (k, 4) or any(
            a.shape != (k,)
            for a in (self.kind, self.score, self.source, self.model_conf, self.disorder, self.blur_ratio)
        ):
            raise ValueError(f"Candidates arrays disagree in length (xyxy {self.xyxy.shape})")

    @classmethod
    def build(
        cls,
        xyxy: NDArray[np.floating],
        kind: int | NDArray[np.integer],
        score: NDArray[np.floating],
        source: int,
        *,
        model_conf: NDArray[np.floating] | None = None,
        disorder: NDArray[np.floating] | None = None,
        blur_ratio: NDArray[np.floating] | None = None,
    ) -> Candidates:
        """Candidates of one source; omitted evidence arrays are NaN."""
        box = np.asarray(xyxy, np.float32).reshape(-1, 4)
        k = len(box)
        nan = np.full((k,), np.nan, np.float32)
        return cls(
            xyxy=box,
            kind=np.broadcast_to(np.asarray(kind, np.int8), (k,)).copy(),
            score=np.asarray(score, np.float32).reshape(k),
            source=np.full((k,), source, np.uint8),
            model_conf=nan.copy() if model_conf is None else np.asarray(model_conf, np.float32).reshape(k),
            disorder=nan.copy() if disorder is None else np.asarray(disorder, np.float32).reshape(k),
            blur_ratio=nan.copy() if blur_ratio is None else np.asarray(blur_ratio, np.float32).reshape(k),
        )

    @classmethod
    def empty(cls) -> Candidates:
        return cls.build(np.zeros((0, 4), np.float32), 0, np.zeros((0,), np.float32), SOURCE_CUE)

    def __len__(self) -> int:
        return int(self.xyxy.shape[0])

    def __getitem__(self, index: NDArray[np.bool_] | NDArray[np.integer]) -> Candidates:
        return Candidates(
            xyxy=self.xyxy[index],
            kind=self.kind[index],
            score=self.score[index],
            source=self.source[index],
            model_conf=self.model_conf[index],
            disorder=self.disorder[index],
            blur_ratio=self.blur_ratio[index],
        )

    @staticmethod
    def concat(parts: Sequence[Candidates]) -> Candidates:
        parts = [p for p in parts if len(p)]
        if not parts:
            return Candidates.empty()
        return Candidates(
            xyxy=np.concatenate([p.xyxy for p in parts]),
            kind=np.concatenate([p.kind for p in parts]),
            score=np.concatenate([p.score for p in parts]),
            source=np.concatenate([p.source for p in parts]),
            model_conf=np.concatenate([p.model_conf for p in parts]),
            disorder=np.concatenate([p.disorder for p in parts]),
            blur_ratio=np.concatenate([p.blur_ratio for p in parts]),
        )


def kind_lookup(class_names: Mapping[int, str] | None, class_map: ClassMapConfig) -> NDArray[np.int8]:
    """Array indexed by model class id -> KIND_FIRE, KIND_SMOKE or -1 (a class we ignore)."""
    if not class_names:
        return np.full((0,), -1, np.int8)
    size = max(class_names) + 1
    table = np.full((size,), -1, np.int8)
    fire = set(class_map.fire)
    smoke = set(class_map.smoke)
    for cid, name in class_names.items():
        if name in fire:
            table[cid] = KIND_FIRE
        elif name in smoke:
            table[cid] = KIND_SMOKE
    return table


def from_model(detections: Detections, lookup: NDArray[np.int8], min_confidence: float) -> Candidates:
    """Model boxes of fire/smoke classes at or above `min_confidence` as candidates."""
    if len(detections) == 0 or len(lookup) == 0:
        return Candidates.empty()
    cid = detections.class_id
    known = (cid >= 0) & (cid < len(lookup))
    kind = np.full(cid.shape, -1, np.int8)
    kind[known] = lookup[cid[known]]
    keep = (kind >= 0) & (detections.confidence >= min_confidence)
    if not keep.any():
        return Candidates.empty()
    conf = detections.confidence[keep]
    return Candidates.build(detections.xyxy[keep], kind[keep], conf, SOURCE_MODEL, model_conf=conf)


def model_evidence(
    detections: Detections | None, lookup: NDArray[np.int8], floor: float, min_confidence: float
) -> Candidates:
    """Every model box of a fire/smoke class at or above `min(floor, min_confidence)`: the candidates and
    the weaker boxes below them, which only corroborate cue tracks and feed the per-track confidence
    series (a lamp the model sees only while it is lit)."""
    if detections is None:
        return Candidates.empty()
    return from_model(detections, lookup, min(floor, min_confidence))


def overlap_min(a: NDArray[np.floating], b: NDArray[np.floating]) -> NDArray[np.float64]:
    """(A,B) intersection over the smaller box's area: 1 when one box contains the other."""
    a64 = np.asarray(a, np.float64).reshape(-1, 1, 4)
    b64 = np.asarray(b, np.float64).reshape(1, -1, 4)
    iw = np.clip(np.minimum(a64[..., 2], b64[..., 2]) - np.maximum(a64[..., 0], b64[..., 0]), 0, None)
    ih = np.clip(np.minimum(a64[..., 3], b64[..., 3]) - np.maximum(a64[..., 1], b64[..., 1]), 0, None)
    inter = iw * ih
    area_a = np.clip(a64[..., 2] - a64[..., 0], 0, None) * np.clip(a64[..., 3] - a64[..., 1], 0, None)
    area_b = np.clip(b64[..., 2] - b64[..., 0], 0, None) * np.clip(b64[..., 3] - b64[..., 1], 0, None)
    denom = np.minimum(area_a, area_b)
    out: NDArray[np.float64] = np.where(denom > 0, inter / np.maximum(denom, 1e-9), 0.0)
    return out


def widen(xyxy: NDArray[np.floating], share: float) -> NDArray[np.float64]:
    """Boxes grown by `share` of their width/height on each side."""
    box = np.asarray(xyxy, np.float64).reshape(-1, 4)
    wh = box[:, 2:4] - box[:, 0:2]
    pad = np.concatenate([wh, wh], axis=1) * share * np.array([-1, -1, 1, 1], np.float64)
    out: NDArray[np.float64] = box + pad
    return out


def merge_sources(model: Candidates, cues: Candidates, min_overlap: float = 0.3) -> Candidates:
    """Join model and cue candidates; a cue box overlapping a model box of the same kind joins it.

    The joined candidate keeps the model box (models localise better than colour blobs), both source
    flags, the higher score and the cue's evidence numbers.
    """
    if len(model) == 0 or len(cues) == 0:
        return Candidates.concat([model, cues])
    ov = overlap_min(model.xyxy, cues.xyxy)
    ov = np.where(model.kind[:, None] == cues.kind[None, :], ov, 0.0)
    best_model = ov.argmax(axis=0)
    matched_cue = ov[best_model, np.arange(len(cues))] >= min_overlap
    source = model.source.copy()
    score = model.score.copy()
    disorder = model.disorder.copy()
    blur = model.blur_ratio.copy()
    idx = best_model[matched_cue]
    source[idx] |= SOURCE_CUE
    np.maximum.at(score, idx, cues.score[matched_cue])
    np.fmax.at(disorder, idx, cues.disorder[matched_cue])
    np.fmin.at(blur, idx, cues.blur_ratio[matched_cue])
    joined = Candidates(
        xyxy=model.xyxy,
        kind=model.kind,
        score=score,
        source=source,
        model_conf=model.model_conf,
        disorder=disorder,
        blur_ratio=blur,
    )
    return Candidates.concat([joined, cues[~matched_cue]])
