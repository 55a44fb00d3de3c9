"""The Kafka producer the relay publishes with: the slice of kafka-python it uses, and the real one.

`Producer` and `RecordFuture` are the seam unit tests fake; `kafka_producer` builds kafka-python's
producer from the shared client settings (alerts/kafka_settings.py) and turns a failed connection into
an error that names the listener and the cause.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol

from kafka import KafkaProducer
from kafka.errors import KafkaError

from alerts.kafka_config import KafkaConfig
from alerts.kafka_probe import connection_error
from alerts.kafka_settings import producer_settings


class RecordFuture(Protocol):
    """What `send()` returns (kafka-python's FutureRecordMetadata satisfies it)."""

    is_done: bool
    value: Any
    exception: BaseException | None

    def succeeded(self) -> bool: ...

    def add_callback(self, f: Callable[..., Any], *args: Any) -> Any: ...


class Producer(Protocol):
    """The slice of kafka-python's KafkaProducer the relay uses (a seam for unit-test fakes)."""

    def send(
        self, topic: str, value: bytes, key: bytes, headers: list[tuple[str, bytes]]
    ) -> RecordFuture: ...

    def flush(self, timeout: float | None = None) -> None: ...

    def close(self, timeout: float | None = None) -> None: ...


ProducerFactory = Callable[[KafkaConfig], Producer]


def kafka_producer(config: KafkaConfig) -> Producer:
    """A real kafka-python producer; raises PublishError (retryable) naming the listener and the cause
    (wrong password, untrusted CA, refused certificate, nothing listening) when it cannot connect."""
    try:
        producer: Producer = KafkaProducer(**producer_settings(config))
    except (KafkaError, OSError) as exc:
        raise connection_error(config, "cannot start the alerts producer", exc) from exc
    return producer
