"""Cluster mode and the topic recipes over the real broker's secured listeners (SASL_SSL with
SCRAM-SHA-512, and mutual TLS): `cluster-topics.sh` / `topics.sh` with a `--command-config`, `gridwatch
cameras sync`, a `gridwatch run --cluster` node that reads the registry and joins the group, and
`gridwatch cluster status`, all through one secured listener. The SASL password reaches the processes only
through the environment and must appear in no output."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest

from tests.infra.kafka import KafkaBroker, Listener
from tests.infra.ports import free_port
from tests.infra.service import REPO, GridwatchProcess

pytestmark = [pytest.mark.integration, pytest.mark.slow]

BUCKETS = 4
CAMERAS = ["cam-a", "cam-b", "cam-c"]


def kafka_yaml(listener: Listener) -> str:
    """The listener's gridwatch settings as a YAML flow mapping; the password as ${KAFKA_PW}."""
    items = {**listener.kafka}
    if "password" in items:
        items["password"] = "${KAFKA_PW}"
    return "{" + ", ".join(f'{k}: "{v}"' for k, v in items.items()) + "}"


def run(args: list[str], env: dict[str, str], timeout_s: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run(args, capture_output=True, text=True, env=env, cwd=REPO, timeout=timeout_s, check=False)


@pytest.mark.parametrize("name", ["SASL_SSL", "MTLS"])
def test_topic_recipes_sync_node_and_status_over_the_secured_listener(
    tmp_path: Path, kafka_broker: KafkaBroker, name: str
) -> None:
    if not kafka_broker.secure:
        pytest.skip("GRIDWATCH_TEST_KAFKA names an external broker: no secured listeners")
    listener = kafka_broker.listener(name)
    password = str(listener.kafka.get("password", ""))
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GRIDWATCH_", "KAFKA_"))}
    env |= {"PYTHONPATH": str(REPO), "KAFKA_PW": password}
    suffix = uuid.uuid4().hex[:8]
    registry, assignment, alerts = f"gw-reg-{suffix}", f"gw-asg-{suffix}", f"gw-alerts-{suffix}"

    client_properties = tmp_path / "client.properties"
    client_properties.write_text(listener.java_properties)
    topics = run([str(REPO / "deploy/kafka/cluster-topics.sh"), "--bootstrap-server", listener.bootstrap,
                  "--command-config", str(client_properties), "--registry-topic", registry,
                  "--assignment-topic", assignment, "--buckets", str(BUCKETS), "--replication-factor", "1"], env)
    assert topics.returncode == 0, topics.stderr
    assert topics.stdout.split() == [registry, assignment]
    if name == "SASL_SSL":  # the alerts recipe shares topics-lib.sh with the cluster one: one listener is enough
        alerts_topic = run([str(REPO / "deploy/kafka/topics.sh"), "--bootstrap-server", listener.bootstrap,
                            "--command-config", str(client_properties), "--topic", alerts, "--partitions", "3",
                            "--replication-factor", "1"], env)
        assert alerts_topic.returncode == 0, alerts_topic.stderr
        assert alerts_topic.stdout.strip() == alerts

    cluster_yaml = (f"cluster:\n  kafka: {kafka_yaml(listener)}\n  group_id: gw-secure-{suffix}\n"
                    f"  registry_topic: {registry}\n  assignment_topic: {assignment}\n"
                    "  session_timeout_s: 6\n  heartbeat_interval_s: 1\n  revoke_wait_s: 2\n")
    district = tmp_path / "district.yaml"
    district.write_text(cluster_yaml + "cameras:\n" + "".join(
        f"  - {{id: {cid}, source: {{url: 'rtsp://127.0.0.1:9/{cid}'}}, detectors: {{fire: {{}}}}, "
        "site: {lat_deg: 30.2472, lon_deg: 120.2021}}\n" for cid in CAMERAS), encoding="utf-8")
    gridwatch = [sys.executable, "-m", "gridwatch"]
    sync = run([*gridwatch, "cameras", "sync", str(district)], env)
    assert sync.returncode == 0, sync.stderr
    assert f"published {len(CAMERAS)} record(s)" in sync.stdout

    port = free_port()
    node_cfg = tmp_path / "node.yaml"
    node_cfg.write_text(cluster_yaml + f"service:\n  node_id: secure-node\n  reload_poll_s: 0\n"
                        f"  metrics: {{enabled: true, address: 127.0.0.1, port: {port}}}\n"
                        f"alerts:\n  outbox: {{path: {tmp_path}/outbox.sqlite3}}\n  evidence: {{enabled: false}}\n",
                        encoding="utf-8")
    node = GridwatchProcess(node_cfg, tmp_path, http_port=port, env={"KAFKA_PW": password},
                            extra_args=["--cluster"]).start()
    try:
        node.wait_ready(90)
        deadline = time.monotonic() + 30
        while sorted(node.json("/status")["cameras"]) != CAMERAS and time.monotonic() < deadline:
            time.sleep(0.5)
        assert sorted(node.json("/status")["cameras"]) == CAMERAS

        status = run([*gridwatch, "cluster", "status", "--config", str(node_cfg), "--json"], env)
        assert status.returncode == 0, status.stderr
        group = json.loads(status.stdout)
        assert [m["node_id"] for m in group["members"]] == ["secure-node"]
        assert group["members"][0]["buckets"] == list(range(BUCKETS))
        assert group["members"][0]["cameras"] == CAMERAS and group["unheld_buckets"] == []
    finally:
        assert node.stop() == 0
    outputs = [topics.stdout, topics.stderr, sync.stdout, sync.stderr, status.stdout,
               status.stderr, node.log_text()]
    if password:
        assert not any(password in text for text in outputs)
    assert "Traceback" not in node.log_text()
