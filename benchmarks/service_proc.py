"""Run `gridwatch run` as a real subprocess and talk to its HTTP endpoint (metrics, health, status).

The `pipeline` benchmark drives the service as a black box, exactly as the integration tests do, so the
launcher lives here (benchmarks may not import tests) and `tests/infra/service.py` re-exports it.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]


class GridwatchProcess:
    """`python -m gridwatch run --config CONFIG` with its output in a log file."""

    def __init__(self, config: Path, workdir: Path, http_port: int | None = None,
                 env: dict[str, str] | None = None, extra_args: list[str] | None = None) -> None:
        self.config = config
        self.workdir = workdir
        self.http_port = http_port
        self.log_path = workdir / f"gridwatch-{config.stem}.log"
        self.env = {**os.environ, "PYTHONPATH": str(REPO), "PYTHONUNBUFFERED": "1", **(env or {})}
        self.extra_args = extra_args or []
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def pid(self) -> int | None:
        return self.proc.pid if self.proc is not None else None

    def start(self) -> GridwatchProcess:
        with self.log_path.open("ab") as log:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "gridwatch", "run", "--config", str(self.config), *self.extra_args],
                stdout=log, stderr=subprocess.STDOUT, env=self.env, cwd=REPO,
            )
        return self

    def log_text(self) -> str:
        return self.log_path.read_text(encoding="utf-8", errors="replace") if self.log_path.exists() else ""

    def get(self, path: str, timeout_s: float = 5.0) -> tuple[int, bytes]:
        assert self.http_port is not None
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{self.http_port}{path}", timeout=timeout_s) as r:
                return int(r.status), r.read()
        except urllib.error.HTTPError as exc:
            return int(exc.code), exc.read()

    def json(self, path: str) -> dict[str, Any]:
        code, body = self.get(path)
        assert code == 200, (code, body)
        out: dict[str, Any] = json.loads(body)
        return out

    def wait_ready(self, timeout_s: float = 90.0) -> None:
        """Until /readyz answers 200 (models warmed up, outbox writable, broker reachable)."""
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            assert self.proc is not None
            if self.proc.poll() is not None:
                raise RuntimeError(f"gridwatch exited with {self.proc.returncode}:\n{self.log_text()[-4000:]}")
            try:
                if self.get("/readyz", 2.0)[0] == 200:
                    return
            except OSError:
                pass
            time.sleep(0.5)
        raise RuntimeError(f"gridwatch not ready in {timeout_s} s:\n{self.log_text()[-4000:]}")

    def signal(self, sig: int) -> None:
        assert self.proc is not None
        self.proc.send_signal(sig)

    def stop(self, timeout_s: float = 60.0) -> int:
        """SIGTERM and wait for the clean shutdown; returns the exit code."""
        if self.proc is None:
            return 0
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=timeout_s)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=10)
        return int(self.proc.returncode)

    def wait_exit(self, timeout_s: float) -> int:
        assert self.proc is not None
        return int(self.proc.wait(timeout=timeout_s))
