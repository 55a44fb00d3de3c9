"""Kubernetes manifests: they parse, render with kustomize, and meet the restricted pod security profile."""

from __future__ import annotations

import copy
import json
import shutil
import subprocess
from typing import Any

import pytest
import yaml

from tests.deploy.deploycheck import (
    DEPLOY,
    METRICS_PORT,
    SHUTDOWN_DEADLINE_S,
    config_env_refs,
    env_file,
    env_secret_problems,
    k8s_objects,
    load_yaml_docs,
    pod_security_problems,
    pod_spec,
)

K8S = DEPLOY / "k8s"
OBJECTS = [obj for path in sorted(K8S.glob("*.yaml")) for obj in k8s_objects(load_yaml_docs(path))
           if obj["kind"] != "Kustomization"]
KUSTOMIZATION = yaml.safe_load((K8S / "kustomization.yaml").read_text())
WORKLOADS = [o for o in OBJECTS if pod_spec(o) is not None]


def by_kind(kind: str) -> list[dict[str, Any]]:
    return [o for o in OBJECTS if o["kind"] == kind]


def the(kind: str, name: str) -> dict[str, Any]:
    return next(o for o in OBJECTS if o["kind"] == kind and o["metadata"]["name"] == name)


DEPLOYMENT = the("Deployment", "gridwatch")
POD = DEPLOYMENT["spec"]["template"]["spec"]
CONTAINER = POD["containers"][0]


def test_every_manifest_is_a_namespace_agnostic_object() -> None:
    kinds = {o["kind"] for o in OBJECTS}
    expected = {"Deployment", "Service", "ConfigMap", "Secret", "PersistentVolumeClaim", "ServiceAccount"}
    assert expected <= kinds
    for obj in OBJECTS:
        assert "namespace" not in obj["metadata"], f"{obj['kind']}/{obj['metadata']['name']} pins a namespace"


def test_kustomization_lists_existing_files_but_not_the_secret_example() -> None:
    resources = KUSTOMIZATION["resources"]
    for res in resources:
        assert (K8S / res).is_file(), res
    assert "secret.example.yaml" not in resources, "applying must never overwrite real credentials"
    for obj in k8s_objects(y for res in resources for y in load_yaml_docs(K8S / res)):
        assert obj["kind"] != "Secret"


def test_kustomize_renders() -> None:
    kubectl = shutil.which("kubectl")
    if kubectl is None:
        pytest.skip("kubectl not installed: `kubectl kustomize deploy/k8s` not checked")
    out = subprocess.run([kubectl, "kustomize", str(K8S)], check=False, capture_output=True, text=True,
                         timeout=60)
    assert out.returncode == 0, out.stderr
    rendered = k8s_objects(yaml.safe_load_all(out.stdout))
    kinds = sorted(o["kind"] for o in rendered)
    assert kinds.count("PersistentVolumeClaim") == 3 and "Deployment" in kinds and "Secret" not in kinds
    for obj in rendered:
        assert obj["metadata"]["labels"]["app.kubernetes.io/part-of"] == "gridwatch"
    deployment = next(o for o in rendered if o["kind"] == "Deployment")
    assert deployment["spec"]["template"]["spec"]["containers"][0]["image"].endswith(":0.1.0")


def test_pod_security_restricted_profile_on_every_workload() -> None:
    assert WORKLOADS, "no workload found"
    for obj in WORKLOADS:
        assert pod_security_problems(obj) == []


