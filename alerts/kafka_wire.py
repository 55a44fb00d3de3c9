"""The three Kafka requests the connection probe sends by hand: ApiVersions v0, SaslHandshake v1 and
SaslAuthenticate v0, framed as the Kafka protocol specifies (size-prefixed, request header v1).

Why by hand: kafka-python's connection layer handles the broker closing a connection after a refused
SASL login before it reads the broker's answer, so it mostly reports `socket disconnected`, and it keeps
even that in its log. The probe needs the broker's own words ("invalid credentials", "unsupported
mechanism"). The SCRAM arithmetic itself is kafka-python's (`ScramClient`); only the framing is ours.
"""

from __future__ import annotations

import importlib
import socket
import struct
from dataclasses import dataclass
from typing import Any

API_VERSIONS = 18
SASL_HANDSHAKE = 17
SASL_AUTHENTICATE = 36
_MAX_RESPONSE_BYTES = 1 << 20
_TLS_RECORD_TYPES = (0x15, 0x16)  # alert, handshake: a TLS server answering plaintext


class WireError(Exception):
    """The broker closed the connection or answered something that is not a Kafka response."""


@dataclass(frozen=True)
class SaslAnswer:
    """A SaslHandshake or SaslAuthenticate response: Kafka error code, message, and payload."""

    error_code: int
    error_message: str | None
    payload: bytes
    mechanisms: tuple[str, ...] = ()


class _Reader:
    def __init__(self, data: bytes) -> None:
        self.data = data
        self.pos = 0

    def _take(self, fmt: str) -> Any:
        try:
            (value,) = struct.unpack_from(fmt, self.data, self.pos)
        except struct.error as exc:
            raise WireError("truncated Kafka response") from exc
        self.pos += struct.calcsize(fmt)
        return value

    def int16(self) -> int:
        return int(self._take(">h"))

    def int32(self) -> int:
        return int(self._take(">i"))

    def string(self) -> str | None:
        size = self.int16()
        if size < 0:
            return None
        raw = self.data[self.pos:self.pos + size]
        self.pos += size
        return raw.decode("utf-8", "replace")

    def blob(self) -> bytes:
        size = self.int32()
        raw = self.data[self.pos:self.pos + max(size, 0)]
        self.pos += max(size, 0)
        return raw


def _string(value: str) -> bytes:
    raw = value.encode("utf-8")
    return struct.pack(">h", len(raw)) + raw


def _read_exact(sock: socket.socket, size: int) -> bytes:
    chunks: list[bytes] = []
    left = size
    while left:
        chunk = sock.recv(min(left, 65536))
        if not chunk:
            raise WireError("the broker closed the connection")
        chunks.append(chunk)
        left -= len(chunk)
    return b"".join(chunks)


class KafkaWire:
    """Request/response over one connected (plain or TLS) socket."""

    def __init__(self, sock: socket.socket, client_id: str) -> None:
        self.sock = sock
        self.client_id = client_id
        self._correlation = 0

    def call(self, api_key: int, api_version: int, body: bytes) -> _Reader:
        self._correlation += 1
        message = struct.pack(">hhi", api_key, api_version, self._correlation) + _string(self.client_id) + body
        self.sock.sendall(struct.pack(">i", len(message)) + message)
        head = _read_exact(self.sock, 4)
        if head[0] in _TLS_RECORD_TYPES and head[1] == 3:
            raise WireError("the broker answered with TLS: this listener needs SSL or SASL_SSL")
        (size,) = struct.unpack(">i", head)
        if not 4 <= size <= _MAX_RESPONSE_BYTES:
            raise WireError(f"not a Kafka response (size {size})")
        reader = _Reader(_read_exact(self.sock, size))
        if reader.int32() != self._correlation:
            raise WireError("response for another request")
        return reader

    def api_versions(self) -> int:
        """ApiVersions v0: the error code (0 when the broker speaks Kafka to us)."""
        return self.call(API_VERSIONS, 0, b"").int16()

    def sasl_handshake(self, mechanism: str) -> SaslAnswer:
        reader = self.call(SASL_HANDSHAKE, 1, _string(mechanism))
        code = reader.int16()
        mechanisms = tuple(s for s in (reader.string() for _ in range(max(reader.int32(), 0))) if s)
        return SaslAnswer(code, None, b"", mechanisms)

    def sasl_authenticate(self, token: bytes) -> SaslAnswer:
        reader = self.call(SASL_AUTHENTICATE, 0, struct.pack(">i", len(token)) + token)
        code = reader.int16()
        message = reader.string()
        return SaslAnswer(code, message, reader.blob())


def scram_client(user: str, password: str, mechanism: str) -> Any:
    """kafka-python's SCRAM client (its module moved between releases)."""
    for module in ("kafka.net.sasl.scram", "kafka.sasl.scram", "kafka.scram"):
        try:
            return importlib.import_module(module).ScramClient(user, password, mechanism)
        except (ImportError, AttributeError):
            continue
    raise WireError("kafka-python has no SCRAM client")
