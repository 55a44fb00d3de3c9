"""The GPU image recipe, checked statically (no Docker engine here): Dockerfile, locks, build context."""

from __future__ import annotations

import json
import re
import tomllib

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from tests.deploy.deploycheck import (
    DEPLOY,
    METRICS_PORT,
    REPO,
    Dockerfile,
    dockerfile_problems,
    load_yaml_docs,
    lock_entries,
    lock_problems,
)

CONTAINER = DEPLOY / "container"
DOCKERFILE = (CONTAINER / "Dockerfile").read_text(encoding="utf-8")
GPU_LOCK = (CONTAINER / "requirements-gpu.lock").read_text(encoding="utf-8")
BUILD_LOCK = (CONTAINER / "requirements-build.lock").read_text(encoding="utf-8")


def test_dockerfile_passes_the_static_checks() -> None:
    assert dockerfile_problems(DOCKERFILE) == []


@pytest.mark.parametrize(("mutation", "expected"), [
    (("USER 10001:10001", "USER root"), "not a numeric non-root UID"),
    (("USER 10001:10001", "USER gridwatch"), "not a numeric non-root UID"),
    (("USER 10001:10001", "USER 0"), "not a numeric non-root UID"),
    (("USER 10001:10001", ""), "no USER"),
    (("HEALTHCHECK --interval", "# HEALTHCHECK --interval"), "no HEALTHCHECK"),
    (("ARG CUDA_IMAGE=nvidia/cuda:12.8.1-cudnn-runtime-ubuntu22.04", "ARG CUDA_IMAGE=nvidia/cuda:latest"),
     "latest tag"),
    (("ARG CUDA_IMAGE=nvidia/cuda:12.8.1-cudnn-runtime-ubuntu22.04", "ARG CUDA_IMAGE=nvidia/cuda"), "no tag"),
    (("--require-hashes --only-binary=:all: -r /tmp/locks/requirements-gpu.lock",
      "--only-binary=:all: -r /tmp/locks/requirements-gpu.lock"), "without --require-hashes"),
    (("install --no-deps --no-index", "install --no-index"), "no --no-deps"),
])
def test_dockerfile_checks_catch_broken_recipes(mutation: tuple[str, str], expected: str) -> None:
    old, new = mutation
    assert old in DOCKERFILE
    problems = dockerfile_problems(DOCKERFILE.replace(old, new))
    assert any(expected in p for p in problems), problems


def test_dockerfile_shape() -> None:
    df = Dockerfile.parse(DOCKERFILE)
    base = df.args()["CUDA_IMAGE"]
    pattern = r"nvidia/cuda:12\.\d+\.\d+-cudnn-runtime-ubuntu22\.04(@sha256:[0-9a-f]{64})?"
    assert re.fullmatch(pattern, base), base
    assert any("python3.11" in run for run in df.all("RUN")), "CPython 3.11 is installed"
    final = dict(df.stages()[-1])  # last value of each instruction in the final stage
    assert json.loads(final["ENTRYPOINT"]) == ["gridwatch"]
    assert json.loads(final["CMD"]) == ["run", "--config", "/etc/gridwatch/config.yaml"]
    volumes = json.loads(final["VOLUME"])
    assert {"/var/lib/gridwatch/outbox", "/var/lib/gridwatch/evidence"} <= set(volumes)
    assert final["EXPOSE"].split("/")[0] == str(METRICS_PORT)
    assert "/healthz" in DOCKERFILE and f"127.0.0.1:{METRICS_PORT}/healthz" in DOCKERFILE
    env = " ".join(df.all("ENV"))
    for setting in ("HOME=/tmp", "TMPDIR=/tmp", "PYTHONDONTWRITEBYTECODE=1"):
        assert setting in env, f"read-only root filesystem needs {setting}"


def test_locks_pin_every_distribution_with_hashes() -> None:
    assert lock_problems(GPU_LOCK) == []
    assert lock_problems(BUILD_LOCK) == []
    assert set(lock_entries(BUILD_LOCK)) == {"pip", "setuptools"}


