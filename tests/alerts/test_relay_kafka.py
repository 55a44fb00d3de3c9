"""Delivery through a real Kafka broker: schema-valid messages read by an independent client (librdkafka),
a 60 s broker outage, per-source order across a broker crash, and a relay process killed with SIGKILL."""

import json
import os
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from alerts.config import AlertsConfig
from alerts.outbox import Outbox
from alerts.reader import list_alerts, replay, tail_topic
from alerts.runtime import AlertsRuntime
from alerts.schema import Alert, load_schema
from tests.alerts.factories import event, frame
from tests.infra.kafka import KafkaBroker, read_topic

pytestmark = pytest.mark.integration
VALIDATOR = jsonschema.Draft202012Validator(load_schema())
REPO = Path(__file__).resolve().parents[2]


def runtime(tmp_path: Path, bootstrap: str, topic: str, **kafka: Any) -> AlertsRuntime:
    cfg = AlertsConfig.model_validate(
        {
            "outbox": {"path": str(tmp_path / "outbox.sqlite3")},
            "kafka": {"bootstrap_servers": bootstrap, "topic": topic, **kafka},
            "evidence": {
                "store": {"type": "local", "dir": str(tmp_path / "ev")},
                "scratch_dir": str(tmp_path / "tmp"),
            },
            "dedup": {"enabled": False},
        }
    )
    return AlertsRuntime(cfg, node_id="node-test", config_version="cfg-test")


def produce(
    rt: AlertsRuntime, n: int, *, start: int = 0, sources: int = 5, pause_s: float = 0.0
) -> list[str]:
    ids = []
    for i in range(start, start + n):
        alert = rt.pipeline.handle(
            event(
                source_id=f"cam-{i % sources}",
                incident_id=f"inc-{i}",
                t=time.time(),
                lat=30.0 + 0.01 * i,
                lon=120.0,
            )
        )
        assert alert is not None
        ids.append(alert.alert_id)
        if pause_s:
            time.sleep(pause_s)
    return ids


def check_topic(messages: list[dict[str, Any]], outbox_path: Path, expected_ids: list[str]) -> None:
    """Every expected alert is in the topic; every message is a schema-valid re-send of an outbox row;
    per source, first occurrences come in outbox order."""
    db = sqlite3.connect(str(outbox_path))
    rows = {r[0]: (r[1], r[2], r[3]) for r in db.execute("SELECT alert_id, seq, source, payload FROM alerts")}
    db.close()
    seen: dict[str, bytes] = {}
    order: dict[str, list[int]] = defaultdict(list)
    partitions: dict[str, set[int]] = defaultdict(set)
    for m in messages:
        payload = m["value"]
        data = json.loads(payload)
        VALIDATOR.validate(data)
        alert = Alert.model_validate(data)
        header_id = m["headers"]["alert_id"].decode()
        assert header_id == alert.alert_id and m["key"] == alert.source.encode()
        assert header_id in rows, f"message {header_id} is not an outbox alert"
        seq, source, stored = rows[header_id]
        assert payload == stored, "a duplicate differs from the alert it repeats"
        partitions[source].add(m["partition"])
        if header_id not in seen:
            seen[header_id] = payload
            order[source].append(seq)
    missing = set(expected_ids) - set(seen)
    assert not missing, f"{len(missing)} alerts never reached the topic"
    for source, seqs in order.items():
        assert seqs == sorted(seqs), f"{source}: alerts out of order"
        assert len(partitions[source]) == 1, f"{source}: key did not pin one partition"


def read_all(bootstrap: str, topic: str, unique: int, timeout_s: float = 60.0) -> list[dict[str, Any]]:
    """Read until `unique` distinct alert ids were seen (re-sends make the message count larger)."""
    want = unique
    while True:
        msgs = read_topic(bootstrap, topic, expect=want, timeout_s=timeout_s)
        got = len({m["headers"]["alert_id"] for m in msgs})
        if got >= unique or len(msgs) < want:
            return msgs
        want = len(msgs) + unique - got


