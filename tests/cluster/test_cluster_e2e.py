"""Cluster mode end to end, real at every step: a Kafka broker, the gst-rtsp-server serving 30 cameras,
`gridwatch cameras sync` publishing them, and several `gridwatch run --cluster` processes sharing them.

The tests run in order on one cluster (module fixture) and each first waits for its starting state:
3 nodes run every camera exactly once; SIGKILL one, its cameras are analysed again elsewhere within the
session timeout + 10 s (measured and printed); a fourth node (small capacity) takes a share; `cameras sync`
adds and removes a camera; `cluster status` agrees with the nodes. Throughout, the nodes' logs must show
that no camera ever ran on two nodes at the same time (stop before start, at log resolution).
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from tests.cluster.timeline import TIMELINE
from tests.infra.kafka import KafkaBroker, read_topic
from tests.infra.ports import free_port
from tests.infra.rtsp import RtspServer
from tests.infra.service import GridwatchProcess

pytestmark = [pytest.mark.integration, pytest.mark.slow]

REPO = Path(__file__).resolve().parents[2]
CAMERAS = [f"cam-{i:02d}" for i in range(1, 31)]
EXTRA = "cam-31"
BUCKETS = 12
SESSION_S = 6.0
CANARY = "Canary-Cam-Pw-5521"


@dataclass
class Cluster:
    work: Path
    bootstrap: str
    rtsp: RtspServer
    group: str
    registry: str
    assignment: str
    district: Path
    nodes: dict[str, GridwatchProcess] = field(default_factory=dict)
    killed: dict[str, float] = field(default_factory=dict)
    """node -> wall-clock time it was SIGKILLed (its cameras' intervals end there)."""
    paused: dict[str, tuple[float, float]] = field(default_factory=dict)
    """node -> wall-clock times of its SIGSTOP and SIGCONT."""
    frozen: set[str] = field(default_factory=set)
    """Nodes stopped right now (they cannot answer /status)."""

    def config(self, node: str, port: int, max_cameras: int = 200) -> Path:
        path = self.work / f"{node}.yaml"
        path.write_text(f"""
service:
  node_id: {node}
  reload_poll_s: 0
  shutdown_timeout_s: 10
  metrics: {{enabled: true, address: 127.0.0.1, port: {port}}}
detectors:
  fire: {{analysis_fps: 1, mode: cues}}
cluster:
  kafka: {{bootstrap_servers: ["{self.bootstrap}"]}}
  group_id: {self.group}
  registry_topic: {self.registry}
  assignment_topic: {self.assignment}
  session_timeout_s: {SESSION_S}
  heartbeat_interval_s: 1
  revoke_wait_s: 2.5
  rejoin_min_interval_s: 5
  capacity: {{max_cameras: {max_cameras}}}
alerts:
  outbox: {{path: {self.work}/outbox-{node}.sqlite3}}
  evidence: {{enabled: false}}
""", encoding="utf-8")
        return path

    def start_node(self, node: str, max_cameras: int = 200) -> GridwatchProcess:
        port = free_port()
        proc = GridwatchProcess(self.config(node, port, max_cameras), self.work, http_port=port,
                                env={"CAM_PW": CANARY}, extra_args=["--cluster"]).start()
        self.nodes[node] = proc
        return proc

    def live(self) -> dict[str, GridwatchProcess]:
        return {n: p for n, p in self.nodes.items() if n not in self.killed and n not in self.frozen}

    def holdings(self) -> dict[str, dict[str, int]]:
        """node -> {camera: frames analysed} from each live node's /status."""
        return {n: {cid: cam["frames_analysed"] for cid, cam in p.json("/status")["cameras"].items()}
                for n, p in self.live().items()}

    def write_district(self, cameras: list[str]) -> None:
        # open_timeout_s below revoke_wait_s (2.5): a camera revoked while it is still connecting stops only
        # when its open gives up, and a revocation that outlasts revoke_wait_s lets the next node start it.
        lines = [f"cluster:\n  kafka: {{bootstrap_servers: [\"{self.bootstrap}\"]}}\n"
                 f"  registry_topic: {self.registry}\n  assignment_topic: {self.assignment}\n"
                 "detectors:\n  fire: {analysis_fps: 1, mode: cues}\ncameras:\n"]
        for cid in cameras:
            mount = "/cam" + cid.split("-")[1]
            lines.append(f"  - id: {cid}\n"
                         f"    source: {{url: 'rtsp://viewer:${{CAM_PW}}@127.0.0.1:{self.rtsp.port}{mount}',"
                         f" decode: keyframes, analysis_fps: 1, open_timeout_s: 2}}\n"
                         f"    detectors: {{fire: {{}}}}\n"
                         f"    site: {{lat_deg: 34.8102, lon_deg: 113.2745}}\n")
        self.district.write_text("".join(lines), encoding="utf-8")

    def gridwatch(self, *args: str) -> subprocess.CompletedProcess[str]:
        env = {k: v for k, v in os.environ.items() if k != "CAM_PW"}  # the operator has no camera secrets
        env["PYTHONPATH"] = str(REPO)
        return subprocess.run([sys.executable, "-m", "gridwatch", *args], capture_output=True, text=True,
                              env=env, cwd=REPO, timeout=120, check=False)


def wait_for(what: str, timeout_s: float, probe: Callable[[], Any], every_s: float = 0.5) -> Any:
    deadline = time.monotonic() + timeout_s
    last: Any = None
    while time.monotonic() < deadline:
        try:
            last = probe()
        except OSError as exc:  # a node busy starting or stopping: try again
            last = exc
        if last and not isinstance(last, Exception):
            return last
        time.sleep(every_s)
    raise AssertionError(f"timed out after {timeout_s:.0f} s waiting for {what}; last: {last}")


def owners(holdings: dict[str, dict[str, int]]) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for node, cams in holdings.items():
        for cid in cams:
            out.setdefault(cid, []).append(node)
    return out


def exactly_once(cluster: Cluster, cameras: list[str], analysed: bool = True) -> dict[str, dict[str, int]] | None:
    """The holdings when every camera is on exactly one live node (analysing if asked) and no other runs."""
    held = cluster.holdings()
    by_camera = owners(held)
    if sorted(by_camera) != sorted(cameras) or any(len(v) != 1 for v in by_camera.values()):
        return None
    if analysed and any(frames == 0 for cams in held.values() for frames in cams.values()):
        return None
    return held


def settled(cluster: Cluster, cameras: list[str], timeout_s: float = 60.0) -> dict[str, dict[str, int]]:
    """Exactly once, twice in a row 2 s apart with the same placement and every camera's frames growing."""
    def probe() -> dict[str, dict[str, int]] | None:
        first = exactly_once(cluster, cameras)
        if first is None:
            return None
        time.sleep(2.0)
        second = exactly_once(cluster, cameras)
        if second is None or {n: set(c) for n, c in first.items()} != {n: set(c) for n, c in second.items()}:
            return None
        growing = all(second[n][cid] > first[n][cid] for n in second for cid in second[n])
        return second if growing else None

    result: dict[str, dict[str, int]] = wait_for(f"{len(cameras)} cameras analysed exactly once", timeout_s, probe,
                                                 every_s=0.2)
    return result


# ------------------------------------------------------------------------------- camera intervals

_LINE = re.compile(r"^(\S+ \S+) INFO\s+gridwatch\.service: (started|stopped) \d+ camera\(s\): (.*)$")


def intervals(log_text: str, end_at: float | None) -> list[tuple[str, float, float]]:
    """(camera, start, stop) on one node from its log; a camera still running ends at `end_at` (or now)."""
    running: dict[str, float] = {}
    out: list[tuple[str, float, float]] = []
    for line in log_text.splitlines():
        m = _LINE.match(line)
        if not m:
            continue
        at = datetime.strptime(m.group(1), "%Y-%m-%d %H:%M:%S,%f").timestamp()
        for cid in m.group(3).split(", "):
            if m.group(2) == "started":
                running[cid] = at
            elif cid in running:
                out.append((cid, running.pop(cid), at))
    final = end_at if end_at is not None else time.time()
    out += [(cid, start, final) for cid, start in running.items()]
    return out


WAKE_BOUND_S = 6.0
"""A node frozen (SIGSTOP) past its session wakes up still running cameras the others took meanwhile; it
must stop them within this long of SIGCONT (while frozen it analysed nothing)."""


def overlaps(cluster: Cluster, wake_overlaps: list[float] | None = None) -> list[str]:
    """Times a camera ran on two nodes at once, from their logs; overlaps that a frozen node ended within
    WAKE_BOUND_S of waking are not violations (their length after SIGCONT goes to `wake_overlaps`)."""
    spans = {n: intervals(p.log_text(), cluster.killed.get(n)) for n, p in cluster.nodes.items()}
    found: list[str] = []
    names = sorted(spans)
    for i, a in enumerate(names):
        for b in names[i + 1:]:
            for cid, a0, a1 in spans[a]:
                for cid_b, b0, b1 in spans[b]:
                    if cid != cid_b or not (a0 < b1 and b0 < a1):
                        continue
                    start, end = max(a0, b0), min(a1, b1)
                    woke = [cluster.paused[n] for n in (a, b) if n in cluster.paused]
                    if any(start >= stop and end <= cont + WAKE_BOUND_S for stop, cont in woke):
                        if wake_overlaps is not None:
                            wake_overlaps.append(max(0.0, end - max(cont for _, cont in woke)))
                        continue
                    found.append(f"{cid} on {a} [{a0:.3f}, {a1:.3f}] and {b} [{b0:.3f}, {b1:.3f}]")
    return found


# ------------------------------------------------------------------------------------------ fixture

@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory, kafka_broker: KafkaBroker) -> Iterator[Cluster]:
    from kafka import KafkaAdminClient
    from kafka.admin import NewTopic

    from benchmarks.scenarios.video import write_h264

    work = tmp_path_factory.mktemp("cluster")
    clip = work / "street.mp4"

    def frames(n: int) -> Iterator[np.ndarray]:
        for i in range(n):
            frame = np.full((120, 160, 3), 70, np.uint8)
            x = (i * 3) % 140
            frame[50:70, x:x + 20] = (170, 110, 60)  # a moving blue-grey van: no fire colours
            yield frame

    write_h264(clip, frames(5 * 400), fps=5, gop=5)  # 400 s, a keyframe every second
    rtsp = RtspServer({f"/cam{i:02d}": {"file": str(clip)} for i in range(1, 32)}, work).start()
    suffix = uuid.uuid4().hex[:8]
    registry, assignment = f"gw-cameras-{suffix}", f"gw-buckets-{suffix}"
    admin = KafkaAdminClient(bootstrap_servers=kafka_broker.bootstrap, request_timeout_ms=10000)
    try:
        admin.create_topics([NewTopic(registry, 1, 1, topic_configs={"cleanup.policy": "compact"}),
                             NewTopic(assignment, BUCKETS, 1)])
    finally:
        admin.close()
    c = Cluster(work, kafka_broker.bootstrap, rtsp, f"gw-video-{suffix}", registry, assignment,
                work / "district.yaml")
    try:
        yield c
    finally:
        for proc in c.live().values():
            proc.signal(signal.SIGTERM)
        for proc in c.nodes.values():
            proc.stop(timeout_s=40)
        rtsp.stop()


