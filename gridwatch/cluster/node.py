"""`gridwatch run --cluster`: a video node whose cameras come from the registry and the consumer group.

Three threads feed one reconciler: the registry follower (camera definitions), the group member (this
node's buckets, the lease) and config reloads. The reconciler, on its own thread, computes the cameras
this node should run (runnable registry cameras whose bucket it holds, at most `max_cameras`) and moves
the service there: stop first (their detectors' open incidents end and their evidence is flushed), then
start. A bucket given up waits in the rebalance callback until its cameras have stopped (bounded by
`revoke_wait_s`), so with cooperative rebalancing no other node starts them before.

Start order: the service (alerts runtime, no cameras), the HTTP endpoint, the registry read to its end
(bounded), then the group join, so that when this node leads the first assignment it balances real
camera counts. Stop order (SIGTERM): stop every camera, leave the group (the others take over at once
instead of after the session timeout), then the service's ordered shutdown flushes the outbox.
"""

from __future__ import annotations

import argparse
import logging
import threading
import time
from collections import Counter
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from foundation.errors import ConfigError
from foundation.yamlsafe import load_yaml, read_text
from gridwatch.cluster.assignor import Advert
from gridwatch.cluster.buckets import bucket_of
from gridwatch.cluster.config import ClusterConfig
from gridwatch.cluster.follower import RegistryFollower
from gridwatch.cluster.kafka_io import connection
from gridwatch.cluster.member import GroupMember
from gridwatch.cluster.registry import Definition, NodeBase
from gridwatch.config import LoadedConfig, ResolvedCamera, load_config_text
from gridwatch.logsetup import configure_logging
from gridwatch.ops import Operations
from gridwatch.reload import apply_reload, plan_reload
from gridwatch.service import Service
from gridwatch.signals import Signals

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class NodeConfig:
    """A node's config file read once: the config without cameras (they come from the registry), what
    registry definitions are resolved against, and how many cameras the file listed (ignored here)."""

    loaded: LoadedConfig
    base: NodeBase
    listed_cameras: int


def read_node_config(path: Path) -> NodeConfig:
    text = read_text(path)
    loaded = load_config_text(text, source=str(path))
    if loaded.root.cluster is None:
        raise ConfigError(f"{path}: cluster mode needs a `cluster:` section (brokers, topics, capacity)")
    data = load_yaml(text, source=str(path)).data or {}
    base = NodeBase(root=loaded.root.model_copy(update={"cameras": []}), detectors_raw=data.get("detectors") or {})
    return NodeConfig(replace(loaded, root=base.root, cameras={}), base, len(loaded.cameras))


