"""Fire detector modes on real media and generated scenes: `model`, `cues`, `both` and rule variants.

One decode and one model inference per analysed frame feed every variant's detector in lockstep; each
variant's events go through a real `AlertPipeline` (dedup, enrichment, SQLite outbox), so what is scored
is the alert stream a ticketing system would read. Scored here (ground truth is read by these scorers
only, never by the detector):

- FURG house6 (fire in every frame): alert incidents, first alert time, kinds, lifecycle, and whether
  the first fire alert's box lies on a labelled flame;
- intel sample videos (no fire anywhere): fire and smoke alerts, each a false alarm;
- Roboflow fire-wrpgm stills (`benchmarks.fire_stills`): image-level precision/recall per mode at the
  operating point (the model's boxes, the cues' still stage as `roboflow_colour` scores it, the `both`
  rule applied to them), smoke-only images scored for the smoke class, every figure also per clip;
- generated scenes (`benchmarks.scenarios.fire`, gate or tuning seeds): latency and false alerts.

The variants and the lockstep run over one video are in `benchmarks.fire_variants`.

CLI: `python -m benchmarks.fire_modes --real ../shared/testdata-real --out var/bench/fire-modes
[--precision auto|fp32|int8] [--scenes gate|tuning|none] [--count N]` writes `fire-modes.json` and
`fire-modes.md`. The model is the fetched `fire-smoke` weights (`gridwatch models fetch fire-smoke`),
its detections shared through `benchmarks.fire_detections.DetectionStore`.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from benchmarks.fire_detections import MODEL_NAME, DetectionStore, load_fire_model
from benchmarks.fire_score import RunResult, furg_boxes, score_scenario
from benchmarks.fire_stills import score_roboflow
from benchmarks.fire_street_score import REFERENCE_CONFIG, ClipRun, load_fire_config, score_clip
from benchmarks.fire_street_score import summarise as street_summary
from benchmarks.fire_variants import (
    MAIN_VARIANTS,
    T0,
    alert_summary,
    run_video_variants,
    variant_configs,
)
from benchmarks.report import environment, markdown_table, write_report
from benchmarks.scenarios.fire import GATE_SEEDS, TUNING_SEEDS, FireScenario, suite, write_scenario
from benchmarks.scenarios.fire_street import suite as street_suite
from benchmarks.scenarios.fire_street import write_clip
from detectors.event import Phase
from detectors.fire import FireConfig

FURG_FPS = 29.97


def _on_flame(box: Sequence[float] | None, truth: Sequence[tuple[int, int, int, int]]) -> bool:
    if box is None:
        return False
    return any(box[0] < b[2] and box[2] > b[0] and box[1] < b[3] and box[3] > b[1] for b in truth)


def score_furg(real: Path, variants: Mapping[str, FireConfig], store: DetectionStore | None) -> list[dict[str, Any]]:
    """FURG house6 per variant: alert summary plus whether the first fire event's box is on a flame."""
    folder = real / "furg-fire"
    truth = furg_boxes(folder / "house6.xml")
    video = run_video_variants(folder / "house6.mp4", variants, store, camera_id="furg-house6")
    rows = []
    for key, run in video.runs.items():
        fire_starts = [e for e in run.events if e.phase is Phase.START and e.kind.value == "fire"]
        first_fire = fire_starts[0] if fire_starts else None
        on_flame = None
        if first_fire is not None:
            frame_no = min(max(truth), round((first_fire.trigger_captured_at - T0) * FURG_FPS))
            on_flame = _on_flame(first_fire.box_xyxy, truth[frame_no])
        rows.append({"media": "furg-house6", "variant": key, **alert_summary(run.alerts),
                     "first_fire_event_on_flame": on_flame,
                     "detector_ms_per_frame": round(1000 * run.detector_s / max(video.frames, 1), 2),
                     "model_ms_per_frame": round(1000 * video.model_s / max(video.frames, 1), 1)})
    return rows


NEGATIVE_VIDEOS = ("car-detection.mp4", "one-by-one-person-detection.mp4")


def score_negative_videos(
    real: Path, variants: Mapping[str, FireConfig], store: DetectionStore | None
) -> list[dict[str, Any]]:
    """The intel sample videos (no fire or smoke anywhere): every alert is false."""
    rows = []
    for name in NEGATIVE_VIDEOS:
        video = run_video_variants(real / "intel-sample-videos" / name, variants, store, camera_id=Path(name).stem)
        for key, run in video.runs.items():
            rows.append({"media": name, "variant": key, **alert_summary(run.alerts),
                         "detector_ms_per_frame": round(1000 * run.detector_s / max(video.frames, 1), 2),
                         "model_ms_per_frame": round(1000 * video.model_s / max(video.frames, 1), 1)})
    return rows


# --------------------------------------------------------------------------- Roboflow stills


# --------------------------------------------------------------------------- generated scenes


