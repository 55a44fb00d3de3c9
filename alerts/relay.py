"""The relay: publishes outbox rows to Kafka and marks them sent only on the broker's acknowledgement.

Delivery guarantees and how they are kept:
- At least once: a row stays `pending` until its record is acknowledged with acks=all; anything not
  acknowledged (broker down past delivery_timeout_ms, process killed) is sent again from the outbox.
  Duplicates in the topic are therefore re-sends of the same `alert_id`, which consumers de-duplicate.
  Within one producer session Kafka's idempotent producer removes retry duplicates.
- Per-source order: the key is the source id, so a source's alerts share a partition; rows are sent in
  outbox order; `max_in_flight_requests_per_connection=1` plus idempotence keep batches in order
  through the producer's internal retries, and the relay sends in windows and waits for every
  acknowledgement of a window before the next. After a failed window the producer is discarded and
  sending restarts from the oldest unsent row. The one case that can reorder a source (a later record
  of the window acknowledged although an earlier one failed) is detected and counted in
  `RelayStats.order_risks` and logged.
- A broker outage only delays: while the producer retries (up to delivery_timeout_ms) the window waits;
  after that the relay backs off exponentially with jitter and retries from the outbox.
"""

from __future__ import annotations

import logging
import random
import socket
import threading
import time
from collections import Counter, deque
from collections.abc import Callable
from dataclasses import dataclass, field

from kafka.errors import KafkaError

from alerts.kafka_config import KafkaConfig
from alerts.kafka_producer import Producer, ProducerFactory, RecordFuture, kafka_producer
from alerts.outbox import Outbox
from alerts.outbox_rows import Ack, OutboxHealth, OutboxRow
from foundation.errors import PublishError

log = logging.getLogger(__name__)

_LATENCY_SAMPLES = 8192
_IDLE_PROBE_S = 10.0
_REFRESH_S = 5.0
_PRUNE_S = 300.0
_PROBE_MARGIN_S = 15.0  # a failed producer start also runs the connection probe


@dataclass
class LatencySamples:
    """Recent (frame capture -> broker ack, outbox write -> broker ack) latencies in seconds."""

    recent: deque[tuple[float, float]] = field(default_factory=lambda: deque(maxlen=_LATENCY_SAMPLES))
    new: deque[tuple[float, float]] = field(default_factory=lambda: deque(maxlen=_LATENCY_SAMPLES))
    new_by_source: deque[tuple[str, float]] = field(default_factory=lambda: deque(maxlen=_LATENCY_SAMPLES))

    def add(self, frame_to_ack_s: float, outbox_to_ack_s: float, source: str = "") -> None:
        self.recent.append((frame_to_ack_s, outbox_to_ack_s))
        self.new.append((frame_to_ack_s, outbox_to_ack_s))
        self.new_by_source.append((source, frame_to_ack_s))

    def take_new_by_source(self) -> list[tuple[str, float]]:
        """(source id, frame-to-ack seconds) since the last call: the per-camera SLO histogram's feed."""
        out = []
        while self.new_by_source:
            out.append(self.new_by_source.popleft())
        return out

    def take_new(self) -> list[tuple[float, float]]:
        """Samples since the last call (for a Prometheus histogram fed at scrape time)."""
        out = []
        while self.new:
            out.append(self.new.popleft())
        return out


@dataclass
class RelayStats:
    """Counters and gauges for the metrics registry (label: outcome)."""

    published: Counter[str] = field(default_factory=Counter)  # acked | failed | not_sent
    windows: int = 0
    failed_windows: int = 0
    producer_starts: int = 0
    producer_failures: int = 0
    order_risks: int = 0
    last_error: str = ""
    last_ack_at: float = 0.0
    latency: LatencySamples = field(default_factory=LatencySamples)


@dataclass(frozen=True)
class RelayHealth:
    """Red (`ok` False) when the outbox is above its high-water mark, the relay thread died, or unsent rows
    wait while no broker answered for unreachable_red_after_s."""

    ok: bool
    reachable: bool
    running: bool
    outbox: OutboxHealth
    reason: str


