"""`gridwatch cameras sync FILE` and `gridwatch cluster status --config FILE`.

`cameras sync` is how the district's camera list reaches the nodes: it validates FILE (every `${...}`
replaced by a placeholder, so the operator's machine needs none of the camera secrets), reads the
registry, and writes the difference: new and changed definitions, and tombstones for cameras no longer in
the file. `--dry-run` prints the plan only. A file without any camera is refused rather than read as
"remove every camera".

`cluster status` shows the group as the broker sees it: each member's node, capacity, buckets and the
registry cameras in them, plus buckets no member holds.

Both read only the Kafka settings of FILE with its references resolved (`cluster:` and `alerts.kafka`),
so a broker password can come from the environment while camera passwords stay unresolved.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any, TypeVar

from kafka import KafkaAdminClient, KafkaConsumer, KafkaProducer
from kafka.errors import KafkaError
from pydantic import BaseModel, ValidationError

from alerts.kafka_config import KafkaConfig
from alerts.kafka_probe import connection_error
from foundation.errors import ConfigError, GridwatchError, PublishError
from foundation.yamlsafe import YamlDocument, load_yaml, read_text, substitute_data
from gridwatch.cluster.assignor import Advert
from gridwatch.cluster.buckets import bucket_of
from gridwatch.cluster.config import ClusterConfig
from gridwatch.cluster.kafka_io import admin_settings, connection, producer_settings, registry_consumer_settings
from gridwatch.cluster.registry import Definition, SyncPlan, definitions_from_file, encode, plan_sync, read_registry
from gridwatch.configload import describe_errors

M = TypeVar("M", bound=BaseModel)

READ_TIMEOUT_S = 60.0
PUBLISH_TIMEOUT_S = 60.0


def cluster_settings(path: Path) -> tuple[ClusterConfig, KafkaConfig]:
    """The `cluster:` section and the Kafka connection of FILE, with only those references resolved."""
    source = str(path)
    data = load_yaml(read_text(path), source=source, references="keep").data or {}
    if not isinstance(data, Mapping) or not isinstance(data.get("cluster"), Mapping):
        raise ConfigError(f"{source}: no `cluster:` section (brokers, topics); see deploy/README.md, cluster mode")
    cluster = _model(ClusterConfig, data["cluster"], source, "cluster")
    alerts = data.get("alerts")
    raw_kafka = alerts.get("kafka") if isinstance(alerts, Mapping) else None
    alerts_kafka = _model(KafkaConfig, raw_kafka, source, "alerts.kafka") if isinstance(raw_kafka, Mapping) else None
    return cluster, connection(cluster, alerts_kafka, source)


def _model(model: type[M], raw: Any, source: str, where: str) -> M:
    label = f"{source} ({where})"
    data = substitute_data(raw, label)
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        problems = describe_errors(exc, YamlDocument(data=data, source=label), model)
        raise ConfigError(f"{label}: {len(problems)} problem(s)", problems) from None


def _registry_and_buckets(cluster: ClusterConfig, kafka: KafkaConfig) -> tuple[dict[str, Definition], int]:
    try:
        consumer = KafkaConsumer(**registry_consumer_settings(kafka, "cli"))
    except KafkaError as exc:
        raise connection_error(kafka, f"reading the registry {cluster.registry_topic}", exc) from exc
    try:
        current = read_registry(consumer, cluster.registry_topic, READ_TIMEOUT_S)
        buckets = len(consumer.partitions_for_topic(cluster.assignment_topic) or ())
    finally:
        consumer.close(timeout_ms=2000)
    return current, buckets


# ----------------------------------------------------------------------------------------- cameras sync

def cmd_cameras_sync(args: argparse.Namespace) -> int:
    """0: registry matches FILE (or the plan was printed); 2: FILE invalid; 1: Kafka failed."""
    path: Path = args.file
    _root, wanted = definitions_from_file(path)
    cluster, kafka = cluster_settings(path)
    try:
        current, buckets = _registry_and_buckets(cluster, kafka)
    except KafkaError as exc:
        raise GridwatchError(f"reading the registry {cluster.registry_topic} failed: {exc}") from exc
    if not wanted and current:
        raise ConfigError(f"{path}: lists no camera; refusing to remove all {len(current)} camera(s) of the "
                          f"registry {cluster.registry_topic} (a typo must not darken the district)")
    plan = plan_sync(current, wanted)
    print(f"registry {cluster.registry_topic}: {len(current)} camera(s); {path}: {len(wanted)} camera(s)")
    _print_plan(plan, wanted, buckets)
    if args.dry_run or plan.empty:
        print("dry run: nothing published" if args.dry_run else "registry already matches the file")
        return 0
    sent = _publish(cluster.registry_topic, kafka, plan, wanted)
    print(f"published {sent} record(s) to {cluster.registry_topic}")
    return 0


def _print_plan(plan: SyncPlan, wanted: Mapping[str, Definition], buckets: int) -> None:
    def where(cid: str) -> str:
        bucket = f"bucket {bucket_of(cid, buckets)}" if buckets else "no assignment topic yet"
        origin = wanted[cid].origin if cid in wanted else ""
        return f"({bucket}{'; from ' + origin if origin else ''})"

    for mark, ids in (("+", plan.added), ("~", plan.changed), ("-", plan.removed)):
        for cid in ids:
            print(f"  {mark} {cid:<24} {where(cid)}")
    print(f"{len(plan.added)} to add, {len(plan.changed)} to change, {len(plan.removed)} to remove, "
          f"{plan.unchanged} unchanged")


def _publish(topic: str, kafka: KafkaConfig, plan: SyncPlan, wanted: Mapping[str, Definition]) -> int:
    try:
        producer = KafkaProducer(**producer_settings(kafka))
    except KafkaError as exc:
        raise connection_error(kafka, f"publishing to the registry {topic}", exc) from exc
    try:
        futures = [producer.send(topic, key=cid.encode("utf-8"), value=encode(wanted[cid]))
                   for cid in plan.added + plan.changed]
        futures += [producer.send(topic, key=cid.encode("utf-8"), value=None) for cid in plan.removed]
        producer.flush(timeout=PUBLISH_TIMEOUT_S)
        for future in futures:
            future.get(timeout=PUBLISH_TIMEOUT_S)
    except KafkaError as exc:
        raise PublishError(f"publishing to the registry {topic} failed: {exc}; run sync again (it only writes "
                           "what still differs)") from exc
    finally:
        producer.close(timeout=10)
    return len(futures)


# --------------------------------------------------------------------------------------- cluster status

def group_status(cluster: ClusterConfig, kafka: KafkaConfig) -> dict[str, Any]:
    """The group's members, their buckets and cameras, and the buckets nobody holds."""
    registry, buckets = _registry_and_buckets(cluster, kafka)
    try:
        admin = KafkaAdminClient(**admin_settings(kafka))
    except KafkaError as exc:
        raise connection_error(kafka, f"describing group {cluster.group_id}", exc) from exc
    try:
        described = admin.describe_groups([cluster.group_id]).get(cluster.group_id) or {}
    finally:
        admin.close()
    by_bucket: dict[int, list[str]] = {}
    for cid in sorted(registry):
        if buckets:
            by_bucket.setdefault(bucket_of(cid, buckets), []).append(cid)
    members: list[dict[str, Any]] = []
    held: set[int] = set()
    for member in described.get("members") or []:
        meta = _field(member, "member_metadata")
        advert = Advert.decode(_user_data(meta), str(_field(member, "member_id")))
        mine = sorted(_assigned(_field(member, "member_assignment"), cluster.assignment_topic))
        held.update(mine)
        members.append({
            "node_id": advert.node_id,
            "member_id": _field(member, "member_id"),
            "host": _field(member, "client_host"),
            "capacity": {"max_cameras": advert.max_cameras, "gpu_slots": advert.gpu_slots},
            "buckets": mine,
            "cameras": sorted(cid for b in mine for cid in by_bucket.get(b, [])),
        })
    members.sort(key=lambda m: str(m["node_id"]))
    unheld = sorted(set(range(buckets)) - held)
    return {
        "group_id": cluster.group_id,
        "state": _field(described, "group_state") or "unknown",
        "protocol": _field(described, "protocol_data") or None,
        "bucket_count": buckets,
        "registry_cameras": len(registry),
        "members": members,
        "unheld_buckets": unheld,
        "unheld_cameras": [cid for b in unheld for cid in by_bucket.get(b, [])],
    }


