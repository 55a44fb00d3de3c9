"""The strict throw scorer: one alert per throw, one throw per alert, every other alert is false.

Any generator's ground truth can be scored here (a throw is a dict with `release_t_s`, `landing_t_s`,
`along_m` and `floor`; times in stream seconds of the same video as the alerts). The rules:

- An alert may match a throw only if the span it tracked overlaps the fall (release - 0.2 s to landing +
  0.2 s), its facade position is known and lies within `max_along_error_m` of the release point, and its
  floor (when given) is within `max_floor_error` floors. An alert without a facade position cannot match.
- Among the feasible pairs, a one-to-one assignment of least cost is chosen (Hungarian method, scipy's
  `linear_sum_assignment`): cost grows with the along-facade error, the floor error and the release time
  error, so when a bird and the real throw both qualify, the closer alert takes the throw.
- Every alert left unassigned is a false alert, wherever and whenever it fell; there is no "duplicate".

This is the only place in the throw evidence chain that reads ground truth.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
from scipy.optimize import linear_sum_assignment

TIME_SLACK_S = 0.2
"""Slack on either side of the fall window for the overlap test (a track may start a frame early)."""
MAX_ALONG_ERROR_M = 6.0
"""An alert further than this along the facade from the release point is not that throw."""
MAX_FLOOR_ERROR = 4
"""An alert more than this many floors off is not that throw (floor accuracy is judged within 1)."""
_INFEASIBLE = 1.0e6


@dataclass(frozen=True)
class AlertSummary:
    """What scoring needs from an incident: the span it tracked, its floor, along position, release time."""

    first_t_s: float
    last_t_s: float
    floor: int | None
    along_m: float | None
    release_t_s: float | None = None
    alert_t_s: float | None = None
    """When the incident's first alert was raised (stream seconds), for the warning time."""


@dataclass(frozen=True)
class ThrowScore:
    """Recall by floor band, floor accuracy, false alerts per hour, and the pairs behind them."""

    throws: int
    throws_gate: int
    detected_gate: int
    detected_all: int
    floor_within_1: int
    floor_within_1_gate: int
    floor_errors: list[int]
    false_alerts: int
    hours: float
    false_alert_kinds: list[str]
    missed_floors: list[int]
    warning_s: list[float]
    """For each matched throw with a known alert time: seconds from the alert to the landing."""

    @property
    def recall_gate(self) -> float:
        """Share of throws from the gate floors (default 3 and up) that one alert matched."""
        return self.detected_gate / self.throws_gate if self.throws_gate else 1.0

    @property
    def floor_accuracy(self) -> float:
        """Share of matched throws (all floors) whose alert gave the floor within ±1."""
        return self.floor_within_1 / self.detected_all if self.detected_all else 1.0

    @property
    def false_per_hour(self) -> float:
        return self.false_alerts / self.hours if self.hours else 0.0

    @property
    def median_warning_s(self) -> float | None:
        return float(np.median(self.warning_s)) if self.warning_s else None

    def as_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d.update(
            recall_gate=round(self.recall_gate, 4),
            floor_accuracy=round(self.floor_accuracy, 4),
            false_per_hour=round(self.false_per_hour, 3),
        )
        return d


def _pair_cost(truth: dict[str, Any], alert: AlertSummary) -> float:
    """Cost of calling `alert` this throw, or `_INFEASIBLE` when the rules above forbid it."""
    if alert.along_m is None:
        return _INFEASIBLE
    rel, land = float(truth["release_t_s"]), float(truth["landing_t_s"])
    if alert.first_t_s > land + TIME_SLACK_S or alert.last_t_s < rel - TIME_SLACK_S:
        return _INFEASIBLE
    along_err = abs(alert.along_m - float(truth["along_m"]))
    if along_err > MAX_ALONG_ERROR_M:
        return _INFEASIBLE
    floor_err = 0 if alert.floor is None else abs(alert.floor - int(truth["floor"]))
    if floor_err > MAX_FLOOR_ERROR:
        return _INFEASIBLE
    time_err = 0.0 if alert.release_t_s is None else min(5.0, abs(alert.release_t_s - rel))
    return along_err / MAX_ALONG_ERROR_M + floor_err / MAX_FLOOR_ERROR + time_err


def assign(truths: Sequence[dict[str, Any]], alerts: Sequence[AlertSummary]) -> list[tuple[int, int]]:
    """(throw index, alert index) pairs of the least-cost one-to-one assignment among feasible pairs."""
    if not truths or not alerts:
        return []
    cost = np.array([[_pair_cost(t, a) for a in alerts] for t in truths], np.float64)
    rows, cols = linear_sum_assignment(cost)
    return [(int(r), int(c)) for r, c in zip(rows, cols, strict=True) if cost[r, c] < _INFEASIBLE]


def score(
    truths: Sequence[dict[str, Any]],
    alerts: Sequence[AlertSummary],
    hours: float,
    gate_min_floor: int = 3,
    distractors: Sequence[dict[str, Any]] = (),
) -> ThrowScore:
    """Score alerts against throws (see the module docstring); distractors only label the false alerts."""
    pairs = assign(truths, alerts)
    matched_alerts = {a for _, a in pairs}
    errors: dict[int, int] = {}
    for t, a in pairs:
        floor = alerts[a].floor
        if floor is not None:
            errors[t] = floor - int(truths[t]["floor"])
    gate = [k for k, tr in enumerate(truths) if int(tr["floor"]) >= gate_min_floor]
    detected = {t for t, _ in pairs}
    false_kinds = []
    for k, alert in enumerate(alerts):
        if k in matched_alerts:
            continue
        kinds = sorted(
            {str(d["kind"]) for d in distractors if d["t0_s"] <= alert.last_t_s and d["t1_s"] >= alert.first_t_s}
        )
        false_kinds.append("+".join(kinds) or "unknown")
    return ThrowScore(
        throws=len(truths),
        throws_gate=len(gate),
        detected_gate=sum(1 for k in gate if k in detected),
        detected_all=len(detected),
        floor_within_1=sum(1 for e in errors.values() if abs(e) <= 1),
        floor_within_1_gate=sum(1 for k, e in errors.items() if abs(e) <= 1 and k in gate),
        floor_errors=[errors[k] for k in sorted(errors)],
        false_alerts=len(alerts) - len(matched_alerts),
        hours=hours,
        false_alert_kinds=false_kinds,
        missed_floors=sorted(int(truths[k]["floor"]) for k in gate if k not in detected),
        warning_s=[
            round(float(truths[t]["landing_t_s"]) - float(alert_t), 3)
            for t, a in sorted(pairs)
            if (alert_t := alerts[a].alert_t_s) is not None
        ],
    )


def merge(scores: Sequence[ThrowScore]) -> ThrowScore:
    """Several runs' scores as one (sums; hours add up)."""
    return ThrowScore(
        throws=sum(s.throws for s in scores),
        throws_gate=sum(s.throws_gate for s in scores),
        detected_gate=sum(s.detected_gate for s in scores),
        detected_all=sum(s.detected_all for s in scores),
        floor_within_1=sum(s.floor_within_1 for s in scores),
        floor_within_1_gate=sum(s.floor_within_1_gate for s in scores),
        floor_errors=[e for s in scores for e in s.floor_errors],
        false_alerts=sum(s.false_alerts for s in scores),
        hours=sum(s.hours for s in scores),
        false_alert_kinds=[k for s in scores for k in s.false_alert_kinds],
        missed_floors=sorted(f for s in scores for f in s.missed_floors),
        warning_s=[w for s in scores for w in s.warning_s],
    )
