"""The assignor inside kafka-python's protocol types: subscriptions and assignments survive the wire."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

from kafka.coordinator.assignors.abstract import RebalanceProtocol
from kafka.protocol.consumer.metadata import ConsumerProtocolAssignment, ConsumerProtocolSubscription

from gridwatch.cluster.assignor import Advert, CapacityAssignor
from gridwatch.cluster.placement import Placement

TOPIC = "gw.buckets"


class Cluster:
    def partitions_for_topic(self, topic: str) -> set[int] | None:
        return set(range(8)) if topic == TOPIC else None


def assignor(node: str, held: frozenset[int], placements: list[Placement], max_cameras: int = 100) -> CapacityAssignor:
    return CapacityAssignor(TOPIC, Advert(node, max_cameras, 1), lambda: held,
                            lambda n: dict.fromkeys(range(n), 1), placements.append)


def wire(subscription: Any) -> Any:
    return ConsumerProtocolSubscription.decode(subscription.encode())


def test_it_is_cooperative_and_adverts_survive_garbage() -> None:
    a = assignor("a", frozenset(), [])
    assert a.supported_protocols() == [RebalanceProtocol.COOPERATIVE]
    assert Advert.decode(b"not json", "m-1") == Advert("m-1", 0, 1), "an unknown member gets no camera"
    assert Advert.decode(Advert("n", 5, 2).encode(), "m") == Advert("n", 5, 2)


def test_subscription_carries_advert_and_owned_buckets_over_the_wire() -> None:
    sub = wire(assignor("node-a", frozenset({3, 1}), []).metadata({TOPIC}))
    assert list(sub.topics) == [TOPIC]
    assert Advert.decode(sub.user_data, "x") == Advert("node-a", 100, 1)
    assert [(tp.topic, list(tp.partitions)) for tp in sub.owned_partitions] == [(TOPIC, [1, 3])]


def test_leader_assignment_withholds_moving_buckets_and_encodes() -> None:
    placements: list[Placement] = []
    old = wire(assignor("node-a", frozenset(range(8)), []).metadata({TOPIC}))
    new = wire(assignor("node-b", frozenset(), []).metadata({TOPIC}))
    foreign = ConsumerProtocolSubscription(version=1, topics=["other"], user_data=b"", owned_partitions=[])
    members = [SimpleNamespace(member_id="m-a", metadata=old), SimpleNamespace(member_id="m-b", metadata=new),
               SimpleNamespace(member_id="m-x", metadata=wire(foreign))]
    out = assignor("node-a", frozenset(range(8)), placements).assign(Cluster(), members)
    decoded = {mid: set(ConsumerProtocolAssignment.decode(a.encode()).partitions()) for mid, a in out.items()}
    kept = {tp.partition for tp in decoded["m-a"]}
    assert len(kept) == 4 and not decoded["m-b"] and not decoded["m-x"]
    assert placements[-1].withheld == frozenset(range(8)) - kept
