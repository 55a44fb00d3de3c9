"""The partition assignor every node registers: `place()` inside kafka-python's group protocol.

kafka-python 3.x implements KIP-429 incremental cooperative rebalancing (its `RebalanceProtocol`;
`CooperativeStickyAssignor` is its own example), so this assignor declares COOPERATIVE only: members keep
their buckets across a rebalance and only the buckets that move are revoked, in a first round, and
granted to their new member in a second one. Every member must run this assignor (same `name`).

Each member's subscription carries, as JSON user data, what the leader needs to respect capacity:
`{"v": 1, "node_id": ..., "max_cameras": ..., "gpu_slots": ...}`, and in `owned_partitions` the buckets
whose cameras it runs now (read from the node, not from the client's bookkeeping, so a node that lost
its membership never advertises buckets it no longer runs). The leader adds the cameras per bucket from
its own view of the registry.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from kafka.coordinator.assignors.abstract import AbstractPartitionAssignor, RebalanceProtocol
from kafka.protocol.consumer.metadata import ConsumerProtocolAssignment, ConsumerProtocolSubscription

from gridwatch.cluster.placement import MemberInfo, Placement, place

log = logging.getLogger(__name__)

ASSIGNOR_NAME = "gridwatch-capacity"
USERDATA_VERSION = 1
_SUBSCRIPTION_VERSION = 1  # v1 adds OwnedPartitions, which KIP-429 needs


@dataclass(frozen=True)
class Advert:
    """What a node tells the group about itself."""

    node_id: str
    max_cameras: int
    gpu_slots: int

    def encode(self) -> bytes:
        return json.dumps({"v": USERDATA_VERSION, "node_id": self.node_id, "max_cameras": self.max_cameras,
                           "gpu_slots": self.gpu_slots}, sort_keys=True).encode("utf-8")

    @classmethod
    def decode(cls, data: bytes | None, fallback_id: str) -> Advert:
        """A member's advert; a member that sent none (or garbage) counts as a one-slot node taking nothing,
        so a foreign or broken client in the group never receives cameras."""
        try:
            body = json.loads(data or b"")
            return cls(str(body["node_id"]), int(body["max_cameras"]), max(1, int(body["gpu_slots"])))
        except (ValueError, KeyError, TypeError):
            return cls(fallback_id, 0, 1)


class CapacityAssignor(AbstractPartitionAssignor):  # type: ignore[misc]  # kafka-python is untyped
    """Capacity-aware, sticky, cooperative assignor for the bucket topic (see the module docstring)."""

    name = ASSIGNOR_NAME
    version = _SUBSCRIPTION_VERSION

    def __init__(self, topic: str, advert: Advert, held: Callable[[], frozenset[int]],
                 loads: Callable[[int], Mapping[int, int]], on_placement: Callable[[Placement], None]) -> None:
        self.topic = topic
        self.advert = advert
        self.held = held
        self.loads = loads
        self.on_placement = on_placement
        self.generation = -1

    def supported_protocols(self) -> list[RebalanceProtocol]:
        return [RebalanceProtocol.COOPERATIVE]

    def metadata(self, topics: set[str]) -> Any:
        owned = sorted(self.held()) if self.topic in topics else []
        owned_partitions = [ConsumerProtocolSubscription.TopicPartition(topic=self.topic, partitions=owned)] \
            if owned else []
        return ConsumerProtocolSubscription(version=self.version, topics=sorted(topics),
                                            user_data=self.advert.encode(), owned_partitions=owned_partitions)

    def assign(self, cluster: Any, members: list[Any]) -> dict[str, Any]:
        partitions = sorted(cluster.partitions_for_topic(self.topic) or ())
        infos: list[MemberInfo] = []
        for member in members:
            meta = member.metadata
            if self.topic not in (meta.topics or ()):
                continue
            advert = Advert.decode(meta.user_data, member.member_id)
            owned = frozenset(p for tp in (getattr(meta, "owned_partitions", None) or ())
                              if tp.topic == self.topic for p in tp.partitions)
            infos.append(MemberInfo(member.member_id, advert.node_id, advert.max_cameras, advert.gpu_slots, owned))
        placement = place(partitions, self.loads(len(partitions)) if partitions else {}, infos)
        log.info("cluster: placed %d bucket(s) on %d node(s): %s%s%s", len(partitions), len(infos),
                 "; ".join(f"{i.node_id}={len(placement.granted.get(i.member_id, ()))}" for i in infos),
                 f"; {len(placement.withheld)} moving" if placement.withheld else "",
                 f"; {len(placement.unassigned)} UNASSIGNED (no node has room)" if placement.unassigned else "")
        self.on_placement(placement)
        out: dict[str, Any] = {}
        for member in members:
            granted = sorted(placement.granted.get(member.member_id, frozenset()))
            assigned = [(self.topic, granted)] if granted else []
            out[member.member_id] = ConsumerProtocolAssignment(self.version, assigned, b"")
        return out

    def on_assignment(self, assignment: Any, generation: int) -> None:
        self.generation = generation