@pytest.mark.parametrize(("path", "value", "expected"), [
    (("containers", 0, "securityContext", "capabilities", "drop"), [], "do not drop ALL"),
    (("containers", 0, "securityContext", "allowPrivilegeEscalation"), True, "allowPrivilegeEscalation"),
    (("containers", 0, "securityContext", "readOnlyRootFilesystem"), False, "readOnlyRootFilesystem"),
    (("containers", 0, "securityContext", "runAsUser"), 0, "runAsUser"),
    (("containers", 0, "securityContext", "seccompProfile", "type"), "Unconfined", "seccompProfile"),
    (("securityContext", "runAsNonRoot"), False, None),  # the container repeats it: still fine
    (("hostNetwork",), True, "hostNetwork"),
])
def test_pod_security_check_catches_weakened_pods(
    path: tuple[Any, ...], value: Any, expected: str | None,
) -> None:
    broken = copy.deepcopy(DEPLOYMENT)
    node: Any = broken["spec"]["template"]["spec"]
    for key in path[:-1]:
        node = node[key]
    node[path[-1]] = value
    problems = pod_security_problems(broken)
    if expected is None:
        assert problems == []
    else:
        assert any(expected in p for p in problems), problems


def test_probes_point_at_health_endpoints_on_the_metrics_port() -> None:
    ports = {p["name"]: p["containerPort"] for p in CONTAINER["ports"]}
    expected = {"startupProbe": "/healthz", "livenessProbe": "/healthz", "readinessProbe": "/readyz"}
    for probe, path in expected.items():
        get = CONTAINER[probe]["httpGet"]
        assert get["path"] == path, probe
        port = get["port"]
        assert ports.get(port, port) == METRICS_PORT, probe
    startup = CONTAINER["startupProbe"]
    assert startup["periodSeconds"] * startup["failureThreshold"] >= 300, "startup must allow model warm-up"


def test_gpu_resources_requests_limits_and_grace_period() -> None:
    res = CONTAINER["resources"]
    assert str(res["limits"]["nvidia.com/gpu"]) == "1"
    for kind in ("requests", "limits"):
        assert {"cpu", "memory"} <= set(res[kind]), kind
    assert POD["terminationGracePeriodSeconds"] > SHUTDOWN_DEADLINE_S
    assert DEPLOYMENT["spec"]["replicas"] == 1
    assert DEPLOYMENT["spec"]["strategy"]["type"] == "Recreate", "one SQLite outbox writer at a time"


def test_secrets_come_from_secret_refs() -> None:
    for obj in WORKLOADS:
        assert env_secret_problems(obj) == []
    refs = [e["valueFrom"]["secretKeyRef"] for e in CONTAINER["env"]
            if "secretKeyRef" in e.get("valueFrom", {})]
    assert refs, "the Deployment takes its secrets from a Secret"
    example = the("Secret", "gridwatch-secrets")
    for ref in refs:
        assert ref["name"] == "gridwatch-secrets"
        assert ref["key"] in example["stringData"], ref
    for value in example["stringData"].values():
        assert value.startswith("PLACEHOLDER"), "the example Secret holds placeholders only"


def test_secret_check_catches_inline_passwords() -> None:
    broken = copy.deepcopy(DEPLOYMENT)
    broken["spec"]["template"]["spec"]["containers"][0]["env"].append(
        {"name": "GRIDWATCH_KAFKA_SASL_PASSWORD_2", "value": "not-a-real-secret"})
    problems = env_secret_problems(broken)
    assert any("inline value" in p for p in problems), problems


def test_every_secret_the_config_references_is_provided() -> None:
    config = the("ConfigMap", "gridwatch-config")["data"]["config.yaml"]
    refs = config_env_refs(config)
    assert refs, "the example config references its secrets as ${NAME}"
    from_secrets = {e["name"] for e in CONTAINER["env"] if "secretKeyRef" in e.get("valueFrom", {})}
    assert refs <= from_secrets, refs - from_secrets
    systemd_env = env_file((DEPLOY / "systemd" / "gridwatch.env.example").read_text())
    assert refs <= set(systemd_env), refs - set(systemd_env)
    yaml.safe_load(config)  # the embedded config is YAML


def _example_config() -> tuple[str, dict[str, str]]:
    text: str = the("ConfigMap", "gridwatch-config")["data"]["config.yaml"]
    return text, {name: "PLACEHOLDER" for name in config_env_refs(text)}


