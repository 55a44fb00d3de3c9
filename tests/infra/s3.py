"""moto's S3 server as a separate process, with authentication enforced, for the evidence-store tests.

Why moto's server (not MinIO or SeaweedFS built from the Go module proxy): it is already in the dev lock
(no Go toolchain, no build to cache, no download at test time), starts in about a second on a loaded
2-core machine, and with `/moto-api/reset-auth 0` it checks every request: an unknown access key gets
`InvalidAccessKeyId`, a wrong secret `SignatureDoesNotMatch` (it recomputes the SigV4 signature), a key
without an IAM policy for S3 `AccessDenied`. The limit, stated where it matters: moto recomputes the
signature with botocore, the library our client signs with, so it proves that wrong credentials are
refused and reported, not that botocore's SigV4 is right (real S3 and MinIO test that every day).

Set-up: the server starts open, an IAM user with an `s3:*` policy, its access key and the bucket are
created, then authentication is switched on. State is in memory: a restart loses it, so outages are made
with SIGSTOP/SIGCONT (requests hang and time out, like a store that stopped answering).
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from tests.infra.ports import free_port, wait_port

BUCKET = "gw-evidence"


class MotoS3Server:
    """`python -m moto.server` on a free loopback port; `access_key_id`/`secret_access_key` after start."""

    def __init__(self, workdir: Path) -> None:
        self.workdir = workdir
        self.port = free_port()
        self.endpoint_url = f"http://127.0.0.1:{self.port}"
        self.bucket = BUCKET
        self.access_key_id = ""
        self.secret_access_key = ""
        self.proc: subprocess.Popen[bytes] | None = None
        self.log_path = workdir / "moto-s3.log"

    def start(self) -> MotoS3Server:
        self.workdir.mkdir(parents=True, exist_ok=True)
        with self.log_path.open("ab") as log:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(self.port)],
                stdout=log, stderr=subprocess.STDOUT, env={**os.environ, "MOTO_ALLOW_NONEXISTENT_REGION": "true"},
            )
        wait_port(self.port, 30.0)
        self._provision()
        return self

    def _provision(self) -> None:
        import boto3

        open_access = {"endpoint_url": self.endpoint_url, "region_name": "us-east-1",
                       "aws_access_key_id": "setup", "aws_secret_access_key": "setup"}
        iam = boto3.client("iam", **open_access)
        iam.create_user(UserName="gridwatch")
        iam.put_user_policy(UserName="gridwatch", PolicyName="evidence", PolicyDocument=json.dumps({
            "Version": "2012-10-17",
            "Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}],
        }))
        key = iam.create_access_key(UserName="gridwatch")["AccessKey"]
        self.access_key_id, self.secret_access_key = key["AccessKeyId"], key["SecretAccessKey"]
        boto3.client("s3", **open_access).create_bucket(Bucket=self.bucket)
        request = urllib.request.Request(f"{self.endpoint_url}/moto-api/reset-auth", data=b"0", method="POST",
                                         headers={"Content-Type": "text/plain"})
        with urllib.request.urlopen(request, timeout=10) as reply:
            assert json.loads(reply.read())["status"] == "ok"

    def store_config(self, **overrides: object) -> dict[str, object]:
        """An `alerts.evidence.store` mapping for this server."""
        return {"type": "s3", "endpoint_url": self.endpoint_url, "bucket": self.bucket,
                "access_key_id": self.access_key_id, "secret_access_key": self.secret_access_key,
                "prefix": "gw/", **overrides}

    def client(self) -> object:
        """An independent boto3 client with the good key (to read what gridwatch stored)."""
        import boto3
        from botocore.config import Config

        return boto3.client("s3", endpoint_url=self.endpoint_url, region_name="us-east-1",
                            aws_access_key_id=self.access_key_id, aws_secret_access_key=self.secret_access_key,
                            config=Config(s3={"addressing_style": "path"}))

    def pause(self) -> None:
        """The store stops answering (SIGSTOP): connections are accepted by the kernel, replies never come."""
        assert self.proc is not None
        os.kill(self.proc.pid, signal.SIGSTOP)

    def resume(self) -> None:
        assert self.proc is not None
        os.kill(self.proc.pid, signal.SIGCONT)

    def stop(self) -> None:
        if self.proc is None:
            return
        os.kill(self.proc.pid, signal.SIGCONT)
        self.proc.terminate()
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(timeout=10)
        self.proc = None


def wait_until(predicate, timeout_s: float, what: str) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.1)
    raise AssertionError(f"timed out after {timeout_s} s waiting for {what}")
