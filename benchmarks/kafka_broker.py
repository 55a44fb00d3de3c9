"""The Kafka broker a benchmark measures against: one given by `--bootstrap`, or a throw-away single-node
broker from deploy/kafka/kafka-dev.sh on free ports, with its SASL_SSL (SCRAM-SHA-512) and mutual-TLS
listeners when asked for. Shared by `benchmarks.alerts_bench`, `benchmarks.pipeline` and `gridwatch bench`.
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from benchmarks.ports import free_port
from foundation.errors import ConfigError

REPO = Path(__file__).resolve().parents[1]
KAFKA_SCRIPT = REPO / "deploy" / "kafka" / "kafka-dev.sh"


LISTENERS = ("PLAINTEXT", "SASL_SSL", "MTLS")


@dataclass(frozen=True)
class BenchBroker:
    """A broker's PLAINTEXT bootstrap (topics are created there) and gridwatch settings per listener."""

    bootstrap: str
    listeners: dict[str, dict[str, Any]]


def secured_listener_settings(tls_dir: Path, name: str, port: int) -> dict[str, Any]:
    """gridwatch `alerts.kafka` settings for a dev broker's secured listener (deploy/kafka/dev-tls.sh files)."""
    bootstrap = f"127.0.0.1:{port}"
    ca = str(tls_dir / "ca.pem")
    if name == "SASL_SSL":
        return {"bootstrap_servers": bootstrap, "security_protocol": "SASL_SSL", "sasl_mechanism": "SCRAM-SHA-512",
                "username": (tls_dir / "scram-user").read_text().strip(),
                "password": (tls_dir / "scram.password").read_text().strip(), "ssl_cafile": ca}
    if name == "MTLS":
        return {"bootstrap_servers": bootstrap, "security_protocol": "SSL", "ssl_cafile": ca,
                "ssl_certfile": str(tls_dir / "client.pem"), "ssl_keyfile": str(tls_dir / "client.key")}
    raise ValueError(f"unknown secured listener {name}")


@contextmanager
def bench_broker(bootstrap: str | None, security: Sequence[str] = ("PLAINTEXT",)) -> Iterator[BenchBroker]:
    """The given broker (PLAINTEXT only), or a temporary one from deploy/kafka/kafka-dev.sh with the
    secured listeners `security` names."""
    unknown = set(security) - set(LISTENERS)
    if unknown:
        raise ConfigError(f"unknown listener(s) {sorted(unknown)}; choose from {', '.join(LISTENERS)}")
    secured = [name for name in security if name != "PLAINTEXT"]
    if bootstrap:
        if secured:
            raise ConfigError("--security with SASL_SSL or MTLS measures the benchmark's own broker: drop --bootstrap")
        yield BenchBroker(bootstrap, {"PLAINTEXT": {"bootstrap_servers": bootstrap}})
        return
    workdir = Path(tempfile.mkdtemp(prefix="gridwatch-bench-kafka-"))
    port = free_port()
    ports = {name: free_port() for name in secured}
    options = [arg for name, p in ports.items()
               for arg in (("--sasl-ssl-port" if name == "SASL_SSL" else "--mtls-port"), str(p))]
    try:
        subprocess.run([str(KAFKA_SCRIPT), "start", str(workdir), str(port), *options], check=True,
                       stdout=subprocess.DEVNULL, timeout=240)
        plain = f"127.0.0.1:{port}"
        listeners = {name: ({"bootstrap_servers": plain} if name == "PLAINTEXT"
                            else secured_listener_settings(workdir / "tls", name, ports[name]))
                     for name in security}
        yield BenchBroker(plain, listeners)
    finally:
        subprocess.run([str(KAFKA_SCRIPT), "stop", str(workdir)], check=False, timeout=60)
        shutil.rmtree(workdir, ignore_errors=True)


@contextmanager
def kafka_broker(bootstrap: str | None) -> Iterator[str]:
    """The given broker, or a temporary PLAINTEXT one (what `bench all` shares between suites)."""
    with bench_broker(bootstrap) as broker:
        yield broker.bootstrap


def parse_security(text: str) -> tuple[str, ...]:
    """`all` or a comma-separated list of listener names (PLAINTEXT first when present)."""
    if text.strip().lower() == "all":
        return LISTENERS
    names = tuple(t.strip().upper() for t in text.split(",") if t.strip())
    return tuple(sorted(dict.fromkeys(names), key=lambda n: LISTENERS.index(n) if n in LISTENERS else 99))