# ------------------------------------------------------------------------------------------- tests

def test_sync_publishes_the_district_without_its_secrets(cluster: Cluster) -> None:
    cluster.write_district(CAMERAS)
    dry = cluster.gridwatch("cameras", "sync", str(cluster.district), "--dry-run")
    assert dry.returncode == 0, dry.stderr
    assert "30 to add, 0 to change, 0 to remove" in dry.stdout and "dry run" in dry.stdout
    out = cluster.gridwatch("cameras", "sync", str(cluster.district))
    assert out.returncode == 0, out.stderr
    assert f"published 30 record(s) to {cluster.registry}" in out.stdout
    again = cluster.gridwatch("cameras", "sync", str(cluster.district))
    assert "0 to add, 0 to change, 0 to remove, 30 unchanged" in again.stdout
    records = read_topic(cluster.bootstrap, cluster.registry, expect=30, timeout_s=30)
    assert len(records) == 30
    value = json.loads(records[0]["value"])  # type: ignore[arg-type]
    assert "${CAM_PW}" in value["camera"]["source"]["url"]
    assert CANARY not in str(records)
    empty = cluster.work / "empty.yaml"
    empty.write_text(cluster.district.read_text(encoding="utf-8").split("cameras:")[0] + "cameras: []\n",
                     encoding="utf-8")
    refused = cluster.gridwatch("cameras", "sync", str(empty))
    assert refused.returncode == 2 and "refusing to remove all 30" in refused.stderr, refused.stderr


