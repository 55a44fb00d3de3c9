"""Free loopback ports for the servers a benchmark (or a test) starts: RTSP, Kafka, the service's HTTP.

Lives in `benchmarks/` because benchmarks start real servers and may not import `tests/`; the test
infrastructure re-exports it from `tests/infra/ports.py`.
"""

from __future__ import annotations

import socket
import time


def free_port() -> int:
    """A TCP port that is free now (and its +1 neighbour, which Kafka's controller listener uses)."""
    for _ in range(50):
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = int(s.getsockname()[1])
        if port >= 65000:
            continue
        with socket.socket() as s2:
            try:
                s2.bind(("127.0.0.1", port + 1))
            except OSError:
                continue
        return port
    raise RuntimeError("no free port pair found")


def wait_port(port: int, timeout_s: float) -> bool:
    """True once something listens on 127.0.0.1:port."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        with socket.socket() as s:
            s.settimeout(0.5)
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return True
        time.sleep(0.1)
    return False
