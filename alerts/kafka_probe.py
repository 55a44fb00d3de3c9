"""Why a Kafka client cannot connect, named by listener and by layer.

kafka-python reports every failure to reach a broker the same way (`KafkaTimeoutError: Unable to
bootstrap from [...]`) and leaves the cause in its log. An operator who mistyped a password, points at
the wrong CA or runs with an expired client certificate needs the cause in one line. After a failure,
`diagnose` repeats the connection one layer at a time against each bootstrap server:

1. local files: CA bundle, client certificate and key (loadable, matching, valid now);
2. TCP connect;
3. TLS: the broker's certificate verified against `ssl_cafile`, then a short read, because with TLS 1.3
   a broker that refuses our client certificate says so only after the handshake;
4. the Kafka handshake: ApiVersions, or for SASL_* the SASL exchange (alerts/kafka_wire.py), which
   returns the broker's own reason for a refused login.

The first layer that fails is the cause. Messages name the listener (`SASL_SSL://host:port`), the
config key of any file involved, and never a secret.
"""

from __future__ import annotations

import socket
import ssl
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import Enum
from pathlib import Path
from typing import Any

from alerts.kafka_config import KafkaConfig
from alerts.kafka_settings import listener_name, split_server, uses_sasl, uses_tls
from alerts.kafka_wire import KafkaWire, SaslAnswer, WireError, scram_client
from foundation.errors import PublishError

_POST_HANDSHAKE_READ_S = 1.0


class Layer(Enum):
    """Where a connection failed."""

    FILES = "client files"
    TCP = "tcp"
    TLS = "tls"
    SASL = "sasl"
    KAFKA = "kafka handshake"


@dataclass(frozen=True)
class ListenerProblem:
    """The first failing layer of one listener, with a cause an operator can act on."""

    listener: str
    layer: Layer
    cause: str

    def __str__(self) -> str:
        return f"kafka listener {self.listener}: {self.cause}"


def diagnose(config: KafkaConfig, timeout_s: float = 5.0) -> ListenerProblem | None:
    """The problem of the first bootstrap server, or None when one of them accepts a full connection
    (then the failure lies elsewhere: topic, authorization, advertised listeners, load)."""
    first: ListenerProblem | None = None
    for server in config.bootstrap_servers:
        problem = probe_server(config, server, timeout_s)
        if problem is None:
            return None
        first = first or problem
    return first


def probe_server(config: KafkaConfig, server: str, timeout_s: float) -> ListenerProblem | None:
    """Each layer in turn against one bootstrap server; the first failure, or None."""
    listener = listener_name(config, server)
    cause = check_client_files(config)
    if cause:
        return ListenerProblem(listener, Layer.FILES, cause)
    host, port = split_server(server)
    try:
        sock = socket.create_connection((host, port), timeout=timeout_s)
    except OSError as exc:
        return ListenerProblem(listener, Layer.TCP, f"cannot connect: {_os_reason(exc)}")
    with sock:
        if uses_tls(config):
            cause = _tls_cause(config, sock, host)
            if cause:
                return ListenerProblem(listener, Layer.TLS, cause)
    cause = kafka_handshake_cause(config, server, timeout_s)
    if cause:
        return ListenerProblem(listener, Layer.SASL if uses_sasl(config) else Layer.KAFKA, cause)
    return None


# -- layer 1: local files ----------------------------------------------------------------------------


def check_client_files(config: KafkaConfig, now_s: float | None = None) -> str | None:
    """What is wrong with the CA bundle, client certificate and key the config names, or None."""
    if not uses_tls(config):
        return None
    for key, path in (("ssl_cafile", config.ssl_cafile), ("ssl_certfile", config.ssl_certfile),
                      ("ssl_keyfile", config.ssl_keyfile)):
        if path is not None and not _readable(path):
            return f"{key} {path} cannot be read"
    try:
        tls_context(config)
    except ssl.SSLError as exc:
        return f"ssl_certfile/ssl_keyfile/ssl_cafile cannot be loaded: {_ssl_reason(exc)}"
    if config.ssl_certfile is None:
        return None
    validity = certificate_validity(config.ssl_certfile)
    if validity is None:
        return None
    not_before, not_after = validity
    now = time.time() if now_s is None else now_s
    if now > not_after:
        return f"the client certificate ssl_certfile {config.ssl_certfile} expired on {_iso(not_after)}"
    if now < not_before:
        return f"the client certificate ssl_certfile {config.ssl_certfile} is not valid before {_iso(not_before)}"
    return None