def _field(obj: Any, name: str) -> Any:
    return obj.get(name) if isinstance(obj, Mapping) else getattr(obj, name, None)


def _user_data(meta: Any) -> bytes | None:
    data = _field(meta, "user_data")
    if isinstance(data, str):
        return data.encode("utf-8")
    return data if isinstance(data, bytes) else None


def _assigned(assignment: Any, topic: str) -> set[int]:
    out: set[int] = set()
    for item in _field(assignment, "assigned_partitions") or []:
        if isinstance(item, (list, tuple)):
            name, partitions = item[0], item[1]
        else:
            name, partitions = _field(item, "topic"), _field(item, "partitions")
        if name == topic:
            out.update(int(p) for p in partitions or [])
    return out


def cmd_cluster_status(args: argparse.Namespace) -> int:
    cluster, kafka = cluster_settings(args.config)
    try:
        status = group_status(cluster, kafka)
    except KafkaError as exc:
        raise GridwatchError(f"describing group {cluster.group_id} failed: {exc}") from exc
    if args.json:
        json.dump(status, sys.stdout, indent=2, default=str)
        print()
        return 0
    print(f"group {status['group_id']}: {status['state']}, protocol {status['protocol']}, "
          f"{len(status['members'])} node(s), {status['bucket_count']} bucket(s), "
          f"{status['registry_cameras']} camera(s) in the registry")
    for m in status["members"]:
        cap = m["capacity"]
        print(f"  {m['node_id']:<20} {len(m['buckets']):>3} bucket(s) {len(m['cameras']):>5} camera(s)  "
              f"max {cap['max_cameras']}, {cap['gpu_slots']} slot(s), {m['host']}")
        print(f"      buckets: {','.join(map(str, m['buckets'])) or '-'}")
        print(f"      cameras: {', '.join(m['cameras']) or '-'}")
    if status["unheld_buckets"]:
        print(f"  NOT HELD: {len(status['unheld_buckets'])} bucket(s), {len(status['unheld_cameras'])} camera(s): "
              f"{', '.join(status['unheld_cameras']) or '-'}")
    return 0
