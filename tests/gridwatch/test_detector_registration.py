"""A detector joins the service through its registration alone (`gridwatch/registration.py`).

`FakeFlashDetector` is a toy, named as a fake: it opens one incident when a frame's mean brightness
reaches its threshold and ends it when the recording ends. It is added with one `DetectorRegistration`
(config model, factory, alert kind with its own details type and alert fields), configured on a file
camera like any detector, and its alerts are read back from a real Kafka broker. Nothing else in the
service, the config or the alerts package is edited for it.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

import numpy as np
import pytest
from numpy.typing import NDArray
from pydantic import BaseModel, ConfigDict, Field

from alerts.kinds import AlertKind
from alerts.schema import FireInfo
from detectors.base import Detector, DetectorStats
from detectors.config import DetectorsConfig
from detectors.event import Event, EventDetails, EventKind, Phase
from foundation.errors import ConfigError
from gridwatch.config import load_config_text
from gridwatch.registered import BUILTIN
from gridwatch.registration import BuildContext, DetectorRegistration, Registrations
from gridwatch.service import Service
from ingest.frame import Frame
from models.detections import Detections
from tests.infra.kafka import KafkaBroker, read_topic


class FakeFlashConfig(BaseModel):
    """The toy's section: `cameras[].detectors.fake_flash`."""

    model_config = ConfigDict(extra="forbid")

    min_brightness: float = Field(default=40.0, ge=0, le=255, description="Mean grey level that opens an incident.")
    analysis_fps: float = Field(default=5.0, gt=0, le=30, description="Frames per second it looks at.")


@dataclass(frozen=True, slots=True)
class FakeFlashDetails(EventDetails):
    """The toy's typed details: how bright the brightest frame was."""

    peak_brightness: float


class FakeFlashDetector:
    """A fake detector (see the module docstring); implements `detectors.base.Detector`."""

    name = "fake_flash"

    def __init__(self, camera_id: str, config: FakeFlashConfig) -> None:
        self.camera_id, self.config = camera_id, config
        self.stats = DetectorStats()
        self._open: Event | None = None
        self._peak = 0.0

    @property
    def analysis_fps(self) -> float:
        return self.config.analysis_fps

    @property
    def model_name(self) -> str | None:
        return None

    def _event(self, phase: Phase, seq: int, frame_at: float, box: tuple[float, float, float, float] | None,
               snapshot: Frame | None) -> Event:
        started = self._open.started_at if self._open is not None else frame_at
        return Event(kind=EventKind.SMOKE, source_id=self.camera_id, incident_id=f"fake-flash-{self.camera_id}",
                     phase=phase, update_seq=seq, started_at=started, last_seen_at=frame_at,
                     trigger_captured_at=frame_at, confidence=0.5, box_xyxy=box, snapshot=snapshot,
                     reasons={"peak_brightness": round(self._peak, 1)},
                     details=FakeFlashDetails(peak_brightness=round(self._peak, 1)))

    def process(self, frame: Frame, detections: Detections | None) -> list[Event]:
        self.stats.frames += 1
        self._peak = max(self._peak, float(frame.image.mean()))
        if self._open is not None or self._peak < self.config.min_brightness:
            return []
        h, w = frame.image.shape[:2]
        self._open = self._event(Phase.START, 0, frame.captured_at, (0.0, 0.0, float(w), float(h)), frame)
        return [self._open]

    def flush(self, now: float) -> list[Event]:
        if self._open is None:
            return []
        end = self._event(Phase.END, 1, now, self._open.box_xyxy, None)
        self._open = None
        return [end]

    def reconfigure(self, config: BaseModel) -> None:
        self.config = cast(FakeFlashConfig, config)

    def annotate(self, image: NDArray[np.uint8]) -> NDArray[np.uint8]:
        return image.copy()


def _flash_fields(event: Event) -> dict[str, Any]:
    details = cast(FakeFlashDetails, event.details)
    return {"fire": FireInfo(area_m2=None, growth_ratio=details.peak_brightness / 100.0)}


def _build(ctx: BuildContext) -> Detector:
    return FakeFlashDetector(ctx.camera_id, cast(FakeFlashConfig, ctx.config))


FAKE_FLASH = DetectorRegistration(
    "fake_flash",
    FakeFlashConfig,
    _build,
    AlertKind(frozenset({EventKind.SMOKE}), FakeFlashDetails, _flash_fields, {EventKind.SMOKE: (255, 255, 0)}),
)
WITH_FAKE = Registrations((*BUILTIN.items, FAKE_FLASH))


