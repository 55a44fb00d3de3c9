"""Incident dedup: one fire seen by two cameras, one construction site over many flights, cooldowns."""

from alerts.config import DedupConfig
from alerts.dedup import Decision, IncidentDeduper, Position
from alerts.schema import incident_id_for
from detectors.event import Event, EventKind, Phase
from detectors.geometry.geodesy import enu_to_wgs84
from tests.alerts.factories import MG_A_LAT, MG_A_LON, event

LAT, LON = MG_A_LAT, MG_A_LON  # where factory events are unless told otherwise
DAY_S = 86400.0


def offset(east_m: float, north_m: float = 0.0) -> tuple[float, float]:
    lat, lon = enu_to_wgs84(LAT, LON, east_m, north_m)
    return float(lat), float(lon)


def run(d: IncidentDeduper, ev: Event) -> Decision:
    pos = Position(ev.ground.lat_deg, ev.ground.lon_deg, ev.ground.accuracy_m) if ev.ground else None
    dec = d.decide(ev, pos, new_incident_id=incident_id_for(ev.source_id, ev.kind.value, ev.incident_id))
    d.commit(dec)
    return dec


def test_same_fire_seen_by_two_cameras_is_one_incident_with_updates() -> None:
    d = IncidentDeduper(DedupConfig())
    t = 1000.0
    a = run(d, event(source_id="cam-A", incident_id="a1", t=t, lat=LAT, lon=LON))
    lat, lon = offset(60.0)
    b = run(d, event(source_id="cam-B", incident_id="b7", t=t + 20, lat=lat, lon=lon))
    assert (a.emit, a.phase, a.update_seq, a.reason) == (True, Phase.START, 0, "new")
    assert (b.emit, b.phase, b.update_seq, b.reason) == (True, Phase.UPDATE, 1, "merged")
    assert b.incident_id == a.incident_id
    assert b.record is not None and b.record.sources == ("cam-A", "cam-B")
    # camera A stops seeing it: camera B still does, so no end yet
    end_a = run(d, event(source_id="cam-A", incident_id="a1", phase=Phase.END, update_seq=3, t=t + 60))
    assert (end_a.emit, end_a.reason) == (False, "member_end")
    end_b = run(d, event(source_id="cam-B", incident_id="b7", phase=Phase.END, update_seq=2, t=t + 90))
    assert (end_b.emit, end_b.phase, end_b.update_seq) == (True, Phase.END, 2)


def test_fire_far_away_or_too_late_is_a_new_incident() -> None:
    d = IncidentDeduper(DedupConfig())
    a = run(d, event(source_id="cam-A", incident_id="a1", t=0.0))
    lat, lon = offset(1000.0)
    far = run(d, event(source_id="cam-B", incident_id="b1", t=10.0, lat=lat, lon=lon))
    late = run(d, event(source_id="cam-C", incident_id="c1", t=10_000.0))
    assert far.incident_id != a.incident_id and far.phase == Phase.START
    assert late.incident_id != a.incident_id and late.phase == Phase.START


def test_accuracy_widens_the_radius_up_to_the_cap() -> None:
    cfg = DedupConfig(accuracy_slack_max_m=100.0)
    d = IncidentDeduper(cfg)
    a = run(d, event(source_id="cam-A", incident_id="a1", t=0.0, accuracy_m=80.0))
    lat, lon = offset(220.0)  # fire radius 150 m + min(80 + 80, 100) = 250 m
    near = run(d, event(source_id="cam-B", incident_id="b1", t=1.0, lat=lat, lon=lon, accuracy_m=80.0))
    lat, lon = offset(-260.0)
    out = run(d, event(source_id="cam-C", incident_id="c1", t=2.0, lat=lat, lon=lon, accuracy_m=500.0))
    assert near.incident_id == a.incident_id
    assert out.incident_id != a.incident_id


def test_smoke_joins_fire_unless_configured_apart() -> None:
    d = IncidentDeduper(DedupConfig())
    f = run(d, event(EventKind.FIRE, source_id="cam-A", incident_id="f", t=0.0))
    s = run(d, event(EventKind.SMOKE, source_id="cam-B", incident_id="s", t=5.0))
    assert s.incident_id == f.incident_id and s.reason == "merged"
    d2 = IncidentDeduper(DedupConfig(merge_fire_smoke=False))
    f2 = run(d2, event(EventKind.FIRE, source_id="cam-A", incident_id="f", t=0.0))
    s2 = run(d2, event(EventKind.SMOKE, source_id="cam-B", incident_id="s", t=5.0))
    assert s2.incident_id != f2.incident_id


