"""What /metrics, /status and /readyz show of a cluster node (through the ClusterView the node provides)."""

from __future__ import annotations

from collections import Counter
from typing import Any

from gridwatch.config import load_config_text
from gridwatch.metric_names import METRIC_NAMES
from gridwatch.metrics import render
from gridwatch.ops import Operations
from gridwatch.service import Service


class FakeCluster:
    def __init__(self, ready: bool) -> None:
        self.buckets = [1, 4, 7]
        self.rebalances: Counter[str] = Counter({"assigned": 2, "revoked": 1, "fenced": 1})
        self.ready = ready
        self.member_ok = ready
        self.registry_counts = (30, 2)
        self.not_started: Counter[str] = Counter({"capacity": 3})

    def status(self) -> dict[str, Any]:
        return {"buckets": self.buckets, "cameras": []}


def ops_with(cluster: FakeCluster) -> Operations:
    ops = Operations(Service(load_config_text("service: {metrics: {enabled: false}}\n")), None, None)
    ops.cluster = cluster
    return ops


def test_cluster_families_are_exported_with_their_values() -> None:
    text = render(ops_with(FakeCluster(ready=True)).registry).decode()
    expected = [
        "gridwatch_cluster_buckets_assigned 3.0",
        'gridwatch_cluster_rebalances_total{outcome="fenced"} 1.0',
        "gridwatch_cluster_member 1.0",
        "gridwatch_cluster_registry_cameras 30.0",
        "gridwatch_cluster_registry_rejected 2.0",
        'gridwatch_cluster_cameras_not_started{reason="capacity"} 3.0',
        'gridwatch_cluster_cameras_not_started{reason="failed"} 0.0',
    ]
    for line in expected:
        assert line in text, line
    assert {"gridwatch_cluster_member", "gridwatch_cluster_registry_cameras", "gridwatch_cluster_registry_rejected",
            "gridwatch_cluster_cameras_not_started"} <= METRIC_NAMES


def test_status_carries_the_cluster_and_readiness_waits_for_the_group() -> None:
    ops = ops_with(FakeCluster(ready=False))
    assert ops.status()["cluster"] == {"buckets": [1, 4, 7], "cameras": []}
    ok, checks = ops.readiness()
    assert not ok and checks["cluster_joined"] is False
    text = render(ops.registry).decode()
    assert "gridwatch_cluster_member 0.0" in text
