"""Relay logic against a fake producer at the kafka-python seam: failures, order risks, backoff, stop."""

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from alerts.config import OutboxConfig
from alerts.kafka_config import KafkaConfig
from alerts.kafka_producer import RecordFuture
from alerts.outbox import Outbox
from alerts.relay import KafkaRelay
from foundation.errors import PublishError
from tests.alerts.factories import alert


class FakeMetadata:
    def __init__(self, partition: int, offset: int) -> None:
        self.partition, self.offset = partition, offset


class FakeFuture:
    def __init__(self) -> None:
        self.is_done = False
        self.value: Any = None
        self.exception: BaseException | None = None
        self._callbacks: list[tuple[Callable[..., Any], tuple[Any, ...]]] = []

    def succeeded(self) -> bool:
        return self.is_done and self.exception is None

    def add_callback(self, f: Callable[..., Any], *args: Any) -> None:
        if self.succeeded():
            f(*args, self.value)
        else:
            self._callbacks.append((f, args))

    def ok(self, partition: int, offset: int) -> None:
        self.value, self.is_done = FakeMetadata(partition, offset), True
        for f, args in self._callbacks:
            f(*args, self.value)

    def fail(self, exc: BaseException) -> None:
        self.exception, self.is_done = exc, True


class FakeProducer:
    """Acks every record unless `fails(alert_id)` says otherwise; `hang` never answers."""

    def __init__(
        self, log: list[tuple[bytes, str]], fails: Callable[[str], bool] = lambda _: False, hang: bool = False
    ) -> None:
        self.log, self.fails, self.hang = log, fails, hang
        self.closed = False

    def send(self, topic: str, value: bytes, key: bytes, headers: list[tuple[str, bytes]]) -> RecordFuture:
        alert_id = dict(headers)["alert_id"].decode()
        fut = FakeFuture()
        if not self.hang:
            if self.fails(alert_id):
                fut.fail(TimeoutError("batch expired"))
            else:
                self.log.append((key, alert_id))
                fut.ok(0, len(self.log) - 1)
        return fut

    def flush(self, timeout: float | None = None) -> None:
        if self.hang:
            time.sleep(min(timeout or 0.0, 0.05))

    def close(self, timeout: float | None = None) -> None:
        self.closed = True


def kafka_cfg(**kw: Any) -> KafkaConfig:
    return KafkaConfig(
        bootstrap_servers=["127.0.0.1:1"],
        topic="t",
        retry_backoff_initial_s=0.05,
        retry_backoff_max_s=0.2,
        **kw,
    )


def fill(tmp_path: Path, sources: list[str], **kw: Any) -> Outbox:
    ob = Outbox(OutboxConfig(path=tmp_path / "ob.sqlite3", **kw))
    for i, src in enumerate(sources):
        ob.put(alert(i, src), trigger_captured_at=time.time())
    return ob


def test_failed_record_is_resent_and_a_later_ack_of_its_source_is_counted(tmp_path: Path) -> None:
    ob = fill(tmp_path, ["A", "B", "A", "B", "A"])
    bad = alert(2, "A").alert_id
    failures = {"left": 1}

    def fails(alert_id: str) -> bool:
        if alert_id == bad and failures["left"]:
            failures["left"] -= 1
            return True
        return False

    sent: list[tuple[bytes, str]] = []
    producers: list[FakeProducer] = []

    def factory(_: KafkaConfig) -> FakeProducer:
        producers.append(FakeProducer(sent, fails))
        return producers[-1]

    relay = KafkaRelay(ob, kafka_cfg(), producer_factory=factory)
    relay.start()
    assert relay.drain(10.0)
    assert relay.stop(2.0)
    ids = [a for _, a in sent]
    assert sorted(ids) == sorted(alert(i, s).alert_id for i, s in enumerate(["A", "B", "A", "B", "A"]))
    assert ids[-1] == bad  # re-sent after the rest of its window
    assert relay.stats.order_risks == 1  # alert 4 of source A was acked before the re-sent alert 2
    assert relay.stats.published["failed"] == 1 and relay.stats.failed_windows == 1
    assert len(producers) == 2 and producers[0].closed  # a fresh producer after the failed window
    row = ob.get(bad)
    assert row is not None and row.status == "sent" and row.attempts == 2
    assert len(relay.stats.latency.take_new()) == 5 and relay.stats.latency.take_new() == []


def test_unreachable_broker_backs_off_and_health_turns_red(tmp_path: Path) -> None:
    ob = fill(tmp_path, ["A", "A", "B"])
    sent: list[tuple[bytes, str]] = []
    attempts = {"n": 0}

    def factory(_: KafkaConfig) -> FakeProducer:
        attempts["n"] += 1
        if attempts["n"] <= 4:
            raise PublishError("kafka 127.0.0.1:1: cannot start producer: NoBrokersAvailable", retryable=True)
        return FakeProducer(sent)

    relay = KafkaRelay(ob, kafka_cfg(unreachable_red_after_s=0.1), producer_factory=factory)
    relay.start()
    deadline = time.monotonic() + 5.0
    red = None
    while time.monotonic() < deadline and attempts["n"] < 5:
        h = relay.health()
        if not h.ok:
            red = h
        time.sleep(0.02)
    assert red is not None and "unreachable" in red.reason and not red.reachable
    assert relay.drain(5.0) and relay.health().ok and relay.reachable()
    relay.stop(1.0)
    assert relay.stats.producer_failures == 4 and "NoBrokersAvailable" in relay.stats.last_error
    assert [a for _, a in sent] == [alert(i, s).alert_id for i, s in enumerate(["A", "A", "B"])]


def test_stop_respects_its_deadline_and_keeps_unacked_rows(tmp_path: Path) -> None:
    ob = fill(tmp_path, ["A", "B"])
    producers: list[FakeProducer] = []

    def factory(_: KafkaConfig) -> FakeProducer:
        producers.append(FakeProducer([], hang=True))
        return producers[-1]

    relay = KafkaRelay(ob, kafka_cfg(), producer_factory=factory)
    relay.start()
    time.sleep(0.3)
    t0 = time.monotonic()
    assert relay.stop(deadline_s=0.5) is False
    assert time.monotonic() - t0 < 2.5
    assert ob.depth() == 2 and producers[0].closed


def test_health_is_red_above_the_outbox_high_water_mark(tmp_path: Path) -> None:
    ob = fill(tmp_path, ["A"] * 9, max_rows=10, high_water_ratio=0.8)
    relay = KafkaRelay(ob, kafka_cfg(), producer_factory=lambda _: FakeProducer([], hang=True))
    h = relay.health()
    assert not h.ok and "high-water" in h.reason and h.outbox.pending == 9