def certificate_validity(path: Path) -> tuple[float, float] | None:
    """(notBefore, notAfter) of a PEM certificate as epoch seconds, or None if it cannot be decoded.

    The standard library decodes certificates only through CPython's `_ssl._test_decode_cert` (no public
    API; used here for a diagnosis, never for a security decision, and absent-safe).
    """
    decode = getattr(getattr(ssl, "_ssl", None), "_test_decode_cert", None)
    if decode is None:
        return None
    try:
        info: dict[str, Any] = decode(str(path))
        return (ssl.cert_time_to_seconds(info["notBefore"]), ssl.cert_time_to_seconds(info["notAfter"]))
    except (OSError, ValueError, KeyError, ssl.SSLError):
        return None


def tls_context(config: KafkaConfig) -> ssl.SSLContext:
    """A client TLS context with the settings kafka-python applies (TLS 1.2+, CA file or system CAs,
    optional client certificate, hostname check)."""
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.minimum_version = ssl.TLSVersion.TLSv1_2
    ctx.check_hostname = config.ssl_check_hostname
    if config.ssl_cafile:
        ctx.load_verify_locations(str(config.ssl_cafile))
    else:
        ctx.load_default_certs()
    if config.ssl_certfile and config.ssl_keyfile:
        password = config.ssl_key_password.get_secret_value() if config.ssl_key_password else None
        ctx.load_cert_chain(str(config.ssl_certfile), str(config.ssl_keyfile), password)
    return ctx


# -- layer 3: TLS --------------------------------------------------------------------------------------


def _tls_cause(config: KafkaConfig, sock: socket.socket, host: str) -> str | None:
    ctx = tls_context(config)
    cafile = f"ssl_cafile {config.ssl_cafile}" if config.ssl_cafile else "the system CA store (no ssl_cafile)"
    try:
        tls = ctx.wrap_socket(sock, server_hostname=host)
    except ssl.SSLCertVerificationError as exc:
        reason = exc.verify_message or _ssl_reason(exc)
        if "hostname" in reason.lower() or "ip address mismatch" in reason.lower():
            return f"the broker's certificate does not name {host} ({reason}); fix the bootstrap address or " \
                   "the broker certificate (ssl_check_hostname)"
        return f"the broker's certificate is not trusted by {cafile}: {reason}"
    except ssl.SSLError as exc:
        return _refused_or_not_tls(config, exc)
    except OSError as exc:
        return f"the TLS handshake failed: {_os_reason(exc)}; is this a TLS listener?"
    with tls:
        tls.settimeout(_POST_HANDSHAKE_READ_S)
        try:
            data = tls.recv(1)
        except TimeoutError:
            return None  # the broker waits for our first request: it accepted the connection
        except ssl.SSLError as exc:
            return _refused_or_not_tls(config, exc)
        except OSError as exc:
            return f"the broker closed the TLS connection: {_os_reason(exc)}"
        if not data:
            return "the broker closed the TLS connection right after the handshake (client certificate refused?)"
    return None


def _refused_or_not_tls(config: KafkaConfig, exc: ssl.SSLError) -> str:
    reason = _ssl_reason(exc)
    if "ALERT" not in reason.upper():
        return f"the TLS handshake failed ({reason}); is this a TLS listener?"
    if config.ssl_certfile is None:
        return f"the broker refused the connection ({reason}): it requires a client certificate " \
               "(set ssl_certfile and ssl_keyfile)"
    return f"the broker refused the client certificate ssl_certfile {config.ssl_certfile} ({reason}): " \
           "expired, revoked, or not signed by a CA the broker trusts"


