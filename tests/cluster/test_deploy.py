"""deploy/ for cluster mode: the Kubernetes recipe (restricted pods, secrets from a Secret, a config that
validates, interchangeable replicas) and the topic recipe (argument checks, then a real broker)."""

from __future__ import annotations

import copy
import os
import shutil
import subprocess
import uuid
from pathlib import Path
from typing import Any

import pytest
import yaml

from gridwatch.cluster.registry import definitions_from_file
from gridwatch.config import load_config_text
from tests.deploy.deploycheck import (
    DEPLOY,
    METRICS_PORT,
    config_env_refs,
    env_secret_problems,
    k8s_objects,
    load_yaml_docs,
    pod_security_problems,
)
from tests.infra.kafka import KafkaBroker

K8S = DEPLOY / "k8s" / "cluster"
OBJECTS = [o for p in sorted(K8S.glob("*.yaml")) for o in k8s_objects(load_yaml_docs(p)) if o["kind"] != "Kustomization"]
KUSTOMIZATION = yaml.safe_load((K8S / "kustomization.yaml").read_text(encoding="utf-8"))
SCRIPT = DEPLOY / "kafka" / "cluster-topics.sh"


def the(kind: str) -> dict[str, Any]:
    found = [o for o in OBJECTS if o["kind"] == kind]
    assert len(found) == 1, kind
    return found[0]


DEPLOYMENT = the("Deployment")
POD = DEPLOYMENT["spec"]["template"]["spec"]
CONTAINER = POD["containers"][0]
CONFIG_TEXT: str = the("ConfigMap")["data"]["config.yaml"]


def test_kustomization_lists_the_objects_but_not_the_secret_example() -> None:
    resources = KUSTOMIZATION["resources"]
    assert all((K8S / r).is_file() for r in resources)
    assert "secret.example.yaml" not in resources and "cameras.example.yaml" not in resources
    kinds = {o["kind"] for r in resources for o in k8s_objects(load_yaml_docs(K8S / r))}
    assert {"Deployment", "ConfigMap", "Service", "ServiceAccount", "PodDisruptionBudget"} <= kinds
    assert "Secret" not in kinds
    assert all("namespace" not in o["metadata"] for o in OBJECTS)


