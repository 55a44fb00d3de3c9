"""The root config: composed sections, per-camera overrides, errors with file/line/key, secrets kept out."""

import subprocess
import sys
from pathlib import Path

import pytest

from foundation.errors import ConfigError
from gridwatch.config import load_config, load_config_text

REPO = Path(__file__).resolve().parents[2]

GOOD = """\
service:
  node_id: node-a
models:
  - name: fire-model
    path: /models/fire.onnx
detectors:
  fire:
    analysis_fps: 4
cameras:
  - id: cam-001
    source:
      url: rtsp://admin:${CAM_PW}@10.0.0.5/stream1
    detectors:
      fire:
        mode: both
        model: fire-model
        analysis_fps: 2
  - id: cam-002
    source:
      url: rtsp://10.0.0.6/stream1
    detectors:
      fire: {}
"""


def check_problems(text: str, env: dict[str, str] | None = None) -> list[str]:
    with pytest.raises(ConfigError) as info:
        load_config_text(text, "cfg.yaml", env={"CAM_PW": "pw"} if env is None else env)
    return info.value.problems or [str(info.value)]


def test_valid_config_merges_camera_overrides_over_defaults() -> None:
    loaded = load_config_text(GOOD, "cfg.yaml", env={"CAM_PW": "pw"})
    cam1 = loaded.cameras["cam-001"].detectors["fire"]
    cam2 = loaded.cameras["cam-002"].detectors["fire"]
    assert cam1.analysis_fps == 2 and cam1.mode == "both"  # type: ignore[attr-defined]
    assert cam2.analysis_fps == 4  # type: ignore[attr-defined]
    assert loaded.root.service.node_id == "node-a"
    assert len(loaded.version) == 12
    assert loaded.version != load_config_text(GOOD + "\n# changed\n", env={"CAM_PW": "pw"}).version


def test_unknown_key_names_line_and_allowed_keys() -> None:
    problems = check_problems(GOOD.replace("  node_id: node-a", "  node_id: node-a\n  nodeid: typo"))
    assert len(problems) == 1
    assert problems[0].startswith("cfg.yaml:3: service: unknown key 'nodeid'")
    assert "node_id" in problems[0]


def test_wrong_type_names_line_and_path() -> None:
    problems = check_problems(GOOD.replace("analysis_fps: 4", "analysis_fps: fast"))
    assert any(p.startswith("cfg.yaml:8: detectors.fire.analysis_fps:") for p in problems), problems


def test_camera_override_error_points_at_the_camera() -> None:
    problems = check_problems(GOOD.replace("        analysis_fps: 2", "        analysis_fps: -1"))
    assert any(p.startswith("cfg.yaml:17: cameras[0].detectors.fire.analysis_fps:") for p in problems), problems


def test_unknown_model_reference_is_an_error() -> None:
    problems = check_problems(GOOD.replace("model: fire-model", "model: nope"))
    assert any("no model named 'nope'" in p and "cfg.yaml:16" in p for p in problems), problems


def test_all_errors_are_listed_at_once() -> None:
    bad = GOOD.replace("analysis_fps: 4", "analysis_fps: fast").replace("node_id: node-a", "node_id: node-a\n  x: 1")
    assert len(check_problems(bad)) == 2


def test_duplicate_camera_id() -> None:
    problems = check_problems(GOOD.replace("id: cam-002", "id: cam-001"))
    assert any("cam-001" in p and "twice" in p for p in problems)


def test_missing_env_secret_is_named_without_value() -> None:
    problems = check_problems(GOOD, env={})
    assert any("CAM_PW" in p and "cfg.yaml:12" in p for p in problems)


def test_secret_never_appears_in_errors() -> None:
    canary = "Canary-Pw-93817"
    # A secret in a field of the wrong type and in a wrong place must not be echoed.
    text = GOOD.replace("node_id: node-a", f"node_id: node-a\n  log_level: {canary}")
    problems = check_problems(text, env={"CAM_PW": canary})
    assert problems and all(canary not in p for p in problems)


def write(tmp_path: Path, name: str, text: str) -> Path:
    p = tmp_path / name
    p.write_text(text, encoding="utf-8")
    return p


def run_check(path: Path, env_pw: str = "pw", *options: str) -> subprocess.CompletedProcess[str]:
    import os

    env = {**os.environ, "CAM_PW": env_pw, "PYTHONPATH": str(REPO)}
    return subprocess.run([sys.executable, "-m", "gridwatch", "config", "check", str(path), *options],
                          capture_output=True, text=True, env=env, cwd=REPO, timeout=120)