# -- layer 4: the Kafka handshake (SASL) -----------------------------------------------------------------


def kafka_handshake_cause(config: KafkaConfig, server: str, timeout_s: float) -> str | None:
    """ApiVersions (and the SASL exchange for SASL_*) on a fresh connection; what failed, or None."""
    host, port = split_server(server)
    try:
        sock = socket.create_connection((host, port), timeout=timeout_s)
    except OSError as exc:
        return f"cannot connect: {_os_reason(exc)}"
    try:
        if uses_tls(config):
            sock = tls_context(config).wrap_socket(sock, server_hostname=host)
        wire = KafkaWire(sock, "gridwatch-probe")
        if uses_sasl(config):
            return _sasl_cause(config, wire)
        if wire.api_versions() != 0:
            return "the broker refused the ApiVersions request"
        return None
    except (WireError, OSError) as exc:
        detail = str(exc) if isinstance(exc, WireError) else _os_reason(exc)
        return f"no Kafka session ({detail}); is {config.security_protocol} the protocol of this listener?"
    finally:
        sock.close()


def _sasl_cause(config: KafkaConfig, wire: KafkaWire) -> str | None:
    mechanism = str(config.sasl_mechanism)
    who = f"SASL {mechanism} as user {config.username!r}"
    hello = wire.sasl_handshake(mechanism)
    if hello.error_code != 0:
        offered = ", ".join(hello.mechanisms) or "none"
        return f"{who}: the listener does not offer {mechanism} (it offers: {offered})"
    user = config.username or ""
    password = config.password.get_secret_value() if config.password else ""
    if mechanism == "PLAIN":
        answer = wire.sasl_authenticate(b"\0" + user.encode() + b"\0" + password.encode())
        return _refused(who, answer)
    scram = scram_client(user, password, mechanism)
    answer = wire.sasl_authenticate(scram.first_message())
    if answer.error_code != 0:
        return _refused(who, answer)
    scram.process_server_first_message(answer.payload)
    return _refused(who, wire.sasl_authenticate(scram.final_message()))


def _refused(who: str, answer: SaslAnswer) -> str | None:
    if answer.error_code == 0:
        return None
    said = answer.error_message or f"Kafka error {answer.error_code}"
    return f"{who} was refused: wrong user name or password, or no such user for this mechanism (broker: {said})"


# -- helpers -------------------------------------------------------------------------------------------


def _readable(path: Path) -> bool:
    try:
        with path.open("rb") as fh:
            fh.read(1)
    except OSError:
        return False
    return True


def _ssl_reason(exc: ssl.SSLError) -> str:
    return str(exc.reason or exc.strerror or exc).replace("_", " ").lower() if exc.reason else str(exc)


def _os_reason(exc: OSError) -> str:
    if isinstance(exc, TimeoutError | socket.timeout):
        return "timed out"
    return exc.strerror or type(exc).__name__


def _kafka_reason(exc: BaseException) -> str:
    text = str(exc) or type(exc).__name__
    return text.split("] ", 1)[1] if text.startswith("[Error") and "] " in text else text


def _iso(epoch_s: float) -> str:
    return datetime.fromtimestamp(epoch_s, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def connection_error(config: KafkaConfig, what: str, exc: BaseException, timeout_s: float = 5.0) -> PublishError:
    """A retryable PublishError for a client that could not connect: the diagnosed cause when the probe
    finds one, else kafka-python's own error."""
    problem = diagnose(config, min(timeout_s, config.bootstrap_timeout_ms / 1000.0))
    if problem is not None:
        return PublishError(f"{what}: {problem}", retryable=True)
    servers = ",".join(config.bootstrap_servers)
    return PublishError(f"{what}: kafka {config.security_protocol}://{servers}: {type(exc).__name__}: {exc}",
                        retryable=True)