def test_three_nodes_run_every_camera_exactly_once(cluster: Cluster) -> None:
    started = time.monotonic()
    for node in ("node-1", "node-2", "node-3"):
        cluster.start_node(node)
    for proc in cluster.nodes.values():
        proc.wait_ready(timeout_s=90)
    held = settled(cluster, CAMERAS, timeout_s=90)
    TIMELINE.append(f"3 nodes up and 30 cameras analysed exactly once after {time.monotonic() - started:.1f} s: "
                    + ", ".join(f"{n}={len(c)}" for n, c in sorted(held.items())))
    assert all(len(c) >= 3 for c in held.values()), f"every node runs a share: {held}"
    for node, proc in cluster.nodes.items():
        status = proc.json("/status")
        assert status["node_id"] == node
        info = status["cluster"]
        assert info["state"] == "<stable>" and info["registry"]["loaded"] and info["registry"]["runnable"] == 30
        assert sorted(info["cameras"]) == sorted(held[node])
        assert all(int(b) in info["buckets"] for b in info["cameras_by_bucket"])
        assert all("***@" in cam["source"] for cam in status["cameras"].values())
        assert CANARY not in json.dumps(status)
        _, metrics = proc.get("/metrics")
        text = metrics.decode()
        assert f"gridwatch_cluster_buckets_assigned {float(len(info['buckets']))}" in text
        assert "gridwatch_cluster_member 1.0" in text and "gridwatch_cluster_registry_cameras 30.0" in text
    assert not overlaps(cluster)


