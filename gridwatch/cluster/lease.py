"""When a node must assume it has lost its group membership, even if the client has not noticed yet.

The broker drops a member it has not heard from for `session_timeout_s` and gives its buckets to the
others. A node cut off from the broker (network, a stalled process) gets no callback saying so until it
reconnects, and meanwhile would keep analysing cameras that another node now runs. So the node keeps a
lease: every heartbeat it has sent while a stable member, and every rebalance callback, renews it; it
runs out one heartbeat interval before the broker's session would, and a node whose lease ran out stops
its cameras at once and rejoins as a new member (it "fences" itself).

A member waiting in a rebalance sends no heartbeats, but the broker keeps it until the rebalance
timeout, so time spent rebalancing renews the lease up to that bound.

Pure logic on monotonic seconds; `member` feeds it from kafka-python's public group state
(`KafkaConsumer.group_metadata().state`) and its `last-heartbeat-seconds-ago` metric.
"""

from __future__ import annotations

from dataclasses import dataclass

STABLE = "<stable>"
REBALANCING = "<rebalancing>"
UNJOINED = "<unjoined>"
"""kafka-python's MemberState values (kafka.structs.MemberState)."""


@dataclass
class Lease:
    session_timeout_s: float
    heartbeat_interval_s: float
    rebalance_timeout_s: float
    confirmed_at: float | None = None
    rebalancing_since: float | None = None

    @property
    def length_s(self) -> float:
        """How long one renewal lasts: the session, less one heartbeat interval of margin."""
        return self.session_timeout_s - self.heartbeat_interval_s

    def renew(self, at: float) -> None:
        """The group just confirmed this member (a rebalance callback runs: the join and sync succeeded)."""
        self.confirmed_at = at if self.confirmed_at is None else max(self.confirmed_at, at)

    def observe(self, now: float, state: str, heartbeat_age_s: float | None) -> None:
        """Fold in what the client reports: its member state and how long ago it last sent a heartbeat."""
        if state == REBALANCING:
            if self.rebalancing_since is None:
                self.rebalancing_since = now
            if now - self.rebalancing_since <= self.rebalance_timeout_s - self.session_timeout_s:
                self.renew(now)
            return
        self.rebalancing_since = None
        fresh = max(1.0, self.heartbeat_interval_s)
        recent = heartbeat_age_s is not None and 0.0 <= heartbeat_age_s <= self.heartbeat_interval_s + fresh
        if state == STABLE and recent and heartbeat_age_s is not None:
            self.renew(now - heartbeat_age_s)

    def expired(self, now: float) -> bool:
        """True once the broker may have dropped this member (never before a first confirmation)."""
        return self.confirmed_at is not None and now > self.confirmed_at + self.length_s

    def remaining_s(self, now: float) -> float | None:
        return None if self.confirmed_at is None else self.confirmed_at + self.length_s - now

    def reset(self) -> None:
        """A new membership starts (after fencing): nothing is confirmed yet."""
        self.confirmed_at = None
        self.rebalancing_since = None