class ClusterNode:
    """One video node in cluster mode; also the `ClusterView` that /status and /metrics read."""

    def __init__(self, service: Service, config_path: Path, base: NodeBase) -> None:
        cluster = service.loaded.root.cluster
        if cluster is None:
            raise ConfigError(f"{config_path}: cluster mode needs a `cluster:` section")
        self.service = service
        self.config_path = config_path
        self.cluster: ClusterConfig = cluster
        kafka = connection(cluster, service.loaded.root.alerts.kafka, str(config_path))
        self.registry = RegistryFollower(cluster.registry_topic, kafka, service.node_id, base, self._registry_changed)
        advert = Advert(service.node_id, cluster.capacity.max_cameras, cluster.capacity.gpu_slots)
        self.member = GroupMember(cluster, kafka, advert, self, self.registry.loads)
        self.not_started: Counter[str] = Counter()
        self._over_capacity: list[str] = []
        self._failed: dict[str, tuple[Definition, str]] = {}
        self._stopping_ids: set[str] = set()
        self._stopping = False
        self._wake = threading.Event()
        self._halt = threading.Event()
        self._applied = threading.Condition()
        self._reconcile_lock = threading.Lock()
        self._last_rejoin_request = -float("inf")
        self._warned_slow_open: set[str] = set()
        self._applier = threading.Thread(target=self._apply_loop, name="gw-cluster-apply", daemon=True)

    # -- lifecycle ---------------------------------------------------------------------------------

    def start(self) -> None:
        """Start reading the registry; the applier thread joins the group once it is read (or after
        `registry_load_timeout_s`), so a stop signal is never held up by a slow registry."""
        self.registry.start()
        self._applier.start()

    def stop(self) -> None:
        """Stop every camera, then leave the group, then end the threads."""
        self._stopping = True
        self._halt.set()
        self._wake.set()
        if self._applier.is_alive():
            self._applier.join(self.service.loaded.root.service.shutdown_timeout_s)
        try:
            self._reconcile()
        except Exception:  # the shutdown must go on: the service's own stop stops what is left
            log.exception("cluster: stopping the cameras failed")
        self.member.stop(self.cluster.revoke_wait_s + 10.0)
        self.registry.stop(5.0)

    # -- BucketHandler (called on kafka-python's IO thread) ------------------------------------------

    def buckets_gained(self, buckets: frozenset[int]) -> None:
        self._wake.set()

    def buckets_released(self, buckets: frozenset[int], wait_s: float) -> None:
        """Return once no camera of `buckets` runs here (or after `wait_s`)."""
        deadline = time.monotonic() + wait_s
        self._wake.set()
        with self._applied:
            while self._running_in(buckets):
                left = deadline - time.monotonic()
                if left <= 0:
                    log.warning("cluster: cameras of buckets %s still stopping after %.1f s; another node may "
                                "start them meanwhile", sorted(buckets), wait_s)
                    return
                self._applied.wait(min(left, 0.2))

    def _running_in(self, buckets: frozenset[int]) -> list[str]:
        """Cameras of `buckets` still running here, counting those whose stop has not completed (the service
        forgets a camera before its analysis thread has ended and its detectors are flushed)."""
        active = set(self.service.cameras) | self._stopping_ids
        n = self.member.bucket_count
        if n == 0:
            return sorted(active)
        return sorted(cid for cid in active if bucket_of(cid, n) in buckets)

    # -- reconciling -------------------------------------------------------------------------------

    def _registry_changed(self, camera_ids: set[str]) -> None:
        placement = self.member.snapshot().leader_placement
        if placement is not None and placement.unassigned:
            self._maybe_rejoin(f"{len(placement.unassigned)} bucket(s) were left unassigned and the registry "
                               "changed")
        self._wake.set()

    def _apply_loop(self) -> None:
        wait_s = self.cluster.registry_load_timeout_s
        deadline = time.monotonic() + wait_s
        while not self.registry.loaded.wait(0.2):
            if self._halt.is_set():
                return
            if time.monotonic() > deadline:
                log.warning("registry: not read to its end within %.0f s; joining the group anyway", wait_s)
                break
        self.member.start()
        while not self._halt.is_set():
            self._wake.wait(2.0)
            self._wake.clear()
            if self._halt.is_set():
                return
            try:
                self._reconcile()
            except Exception:  # one failed pass must not end the node; the next wake-up retries
                log.exception("cluster: applying the camera set failed; retrying")

    def _desired(self) -> dict[str, ResolvedCamera]:
        n = self.member.bucket_count
        held = self.member.held
        if self._stopping or n == 0 or not held:
            self._over_capacity = []
            return {}
        mine = []
        for cid, entry in self.registry.entries().items():
            if entry.camera is None or not entry.runnable or bucket_of(cid, n) not in held:
                continue
            failed = self._failed.get(cid)
            if failed is not None and failed[0] == entry.definition:
                continue
            mine.append((bucket_of(cid, n), cid, entry.camera))
        mine.sort(key=lambda item: (item[0], item[1]))
        cap = self.cluster.capacity.max_cameras
        self._over_capacity = [cid for _, cid, _ in mine[cap:]]
        if self._over_capacity:
            self._maybe_rejoin(f"{len(self._over_capacity)} camera(s) of this node's buckets exceed its "
                               f"max_cameras ({cap})")
        return {cid: cam for _, cid, cam in mine[:cap]}

    def _maybe_rejoin(self, why: str) -> None:
        now = time.monotonic()
        if now - self._last_rejoin_request >= self.cluster.rejoin_min_interval_s:
            self._last_rejoin_request = now
            self.member.request_rejoin(why)

    def _reconcile(self) -> None:
        with self._reconcile_lock:
            desired = self._desired()
            current = self.service.loaded
            same = set(desired) == set(self.service.cameras) and all(
                current.cameras.get(cid) is cam for cid, cam in desired.items())
            if not same:
                root = current.root.model_copy(update={"cameras": [c.config for c in desired.values()]})
                new = LoadedConfig(root=root, cameras=desired, version=current.version, source=current.source,
                                   warnings=current.warnings)
                self._apply(new)
            self.not_started = Counter({"capacity": len(self._over_capacity), "failed": len(self._failed)})
        with self._applied:
            self._applied.notify_all()

    def _apply(self, new: LoadedConfig) -> None:
        """Stop, reconfigure, start: the camera set of `new` (same config otherwise)."""
        service = self.service
        plan = plan_reload(service, new)
        with service.lock:
            leaving = plan.removed + plan.restarted
            self._stopping_ids = set(leaving)
            try:
                service.stop_cameras(leaving)
            finally:
                self._stopping_ids = set()
            service.loaded = new
            for cid in plan.reconfigured:
                rt = service.cameras[cid]
                rt.camera = new.cameras[cid]
                for det in rt.detectors:
                    det.reconfigure(new.cameras[cid].detectors[det.name])
        with self._applied:
            self._applied.notify_all()
        self._start(plan.added + plan.restarted)
        if plan.added or plan.removed or plan.restarted:
            log.info("cluster: now running %d camera(s) (+%d -%d, %d restarted)", len(service.cameras),
                     len(plan.added), len(plan.removed), len(plan.restarted))

    def _start(self, camera_ids: list[str]) -> None:
        if not camera_ids:
            return
        self._warn_slow_open(camera_ids)
        try:
            self.service.start_cameras(camera_ids)
            return
        except Exception:  # find the camera that fails, so the others still start
            log.warning("cluster: starting %d camera(s) together failed; starting them one by one",
                        len(camera_ids), exc_info=True)
        entries = self.registry.entries()
        for cid in camera_ids:
            try:
                self.service.start_cameras([cid])
            except Exception as exc:  # this camera stays out until its definition changes
                log.exception("cluster: camera %s failed to start; skipped until its definition changes", cid)
                if cid in entries:
                    self._failed[cid] = (entries[cid].definition, str(exc))

    def _warn_slow_open(self, camera_ids: list[str]) -> None:
        """Warn once per camera whose RTSP open may outlast `revoke_wait_s`: revoked while connecting, it stops
        only when its open gives up, so the next owner can run it alongside for the difference."""
        cameras = self.service.loaded.cameras
        slow = [cid for cid in cameras_opening_longer_than(
            [cameras[cid] for cid in camera_ids if cid in cameras], self.cluster.revoke_wait_s)
            if cid not in self._warned_slow_open]
        if slow:
            self._warned_slow_open.update(slow)
            log.warning("cluster: %d camera(s) (%s) have source.open_timeout_s above cluster.revoke_wait_s (%.1f s): "
                        "a camera revoked while still connecting may run on two nodes until its open gives up; "
                        "lower open_timeout_s or raise revoke_wait_s", len(slow), ", ".join(slow[:5]) +
                        (", ..." if len(slow) > 5 else ""), self.cluster.revoke_wait_s)

    # -- hot reload --------------------------------------------------------------------------------

    def apply_config(self, new: LoadedConfig) -> None:
        """Operations' reload hook: the node's config changed (detector defaults, models...). Cameras still
        come from the registry: every definition is resolved again, then the set is applied."""
        node_config = read_node_config(self.config_path)
        loaded, base = node_config.loaded, node_config.base
        if loaded.version != new.version:
            log.info("cluster: config file changed again while reloading; applying version %s", loaded.version)
        if loaded.root.cluster != self.cluster:
            log.warning("config reload: changes under `cluster` take effect after a restart; kept the running ones")
        with self._reconcile_lock:
            self._failed.clear()
            self.registry.rebase(base)
            desired = self._desired()
            target = LoadedConfig(root=loaded.root.model_copy(update={"cameras": [c.config for c in desired.values()],
                                                                      "cluster": self.cluster}),
                                  cameras=desired, version=loaded.version, source=loaded.source)
            apply_reload(self.service, target)

    # -- ClusterView (ops.py) ----------------------------------------------------------------------

    @property
    def buckets(self) -> list[int]:
        return sorted(self.member.held)

    @property
    def rebalances(self) -> Counter[str]:
        return self.member.rebalances

    @property
    def ready(self) -> bool:
        return self.registry.loaded.is_set() and self.member.joined.is_set()

    @property
    def member_ok(self) -> bool:
        snap = self.member.snapshot()
        return snap.state == "<stable>" and (snap.lease_remaining_s or 0.0) > 0.0

    @property
    def registry_counts(self) -> tuple[int, int]:
        """(definitions that resolve on this node, definitions it rejected)."""
        entries = self.registry.entries()
        ok = sum(1 for e in entries.values() if e.camera is not None)
        return ok, len(entries) - ok

    def status(self) -> dict[str, Any]:
        snap = self.member.snapshot()
        entries = self.registry.entries()
        n = snap.bucket_count
        running = sorted(self.service.cameras)
        out: dict[str, Any] = {
            "group_id": self.cluster.group_id,
            "protocol": "cooperative",
            "member_id": snap.member_id,
            "generation": snap.generation,
            "state": snap.state,
            "lease_remaining_s": round(snap.lease_remaining_s, 1) if snap.lease_remaining_s is not None else None,
            "capacity": self.cluster.capacity.model_dump(),
            "bucket_count": n,
            "buckets": list(snap.buckets),
            "cameras": running,
            "cameras_by_bucket": _by_bucket(running, n),
            "cameras_over_capacity": list(self._over_capacity),
            "cameras_failed": {cid: err for cid, (_, err) in self._failed.items()},
            "rebalances": dict(self.member.rebalances),
            "registry": {
                "topic": self.cluster.registry_topic,
                "loaded": self.registry.loaded.is_set(),
                "cameras": len(entries),
                "runnable": sum(1 for e in entries.values() if e.runnable),
                "rejected": {cid: list(e.problems) for cid, e in sorted(entries.items()) if e.camera is None},
                "bad_records": self.registry.bad_records,
            },
        }
        if snap.leader_placement is not None:
            p = snap.leader_placement
            out["last_placement_as_leader"] = {"unassigned_buckets": sorted(p.unassigned),
                                               "moving_buckets": sorted(p.withheld)}
        return out


