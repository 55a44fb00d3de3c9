"""The Prometheus registry: one collector that reads every package's plain stats at scrape time.

Packages keep counters in small dataclasses and never import prometheus_client; this module turns them
into metric families named in `gridwatch.metric_names`. Samples that arrive as events (frame-to-ack
latencies, stage times) are folded into cumulative histograms here, at scrape time. Cameras that stop
(hot reload, cluster rebalance) disappear from the next scrape, so label sets stay bounded by the
cameras this node runs.
"""

from __future__ import annotations

import threading
import time
from collections import Counter, defaultdict
from collections.abc import Iterable, Iterator, Sequence
from typing import TYPE_CHECKING

from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, HistogramMetricFamily, Metric
from prometheus_client.process_collector import ProcessCollector
from prometheus_client.registry import Collector

from foundation.histogram import Histogram
from gridwatch.metric_names import (
    CAMERA_STATES,
    FAST_BUCKETS_S,
    LATENCY_BUCKETS_S,
    METRICS,
    MetricSpec,
)

if TYPE_CHECKING:
    from gridwatch.ops_view import OperationsView as Operations

SPECS: dict[str, MetricSpec] = {m.name: m for m in METRICS}


def _fmt(bound: float) -> str:
    return str(int(bound)) if float(bound).is_integer() and bound >= 1 else repr(float(bound))


def _spec(name: str, kind: str) -> MetricSpec:
    spec = SPECS[name]
    if spec.type != kind:
        raise ValueError(f"metric {name} is declared a {spec.type}, used as a {kind}")
    return spec


def _counter(name: str) -> CounterMetricFamily:
    spec = _spec(name, "counter")
    return CounterMetricFamily(name.removesuffix("_total"), spec.help, labels=list(spec.labels))


def _gauge(name: str) -> GaugeMetricFamily:
    spec = _spec(name, "gauge")
    return GaugeMetricFamily(name, spec.help, labels=list(spec.labels))


def _histogram(name: str) -> HistogramMetricFamily:
    spec = _spec(name, "histogram")
    return HistogramMetricFamily(name, spec.help, labels=list(spec.labels))


def _hist(family: HistogramMetricFamily, labels: Sequence[str], hist: Histogram) -> None:
    """Add one histogram series; `Histogram.cumulative()` ends with the total (the +Inf bucket)."""
    cumulative = hist.cumulative()
    buckets = [(_fmt(b), float(c)) for b, c in zip(hist.bounds, cumulative, strict=False)]
    buckets.append(("+Inf", float(cumulative[-1])))
    family.add_metric(list(labels), buckets, hist.sum)