class KafkaRelay:
    """Outbox -> Kafka publisher thread. `start()`, `stop(deadline_s)`, `health()`, `stats`."""

    def __init__(
        self,
        outbox: Outbox,
        config: KafkaConfig,
        *,
        producer_factory: ProducerFactory = kafka_producer,
        monotonic: Callable[[], float] = time.monotonic,
        wall_clock: Callable[[], float] = time.time,
    ) -> None:
        self.outbox = outbox
        self.config = config
        self.stats = RelayStats()
        self._factory = producer_factory
        self._mono = monotonic
        self._wall = wall_clock
        self._producer: Producer | None = None
        self._thread: threading.Thread | None = None
        self._stop = threading.Event()
        self._stop_deadline = float("inf")
        self._reachable = False
        self._last_ok_mono = self._mono()
        self._last_contact_mono = self._mono()
        self._next_probe = 0.0
        self._acked_at: dict[int, float] = {}

    # -- lifecycle ----------------------------------------------------------------------------------

    def start(self) -> None:
        """Start publishing (unsent rows from earlier runs go first)."""
        if self._thread is not None:
            return
        self._stop.clear()
        self._stop_deadline = float("inf")
        self._thread = threading.Thread(target=self._run, name="alerts-relay", daemon=True)
        self._thread.start()

    def stop(self, deadline_s: float = 10.0) -> bool:
        """Keep publishing unsent rows until none are left or `deadline_s` passes, then close the producer.

        Returns True when every row was acknowledged; rows left are sent at the next start.
        """
        self._stop_deadline = self._mono() + deadline_s
        self._stop.set()
        self.outbox.wake()  # a relay waiting for rows notices the stop at once
        if self._thread is not None:
            self._thread.join(max(0.1, self._stop_deadline - self._mono() + 1.0))
            if self._thread.is_alive():
                log.error("kafka relay did not stop within %.1f s", deadline_s)
            self._thread = None
        self._close_producer(max(0.0, self._stop_deadline - self._mono()))
        return self.outbox.depth() == 0

    def reconfigure(self, config: KafkaConfig, deadline_s: float = 2.0) -> None:
        """Switch to new connection settings (fixed credentials, a rotated certificate, other brokers).

        The running thread publishes what it can until `deadline_s`, then stops; unsent rows stay in the
        outbox and go first with the new settings. Stats and metrics carry on (same relay object).
        Raises PublishError (and keeps the old settings stopped) if the old thread does not end.
        """
        thread = self._thread
        self.stop(deadline_s)
        if thread is not None and thread.is_alive():  # e.g. inside a producer start that is timing out
            thread.join(self.config.bootstrap_timeout_ms / 1000.0 + _PROBE_MARGIN_S)
            if thread.is_alive():
                raise PublishError("kafka relay: the old relay thread did not stop; restart to apply the new "
                                   "Kafka settings", retryable=True)
            self._close_producer(0.0)
        self.config = config
        self._reachable = False
        self._next_probe = 0.0
        if thread is not None:
            self.start()
        log.info("kafka relay: now publishing with the new settings to %s", ",".join(config.bootstrap_servers))

    def drain(self, timeout_s: float) -> bool:
        """Wait until the outbox has no unsent rows (the relay must be running). True if drained."""
        deadline = self._mono() + timeout_s
        while self._mono() < deadline:
            if self.outbox.depth() == 0:
                return True
            time.sleep(0.05)
        return self.outbox.depth() == 0

    # -- health -------------------------------------------------------------------------------------

    def reachable(self) -> bool:
        """The last publish succeeded (or, when idle, a bootstrap server accepts connections)."""
        return self._reachable

    def health(self) -> RelayHealth:
        ob = self.outbox.health()
        running = self._thread is not None and self._thread.is_alive()
        silent_s = self._mono() - self._last_contact_mono
        if not ob.ok:
            reason = ob.reason
        elif not running:
            reason = "relay thread is not running"
        elif ob.pending and not self._reachable and silent_s > self.config.unreachable_red_after_s:
            reason = f"kafka unreachable for {silent_s:.0f} s with {ob.pending} alerts waiting"
            if self.stats.last_error:
                reason += f" ({self.stats.last_error})"
        else:
            reason = "ok"
        return RelayHealth(reason == "ok", self._reachable, running, ob, reason)

    # -- the loop -----------------------------------------------------------------------------------

    def _run(self) -> None:
        backoff = self.config.retry_backoff_initial_s
        next_refresh = next_prune = 0.0
        while True:
            stopping = self._stop.is_set()
            if stopping and self._mono() >= self._stop_deadline:
                return
            try:
                now = self._mono()
                if now >= next_refresh:
                    self.outbox.refresh_counts()
                    next_refresh = now + _REFRESH_S
                if now >= next_prune:
                    self.outbox.prune(self._wall())
                    next_prune = now + _PRUNE_S
                rows = self.outbox.pending(self.config.batch_max_rows)
                if not rows:
                    if stopping:
                        return
                    self._idle_probe()
                    self.outbox.wait_for_rows(0.5)
                    continue
                if self._publish_window(rows):
                    backoff = self.config.retry_backoff_initial_s
                    continue
            except Exception:  # top of the worker loop: log with traceback, back off, keep going
                self.stats.failed_windows += 1
                log.exception("kafka relay: unexpected error; retrying")
                self._close_producer(0.0)
            if stopping:
                return  # a failed window during shutdown: the rows stay for the next start
            wait = backoff * random.uniform(0.8, 1.2)
            backoff = min(backoff * 2.0, self.config.retry_backoff_max_s)
            self._stop.wait(wait)

    def _ensure_producer(self) -> Producer:
        if self._producer is None:
            try:
                self._producer = self._factory(self.config)
            except PublishError as exc:
                self.stats.producer_failures += 1
                self._record_error(str(exc))
                raise
            self.stats.producer_starts += 1
            self._last_contact_mono = self._mono()
        return self._producer

    def _close_producer(self, timeout_s: float) -> None:
        producer, self._producer = self._producer, None
        if producer is None:
            return
        try:
            producer.close(timeout=timeout_s)
        except Exception:  # closing a broken producer must not stop the relay; log it with its traceback
            log.exception("kafka relay: closing the producer failed")

    def _publish_window(self, rows: list[OutboxRow]) -> bool:
        """Send rows in order, wait for every ack, mark the acknowledged ones. True if all were acked."""
        try:
            producer = self._ensure_producer()
        except PublishError:
            self._reachable = False
            return False
        self.stats.windows += 1
        self._acked_at = {}
        sent, send_error = self._send_rows(producer, rows)
        self._wait(producer, [f for _, f in sent])
        now = self._wall()
        acks: list[Ack] = []
        failed: list[OutboxRow] = []
        failed_sources: set[str] = set()
        error = send_error
        for row, fut in sent:
            if fut.is_done and fut.succeeded():
                md = fut.value
                acked_at = self._acked_at.get(row.seq, now)
                acks.append(Ack(row.seq, int(md.partition), int(md.offset), acked_at))
                self.stats.latency.add(
                    acked_at - row.trigger_captured_at, acked_at - row.created_at, row.source
                )
                if row.source in failed_sources:
                    self.stats.order_risks += 1
                    log.warning(
                        "camera %s: alert %s acknowledged after an earlier alert of the camera failed; "
                        "the earlier one is re-sent after it",
                        row.source,
                        row.alert_id,
                    )
            else:
                failed.append(row)
                failed_sources.add(row.source)
                if error is None:
                    err = fut.exception if fut.is_done else None
                    error = f"{type(err).__name__}: {err}" if err else "not acknowledged before the deadline"
        self.outbox.mark_sent(acks)
        self.stats.published["acked"] += len(acks)
        if acks:
            self.stats.last_ack_at = acks[-1].acked_at
            self._last_ok_mono = self._last_contact_mono = self._mono()
            self._reachable = True
        not_sent = len(rows) - len(sent)
        if not failed and not not_sent:
            return True
        self.stats.published["failed"] += len(failed)
        self.stats.published["not_sent"] += not_sent
        self.stats.failed_windows += 1
        self.outbox.mark_failed([r.seq for r in failed], error or "unknown")
        self._record_error(error or "unknown")
        self._reachable = False
        # A producer whose records expired may hold stale sequence state: start a fresh one.
        self._close_producer(0.0)
        return False

    def _send_rows(
        self, producer: Producer, rows: list[OutboxRow]
    ) -> tuple[list[tuple[OutboxRow, RecordFuture]], str | None]:
        """Hand rows to the producer in order until one send fails; the sent rows and that failure."""
        sent: list[tuple[OutboxRow, RecordFuture]] = []
        for row in rows:
            try:
                fut = producer.send(
                    self.config.topic,
                    value=row.payload,
                    key=row.source.encode("utf-8"),
                    headers=[("alert_id", row.alert_id.encode("ascii"))],
                )
            except (KafkaError, OSError) as exc:
                return sent, f"send failed: {type(exc).__name__}: {exc}"
            fut.add_callback(self._on_ack, row.seq)
            sent.append((row, fut))
        return sent, None

    def _on_ack(self, seq: int, _metadata: object) -> None:
        self._acked_at[seq] = self._wall()

    def _wait(self, producer: Producer, futures: list[RecordFuture]) -> None:
        """Wait for every future, at most delivery timeout + margin, or the stop deadline when stopping."""
        limit = self._mono() + self.config.delivery_timeout_ms / 1000.0 + 5.0
        while not all(f.is_done for f in futures):
            now = self._mono()
            if now >= limit or (self._stop.is_set() and now >= self._stop_deadline):
                return
            try:
                producer.flush(timeout=0.5)
            except KafkaError:  # timeout of this slice, or a failed batch: the futures tell which
                continue

    def _idle_probe(self) -> None:
        """While idle, check every few seconds that a bootstrap server accepts TCP connections."""
        now = self._mono()
        if now < self._next_probe or (self._reachable and now - self._last_ok_mono < _IDLE_PROBE_S):
            return  # an acknowledgement within the probe interval says more than a TCP connect
        self._next_probe = now + _IDLE_PROBE_S
        for server in self.config.bootstrap_servers:
            host, _, port = server.rpartition(":") if ":" in server else (server, "", "9092")
            try:
                with socket.create_connection((host, int(port)), timeout=1.0):
                    self._reachable = True
                    self._last_contact_mono = now
                    return
            except OSError:
                continue
        self._reachable = False

    def _record_error(self, message: str) -> None:
        self.stats.last_error = message[:500]
        log.warning("kafka relay: %s", self.stats.last_error)