@pytest.mark.parametrize(
    ("name", "text", "expect"),
    [
        ("unknown.yaml", GOOD.replace("  node_id: node-a", "  node_id: node-a\n  colour: red"), ":3: service: unknown key 'colour'"),
        ("type.yaml", GOOD.replace("analysis_fps: 4", "analysis_fps: [1]"), ":8: detectors.fire.analysis_fps"),
        ("dup.yaml", GOOD.replace("service:\n", "service:\n  node_id: x\n"), "duplicate key"),
        ("syntax.yaml", GOOD.replace("cameras:", "cameras: [\n"), "not valid YAML"),
    ],
)
def test_config_check_cli_rejects_broken_files(tmp_path: Path, name: str, text: str, expect: str) -> None:
    canary = "Canary-Secret-5521"
    result = run_check(write(tmp_path, name, text), env_pw=canary)
    assert result.returncode == 2, result.stdout + result.stderr
    assert expect in result.stderr
    assert canary not in result.stdout + result.stderr


def test_config_check_cli_accepts_a_valid_file(tmp_path: Path) -> None:
    result = run_check(write(tmp_path, "ok.yaml", GOOD), "pw", "--fast")  # the schema only: no model file here
    assert result.returncode == 0, result.stderr
    assert "OK" in result.stdout and "2 camera(s)" in result.stdout and "--fast" in result.stdout


def test_config_check_opens_what_the_config_names(tmp_path: Path) -> None:
    """Without --fast: the model file, the grid GeoJSON, telemetry, the outbox folder, the TLS files, each
    reported with the key that named it."""
    (tmp_path / "grid.geojson").write_text('{"type": "FeatureCollection", "features": [{"type": "Feat')
    (tmp_path / "flight.SRT").write_text("not telemetry at all\n")
    (tmp_path / "a-file").write_text("")
    text = GOOD + f"""  - id: drone-1
    source: {{url: {tmp_path}/flight.mp4, telemetry: {tmp_path}/flight.SRT}}
    detectors: {{construction: {{}}}}
alerts:
  outbox: {{path: {tmp_path}/a-file/outbox.sqlite3}}
  grid: {{path: {tmp_path}/grid.geojson}}
  evidence: {{enabled: false}}
  kafka: {{bootstrap_servers: ["k:9093"], security_protocol: SSL, ssl_cafile: {tmp_path}/no-ca.pem}}
"""
    result = run_check(write(tmp_path, "deep.yaml", text))
    assert result.returncode == 2, result.stdout
    lines = [line.strip() for line in result.stderr.splitlines()[1:]]
    keys = [line.split(":")[0] for line in lines]
    assert keys == ["models[0].path", "cameras[2].source.url", "cameras[2].source.telemetry", "alerts.outbox.path",
                    "alerts.grid.path", "alerts.kafka"], lines
    assert "model file not found" in lines[0] and "flight.mp4 not found" in lines[1]
    assert "a-file is not a folder" in lines[3] and "not valid JSON" in lines[4]
    assert "ssl_cafile" in lines[5] and "cannot be read" in lines[5]
    assert "Traceback" not in result.stderr


CONFIG_FILES = sorted(p for p in (REPO / "configs").rglob("*.yaml") if not {"bench", "deployments"} & set(p.parts))


@pytest.mark.parametrize("path", CONFIG_FILES, ids=[str(p.relative_to(REPO)) for p in CONFIG_FILES])
def test_every_shipped_config_validates(path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(REPO)
    for name in ("CAM_PASSWORD", "KAFKA_PASSWORD", "GRIDWATCH_DEMO_DIR"):
        monkeypatch.setenv(name, "placeholder")
    loaded = load_config(path)
    assert loaded.version


def test_literal_secrets_in_a_broken_file_are_never_printed(tmp_path: Path) -> None:
    """Secrets written straight into the file (not via ${ENV}) next to errors stay out of the output."""
    secret = "Literal-Secret-4410"
    text = f"""\
cameras:
  - id: cam-9
    source:
      url: rtsp://admin:{secret}@10.0.0.9/stream1
      open_timeout_s: soon
alerts:
  kafka:
    bootstrap_servers: ["broker:9092"]
    security_protocol: SASL_SSL
    sasl_mechanism: NOT-A-MECHANISM
    username: gridwatch
    password: {secret}
"""
    result = run_check(write(tmp_path, "literal.yaml", text))
    assert result.returncode == 2
    assert ":5: cameras[0].source.open_timeout_s" in result.stderr
    assert "sasl_mechanism" in result.stderr
    assert secret not in result.stdout + result.stderr
