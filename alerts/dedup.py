"""Incident dedup: events from many sources and many detector incidents become one incident with updates.

A detector reports incidents per source (`Event.incident_id`). Here those are merged across sources and
over time: a `start` joins an existing incident of the same family (fire and smoke together, unless
configured apart) when it is within the kind's radius (widened by both positions' accuracy, capped) and
the incident was seen within the kind's window. Without positions, a source can only rejoin incidents it
was already part of (a flapping detector). The alert phases then describe the merged incident:

- a new incident: `start`, update_seq 0;
- another source (or the same source again) joining: `update` (reason `merged` / `rejoined`);
- an update from a member: `update`, unless within the kind's cooldown for that source (suppressed);
- a member ending while others still see it: suppressed; the last member ending: `end` (kinds with
  `emit_end: false`, e.g. construction sites, stay joinable and send no end).

Lifecycle guarantees, per incident: exactly one `start`, first, with update_seq 0; update_seq counts up
by one per alert; at most one `end`, and nothing after it. An incident that has sent its `end` is closed:
a later event at the same place (a fire flaring up again, another camera starting to see it) opens a
new incident with its own `start` (its detector's cooldown keeps a flapping source from doing that over
and over). Only kinds that never send an end (construction) stay joinable after their last member ends.

Kind, with fire and smoke merged (`merge_fire_smoke`, the default): an incident's kind is the most
severe kind any of its events has shown (fire > smoke) and never goes back. Smoke that turns into fire is
the same incident: the first event of kind fire sends an `update` of kind fire (reason `kind_changed`,
never held back by a cooldown), and every later alert of the incident, its `end` included, says fire.
A smoke event joining a fire incident is reported as kind fire too. Every alert carries the incident's
kind (`Decision.kind`), so one incident never reads `start smoke` ... `end fire` without the update that
says so. With `merge_fire_smoke: false`, smoke and fire are separate incidents and keep their own kinds.

`decide()` has no side effects; `commit()` applies a decision after the alert is safely in the outbox, so a
refused alert (outbox full) leaves the state as it was. Incident records are persisted in the outbox's
database, so a construction site seen again after a restart still joins its incident.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass, field, replace

from alerts.config import DedupConfig
from detectors.event import Event, EventKind, Phase
from detectors.geometry.geodesy import haversine_m

MemberKey = tuple[str, str, str]  # (source_id, kind, detector incident id)


@dataclass(frozen=True)
class Position:
    """A resolved WGS-84 position with its accuracy radius (metres)."""

    lat_deg: float
    lon_deg: float
    accuracy_m: float


@dataclass(frozen=True)
class IncidentRecord:
    """The persisted part of an incident (what a restart needs to keep merging into it)."""

    incident_id: str
    family: str
    kind: str
    lat_deg: float | None
    lon_deg: float | None
    accuracy_m: float | None
    first_seen_s: float
    last_seen_s: float
    next_seq: int
    ended: bool
    sources: tuple[str, ...]


@dataclass
class _Incident:
    record: IncidentRecord
    members: frozenset[MemberKey] = frozenset()
    last_alert_s: dict[str, float] = field(default_factory=dict)


@dataclass(frozen=True)
class _Ctx:
    member: MemberKey
    source_id: str
    at_s: float


KIND_SEVERITY = {EventKind.SMOKE.value: 1, EventKind.FIRE.value: 2}
"""Within the fire family, an incident takes the most severe kind it has shown."""


def _escalated(current: str, seen: str) -> str:
    """The incident kind after an event of kind `seen` (never downgraded)."""
    return seen if KIND_SEVERITY.get(seen, 0) > KIND_SEVERITY.get(current, 0) else current


@dataclass(frozen=True)
class Decision:
    """What to do with one event. `emit` False means suppressed for `reason` (counted by the pipeline)."""

    emit: bool
    reason: str
    incident_id: str | None = None
    phase: Phase | None = None
    update_seq: int | None = None
    record: IncidentRecord | None = None
    members: frozenset[MemberKey] = frozenset()
    member: MemberKey | None = None
    source_id: str = ""
    at_s: float = 0.0

    @property
    def kind(self) -> EventKind | None:
        """The incident's kind, which the alert carries (see the module docstring); None without a record."""
        return None if self.record is None else EventKind(self.record.kind)