def test_sigkill_moves_the_dead_node_s_cameras_within_the_session_timeout(cluster: Cluster) -> None:
    before = settled(cluster, CAMERAS)
    victim = max(before, key=lambda n: len(before[n]))
    orphans = sorted(before[victim])
    proc = cluster.nodes[victim]
    assert proc.proc is not None
    proc.proc.kill()
    killed_at = time.monotonic()
    cluster.killed[victim] = time.time()
    proc.proc.wait(10)

    def taken_over() -> bool:
        held = cluster.holdings()
        return all(any(held[n].get(cid, 0) > 0 for n in held) for cid in orphans)

    wait_for("the dead node's cameras to be analysed again", SESSION_S + 30, taken_over, every_s=0.2)
    failover_s = time.monotonic() - killed_at
    TIMELINE.append(f"SIGKILL {victim} ({len(orphans)} cameras): all analysed again on the survivors after "
                    f"{failover_s:.1f} s (session timeout {SESSION_S:.0f} s)")
    print(f"\nfailover: {len(orphans)} camera(s) of {victim} analysed again after {failover_s:.1f} s")  # with -s
    assert failover_s <= SESSION_S + 10.0
    settled(cluster, CAMERAS)
    assert not overlaps(cluster)


def test_a_joining_node_takes_a_share_within_its_capacity(cluster: Cluster) -> None:
    settled(cluster, CAMERAS)
    started = time.monotonic()
    cluster.start_node("node-4", max_cameras=5).wait_ready(timeout_s=90)

    def node4_runs() -> dict[str, dict[str, int]] | None:
        held = settled(cluster, CAMERAS)
        return held if held.get("node-4") else None

    held = wait_for("node-4 to receive cameras", 60, node4_runs)
    TIMELINE.append(f"node-4 (max 5 cameras) joined: settled after {time.monotonic() - started:.1f} s: "
                    + ", ".join(f"{n}={len(c)}" for n, c in sorted(held.items())))
    assert 1 <= len(held["node-4"]) <= 5, held["node-4"]
    status = cluster.nodes["node-4"].json("/status")["cluster"]
    assert status["capacity"]["max_cameras"] == 5 and not status["cameras_over_capacity"]
    released = sum(p.json("/status")["cluster"]["rebalances"].get("revoked", 0)
                   for n, p in cluster.live().items() if n != "node-4")
    assert released >= 1, "cooperative hand-over: an old node released buckets"
    assert not overlaps(cluster)


def test_sync_adds_and_removes_a_camera_within_seconds(cluster: Cluster) -> None:
    settled(cluster, CAMERAS)
    cluster.write_district([*CAMERAS, EXTRA])
    out = cluster.gridwatch("cameras", "sync", str(cluster.district))
    assert out.returncode == 0 and "+ cam-31" in out.stdout, out.stdout + out.stderr
    synced = time.monotonic()
    wait_for("cam-31 analysed on one node", 30, lambda: exactly_once(cluster, [*CAMERAS, EXTRA]), every_s=0.2)
    added_s = time.monotonic() - synced
    cluster.write_district(CAMERAS[1:])  # cam-31 and cam-01 leave the district
    out = cluster.gridwatch("cameras", "sync", str(cluster.district))
    assert out.returncode == 0 and "- cam-31" in out.stdout and "- cam-01" in out.stdout, out.stdout
    synced = time.monotonic()
    wait_for("cam-31 and cam-01 stopped everywhere", 30,
             lambda: exactly_once(cluster, CAMERAS[1:], analysed=False), every_s=0.2)
    removed_s = time.monotonic() - synced
    TIMELINE.append(f"cameras sync: added camera analysed after {added_s:.1f} s, removed cameras stopped after "
                    f"{removed_s:.1f} s")
    assert added_s <= 15 and removed_s <= 15
    assert not overlaps(cluster)