def score_scenes(
    scenarios: Sequence[FireScenario], work_dir: Path, variants: Mapping[str, FireConfig],
    store: DetectionStore | None,
) -> list[dict[str, Any]]:
    """Generated scenes (ground truth from the generator, read by `score_scenario` only)."""
    rows = []
    for sc in scenarios:
        files = write_scenario(sc, work_dir)
        video = run_video_variants(files.video, variants, store)
        for key, run in video.runs.items():
            result = RunResult(run.events, video.frames, 1000 * run.detector_s / max(video.frames, 1), T0)
            row = score_scenario(files, result)
            rows.append({"variant": key, **{k: row[k] for k in (
                "scenario", "category", "light", "alerted", "latency_s", "within_limit", "false_alerts")}})
    return rows


def scene_summary(rows: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    out = []
    for key in dict.fromkeys(r["variant"] for r in rows):
        mine = [r for r in rows if r["variant"] == key]
        fires = [r for r in mine if r["category"] == "fire"]
        smokes = [r for r in mine if r["category"] == "smoke"]
        lat = [r["latency_s"] for r in fires if r["latency_s"] is not None]
        out.append({
            "variant": key,
            "fire_within_5s": f"{sum(r['within_limit'] for r in fires)}/{len(fires)}",
            "fire_latency_median_s": round(float(np.median(lat)), 2) if lat else None,
            "smoke_within_5s": f"{sum(r['within_limit'] for r in smokes)}/{len(smokes)}",
            "distractor_false_alerts": sum(r["false_alerts"] for r in mine if r["category"] == "distractor"),
            "distractor_clips_with_false_alert": sum(
                r["false_alerts"] > 0 for r in mine if r["category"] == "distractor"),
            "false_alerts_in_fire_smoke_clips": sum(r["false_alerts"] for r in fires + smokes),
        })
    return out


def street_configs(
    reference: str | Path = REFERENCE_CONFIG, names: Sequence[str] = MAIN_VARIANTS
) -> dict[str, FireConfig]:
    """`model`, `cues` and `both` (or the variants `names`) as a user writes them: the reference config's
    fire section, its mode set and (for `model`/`both`) `model: fire-smoke`."""
    section = load_fire_config(reference).model_dump(mode="json")
    every = variant_configs(section)
    return {k: every[k] for k in names}


def score_street(
    seeds: Sequence[int], variants: Mapping[str, FireConfig], store: DetectionStore, cache: Path
) -> dict[str, list[dict[str, Any]]]:
    """Every variant on the independent street clips of `seeds` (written once into `cache`), scored by
    the street scorer (`fire_street_score.score_clip`: it alone reads their ground truth). Rows per variant."""
    rows: dict[str, list[dict[str, Any]]] = {k: [] for k in variants}
    for clip in street_suite(seeds):
        files = write_clip(clip, cache)
        video = run_video_variants(files.video, variants, store, camera_id=clip.name)
        for key, run in video.runs.items():
            cpu_ms = 1000.0 * run.detector_s / max(video.frames, 1)
            rows[key].append(score_clip(files, ClipRun(run.events, video.frames, cpu_ms, {})))
    return rows


def precision_speed(real: Path, frames: int = 20, repeats: int = 2) -> dict[str, Any]:
    """CPU time per FURG frame of the fp32 and INT8 fetched models on the same frames (best of repeats)."""
    from models.quantize import read_video_frames  # noqa: PLC0415 (the quantizer pulls in ORT's tooling)

    images = read_video_frames(real / "furg-fire" / "house6.mp4", frames)
    out: dict[str, Any] = {}
    for precision in ("fp32", "int8"):
        model = load_fire_model(precision)
        model.predict(images[:2])
        best = float("inf")
        for _ in range(repeats):
            start = time.process_time()
            model.predict(images)
            best = min(best, time.process_time() - start)
        out[f"{precision}_cpu_ms_per_frame"] = round(1000 * best / len(images), 1)
    out["int8_speedup_cpu"] = round(out["fp32_cpu_ms_per_frame"] / out["int8_cpu_ms_per_frame"], 2)
    return out


# --------------------------------------------------------------------------- report

VIDEO_COLUMNS = ("media", "variant", "incidents", "starts", "fire_starts", "smoke_starts", "first_alert_s",
                 "first_fire_event_on_flame", "stream", "detector_ms_per_frame")
STILL_COLUMNS = ("variant", "fire_tp", "fire_images", "fire_fp", "negatives", "fire_recall", "fire_precision",
                 "fire_recall_by_clip_macro", "fire_clips_found", "smoke_only_called_fire", "smoke_tp",
                 "smoke_images", "smoke_fp", "smoke_recall")


def render_markdown(
    rows: Sequence[dict[str, Any]], scene_rows: Sequence[dict[str, Any]], summary: Mapping[str, Any],
    env: Mapping[str, Any],
) -> str:
    """Three tables: real videos (alert streams), Roboflow stills, generated scenes (summary per variant)."""
    videos = [{c: ("; ".join(r[c]) if c == "stream" else r.get(c, "")) for c in VIDEO_COLUMNS}
              for r in rows if r["media"] != "roboflow"]
    stills = [{c: r.get(c, "") for c in STILL_COLUMNS} for r in rows if r["media"] == "roboflow"]
    out = ["# gridwatch bench fire-modes", "", f"Model: {summary['model']}", "",
           "## Real videos (FURG house6: fire everywhere; intel: no fire anywhere)", "", markdown_table(videos),
           "## Roboflow fire-wrpgm stills (image level; smoke-only images scored for smoke)", "",
           markdown_table(stills)]
    if scene_rows:
        out += [f"## Generated scenes ({summary['scenes']})", "", markdown_table(list(summary["scene_summary"]))]
    if summary.get("precision_speed_furg_640"):
        out += ["## fp32 vs INT8, model only (CPU time per FURG frame, 640x640)", "",
                markdown_table([dict(summary["precision_speed_furg_640"])])]
    out += ["", "Environment: " + ", ".join(f"{k}={env[k]}" for k in ("cpu", "cores", "onnxruntime", "git_commit")
                                           if k in env), ""]
    return "\n".join(out)


# --------------------------------------------------------------------------- CLI


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description="Fire detector modes on real media and generated scenes.")
    ap.add_argument("--real", type=Path, required=True, help="path of testdata-real (FURG, Roboflow, intel)")
    ap.add_argument("--out", type=Path, default=Path("var/bench/fire-modes"))
    ap.add_argument("--precision", choices=("auto", "fp32", "int8"), default="auto")
    ap.add_argument("--scenes", choices=("gate", "tuning", "none"), default="tuning")
    ap.add_argument("--count", type=int, default=2, help="seeds of the scene set (each makes 9 clips)")
    ap.add_argument("--variants", default=",".join(variant_configs()), help="comma-separated variant names")
    ap.add_argument("--skip", default="", help="comma-separated parts to skip: furg,intel,roboflow,speed")
    ap.add_argument("--street", type=int, nargs="*", default=[],
                    help="street-clip seeds (fire_street; gate seeds 101-110) to score model/cues/both on")
    ap.add_argument("--street-cache", type=Path, default=Path("var/street"), help="where street clips are kept")
    ap.add_argument("--detections-cache", type=Path, default=None,
                    help="keep the model's detections here (keyed by video and model sha256) for re-runs")
    args = ap.parse_args(argv)
    started = time.perf_counter()
    model = load_fire_model(args.precision)
    store = DetectionStore(model, args.detections_cache)
    all_variants = variant_configs()
    variants = {k: all_variants[k] for k in args.variants.split(",")}
    skip = set(filter(None, args.skip.split(",")))
    rows: list[dict[str, Any]] = []
    if "furg" not in skip:
        rows += score_furg(args.real, variants, store)
    if "intel" not in skip:
        rows += score_negative_videos(args.real, variants, store)
    if "roboflow" not in skip:
        rows += score_roboflow(args.real, variants, store)
    scene_rows: list[dict[str, Any]] = []
    seeds: tuple[int, ...] = ()
    if args.scenes != "none":
        seeds = (GATE_SEEDS if args.scenes == "gate" else TUNING_SEEDS)[: args.count]
        scene_rows = score_scenes(suite(seeds), args.out / "scenes", variants, store)
    street: dict[str, Any] = {}
    if args.street:
        by_variant = score_street(args.street, street_configs(names=list(variants)), store, args.street_cache)
        street = {k: {**street_summary(v), "latencies_s": [r["latency_s"] for r in v if r["category"] == "fire"],
                      "false_alert_clips": [r["clip"] for r in v if r["false_alerts"]]}
                  for k, v in by_variant.items()}
        for k, v in street.items():
            print(f"street seeds {args.street} {k}: {v}")
    summary: dict[str, Any] = {
        "street": street,
        "model": f"{MODEL_NAME} ({model.info.path.name}, sha256 {model.info.sha256[:12]})",
        "scenes": f"{args.scenes} seeds {list(seeds)}" if args.scenes != "none" else "none",
        "scene_summary": scene_summary(scene_rows),
        "precision_speed_furg_640": precision_speed(args.real) if "speed" not in skip else None,
        "wall_s": round(time.perf_counter() - started, 1),
    }
    env = environment(model.info.path, model.info.provider)
    jpath, mpath = write_report(args.out, "fire-modes", env, rows + scene_rows, summary)
    mpath.write_text(render_markdown(rows, scene_rows, summary, env), encoding="utf-8")
    print(mpath.read_text(encoding="utf-8"))
    print(f"wrote {jpath} and {mpath}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