def test_updates_respect_the_per_source_cooldown() -> None:
    d = IncidentDeduper(DedupConfig())  # fire cooldown 60 s
    run(d, event(source_id="cam-A", incident_id="a1", t=0.0))
    seen = [
        run(d, event(source_id="cam-A", incident_id="a1", phase=Phase.UPDATE, update_seq=i, t=10.0 * i))
        for i in range(1, 14)
    ]
    emitted = [dec.at_s for dec in seen if dec.emit]
    assert emitted == [60.0, 120.0]
    assert {dec.reason for dec in seen if not dec.emit} == {"cooldown"}
    assert [dec.update_seq for dec in seen if dec.emit] == [1, 2]


def test_construction_site_over_many_flights_is_one_incident_without_end() -> None:
    d = IncidentDeduper(DedupConfig())
    first = run(
        d, event(EventKind.CONSTRUCTION, source_id="flight-0501", incident_id="s1", t=0.0, accuracy_m=3.0)
    )
    assert first.phase == Phase.START
    end = run(
        d,
        event(
            EventKind.CONSTRUCTION,
            source_id="flight-0501",
            incident_id="s1",
            phase=Phase.END,
            update_seq=5,
            t=600.0,
        ),
    )
    assert (end.emit, end.reason) == (False, "end_not_emitted")
    incident_ids = {first.incident_id}
    for k, day in enumerate([3, 10, 40, 85]):
        lat, lon = offset(8.0 * (k % 2), -6.0)
        dec = run(
            d,
            event(
                EventKind.CONSTRUCTION,
                source_id=f"flight-{k}",
                incident_id="s9",
                t=day * DAY_S,
                lat=lat,
                lon=lon,
                accuracy_m=3.0,
            ),
        )
        assert (dec.emit, dec.phase, dec.reason) == (True, Phase.UPDATE, "merged")
        incident_ids.add(dec.incident_id)
    assert len(incident_ids) == 1
    lat, lon = offset(300.0)
    other = run(
        d,
        event(EventKind.CONSTRUCTION, source_id="flight-x", incident_id="s2", t=86 * DAY_S, lat=lat, lon=lon),
    )
    assert other.phase == Phase.START and other.incident_id not in incident_ids


def test_camera_without_position_rejoins_its_own_open_incident_only() -> None:
    d = IncidentDeduper(DedupConfig())
    a = run(d, event(source_id="cam-A", incident_id="a1", t=0.0, lat=None, lon=None))
    # a second detector incident of the same camera while the first is open joins it (after the cooldown)
    again = run(d, event(source_id="cam-A", incident_id="a2", t=100.0, lat=None, lon=None))
    other = run(d, event(source_id="cam-B", incident_id="b1", t=100.0, lat=None, lon=None))
    assert again.incident_id == a.incident_id and (again.phase, again.reason) == (Phase.UPDATE, "rejoined")
    assert other.incident_id != a.incident_id and other.phase == Phase.START


def test_an_ended_incident_is_closed_and_a_restart_is_a_new_incident() -> None:
    d = IncidentDeduper(DedupConfig())
    first = run(d, event(source_id="cam-A", incident_id="a1", t=0.0))
    end = run(d, event(source_id="cam-A", incident_id="a1", phase=Phase.END, update_seq=1, t=5.0))
    assert (end.emit, end.phase) == (True, Phase.END)
    flare = run(d, event(source_id="cam-A", incident_id="a2", t=10.0))
    joiner = run(d, event(source_id="cam-B", incident_id="b1", t=11.0))  # same place, other camera
    assert (flare.emit, flare.phase, flare.update_seq) == (True, Phase.START, 0)
    assert flare.incident_id != first.incident_id
    assert joiner.incident_id == flare.incident_id and joiner.reason == "merged"
    # the regression: a member of the ended incident ending again sends nothing for that incident
    late_end = run(d, event(source_id="cam-A", incident_id="a1", phase=Phase.END, update_seq=2, t=12.0))
    assert (late_end.emit, late_end.reason) == (False, "unknown_incident")


