"""The alerts package assembled for the service: pipeline, outbox and (with Kafka) relay, with one
start, one stop and one health view.

Stop order (the service's last step): finish queued evidence, then let the relay publish what is
unsent until the deadline, then close the outbox. Unsent rows stay in the outbox for the next start.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from alerts.config import AlertsConfig
from alerts.kafka_config import KafkaConfig
from alerts.kafka_producer import ProducerFactory, kafka_producer
from alerts.kinds import BUILTIN, AlertKinds
from alerts.outbox_rows import OutboxHealth
from alerts.pipeline import AlertPipeline
from alerts.relay import KafkaRelay, RelayHealth
from foundation.errors import PublishError


@dataclass(frozen=True)
class AlertsHealth:
    """Green/red for the health endpoint, with the reason shown when red."""

    ok: bool
    reason: str
    outbox: OutboxHealth
    relay: RelayHealth | None


class AlertsRuntime:
    """`AlertsRuntime(config, node_id=..., config_version=...)`, `.pipeline.handle(event, ...)`."""

    def __init__(
        self,
        config: AlertsConfig,
        *,
        node_id: str,
        config_version: str,
        producer_factory: ProducerFactory = kafka_producer,
        kinds: AlertKinds = BUILTIN,
    ) -> None:
        self.config = config
        self.pipeline = AlertPipeline(config, node_id=node_id, config_version=config_version, kinds=kinds)
        self.outbox = self.pipeline.outbox
        self.relay = (
            KafkaRelay(self.outbox, config.kafka, producer_factory=producer_factory) if config.kafka else None
        )

    def start(self) -> None:
        self.pipeline.start()
        if self.relay is not None:
            self.relay.start()

    def stop(self, deadline_s: float = 15.0) -> bool:
        """Stop within deadline_s; True when nothing was left unsent (or there is no Kafka)."""
        end = time.monotonic() + deadline_s
        if self.pipeline.evidence is not None:
            self.pipeline.evidence.stop(max(0.5, (end - time.monotonic()) / 3))
        drained = True
        if self.relay is not None:
            drained = self.relay.stop(max(0.5, end - time.monotonic()))
        self.outbox.close()
        return drained

    def reconfigure_kafka(self, kafka: KafkaConfig) -> None:
        """New Kafka connection settings (a reload fixed credentials): the relay reconnects with them;
        alerts waiting in the outbox are sent first. Adding or removing Kafka needs a restart."""
        if self.relay is None:
            raise PublishError("alerts.kafka was not configured at start: adding Kafka needs a restart")
        self.relay.reconfigure(kafka)
        self.config = self.config.model_copy(update={"kafka": kafka})

    def health(self) -> AlertsHealth:
        if self.relay is not None:
            rh = self.relay.health()
            return AlertsHealth(rh.ok, rh.reason, rh.outbox, rh)
        oh = self.outbox.health()
        return AlertsHealth(oh.ok, oh.reason, oh, None)
