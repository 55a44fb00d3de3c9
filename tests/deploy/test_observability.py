"""Grafana dashboard and Prometheus alert rules: every series they use exists, and promtool agrees."""

from __future__ import annotations

import copy
import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from gridwatch.metric_names import METRIC_NAMES
from tests.deploy.deploycheck import (
    DEPLOY,
    dashboard_panels,
    dashboard_problems,
    dashboard_queries,
    parse_promql,
    promql_problems,
    rule_exprs,
    rules_problems,
    substitute_grafana_vars,
)

DASHBOARD_PATH = DEPLOY / "grafana" / "gridwatch-dashboard.json"
RULES_PATH = DEPLOY / "prometheus" / "gridwatch-rules.yml"
RULES_TEST_PATH = DEPLOY / "prometheus" / "gridwatch-rules.test.yml"
DASHBOARD: dict[str, Any] = json.loads(DASHBOARD_PATH.read_text(encoding="utf-8"))
RULES: dict[str, Any] = yaml.safe_load(RULES_PATH.read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def promtool() -> str:
    path = shutil.which("promtool")
    if path is None:
        pytest.fail("promtool not found: install Debian's prometheus package (deploy/dev/bootstrap.sh does)")
    return path


def promtool_run(*cmd: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(list(cmd), check=False, capture_output=True, text=True, timeout=60)


def used_metrics(exprs: list[tuple[str, str]]) -> set[str]:
    return {s.metric for _, e in exprs for s in parse_promql(e).selectors}


# ------------------------------------------------------------------------------------- cross-check

def test_dashboard_uses_only_exported_metrics_and_labels() -> None:
    assert dashboard_problems(DASHBOARD) == []


def test_rules_use_only_exported_metrics_and_labels() -> None:
    assert rules_problems(RULES) == []


def test_cross_check_catches_misspelled_metrics_labels_and_states() -> None:
    broken: dict[str, Any] = {
        "panels": [{"title": "bad", "targets": [
            {"refId": "A", "expr": 'sum(rate(gridwatch_camera_reconect_total{instance=~"$instance"}[5m]))'},
            {"refId": "B", "expr": "gridwatch_outbox_depth_count"},
            {"refId": "C", "expr": 'gridwatch_camera_up{camera="cam-1"}'},
            {"refId": "D", "expr": 'gridwatch_camera_state{state="streamin"} == 1'},
            {"refId": "E", "expr": "rate(gridwatch_outbox_depth[5m])"},
            {"refId": "F", "expr": "sum by (model) (gridwatch_outbox_depth)"},
            {"refId": "G", "expr": "histogram_quantile(0.9, rate(gridwatch_frame_to_ack_seconds[5m]))"},
        ]}],
        "templating": {"list": [{"name": "cam", "type": "query",
                                 "query": "label_values(gridwatch_camera_up, camera)"}]},
    }
    broken["panels"].append({"title": "no query", "type": "timeseries",
                             "targets": [["gridwatch_camera_up", ""]]})
    problems = "\n".join(dashboard_problems(broken))
    for expected in ("unknown metric 'gridwatch_camera_reconect_total'",
                     "unknown metric 'gridwatch_outbox_depth_count'",  # suffix on a gauge
                     "has no label 'camera'",
                     "['streamin'] not in CAMERA_STATES",
                     "rate() over gridwatch_outbox_depth, a gauge",
                     "grouping label 'model'",
                     "histogram gridwatch_frame_to_ack_seconds used without",
                     "grouping label 'camera' is on none",
                     "panel 'no query': every target needs a PromQL expr"):
        assert expected in problems, f"{expected!r} not reported:\n{problems}"


def test_cross_check_accepts_histogram_series_and_prometheus_up() -> None:
    good = ('histogram_quantile(0.99, sum by (le) (rate(gridwatch_frame_to_ack_seconds_bucket[5m]))) '
            '+ rate(gridwatch_frame_to_ack_seconds_sum[5m]) / rate(gridwatch_frame_to_ack_seconds_count[5m]) '
            '+ on (job, instance) up{job="gridwatch"}')
    assert promql_problems(good, "good") == []


def test_dashboard_and_rules_cover_the_metrics_operators_need() -> None:
    dash = used_metrics(dashboard_queries(DASHBOARD))
    for name in ("gridwatch_camera_up", "gridwatch_camera_state", "gridwatch_camera_last_frame_age_seconds",
                 "gridwatch_camera_reconnects_total", "gridwatch_camera_stall_seconds_total",
                 "gridwatch_camera_frames_dropped_total", "gridwatch_model_batch_size_bucket",
                 "gridwatch_model_inference_seconds_bucket", "gridwatch_model_queue_delay_seconds_bucket",
                 "gridwatch_detector_events_total", "gridwatch_outbox_depth", "gridwatch_outbox_capacity",
                 "gridwatch_publish_total", "gridwatch_frame_to_ack_seconds_bucket",
                 "gridwatch_config_reloads_total"):
        assert name in dash, name
    rules = used_metrics(rule_exprs(RULES))
    for name in ("gridwatch_camera_state", "gridwatch_camera_last_frame_age_seconds", "gridwatch_camera_up",
                 "gridwatch_outbox_depth", "gridwatch_outbox_high_water", "gridwatch_publish_total",
                 "gridwatch_broker_up", "gridwatch_frame_to_ack_seconds_bucket",
                 "gridwatch_config_reloads_total", "gridwatch_model_ready"):
        assert name in rules, name
    assert {m for m in dash | rules if m != "up"} <= {
        *METRIC_NAMES, *(f"{n}{s}" for n in METRIC_NAMES for s in ("_bucket", "_sum", "_count"))}


# ------------------------------------------------------------------------------------- dashboard

def test_dashboard_is_templated_and_uses_the_datasource_variable() -> None:
    variables = {v["name"]: v for v in DASHBOARD["templating"]["list"]}
    assert variables["datasource"]["type"] == "datasource"
    assert variables["datasource"]["query"] == "prometheus"
    assert {"camera_id", "model"} <= set(variables)
    exprs = " ".join(e for _, e in dashboard_queries(DASHBOARD))
    assert '$camera_id"' in exprs and '$model"' in exprs
    ids = []
    for panel in dashboard_panels(DASHBOARD):
        ids.append(panel["id"])
        pos = panel["gridPos"]
        assert pos["x"] >= 0 and pos["x"] + pos["w"] <= 24, panel["title"]
        if panel["type"] == "row":
            continue
        assert panel["datasource"] == {"type": "prometheus", "uid": "${datasource}"}, panel["title"]
        for target in panel["targets"]:
            assert target["datasource"]["uid"] == "${datasource}", panel["title"]
    assert len(ids) == len(set(ids)), "panel ids are unique"
    assert DASHBOARD["uid"] and DASHBOARD["title"]


def test_dashboard_queries_parse_with_promtool(promtool: str, tmp_path: Path) -> None:
    """promtool parses each dashboard query (Grafana variables substituted) as a recording rule."""
    rules = [{"record": f"gridwatch_dashboard:query_{i}", "expr": substitute_grafana_vars(expr)}
             for i, (_, expr) in enumerate(dashboard_queries(DASHBOARD))]
    path = tmp_path / "dashboard-queries.yml"
    path.write_text(yaml.safe_dump({"groups": [{"name": "dashboard", "rules": rules}]}))
    out = promtool_run(promtool, "check", "rules", str(path))
    assert out.returncode == 0, out.stdout + out.stderr


# ------------------------------------------------------------------------------------- alert rules

def test_rules_have_for_severity_and_annotations() -> None:
    names = {r["alert"] for g in RULES["groups"] for r in g["rules"] if "alert" in r}
    assert {"GridwatchCameraStalled", "GridwatchManyCamerasDown", "GridwatchOutboxHighWater",
            "GridwatchOutboxGrowing", "GridwatchPublishFailures", "GridwatchBrokerDown",
            "GridwatchFrameToAckSlow", "GridwatchConfigReloadFailed", "GridwatchModelNotReady"} <= names


def test_rule_structure_check_can_fail() -> None:
    broken = copy.deepcopy(RULES)
    rule = broken["groups"][0]["rules"][0]
    del rule["for"]
    rule["labels"]["severity"] = "page"
    del rule["annotations"]["summary"]
    problems = "\n".join(rules_problems(broken))
    assert "no `for:`" in problems and "severity" in problems and "no summary" in problems


def test_promtool_check_rules(promtool: str) -> None:
    out = promtool_run(promtool, "check", "rules", str(RULES_PATH))
    assert out.returncode == 0, out.stdout + out.stderr
    assert "SUCCESS" in out.stdout


def test_promtool_unit_tests_pass(promtool: str) -> None:
    out = promtool_run(promtool, "test", "rules", str(RULES_TEST_PATH))
    assert out.returncode == 0, out.stdout + out.stderr


def test_promtool_unit_tests_fail_when_a_rule_breaks(promtool: str, tmp_path: Path) -> None:
    """The unit tests have teeth: a stalled-camera rule that ignores the state makes them fail."""
    text = RULES_PATH.read_text(encoding="utf-8")
    needle = 'state=~"connecting|cannot_connect|no_packets|no_decode|frozen|failed"'
    assert needle in text
    (tmp_path / RULES_PATH.name).write_text(text.replace(needle, 'state="failed"'))
    shutil.copy(RULES_TEST_PATH, tmp_path / RULES_TEST_PATH.name)
    out = promtool_run(promtool, "test", "rules", str(tmp_path / RULES_TEST_PATH.name))
    assert out.returncode != 0
    assert "GridwatchCameraStalled" in out.stdout + out.stderr
