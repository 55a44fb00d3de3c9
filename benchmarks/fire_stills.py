"""Roboflow fire-wrpgm stills per fire mode: image-level precision and recall at the operating point.

A still has no time, so each mode is reduced to its single-image part: the model's boxes at
`min_model_confidence`, the cues' still stage (`roboflow_colour.still_stage_boxes`: colour, blobs, hot
core, size gates; the one still scorer of the cues), and the `both` rule applied to them. Smoke-only
images are scored for the smoke class; every figure is also given per source clip. Ground truth (the
label files) is read here only.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import cv2
import numpy as np
from numpy.typing import NDArray

from benchmarks.fire_detections import DetectionStore
from benchmarks.roboflow_colour import still_stage_boxes
from detectors.fire import FireConfig
from detectors.fire.candidates import KIND_FIRE, KIND_SMOKE, from_model, kind_lookup, overlap_min, widen


def clip_of(image_name: str) -> str:
    """The source clip of a Roboflow frame (`fire2_mp4-29_jpg.rf.x.jpg` -> `fire2`); stills are their own."""
    m = re.match(r"^(.*?)_mp4-\d+", image_name)
    return m.group(1) if m else image_name.split("_jpg", maxsplit=1)[0]


@dataclass(frozen=True)
class StillVerdict:
    """What each mode says about one still image."""

    model_fire: bool
    model_fire_confident: bool
    model_fire_agreed: bool
    model_smoke: bool
    cue_fire: bool
    cue_corroborated: bool


def still_verdict(
    image: NDArray[np.uint8], path: Path, store: DetectionStore | None, cfg: FireConfig
) -> StillVerdict:
    """The single-image parts of each mode (no time, so no flicker, N-of-M or lamp tests): the model's
    boxes at the operating point, the cues' still stage (`roboflow_colour.still_stage_boxes`: colour,
    blobs, hot core, size gates), and whether model evidence touches one of its boxes."""
    h, w = image.shape[:2]

    def gated(xyxy: NDArray[np.float32]) -> NDArray[np.bool_]:
        width = xyxy[:, 2] - xyxy[:, 0]
        area = width * (xyxy[:, 3] - xyxy[:, 1])
        ok: NDArray[np.bool_] = (area >= cfg.area.min_box_area_share * w * h) & (
            width <= cfg.area.max_box_width_share * w)
        return ok

    model_fire = model_smoke = corroborated = confident = agreed = False
    blobs = still_stage_boxes(image, cfg)
    if store is not None:
        dets = store.still(path, image)
        lookup = kind_lookup(store.model.info.names, cfg.class_map)
        strong = from_model(dets, lookup, cfg.min_model_confidence)
        strong = strong[gated(strong.xyxy)]
        fire = strong[strong.kind == KIND_FIRE]
        model_fire = len(fire) > 0
        confident = bool((fire.model_conf >= cfg.fusion.model_only_min_confidence).any())
        agreed = bool(len(fire) and len(blobs) and (overlap_min(fire.xyxy, blobs) >= 0.3).any())
        model_smoke = bool((strong.kind == KIND_SMOKE).any())
        weak = from_model(dets, lookup, min(cfg.fusion.corroboration_min_confidence, cfg.min_model_confidence))
        weak = weak[gated(weak.xyxy)]
        if len(weak) and len(blobs):
            near = overlap_min(widen(blobs, cfg.fusion.corroboration_margin_share), weak.xyxy) > 0
            corroborated = bool(near.any())
    return StillVerdict(model_fire, confident, agreed, model_smoke, len(blobs) > 0, corroborated)


def _says_fire(v: StillVerdict, variant: str, cfg: FireConfig) -> bool:
    if cfg.mode == "model":
        return v.model_fire
    if cfg.mode == "cues":
        return v.cue_fire
    rule = cfg.fusion.cue_only
    cue = v.cue_fire and (rule == "alert" or (rule == "corroborated" and v.cue_corroborated))
    model = v.model_fire and (v.model_fire_confident or v.model_fire_agreed or cfg.fusion.model_only_min_confidence
                              <= cfg.min_model_confidence)
    return model or cue


def score_roboflow(
    real: Path, variants: Mapping[str, FireConfig], store: DetectionStore | None
) -> list[dict[str, Any]]:
    """Image-level fire and smoke precision/recall per variant, overall and macro-averaged by clip."""
    base = real / "roboflow-fire-wrpgm"
    images: list[tuple[str, str, bool, bool, Path]] = []  # (split, clip, has fire, has smoke, path)
    for split in ("test", "valid"):
        for p in sorted((base / split / "images").glob("*.jpg")):
            label = (base / split / "labels" / f"{p.stem}.txt").read_text()
            rows = [r.split() for r in label.splitlines() if r.strip()]
            classes = {r[0] for r in rows}
            images.append((split, clip_of(p.name), "0" in classes, "2" in classes, p))
    for p in sorted((base / "train-negatives" / "images").glob("*.jpg")):
        images.append(("negative", clip_of(p.name), False, False, p))
    verdicts: dict[str, StillVerdict] = {}
    any_cfg = next(iter(variants.values()))
    for _, _, _, _, p in images:
        img = cv2.imread(str(p))
        if img is None:
            raise ValueError(f"{p}: unreadable image")
        verdicts[p.name] = still_verdict(np.asarray(img, np.uint8), p, store, any_cfg)
    out = []
    for key, cfg in variants.items():
        fire_says = {p.name: _says_fire(verdicts[p.name], key, cfg) for *_, p in images}
        smoke_says = {p.name: cfg.mode != "cues" and verdicts[p.name].model_smoke for *_, p in images}
        out.append({"media": "roboflow", "variant": key, **_pr(images, fire_says, smoke_says)})
    return out


def _pr(
    images: Sequence[tuple[str, str, bool, bool, Path]], fire: Mapping[str, bool], smoke: Mapping[str, bool]
) -> dict[str, Any]:
    fire_pos = [p.name for _, _, f, _, p in images if f]
    smoke_pos = [p.name for _, _, f, s, p in images if s and not f]
    negatives = [p.name for split, *_, p in images if split == "negative"]
    tp = sum(fire[n] for n in fire_pos)
    fp = sum(fire[n] for n in negatives)
    s_tp = sum(smoke[n] for n in smoke_pos)
    s_fp = sum(smoke[n] for n in negatives)
    by_clip: dict[str, list[bool]] = defaultdict(list)
    for _, clip, f, _, p in images:
        if f:
            by_clip[clip].append(fire[p.name])
    smoke_clip: dict[str, list[bool]] = defaultdict(list)
    for _, clip, f, s, p in images:
        if s and not f:
            smoke_clip[clip].append(smoke[p.name])
    return {
        "fire_images": len(fire_pos), "fire_tp": tp, "negatives": len(negatives), "fire_fp": fp,
        "fire_recall": round(tp / max(1, len(fire_pos)), 3), "fire_precision": round(tp / max(1, tp + fp), 3),
        "fire_recall_by_clip_macro": round(float(np.mean([np.mean(v) for v in by_clip.values()])), 3),
        "fire_clips_found": f"{sum(any(v) for v in by_clip.values())}/{len(by_clip)}",
        "smoke_only_called_fire": sum(fire[n] for n in smoke_pos),
        "smoke_images": len(smoke_pos), "smoke_tp": s_tp, "smoke_fp": s_fp,
        "smoke_recall": round(s_tp / max(1, len(smoke_pos)), 3),
        "smoke_precision": round(s_tp / max(1, s_tp + s_fp), 3) if s_tp + s_fp else None,
        "smoke_recall_by_clip_macro": round(float(np.mean([np.mean(v) for v in smoke_clip.values()])), 3),
        "per_clip_fire": {c: f"{sum(v)}/{len(v)}" for c, v in sorted(by_clip.items())},
        "per_clip_smoke": {c: f"{sum(v)}/{len(v)}" for c, v in sorted(smoke_clip.items())},
    }
