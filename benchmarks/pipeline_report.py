"""What `gridwatch bench pipeline` reports: per-camera rows, the summary (throughput, drops, CPU, memory,
batching, latency percentiles), plots and notes, from the scrapes `benchmarks.pipeline` collected.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from benchmarks import plots
from benchmarks.kafka_readback import ReadAlert
from benchmarks.pipeline_spec import PipelineSpec
from benchmarks.procstat import TreeSample
from benchmarks.promtext import Scrape, bucket_delta, quantile
from benchmarks.report import markdown_table


@dataclass
class Snapshot:
    """One scrape of the running service plus the CPU counters read at the same moment."""

    at: float
    metrics: Scrape
    service: TreeSample
    rtsp_cpu_s: float
    machine_busy_s: float
    machine_total_s: float


@dataclass
class Run:
    """What one run collected, before it is turned into rows and a summary."""

    first: Snapshot
    last: Snapshot
    window_start_wall: float
    timeline: list[dict[str, float]] = field(default_factory=list)
    alerts: list[ReadAlert] = field(default_factory=list)
    exit_code: int = 0
    stopped_at: float = 0.0


def camera_rows(run: Run, spec: PipelineSpec) -> list[dict[str, Any]]:
    a, b = run.first.metrics, run.last.metrics
    window = run.last.at - run.first.at
    rows = []
    for labels in sorted(b.series("gridwatch_camera_frames_analysed_total")):
        cam = dict(labels)["camera_id"]
        analysed = b.get("gridwatch_camera_frames_analysed_total", camera_id=cam) - a.get(
            "gridwatch_camera_frames_analysed_total", camera_id=cam)
        decoded = b.get("gridwatch_camera_frames_decoded_total", camera_id=cam) - a.get(
            "gridwatch_camera_frames_decoded_total", camera_id=cam)
        dropped = b.total("gridwatch_camera_frames_dropped_total", camera_id=cam) - a.total(
            "gridwatch_camera_frames_dropped_total", camera_id=cam)
        reasons = {dict(lab)["reason"]: v - a.samples.get(("gridwatch_camera_frames_dropped_total", lab), 0.0)
                   for lab, v in b.series("gridwatch_camera_frames_dropped_total").items()
                   if dict(lab).get("camera_id") == cam}
        rows.append({
            "camera": cam,
            "decoded_fps": decoded / window,
            "analysed_fps": analysed / window,
            "target_fps": spec.analysis_fps,
            "dropped": int(dropped),
            "drop_rate": dropped / (analysed + dropped) if analysed + dropped else 0.0,
            "drop_reasons": ", ".join(f"{k}={int(v)}" for k, v in sorted(reasons.items()) if v) or "-",
            "alerts": sum(1 for al in run.alerts if al.source_id == cam),
        })
    return rows


def _pct(values: Sequence[float], q: float) -> float | None:
    return float(np.percentile(np.asarray(values, np.float64), q)) * 1000.0 if values else None


def _hist_pct(run: Run, name: str) -> dict[str, float | None]:
    delta = bucket_delta(run.last.metrics.buckets(name), run.first.metrics.buckets(name))
    out: dict[str, float | None] = {}
    for q in (50, 95, 99):
        v = quantile(q / 100, delta)
        out[f"p{q}"] = v * 1000.0 if v is not None else None
    out["n"] = delta[-1][1] if delta else 0.0
    return out


def window_alerts(run: Run) -> list[ReadAlert]:
    """Alerts raised by frames of the measuring window and acknowledged before the stop signal (the
    end alerts written at shutdown are not latency samples)."""
    return [al for al in run.alerts if run.window_start_wall <= al.triggered_at <= al.appended_at <= run.stopped_at]


def summarise(run: Run, spec: PipelineSpec, rows: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """Overall figures: throughput, drops, CPU and memory per camera, batching, latency percentiles."""
    a, b = run.first, run.last
    window = b.at - a.at
    cams = max(1, len(rows))
    cpu_cores = (b.service.cpu_s - a.service.cpu_s) / window
    machine = (b.machine_busy_s - a.machine_busy_s) / max(1e-9, b.machine_total_s - a.machine_total_s)
    analysed = sum(r["analysed_fps"] for r in rows)
    dropped = sum(r["dropped"] for r in rows)
    frames = analysed * window
    batch = bucket_delta(b.metrics.buckets("gridwatch_model_batch_size"),
                         a.metrics.buckets("gridwatch_model_batch_size"))
    batch_sum = b.metrics.total("gridwatch_model_batch_size_sum") - a.metrics.total("gridwatch_model_batch_size_sum")
    batches = batch[-1][1] if batch else 0.0
    infer_sum = (b.metrics.total("gridwatch_model_inference_seconds_sum")
                 - a.metrics.total("gridwatch_model_inference_seconds_sum"))
    samples = window_alerts(run)
    created = [al.frame_to_created_s for al in samples]
    acked = [al.frame_to_ack_s for al in samples if al.broker_stamped]
    f2e, f2a = _hist_pct(run, "gridwatch_frame_to_event_seconds"), _hist_pct(run, "gridwatch_frame_to_ack_seconds")
    out: dict[str, Any] = {
        "cameras": len(rows),
        "window_s": round(window, 1),
        "analysed_fps_per_camera": round(analysed / cams, 2),
        "target_fps_per_camera": spec.analysis_fps,
        "keeps_up": bool(analysed / cams >= 0.95 * spec.analysis_fps),
        "decoded_fps_per_camera": round(sum(r["decoded_fps"] for r in rows) / cams, 2),
        "drop_rate": round(dropped / (frames + dropped), 4) if frames + dropped else 0.0,
        "service_cpu_cores": round(cpu_cores, 3),
        "cpu_cores_per_camera": round(cpu_cores / cams, 4),
        "cpu_ms_per_analysed_frame": round(1000 * cpu_cores / analysed, 1) if analysed else None,
        "cameras_per_core_at_this_load": round(cams / cpu_cores, 1) if cpu_cores > 0 else None,
        "service_rss_mib": round(b.service.rss_bytes / 2**20, 1),
        "rss_mib_per_camera": round(b.service.rss_bytes / 2**20 / cams, 1),
        "service_processes": b.service.processes,
        "rtsp_server_cpu_cores": round((b.rtsp_cpu_s - a.rtsp_cpu_s) / window, 3),
        "machine_cpu_busy": round(machine, 3),
        "mean_batch_size": round(batch_sum / batches, 2) if batches else None,
        "inference_ms_per_batch": round(1000 * infer_sum / batches, 1) if batches else None,
        "alerts_in_window": len(samples),
        "alerts_total": len(run.alerts),
        "service_exit_code": run.exit_code,
    }
    for name, values in (("frame_to_alert_created_ms", created), ("frame_to_broker_ack_ms", acked)):
        for q in (50, 95, 99):
            v = _pct(values, q)
            out[f"{name}_p{q}"] = round(v, 1) if v is not None else None
    for name, hist in (("metrics_frame_to_event_ms", f2e), ("metrics_frame_to_ack_ms", f2a)):
        for key in ("p50", "p95", "p99"):
            v = hist[key]
            out[f"{name}_{key}"] = round(v, 1) if v is not None else None
        out[f"{name}_n"] = int(hist["n"] or 0)
    return out


def plot(run: Run, summary: dict[str, Any], out: Path) -> list[Path]:
    groups: dict[str, dict[str, float]] = {}
    for label, key in (("frame -> alert created\n(Kafka read-back)", "frame_to_alert_created_ms"),
                       ("frame -> broker ack\n(Kafka read-back)", "frame_to_broker_ack_ms"),
                       ("frame -> event\n(/metrics histogram)", "metrics_frame_to_event_ms"),
                       ("frame -> ack\n(/metrics histogram)", "metrics_frame_to_ack_ms")):
        vals = {f"p{q}": summary.get(f"{key}_p{q}") for q in (50, 95, 99)}
        if any(v is not None for v in vals.values()):
            groups[label] = {k: float(v) for k, v in vals.items() if v is not None}
    pngs = [plots.grouped_bars(groups, out / "pipeline_latency_percentiles.png", ylabel="milliseconds",
                               title=f"{summary['cameras']} cameras: latency percentiles")]
    series = {
        "analysed frames/s, all cameras": [(p["t_s"], p["analysed_fps"]) for p in run.timeline],
        "service CPU, cores x 10": [(p["t_s"], 10 * p["service_cpu_cores"]) for p in run.timeline],
    }
    pngs.append(plots.lines(series, out / "pipeline_timeline.png", title="Throughput and CPU over the window",
                            xlabel="seconds into the window", ylabel="value"))
    return pngs


def notes(spec: PipelineSpec, summary: dict[str, Any]) -> list[str]:
    src = "RTSP (gst-rtsp-server, TCP)" if spec.source == "rtsp" else "files played in real time, looped"
    return [
        f"{spec.cameras} cameras, {spec.width}x{spec.height} H.264 at {spec.stream_fps:g} fps (GOP 1 s) over "
        f"{src}; decode {spec.decode}; fire detector (mode both) at {spec.analysis_fps:g} fps; model "
        f"yolov8n at {spec.imgsz} (rect), batches of up to {spec.max_batch}, {spec.threads} ORT threads; "
        f"ingest workers {spec.workers} (0: threads in the service process)",
        f"warm-up {spec.warmup_s:g} s, then a {spec.seconds:g} s window scraped every {spec.scrape_every_s:g} s",
        "CPU = user + system time of the service's process tree from /proc, over the window; the RTSP server "
        "and the Kafka broker run on the same machine and are not included (see rtsp_server_cpu_cores and "
        "machine_cpu_busy)",
        "latency from Kafka: per alert raised by a frame of the window, created_at - triggered_at (frame -> "
        "alert created) and the broker's LogAppendTime - triggered_at (frame -> broker ack); triggered_at is "
        "the frame's capture time: for RTSP, when its packet arrived",
        "the /metrics histograms (frame -> event, frame -> ack) have coarse buckets (50 ms, 100 ms, 250 ms, ...): "
        "their percentiles are interpolated estimates",
        f"alerts in the window: {summary['alerts_in_window']}: with few samples p95/p99 are close to the maximum",
        "fire lifecycle shortened for the benchmark (end after 3 s, no cooldown, updates every 2 s) and incident "
        "dedup off (its 60 s cooldown would hold back the re-alerts) so each loop of the scene (~10 s) raises "
        "alerts that serve as latency samples",
        "the machine is shared with other work (load average in the environment): figures are of this run",
    ]


COLUMNS = ("camera", "decoded_fps", "analysed_fps", "target_fps", "dropped", "drop_rate", "drop_reasons", "alerts")


def table(result: dict[str, Any]) -> str:
    return markdown_table(result["rows"], COLUMNS)
