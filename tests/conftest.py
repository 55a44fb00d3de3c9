"""Shared fixtures: the real Kafka broker, the real RTSP server, exported models, scratch space."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.infra.kafka import KafkaBroker
from tests.infra.rtsp import RtspServer

REPO = Path(__file__).resolve().parents[1]
SHARED_TESTDATA = (REPO / ".." / "shared" / "testdata-real").resolve()

os.environ.setdefault("YOLO_OFFLINE", "1")
os.environ.setdefault("YOLO_VERBOSE", "False")


@pytest.fixture(scope="session")
def repo_root() -> Path:
    return REPO


@pytest.fixture(scope="session")
def real_testdata() -> Path:
    """The real third-party media in ../shared/testdata-real (read-only, never copied into the repo)."""
    if not SHARED_TESTDATA.is_dir():
        pytest.fail(f"real test data not found at {SHARED_TESTDATA}")
    return SHARED_TESTDATA


@pytest.fixture(scope="session")
def kafka_broker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[KafkaBroker]:
    """One real KRaft broker for the session (or GRIDWATCH_TEST_KAFKA). Tests use their own topics."""
    broker = KafkaBroker(tmp_path_factory.mktemp("kafka")).start()
    try:
        yield broker
    finally:
        broker.stop()


@pytest.fixture
def own_kafka_broker(tmp_path: Path) -> Iterator[KafkaBroker]:
    """A broker only this test uses, so it may stop, kill and restart it (outage tests)."""
    broker = KafkaBroker(tmp_path / "kafka")
    if not broker.controllable:
        pytest.skip("GRIDWATCH_TEST_KAFKA names an external broker; outage tests need their own")
    broker.start()
    try:
        yield broker
    finally:
        broker.stop()


@pytest.fixture
def rtsp_server(tmp_path: Path) -> Iterator[callable]:  # type: ignore[valid-type]
    """Factory: `rtsp_server({"/cam1": {"file": ...}})` starts a real gst-rtsp-server; stopped after."""
    servers: list[RtspServer] = []

    def start(mounts: dict[str, dict[str, object]], port: int | None = None) -> RtspServer:
        server = RtspServer(mounts, tmp_path, port=port).start()
        servers.append(server)
        return server

    try:
        yield start
    finally:
        for server in servers:
            server.stop()


@pytest.fixture(scope="session")
def yolo_model_640() -> Path:
    """yolov8n at 640x640, batch 1 (static shape), seeded random weights."""
    from tests.infra.models import cached_model

    return cached_model("yolov8n.yaml", 640)


@pytest.fixture(scope="session")
def yolo_model_dynamic() -> Path:
    """yolov8n with dynamic batch and size (640 nominal), seeded random weights."""
    from tests.infra.models import cached_model

    return cached_model("yolov8n.yaml", 640, dynamic=True)
