"""Alerts benchmark: outbox -> Kafka throughput, Event -> broker-ack latency, grid lookup and GCJ-02 speed.

Run `python -m benchmarks.alerts_bench [--out DIR] [--bootstrap HOST:PORT] [--security all]`. Without
`--bootstrap` it starts a throw-away single-node Kafka broker (deploy/kafka/kafka-dev.sh) on a free port,
with its SASL_SSL (SCRAM-SHA-512) and mutual-TLS listeners when `--security` asks for them, so the
secured listeners are measured against PLAINTEXT in the same run on the same broker. Sections:

- throughput: a backlog of alerts is committed to the outbox first (as after an outage), then the relay
  drains it: alerts/s from relay start to the last acknowledgement (acks=all, idempotent, in-flight 1),
  once per listener;
- latency: events handled at a steady rate through `AlertPipeline.handle` (enrichment, dedup, outbox
  commit with fsync) while the relay publishes; p50/p99 of Event (trigger frame capture) -> broker ack,
  and of the handle() call itself (mostly the outbox fsync);
- grid: point-in-polygon lookups per second over a mesh of irregular cells (2,400 polygons) and over the
  sample district's 1,887 micro-grids, vectorised (`lookup_many`) and one at a time (`lookup`);
- gcj02: vectorised WGS-84 -> GCJ-02 conversions per second.

The grid and gcj02 sections live in `benchmarks.grid_bench`; the benchmark's broker in `benchmarks.kafka_broker`.

`run()` returns the rows and writes `alerts.json`/`alerts.md` through `benchmarks.report`; the lead
mounts it under `gridwatch bench alerts`.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
import uuid
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
from kafka import KafkaAdminClient
from kafka.admin import NewTopic

from alerts.config import AlertsConfig
from alerts.pipeline import AlertPipeline
from alerts.relay import KafkaRelay
from benchmarks.grid_bench import bench_district_grid, bench_gcj02, bench_grid
from benchmarks.kafka_broker import BenchBroker, bench_broker, parse_security
from benchmarks.report import environment, markdown_table, write_report
from detectors.event import Event, EventKind, GeoMethod, GeoPoint, Phase
from detectors.fire.events import FireDetails


def _event(i: int, sources: int, now: float) -> Event:
    return Event(
        kind=EventKind.FIRE,
        source_id=f"cam-{i % sources:04d}",
        incident_id=f"bench-{i}",
        phase=Phase.START,
        update_seq=0,
        started_at=now - 2.0,
        last_seen_at=now,
        trigger_captured_at=now,
        confidence=0.9,
        box_xyxy=(100.0, 120.0, 220.0, 260.0),
        ground=GeoPoint(
            30.20 + 0.001 * (i % 997), 120.10 + 0.001 * (i // 997), 8.0, GeoMethod.GROUND_HOMOGRAPHY
        ),
        reasons={"frames_confirmed": 5, "mean_score": 0.9},
        details=FireDetails(
            area_px=19_600.0, area_share=0.01, growth_rate_per_s=0.05, growth_ratio=1.2, frames_seen=5, track_id=i
        ),
    )


def _config(tmp: Path, kafka: dict[str, Any], topic: str, batch_max_rows: int, linger_ms: int) -> AlertsConfig:
    return AlertsConfig.model_validate(
        {
            "outbox": {"path": str(tmp / "outbox.sqlite3"), "max_rows": 1_000_000},
            "kafka": {
                **kafka,
                "topic": topic,
                "batch_max_rows": batch_max_rows,
                "linger_ms": linger_ms,
            },
            "evidence": {"enabled": False},
            "dedup": {"enabled": False},
        }
    )


def _create_topic(bootstrap: str, partitions: int) -> str:
    name = f"gw-bench-{uuid.uuid4().hex[:8]}"
    admin = KafkaAdminClient(bootstrap_servers=bootstrap, request_timeout_ms=20_000)
    try:
        admin.create_topics([NewTopic(name, num_partitions=partitions, replication_factor=1)])
    finally:
        admin.close()
    return name


def _pct(values: Sequence[float], q: float) -> float:
    return float(np.percentile(np.asarray(values, np.float64), q)) if values else float("nan")


def bench_throughput(
    broker: BenchBroker, listener: str, *, backlog: int, sources: int, partitions: int, batch_max_rows: int,
    linger_ms: int,
) -> dict[str, Any]:
    """Fill the outbox with `backlog` alerts, then time the relay draining it through `listener`."""
    with tempfile.TemporaryDirectory(prefix="gridwatch-bench-alerts-") as tmp:
        cfg = _config(Path(tmp), broker.listeners[listener], _create_topic(broker.bootstrap, partitions),
                      batch_max_rows, linger_ms)
        pipe = AlertPipeline(cfg, node_id="bench", config_version="bench")
        t0 = time.perf_counter()
        now = time.time()
        for i in range(backlog):
            pipe.handle(_event(i, sources, now))
        fill_s = time.perf_counter() - t0
        assert cfg.kafka is not None
        relay = KafkaRelay(pipe.outbox, cfg.kafka)
        t1 = time.perf_counter()
        c1 = time.process_time()
        relay.start()
        drained = relay.drain(600.0)
        drain_s = time.perf_counter() - t1
        drain_cpu_s = time.process_time() - c1
        relay.stop(10.0)
        stats = relay.stats
        pipe.close()
    return {
        "section": "throughput",
        "listener": listener,
        "alerts": backlog,
        "sources": sources,
        "partitions": partitions,
        "batch_max_rows": batch_max_rows,
        "batch_size_bytes": cfg.kafka.batch_size_bytes,
        "linger_ms": linger_ms,
        "drained": drained,
        "outbox_fill_alerts_per_s": backlog / fill_s,
        "relay_alerts_per_s": backlog / drain_s,
        "relay_drain_s": drain_s,
        "relay_cpu_ms_per_1k_alerts": drain_cpu_s / backlog * 1e6,
        "windows": stats.windows,
        "failed_windows": stats.failed_windows,
    }


def bench_latency(
    broker: BenchBroker,
    listener: str,
    *,
    rate_per_s: float,
    duration_s: float,
    sources: int,
    partitions: int,
    batch_max_rows: int,
    linger_ms: int,
) -> dict[str, Any]:
    """Handle events at a steady rate while the relay runs; Event capture -> ack and handle() latencies."""
    with tempfile.TemporaryDirectory(prefix="gridwatch-bench-alerts-") as tmp:
        cfg = _config(Path(tmp), broker.listeners[listener], _create_topic(broker.bootstrap, partitions),
                      batch_max_rows, linger_ms)
        pipe = AlertPipeline(cfg, node_id="bench", config_version="bench")
        assert cfg.kafka is not None
        relay = KafkaRelay(pipe.outbox, cfg.kafka)
        relay.start()
        pipe.handle(_event(-1, sources, time.time()))  # warm-up: connects the producer, loads metadata
        relay.drain(60.0)
        relay.stats.latency.take_new()
        n = int(rate_per_s * duration_s)
        handle_s: list[float] = []
        start = time.perf_counter()
        for i in range(n):
            due = start + i / rate_per_s
            delay = due - time.perf_counter()
            if delay > 0:
                time.sleep(delay)
            t = time.perf_counter()
            pipe.handle(_event(i, sources, time.time()))
            handle_s.append(time.perf_counter() - t)
        achieved = n / (time.perf_counter() - start)
        relay.drain(120.0)
        relay.stop(10.0)
        samples = relay.stats.latency.take_new()
        pipe.close()
    frame_to_ack = [s[0] * 1000.0 for s in samples]
    return {
        "section": "latency",
        "listener": listener,
        "alerts": n,
        "sources": sources,
        "partitions": partitions,
        "batch_max_rows": batch_max_rows,
        "linger_ms": linger_ms,
        "target_rate_per_s": rate_per_s,
        "achieved_rate_per_s": achieved,
        "acked": len(samples),
        "event_to_ack_p50_ms": _pct(frame_to_ack, 50),
        "event_to_ack_p99_ms": _pct(frame_to_ack, 99),
        "event_to_ack_max_ms": max(frame_to_ack, default=float("nan")),
        "handle_p50_ms": _pct(handle_s, 50) * 1000.0,
        "handle_p99_ms": _pct(handle_s, 99) * 1000.0,
    }


def run(
    out_dir: str | Path = "out/bench",
    *,
    bootstrap: str | None = None,
    security: Sequence[str] = ("PLAINTEXT",),
    repeats: int = 1,
    backlog: int = 10_000,
    rates_per_s: Sequence[float] = (20.0, 100.0),
    duration_s: float = 15.0,
    sources: int = 50,
    partitions: int = 3,
    batch_max_rows: int = 500,
    linger_ms: int = 5,
    grid_cells: tuple[int, int] = (60, 40),
    grid_points: int = 50_000,
) -> list[dict[str, Any]]:
    """Measure the sections in the module docstring per listener of `security`; write `alerts.json` and
    `alerts.md` into out_dir."""
    rows: list[dict[str, Any]] = []
    with bench_broker(bootstrap, security) as broker:
        for repeat in range(repeats):  # listeners interleaved, so load drifts hit each of them alike
            for listener in security:
                rows.append({**bench_throughput(broker, listener, backlog=backlog, sources=sources,
                                                partitions=partitions, batch_max_rows=batch_max_rows,
                                                linger_ms=linger_ms), "repeat": repeat})
                print(f"  throughput {listener}: {rows[-1]['relay_alerts_per_s']:.0f} alerts/s", file=sys.stderr)
        for listener in security:
            for rate in rates_per_s:
                rows.append(bench_latency(broker, listener, rate_per_s=rate, duration_s=duration_s, sources=sources,
                                          partitions=partitions, batch_max_rows=batch_max_rows, linger_ms=linger_ms))
                print(f"  latency {listener} @ {rate:.0f}/s: p50 {rows[-1]['event_to_ack_p50_ms']:.1f} ms, "
                      f"p99 {rows[-1]['event_to_ack_p99_ms']:.1f} ms", file=sys.stderr)
    rows.append(bench_grid(grid_cells[0], grid_cells[1], grid_points))
    rows.append(bench_district_grid(grid_points))
    rows.append(bench_gcj02(1_000_000))
    write_report(out_dir, "alerts", environment(), rows, summarise(rows, bootstrap), _NOTES)
    return rows


def summarise(rows: Sequence[dict[str, Any]], bootstrap: str | None) -> dict[str, Any]:
    """The headline figures (medians over repeats); with several listeners, each one's throughput and relay
    CPU time as a ratio to PLAINTEXT's."""
    thr: dict[str, dict[str, float]] = {}
    for name in dict.fromkeys(r["listener"] for r in rows if r["section"] == "throughput"):
        mine = [r for r in rows if r["section"] == "throughput" and r["listener"] == name]
        thr[name] = {key: float(np.median([r[key] for r in mine]))
                     for key in ("relay_alerts_per_s", "relay_cpu_ms_per_1k_alerts")}
    first = next(iter(thr.values()))
    summary: dict[str, Any] = {"relay_alerts_per_s": round(first["relay_alerts_per_s"], 1)}
    if len(thr) > 1:
        summary |= {f"relay_alerts_per_s[{name}]": round(med["relay_alerts_per_s"], 1) for name, med in thr.items()}
    if len(thr) > 1 and "PLAINTEXT" in thr:
        base = thr["PLAINTEXT"]
        for name, med in thr.items():
            if name != "PLAINTEXT":
                ratio = med["relay_alerts_per_s"] / base["relay_alerts_per_s"]
                summary[f"throughput_vs_plaintext[{name}]"] = round(ratio, 2)
                summary[f"cpu_vs_plaintext[{name}]"] = round(
                    med["relay_cpu_ms_per_1k_alerts"] / base["relay_cpu_ms_per_1k_alerts"], 2)
    for r in rows:
        if r["section"] == "latency":
            key = f"@{r['target_rate_per_s']:.0f}/s" + ("" if len(thr) == 1 else f"[{r['listener']}]")
            summary[f"event_to_ack_p50_ms{key}"] = round(r["event_to_ack_p50_ms"], 1)
            summary[f"event_to_ack_p99_ms{key}"] = round(r["event_to_ack_p99_ms"], 1)
    grid = next(r for r in rows if r["section"] == "grid")
    summary["grid_lookups_per_s"] = round(grid["lookups_per_s"])
    summary["grid_single_lookups_per_s"] = round(grid["single_lookups_per_s"])
    district = next((r for r in rows if r["section"] == "grid" and r is not grid), None)
    if district is not None:
        summary["district_lookups_per_s"] = round(district["lookups_per_s"])
        summary["district_single_lookups_per_s"] = round(district["single_lookups_per_s"])
    summary["broker"] = "external " + bootstrap if bootstrap else "local single-node KRaft (kafka-dev.sh)"
    return summary


