"""Certificates the secured-listener tests need beyond deploy/kafka/dev-tls.sh: a client certificate
signed by the broker's CA that expired years ago, and a CA the broker does not know (openssl only)."""

from __future__ import annotations

import subprocess
from pathlib import Path

_CA_CONFIG = """[ca]
default_ca = dev
[dev]
database = index.txt
new_certs_dir = .
serial = serial
default_md = sha256
policy = any
copy_extensions = none
[any]
commonName = supplied
"""


def _openssl(*args: str, cwd: Path) -> None:
    subprocess.run(["openssl", *args], cwd=cwd, check=True, capture_output=True, timeout=60)


def expired_client_certificate(tls_dir: Path, out_dir: Path) -> tuple[Path, Path]:
    """(certificate, key) for CN=gridwatch-expired, signed by tls_dir's CA, valid only in January 2020
    (`openssl ca` because `openssl x509` cannot back-date)."""
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / "ca.cnf").write_text(_CA_CONFIG)
    (out_dir / "index.txt").write_text("")
    (out_dir / "serial").write_text("01\n")
    _openssl("req", "-newkey", "rsa:2048", "-nodes", "-keyout", "expired.key", "-out", "expired.csr",
             "-subj", "/CN=gridwatch-expired", cwd=out_dir)
    _openssl("ca", "-batch", "-config", "ca.cnf", "-cert", str(tls_dir / "ca.pem"), "-keyfile",
             str(tls_dir / "ca.key"), "-in", "expired.csr", "-out", "expired.pem", "-notext",
             "-startdate", "20200101000000Z", "-enddate", "20200201000000Z", cwd=out_dir)
    return out_dir / "expired.pem", out_dir / "expired.key"


def untrusted_ca(out_dir: Path) -> Path:
    """A self-signed CA nobody trusts, as PEM."""
    out_dir.mkdir(parents=True, exist_ok=True)
    _openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "rogue-ca.key", "-out", "rogue-ca.pem",
             "-days", "2", "-subj", "/CN=not the broker's CA", cwd=out_dir)
    return out_dir / "rogue-ca.pem"
