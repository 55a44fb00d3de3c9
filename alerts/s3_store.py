"""Evidence objects in an S3-compatible bucket through boto3 (the optional `s3` extra).

boto3 signs (SigV4), retries transient failures inside one call (standard mode: exponential backoff
with jitter, `max_attempts`), and pages listings. Addressing is path-style (`/bucket/key`), which MinIO,
Ceph and most on-premises stores expect. Request checksums are only sent when an operation requires
them: newer botocore adds CRC32 trailers by default, which several S3-compatible stores refuse.

Errors become PublishError naming the store and the cause: credentials refused (wrong key, bad
signature, no permission: not retryable until the config changes), a missing bucket (not retryable),
the store unreachable or failing (retryable). Secrets never appear in them.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any
from urllib.parse import quote

from alerts.evidence_config import S3StoreConfig
from alerts.evidence_keys import StoredObject, check_key
from foundation.errors import MissingExtraError, PublishError

_REFUSED = {"InvalidAccessKeyId", "SignatureDoesNotMatch", "AccessDenied", "InvalidToken", "ExpiredToken",
            "InvalidSecurity", "AuthorizationHeaderMalformed", "RequestTimeTooSkewed"}
_MISSING = {"NoSuchBucket"}


def require_boto3() -> Any:
    """boto3 and botocore's Config, or MissingExtraError naming the `s3` extra."""
    try:
        import boto3  # noqa: PLC0415 - optional `s3` extra
        from botocore.config import Config  # noqa: PLC0415
    except ImportError as exc:
        raise MissingExtraError("s3", "the S3 evidence store (alerts.evidence.store.type: s3)", "boto3") from exc
    return boto3, Config


