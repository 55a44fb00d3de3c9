"""The systemd unit for bare video nodes: directives, `systemd-analyze verify` and its security score."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.deploy.deploycheck import DEPLOY, SHUTDOWN_DEADLINE_S, env_file, systemd_unit

SYSTEMD = DEPLOY / "systemd"
UNIT_PATH = SYSTEMD / "gridwatch.service"
UNIT_TEXT = UNIT_PATH.read_text(encoding="utf-8")
UNIT = systemd_unit(UNIT_TEXT)
SERVICE = {key: values[-1] for key, values in UNIT["Service"].items()}
GRIDWATCH = "/opt/gridwatch/venv/bin/gridwatch"
MAX_EXPOSURE = 3.0  # systemd-analyze security: 0 (locked down) .. 10 (exposed); the unit scores about 2


def seconds(value: str) -> float:
    units = {"ms": 0.001, "s": 1, "sec": 1, "min": 60, "m": 60, "h": 3600}
    total = 0.0
    for number, unit in re.findall(r"(\d+(?:\.\d+)?)\s*([a-z]*)", value):
        total += float(number) * units.get(unit or "s", 1)
    return total


def test_unit_runs_gridwatch_as_a_dedicated_user_with_its_secrets_file() -> None:
    assert SERVICE["User"] == "gridwatch" and SERVICE["Group"] == "gridwatch"
    assert SERVICE["ExecStart"] == f"{GRIDWATCH} run --config /etc/gridwatch/config.yaml"
    assert SERVICE["EnvironmentFile"] == "/etc/gridwatch/gridwatch.env"
    assert "Environment" in UNIT["Service"] and not any(
        re.search(r"PASSW|SECRET|TOKEN", v, re.IGNORECASE) for v in UNIT["Service"]["Environment"])
    sysusers = (SYSTEMD / "gridwatch.sysusers.conf").read_text()
    assert re.search(r"^u\s+gridwatch\s", sysusers, re.MULTILINE)


def test_unit_state_reload_stop_and_restart() -> None:
    state = SERVICE["StateDirectory"].split()
    assert {"gridwatch/outbox", "gridwatch/evidence"} <= set(state)
    assert SERVICE["ExecReload"] == "/bin/kill -HUP $MAINPID"
    assert SERVICE["Restart"] == "on-failure"
    assert SERVICE["KillSignal"] == "SIGTERM"
    assert seconds(SERVICE["TimeoutStopSec"]) > SHUTDOWN_DEADLINE_S


def test_unit_hardening() -> None:
    expected = {"NoNewPrivileges": "yes", "ProtectSystem": "strict", "ProtectHome": "yes",
                "PrivateTmp": "yes", "ProtectKernelTunables": "yes", "ProtectKernelModules": "yes",
                "ProtectControlGroups": "yes",
                "RestrictSUIDSGID": "yes", "LockPersonality": "yes", "CapabilityBoundingSet": ""}
    for key, value in expected.items():
        assert SERVICE.get(key) == value, key
    assert SERVICE.get("PrivateDevices", "no") == "no", "the GPU device nodes must stay visible"


def test_env_example_holds_placeholders_only() -> None:
    values = env_file((SYSTEMD / "gridwatch.env.example").read_text())
    assert values
    for key, value in values.items():
        assert value.startswith("PLACEHOLDER"), key


@pytest.fixture
def verifiable_unit(tmp_path: Path) -> Path:
    """The unit with ExecStart's binary replaced by a stub: verify checks that executables exist."""
    if shutil.which("systemd-analyze") is None:
        pytest.skip("systemd-analyze not installed (Debian package systemd): unit not verified")
    stub = tmp_path / "bin" / "gridwatch"
    stub.parent.mkdir()
    stub.write_text("#!/bin/sh\nexit 0\n")
    stub.chmod(0o755)
    unit = tmp_path / "gridwatch.service"
    unit.write_text(UNIT_TEXT.replace(GRIDWATCH, str(stub)))
    return unit


def analyze(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["systemd-analyze", *args], check=False, capture_output=True, text=True, timeout=60)


def test_systemd_analyze_verify(verifiable_unit: Path) -> None:
    out = analyze("verify", "--man=no", str(verifiable_unit))
    assert out.returncode == 0, out.stderr
    assert out.stderr.strip() == "", f"warnings: {out.stderr}"  # unknown keys are only warnings


def test_systemd_analyze_verify_reports_a_misspelled_directive(verifiable_unit: Path) -> None:
    verifiable_unit.write_text(verifiable_unit.read_text().replace("ProtectSystem=", "ProtectSytem="))
    out = analyze("verify", "--man=no", str(verifiable_unit))
    assert "ProtectSytem" in out.stderr


def exposure(unit: Path) -> float:
    out = analyze("security", "--offline=yes", str(unit))
    m = re.search(r"Overall exposure level for \S+: (\d+(?:\.\d+)?)", out.stdout + out.stderr)
    assert m, out.stdout + out.stderr
    return float(m.group(1))


def test_systemd_analyze_security_exposure_is_low(verifiable_unit: Path) -> None:
    score = exposure(verifiable_unit)
    assert score <= MAX_EXPOSURE, f"exposure {score} above {MAX_EXPOSURE}"
    bare = verifiable_unit.with_name("bare.service")
    bare.write_text(f"[Service]\nExecStart={verifiable_unit.parent / 'bin' / 'gridwatch'}\n")
    assert exposure(bare) > MAX_EXPOSURE, "the score check can fail: an unhardened unit scores high"


def test_sysusers_file_creates_the_gridwatch_user(tmp_path: Path) -> None:
    if shutil.which("systemd-sysusers") is None:
        pytest.skip("systemd-sysusers not installed (Debian package systemd): sysusers file not checked")
    (tmp_path / "etc").mkdir()
    out = subprocess.run(["systemd-sysusers", f"--root={tmp_path}", "--dry-run",
                          str(SYSTEMD / "gridwatch.sysusers.conf")],
                         check=False, capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert "Creating user 'gridwatch'" in out.stdout + out.stderr
