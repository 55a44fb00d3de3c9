"""The suites behind `gridwatch bench`, with one shape: run, write JSON + markdown + PNG, return a result.

Each suite's measuring code lives in its own module (`decode`, `infer`, `compare`, `pipeline`,
`alerts_bench`, `throw_bench`, `district`); this module gives them a uniform entry (output directory, quick size
for CI smoke runs, progress bars on a terminal) and adds the plots the reports share. `QUICK` sizes
finish in seconds and only prove that a suite runs and writes its files: their figures mean nothing.
"""

from __future__ import annotations

import os
import statistics
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from benchmarks import (
    alerts_bench,
    compare,
    decode,
    district,
    district_report,
    infer,
    pipeline,
    pipeline_report,
    plots,
    throw_bench,
)
from benchmarks.pipeline_spec import PipelineSpec
from benchmarks.progress import Ticker, steps
from benchmarks.report import environment, markdown_table, write_report
from models.config import Provider


@dataclass
class SuiteResult:
    """What a suite produced: its table for the terminal, the summary, and the files written."""

    suite: str
    out_dir: Path
    table: str
    summary: dict[str, Any] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    files: list[Path] = field(default_factory=list)
    raw: dict[str, Any] = field(default_factory=dict)
    """The suite's own result (rows, environment), for callers that combine suites."""


def _written(out: Path, suite: str, pngs: Sequence[Path]) -> list[Path]:
    return [out / f"{suite}.json", out / f"{suite}.md", *pngs]


# --------------------------------------------------------------------------- decode

QUICK_DECODE_CASES = tuple(c for c in decode.CASES if c.clip == "360p")


def run_decode(out: Path, *, seconds: float = 6.0, repeats: int = 3, quick: bool = False,
               progress: bool = False) -> SuiteResult:
    """CPU per camera by resolution and decode mode; one case at a time so the bar can move."""
    cases = QUICK_DECODE_CASES if quick else decode.CASES
    if quick:
        seconds, repeats = 2.0, 1
    rows: list[dict[str, Any]] = []
    notes: list[str] = []
    load_before = os.getloadavg()[0]
    for case in steps(cases, "decode cases", total=len(cases), enabled=progress):
        part = decode.run(None, seconds=seconds, repeats=repeats, cases=[case])
        rows += part["rows"]
        notes = [n for n in part["notes"] if not n.startswith("machine load")]
    notes.append(f"machine load average (1 min) {load_before:.1f} before and {os.getloadavg()[0]:.1f} after the "
                 "run: CPU time per task grows when other processes share the cores")
    summary = {r["case"]: f"{r['cpu_s_per_cam_min']} CPU-s/cam-min, {r['cams_per_core']} cams/core" for r in rows}
    _, mpath = write_report(out, "decode", environment(), rows, summary=None, notes=notes)
    png = plots.hbars({str(r["case"]): 100.0 * float(r["cpu_s_per_cam_min"]) / 60.0 for r in rows},
                      out / "decode_cpu_per_camera.png", xlabel="% of one core per camera (decode only)",
                      title="CPU per camera by resolution and decode mode", annotate="{:.2f}%")
    plots.link_plots(mpath, [png])
    return SuiteResult("decode", out, markdown_table(rows), summary, notes, _written(out, "decode", [png]))


# --------------------------------------------------------------------------- infer

def _infer_plots(rows: Sequence[dict[str, Any]], out: Path) -> list[Path]:
    rate: dict[str, list[tuple[float, float]]] = {}
    cpu: dict[str, list[tuple[float, float]]] = {}
    for r in rows:
        key = f"{r['variant']}, {r['stage']}"
        rate.setdefault(key, []).append((float(r["batch"]), float(r["img_s"])))
        cpu.setdefault(key, []).append((float(r["batch"]), float(r["cpu_ms_per_img"])))
    ticks = sorted({float(r["batch"]) for r in rows})
    return [
        plots.lines(rate, out / "infer_throughput_vs_batch.png", title="Throughput vs batch size",
                    xlabel="batch size", ylabel="images/s", log_x=True, xticks=ticks),
        plots.lines(cpu, out / "infer_cpu_ms_vs_batch.png", title="CPU time per image vs batch size",
                    xlabel="batch size", ylabel="CPU ms per image", log_x=True, xticks=ticks),
    ]


