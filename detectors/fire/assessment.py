"""Whether a fire or smoke track may start (or update) an incident now: the rules of every mode.

`assess` reads a track's kept history and applies, by mode: the N-of-M confirmation, the lamp tests
(off-share, periodicity, drift), the smoke tests (rise/grow for cue smoke and the optional model-smoke
rules, the still-smoke test of `both` mode) and the `both`-mode fusion rule; it also scores confidence.
The rules themselves are described in `detectors.fire.detector` and `configs/reference/fire.yaml`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from detectors.fire.blobs import box_areas
from detectors.fire.candidates import KIND_FIRE, KIND_SMOKE
from detectors.fire.config import FireConfig
from detectors.fire.temporal import drift, growth_rate_per_s, off_share, periodicity
from detectors.fire.tracks import Track

MIN_CHANGE_SAMPLES = 3
"""`fusion.model_smoke_min_change` judges a median of at least this many frame-to-frame changes."""


@dataclass
class Assessment:
    """Whether a track may start (or update) an incident now, and the numbers behind that."""

    ready: bool
    reject: str | None
    confidence: float
    reasons: dict[str, float | int | str | bool]
    growth_rate_per_s: float


def _lamp_reject(
    track: Track, cfg: FireConfig, cue_only: bool, reasons: dict[str, float | int | str | bool]
) -> str | None:
    """Blinking or periodic, judged on each series the track has: flame-colour pixels (cue tracks,
    and model tracks when the colour is informative) and the model's confidence (model tracks)."""
    c = cfg.confirm
    series: list[tuple[str, NDArray[np.float64]]] = []
    colour = np.array(track.colour_series, np.float64)
    informative = len(colour) >= 4 and float(np.percentile(colour, 75)) >= cfg.flame.min_component_px
    if (cue_only and len(colour) >= 4) or (not cue_only and informative):
        series.append(("", colour))
    if not cue_only:
        model = track.model_series_since_first()
        if len(model) >= 4:
            series.append(("model_", model))
    reject: str | None = None
    for prefix, values in series:
        off = off_share(values)
        per = periodicity(values)
        reasons[f"{prefix}off_share"] = round(off, 3)
        reasons[f"{prefix}periodicity"] = round(per, 3)
        if reject is None and off > c.max_off_share:
            reject = "blinking"
        elif reject is None and per > c.max_periodicity:
            reject = "periodic"
    return reject

def _both_rule(
    track: Track, cfg: FireConfig, mconf: NDArray[np.float64], reasons: dict[str, float | int | str | bool]
) -> str | None:
    """`both` mode (see the module docstring): a fire track only the model sees needs
    `model_only_min_confidence`; a track only the cues see needs the model's corroboration."""
    fusion = cfg.fusion
    model_hits, cue_hits, both_hits = track.source_counts()
    if track.kind == KIND_SMOKE and model_hits and not cue_hits and fusion.model_smoke_min_change > 0:
        change = track.window_inner_change()
        median = float(np.median(change)) if change.size else 0.0
        reasons["smoke_inner_change"] = round(median, 3)
        if change.size < MIN_CHANGE_SAMPLES or median < fusion.model_smoke_min_change:
            return "still_smoke"
    if track.kind == KIND_FIRE and model_hits and not both_hits:
        mean_conf = float(mconf.mean()) if mconf.size else 0.0
        reasons["model_confidence_mean"] = round(mean_conf, 4)
        if mean_conf < fusion.model_only_min_confidence:
            return "weak_model_only"
    if model_hits == 0:
        corroborated = any(track.corroborated)
        reasons["model_corroborated"] = corroborated
        if fusion.cue_only == "never" or (fusion.cue_only == "corroborated" and not corroborated):
            return "uncorroborated"
    return None

def _smoke_at_top_edge(
    boxes: NDArray[np.float64], top_edge_share: float, frame_height_px: int,
    reasons: dict[str, float | int | str | bool],
) -> bool:
    """`fusion.model_smoke_top_edge_share`: every kept box's top lies in the band along the frame's top
    edge. The model calls a still band of sky there smoke; such a track must then rise or grow."""
    if top_edge_share <= 0.0 or len(boxes) == 0:
        return False
    at_top = float(boxes[:, 1].max()) <= top_edge_share * frame_height_px
    reasons["smoke_at_top_edge"] = at_top
    return at_top

