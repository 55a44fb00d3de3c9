"""Where each bucket goes: capacity-aware, proportional to GPU slots, sticky, and cooperative.

Pure functions, so the rules can be tested without a broker; `assignor` runs them inside Kafka's
rebalance on whichever node the group elected leader.

1. Targets. Cameras are shared in proportion to each member's `gpu_slots`, water-filled so that no
   member's target exceeds its `max_cameras` (what a full member cannot take goes to the others).
2. Stickiness. A member keeps the buckets it runs while keeping brings it closer to its target and stays
   within `max_cameras`: a joining node only moves the surplus, not everything.
3. The rest goes, heaviest bucket first, to the member with the lowest load per slot that has room; a
   bucket that fits nowhere stays unassigned (reported: the district needs more nodes).
4. Cooperative hand-over (KIP-429). A bucket whose final member is not the one running it now is
   withheld this round: the running member sees it leave its assignment, stops its cameras, rejoins, and
   the next round grants it to its new member. No camera ever has two members at once.

Balancing is by cameras per bucket (the leader knows them from the registry), plus a small weight per
bucket (less than one camera for all buckets together) so that buckets without cameras yet are spread
evenly too, for the cameras to come.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

_EPS = 1e-9


@dataclass(frozen=True)
class MemberInfo:
    """One group member as its subscription describes it."""

    member_id: str
    node_id: str
    max_cameras: int
    gpu_slots: int
    owned: frozenset[int]


@dataclass(frozen=True)
class Placement:
    """The outcome of one rebalance round."""

    final: Mapping[str, frozenset[int]]
    """Where each bucket belongs once the hand-over completes."""
    granted: Mapping[str, frozenset[int]]
    """What each member is assigned this round (moving buckets withheld)."""
    unassigned: frozenset[int]
    """Buckets no member has room for."""
    withheld: frozenset[int]
    """Buckets moving between members: granted in the next round."""


def targets(total: float, members: Sequence[MemberInfo], caps: Mapping[str, float]) -> dict[str, float]:
    """Each member's share of `total`, proportional to slots, never above its cap (water-filling)."""
    out: dict[str, float] = {}
    active = list(members)
    remaining = total
    while active:
        slots = sum(m.gpu_slots for m in active)
        share = {m.member_id: remaining * m.gpu_slots / slots for m in active}
        capped = [m for m in active if share[m.member_id] > caps[m.member_id] + _EPS]
        if not capped:
            out.update(share)
            break
        for m in capped:
            out[m.member_id] = caps[m.member_id]
            remaining -= caps[m.member_id]
        active = [m for m in active if m not in capped]
    return out


def place(buckets: Sequence[int], loads: Mapping[int, int], members: Sequence[MemberInfo]) -> Placement:
    """Place every bucket (see the module docstring for the rules)."""
    ordered = sorted(members, key=lambda m: m.member_id)
    bucket_set = set(buckets)
    cams = {b: max(0, int(loads.get(b, 0))) for b in buckets}
    per_bucket = 1.0 / (len(bucket_set) + 1)
    weight = {b: cams[b] + per_bucket for b in buckets}
    # A cap in weight units: max_cameras plus room for every bucket's small weight (a member that takes no
    # camera at all gets no bucket).
    caps = {m.member_id: m.max_cameras + 1.0 if m.max_cameras > 0 else 0.0 for m in ordered}
    target = targets(sum(weight.values()), ordered, caps)

    final: dict[str, set[int]] = {m.member_id: set() for m in ordered}
    held_cams = dict.fromkeys(final, 0)
    held_weight = dict.fromkeys(final, 0.0)
    taken: set[int] = set()

    def give(m: MemberInfo, b: int) -> None:
        final[m.member_id].add(b)
        held_cams[m.member_id] += cams[b]
        held_weight[m.member_id] += weight[b]
        taken.add(b)

    def fits(m: MemberInfo, b: int) -> bool:
        return m.max_cameras > 0 and held_cams[m.member_id] + cams[b] <= m.max_cameras

    for m in ordered:  # stickiness
        for b in sorted((m.owned & bucket_set) - taken, key=lambda b: (-weight[b], b)):
            closer = held_weight[m.member_id] + weight[b] <= target[m.member_id] + weight[b] / 2 + _EPS
            if fits(m, b) and closer:
                give(m, b)

    unassigned: set[int] = set()
    for b in sorted(bucket_set - taken, key=lambda b: (-weight[b], b)):
        room = [m for m in ordered if fits(m, b)]
        if not room:
            unassigned.add(b)
            continue
        best = min(room, key=lambda m: ((held_weight[m.member_id] + weight[b]) / m.gpu_slots,
                                        len(final[m.member_id]), m.member_id))
        give(best, b)

    claimers: dict[int, set[str]] = {}
    for m in ordered:
        for b in m.owned:
            claimers.setdefault(b, set()).add(m.member_id)
    granted = {mid: frozenset(b for b in bs if claimers.get(b, set()) <= {mid}) for mid, bs in final.items()}
    withheld = frozenset(b for mid, bs in final.items() for b in bs - granted[mid])
    return Placement(final={k: frozenset(v) for k, v in final.items()}, granted=granted,
                     unassigned=frozenset(unassigned), withheld=withheld)
