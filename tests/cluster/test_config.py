"""The `cluster:` section: bounds, cross-field rules, and where the node's settings come from."""

from __future__ import annotations

from pathlib import Path

import pytest

from foundation.errors import ConfigError
from gridwatch.cluster.kafka_io import connection, group_consumer_settings
from gridwatch.cluster.node import cameras_opening_longer_than, read_node_config
from gridwatch.config import load_config_text


def test_defaults_and_an_empty_section_are_valid() -> None:
    root = load_config_text("cluster: {}\n").root
    assert root.cluster is not None and root.cluster.session_timeout_s == 10.0
    assert load_config_text("{}\n").root.cluster is None


@pytest.mark.parametrize(("section", "expected"), [
    ("{heartbeat_interval_s: 5, session_timeout_s: 10}", "at most a third"),
    ("{revoke_wait_s: 5, session_timeout_s: 10}", "below half"),
    ("{rebalance_timeout_s: 5, session_timeout_s: 10}", "at least session_timeout_s"),
    ("{registry_topic: same, assignment_topic: same}", "must be different"),
    ("{assignment_topic: 'bad topic'}", "1-249 characters"),
    ("{capacity: {max_cameras: -1}}", "cluster.capacity.max_cameras"),
    ("{capacity: {gpu_slots: 0}}", "cluster.capacity.gpu_slots"),
    ("{sesion_timeout_s: 6}", "unknown key 'sesion_timeout_s'"),
])
def test_bad_sections_name_the_key_and_the_rule(section: str, expected: str) -> None:
    with pytest.raises(ConfigError) as err:
        load_config_text(f"service: {{}}\ncluster: {section}\n", source="node.yaml")
    assert any(expected in p and p.startswith("node.yaml:2") for p in err.value.problems), err.value.problems


def test_connection_falls_back_to_alerts_kafka_and_client_settings_use_milliseconds() -> None:
    root = load_config_text(
        "cluster: {session_timeout_s: 6, heartbeat_interval_s: 1, revoke_wait_s: 2}\n"
        "alerts: {kafka: {bootstrap_servers: 'k1:9092,k2:9092'}}\n").root
    assert root.cluster is not None
    kafka = connection(root.cluster, root.alerts.kafka, "n.yaml")
    assert kafka.bootstrap_servers == ["k1:9092", "k2:9092"]
    settings = group_consumer_settings(root.cluster, kafka, "node a/1", object())
    assert settings["session_timeout_ms"] == 6000 and settings["heartbeat_interval_ms"] == 1000
    assert settings["max_poll_interval_ms"] == 30000 and settings["client_id"] == "gridwatch-node-node_a_1"
    assert settings["enable_auto_commit"] is False and settings["allow_auto_create_topics"] is False
    with pytest.raises(ConfigError, match="needs brokers"):
        connection(root.cluster, None, "n.yaml")


def test_node_config_needs_a_cluster_section_and_drops_its_own_cameras(tmp_path: Path) -> None:
    plain = tmp_path / "plain.yaml"
    plain.write_text("service: {node_id: n}\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="needs a `cluster:` section"):
        read_node_config(plain)
    node = tmp_path / "node.yaml"
    node.write_text("cluster: {}\ndetectors:\n  fire: {analysis_fps: 2}\ncameras:\n"
                    "  - {id: c1, source: {url: 'rtsp://h/1'}}\n", encoding="utf-8")
    cfg = read_node_config(node)
    assert cfg.listed_cameras == 1 and not cfg.loaded.cameras and not cfg.loaded.root.cameras
    assert cfg.base.detectors_raw == {"fire": {"analysis_fps": 2}}


def test_cli_resolves_only_the_kafka_settings_of_a_camera_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from gridwatch.cluster_cmd import cluster_settings

    path = tmp_path / "district.yaml"
    path.write_text(
        "cluster:\n  registry_topic: reg\n  kafka:\n    bootstrap_servers: ['k:9093']\n"
        "    security_protocol: SASL_SSL\n    sasl_mechanism: PLAIN\n    username: ops\n"
        "    password: ${GW_TEST_KAFKA_PW}\n"
        "cameras:\n  - {id: c1, source: {url: 'rtsp://v:${GW_TEST_CAM_PW_UNSET}@h/1'}}\n", encoding="utf-8")
    monkeypatch.setenv("GW_TEST_KAFKA_PW", "kafka-secret")
    cluster, kafka = cluster_settings(path)
    monkeypatch.delenv("GW_TEST_KAFKA_PW")
    assert cluster.registry_topic == "reg" and kafka.password is not None
    assert kafka.password.get_secret_value() == "kafka-secret", "the broker password is resolved"
    with pytest.raises(ConfigError, match="GW_TEST_KAFKA_PW is not set"):
        cluster_settings(path)
    path.write_text("cameras: []\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="no `cluster:` section"):
        cluster_settings(path)


def test_cameras_whose_open_may_outlast_the_revoke_wait_are_named() -> None:
    loaded = load_config_text(
        "cameras:\n"
        "  - {id: quick, source: {url: 'rtsp://a/x', open_timeout_s: 2}}\n"
        "  - {id: slow, source: {url: 'rtsp://a/y', open_timeout_s: 10}}\n")
    assert cameras_opening_longer_than(list(loaded.cameras.values()), 4.0) == ["slow"]
    assert cameras_opening_longer_than(list(loaded.cameras.values()), 10.0) == []
