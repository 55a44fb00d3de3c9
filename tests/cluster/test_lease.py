"""The membership lease: renewed by heartbeats and callbacks, held through rebalances, lost in silence."""

from __future__ import annotations

from gridwatch.cluster.lease import REBALANCING, STABLE, UNJOINED, Lease


def lease() -> Lease:
    return Lease(session_timeout_s=6.0, heartbeat_interval_s=1.0, rebalance_timeout_s=30.0)


def test_no_lease_before_the_first_confirmation() -> None:
    lz = lease()
    lz.observe(0.0, UNJOINED, None)
    assert not lz.expired(1000.0) and lz.remaining_s(0.0) is None


def test_heartbeats_renew_and_silence_expires_one_interval_before_the_session() -> None:
    lz = lease()
    lz.renew(0.0)
    for t in range(1, 20):
        lz.observe(float(t), STABLE, 0.5)
        assert not lz.expired(float(t))
    # the last heartbeat went out at 18.5, then nothing: a stalled or cut-off node
    lz.observe(21.0, STABLE, 2.5)  # too old to count as a fresh heartbeat
    assert not lz.expired(23.4)
    assert lz.expired(23.6), "18.5 + 6 - 1"


def test_a_dropped_member_is_not_renewed() -> None:
    lz = lease()
    lz.renew(0.0)
    lz.observe(1.0, UNJOINED, 0.2)
    assert lz.expired(5.1)


def test_rebalancing_holds_the_lease_up_to_the_rebalance_timeout() -> None:
    lz = lease()
    lz.renew(0.0)
    for t in range(1, 25):
        lz.observe(float(t), REBALANCING, 10.0)  # no heartbeats while a join is in flight
    assert not lz.expired(25.0)
    assert lz.expired(24.0 + 5.1), "renewals stop after rebalance_timeout - session_timeout"
    lz.observe(30.0, STABLE, 0.1)
    assert not lz.expired(30.5)


def test_reset_forgets_everything() -> None:
    lz = lease()
    lz.renew(0.0)
    lz.reset()
    assert not lz.expired(100.0)