class IncidentDeduper:
    """Merges per-source detector incidents into incidents (see the module docstring)."""

    def __init__(self, config: DedupConfig) -> None:
        self.config = config
        self._incidents: dict[str, _Incident] = {}
        self._member_of: dict[MemberKey, str] = {}
        self._latest_s = -math.inf
        self._commits = 0

    def __len__(self) -> int:
        return len(self._incidents)

    def family(self, kind: EventKind) -> str:
        if self.config.merge_fire_smoke and kind in (EventKind.FIRE, EventKind.SMOKE):
            return "fire"
        return kind.value

    def restore(self, records: Iterable[IncidentRecord]) -> int:
        """Load persisted incidents (no open members: their detectors restarted too). Returns the count."""
        n = 0
        for rec in records:
            self._incidents[rec.incident_id] = _Incident(rec)
            self._latest_s = max(self._latest_s, rec.last_seen_s)
            n += 1
        return n

    def get(self, incident_id: str) -> IncidentRecord | None:
        inc = self._incidents.get(incident_id)
        return None if inc is None else inc.record

    # -- deciding -----------------------------------------------------------------------------------

    def decide(self, event: Event, position: Position | None, *, new_incident_id: str) -> Decision:
        """Decide the alert phase and incident for `event` without changing any state."""
        t = event.trigger_captured_at
        member: MemberKey = (event.source_id, event.kind.value, event.incident_id)
        ctx = _Ctx(member, event.source_id, t)
        kcfg = self.config.for_kind(event.kind)
        known_id = self._member_of.get(member)
        known = self._incidents.get(known_id) if known_id is not None else None

        if event.phase == Phase.END:
            return self._decide_end(event, known, ctx, emit_end=kcfg.emit_end)

        if known is not None:  # an update from a known member
            rec = self._seen(known.record, event, position)
            last = known.last_alert_s.get(event.source_id, -math.inf)
            if t - last < kcfg.cooldown_s:
                return self._suppressed("cooldown", rec, known.members, ctx)
            return self._emit("update", Phase.UPDATE, rec, known.members, ctx)

        # A start (or an update whose start we never saw): join a nearby incident or open a new one.
        return self._decide_start(event, position, ctx, new_incident_id=new_incident_id, cooldown_s=kcfg.cooldown_s)

    def _decide_end(self, event: Event, known: _Incident | None, ctx: _Ctx, *, emit_end: bool) -> Decision:
        """An `end` of one member: the incident ends when its last member ends."""
        if known is None:
            return Decision(False, "unknown_incident")
        members = known.members - {ctx.member}
        rec = replace(known.record, last_seen_s=max(known.record.last_seen_s, event.last_seen_at))
        if members:
            return self._suppressed("member_end", rec, members, ctx)
        rec = replace(rec, ended=True)
        if not emit_end:
            return self._suppressed("end_not_emitted", rec, members, ctx)
        return self._emit("end", Phase.END, rec, members, ctx)

    def _decide_start(
        self, event: Event, position: Position | None, ctx: _Ctx, *, new_incident_id: str, cooldown_s: float
    ) -> Decision:
        """A new member: it joins a nearby incident of its family, or opens a new one."""
        t = ctx.at_s
        member = ctx.member
        target = self._match(event, position) if self.config.enabled else None
        if target is None:
            rec = IncidentRecord(
                incident_id=new_incident_id,
                family=self.family(event.kind),
                kind=event.kind.value,
                lat_deg=position.lat_deg if position else None,
                lon_deg=position.lon_deg if position else None,
                accuracy_m=position.accuracy_m if position else None,
                first_seen_s=min(event.started_at, t),
                last_seen_s=max(event.last_seen_at, t),
                next_seq=0,
                ended=False,
                sources=(event.source_id,),
            )
            return self._emit("new", Phase.START, rec, frozenset({member}), ctx)
        rejoin = event.source_id in target.record.sources
        rec = self._seen(target.record, event, position)
        if not rejoin:
            rec = replace(rec, sources=(*rec.sources, event.source_id))
        rec = replace(rec, ended=False)  # only kinds without an `end` alert are joined after ending
        members = target.members | {member}
        if rec.kind != target.record.kind:
            return self._emit("kind_changed", Phase.UPDATE, rec, members, ctx)
        last = target.last_alert_s.get(event.source_id, -math.inf)
        if rejoin and t - last < cooldown_s:
            return self._suppressed("cooldown", rec, members, ctx)
        return self._emit("rejoined" if rejoin else "merged", Phase.UPDATE, rec, members, ctx)

    def _match(self, event: Event, position: Position | None) -> _Incident | None:
        t = event.trigger_captured_at
        kcfg = self.config.for_kind(event.kind)
        family = self.family(event.kind)
        best: _Incident | None = None
        best_score = math.inf
        for inc in self._incidents.values():
            rec = inc.record
            if (
                rec.family != family
                or (rec.ended and self.config.for_kind(EventKind(rec.kind)).emit_end)
                or t - rec.last_seen_s > kcfg.window_s
                or rec.first_seen_s - t > kcfg.window_s
                or (not kcfg.same_source_rejoins and event.source_id in rec.sources)
            ):
                continue
            if position is not None and rec.lat_deg is not None and rec.lon_deg is not None:
                d = haversine_m(position.lat_deg, position.lon_deg, rec.lat_deg, rec.lon_deg)
                slack = min(position.accuracy_m + (rec.accuracy_m or 0.0), self.config.accuracy_slack_max_m)
                if d > kcfg.radius_m + slack:
                    continue
                score = d
            elif event.source_id in rec.sources:
                score = kcfg.radius_m  # no distance to compare: rank behind any positional match inside
            else:
                continue
            if score < best_score or (
                score == best_score and best is not None and rec.last_seen_s > best.record.last_seen_s
            ):
                best, best_score = inc, score
        return best

    @staticmethod
    def _seen(rec: IncidentRecord, event: Event, position: Position | None) -> IncidentRecord:
        """Extend the time span; keep the most accurate position seen; escalate the kind."""
        rec = replace(
            rec,
            last_seen_s=max(rec.last_seen_s, event.last_seen_at, event.trigger_captured_at),
            kind=_escalated(rec.kind, event.kind.value),
        )
        if position is not None and (rec.accuracy_m is None or position.accuracy_m < rec.accuracy_m):
            rec = replace(
                rec, lat_deg=position.lat_deg, lon_deg=position.lon_deg, accuracy_m=position.accuracy_m
            )
        return rec

    @staticmethod
    def _emit(
        reason: str, phase: Phase, rec: IncidentRecord, members: frozenset[MemberKey], ctx: _Ctx
    ) -> Decision:
        seq = rec.next_seq
        rec = replace(rec, next_seq=seq + 1)
        return Decision(
            True, reason, rec.incident_id, phase, seq, rec, members, ctx.member, ctx.source_id, ctx.at_s
        )

    @staticmethod
    def _suppressed(reason: str, rec: IncidentRecord, members: frozenset[MemberKey], ctx: _Ctx) -> Decision:
        return Decision(
            False, reason, rec.incident_id, None, None, rec, members, ctx.member, ctx.source_id, ctx.at_s
        )

    # -- committing ---------------------------------------------------------------------------------

    def commit(self, decision: Decision) -> None:
        """Apply a decision (after its alert, if any, is in the outbox)."""
        if decision.record is None or decision.member is None:
            return
        rec = decision.record
        old = self._incidents.get(rec.incident_id)
        last_alert = dict(old.last_alert_s) if old is not None else {}
        if decision.emit:
            last_alert[decision.source_id] = decision.at_s
        self._incidents[rec.incident_id] = _Incident(rec, decision.members, last_alert)
        if decision.member in decision.members:
            self._member_of[decision.member] = rec.incident_id
        else:
            self._member_of.pop(decision.member, None)
        self._latest_s = max(self._latest_s, decision.at_s)
        self._commits += 1
        if self._commits % 256 == 0:
            self.prune()

    def prune(self) -> int:
        """Forget incidents nobody sees that are past their kind's window. Returns how many."""
        gone = []
        for iid, inc in self._incidents.items():
            window = self.config.for_kind(EventKind(inc.record.kind)).window_s
            if not inc.members and self._latest_s - inc.record.last_seen_s > window:
                gone.append(iid)
        for iid in gone:
            del self._incidents[iid]
        return len(gone)