class GridwatchCollector(Collector):
    """Reads the running service (through `Operations`) on every scrape."""

    def __init__(self, ops: Operations) -> None:
        self.ops = ops
        self._lock = threading.Lock()
        self.frame_to_ack: dict[str, Histogram] = {}
        self.stage: dict[str, Histogram] = {}
        self.frame_to_event = Histogram(LATENCY_BUCKETS_S)

    def _fold_samples(self) -> None:
        service = self.ops.service
        if service.alerts is not None and service.alerts.relay is not None:
            for source, seconds in service.alerts.relay.stats.latency.take_new_by_source():
                self.frame_to_ack.setdefault(source, Histogram(LATENCY_BUCKETS_S)).observe(seconds)
        for rt in list(service.cameras.values()):
            while rt.runner.frame_to_event_s:
                self.frame_to_event.observe(rt.runner.frame_to_event_s.popleft())
            inference, detector = rt.runner.analysis.times.drain()
            change = rt.runner.analysis.times.drain_change()
            for stage, samples in (("inference_wait", inference), ("detector", detector), ("change", change)):
                hist = self.stage.setdefault(stage, Histogram(FAST_BUCKETS_S))
                for s in samples:
                    hist.observe(s)
        live = set(service.cameras)
        for source in list(self.frame_to_ack):
            if source not in live:
                del self.frame_to_ack[source]

    def collect(self) -> Iterable[Metric]:
        with self._lock:
            self._fold_samples()
            return list(self._families())

    def _families(self) -> Iterator[Metric]:
        yield from self._camera_families()
        yield from self._model_families()
        yield from self._gate_families()
        yield from self._detector_families()
        yield from self._alert_families()
        yield from self._ops_families()

    def _camera_families(self) -> Iterator[Metric]:
        service = self.ops.service
        stats = service.camera_stats()
        now = time.time()
        up, state = _gauge("gridwatch_camera_up"), _gauge("gridwatch_camera_state")
        decoded = _counter("gridwatch_camera_frames_decoded_total")
        analysed = _counter("gridwatch_camera_frames_analysed_total")
        dropped = _counter("gridwatch_camera_frames_dropped_total")
        reconnects = _counter("gridwatch_camera_reconnects_total")
        stall = _counter("gridwatch_camera_stall_seconds_total")
        age = _gauge("gridwatch_camera_last_frame_age_seconds")
        batcher_drops: dict[str, Counter[str]] = defaultdict(Counter)
        for batcher in service.batchers.values():
            for (cam, reason), n in batcher.stats().dropped.items():
                batcher_drops[cam][f"model_{reason}"] += n
        for cid, rt in sorted(service.cameras.items()):
            snap = stats.get(cid)
            current = snap.state.value if snap is not None else "connecting"
            up.add_metric([cid], 1.0 if current == "streaming" else 0.0)
            for st in CAMERA_STATES:
                state.add_metric([cid, st], 1.0 if st == current else 0.0)
            analysed.add_metric([cid], float(rt.runner.analysis.frames_analysed))
            drops: Counter[str] = Counter()
            if snap is not None:
                decoded.add_metric([cid], float(snap.frames_decoded))
                reconnects.add_metric([cid], float(snap.reconnects))
                drops.update(snap.drops)
                for kind, seconds in snap.stall_s.items():
                    stall.add_metric([cid, kind], float(seconds))
                frame_age = snap.last_frame_age_s(now)
                if frame_age is not None:
                    age.add_metric([cid], frame_age)
            queue_stats = rt.queue.stats()
            drops["analysis_lag"] += queue_stats.dropped.get("queue_full", 0)
            drops.update(batcher_drops.get(cid, Counter()))
            for reason, n in sorted(drops.items()):
                dropped.add_metric([cid, reason], float(n))
        yield from (up, state, decoded, analysed, dropped, reconnects, stall, age)

    def _model_families(self) -> Iterator[Metric]:
        service = self.ops.service
        ready = _gauge("gridwatch_model_ready")
        batch = _histogram("gridwatch_model_batch_size")
        infer = _histogram("gridwatch_model_inference_seconds")
        delay = _histogram("gridwatch_model_queue_delay_seconds")
        dropped = _counter("gridwatch_model_frames_dropped_total")
        for name, model in sorted(service.models.items()):
            ready.add_metric([name], 1.0 if model.ready else 0.0)
            batcher = service.batchers.get(name)
            if batcher is None:
                continue
            st = batcher.stats()
            for fam, h in ((batch, st.batch_size), (infer, st.inference_s), (delay, st.queue_delay_s)):
                _hist(fam, [name], h)
            for reason, n in sorted(st.dropped_by_reason().items()):
                dropped.add_metric([name, reason], float(n))
        stage = _histogram("gridwatch_stage_seconds")
        for name, hist in sorted(self.stage.items()):
            _hist(stage, [name], hist)
        yield from (ready, batch, infer, delay, dropped, stage)

    def _gate_families(self) -> Iterator[Metric]:
        frames = _counter("gridwatch_gate_frames_total")
        regions = _counter("gridwatch_gate_regions_total")
        deferred = _counter("gridwatch_gate_rechecks_deferred_total")
        reused = _counter("gridwatch_gate_regions_reused_total")
        rested = _counter("gridwatch_gate_cues_rested_total")
        held = _counter("gridwatch_gate_incidents_held_total")
        relooked = _counter("gridwatch_gate_incident_looks_total")
        spent = _counter("gridwatch_gate_input_pixels_total")
        ungated = _counter("gridwatch_gate_ungated_input_pixels_total")
        for cid, rt in sorted(self.ops.service.cameras.items()):
            for model, st in sorted(rt.runner.analysis.gate_stats().items()):
                for (path, reason), n in sorted(st.frames.items()):
                    frames.add_metric([cid, model, path, reason], float(n))
                regions.add_metric([cid, model], float(st.regions))
                deferred.add_metric([cid, model], float(st.deferred))
                reused.add_metric([cid, model], float(st.reused))
                rested.add_metric([cid, model], float(st.cues_rested))
                held.add_metric([cid, model], float(st.incidents_held))
                relooked.add_metric([cid, model], float(st.incident_looks))
                spent.add_metric([cid, model], float(st.input_px))
                ungated.add_metric([cid, model], float(st.full_frame_input_px))
        yield from (frames, regions, deferred, reused, rested, held, relooked, spent, ungated)

    def _detector_families(self) -> Iterator[Metric]:
        service = self.ops.service
        cands = _counter("gridwatch_detector_candidates_total")
        confs = _counter("gridwatch_detector_confirmations_total")
        events = _counter("gridwatch_detector_events_total")
        rejected = _counter("gridwatch_detector_rejected_total")
        ev: Counter[tuple[str, str, str]] = Counter()
        rej: Counter[tuple[str, str]] = Counter()
        for cid, rt in sorted(service.cameras.items()):
            for det in rt.detectors:
                cands.add_metric([det.name, cid], float(det.stats.candidates))
                confs.add_metric([det.name, cid], float(det.stats.confirmations))
                for reason, n in det.stats.rejected.items():
                    rej[(det.name, reason)] += n
            for (kind, phase), n in rt.runner.events.items():
                ev[(_detector_of(kind), kind, phase)] += n
        for ev_key, n in sorted(ev.items()):
            events.add_metric(list(ev_key), float(n))
        for rej_key, n in sorted(rej.items()):
            rejected.add_metric(list(rej_key), float(n))
        yield from (cands, confs, events, rejected)

    def _alert_families(self) -> Iterator[Metric]:
        service = self.ops.service
        alerts_total = _counter("gridwatch_alerts_total")
        depth, capacity = _gauge("gridwatch_outbox_depth"), _gauge("gridwatch_outbox_capacity")
        high, broker_up = _gauge("gridwatch_outbox_high_water"), _gauge("gridwatch_broker_up")
        publish = _counter("gridwatch_publish_total")
        f2a = _histogram("gridwatch_frame_to_ack_seconds")
        f2e = _histogram("gridwatch_frame_to_event_seconds")
        _hist(f2e, [], self.frame_to_event)
        runtime = service.alerts
        if runtime is not None:
            ps = runtime.pipeline.stats
            outcomes: Counter[tuple[str, str]] = Counter()
            for (kind, _phase), n in ps.alerts.items():
                outcomes[(kind, "written")] += n
            for reason, n in ps.suppressed.items():
                outcomes[("all", reason)] += n
            for reason, n in ps.refused.items():
                outcomes[("all", reason)] += n
            for key, n in sorted(outcomes.items()):
                alerts_total.add_metric(list(key), float(n))
            ob = runtime.outbox.stats()
            depth.add_metric([], float(ob.pending))
            capacity.add_metric([], float(ob.max_rows))
            high.add_metric([], 1.0 if ob.over_high_water else 0.0)
            relay = runtime.relay
            if relay is not None:
                published = Counter({"ok": 0, "failed": 0, "not_sent": 0})
                for outcome, n in relay.stats.published.items():
                    published["ok" if outcome == "acked" else outcome] += n
                for outcome, n in sorted(published.items()):
                    publish.add_metric([outcome], float(n))
                broker_up.add_metric([], 1.0 if relay.reachable() else 0.0)
        for source, hist in sorted(self.frame_to_ack.items()):
            _hist(f2a, [source], hist)
        yield from (alerts_total, depth, capacity, high, publish, broker_up, f2a, f2e)

    def _ops_families(self) -> Iterator[Metric]:
        reloads, rebalances = _counter("gridwatch_config_reloads_total"), _counter("gridwatch_cluster_rebalances_total")
        info, configured = _gauge("gridwatch_config_info"), _gauge("gridwatch_cameras_configured")
        buckets = _gauge("gridwatch_cluster_buckets_assigned")
        member, not_started = _gauge("gridwatch_cluster_member"), _gauge("gridwatch_cluster_cameras_not_started")
        registry_ok, registry_bad = (_gauge("gridwatch_cluster_registry_cameras"),
                                     _gauge("gridwatch_cluster_registry_rejected"))
        for outcome in ("ok", "failed"):
            reloads.add_metric([outcome], float(self.ops.reloads[outcome]))
        info.add_metric([self.ops.service.loaded.version], 1.0)
        configured.add_metric([], float(len(self.ops.service.cameras)))
        cluster = self.ops.cluster
        if cluster is not None:
            buckets.add_metric([], float(len(cluster.buckets)))
            for outcome, n in sorted(cluster.rebalances.items()):
                rebalances.add_metric([outcome], float(n))
            member.add_metric([], 1.0 if cluster.member_ok else 0.0)
            valid, rejected = cluster.registry_counts
            registry_ok.add_metric([], float(valid))
            registry_bad.add_metric([], float(rejected))
            for reason in ("capacity", "failed"):
                not_started.add_metric([reason], float(cluster.not_started[reason]))
        yield from (reloads, info, configured, buckets, rebalances, member, registry_ok, registry_bad, not_started)


def _detector_of(kind: str) -> str:
    return "fire" if kind in ("fire", "smoke") else kind


def build_registry(ops: Operations) -> CollectorRegistry:
    """A registry with gridwatch's collector and the standard process metrics (CPU, memory, fds)."""
    registry = CollectorRegistry(auto_describe=False)
    registry.register(GridwatchCollector(ops))
    ProcessCollector(registry=registry)
    return registry


def render(registry: CollectorRegistry) -> bytes:
    """The text exposition format of everything in `registry`."""
    return generate_latest(registry)