def test_kustomize_renders() -> None:
    kubectl = shutil.which("kubectl")
    if kubectl is None:
        pytest.skip("kubectl not installed: `kubectl kustomize deploy/k8s/cluster` not checked")
    out = subprocess.run([kubectl, "kustomize", str(K8S)], check=False, capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    rendered = k8s_objects(yaml.safe_load_all(out.stdout))
    assert all(o["metadata"]["labels"]["app.kubernetes.io/part-of"] == "gridwatch" for o in rendered)


def test_pods_meet_the_restricted_profile_like_the_single_node_recipe() -> None:
    assert pod_security_problems(DEPLOYMENT) == []
    assert env_secret_problems(DEPLOYMENT) == []
    weakened = copy.deepcopy(DEPLOYMENT)
    weakened["spec"]["template"]["spec"]["containers"][0]["securityContext"]["readOnlyRootFilesystem"] = False
    assert pod_security_problems(weakened), "the check can fail"
    assert POD["automountServiceAccountToken"] is False
    assert POD["serviceAccountName"] == the("ServiceAccount")["metadata"]["name"]


def test_replicas_are_interchangeable_nodes_of_the_cluster() -> None:
    assert CONTAINER["args"] == ["run", "--cluster", "--config", "/etc/gridwatch/config.yaml"]
    assert DEPLOYMENT["spec"]["replicas"] >= 2
    rolling = DEPLOYMENT["spec"]["strategy"]["rollingUpdate"]
    assert DEPLOYMENT["spec"]["strategy"]["type"] == "RollingUpdate" and rolling["maxUnavailable"] == 1
    env = {e["name"]: e for e in CONTAINER["env"]}
    assert env["GRIDWATCH_NODE_ID"]["valueFrom"]["fieldRef"]["fieldPath"] == "metadata.name"
    volumes = {v["name"]: v for v in POD["volumes"]}
    outbox = next(m for m in CONTAINER["volumeMounts"] if m["mountPath"] == "/var/lib/gridwatch/outbox")
    assert "emptyDir" in volumes[outbox["name"]], "no shared ReadWriteOnce claim between replicas"
    models = next(m for m in CONTAINER["volumeMounts"] if m["mountPath"] == "/opt/gridwatch/models")
    claim = volumes[models["name"]]["persistentVolumeClaim"]["claimName"]
    pvc = the("PersistentVolumeClaim")
    assert pvc["metadata"]["name"] == claim and pvc["spec"]["accessModes"] == ["ReadOnlyMany"]
    pdb = the("PodDisruptionBudget")
    labels = DEPLOYMENT["spec"]["template"]["metadata"]["labels"]
    assert pdb["spec"]["maxUnavailable"] == 1
    assert all(labels.get(k) == v for k, v in pdb["spec"]["selector"]["matchLabels"].items())
    service = the("Service")
    assert all(labels.get(k) == v for k, v in service["spec"]["selector"].items())
    assert service["spec"]["ports"][0]["port"] == METRICS_PORT


def test_config_validates_with_a_cluster_section_and_grace_covers_the_shutdown() -> None:
    env = {name: "PLACEHOLDER" for name in config_env_refs(CONFIG_TEXT)}
    root = load_config_text(CONFIG_TEXT, source="k8s/cluster/configmap.yaml", env=env).root
    assert root.cluster is not None and not root.cameras, "cameras come from the registry"
    assert root.service.metrics.address == "0.0.0.0" and root.service.metrics.port == METRICS_PORT
    assert root.alerts.kafka is not None and root.alerts.evidence.store.type == "s3"
    assert str(root.alerts.outbox.path).startswith("/var/lib/gridwatch/outbox/")
    grace = POD["terminationGracePeriodSeconds"]
    assert grace > root.service.shutdown_timeout_s + root.cluster.revoke_wait_s + 10
    from_secrets = {e["name"] for e in CONTAINER["env"] if "secretKeyRef" in e.get("valueFrom", {})}
    assert config_env_refs(CONFIG_TEXT) - {"GRIDWATCH_NODE_ID"} <= from_secrets
    example = yaml.safe_load((K8S / "secret.example.yaml").read_text(encoding="utf-8"))
    keys = {e["valueFrom"]["secretKeyRef"]["key"] for e in CONTAINER["env"] if "secretKeyRef" in e.get("valueFrom", {})}
    assert keys <= set(example["stringData"]) and all(v.startswith("PLACEHOLDER") for v in example["stringData"].values())


def test_camera_list_example_syncs_and_its_references_are_provided_to_the_nodes() -> None:
    _root, defs = definitions_from_file(K8S / "cameras.example.yaml")
    assert defs
    refs = {r for d in defs.values() for r in config_env_refs(yaml.safe_dump(dict(d.camera)))}
    assert refs, "camera passwords travel as ${...} references"
    assert refs <= {e["name"] for e in CONTAINER["env"]}, "every node can resolve every camera's references"


# --------------------------------------------------------------------------------------- topics script

def run(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    base = {k: v for k, v in os.environ.items()
            if not k.startswith(("GRIDWATCH_TOPIC_", "GRIDWATCH_REGISTRY", "GRIDWATCH_ASSIGNMENT", "GRIDWATCH_KAFKA_",
                                 "GRIDWATCH_BUCKETS"))
            and k not in ("KAFKA_TOPICS_CMD", "KAFKA_HOME")}
    return subprocess.run([str(SCRIPT), *args], check=False, capture_output=True, text=True, timeout=180,
                          env={**base, **env})


def test_topic_script_checks_arguments_and_prints_the_recipe() -> None:
    assert os.access(SCRIPT, os.X_OK)
    assert run().returncode == 2
    assert run("--bootstrap-server", "k:9", "--buckets", "0").returncode == 2
    same = run("--bootstrap-server", "k:9", "--registry-topic", "t", "--assignment-topic", "t")
    assert same.returncode == 2 and "must differ" in same.stderr
    assert run("--bootstrap-server", "k:9", "--replication-factor", "1", "--min-insync-replicas", "2").returncode == 2
    dry = run("--bootstrap-server", "k:9", "--dry-run")
    assert dry.returncode == 0, dry.stderr
    registry, _, assignment, _ = dry.stdout.strip().splitlines()
    for part in ("--topic gridwatch.cameras", "--partitions 1", "cleanup.policy=compact", "min.insync.replicas=2",
                 "--replication-factor 3"):
        assert part in registry, part
    for part in ("--topic gridwatch.buckets", "--partitions 128", "cleanup.policy=delete"):
        assert part in assignment, part
    dev = run("--dry-run", "--buckets", "12", GRIDWATCH_KAFKA_BOOTSTRAP="127.0.0.1:9092", GRIDWATCH_TOPIC_REPLICATION="1")
    assert "--partitions 12" in dev.stdout and "development only" in dev.stderr


@pytest.mark.integration
def test_topic_script_creates_both_topics_and_refuses_a_bucket_count_change(kafka_broker: KafkaBroker) -> None:
    from tests.deploy.test_kafka_topics import topic_state

    suffix = uuid.uuid4().hex[:8]
    args = ("--bootstrap-server", kafka_broker.bootstrap, "--registry-topic", f"gw-reg-{suffix}",
            "--assignment-topic", f"gw-bkt-{suffix}", "--replication-factor", "1")
    first = run(*args, "--buckets", "12")
    assert first.returncode == 0, first.stderr
    assert first.stdout.split() == [f"gw-reg-{suffix}", f"gw-bkt-{suffix}"]
    partitions, _, configs = topic_state(kafka_broker.bootstrap, f"gw-reg-{suffix}")
    assert partitions == 1 and configs["cleanup.policy"] == "compact"
    assert topic_state(kafka_broker.bootstrap, f"gw-bkt-{suffix}")[0] == 12
    changed = run(*args, "--buckets", "16")
    assert changed.returncode == 1 and "partitions: 12, recipe 16" in changed.stderr
    assert topic_state(kafka_broker.bootstrap, f"gw-bkt-{suffix}")[0] == 12, "never changes the bucket count"


def test_readme_documents_cluster_mode() -> None:
    readme = (DEPLOY / "README.md").read_text(encoding="utf-8")
    section = readme[readme.index("## Cluster mode"):]
    for words in ("cluster-topics.sh", "cameras sync", "cluster status", "cooperative", "session_timeout_s",
                  "max_cameras", "gpu_slots", "k8s/cluster"):
        assert words in section, words
    assert Path(DEPLOY / "kafka" / "cluster-topics.sh").is_file()
