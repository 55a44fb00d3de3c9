"""A node's live copy of the camera registry, read from the beginning and followed, in one thread.

Each definition is resolved against this node's own config as it arrives (`resolve_definition`: env
references from this node's environment, detector overrides over this node's defaults). A definition
that does not resolve is logged once with its problems and kept out of the running set; it never stops
the node. A config reload re-resolves everything (`rebase`).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from kafka import KafkaConsumer
from kafka.errors import KafkaError

from alerts.kafka_config import KafkaConfig
from alerts.kafka_probe import connection_error
from foundation.errors import ConfigError, PublishError
from gridwatch.cluster.buckets import bucket_loads
from gridwatch.cluster.kafka_io import registry_consumer_settings
from gridwatch.cluster.registry import Definition, NodeBase, RegistryView, resolve_definition
from gridwatch.config import ResolvedCamera

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Entry:
    """One registry camera on this node: its definition and either the resolved camera or the problems."""

    definition: Definition
    camera: ResolvedCamera | None
    problems: tuple[str, ...] = ()

    @property
    def runnable(self) -> bool:
        return self.camera is not None and self.camera.config.enabled


def resolve_entry(definition: Definition, base: NodeBase) -> Entry:
    try:
        return Entry(definition, resolve_definition(definition, base))
    except ConfigError as exc:
        problems = tuple(exc.problems or [str(exc)])
        log.error("registry: camera %s rejected on this node (skipped): %s", definition.camera_id,
                  "; ".join(problems))
        return Entry(definition, None, problems)


class RegistryFollower:
    """Reads and follows the registry topic; `on_change(camera_ids)` after each batch that changed it."""

    def __init__(self, topic: str, kafka: KafkaConfig, node_id: str, base: NodeBase,
                 on_change: Callable[[set[str]], None],
                 consumer_factory: Callable[..., Any] = KafkaConsumer) -> None:
        self.topic = topic
        self.kafka = kafka
        self.node_id = node_id
        self.on_change = on_change
        self.consumer_factory = consumer_factory
        self.loaded = threading.Event()
        """Set once the registry was read to the end offsets seen at start."""
        self._base = base
        self._view = RegistryView(topic)
        self._entries: dict[str, Entry] = {}
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="gw-cluster-registry", daemon=True)
        self._last_error_log = 0.0
        self._backoff_s = 1.0

    # -- views -------------------------------------------------------------------------------------

    def entries(self) -> dict[str, Entry]:
        with self._lock:
            return dict(self._entries)

    def loads(self, buckets: int) -> dict[int, int]:
        """Runnable cameras per bucket: what the assignor balances when this node leads the group."""
        with self._lock:
            ids = [cid for cid, e in self._entries.items() if e.runnable]
        return bucket_loads(ids, buckets)

    @property
    def bad_records(self) -> int:
        return len(self._view.bad_records)

    # -- lifecycle ---------------------------------------------------------------------------------

    def start(self) -> None:
        self._thread.start()

    def stop(self, timeout_s: float) -> None:
        self._stop.set()
        self._thread.join(timeout_s)

    def rebase(self, base: NodeBase) -> None:
        """The node's config changed: resolve every definition again against it."""
        with self._lock:
            self._base = base
            self._entries = {cid: resolve_entry(e.definition, base) for cid, e in self._entries.items()}
            ids = set(self._entries)
        self.on_change(ids)

    # -- the thread --------------------------------------------------------------------------------

    def _run(self) -> None:
        self._backoff_s = 1.0
        while not self._stop.is_set():
            consumer = None
            try:
                try:
                    consumer = self.consumer_factory(**registry_consumer_settings(self.kafka, self.node_id))
                except KafkaError as exc:
                    raise connection_error(self.kafka, f"registry: reading {self.topic}", exc) from exc
                self._follow(consumer)
            except Exception as exc:  # noqa: BLE001 - a broker outage must not end the thread; logged in _log_failure
                self._log_failure(exc)
                self._stop.wait(self._backoff_s)
                self._backoff_s = min(self._backoff_s * 2, 30.0)
            finally:
                if consumer is not None:
                    try:
                        consumer.close(timeout_ms=2000)
                    except Exception:  # a broken client's close must not end the thread
                        log.debug("registry: closing the reader failed", exc_info=True)

    def _follow(self, consumer: Any) -> None:
        """Read the registry topic until stopped: catch up first (then `loaded` is set), then follow."""
        self._view.attach(consumer)
        catching_up = True
        while not self._stop.is_set():
            changed = self._view.poll(consumer, 500)
            if catching_up and self._view.caught_up(consumer):
                catching_up = False
                changed |= self._view.finish_catch_up()
            self._apply(changed)
            if not catching_up and not self.loaded.is_set():
                self.loaded.set()
                log.info("registry: %d camera definition(s) read from %s (%d runnable on this node)",
                         len(self._entries), self.topic,
                         sum(1 for e in self._entries.values() if e.runnable))
            self._backoff_s = 1.0

    def _log_failure(self, exc: Exception) -> None:
        """At most one line per 10 s while the broker is down."""
        now = time.monotonic()
        if now - self._last_error_log >= 10.0:
            self._last_error_log = now
            if isinstance(exc, PublishError):  # cannot connect: the cause is named, no traceback
                log.error("%s; retrying", exc)
            else:
                log.error("registry: reading %s failed; retrying", self.topic, exc_info=True)

    def _apply(self, changed: Iterable[str]) -> None:
        ids = set(changed)
        if not ids:
            return
        with self._lock:
            for cid in ids:
                definition = self._view.definitions.get(cid)
                if definition is None:
                    if self._entries.pop(cid, None) is not None:
                        log.info("registry: camera %s removed", cid)
                    continue
                old = self._entries.get(cid)
                if old is not None and old.definition == definition:
                    continue
                self._entries[cid] = resolve_entry(definition, self._base)
                if self.loaded.is_set():
                    log.info("registry: camera %s %s", cid, "changed" if old is not None else "added")
        self.on_change(ids)