_NOTES = [
    "producer: acks=all, enable_idempotence, max_in_flight_requests_per_connection=1; the relay sends a "
    "window of outbox rows and marks them sent on the acknowledgements",
    "Event -> ack is measured from Event.trigger_captured_at (set when the event is handled) to the "
    "producer callback of the broker's ack; it includes the outbox commit (SQLite WAL, synchronous=FULL)",
    "listeners: PLAINTEXT; SASL_SSL = TLS 1.3 + SCRAM-SHA-512; MTLS = TLS 1.3 with a client certificate; "
    "relay_cpu_ms_per_1k_alerts is this process's CPU time (relay, producer, TLS) while draining",
    "the broker runs on the same machine as the benchmark, so CPU is shared with it",
    f"cpu count {os.cpu_count()}; results depend on disk fsync latency of the outbox directory",
]


def main(argv: Sequence[str] | None = None) -> int:
    doc = (__doc__ or "").splitlines()[0]
    parser = argparse.ArgumentParser(prog="python -m benchmarks.alerts_bench", description=doc)
    parser.add_argument("--out", default="out/bench", help="report directory (default out/bench)")
    parser.add_argument("--bootstrap", default=None, help="use this broker instead of starting one")
    parser.add_argument("--security", default="PLAINTEXT",
                        help="comma-separated listeners to measure: PLAINTEXT, SASL_SSL, MTLS, or all")
    parser.add_argument("--backlog", type=int, default=10_000, help="alerts in the throughput backlog")
    parser.add_argument("--repeats", type=int, default=1, help="throughput runs per listener (median reported)")
    parser.add_argument("--rates", default="20,100", help="comma-separated event rates for the latency runs")
    parser.add_argument("--duration", type=float, default=15.0, help="seconds per latency run")
    parser.add_argument("--batch-max-rows", type=int, default=500, help="relay window size")
    parser.add_argument("--linger-ms", type=int, default=5, help="producer linger")
    args = parser.parse_args(argv)
    rows = run(
        args.out,
        bootstrap=args.bootstrap,
        security=parse_security(args.security),
        repeats=args.repeats,
        backlog=args.backlog,
        rates_per_s=[float(r) for r in args.rates.split(",") if r.strip()],
        duration_s=args.duration,
        batch_max_rows=args.batch_max_rows,
        linger_ms=args.linger_ms,
    )
    for section in ("throughput", "latency", "grid", "gcj02"):
        part = [{k: v for k, v in r.items() if k != "section"} for r in rows if r["section"] == section]
        print(f"\n{section}\n" + markdown_table(part))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
