"""The placement rules: capacity, proportional shares, stickiness and the cooperative hand-over."""

from __future__ import annotations

from collections.abc import Mapping

from hypothesis import given, settings
from hypothesis import strategies as st

from gridwatch.cluster.placement import MemberInfo, Placement, place


def member(mid: str, owned: set[int] | frozenset[int] = frozenset(), max_cameras: int = 10_000,
           slots: int = 1) -> MemberInfo:
    return MemberInfo(mid, f"node-{mid}", max_cameras, slots, frozenset(owned))


def cams_of(placement: Placement, mid: str, loads: Mapping[int, int]) -> int:
    return sum(loads[b] for b in placement.final[mid])


def converge(buckets: list[int], loads: Mapping[int, int], members: list[MemberInfo],
             rounds: int = 4) -> tuple[list[MemberInfo], int]:
    """Run rebalance rounds as the group does: each member then owns what it was granted."""
    for n in range(1, rounds + 1):
        p = place(buckets, loads, members)
        members = [MemberInfo(m.member_id, m.node_id, m.max_cameras, m.gpu_slots, p.granted[m.member_id])
                   for m in members]
        if not p.withheld:
            return members, n
    raise AssertionError(f"no convergence in {rounds} rounds")


loads_st = st.lists(st.integers(min_value=0, max_value=12), min_size=1, max_size=40)
members_st = st.lists(st.tuples(st.integers(min_value=0, max_value=150), st.integers(min_value=1, max_value=4)),
                      min_size=1, max_size=6)


@settings(max_examples=150, deadline=None)
@given(loads_st, members_st, st.data())
def test_every_bucket_has_at_most_one_member_and_capacity_holds(
        load_list: list[int], specs: list[tuple[int, int]], data: st.DataObject) -> None:
    buckets = list(range(len(load_list)))
    loads = dict(enumerate(load_list))
    owned_by = data.draw(st.lists(st.integers(min_value=-1, max_value=len(specs) - 1),
                                  min_size=len(buckets), max_size=len(buckets)))
    members = [member(f"m{i}", {b for b, o in enumerate(owned_by) if o == i}, cap, slots)
               for i, (cap, slots) in enumerate(specs)]
    p = place(buckets, loads, members)
    seen: list[int] = [b for bs in p.final.values() for b in bs]
    assert len(seen) == len(set(seen)), "a bucket placed twice"
    assert set(seen) | p.unassigned == set(buckets) and not (set(seen) & p.unassigned)
    for m in members:
        assert cams_of(p, m.member_id, loads) <= m.max_cameras
        assert p.granted[m.member_id] <= p.final[m.member_id]
        others = {b for o in members if o is not m for b in o.owned}
        assert not (p.granted[m.member_id] & others), "granted a bucket another member still runs"
    if all(m.max_cameras >= sum(load_list) and m.max_cameras > 0 for m in members):
        assert not p.unassigned


@settings(max_examples=100, deadline=None)
@given(loads_st, members_st)
def test_rounds_converge_and_a_converged_group_moves_nothing(load_list: list[int], specs: list[tuple[int, int]]) -> None:
    buckets = list(range(len(load_list)))
    loads = dict(enumerate(load_list))
    members = [member(f"m{i}", max_cameras=cap, slots=slots) for i, (cap, slots) in enumerate(specs)]
    settled, _ = converge(buckets, loads, members)
    again = place(buckets, loads, settled)
    assert not again.withheld
    assert {m.member_id: m.owned for m in settled} == dict(again.granted)


def test_fresh_group_is_balanced_within_one_bucket_and_proportional_to_slots() -> None:
    buckets = list(range(64))
    loads = {b: 3 + (b % 5) for b in buckets}  # 3..7 cameras per bucket
    equal = place(buckets, loads, [member("a"), member("b"), member("c")])
    counts = [cams_of(equal, m, loads) for m in ("a", "b", "c")]
    assert max(counts) - min(counts) <= max(loads.values())
    weighted = place(buckets, loads, [member("a", slots=2), member("b")])
    a, b = cams_of(weighted, "a", loads), cams_of(weighted, "b", loads)
    assert abs(a - 2 * b) <= 3 * max(loads.values()), (a, b)


def test_empty_buckets_are_spread_too() -> None:
    buckets = list(range(12))
    p = place(buckets, dict.fromkeys(buckets, 0), [member("a"), member("b"), member("c")])
    assert sorted(len(bs) for bs in p.final.values()) == [4, 4, 4]


def test_capacity_limits_a_member_and_the_rest_goes_elsewhere_or_is_reported() -> None:
    buckets = list(range(10))
    loads = dict.fromkeys(buckets, 4)  # 40 cameras
    p = place(buckets, loads, [member("small", max_cameras=8), member("big", max_cameras=100)])
    assert cams_of(p, "small", loads) == 8 and cams_of(p, "big", loads) == 32 and not p.unassigned
    short = place(buckets, loads, [member("small", max_cameras=8), member("mid", max_cameras=20)])
    assert cams_of(short, "small", loads) <= 8 and cams_of(short, "mid", loads) <= 20
    assert len(short.unassigned) == 3, "40 cameras, room for 28: three buckets of four stay unassigned"
    nothing = place(buckets, dict.fromkeys(buckets, 0), [member("zero", max_cameras=0), member("one")])
    assert not nothing.final["zero"], "a node that takes no camera gets no bucket"


def test_joining_member_takes_a_share_only_from_the_others_surplus() -> None:
    buckets = list(range(24))
    loads = dict.fromkeys(buckets, 2)
    old, _ = converge(buckets, loads, [member("a"), member("b"), member("c")])
    before = {m.member_id: m.owned for m in old}
    joined = [*old, member("d")]
    first = place(buckets, loads, joined)
    assert not first.granted["d"], "round one: the new member waits while the others release"
    for mid in ("a", "b", "c"):
        assert first.granted[mid] <= before[mid], "old members only give up buckets"
        assert first.final[mid] <= before[mid], "no bucket moves between old members"
    settled, rounds = converge(buckets, loads, joined)
    assert rounds == 2
    final = {m.member_id: m.owned for m in settled}
    assert sorted(len(v) for v in final.values()) == [6, 6, 6, 6]
    assert final["d"] == first.withheld


def test_leaving_member_s_buckets_go_to_the_survivors_who_keep_theirs() -> None:
    buckets = list(range(24))
    loads = dict.fromkeys(buckets, 2)
    settled, _ = converge(buckets, loads, [member("a"), member("b"), member("c")])
    survivors = [m for m in settled if m.member_id != "c"]
    p = place(buckets, loads, survivors)
    assert not p.withheld, "the dead member's buckets are free: one round"
    for m in survivors:
        assert m.owned <= p.granted[m.member_id]
    assert set().union(*p.granted.values()) == set(buckets)


def test_a_bucket_claimed_twice_is_granted_to_nobody_until_one_lets_go() -> None:
    p = place([0, 1], {0: 1, 1: 1}, [member("a", {0}), member("b", {0, 1})])
    assert 0 not in p.granted["a"] and 0 not in p.granted["b"]
    assert 0 in p.withheld
