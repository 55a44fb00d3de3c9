"""The group member against the real broker, in this process: buckets split between two members, a
requested rebalance happens (kafka-python has no public API for it, so this guards the one we use), and a
member whose lease runs out stops its buckets' cameras, rebuilds its client and rejoins."""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Callable, Iterator

import pytest

from alerts.kafka_config import KafkaConfig
from gridwatch.cluster.assignor import Advert
from gridwatch.cluster.config import ClusterConfig
from gridwatch.cluster.member import GroupMember
from tests.infra.kafka import KafkaBroker

pytestmark = pytest.mark.integration


class Recorder:
    """A BucketHandler that records what it is told."""

    def __init__(self) -> None:
        self.events: list[tuple[str, frozenset[int]]] = []
        self.lock = threading.Lock()

    def buckets_gained(self, buckets: frozenset[int]) -> None:
        with self.lock:
            self.events.append(("gained", buckets))

    def buckets_released(self, buckets: frozenset[int], wait_s: float) -> None:
        with self.lock:
            self.events.append(("released", buckets))


def until(what: str, timeout_s: float, probe: Callable[[], bool]) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if probe():
            return
        time.sleep(0.2)
    raise AssertionError(f"timed out after {timeout_s} s waiting for {what}")


@pytest.fixture
def members(kafka_broker: KafkaBroker) -> Iterator[tuple[GroupMember, Recorder, GroupMember, Recorder]]:
    topic = kafka_broker.new_topic("gw-buckets", partitions=4)
    cluster = ClusterConfig(group_id=f"gw-member-{uuid.uuid4().hex[:8]}", assignment_topic=topic,
                            session_timeout_s=6, heartbeat_interval_s=1, revoke_wait_s=1)
    kafka = KafkaConfig(bootstrap_servers=[kafka_broker.bootstrap])
    made = []
    for name in ("a", "b"):
        recorder = Recorder()
        member = GroupMember(cluster, kafka, Advert(f"node-{name}", 100, 1), recorder,
                             lambda n: dict.fromkeys(range(n), 0))
        made.append((member, recorder))
    for member, _ in made:
        member.start()
    try:
        yield made[0][0], made[0][1], made[1][0], made[1][1]
    finally:
        for member, _ in made:
            member.stop(15)


def test_members_split_the_buckets_rebalance_on_request_and_rejoin_after_fencing(
        members: tuple[GroupMember, Recorder, GroupMember, Recorder]) -> None:
    a, rec_a, b, rec_b = members
    until("both members to hold two buckets", 30, lambda: len(a.held) == 2 and len(b.held) == 2)
    assert not (a.held & b.held)
    assert a.joined.is_set() and b.joined.is_set() and a.bucket_count == 4

    time.sleep(4.0)  # no rebalance meanwhile: only observed heartbeats can renew the lease
    remaining = a.lease.remaining_s(time.monotonic())
    assert remaining is not None and remaining > 5.0 - 2.5, "heartbeats (group state + metric) renew the lease"
    assert a.snapshot().state == "<stable>"

    generation = a.snapshot().generation
    a.request_rejoin("test")
    until("a new generation", 20, lambda: a.snapshot().generation > generation and a.snapshot().state == "<stable>")
    assert len(a.held) == 2 and not (a.held & b.held), "a requested rebalance moves nothing"

    held = a.held
    silenced = time.monotonic()
    a._observe = lambda consumer: None  # type: ignore[method-assign]  # the client reports nothing fresh
    until("the fenced member to release its buckets", 15,
          lambda: ("released", held) in rec_a.events and a.rebalances["fenced"] == 1)
    assert time.monotonic() - silenced <= 6 + 1.5, "fenced within the session timeout"
    del a._observe
    until("the group to settle again", 30,
          lambda: len(a.held) + len(b.held) == 4 and not (a.held & b.held) and a.snapshot().state == "<stable>")
    assert a.snapshot().member_id, "rejoined as a member"
    assert any(kind == "gained" for kind, _ in rec_b.events)