def run_infer(out: Path, *, model: Path | None = None, batches: Sequence[int] = (1, 2, 4, 8),
              seconds: float = 10.0, threads: int = 2, int8: bool = True, rect: bool = True,
              ultralytics: bool = True, quick: bool = False, progress: bool = False,
              providers: Sequence[Provider] = ("cpu",), trt_cache_dir: Path | None = None) -> SuiteResult:
    """Model-only and pipeline throughput per batch size (the models engineer's `benchmarks.infer`);
    `seconds` of paired calls per batch size."""
    frames = 8
    if quick:
        batches, seconds, frames, int8, rect, ultralytics = (1,), 0.3, 2, False, False, False
    expected = 20.0 + (seconds + 5.0) * len(batches) + (40.0 if int8 else 0.0) + (15.0 if ultralytics else 0.0)
    with Ticker("infer", expected, enabled=progress):
        result = infer.run(model, batches=batches, seconds=seconds, threads=threads, frames=max(frames, *batches),
                           int8=int8, rect=rect, ultralytics=ultralytics, out_dir=out, providers=providers,
                           trt_cache_dir=trt_cache_dir)
    pngs = _infer_plots(result["rows"], out)
    plots.link_plots(out / "infer.md", pngs)
    cols = ["variant", "stage", "batch", "img_s", "img_s_median", "img_s_peak", "cpu_ms_per_img", "calls"]
    return SuiteResult("infer", out, markdown_table(result["rows"], cols), result["summary"], [],
                       _written(out, "infer", pngs), result)


# --------------------------------------------------------------------------- compare

def run_compare(out: Path, *, model: Path | None = None, imgsz: int = 640, batch: int = 4, frames: int = 8,
                seconds: float = 20.0, threads: int = 2, ultralytics: bool = True,
                quick: bool = False, progress: bool = False) -> SuiteResult:
    """gridwatch against Ultralytics' predict and a naive loop on the same model and frames."""
    if quick:
        imgsz, batch, frames, seconds = 320, 2, 2, 0.3
    result = compare.run(model, imgsz=imgsz, batch=batch, frames=frames, seconds=seconds,
                         threads=threads, ultralytics=ultralytics, out_dir=out, progress=progress)
    return SuiteResult("compare", out, compare.table(result), result["summary"], [], result["files"])


# --------------------------------------------------------------------------- pipeline

def run_pipeline(out: Path, *, spec: PipelineSpec | None = None, quick: bool = False,
                 progress: bool = False) -> SuiteResult:
    """N simulated cameras end to end through the real service."""
    spec = spec or PipelineSpec()
    if quick:
        spec = replace(spec, cameras=1, seconds=4.0, warmup_s=3.0, imgsz=320, scrape_every_s=1.0)
    result = pipeline.run(spec, out_dir=out, progress=progress)
    return SuiteResult("pipeline", out, pipeline_report.table(result), result["summary"], result["notes"],
                       result["files"])


# --------------------------------------------------------------------------- alerts

def _alerts_plots(rows: Sequence[dict[str, Any]], out: Path) -> list[Path]:
    groups = {f"{r['target_rate_per_s']:g} alerts/s {r['listener']}": {"p50": float(r["event_to_ack_p50_ms"]),
                                                      "p99": float(r["event_to_ack_p99_ms"])}
              for r in rows if r.get("section") == "latency"}
    return [plots.grouped_bars(groups, out / "alerts_latency_percentiles.png", ylabel="milliseconds",
                               title="Event -> broker ack (outbox commit + Kafka, acks=all)")]


