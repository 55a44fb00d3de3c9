"""Kafka client settings: the `alerts.kafka:` section, also used by the cluster's coordination topics.

Secrets (`password`, `ssl_key_password`) are `SecretStr` and come from `${ENV}` or `${file:...}` in YAML; they
never appear in reprs or errors.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator, model_validator

_TOPIC = re.compile(r"^[A-Za-z0-9._-]{1,249}$")


def check_topic_name(value: str) -> str:
    """A legal Kafka topic name, or ValueError saying what is allowed (for config validators)."""
    if not _TOPIC.match(value) or value in {".", ".."}:
        raise ValueError("topic must be 1-249 characters of [A-Za-z0-9._-]")
    return value
_HOSTPORT = re.compile(r"^[^\s:/,]+(:\d{1,5})?$")


class KafkaConfig(BaseModel):
    """Where and how the relay publishes: brokers, topic, TLS/SASL, and the producer's timeouts."""

    model_config = ConfigDict(extra="forbid")

    bootstrap_servers: list[str] = Field(
        default_factory=lambda: ["127.0.0.1:9092"],
        min_length=1,
        description="Broker host:port list (a comma-separated string is accepted too).",
    )
    topic: str = Field(default="gridwatch.alerts", description="Topic the alerts are published to.")
    client_id: str = Field(
        default="gridwatch-alerts", min_length=1, max_length=200, description="Kafka client id."
    )
    security_protocol: Literal["PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL"] = Field(
        default="PLAINTEXT", description="Transport security; SSL with certfile/keyfile is mutual TLS."
    )
    sasl_mechanism: Literal["PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512"] | None = Field(
        default=None, description="SASL mechanism; required with SASL_PLAINTEXT and SASL_SSL."
    )
    username: str | None = Field(default=None, description="SASL user name.")
    password: SecretStr | None = Field(
        default=None, description="SASL password (from ${ENV} or ${file:...})."
    )
    ssl_cafile: Path | None = Field(default=None, description="CA bundle (PEM) to verify the brokers.")
    ssl_certfile: Path | None = Field(default=None, description="Client certificate (PEM) for mutual TLS.")
    ssl_keyfile: Path | None = Field(default=None, description="Client private key (PEM) for mutual TLS.")
    ssl_key_password: SecretStr | None = Field(
        default=None, description="Password of the client private key."
    )
    ssl_check_hostname: bool = Field(
        default=True, description="Verify that broker certificates match host names."
    )
    linger_ms: int = Field(default=5, ge=0, le=10_000, description="Producer batching delay.")
    request_timeout_ms: int = Field(
        default=15_000, ge=1_000, le=300_000, description="Per-request broker timeout."
    )
    delivery_timeout_ms: int = Field(
        default=120_000,
        ge=5_000,
        le=3_600_000,
        description="How long the producer keeps retrying one record before the relay takes it back "
        "and re-sends it from the outbox.",
    )
    max_block_ms: int = Field(
        default=10_000, ge=100, le=300_000, description="Longest a send may block waiting for topic metadata."
    )
    bootstrap_timeout_ms: int = Field(
        default=10_000,
        ge=500,
        le=300_000,
        description="Longest the relay waits to reach a broker when (re)connecting.",
    )
    batch_size_bytes: int = Field(
        default=262_144,
        ge=1024,
        le=8_388_608,
        description="Producer batch size per partition; large batches drain a backlog about 3x faster than "
        "kafka-python's 16 KiB default.",
    )
    batch_max_rows: int = Field(
        default=500,
        ge=1,
        le=100_000,
        description="Outbox rows the relay sends per window before waiting for acks.",
    )
    retry_backoff_initial_s: float = Field(
        default=0.5,
        gt=0.0,
        le=60.0,
        description="First wait after a failed window; doubles per failure, with jitter.",
    )
    retry_backoff_max_s: float = Field(
        default=30.0, gt=0.0, le=600.0, description="Cap of the retry backoff."
    )
    unreachable_red_after_s: float = Field(
        default=60.0,
        gt=0.0,
        le=3600.0,
        description="Health turns red when unsent rows wait and no broker answered for this long.",
    )

    @field_validator("bootstrap_servers", mode="before")
    @classmethod
    def _split_servers(cls, value: object) -> object:
        if isinstance(value, str):
            return [s.strip() for s in value.split(",") if s.strip()]
        return value

    @field_validator("bootstrap_servers")
    @classmethod
    def _check_servers(cls, value: list[str]) -> list[str]:
        bad = [s for s in value if not _HOSTPORT.match(s)]
        if bad:
            raise ValueError(f"bootstrap servers must be host or host:port, got {bad}")
        return value

    @field_validator("topic")
    @classmethod
    def _check_topic(cls, value: str) -> str:
        return check_topic_name(value)

    @model_validator(mode="after")
    def _check_security(self) -> KafkaConfig:
        sasl = self.security_protocol.startswith("SASL")
        if sasl and (self.sasl_mechanism is None or not self.username or self.password is None):
            raise ValueError(f"{self.security_protocol} needs sasl_mechanism, username and password")
        if not sasl and self.sasl_mechanism is not None:
            raise ValueError(f"sasl_mechanism is set but security_protocol is {self.security_protocol}")
        if (self.ssl_certfile is None) != (self.ssl_keyfile is None):
            raise ValueError("mutual TLS needs both ssl_certfile and ssl_keyfile")
        if self.retry_backoff_max_s < self.retry_backoff_initial_s:
            raise ValueError("retry_backoff_max_s must be >= retry_backoff_initial_s")
        if self.delivery_timeout_ms < self.request_timeout_ms + self.linger_ms:
            raise ValueError("delivery_timeout_ms must be >= request_timeout_ms + linger_ms")
        return self