def cameras_opening_longer_than(cameras: list[ResolvedCamera], wait_s: float) -> list[str]:
    """Ids of the cameras whose source may take longer than `wait_s` to give up opening."""
    return [cam.id for cam in cameras if cam.source.open_timeout_s > wait_s]


def _by_bucket(camera_ids: list[str], buckets: int) -> dict[str, list[str]]:
    if buckets == 0:
        return {}
    out: dict[str, list[str]] = {}
    for cid in camera_ids:
        out.setdefault(str(bucket_of(cid, buckets)), []).append(cid)
    return dict(sorted(out.items(), key=lambda kv: int(kv[0])))


def run_cluster_node(args: argparse.Namespace) -> int:
    """`gridwatch run --cluster --config FILE` until SIGTERM; exit 0 when every alert was delivered."""
    path: Path | None = args.config
    if path is None:
        raise ConfigError("cluster mode needs --config FILE (with a `cluster:` section)")
    node_config = read_node_config(path)
    loaded = node_config.loaded
    configure_logging(args.log_level if args.log_level != "INFO" else loaded.root.service.log_level)
    if node_config.listed_cameras:
        log.warning("%s lists %d camera(s) under `cameras:`; in cluster mode they are ignored (cameras come from "
                    "the registry topic; publish them with `gridwatch cameras sync`)", path,
                    node_config.listed_cameras)
    signals = Signals()
    signals.install()
    service = Service(loaded)
    ops = Operations(service, path, signals)
    node = ClusterNode(service, path, node_config.base)
    ops.cluster = node
    ops.apply_config = node.apply_config
    try:
        service.start(cameras=[])
        ops.start()
        log.info("cluster node %s: group %s, buckets from %s, registry %s, capacity %d camera(s) x %d slot(s)",
                 service.node_id, node.cluster.group_id, node.cluster.assignment_topic, node.cluster.registry_topic,
                 node.cluster.capacity.max_cameras, node.cluster.capacity.gpu_slots)
        node.start()
        while not signals.stop.wait(0.5):
            ops.tick()
    finally:
        node.stop()
        ops.stop()
        drained = service.stop()
    return 0 if drained else 1