def test_smoke_turning_into_fire_is_one_incident_with_a_kind_change_update() -> None:
    d = IncidentDeduper(DedupConfig())
    smoke = run(d, event(EventKind.SMOKE, source_id="cam-A", incident_id="s1", t=0.0))
    fire = run(d, event(EventKind.FIRE, source_id="cam-A", incident_id="f1", t=2.0))  # inside the cooldown
    back = run(d, event(EventKind.SMOKE, source_id="cam-A", incident_id="s1", phase=Phase.UPDATE, update_seq=1,
                        t=90.0))
    smoke_end = run(d, event(EventKind.SMOKE, source_id="cam-A", incident_id="s1", phase=Phase.END, update_seq=2,
                             t=95.0))
    fire_end = run(d, event(EventKind.FIRE, source_id="cam-A", incident_id="f1", phase=Phase.END, update_seq=1,
                            t=99.0))
    assert (smoke.phase, smoke.kind) == (Phase.START, EventKind.SMOKE)
    assert (fire.emit, fire.phase, fire.reason, fire.kind) == (True, Phase.UPDATE, "kind_changed", EventKind.FIRE)
    assert fire.incident_id == smoke.incident_id
    assert (back.emit, back.kind) == (True, EventKind.FIRE)  # never downgraded
    assert (smoke_end.emit, smoke_end.reason) == (False, "member_end")
    assert (fire_end.emit, fire_end.phase, fire_end.kind) == (True, Phase.END, EventKind.FIRE)
    assert [dec.update_seq for dec in (smoke, fire, back, fire_end)] == [0, 1, 2, 3]


def test_decide_has_no_side_effects_until_commit() -> None:
    d = IncidentDeduper(DedupConfig())
    ev = event(source_id="cam-A", incident_id="a1", t=0.0)
    pos = Position(LAT, LON, 5.0)
    first = d.decide(ev, pos, new_incident_id="X")
    assert d.decide(ev, pos, new_incident_id="X") == first
    assert len(d) == 0
    d.commit(first)
    assert len(d) == 1


def test_restored_incident_is_joined_after_restart() -> None:
    d = IncidentDeduper(DedupConfig())
    dec = run(d, event(EventKind.CONSTRUCTION, source_id="flight-1", incident_id="s1", t=0.0))
    assert dec.record is not None
    fresh = IncidentDeduper(DedupConfig())
    assert fresh.restore([dec.record]) == 1
    again = run(fresh, event(EventKind.CONSTRUCTION, source_id="flight-2", incident_id="s5", t=7 * DAY_S))
    assert again.incident_id == dec.incident_id and again.update_seq == 1


def test_unknown_end_is_suppressed_and_disabled_dedup_keeps_incidents_apart() -> None:
    d = IncidentDeduper(DedupConfig(enabled=False))
    assert run(d, event(phase=Phase.END, update_seq=4)).reason == "unknown_incident"
    a = run(d, event(source_id="cam-A", incident_id="a1", t=0.0))
    b = run(d, event(source_id="cam-B", incident_id="b1", t=1.0))
    assert a.incident_id != b.incident_id


def test_second_throw_from_the_same_camera_is_a_new_incident_but_a_second_camera_merges() -> None:
    d = IncidentDeduper(DedupConfig())
    t = 5000.0
    first = run(d, event(EventKind.THROW, source_id="cam-A", incident_id="throw-1", t=t))
    again = run(d, event(EventKind.THROW, source_id="cam-A", incident_id="throw-2", t=t + 2.0))
    other_cam = run(d, event(EventKind.THROW, source_id="cam-B", incident_id="b-throw-1", t=t + 0.2))
    assert (first.phase, first.reason) == (Phase.START, "new")
    assert (again.phase, again.reason) == (Phase.START, "new")
    assert again.incident_id != first.incident_id
    assert (other_cam.phase, other_cam.reason) == (Phase.UPDATE, "merged")
    late = run(d, event(EventKind.THROW, source_id="cam-C", incident_id="c-throw-1", t=t + 8.0))
    assert late.reason == "new", "a throw seen seconds later elsewhere on the facade is another throw"


# --------------------------------------------------------------------------- property: the lifecycle holds

