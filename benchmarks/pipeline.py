"""`gridwatch bench pipeline`: N simulated cameras end to end through the real service, measured from outside.

What a node really costs is only visible with everything running together: decoding, sampling, the
cross-camera batcher, the detectors, the alerts pipeline, the outbox and the Kafka producer. So this suite
treats `gridwatch run` as a black box, the way a deployment sees it:

1. generates fire-scene clips (`benchmarks.camclips`) at the cameras' resolution and frame rate;
2. serves one RTSP mount per camera from the real gst-rtsp-server (or, with `source="file"`, plays the
   files in real time, looped);
3. starts a Kafka broker (or uses `bootstrap`) and a topic stamped with the broker's append time;
4. writes a config with N cameras and starts `python -m gridwatch run` as a subprocess;
5. after a warm-up, scrapes `/metrics` every few seconds for the measuring window and reads the CPU time
   and RSS of the service's process tree from /proc;
6. stops the service, reads the alerts back from Kafka, and reports per camera and overall: analysed
   fps against the target, drop rate, CPU per camera, memory, batch sizes, and the p50/p95/p99 of
   frame -> alert created and frame -> broker ack (from the alerts' `triggered_at`/`created_at` and
   the broker's append time), next to the service's own frame -> event / frame -> ack histograms.

The RTSP server, the broker and this process run on the same machine and are not counted in the
service's CPU; the machine-wide CPU use over the window is reported beside it. This module runs the node
and collects; `benchmarks.pipeline_report` turns what it collected into the report.
"""

from __future__ import annotations

import contextlib
import json
import logging
import math
import os
import shutil
import tempfile
import time
from collections.abc import Iterator, Sequence
from dataclasses import asdict
from pathlib import Path
from typing import Any

import yaml

from benchmarks import pipeline_report, plots
from benchmarks.camclips import SCENE_SEEDS, camera_clip
from benchmarks.infer import default_model
from benchmarks.kafka_broker import kafka_broker
from benchmarks.kafka_readback import create_topic, read_alerts
from benchmarks.pipeline_report import Run, Snapshot
from benchmarks.pipeline_spec import PipelineSpec
from benchmarks.ports import free_port
from benchmarks.procstat import machine_cpu_s, sample_tree
from benchmarks.progress import steps
from benchmarks.promtext import parse
from benchmarks.report import environment, write_report
from benchmarks.rtsp import RtspServer, rtsp_server_available
from benchmarks.service_proc import REPO, GridwatchProcess
from foundation.errors import ConfigError, GridwatchError

log = logging.getLogger(__name__)

SUITE = "pipeline"


