"""Start and control a real RTSP server (GStreamer's gst-rtsp-server) serving generated clips.

The `pipeline` benchmark feeds the service the way cameras do, and the integration tests use the same
launcher (re-exported by `tests/infra/rtsp.py`), so there is one way to start the server. The server is
`benchmarks/gst_rtsp_server.py`, run by Debian's system Python (it needs PyGObject, not in the venv).
"""

from __future__ import annotations

import json
import shutil
import subprocess
import time
from pathlib import Path

from benchmarks.ports import free_port, wait_port

SERVER_SCRIPT = Path(__file__).with_name("gst_rtsp_server.py")
SYSTEM_PYTHON = shutil.which("python3", path="/usr/bin") or "/usr/bin/python3"


def rtsp_server_available() -> bool:
    """True when the system Python can import GStreamer's RTSP server bindings."""
    try:
        probe = subprocess.run(
            [SYSTEM_PYTHON, "-c", "import gi; gi.require_version('GstRtspServer', '1.0')"],
            capture_output=True, timeout=20, check=False,
        )
    except (OSError, subprocess.TimeoutExpired):
        return False
    return probe.returncode == 0


class RtspServer:
    """One gst-rtsp-server process serving `mounts` (see gst_rtsp_server.py for the spec)."""

    def __init__(self, mounts: dict[str, dict[str, object]], workdir: Path, port: int | None = None) -> None:
        self.mounts = mounts
        self.workdir = workdir
        self.port = port or free_port()
        self.proc: subprocess.Popen[str] | None = None
        self.log_path = workdir / f"rtsp-{self.port}.log"

    def url(self, mount: str, user: str | None = None, password: str | None = None) -> str:
        cred = f"{user}:{password}@" if user is not None else ""
        return f"rtsp://{cred}127.0.0.1:{self.port}{mount}"

    @property
    def pid(self) -> int | None:
        """The server's process id while it runs (the pipeline benchmark reads its CPU time)."""
        return self.proc.pid if self.proc is not None else None

    def start(self) -> RtspServer:
        spec = self.workdir / f"rtsp-{self.port}.json"
        spec.write_text(json.dumps(self.mounts), encoding="utf-8")
        with self.log_path.open("a", encoding="utf-8") as log:
            self.proc = subprocess.Popen(
                [SYSTEM_PYTHON, str(SERVER_SCRIPT), "--port", str(self.port), "--spec", str(spec)],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=log,
                text=True,
            )
        assert self.proc.stdout is not None
        line = self.proc.stdout.readline()
        if not line.startswith("ready") or not wait_port(self.port, 10):
            self.stop()
            raise RuntimeError(f"RTSP server did not start: {line!r}; see {self.log_path}")
        return self

    def command(self, line: str) -> None:
        """Send `stall /mount` or `resume /mount` and wait for the acknowledgement."""
        assert self.proc is not None and self.proc.stdin is not None and self.proc.stdout is not None
        self.proc.stdin.write(line + "\n")
        self.proc.stdin.flush()
        reply = self.proc.stdout.readline().strip()
        if reply != f"ok {line}":
            raise RuntimeError(f"RTSP server answered {reply!r} to {line!r}")

    def stop(self) -> None:
        if self.proc is None:
            return
        self.proc.terminate()
        try:
            self.proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(timeout=5)
        for pipe in (self.proc.stdin, self.proc.stdout):
            if pipe is not None:
                pipe.close()
        self.proc = None
        time.sleep(0.1)

    def __enter__(self) -> RtspServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
