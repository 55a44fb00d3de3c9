"""The camera registry: a compacted topic with one record per camera (key = camera id).

A record's value is JSON: `{"format": 1, "camera": <the camera's mapping as written in YAML>, "origin":
"file:line"}`. The mapping keeps its `${ENV}` / `${file:...}` references unexpanded, so secrets are
resolved on each node from its own environment and never travel through Kafka. An empty value (a
tombstone) removes the camera; compaction keeps the last record per camera, so reading the topic from
the beginning gives the current list.

`cameras sync FILE` turns a file into definitions (after validating it with placeholders for the
references), compares them with the registry and writes the difference. Nodes resolve each definition
against their own config (`resolve_definition`): a definition that does not validate there is logged and
skipped, never fatal, because one bad camera must not stop a node that runs hundreds.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from kafka import TopicPartition
from pydantic import ValidationError

from foundation.errors import ConfigError, GridwatchError
from foundation.yamlsafe import YamlDocument, load_yaml, read_text, substitute_data
from gridwatch.config import CameraConfig, GridwatchConfig, ResolvedCamera, resolve_cameras
from gridwatch.configload import describe_errors, validate

log = logging.getLogger(__name__)

RECORD_FORMAT = 1


@dataclass(frozen=True)
class Definition:
    """One camera as the registry holds it: the mapping as written, and where it was synced from."""

    camera_id: str
    camera: Mapping[str, Any]
    origin: str = ""


class RegistryRecordError(GridwatchError):
    """A registry record that is not a camera definition (wrong format, bad JSON, key and id differ)."""


def encode(definition: Definition) -> bytes:
    """The record value: canonical JSON (sorted keys), so an unchanged camera encodes identically."""
    body = {"format": RECORD_FORMAT, "camera": definition.camera, "origin": definition.origin}
    return json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def decode(key: bytes | None, value: bytes | None) -> tuple[str, Definition | None]:
    """(camera id, definition), or (camera id, None) for a tombstone; RegistryRecordError otherwise."""
    if not key:
        raise RegistryRecordError("registry record without a key (the camera id)")
    try:
        camera_id = key.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise RegistryRecordError("registry record key is not UTF-8") from exc
    if value is None or value == b"":
        return camera_id, None
    try:
        body = json.loads(value)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise RegistryRecordError(f"registry record for {camera_id}: value is not JSON ({exc})") from None
    if not isinstance(body, dict) or body.get("format") != RECORD_FORMAT or not isinstance(body.get("camera"), dict):
        raise RegistryRecordError(
            f"registry record for {camera_id}: expected {{'format': {RECORD_FORMAT}, 'camera': {{...}}}}")
    if body["camera"].get("id") != camera_id:
        raise RegistryRecordError(f"registry record for {camera_id}: its camera id is {body['camera'].get('id')!r}")
    return camera_id, Definition(camera_id, body["camera"], str(body.get("origin", "")))


# --------------------------------------------------------------------------------------- from a file

def definitions_from_file(path: str | Path) -> tuple[GridwatchConfig, dict[str, Definition]]:
    """Validate a config file (every `${...}` replaced by a placeholder, so the secrets need not be here)
    and return its root and its cameras as registry definitions, references kept as written."""
    source = str(path)
    text = read_text(path)
    checked = load_yaml(text, source=source, references="placeholder")
    root = validate(GridwatchConfig, checked)
    _cameras, problems = resolve_cameras(checked, root)
    if problems:
        raise ConfigError(f"{source}: {len(problems)} problem(s)", problems)
    raw = load_yaml(text, source=source, references="keep")
    out: dict[str, Definition] = {}
    for index, camera in enumerate((raw.data or {}).get("cameras") or []):
        line = raw.lines.get(("cameras", index))
        out[camera["id"]] = Definition(camera["id"], camera, f"{Path(source).name}:{line}" if line else source)
    return root, out


@dataclass
class SyncPlan:
    """What `cameras sync` changes in the registry."""

    added: list[str] = field(default_factory=list)
    changed: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    unchanged: int = 0

    @property
    def empty(self) -> bool:
        return not (self.added or self.changed or self.removed)


def plan_sync(current: Mapping[str, Definition], wanted: Mapping[str, Definition]) -> SyncPlan:
    """Compare by the camera mapping only: a camera that merely moved within the file is unchanged."""
    plan = SyncPlan()
    for cid in sorted(wanted):
        if cid not in current:
            plan.added.append(cid)
        elif dict(current[cid].camera) != dict(wanted[cid].camera):
            plan.changed.append(cid)
        else:
            plan.unchanged += 1
    plan.removed = sorted(set(current) - set(wanted))
    return plan


# ------------------------------------------------------------------------------------------ on a node

@dataclass(frozen=True)
class NodeBase:
    """What a node validates registry definitions against: its root config (models, detector defaults)
    and the raw `detectors:` mapping of its file (the defaults a camera's overrides merge over)."""

    root: GridwatchConfig
    detectors_raw: Mapping[str, Any]


def resolve_definition(definition: Definition, base: NodeBase, env: Mapping[str, str] | None = None) -> ResolvedCamera:
    """The camera as this node would run it; ConfigError (naming the camera and its origin) otherwise."""
    label = f"registry camera {definition.camera_id}" + (f" (from {definition.origin})" if definition.origin else "")
    data = substitute_data(definition.camera, label, env)
    try:
        camera = CameraConfig.model_validate(data)
    except ValidationError as exc:
        problems = describe_errors(exc, YamlDocument(data=data, source=label), CameraConfig)
        raise ConfigError(f"{label}: {len(problems)} problem(s)", problems) from None
    doc = YamlDocument(data={"detectors": dict(base.detectors_raw), "cameras": [data]}, source=label)
    resolved, problems = resolve_cameras(doc, base.root.model_copy(update={"cameras": [camera]}))
    if problems:
        raise ConfigError(f"{label}: {len(problems)} problem(s)", problems)
    return resolved[definition.camera_id]


# -------------------------------------------------------------------------------- reading the topic

def read_registry(consumer: Any, topic: str, timeout_s: float) -> dict[str, Definition]:
    """Read the whole registry once with a group-less kafka-python consumer (the caller closes it).

    Raises GridwatchError (retryable) when the topic is missing or the end is not reached in time."""
    follower = RegistryView(topic)
    follower.attach(consumer)
    deadline = time.monotonic() + timeout_s
    while not follower.caught_up(consumer):
        if time.monotonic() > deadline:
            raise GridwatchError(f"registry topic {topic}: not read to its end within {timeout_s:.0f} s",
                                 retryable=True)
        follower.poll(consumer, 500)
    return dict(follower.definitions)


class RegistryView:
    """The registry as read so far: latest definition per camera, plus the records that were not one.

    `attach` assigns every partition of the topic and seeks to the beginning; `poll` applies a batch and
    returns the camera ids it changed; `caught_up` says whether the end offsets seen at attach time were
    reached (the registry is then complete as of that moment). Attaching again (after a reconnect)
    re-reads everything; `finish_catch_up` then drops the cameras that were not read again, whose
    tombstones compaction may have removed while this reader was away."""

    def __init__(self, topic: str) -> None:
        self.topic = topic
        self.definitions: dict[str, Definition] = {}
        self.bad_records: dict[str, str] = {}
        self._end: dict[Any, int] = {}
        self._seen: set[str] = set()

    def attach(self, consumer: Any) -> None:
        partitions = consumer.partitions_for_topic(self.topic)
        if not partitions:
            raise GridwatchError(
                f"registry topic {self.topic} does not exist (create it with deploy/kafka/cluster-topics.sh)",
                retryable=True)
        tps = [TopicPartition(self.topic, p) for p in sorted(partitions)]
        consumer.assign(tps)
        consumer.seek_to_beginning(*tps)
        self._end = dict(consumer.end_offsets(tps))
        self._seen = set()

    def caught_up(self, consumer: Any) -> bool:
        return all(consumer.position(tp) >= end for tp, end in self._end.items())

    def finish_catch_up(self) -> set[str]:
        """Forget the cameras not read since `attach`; returns their ids."""
        gone = set(self.definitions) - self._seen
        for cid in gone:
            del self.definitions[cid]
        return gone

    def poll(self, consumer: Any, timeout_ms: int) -> set[str]:
        changed: set[str] = set()
        for records in consumer.poll(timeout_ms=timeout_ms).values():
            for record in records:
                try:
                    camera_id, definition = decode(record.key, record.value)
                except RegistryRecordError as exc:
                    where = f"{self.topic}/{record.partition}@{record.offset}"
                    self.bad_records[where] = str(exc)
                    log.error("registry: skipped record %s: %s", where, exc)
                    continue
                if definition is None:
                    self._seen.discard(camera_id)
                    if self.definitions.pop(camera_id, None) is not None:
                        changed.add(camera_id)
                    continue
                self._seen.add(camera_id)
                if self.definitions.get(camera_id) != definition:
                    self.definitions[camera_id] = definition
                    changed.add(camera_id)
        return changed
