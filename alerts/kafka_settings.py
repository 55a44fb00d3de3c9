"""kafka-python client settings built from a `KafkaConfig`, in one place for every Kafka client we run.

The relay's producer, `alerts tail`, `alerts replay` and cluster mode (group member, registry reader,
`cameras sync`, `cluster status`) all connect through `security_settings`, so TLS, mutual TLS and SASL
are configured once per district and behave the same everywhere. The returned dicts hold secrets (the
SASL password, the key password): never log them.
"""

from __future__ import annotations

from typing import Any

from alerts.kafka_config import KafkaConfig

RETRY_BACKOFF_MS = 200
RECONNECT_BACKOFF_MS = 200
RECONNECT_BACKOFF_MAX_MS = 5000


def uses_tls(config: KafkaConfig) -> bool:
    """Whether the connection is TLS (SSL or SASL_SSL)."""
    return config.security_protocol in ("SSL", "SASL_SSL")


def uses_sasl(config: KafkaConfig) -> bool:
    """Whether the client authenticates with SASL (SASL_PLAINTEXT or SASL_SSL)."""
    return config.security_protocol.startswith("SASL")


def split_server(server: str) -> tuple[str, int]:
    """`host:port` (or `host`, port 9092; `[v6]:port`) as (host, port)."""
    host, sep, port = server.rpartition(":")
    if not sep or "]" in port:
        return server.strip("[]"), 9092
    return host.strip("[]"), int(port)


def listener_name(config: KafkaConfig, server: str) -> str:
    """How errors name the listener a client talks to: `SASL_SSL://kafka-0:9094`."""
    return f"{config.security_protocol}://{server}"


def security_settings(config: KafkaConfig) -> dict[str, Any]:
    """Connection, TLS and SASL settings shared by producers, consumers and admin clients."""
    settings: dict[str, Any] = {
        "bootstrap_servers": list(config.bootstrap_servers),
        "client_id": config.client_id,
        "request_timeout_ms": config.request_timeout_ms,
        "bootstrap_timeout_ms": config.bootstrap_timeout_ms,
        "retry_backoff_ms": RETRY_BACKOFF_MS,
        "reconnect_backoff_ms": RECONNECT_BACKOFF_MS,
        "reconnect_backoff_max_ms": RECONNECT_BACKOFF_MAX_MS,
        "security_protocol": config.security_protocol,
    }
    if uses_tls(config):
        settings["ssl_check_hostname"] = config.ssl_check_hostname
        if config.ssl_cafile:
            settings["ssl_cafile"] = str(config.ssl_cafile)
        if config.ssl_certfile and config.ssl_keyfile:
            settings["ssl_certfile"] = str(config.ssl_certfile)
            settings["ssl_keyfile"] = str(config.ssl_keyfile)
        if config.ssl_key_password is not None:
            settings["ssl_password"] = config.ssl_key_password.get_secret_value()
    if uses_sasl(config):
        settings["sasl_mechanism"] = config.sasl_mechanism
        settings["sasl_plain_username"] = config.username
        settings["sasl_plain_password"] = config.password.get_secret_value() if config.password else None
    return settings


def producer_settings(config: KafkaConfig) -> dict[str, Any]:
    """The relay's producer: acks from every in-sync replica, idempotent, one request in flight per
    connection (the delivery guarantees of alerts/relay.py)."""
    return {
        **security_settings(config),
        "acks": "all",
        "enable_idempotence": True,
        "max_in_flight_requests_per_connection": 1,
        "linger_ms": config.linger_ms,
        "delivery_timeout_ms": config.delivery_timeout_ms,
        "max_block_ms": config.max_block_ms,
        "batch_size": config.batch_size_bytes,
    }
