"""`list_alerts` by area, kind and time, and `group_alerts` ("everything in this community today")."""

import json
from pathlib import Path

import pytest

from alerts.grid import GridLevel
from alerts.pipeline import AlertPipeline
from alerts.reader import group_alerts, list_alerts
from alerts.schema import Alert
from detectors.event import EventKind, GeoMethod
from tests.alerts.factories import MG_B_LAT, MG_B_LON, FakeClock, alerts_config, event, throw_event
from tests.alerts.test_district import grid_config

T0 = 1_700_000_000.0


@pytest.fixture
def outbox_with_alerts(tmp_path: Path, repo_root: Path) -> Path:
    """Five alerts: fire and throw in 乙08社区 (SJ-02-08), construction in 丙09社区 (SJ-03-09), one outside
    the grid, one read from schema 1.0 (no levels); created a day apart where it matters."""
    clock = FakeClock(T0)
    cfg = alerts_config(tmp_path, grid=grid_config(repo_root), evidence={"enabled": False})
    p = AlertPipeline(cfg, node_id="n", config_version="c", clock=clock)
    assert p.handle(event(EventKind.FIRE, source_id="cam-1", incident_id="f1"))
    assert p.handle(throw_event(source_id="cam-2", incident_id="t1"))
    clock.advance(86400.0)
    assert p.handle(event(EventKind.CONSTRUCTION, source_id="drone-1", incident_id="c1", lat=MG_B_LAT, lon=MG_B_LON,
                          method=GeoMethod.DRONE_RAY))
    assert p.handle(event(EventKind.FIRE, source_id="cam-3", incident_id="f2", lat=34.95, lon=113.29))
    line = (Path(__file__).with_name("compat") / "alerts-1.0.jsonl").read_text(encoding="utf-8").splitlines()[0]
    p.outbox.put(Alert.model_validate(json.loads(line)), trigger_captured_at=T0)
    p.close()
    return tmp_path


def test_filter_by_any_level_by_id_or_name(outbox_with_alerts: Path, repo_root: Path) -> None:
    cfg = alerts_config(outbox_with_alerts).outbox

    def sources(**kw: object) -> list[str]:
        return sorted(r.source for r in list_alerts(cfg, limit=None, **kw))  # type: ignore[arg-type]

    assert sources(areas={GridLevel.COMMUNITY: "乙08社区"}) == ["cam-1", "cam-2"]
    assert sources(areas={GridLevel.COMMUNITY: "SJ-02-08"}) == ["cam-1", "cam-2"]
    assert sources(areas={GridLevel.STREET: "丙街道"}) == ["drone-1"]
    assert sources(areas={GridLevel.MICRO_GRID: "SJ-03-09-04-4"}) == ["drone-1"]
    assert sources(areas={GridLevel.GRID: "SJ-02-08-02", GridLevel.STREET: "SJ-03"}) == []  # all must hold
    assert sources(areas={GridLevel.COMMUNITY: "SJ-02"}) == []  # exact, not prefix
    assert sources(areas={GridLevel.COMMUNITY: "乙08社区"}, kind="throw") == ["cam-2"]


def test_filter_by_time_and_limit(outbox_with_alerts: Path) -> None:
    cfg = alerts_config(outbox_with_alerts).outbox
    day_two = list_alerts(cfg, since_s=T0 + 3600.0, limit=None)
    assert sorted(r.source for r in day_two) == ["cam-3", "drone-1"]
    assert len(list_alerts(cfg, limit=None)) == 5 and len(list_alerts(cfg, limit=2)) == 2
    assert list_alerts(cfg, since_s=T0 + 3600.0, areas={GridLevel.COMMUNITY: "乙08社区"}) == []


def test_group_by_level_team_and_kind(outbox_with_alerts: Path) -> None:
    rows = list_alerts(alerts_config(outbox_with_alerts).outbox, limit=None)
    by_community = {g.key: (g.name, g.alerts, len(g.incidents), dict(g.kinds))
                    for g in group_alerts(rows, GridLevel.COMMUNITY)}
    assert by_community == {
        "SJ-02-08": ("乙08社区", 2, 2, {"fire": 1, "throw": 1}),
        "SJ-03-09": ("丙09社区", 1, 1, {"construction": 1}),
        "-": ("(no community)", 2, 2, {"fire": 2}),  # outside the grid, and the 1.0 alert
    }
    assert [g.key for g in group_alerts(rows, GridLevel.COMMUNITY)] == ["-", "SJ-02-08", "SJ-03-09"]  # largest first
    teams = {g.key: g.alerts for g in group_alerts(rows, "officer_team")}
    assert teams == {"OT-0548": 2, "OT-0975": 1, "-": 2}
    assert {g.key: g.alerts for g in group_alerts(rows, "kind")} == {"fire": 3, "throw": 1, "construction": 1}
