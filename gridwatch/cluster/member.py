"""The node's membership in the consumer group on the bucket topic, in one thread.

The thread polls the consumer (kafka-python runs the group protocol on its own IO thread, where the
rebalance callbacks also run), watches the membership lease, and rebuilds the consumer when the lease
runs out or the client fails. Callbacks translate Kafka's vocabulary into the node's: buckets gained
(start their cameras; returns at once) and buckets given up or lost (stop their cameras; waits up to
`revoke_wait_s`, because under cooperative rebalancing the next round may give them to another node as
soon as this callback returns). That wait blocks this client's heartbeats, which is why the config keeps
it under half the session timeout.
"""

from __future__ import annotations

import logging
import math
import threading
import time
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from kafka import KafkaConsumer
from kafka.consumer.subscription_state import ConsumerRebalanceListener
from kafka.errors import KafkaError

from alerts.kafka_config import KafkaConfig
from alerts.kafka_probe import connection_error
from foundation.errors import PublishError
from gridwatch.cluster.assignor import Advert, CapacityAssignor
from gridwatch.cluster.config import ClusterConfig
from gridwatch.cluster.kafka_io import group_consumer_settings
from gridwatch.cluster.lease import STABLE, Lease
from gridwatch.cluster.placement import Placement

log = logging.getLogger(__name__)

_HEARTBEAT_METRIC = ("consumer-coordinator-metrics", "last-heartbeat-seconds-ago")


class BucketHandler(Protocol):
    """What the node does when its buckets change (called on kafka-python's IO thread)."""

    def buckets_gained(self, buckets: frozenset[int]) -> None: ...

    def buckets_released(self, buckets: frozenset[int], wait_s: float) -> None: ...


@dataclass(frozen=True)
class MemberSnapshot:
    """The membership as /status shows it."""

    member_id: str
    generation: int
    state: str
    buckets: tuple[int, ...]
    bucket_count: int
    lease_remaining_s: float | None
    fenced_count: int
    leader_placement: Placement | None