def _smoke_rise_reject(
    track: Track, cfg: FireConfig, boxes: NDArray[np.float64], n: int, cue_only: bool,
    reasons: dict[str, float | int | str | bool],
) -> str | None:
    """Smoke rises or spreads, and veils what is behind it (cue smoke): `not_rising` or `not_veiling`."""
    areas = box_areas(boxes)
    k = max(1, len(boxes) // 3)
    height = max(float(np.median(boxes[:, 3] - boxes[:, 1])), 1.0)
    rise = (float(boxes[:k, 1].mean()) - float(boxes[-k:, 1].mean())) / height
    grow = float(areas[-k:].mean()) / max(float(areas[:k].mean()), 1.0) - 1.0
    reasons["rise_box_heights"] = round(rise, 3)
    reasons["area_growth_share"] = round(grow, 3)
    blur = np.array(list(track.blur)[-n:] if cue_only else [], np.float64)
    blur = blur[np.isfinite(blur)]
    if blur.size:
        reasons["blur_ratio"] = round(float(np.median(blur)), 3)
    if max(rise, grow) < cfg.smoke.min_rise_share:
        return "not_rising"
    if blur.size and float(np.median(blur)) > cfg.smoke.max_blur_ratio:
        return "not_veiling"
    return None

def _confidence(
    cfg: FireConfig, mconf: NDArray[np.float64], growth: float, disorder: float, flickering_cue_fire: bool,
    agreed: bool,
) -> float:
    """The model's mean confidence (or the cue base), plus bonuses for agreement, growth and flicker."""
    conf_cfg = cfg.confidence
    confidence = float(mconf.mean()) if mconf.size else conf_cfg.cue_base
    if agreed:
        confidence += conf_cfg.agreement_bonus
    confidence += conf_cfg.growth_bonus * min(1.0, max(0.0, growth / conf_cfg.growth_ref_per_s))
    if flickering_cue_fire:
        ref = max(cfg.flame.min_disorder, 1e-3)
        confidence += conf_cfg.flicker_bonus * min(1.0, max(0.0, (disorder - ref) / ref))
    return min(1.0, max(0.0, confidence))

def assess(track: Track, cfg: FireConfig, frame_height_px: int) -> Assessment:
    """The verdict on `track` now under `cfg`: ready or rejected (and why), its confidence and the numbers."""
    c = cfg.confirm
    need = c.frames_required if track.kind == KIND_FIRE else c.smoke_frames_required
    hits = track.hit_count
    n = track.recent(track.window_frames)
    # Movement and growth are judged over the whole kept history (about 5 s of hits), not only the
    # confirmation window: a slow walker's path is longer than its jitter only over time.
    boxes = np.array(list(track.boxes), np.float64).reshape(-1, 4)
    times = np.array(list(track.times), np.float64)
    areas = box_areas(boxes)
    sizes = np.sqrt(np.maximum(areas, 1.0))
    base = np.column_stack([(boxes[:, 0] + boxes[:, 2]) / 2, boxes[:, 3]])
    model_hits, cue_hits, both_hits = track.source_counts()
    cue_only = model_hits == 0
    dis = np.array(list(track.disorder)[-n:], np.float64)
    dis = dis[np.isfinite(dis)]
    disorder = float(np.median(dis)) if len(dis) else 0.0
    mconf = np.array(list(track.model_conf)[-n:], np.float64)
    mconf = mconf[np.isfinite(mconf)]
    growth = growth_rate_per_s(times, areas)
    drift_v = drift(times, base, sizes)
    reasons: dict[str, float | int | str | bool] = {
        "frames_confirmed": hits,
        "window_frames": track.window_frames,
        "frames_required": need,
        "source": "both" if both_hits else ("cues" if cue_only else "model"),
        "model_frames": model_hits,
        "cue_frames": cue_hits,
        "agreement_frames": both_hits,
        "growth_rate_per_s": round(growth, 4),
        "drift_box_sizes": round(drift_v, 3),
    }
    if mconf.size:
        reasons["model_confidence_max"] = round(float(mconf.max()), 4)
    reject: str | None = None
    if cue_hits:
        reasons["flicker_disorder"] = round(disorder, 4)
    fusion = cfg.fusion
    lamp_tested = cue_only or fusion.model_lamp_tests
    watched = len(track.model_series_since_first())
    waiting = track.kind == KIND_FIRE and not cue_only and fusion.model_lamp_tests and (
        watched < fusion.lamp_min_frames)
    if track.kind == KIND_FIRE and lamp_tested:
        reject = _lamp_reject(track, cfg, cue_only, reasons)
    smoke_rise_tested = cue_only or (cfg.mode == "both" and (
        fusion.model_smoke_must_rise or _smoke_at_top_edge(boxes, fusion.model_smoke_top_edge_share,
                                                                frame_height_px, reasons)))
    if track.kind == KIND_SMOKE and smoke_rise_tested and len(boxes) >= 3:
        reject = reject or _smoke_rise_reject(track, cfg, boxes, n, cue_only, reasons)
    if lamp_tested and drift_v > c.max_drift:
        reject = "drift"
    if cfg.mode == "both":
        reject = reject or _both_rule(track, cfg, mconf, reasons)
    confidence = _confidence(cfg, mconf, growth, disorder, track.kind == KIND_FIRE and cue_hits > 0,
                             both_hits > 0)
    reasons["confidence"] = round(confidence, 4)
    return Assessment(
        ready=hits >= need and reject is None and not waiting,
        reject=reject if hits >= need else None,
        confidence=confidence,
        reasons=reasons,
        growth_rate_per_s=growth,
    )