def test_lock_check_catches_unhashed_and_unpinned_lines() -> None:
    broken = "numpy==2.0.0 \\\n    --hash=sha256:" + "a" * 64 + "\npyyaml==6.0\nrequests>=2\n"
    problems = lock_problems(broken)
    assert any("pyyaml==6.0 has no sha256" in p for p in problems), problems
    assert any("'requests>=2' is not pinned" in p for p in problems), problems
    assert not any("numpy" in p for p in problems)


def test_gpu_lock_has_onnxruntime_gpu_only_and_no_dev_tools() -> None:
    names = set(lock_entries(GPU_LOCK))
    assert "onnxruntime-gpu" in names
    assert "onnxruntime" not in names, "CPU onnxruntime would shadow onnxruntime-gpu's module"
    forbidden = {"ultralytics", "torch", "torchvision", "onnxslim", "pytest", "ruff", "mypy", "hypothesis",
                 "jsonschema", "confluent-kafka", "matplotlib", "opencv-python", "nvidia-cudnn-cu12"}
    assert names.isdisjoint(forbidden), names & forbidden


def test_gpu_lock_covers_pyproject_runtime_dependencies() -> None:
    project = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    entries = lock_entries(GPU_LOCK)
    wanted = [Requirement(r) for r in [*project["dependencies"], *project["optional-dependencies"]["gpu"]]]
    missing = []
    for req in wanted:
        name = canonicalize_name(req.name)
        if name == "onnxruntime":  # provided by onnxruntime-gpu (same module), see lock-excludes.txt
            continue
        version = entries.get(name, ("", []))[0]
        if not version or not req.specifier.contains(version, prereleases=True):
            missing.append(f"{req} (locked: {version or 'absent'})")
    assert missing == []


def test_locked_onnxruntime_gpu_matches_the_cuda_12_base() -> None:
    constraints = [Requirement(line) for line in (CONTAINER / "lock-constraints.txt").read_text().splitlines()
                   if line.strip() and not line.startswith("#")]
    ort = next(c for c in constraints if c.name == "onnxruntime-gpu")
    version = lock_entries(GPU_LOCK)["onnxruntime-gpu"][0]
    assert ort.specifier.contains(version), f"locked onnxruntime-gpu {version} outside {ort.specifier}"
    assert "cuda:12." in Dockerfile.parse(DOCKERFILE).args()["CUDA_IMAGE"]


def test_image_agrees_with_kubernetes_manifest() -> None:
    """UID, port and volume paths are the same in the image and in the Deployment."""
    docs = load_yaml_docs(DEPLOY / "k8s" / "deployment.yaml")
    deployment = next(d for d in docs if d["kind"] == "Deployment")
    spec = deployment["spec"]["template"]["spec"]
    container = spec["containers"][0]
    user = dict(Dockerfile.parse(DOCKERFILE).stages()[-1])["USER"]
    assert user == f"{spec['securityContext']['runAsUser']}:{spec['securityContext']['runAsGroup']}"
    assert container["ports"][0]["containerPort"] == METRICS_PORT
    mounts = {m["mountPath"] for m in container["volumeMounts"]}
    assert {"/var/lib/gridwatch/outbox", "/var/lib/gridwatch/evidence", "/tmp", "/etc/gridwatch"} <= mounts
    assert container["args"] == ["run", "--config", "/etc/gridwatch/config.yaml"]


def test_dockerignore_admits_only_what_the_build_copies() -> None:
    lines = [ln.strip() for ln in (REPO / ".dockerignore").read_text().splitlines()
             if ln.strip() and not ln.startswith("#")]
    assert lines[0] == "*", "allow-list: exclude everything first"
    allowed = {ln[1:].rstrip("/") for ln in lines if ln.startswith("!")}
    for pkg in ("pyproject.toml", "foundation", "gridwatch", "ingest", "models", "detectors", "alerts", "benchmarks"):
        assert pkg in allowed
    assert not allowed & {"tests", ".git", "var", "configs"}
    # only the wheel's package data of configs/ (pyproject.toml [tool.setuptools.package-data])
    assert {a for a in allowed if a.startswith("configs/")} == {"configs/demo.yaml", "configs/grid", "configs/registry",
                                                               "configs/reference"}
    for args in Dockerfile.parse(DOCKERFILE).all("COPY"):
        if args.startswith("--from"):
            continue
        for src in args.split()[:-1]:
            assert src == "." or src in allowed, f"COPY {src} is excluded by .dockerignore"