def site(i: int) -> dict[str, float]:
    """Camera i's position: spread on a 6 x 5 lattice inside the sample district's grid, so alerts are fully
    enriched (grid cell, GCJ-02) and cameras do not all stand on one spot."""
    return {"lat_deg": round(34.8030 + 0.0015 * ((i // 6) % 5), 6),
            "lon_deg": round(113.2750 + 0.0025 * (i % 6), 6), "accuracy_m": 25}


def _config(spec: PipelineSpec, urls: Sequence[str], model: Path, work: Path, port: int,
            bootstrap: str | None, topic: str | None) -> dict[str, Any]:
    """The gridwatch config of the run: N cameras, one model, the fire detector, outbox (+ Kafka)."""
    lifecycle = {"end_after_s": 3.0, "cooldown_s": 0.0, "update_min_interval_s": 2.0}
    alerts: dict[str, Any] = {
        "outbox": {"path": str(work / "outbox.sqlite3")},
        "evidence": {"store": {"type": "local", "dir": str(work / "evidence")},
                     "scratch_dir": str(work / "evidence-tmp")},
        "grid": {"path": str(REPO / "configs" / "grid" / "sample-district.geojson"),
                 "levels": {level: {"id_property": f"{level}_id", "name_property": f"{level}_name"}
                            for level in ("street", "community", "grid")},
                 "officer_team_property": "officer_team"},
        "dedup": {"enabled": False},
    }
    if bootstrap is not None and topic is not None:
        alerts["kafka"] = {"bootstrap_servers": [bootstrap], "topic": topic}
    cameras = []
    for i, url in enumerate(urls):
        source: dict[str, Any] = {"url": url, "decode": spec.decode}
        if spec.source == "file":
            source.update(realtime=True, loop=True)
        cameras.append({"id": f"bench-cam-{i:03d}", "source": source, "detectors": {"fire": {}},
                        "site": site(i)})
    return {
        "service": {"node_id": "bench-node", "reload_poll_s": 0, "shutdown_timeout_s": 20,
                    "metrics": {"enabled": True, "address": "127.0.0.1", "port": port}},
        "ingest": {"workers": spec.workers},
        "models": [{
            "name": "bench-yolo", "path": str(model), "imgsz": [spec.imgsz, spec.imgsz], "rect": True,
            "intra_op_threads": spec.threads, "spin_wait": False,
            "batch": {"max_batch": spec.max_batch, "max_delay_ms": 50},
        }],
        # Ungated on purpose: this suite measures the service around a model that sees every analysed
        # frame (what `bench size` charges per frame); gating's saving is measured by `bench district`.
        "detectors": {"fire": {"analysis_fps": spec.analysis_fps, "mode": "both", "model": "bench-yolo",
                               "lifecycle": lifecycle, "gating": {"enabled": False}}},
        "cameras": cameras,
        "alerts": alerts,
    }


def _snapshot(proc: GridwatchProcess, rtsp: RtspServer | None) -> Snapshot:
    code, body = proc.get("/metrics", 10.0)
    if code != 200:
        raise RuntimeError(f"/metrics answered {code}")
    assert proc.pid is not None
    busy, total = machine_cpu_s()
    rtsp_pid = rtsp.pid if rtsp is not None else None
    return Snapshot(
        at=time.monotonic(), metrics=parse(body.decode("utf-8", "replace")), service=sample_tree(proc.pid),
        rtsp_cpu_s=sample_tree(rtsp_pid).cpu_s if rtsp_pid else 0.0, machine_busy_s=busy, machine_total_s=total,
    )


@contextlib.contextmanager
def _cameras(spec: PipelineSpec, work: Path, clips: Sequence[Path]) -> Iterator[tuple[list[str], RtspServer | None]]:
    """Camera URLs: RTSP mounts on a running server, or the clip files themselves."""
    if spec.source == "file":
        yield [str(clips[i % len(clips)]) for i in range(spec.cameras)], None
        return
    mounts: dict[str, dict[str, object]] = {f"/cam{i}": {"file": str(clips[i % len(clips)])}
                                            for i in range(spec.cameras)}
    with RtspServer(mounts, work) as server:
        yield [server.url(f"/cam{i}") for i in range(spec.cameras)], server


def _measure(spec: PipelineSpec, proc: GridwatchProcess, rtsp: RtspServer | None, progress: bool) -> Run:
    """Warm up, then scrape every `scrape_every_s` over the window; returns the first and last snapshot."""
    ticks = max(1, math.ceil(spec.warmup_s))
    for _ in steps(range(ticks), "pipeline warm-up", total=ticks, enabled=progress):
        time.sleep(spec.warmup_s / ticks)
    window_start_wall = time.time()
    first = prev = _snapshot(proc, rtsp)
    run = Run(first=first, last=first, window_start_wall=window_start_wall)
    n = max(1, math.ceil(spec.seconds / spec.scrape_every_s))
    for _ in steps(range(n), "pipeline measuring", total=n, enabled=progress):
        time.sleep(spec.seconds / n)
        snap = _snapshot(proc, rtsp)
        dt = snap.at - prev.at
        run.timeline.append({
            "t_s": snap.at - first.at,
            "analysed_fps": (snap.metrics.total("gridwatch_camera_frames_analysed_total")
                             - prev.metrics.total("gridwatch_camera_frames_analysed_total")) / dt,
            "service_cpu_cores": (snap.service.cpu_s - prev.service.cpu_s) / dt,
            "rss_mib": snap.service.rss_bytes / 2**20,
        })
        prev = run.last = snap
    return run


def run(spec: PipelineSpec | None = None, out_dir: Path | None = Path("var/bench/pipeline"),
        progress: bool = False, keep_workdir: bool = False) -> dict[str, Any]:
    """Run the simulated node; returns {"rows", "summary", "timeline", "environment", "files"}."""
    spec = spec or PipelineSpec()
    if spec.source not in ("rtsp", "file"):
        raise ConfigError(f"pipeline source must be rtsp or file, not {spec.source!r}")
    if spec.source == "rtsp" and not rtsp_server_available():
        raise ConfigError("the RTSP server needs GStreamer's gst-rtsp-server for the system python3 (Debian: "
                          "python3-gi gir1.2-gst-rtsp-server-1.0, see deploy/dev/bootstrap.sh); or use --source file")
    model = Path(spec.model) if spec.model is not None else default_model()
    min_s = spec.warmup_s + spec.seconds + 60.0  # start-up and reconnects must not reach the clip's end
    seeds = SCENE_SEEDS[: min(spec.cameras, len(SCENE_SEEDS))]
    clips = [camera_clip(s, (spec.width, spec.height), spec.stream_fps, min_s) for s in seeds]
    work = Path(tempfile.mkdtemp(prefix="gridwatch-bench-pipeline-"))
    load_before = os.getloadavg()[0]
    try:
        broker_ctx = kafka_broker(spec.bootstrap) if spec.kafka else contextlib.nullcontext(None)
        with broker_ctx as bootstrap, _cameras(spec, work, clips) as (urls, rtsp):
            topic = create_topic(bootstrap, "gw-bench-pipeline") if bootstrap else None
            port = free_port()
            cfg_path = work / "pipeline.yaml"
            cfg_path.write_text(yaml.safe_dump(_config(spec, urls, model, work, port, bootstrap, topic),
                                               sort_keys=False), encoding="utf-8")
            proc = GridwatchProcess(cfg_path, work, http_port=port).start()
            try:
                try:
                    proc.wait_ready(180.0)
                except RuntimeError as exc:
                    raise GridwatchError(f"the service under test did not start: {exc}") from exc
                result = _measure(spec, proc, rtsp, progress)
            finally:
                stopped_at = time.time()
                code = proc.stop(60.0)
            result.exit_code, result.stopped_at = code, stopped_at
            if bootstrap and topic:
                result.alerts = read_alerts(bootstrap, topic)
    finally:
        if not keep_workdir:
            shutil.rmtree(work, ignore_errors=True)
    rows = pipeline_report.camera_rows(result, spec)
    summary = pipeline_report.summarise(result, spec, rows)
    env = environment(model)
    env.update(load_avg_1m_before=load_before, load_avg_1m_after=os.getloadavg()[0],
               pipeline_spec={k: (str(v) if isinstance(v, Path) else v) for k, v in asdict(spec).items()})
    notes = pipeline_report.notes(spec, summary)
    files: list[Path] = []
    if out_dir is not None:
        jpath, mpath = write_report(out_dir, SUITE, env, rows, summary=summary, notes=notes)
        payload_extra = Path(out_dir) / "pipeline_timeline.json"
        payload_extra.write_text(json.dumps(result.timeline, indent=1), encoding="utf-8")
        pngs = pipeline_report.plot(result, summary, Path(out_dir))
        plots.link_plots(mpath, pngs)
        files = [jpath, mpath, payload_extra, *pngs]
    return {"rows": rows, "summary": summary, "timeline": result.timeline, "environment": env,
            "notes": notes, "files": files, "spec": spec}
