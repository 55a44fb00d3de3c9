"""Every `gridwatch` command with a representative bad input: a one-line error naming what and where,
a non-zero exit, and no traceback. Runs `gridwatch.cli.main` in this process (the same code path as the
console script, minus interpreter start-up), except the missing-extra cases, which need a fresh
interpreter where the extra's module cannot be imported."""

from __future__ import annotations

import socket
import subprocess
import sys
import tomllib
from collections.abc import Iterator
from pathlib import Path

import pytest

from gridwatch.cli import main
from gridwatch.extras import EXTRA_OF_MODULE
from tests.infra.ports import free_port

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def busy_port() -> Iterator[int]:
    """A loopback port something else already listens on."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen(1)
        yield int(s.getsockname()[1])


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def no_kafka(tmp: Path, extra: str = "") -> str:
    return (f"service: {{metrics: {{enabled: false}}, reload_poll_s: 0}}\n"
            f"alerts:\n  outbox: {{path: {tmp}/outbox.sqlite3}}\n  evidence: {{enabled: false}}\n{extra}")


def cases(tmp: Path, busy_port: int) -> dict[str, tuple[list[str], str, int]]:
    """name -> (argv, what stderr must say, exit code)."""
    missing = tmp / "missing.yaml"
    ok = write(tmp / "ok.yaml", no_kafka(tmp))
    closed = free_port()
    unreachable = write(tmp / "unreachable.yaml", no_kafka(tmp, f"""  kafka: {{bootstrap_servers: ["127.0.0.1:{closed}"],
    bootstrap_timeout_ms: 500, request_timeout_ms: 1000, delivery_timeout_ms: 5000}}
"""))
    port_taken = write(tmp / "busy.yaml", f"service: {{metrics: {{address: '127.0.0.1:{busy_port}'}}}}\n"
                       f"alerts:\n  outbox: {{path: {tmp}/o2.sqlite3}}\n  evidence: {{enabled: false}}\n")
    bad_outbox = write(tmp / "badoutbox.yaml", "service: {metrics: {enabled: false}}\n"
                       "alerts:\n  outbox: {path: /proc/gridwatch-no/outbox.sqlite3}\n  evidence: {enabled: false}\n")
    not_a_folder = write(tmp / "notfolder.yaml", no_kafka(tmp).replace(
        f"{tmp}/outbox.sqlite3", f"{ok}/outbox.sqlite3"))
    bad_model = write(tmp / "badmodel.yaml", no_kafka(tmp, "models:\n  - {name: m, path: " + str(ok) + "}\n"))
    text_file = write(tmp / "notes.txt", "not a model")
    with_camera = write(tmp / "camera.yaml", no_kafka(tmp, f"""cameras:
  - {{id: c, source: {{url: {text_file}}}, detectors: {{fire: {{}}}}, site: {{lat_deg: 30.0, lon_deg: 120.0}}}}
"""))
    return {
        "run: config not found": (["run", "--config", str(missing)], "missing.yaml", 2),
        "run: metrics port taken": (["run", "--config", str(port_taken)],
                                    f"service.metrics: cannot listen on 127.0.0.1:{busy_port}", 2),
        "run: outbox folder cannot be created": (["run", "--config", str(bad_outbox)],
                                                 "alerts.outbox.path: cannot create the folder /proc/gridwatch-no", 2),
        "demo: workdir cannot be created": (["demo", "--workdir", "/proc/gridwatch-no/demo"], "/proc/gridwatch-no", 1),
        "replay: video not found": (["replay", str(tmp / "none.mp4"), "--config", str(with_camera), "--camera", "c"],
                                    "none.mp4", 1),
        "replay: camera not in the config": (["replay", str(text_file), "--config", str(ok), "--camera", "c"],
                                             "no camera 'c'", 2),
        "replay: output not writable": (["replay", str(text_file), "--config", str(with_camera), "--camera", "c",
                                         "--out", "/proc/gridwatch-no/out.jsonl"], "/proc/gridwatch-no/out.jsonl", 1),
        "config check: names a folder that is a file": (["config", "check", str(not_a_folder)],
                                                        "alerts.outbox.path", 2),
        "config check: model is not a model": (["config", "check", str(bad_model)], "models[0].path", 2),
        "models export: no such weights": (["models", "export", str(tmp / "none.pt"), "--out", str(tmp / "o.onnx")],
                                           "none.pt", 1),
        "models inspect: not a model": (["models", "inspect", str(text_file)], "notes.txt", 1),
        "models quantize: no such model": (["models", "quantize", str(tmp / "none.onnx"), "--calibrate",
                                            str(tmp / "none.mp4")], "none.onnx", 1),
        "alerts list: config not found": (["alerts", "list", "--config", str(missing)], "missing.yaml", 2),
        "alerts tail: no kafka configured": (["alerts", "tail", "--config", str(ok)], "alerts.kafka is not configured", 2),
        "alerts tail: broker unreachable": (["alerts", "tail", "--config", str(unreachable), "--timeout-s", "1"],
                                            f"kafka listener PLAINTEXT://127.0.0.1:{closed}: cannot connect", 1),
        "alerts replay: no kafka configured": (["alerts", "replay", "--config", str(ok)], "nothing to re-send", 2),
        "bench: unknown suite": (["bench", "nosuch"], "unknown benchmark suite", 2),
        "cameras sync: no cluster section": (["cameras", "sync", str(ok)], "no `cluster:` section", 2),
        "cluster status: no cluster section": (["cluster", "status", "--config", str(ok)], "no `cluster:` section", 2),
    }


def test_every_command_reports_bad_input_in_one_line_without_a_traceback(
    tmp_path: Path, busy_port: int, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    failures = []
    for name, (argv, says, code) in cases(tmp_path, busy_port).items():
        try:
            got = main(argv)
        except SystemExit as exc:  # argparse
            got = int(exc.code or 0)
        out = capsys.readouterr()
        text = out.out + out.err
        if got != code or says not in out.err or "Traceback" in text:
            failures.append(f"{name}: exit {got} (want {code}), stderr:\n{out.err[-1500:]}")
    assert not failures, "\n\n".join(failures)


@pytest.mark.parametrize(("argv", "module", "extra"), [
    (["bench", "alerts", "--quick"], "matplotlib", "bench"),
    (["models", "export", "yolov8n.yaml"], "ultralytics", "export"),
])
def test_a_missing_extra_is_named_with_its_install_command(
    tmp_path: Path, argv: list[str], module: str, extra: str
) -> None:
    code = (f"import sys; sys.modules[{module!r}] = None\n"  # the extra is not installed
            "from gridwatch.cli import main\n"
            f"raise SystemExit(main({argv!r}))")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=tmp_path, timeout=120,
                            env={"PYTHONPATH": str(REPO), "PATH": "/usr/bin:/bin", "HOME": str(tmp_path)})
    assert result.returncode == 1, result.stderr
    assert f"pip install 'gridwatch[{extra}]'" in result.stderr
    assert result.stderr.count(f"`{extra}` extra") == 1  # said once, not repeated by a wrapper
    assert "Traceback" not in result.stderr + result.stdout


def test_the_extras_table_matches_pyproject() -> None:
    extras = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["optional-dependencies"]
    for module, extra in EXTRA_OF_MODULE.items():
        assert extra in extras, (module, extra)
    direct = {"matplotlib": "bench", "ultralytics": "export", "boto3": "s3", "rasterio": "survey"}
    for dist, extra in direct.items():
        assert any(req.startswith(dist) for req in extras[extra]), (dist, extra)