def test_example_config_sections_validate_and_use_the_volumes() -> None:
    """Each section of the example config against its package's model (where that package exists)."""
    alerts_config = pytest.importorskip("alerts.config")
    ingest_config = pytest.importorskip("ingest.config")
    models_config = pytest.importorskip("models.config")
    from foundation.yamlsafe import load_yaml

    text, env = _example_config()
    data = load_yaml(text, source="k8s/configmap.yaml", env=env).data
    alerts = alerts_config.AlertsConfig.model_validate(data["alerts"])
    models = [models_config.ModelConfig.model_validate(m) for m in data["models"]]
    for cam in data["cameras"]:
        ingest_config.SourceConfig.model_validate(cam["source"])
    assert data["service"]["metrics"] == {"address": "0.0.0.0", "port": METRICS_PORT}
    assert str(alerts.outbox.path).startswith("/var/lib/gridwatch/outbox/")
    assert str(alerts.evidence.store.dir) == "/var/lib/gridwatch/evidence"
    assert str(alerts.evidence.scratch_dir).startswith("/tmp/")
    assert all(str(m.path).startswith("/opt/gridwatch/models/") for m in models)


def test_example_config_validates_as_a_whole() -> None:
    config = pytest.importorskip("gridwatch.config",
                                 reason="root config model not importable in this checkout")
    text, env = _example_config()
    loaded = config.load_config_text(text, source="k8s/configmap.yaml", env=env)
    assert loaded.root.service.metrics.address == "0.0.0.0"


def test_config_is_a_read_only_configmap_directory_mount() -> None:
    volumes = {v["name"]: v for v in POD["volumes"]}
    mount = next(m for m in CONTAINER["volumeMounts"] if m["mountPath"] == "/etc/gridwatch")
    assert volumes[mount["name"]]["configMap"]["name"] == "gridwatch-config"
    assert mount.get("readOnly") is True
    assert "subPath" not in mount, "subPath mounts never see ConfigMap updates (no hot reload)"


def test_outbox_and_evidence_live_on_persistent_volume_claims() -> None:
    volumes = {v["name"]: v for v in POD["volumes"]}
    claims = {o["metadata"]["name"] for o in by_kind("PersistentVolumeClaim")}
    for path in ("/var/lib/gridwatch/outbox", "/var/lib/gridwatch/evidence"):
        mount = next(m for m in CONTAINER["volumeMounts"] if m["mountPath"] == path)
        claim = volumes[mount["name"]]["persistentVolumeClaim"]["claimName"]
        assert claim in claims, claim
        assert not mount.get("readOnly")
    tmp = next(m for m in CONTAINER["volumeMounts"] if m["mountPath"] == "/tmp")
    assert "emptyDir" in volumes[tmp["name"]]


def test_service_exposes_the_metrics_port_of_the_pods() -> None:
    service = the("Service", "gridwatch")
    labels = DEPLOYMENT["spec"]["template"]["metadata"]["labels"]
    assert all(labels.get(k) == v for k, v in service["spec"]["selector"].items())
    port = service["spec"]["ports"][0]
    assert port["targetPort"] in {p["name"] for p in CONTAINER["ports"]} and port["port"] == METRICS_PORT
    monitor = the("ServiceMonitor", "gridwatch")
    assert monitor["spec"]["endpoints"][0]["port"] == port["name"]
    assert all(service["metadata"]["labels"].get(k) == v
               for k, v in monitor["spec"]["selector"]["matchLabels"].items())


def test_images_are_pinned() -> None:
    for obj in WORKLOADS:
        spec = pod_spec(obj)
        assert spec is not None
        for c in [*spec.get("initContainers", []), *spec["containers"]]:
            image: str = c["image"]
            tag = image.rsplit("/", 1)[-1].partition(":")[2]
            assert tag and tag != "latest", image


def test_all_deploy_yaml_and_json_files_parse() -> None:
    files = sorted(p for p in DEPLOY.rglob("*") if p.suffix in {".yaml", ".yml", ".json"})
    assert len(files) >= 10
    for path in files:
        if path.suffix == ".json":
            json.loads(path.read_text(encoding="utf-8"))
        else:
            assert load_yaml_docs(path), path
