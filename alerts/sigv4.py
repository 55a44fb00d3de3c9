"""AWS Signature Version 4 for plain HTTP requests to S3-compatible stores (no SDK in runtime deps).

Written from the published specification and checked in tests against AWS's published examples. Only
header signing (the Authorization header) is implemented: that is all PUT, GET, LIST and DELETE of
evidence objects need.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from urllib.parse import quote

EMPTY_SHA256 = hashlib.sha256(b"").hexdigest()
ALGORITHM = "AWS4-HMAC-SHA256"


@dataclass(frozen=True)
class Credentials:
    """Signing credentials; kept out of reprs so they never reach a log line."""

    access_key_id: str
    secret_access_key: str
    session_token: str | None = None

    def __repr__(self) -> str:
        return "Credentials(***)"


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def uri_encode_path(path: str) -> str:
    """Percent-encode a path for the canonical request; '/' stays, everything but unreserved is encoded."""
    return quote(path, safe="/-_.~")


def canonical_query(query: Mapping[str, str]) -> str:
    """Sorted, percent-encoded query string."""
    pairs = sorted((quote(k, safe="-_.~"), quote(v, safe="-_.~")) for k, v in query.items())
    return "&".join(f"{k}={v}" for k, v in pairs)


def _norm_header_value(value: str) -> str:
    return " ".join(value.strip().split())


def canonical_request(
    method: str, path: str, query: Mapping[str, str], headers: Mapping[str, str], payload_hash: str
) -> tuple[str, str]:
    """(canonical request, signed-headers list). `path` is the raw (unencoded) absolute path."""
    lowered: dict[str, str] = {}
    for name, value in headers.items():
        key = name.lower().strip()
        norm = _norm_header_value(value)
        lowered[key] = f"{lowered[key]},{norm}" if key in lowered else norm
    names = sorted(lowered)
    canon_headers = "".join(f"{n}:{lowered[n]}\n" for n in names)
    signed = ";".join(names)
    text = "\n".join(
        [method.upper(), uri_encode_path(path), canonical_query(query), canon_headers, signed, payload_hash]
    )
    return text, signed


def signing_key(secret_access_key: str, date: str, region: str, service: str) -> bytes:
    k = hmac.new(("AWS4" + secret_access_key).encode(), date.encode(), hashlib.sha256).digest()
    for part in (region, service, "aws4_request"):
        k = hmac.new(k, part.encode(), hashlib.sha256).digest()
    return k


def authorization(
    creds: Credentials,
    *,
    method: str,
    path: str,
    query: Mapping[str, str],
    headers: Mapping[str, str],
    payload_hash: str,
    amz_date: str,
    region: str,
    service: str = "s3",
) -> str:
    """The Authorization header value for a request whose `headers` already include host and x-amz-date."""
    creq, signed = canonical_request(method, path, query, headers, payload_hash)
    date = amz_date[:8]
    scope = f"{date}/{region}/{service}/aws4_request"
    to_sign = "\n".join([ALGORITHM, amz_date, scope, sha256_hex(creq.encode())])
    sig = hmac.new(
        signing_key(creds.secret_access_key, date, region, service), to_sign.encode(), hashlib.sha256
    ).hexdigest()
    return f"{ALGORITHM} Credential={creds.access_key_id}/{scope}, SignedHeaders={signed}, Signature={sig}"


def amz_date_now(now_s: float) -> str:
    return datetime.fromtimestamp(now_s, tz=UTC).strftime("%Y%m%dT%H%M%SZ")


def sign_s3_request(
    creds: Credentials,
    *,
    method: str,
    host: str,
    path: str,
    query: Mapping[str, str] | None = None,
    body: bytes = b"",
    extra_headers: Mapping[str, str] | None = None,
    region: str,
    now_s: float,
) -> dict[str, str]:
    """Headers to send with an S3 request (host, x-amz-date, x-amz-content-sha256, Authorization, ...)."""
    payload_hash = sha256_hex(body)
    amz_date = amz_date_now(now_s)
    headers = {"host": host, "x-amz-date": amz_date, "x-amz-content-sha256": payload_hash}
    if creds.session_token:
        headers["x-amz-security-token"] = creds.session_token
    for k, v in (extra_headers or {}).items():
        headers[k.lower()] = v
    headers["Authorization"] = authorization(
        creds,
        method=method,
        path=path,
        query=query or {},
        headers=headers,
        payload_hash=payload_hash,
        amz_date=amz_date,
        region=region,
        service="s3",
    )
    return headers