from dataclasses import dataclass  # noqa: E402

from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from detectors.event import Phase as _Phase  # noqa: E402

_PLACES = [(0.0, 0.0), (40.0, 0.0), (5000.0, 0.0), None]  # two near each other, one far, one unknown


@dataclass(frozen=True)
class _Member:
    """One detector incident: its source, kind, place, start time, gaps between its events, and whether
    its detector ends it (an incident still open at the end of the run is left open)."""

    source: str
    kind: EventKind
    place: int
    start_s: float
    gaps_s: tuple[float, ...]
    ends: bool


_member = st.builds(
    _Member,
    source=st.sampled_from(["cam-A", "cam-B", "cam-C"]),
    kind=st.sampled_from([EventKind.FIRE, EventKind.SMOKE]),
    place=st.integers(0, len(_PLACES) - 1),
    start_s=st.floats(0.0, 1500.0).map(lambda v: round(v, 1)),
    gaps_s=st.lists(st.floats(0.5, 200.0).map(lambda v: round(v, 1)), min_size=0, max_size=4).map(tuple),
    ends=st.booleans(),
)


def _events(members: list[_Member]) -> list[Event]:
    out = []
    for i, m in enumerate(members):
        place = _PLACES[m.place]
        lat, lon = offset(*place) if place is not None else (None, None)
        t = m.start_s
        chain = [(_Phase.START, t)]
        for gap in m.gaps_s:
            t += gap
            chain.append((_Phase.UPDATE, t))
        if m.ends:
            chain.append((_Phase.END, t + 20.0))
        for seq, (phase, at) in enumerate(chain):
            out.append(event(m.kind, source_id=m.source, incident_id=f"{m.source}-{m.kind.value}-{i}",
                             phase=phase, update_seq=seq, t=at, lat=lat, lon=lon))
    return sorted(out, key=lambda e: e.trigger_captured_at)  # stable: a chain keeps its order


@settings(max_examples=150, deadline=None)
@given(members=st.lists(_member, min_size=1, max_size=8), merge=st.booleans())
def test_every_incident_has_one_start_then_updates_then_at_most_one_end(members: list[_Member], merge: bool) -> None:
    """Merges across cameras, cooldowns, smoke turning into fire, re-ignition after an end: whatever the
    interleaving, each alert incident reads start, updates, end, with consecutive update_seq, nothing
    after its end, a kind that only escalates (smoke -> fire, on an update that says so), and an end once
    every detector incident in it has ended."""
    d = IncidentDeduper(DedupConfig(merge_fire_smoke=merge))
    alerts: dict[str, list[Decision]] = {}
    member_incident: dict[tuple[str, str], str] = {}
    open_members: dict[str, set[tuple[str, str]]] = {}
    ended_members: set[tuple[str, str]] = set()
    for ev in _events(members):
        dec = run(d, ev)
        key = (ev.source_id, ev.incident_id)
        if ev.phase is _Phase.END:
            ended_members.add(key)
        if dec.incident_id is None:
            continue
        assert member_incident.setdefault(key, dec.incident_id) == dec.incident_id, "a member changed incident"
        open_members.setdefault(dec.incident_id, set()).add(key)
        if dec.emit:
            chain = alerts.setdefault(dec.incident_id, [])
            assert not chain or chain[-1].phase is not _Phase.END, f"{dec.incident_id}: alert after its end"
            chain.append(dec)
    for iid, chain in alerts.items():
        assert chain[0].phase is _Phase.START and [c.phase for c in chain].count(_Phase.START) == 1
        assert [c.update_seq for c in chain] == list(range(len(chain)))
        assert [c.phase for c in chain].count(_Phase.END) <= 1
        kinds = [c.kind for c in chain]
        for prev, cur, c in zip(kinds, kinds[1:], chain[1:], strict=False):
            if prev != cur:
                assert merge and (prev, cur) == (EventKind.SMOKE, EventKind.FIRE), kinds
                assert (c.phase, c.reason) == (_Phase.UPDATE, "kind_changed")
        if open_members[iid] <= ended_members:
            assert chain[-1].phase is _Phase.END, f"{iid}: every member ended but no end was sent"
        else:
            assert chain[-1].phase is not _Phase.END, f"{iid}: ended while a member was still open"