def test_the_defaults_section_lists_exactly_the_registered_detectors() -> None:
    assert tuple(DetectorsConfig.model_fields) == BUILTIN.names == ("fire", "throw", "construction")


def test_a_camera_naming_an_unregistered_detector_is_a_config_error_with_its_line() -> None:
    text = "cameras:\n  - id: cam-1\n    source: {url: /dev/null}\n    detectors: {fake_flash: {}}\n"
    with pytest.raises(ConfigError) as err:
        load_config_text(text, source="cfg.yaml")
    assert "cfg.yaml:4: cameras[0].detectors.fake_flash: no detector named 'fake_flash'" in str(err.value.problems)
    assert load_config_text(text, registrations=WITH_FAKE).cameras["cam-1"].detectors["fake_flash"] == FakeFlashConfig()


def test_the_registered_config_model_validates_the_section_with_its_line() -> None:
    text = "cameras:\n  - id: cam-1\n    source: {url: /dev/null}\n    detectors: {fake_flash: {min_brightness: 300}}\n"
    with pytest.raises(ConfigError, match=r"cameras\[0\]\.detectors\.fake_flash\.min_brightness"):
        load_config_text(text, registrations=WITH_FAKE)


def test_a_name_registered_twice_is_refused() -> None:
    with pytest.raises(ValueError, match="fake_flash"):
        Registrations((FAKE_FLASH, FAKE_FLASH))


@pytest.fixture(scope="module")
def clip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from benchmarks.scenarios.fire import make_scenario, write_scenario

    return write_scenario(make_scenario("distractor", 17), tmp_path_factory.mktemp("fake-flash")).video


@pytest.mark.integration
def test_a_detector_added_by_registration_alone_alerts_on_kafka(
    tmp_path: Path, kafka_broker: KafkaBroker, clip: Path
) -> None:
    topic = kafka_broker.new_topic("gw-fake-flash")
    kafka = json.dumps({**kafka_broker.listener("PLAINTEXT").kafka, "topic": topic})
    text = f"""
service: {{reload_poll_s: 0, metrics: {{enabled: false}}, shutdown_timeout_s: 15}}
cameras:
  - id: cam-flash
    source: {{url: {clip}, realtime: false}}
    detectors: {{fake_flash: {{min_brightness: 1}}}}
    site: {{lat_deg: 34.8102, lon_deg: 113.2745}}
alerts:
  outbox: {{path: {tmp_path}/outbox.sqlite3}}
  evidence: {{store: {{type: local, dir: {tmp_path}/evidence}}, scratch_dir: {tmp_path}/evidence-tmp}}
  kafka: {kafka}
"""
    service = Service(load_config_text(text, registrations=WITH_FAKE))
    service.start()
    try:
        deadline = time.monotonic() + 90
        while not service.all_finished() and time.monotonic() < deadline:
            time.sleep(0.2)
        assert service.all_finished(), "the recording was not analysed to its end"
    finally:
        assert service.stop()
    messages = read_topic(kafka_broker.bootstrap, topic, expect=2, timeout_s=60)
    alerts = [json.loads(cast(bytes, m["value"])) for m in messages]
    assert [(a["source"], a["kind"], a["phase"]) for a in alerts] == [
        ("cam-flash", "smoke", "start"), ("cam-flash", "smoke", "end")]
    peak = alerts[0]["reasons"]["peak_brightness"]
    assert peak > 1 and alerts[0]["fire"]["growth_ratio"] == pytest.approx(peak / 100.0)
    assert alerts[0]["evidence"]["snapshot_uri"] and alerts[0]["grid_cell"] is None


@pytest.mark.parametrize("module", ["gridwatch/service.py", "gridwatch/replay.py", "gridwatch/config.py"])
def test_the_service_replay_and_config_know_detectors_only_through_registrations(module: str) -> None:
    import ast

    tree = ast.parse((Path(__file__).resolve().parents[2] / module).read_text(encoding="utf-8"))
    folders = {p.name for p in (Path(__file__).resolve().parents[2] / "detectors").iterdir() if p.is_dir()
               and (p / "__init__.py").exists() and p.name != "geometry"}
    imported = {n.module for n in ast.walk(tree) if isinstance(n, ast.ImportFrom) and n.module}
    assert {m for m in imported if m.split(".")[:2][-1] in folders and m.startswith("detectors.")} == set()
    assert not [n for n in ast.walk(tree) if isinstance(n, ast.Name) and n.id.endswith("Detector")
                and n.id != "Detector"]
