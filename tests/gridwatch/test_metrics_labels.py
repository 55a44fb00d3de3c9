"""Metric label sets stay bounded as cameras come and go: a removed camera leaves the next scrape.

Runs the real service in this process on generated files (no network), reloads its camera list, and
reads the Prometheus exposition the HTTP endpoint would serve.
"""

from __future__ import annotations

import re
import time
from pathlib import Path

import pytest

from gridwatch.config import load_config_text
from gridwatch.metric_names import METRIC_NAMES
from gridwatch.metrics import render
from gridwatch.ops import Operations
from gridwatch.reload import apply_reload
from gridwatch.service import Service


def cfg(work: Path, clip: Path, cams: list[str]) -> str:
    cameras = "".join(
        f"  - id: {c}\n    source: {{url: {clip}, realtime: true, loop: true}}\n    detectors: {{fire: {{}}}}\n"
        for c in cams
    )
    return (
        "service: {reload_poll_s: 0, metrics: {enabled: false}, shutdown_timeout_s: 8}\n"
        "detectors:\n  fire: {analysis_fps: 2, mode: cues}\n"
        f"cameras:\n{cameras}"
        f"alerts:\n  outbox: {{path: {work}/outbox.sqlite3}}\n  evidence: {{enabled: false}}\n"
    )


def camera_labels(text: str) -> set[str]:
    return set(re.findall(r'camera_id="([^"]+)"', text))


@pytest.fixture(scope="module")
def clip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    import numpy as np

    from benchmarks.scenarios.video import write_h264

    out = tmp_path_factory.mktemp("labels") / "grey.mp4"
    frames = (np.full((120, 160, 3), 90 + (i % 10), np.uint8) for i in range(50))
    write_h264(out, frames, fps=10)
    return out


def test_camera_labels_follow_the_running_cameras(tmp_path: Path, clip: Path) -> None:
    service = Service(load_config_text(cfg(tmp_path, clip, ["cam-a", "cam-b"])))
    ops = Operations(service, None, None)
    service.start()
    try:
        time.sleep(1.0)
        first = render(ops.registry).decode()
        assert camera_labels(first) == {"cam-a", "cam-b"}
        apply_reload(service, load_config_text(cfg(tmp_path, clip, ["cam-b", "cam-c"])))
        time.sleep(1.0)
        second = render(ops.registry).decode()
        assert camera_labels(second) == {"cam-b", "cam-c"}
        names = set(re.findall(r"^# TYPE (\S+) ", second, re.M))
        ours = {n for n in names if n.startswith("gridwatch_")}
        declared = set(METRIC_NAMES) | {n.removesuffix("_total") for n in METRIC_NAMES}
        assert ours <= declared, ours - declared
        assert "url" not in second and "rtsp://" not in second
    finally:
        service.stop()
