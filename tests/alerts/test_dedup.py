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


def test_camera_without_position_rejoins_its_own_incident_only() -> None:
    d = IncidentDeduper(DedupConfig())
    a = run(d, event(source_id="cam-A", incident_id="a1", t=0.0, lat=None, lon=None))
    run(
        d,
        event(source_id="cam-A", incident_id="a1", phase=Phase.END, update_seq=1, t=20.0, lat=None, lon=None),
    )
    again = run(d, event(source_id="cam-A", incident_id="a2", t=100.0, lat=None, lon=None))
    other = run(d, event(source_id="cam-B", incident_id="b1", t=100.0, lat=None, lon=None))
    assert again.incident_id == a.incident_id and (again.phase, again.reason) == (Phase.UPDATE, "rejoined")
    assert other.incident_id != a.incident_id


def test_flapping_detector_rejoin_within_cooldown_is_suppressed() -> None:
    d = IncidentDeduper(DedupConfig())
    run(d, event(source_id="cam-A", incident_id="a1", t=0.0))
    run(d, event(source_id="cam-A", incident_id="a1", phase=Phase.END, update_seq=1, t=5.0))
    flap = run(d, event(source_id="cam-A", incident_id="a2", t=10.0))
    assert (flap.emit, flap.reason) == (False, "cooldown")
    later = run(d, event(source_id="cam-A", incident_id="a2", phase=Phase.UPDATE, update_seq=1, t=80.0))
    assert (later.emit, later.phase) == (True, Phase.UPDATE)


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