def test_cluster_status_lists_members_buckets_and_cameras(cluster: Cluster) -> None:
    held = settled(cluster, CAMERAS[1:])
    out = cluster.gridwatch("cluster", "status", "--config", str(cluster.work / "node-1.yaml"), "--json")
    assert out.returncode == 0, out.stderr
    status = json.loads(out.stdout)
    assert status["state"] == "Stable" and status["bucket_count"] == BUCKETS
    assert status["registry_cameras"] == 29 and not status["unheld_buckets"]
    members = {m["node_id"]: m for m in status["members"]}
    assert set(members) == set(held)
    for node, cams in held.items():
        assert sorted(members[node]["cameras"]) == sorted(cams)
        assert members[node]["buckets"] == cluster.nodes[node].json("/status")["cluster"]["buckets"]
    text = cluster.gridwatch("cluster", "status", "--config", str(cluster.work / "node-1.yaml"))
    assert text.returncode == 0 and "node-4" in text.stdout and "max 5" in text.stdout


def test_config_reload_reconfigures_the_registry_cameras_in_place(cluster: Cluster) -> None:
    from gridwatch.config import config_version

    held = settled(cluster, CAMERAS[1:])
    node = max(held, key=lambda n: len(held[n]))
    path, proc = cluster.work / f"{node}.yaml", cluster.nodes[node]
    text = path.read_text(encoding="utf-8").replace("fire: {analysis_fps: 1, mode: cues}",
                                                    "fire: {analysis_fps: 1, mode: cues, mask_max_overlap: 0.4}")
    path.write_text(text, encoding="utf-8")
    proc.signal(signal.SIGHUP)
    wait_for("the reload", 20, lambda: proc.json("/status")["config_version"] == config_version(text))
    assert f"0 added, 0 removed, 0 restarted, {len(held[node])} reconfigured" in proc.log_text()
    after = settled(cluster, CAMERAS[1:])
    assert set(after[node]) == set(held[node]), "a threshold change moves and restarts nothing"
    assert proc.json("/status")["reloads"]["ok"] == 1


def test_a_frozen_node_loses_its_cameras_and_stops_them_when_it_wakes(cluster: Cluster) -> None:
    held = settled(cluster, CAMERAS[1:])
    victim = max((n for n in held if n != "node-4"), key=lambda n: len(held[n]))
    orphans = sorted(held[victim])
    proc = cluster.nodes[victim]
    proc.signal(signal.SIGSTOP)
    stopped_at, frozen_at = time.time(), time.monotonic()
    cluster.frozen.add(victim)
    try:
        wait_for("the frozen node's cameras to be analysed elsewhere", SESSION_S + 30,
                 lambda: all(any(cams.get(cid, 0) > 0 for cams in cluster.holdings().values()) for cid in orphans),
                 every_s=0.2)
        taken_s = time.monotonic() - frozen_at
    finally:
        proc.signal(signal.SIGCONT)
        cont_at = time.time()
        cluster.frozen.discard(victim)
        cluster.paused[victim] = (stopped_at, cont_at)
    settled(cluster, CAMERAS[1:])
    status = proc.json("/status")["cluster"]
    assert status["rebalances"].get("fenced", 0) + status["rebalances"].get("lost", 0) >= 1, status["rebalances"]
    woke: list[float] = []
    assert not overlaps(cluster, woke)
    TIMELINE.append(f"SIGSTOP {victim} ({len(orphans)} cameras): analysed elsewhere after {taken_s:.1f} s; after "
                    f"SIGCONT it stopped its stale cameras within {max(woke, default=0.0):.1f} s")


def test_a_stopped_node_hands_over_at_once_and_exits_cleanly(cluster: Cluster) -> None:
    held = settled(cluster, CAMERAS[1:])
    leaving = "node-4"
    proc = cluster.nodes[leaving]
    stopped = time.monotonic()
    assert proc.stop(timeout_s=40) == 0, proc.log_text()[-3000:]
    cluster.killed[leaving] = time.time()
    wait_for("node-4's cameras analysed elsewhere", SESSION_S, lambda: exactly_once(cluster, CAMERAS[1:]),
             every_s=0.2)
    TIMELINE.append(f"SIGTERM node-4 ({len(held[leaving])} cameras): taken over after "
                    f"{time.monotonic() - stopped:.1f} s (stop included), no session timeout wait")
    log = proc.log_text()
    assert "service stopped (all alerts delivered: True)" in log
    assert CANARY not in log
    assert not overlaps(cluster)