class S3EvidenceStore:
    """put/list/delete of evidence objects under `prefix` in one bucket."""

    def __init__(self, config: S3StoreConfig, client: Any = None) -> None:
        self.config = config
        self.bucket = config.bucket
        self.prefix = config.prefix.lstrip("/")
        self.where = f"evidence store {config.endpoint_url}/{config.bucket}"
        self.public_base_url = config.public_base_url.rstrip("/") if config.public_base_url else None
        self._client = client if client is not None else self._make_client()

    def _make_client(self) -> Any:
        boto3, config_cls = require_boto3()
        cfg = self.config
        return boto3.session.Session().client(
            "s3",
            endpoint_url=cfg.endpoint_url,
            region_name=cfg.region,
            aws_access_key_id=cfg.access_key_id.get_secret_value(),
            aws_secret_access_key=cfg.secret_access_key.get_secret_value(),
            aws_session_token=cfg.session_token.get_secret_value() if cfg.session_token else None,
            verify=str(cfg.ca_bundle) if cfg.ca_bundle else None,
            config=config_cls(
                signature_version="s3v4",
                s3={"addressing_style": "path"},
                retries={"mode": "standard", "total_max_attempts": cfg.max_attempts},
                connect_timeout=cfg.timeout_s,
                read_timeout=cfg.timeout_s,
                request_checksum_calculation="when_required",
                response_checksum_validation="when_required",
                user_agent_extra="gridwatch",
            ),
        )

    # -- lifecycle (nothing runs in the background here; the spool wraps this store) -------------------

    def start(self) -> None:
        """Nothing to start: every call is synchronous."""

    def stop(self, timeout_s: float) -> bool:
        """Nothing waits here; True."""
        return True

    # -- the store ------------------------------------------------------------------------------------

    def _object_key(self, key: str) -> str:
        return self.prefix + check_key(key)

    def uri_for(self, key: str) -> str:
        if self.public_base_url:
            return f"{self.public_base_url}/{quote(self._object_key(key))}"
        return f"s3://{self.bucket}/{self._object_key(key)}"

    def put_bytes(self, key: str, data: bytes, content_type: str,
                  metadata: Mapping[str, str] | None = None) -> None:
        self._call(f"PUT {key}", "put_object", Bucket=self.bucket, Key=self._object_key(key), Body=data,
                   ContentType=content_type, Metadata=dict(metadata or {}))

    def put_file(self, key: str, path: Path, content_type: str,
                 metadata: Mapping[str, str] | None = None) -> None:
        # Clips are a few MB: one PUT of the open file (boto3 streams it); the file is removed once stored.
        with path.open("rb") as fh:
            self._call(f"PUT {key}", "put_object", Bucket=self.bucket, Key=self._object_key(key), Body=fh,
                       ContentType=content_type, Metadata=dict(metadata or {}))
        path.unlink(missing_ok=True)

    def head(self, key: str) -> dict[str, Any]:
        """The object's stored metadata, content type and size (for checks and tests)."""
        reply: dict[str, Any] = self._call(f"HEAD {key}", "head_object", Bucket=self.bucket,
                                           Key=self._object_key(key))
        return reply

    def list_objects(self) -> list[StoredObject]:
        out: list[StoredObject] = []
        token: str | None = None
        while True:
            args: dict[str, Any] = {"Bucket": self.bucket, "Prefix": self.prefix}
            if token:
                args["ContinuationToken"] = token
            page = self._call("ListObjectsV2", "list_objects_v2", **args)
            out += [StoredObject(o["Key"][len(self.prefix):], int(o["Size"]), o["LastModified"].timestamp())
                    for o in page.get("Contents", [])]
            token = page.get("NextContinuationToken") if page.get("IsTruncated") else None
            if not token:
                return out

    def delete(self, key: str) -> None:
        self._call(f"DELETE {key}", "delete_object", Bucket=self.bucket, Key=self._object_key(key))

    def get_bytes(self, key: str) -> bytes | None:
        """The object's bytes, or None when there is none (survey mosaics are read back by later flights)."""
        from botocore.exceptions import BotoCoreError, ClientError  # noqa: PLC0415 - optional extra

        try:
            reply = self._client.get_object(Bucket=self.bucket, Key=self._object_key(key))
            data: bytes = reply["Body"].read()
            return data
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in {"NoSuchKey", "404"}:
                return None
            raise store_error(self.where, f"GET {key}", exc) from exc
        except (BotoCoreError, OSError) as exc:  # unreachable, or the body broke off while read
            raise PublishError(f"{self.where}: GET {key} failed: {exc}", retryable=True) from exc

    def list_keys(self, prefix: str) -> list[str]:
        """Keys under a prefix (ListObjectsV2 with the prefix, all pages)."""
        out: list[str] = []
        token: str | None = None
        while True:
            args: dict[str, Any] = {"Bucket": self.bucket, "Prefix": self.prefix + prefix}
            if token:
                args["ContinuationToken"] = token
            page = self._call("ListObjectsV2", "list_objects_v2", **args)
            out += [o["Key"][len(self.prefix):] for o in page.get("Contents", [])]
            token = page.get("NextContinuationToken") if page.get("IsTruncated") else None
            if not token:
                return out

    def _call(self, what: str, operation: str, **kwargs: Any) -> Any:
        from botocore.exceptions import BotoCoreError, ClientError  # noqa: PLC0415 - optional extra

        try:
            return getattr(self._client, operation)(**kwargs)
        except ClientError as exc:
            raise store_error(self.where, what, exc) from exc
        except BotoCoreError as exc:  # connection refused, timeouts, TLS: the store is unreachable
            raise PublishError(f"{self.where}: {what} failed: {exc}", retryable=True) from exc


def store_error(where: str, what: str, exc: Any) -> PublishError:
    """A PublishError for an S3 error reply: credentials, missing bucket, or a retryable failure."""
    error = exc.response.get("Error", {}) if hasattr(exc, "response") else {}
    code = str(error.get("Code") or "unknown")
    status = int(exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0)) if hasattr(exc, "response") \
        else 0
    if code in _REFUSED:
        return PublishError(f"{where}: {what} refused: {code} (check access_key_id and secret_access_key, and "
                            "the key's permission on the bucket)", retryable=False)
    if code in _MISSING:
        return PublishError(f"{where}: bucket does not exist ({code}); create it or fix `bucket`",
                            retryable=False)
    return PublishError(f"{where}: {what} failed: HTTP {status} {code}", retryable=status >= 500 or status == 0)