class GroupMember:
    """Joins the group, keeps the lease, reports bucket changes to `handler`."""

    def __init__(self, cluster: ClusterConfig, kafka: KafkaConfig, advert: Advert, handler: BucketHandler,
                 loads: Callable[[int], Mapping[int, int]],
                 consumer_factory: Callable[..., Any] = KafkaConsumer) -> None:
        self.cluster = cluster
        self.kafka = kafka
        self.advert = advert
        self.handler = handler
        self.loads = loads
        self.consumer_factory = consumer_factory
        self.rebalances: Counter[str] = Counter()
        self.lease = Lease(cluster.session_timeout_s, cluster.heartbeat_interval_s, cluster.rebalance_timeout_s)
        self._held: frozenset[int] = frozenset()
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._rejoin = threading.Event()
        self._thread = threading.Thread(target=self._run, name="gw-cluster-member", daemon=True)
        self._consumer: Any = None
        self._bucket_count = 0
        self._group_state: tuple[str, int, str] = ("", -1, "<unjoined>")
        self._placement: Placement | None = None
        self._last_error_log = 0.0
        self.joined = threading.Event()
        """Set once this node has completed a first join (readiness)."""

    # -- views -------------------------------------------------------------------------------------

    @property
    def held(self) -> frozenset[int]:
        with self._lock:
            return self._held

    @property
    def bucket_count(self) -> int:
        return self._bucket_count

    def snapshot(self) -> MemberSnapshot:
        member_id, generation, state = self._group_state
        return MemberSnapshot(member_id, generation, state, tuple(sorted(self.held)), self._bucket_count,
                              self.lease.remaining_s(time.monotonic()), self.rebalances["fenced"], self._placement)

    # -- lifecycle ---------------------------------------------------------------------------------

    def start(self) -> None:
        self._thread.start()

    def stop(self, timeout_s: float) -> None:
        """Leave the group (the remaining buckets are released first) and end the thread."""
        self._stop.set()
        if self._thread.ident is None:
            return
        self._thread.join(timeout_s)
        if self._thread.is_alive():
            log.warning("cluster: the group member did not stop within %.1f s", timeout_s)

    def request_rejoin(self, why: str) -> None:
        """Ask for a rebalance (kafka-python has no public enforce-rebalance); the thread acts on it."""
        log.info("cluster: asking the group to rebalance: %s", why)
        self._rejoin.set()

    # -- callbacks (kafka-python IO thread) --------------------------------------------------------

    def _gained(self, buckets: frozenset[int]) -> None:
        self.lease.renew(time.monotonic())
        self.joined.set()
        if not buckets:
            return
        with self._lock:
            self._held = self._held | buckets
        self.rebalances["assigned"] += 1
        log.info("cluster: buckets assigned to this node: %s (now %d)", _fmt(buckets), len(self._held))
        self.handler.buckets_gained(buckets)

    def _released(self, buckets: frozenset[int], outcome: str) -> None:
        if outcome == "revoked":
            self.lease.renew(time.monotonic())
        with self._lock:
            mine = buckets & self._held
            self._held = self._held - buckets
        if not mine:
            return
        self.rebalances[outcome] += 1
        log.info("cluster: buckets %s from this node: %s (now %d)", outcome, _fmt(mine), len(self._held))
        self.handler.buckets_released(mine, self.cluster.revoke_wait_s)

    def _placed(self, placement: Placement) -> None:
        self._placement = placement

    # -- the thread --------------------------------------------------------------------------------

    def _run(self) -> None:
        backoff = 1.0
        while not self._stop.is_set():
            try:
                self._consumer = self._connect()
                backoff = 1.0
                self._member_loop(self._consumer)
            except PublishError as exc:  # cannot connect: the probe named the listener and the cause
                if self._should_log():
                    log.error("%s; retrying in %.0f s", exc, backoff)
                self._stop.wait(backoff)
                backoff = min(backoff * 2, 30.0)
            except Exception:  # the member thread must survive any client failure and rejoin
                if self._should_log():
                    log.error("cluster: group member failed; rejoining", exc_info=True)
                self._stop.wait(backoff)
                backoff = min(backoff * 2, 30.0)
            finally:
                self._close()

    def _connect(self) -> Any:
        assignor = CapacityAssignor(self.cluster.assignment_topic, self.advert, lambda: self.held, self.loads,
                                    self._placed)
        settings = group_consumer_settings(self.cluster, self.kafka, self.advert.node_id, assignor)
        try:
            consumer = self.consumer_factory(**settings)
        except KafkaError as exc:
            raise connection_error(self.kafka, "cluster: joining the group", exc) from exc
        consumer.subscribe([self.cluster.assignment_topic], listener=_Listener(self))
        self.lease.reset()
        return consumer

    def _member_loop(self, consumer: Any) -> None:
        next_topic_check = 0.0
        while not self._stop.is_set():
            now = time.monotonic()
            if now >= next_topic_check:
                self._bucket_count = self._topic_partitions(consumer)
                next_topic_check = now + 10.0
            try:
                consumer.poll(timeout_ms=300)
            except KafkaError as exc:
                self._log_error(f"cluster: group poll failed: {exc}")
            self._observe(consumer)
            if self.held and self.lease.expired(time.monotonic()):
                self._fence()
                return
            if self._rejoin.is_set():
                self._rejoin.clear()
                _request_rejoin(consumer)

    def _topic_partitions(self, consumer: Any) -> int:
        partitions = consumer.partitions_for_topic(self.cluster.assignment_topic)
        if not partitions:
            self._log_error(f"cluster: assignment topic {self.cluster.assignment_topic} does not exist "
                            "(create it with deploy/kafka/cluster-topics.sh); no buckets until it does")
            return 0
        return len(partitions)

    def _observe(self, consumer: Any) -> None:
        meta = consumer.group_metadata()
        self._group_state = (str(meta.member_id), int(meta.generation_id), str(meta.state))
        if meta.state == STABLE:
            self.joined.set()
        metrics = consumer.metrics() or {}
        age = metrics.get(_HEARTBEAT_METRIC[0], {}).get(_HEARTBEAT_METRIC[1])
        age_s = float(age) if isinstance(age, (int, float)) and math.isfinite(age) else None
        self.lease.observe(time.monotonic(), str(meta.state), age_s)

    def _fence(self) -> None:
        """The broker may already have given this node's buckets away: stop their cameras now, then rejoin
        as a new member (the consumer is rebuilt)."""
        buckets = self.held
        log.warning("cluster: no confirmed group membership for %.1f s (session timeout %.1f s); stopping the "
                    "cameras of %d bucket(s) and rejoining", self.lease.length_s, self.cluster.session_timeout_s,
                    len(buckets))
        self._released(buckets, "fenced")

    def _close(self) -> None:
        consumer, self._consumer = self._consumer, None
        if consumer is None:
            return
        try:
            consumer.close(timeout_ms=round(self.cluster.revoke_wait_s * 1000) + 2000)
        except Exception:  # closing a broken client must not stop the rejoin
            log.warning("cluster: closing the group consumer failed", exc_info=True)
        with self._lock:
            leftover = self._held
            self._held = frozenset()
        if leftover:  # the close did not report them (membership already gone): stop their cameras anyway
            self.rebalances["lost"] += 1
            self.handler.buckets_released(leftover, self.cluster.revoke_wait_s)
        self._group_state = ("", -1, "<unjoined>")

    def _should_log(self) -> bool:
        """Rate limit for repeated failures (one line per 10 s while a broker is away)."""
        now = time.monotonic()
        if now - self._last_error_log >= 10.0:
            self._last_error_log = now
            return True
        return False

    def _log_error(self, message: str) -> None:
        if self._should_log():
            log.error(message)


class _Listener(ConsumerRebalanceListener):  # type: ignore[misc]  # kafka-python is untyped
    """kafka-python's rebalance callbacks, forwarded to the member (sets of TopicPartition)."""

    def __init__(self, member: GroupMember) -> None:
        self.member = member

    def on_partitions_assigned(self, assigned: Any) -> None:
        self.member._gained(_buckets(assigned, self.member.cluster.assignment_topic))

    def on_partitions_revoked(self, revoked: Any) -> None:
        self.member._released(_buckets(revoked, self.member.cluster.assignment_topic), "revoked")

    def on_partitions_lost(self, lost: Any) -> None:
        self.member._released(_buckets(lost, self.member.cluster.assignment_topic), "lost")


def _buckets(partitions: Any, topic: str) -> frozenset[int]:
    return frozenset(int(tp.partition) for tp in partitions or () if tp.topic == topic)


def _request_rejoin(consumer: Any) -> None:
    """Trigger a rebalance. kafka-python 3.x has no public equivalent of Java's `enforceRebalance()`; its
    coordinator's `request_rejoin()` is what its own cooperative protocol calls between rounds. A test
    (tests/cluster/test_member_kafka.py) fails if a kafka-python upgrade removes it."""
    coordinator = getattr(consumer, "_coordinator", None)
    request = getattr(coordinator, "request_rejoin", None)
    if request is None:
        log.error("cluster: this kafka-python has no coordinator.request_rejoin(); rebalance not requested")
        return
    request()


def _fmt(buckets: frozenset[int]) -> str:
    return ",".join(str(b) for b in sorted(buckets))