def run_alerts(out: Path, *, bootstrap: str | None = None, backlog: int = 10_000,
               rates: Sequence[float] = (20.0, 100.0), duration_s: float = 15.0, quick: bool = False,
               progress: bool = False, security: Sequence[str] = ("PLAINTEXT",), repeats: int = 1) -> SuiteResult:
    """Outbox -> Kafka throughput and Event -> ack latency (the alerts engineer's `alerts_bench`)."""
    extra: dict[str, Any] = {}
    if quick:
        backlog, rates, duration_s = 200, (20.0,), 2.0
        extra = {"grid_cells": (10, 10), "grid_points": 2_000}
    expected = (0 if bootstrap else 30) + len(security) * (repeats * backlog / 500 + len(rates) * (duration_s + 3)) + 5
    with Ticker("alerts", expected, enabled=progress):
        rows = alerts_bench.run(out, bootstrap=bootstrap, security=security, repeats=repeats, backlog=backlog,
                                rates_per_s=rates,
                                duration_s=duration_s, **extra)
    pngs = _alerts_plots(rows, out)
    plots.link_plots(out / "alerts.md", pngs)
    tables = []
    for section in ("throughput", "latency", "grid", "gcj02"):
        part = [{k: v for k, v in r.items() if k != "section"} for r in rows if r["section"] == section]
        tables.append(f"{section}\n\n{markdown_table(part)}")
    summary = alerts_bench.summarise(rows, bootstrap)
    for r in rows:
        if r["section"] == "grid" and str(r.get("cells_from", "")).startswith("sample district"):
            summary["district_grid_lookups_per_s"] = round(float(r["single_lookups_per_s"]))
    return SuiteResult("alerts", out, "\n".join(tables), summary, [], _written(out, "alerts", pngs))


# --------------------------------------------------------------------------- throw

def run_throw(out: Path, *, seconds: float = 20.0, small_seconds: float = 40.0, quick: bool = False,
              progress: bool = False) -> SuiteResult:
    """Throw detector speed per core and the small-object cost of shrinking (`throw_bench`)."""
    kwargs: dict[str, Any] = {}
    if quick:
        seconds, small_seconds = 2.0, 2.0
        kwargs = {"widths": (960,), "methods": ("difference",)}
    widths = kwargs.get("widths", (960, 1920))
    methods = kwargs.get("methods", ("difference", "mog2"))
    expected = 10 + seconds * 2.5 * len(widths) * len(methods) + small_seconds * 2 * len(widths)
    with Ticker("throw", expected, enabled=progress):
        rows = throw_bench.run(out, seconds=seconds, small_object_seconds=small_seconds, **kwargs)
    speed = [r for r in rows if r["section"] == "speed"]
    png = plots.hbars({f"{r['method']} @ {r['process_width_px']} px": float(r["decode_plus_detector_fps"])
                       for r in speed}, out / "throw_fps_per_core.png", xlabel="frames/s on one core",
                      title="Throw: decode + detector frames/s per core (a camera needs 25)")
    plots.link_plots(out / "throw.md", [png])
    table = markdown_table([{k: v for k, v in r.items() if k != "section"} for r in speed])
    fps = [float(r["decode_plus_detector_fps"]) for r in speed]
    det_ms = [float(r["detector_ms"]) for r in speed]
    summary = {"best_fps_with_decode": round(max(fps, default=0.0), 1),
               "median_detector_ms": round(statistics.median(det_ms), 2) if det_ms else None}
    return SuiteResult("throw", out, table, summary, [], _written(out, "throw", [png]))


# --------------------------------------------------------------------------- district

def run_district(out: Path, *, spec: district.DistrictSpec, quick: bool = False,
                 progress: bool = False) -> SuiteResult:
    """Cameras per core gated, ungated and with Ultralytics on a district's mix of cameras (`district`)."""
    if quick:
        spec = replace(spec, cameras=2, duration_s=8.0, imgsz=320, clips_dir=out / "clips",
                       warmup_s=min(spec.warmup_s, 2.0))
    expected = 60.0 + spec.cameras * spec.duration_s * 1.5
    with Ticker("district", expected, enabled=progress):
        result = district.run(spec, out_dir=out)
    return SuiteResult("district", out, district_report.table(result), result["summary"], result["notes"],
                       result["files"])