def by_partition_offset(messages: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return sorted(messages, key=lambda m: (m["partition"], m["offset"]))


def test_alerts_reach_the_topic_valid_keyed_and_marked_sent(
    tmp_path: Path, kafka_broker: KafkaBroker
) -> None:
    topic = kafka_broker.new_topic("gw-alerts", partitions=3)
    rt = runtime(tmp_path, kafka_broker.bootstrap, topic)
    rt.start()
    ids = produce(rt, 20)
    with_snapshot = rt.pipeline.handle(
        event(source_id="cam-x", incident_id="snap", snapshot=frame("cam-x"), t=time.time())
    )
    assert with_snapshot is not None
    assert rt.relay is not None and rt.relay.drain(60.0)
    assert rt.health().ok and rt.relay.reachable()
    stats = rt.relay.stats
    assert stats.published["acked"] == 21 and stats.order_risks == 0
    lat = [s[0] for s in stats.latency.recent]
    assert len(lat) == 21 and all(x >= 0 for x in lat)
    assert rt.stop(10.0)
    msgs = read_topic(kafka_broker.bootstrap, topic, expect=21, timeout_s=60)
    assert len(msgs) == 21
    check_topic(msgs, tmp_path / "outbox.sqlite3", [*ids, with_snapshot.alert_id])
    sent = {r.alert_id: r for r in list_alerts(rt.config.outbox, status="sent", limit=100)}
    for m in msgs:
        row = sent[m["headers"]["alert_id"].decode()]
        assert (row.kafka_partition, row.kafka_offset) == (m["partition"], m["offset"])
    assert json.loads(msgs[0]["value"])["node_id"] == "node-test"


@pytest.mark.slow
def test_100_alerts_during_a_60s_broker_outage_all_arrive(
    tmp_path: Path, own_kafka_broker: KafkaBroker
) -> None:
    broker = own_kafka_broker
    topic = broker.new_topic("gw-outage", partitions=3)
    rt = runtime(
        tmp_path,
        broker.bootstrap,
        topic,
        delivery_timeout_ms=20_000,
        request_timeout_ms=5_000,
        max_block_ms=5_000,
        bootstrap_timeout_ms=5_000,
        retry_backoff_max_s=5.0,
        unreachable_red_after_s=20.0,
    )
    rt.start()
    before = produce(rt, 10)
    assert rt.relay is not None and rt.relay.drain(60.0)

    broker.stop()
    stopped_at = time.monotonic()
    during = produce(rt, 100, start=10, pause_s=0.2)  # 100 alerts over the first ~20 s of the outage
    time.sleep(max(0.0, 60.0 - (time.monotonic() - stopped_at)))
    outbox = rt.outbox
    assert outbox.depth() == 100, "alerts were acknowledged while the broker was down"
    health = rt.health()
    assert not health.ok and "unreachable" in health.reason

    broker.start()
    assert rt.relay.drain(120.0), f"{rt.outbox.depth()} alerts still unsent after the broker came back"
    assert rt.health().ok
    failed_windows = rt.relay.stats.failed_windows
    assert rt.stop(10.0)
    msgs = read_all(broker.bootstrap, topic, unique=110)
    check_topic(msgs, tmp_path / "outbox.sqlite3", before + during)
    assert failed_windows >= 1  # records expired in the producer and were re-sent from the outbox


def test_per_source_order_holds_across_a_broker_crash(tmp_path: Path, own_kafka_broker: KafkaBroker) -> None:
    broker = own_kafka_broker
    topic = broker.new_topic("gw-order", partitions=4)
    rt = runtime(
        tmp_path,
        broker.bootstrap,
        topic,
        delivery_timeout_ms=10_000,
        request_timeout_ms=3_000,
        max_block_ms=3_000,
        bootstrap_timeout_ms=3_000,
        retry_backoff_max_s=2.0,
        batch_max_rows=20,
    )
    rt.start()
    ids: list[str] = []
    stop = threading.Event()

    def keep_producing() -> None:
        i = 0
        while not stop.is_set():
            ids.extend(produce(rt, 1, start=i, sources=4))
            i += 1
            time.sleep(0.02)

    worker = threading.Thread(target=keep_producing)
    worker.start()
    try:
        time.sleep(3.0)
        broker.kill()  # a crash: SIGKILL, no clean shutdown
        time.sleep(8.0)
        broker.start()
        time.sleep(3.0)
    finally:
        stop.set()
        worker.join(10)
    assert rt.relay is not None and rt.relay.drain(90.0)
    assert rt.stop(10.0)
    msgs = read_all(broker.bootstrap, topic, unique=len(ids))
    check_topic(by_partition_offset(msgs), tmp_path / "outbox.sqlite3", ids)
    assert len(ids) > 300


def test_relay_process_killed_while_publishing_loses_nothing(
    tmp_path: Path, kafka_broker: KafkaBroker
) -> None:
    topic = kafka_broker.new_topic("gw-sigkill", partitions=3)
    outbox_path = tmp_path / "outbox.sqlite3"
    args = ["--outbox", str(outbox_path), "--bootstrap", kafka_broker.bootstrap, "--topic", topic]
    child = subprocess.Popen(
        [sys.executable, "-m", "tests.alerts.relay_child", "produce", *args, "--events", "5000"],
        cwd=REPO,
        stdout=subprocess.PIPE,
        text=True,
    )
    accepted: list[str] = []
    assert child.stdout is not None
    try:
        deadline = time.monotonic() + 60
        sent = 0
        while time.monotonic() < deadline:
            line = child.stdout.readline().strip()
            if not line:
                break
            accepted.append(line)
            if len(accepted) % 50 == 0 and len(accepted) >= 400:
                db = sqlite3.connect(str(outbox_path))
                sent = db.execute("SELECT COUNT(*) FROM alerts WHERE status = 'sent'").fetchone()[0]
                db.close()
                if sent > 0:
                    break
        assert sent > 0, "the relay never published before the kill"
        os.kill(child.pid, signal.SIGKILL)
    finally:
        child.kill()
        child.wait(10)
    assert child.returncode == -signal.SIGKILL
    ob = Outbox(AlertsConfig.model_validate({"outbox": {"path": str(outbox_path)}}).outbox)
    pending_after_kill = ob.depth()
    assert all(ob.get(a) is not None for a in accepted), "an accepted alert is missing from the outbox"
    ob.close()

    done = subprocess.run(
        [sys.executable, "-m", "tests.alerts.relay_child", "drain", *args],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert "DRAINED" in done.stdout, done.stderr[-2000:]
    db = sqlite3.connect(str(outbox_path))
    total = db.execute("SELECT COUNT(*) FROM alerts").fetchone()[0]
    db.close()
    msgs = read_all(kafka_broker.bootstrap, topic, unique=total)
    check_topic(by_partition_offset(msgs), outbox_path, accepted)
    assert total >= len(accepted) and pending_after_kill >= 0


def test_reader_lists_tails_and_replays(tmp_path: Path, kafka_broker: KafkaBroker) -> None:
    topic = kafka_broker.new_topic("gw-reader", partitions=2)
    rt = runtime(tmp_path, kafka_broker.bootstrap, topic)
    rt.start()
    ids = produce(rt, 5)
    assert rt.relay is not None and rt.relay.drain(60.0)
    assert rt.stop(10.0)
    rows = list_alerts(rt.config.outbox, status="sent", limit=10)
    assert [r.alert_id for r in rows] == ids[::-1]  # newest first
    assert list_alerts(rt.config.outbox, status="pending") == []

    result = replay(rt.config, alert_ids=ids[:2], timeout_s=60.0)
    assert (result.requeued, result.sent, result.pending_left) == (2, True, 0)
    tailed = list(tail_topic(rt.config.kafka, from_beginning=True, max_messages=7, timeout_s=30.0))
    assert len(tailed) == 7
    counts: dict[str, int] = defaultdict(int)
    for m in tailed:
        assert m.alert is not None and m.alert_id == m.alert["alert_id"] and m.key == m.alert["source"]
        counts[m.alert_id or ""] += 1
    assert {a for a, c in counts.items() if c == 2} == set(ids[:2])
    assert list(tail_topic(rt.config.kafka, max_messages=1, timeout_s=1.0)) == []  # from the end: nothing new
