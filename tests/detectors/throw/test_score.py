"""The strict throw scorer: one-to-one, unmatched alerts are false anywhere, no position no match."""

from __future__ import annotations

from benchmarks.scenarios.throw_score import AlertSummary, assign, merge, score

TRUTHS = [
    {"release_t_s": 1.0, "landing_t_s": 3.0, "along_m": 10.0, "floor": 8},
    {"release_t_s": 10.0, "landing_t_s": 11.0, "along_m": 30.0, "floor": 2},
]


def test_a_second_alert_on_the_same_throw_is_a_false_alert() -> None:
    alerts = [
        AlertSummary(1.2, 2.9, 9, 10.5, 1.1),  # the first throw, one floor off
        AlertSummary(1.5, 2.9, 8, 10.0, 1.4),  # the same throw again
        AlertSummary(20.0, 21.0, 5, 30.0),  # nothing fell then
    ]
    s = score(TRUTHS, alerts, hours=0.5, distractors=[{"kind": "bird", "t0_s": 19.0, "t1_s": 22.0}])
    assert (s.throws_gate, s.detected_gate, s.detected_all) == (1, 1, 1)
    assert s.false_alerts == 2 and s.false_per_hour == 4.0
    assert sorted(s.false_alert_kinds) == ["bird", "unknown"]
    # the closer alert (exact floor, exact along) takes the throw; the other is the false one
    assert s.floor_errors == [0] and s.floor_accuracy == 1.0


def test_assignment_is_one_to_one_and_least_cost() -> None:
    truths = [
        {"release_t_s": 1.0, "landing_t_s": 3.0, "along_m": 10.0, "floor": 8},
        {"release_t_s": 1.5, "landing_t_s": 3.5, "along_m": 14.0, "floor": 8},
    ]
    # greedy by alert order would give alert 0 to throw 0 and leave throw 1 unmatched
    alerts = [AlertSummary(1.0, 3.0, 8, 12.0, 1.0), AlertSummary(1.0, 3.0, 8, 8.0, 1.0)]
    assert sorted(assign(truths, alerts)) == [(0, 1), (1, 0)]
    s = score(truths, alerts, hours=1.0)
    assert s.detected_all == 2 and s.false_alerts == 0


def test_an_alert_without_a_facade_position_cannot_match() -> None:
    s = score(TRUTHS, [AlertSummary(1.2, 2.9, None, None)], hours=1.0)
    assert s.detected_all == 0 and s.false_alerts == 1


def test_an_alert_during_a_fall_but_elsewhere_on_the_facade_is_false() -> None:
    far_along = AlertSummary(1.2, 2.9, 8, 25.0)
    far_floor = AlertSummary(1.2, 2.9, 16, 10.0)
    s = score(TRUTHS, [far_along, far_floor], hours=1.0)
    assert s.detected_all == 0 and s.false_alerts == 2
    assert s.missed_floors == [8]


def test_merged_scores_add_up() -> None:
    a = score(TRUTHS, [AlertSummary(1.2, 2.9, 8, 10.0)], hours=0.5)
    b = score(TRUTHS, [AlertSummary(40.0, 41.0, 8, 10.0)], hours=0.25)
    m = merge([a, b])
    assert (m.throws_gate, m.detected_gate, m.false_alerts, m.hours) == (2, 1, 1, 0.75)
    assert m.false_per_hour == 4 / 3
