"""`DetectorRegistration`: everything the service, `replay` and config loading need to know about one
detector, in one object, so adding a detector is one registration (`gridwatch/registered/`) and one line
in `BUILTIN` there, and nothing else branches on detector classes.

A registration holds the detector's config model (a camera's `detectors.<name>` section), its factory,
the models its config names, whether it keeps survey mosaics, the alerts side (`alerts.kinds.AlertKind`:
event kinds, details type, alert fields, evidence colour and overlay) and the summaries it writes when a
recording (a drone flight) ends. `Registrations` is the set the service runs with.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from pydantic import BaseModel

from alerts.kinds import AlertKind, AlertKinds
from detectors.base import Detector
from detectors.config import CameraCalibration
from detectors.construction.survey.archive import SurveyStore
from detectors.event import ModelRef
from foundation.errors import ConfigError
from models.runtime import YoloModel


@dataclass(frozen=True)
class BuildContext:
    """What a factory gets for one camera (or drone flight source)."""

    camera_id: str
    config: BaseModel
    """The camera's resolved section, an instance of the registration's `config_model`."""
    calibration: CameraCalibration
    """The camera's `calibration:` (ground homography), for event positions."""
    models: Mapping[str, YoloModel]
    """Loaded models by name (only those some camera's config names)."""
    survey_store: SurveyStore | None = None
    """Where survey mosaics are kept (the evidence store), when some detector keeps them."""

    def model(self, name: str | None, detector: str) -> YoloModel | None:
        """The loaded model `name`, None when no name is configured; ConfigError when it is not loaded."""
        if not name:
            return None
        found = self.models.get(name)
        if found is None:
            raise ConfigError(f"camera {self.camera_id}: detector {detector} needs model '{name}', which is not loaded")
        return found


def model_ref(model: YoloModel) -> ModelRef:
    """The model as events report it (name, version, file sha256)."""
    return ModelRef(name=model.info.name, version=model.info.version, sha256=model.info.sha256)


class Summary(Protocol):
    """A report a detector keeps when a recording ends (a drone flight's sites, a survey's changes)."""

    def text_report(self) -> str: ...

    def write(self, out_dir: str | Path) -> dict[str, Path]: ...


@dataclass(frozen=True)
class NamedSummary:
    """One summary of one recording: `flight_id` names the recording, `label` what the summary is."""

    flight_id: str
    label: str
    summary: Summary


def _no_models(config: BaseModel) -> tuple[str, ...]:
    return ()


def _no_store(config: BaseModel) -> bool:
    return False


def _no_summaries(detector: Detector) -> list[NamedSummary]:
    return []


@dataclass(frozen=True)
class DetectorRegistration:
    """One detector, as the service, `replay` and the config loader see it."""

    name: str
    """The name in config (`detectors.<name>`, a camera's `detectors:` key) and `Detector.name`."""
    config_model: type[BaseModel]
    """The pydantic model of its section (`extra="forbid"`, bounds, descriptions)."""
    build: Callable[[BuildContext], Detector]
    """Its factory, for one camera."""
    alerts: AlertKind
    """Its alerts side: event kinds, details type, alert fields, evidence colour and overlay."""
    models_used: Callable[[BaseModel], tuple[str, ...]] = _no_models
    """Names of the models a section of this detector needs loaded."""
    keeps_surveys: Callable[[BaseModel], bool] = _no_store
    """Whether a section of this detector keeps survey mosaics (the service then opens the archive)."""
    summaries: Callable[[Detector], list[NamedSummary]] = _no_summaries
    """Summaries of ended recordings this detector holds (written by the service and `replay`)."""


@dataclass(frozen=True)
class Registrations:
    """The detectors a process runs with, in a stable order (which is the order detectors run on a frame)."""

    items: Sequence[DetectorRegistration]
    alert_kinds: AlertKinds = field(init=False)

    def __post_init__(self) -> None:
        names = [r.name for r in self.items]
        twice = sorted({n for n in names if names.count(n) > 1})
        if twice:
            raise ValueError(f"detector(s) registered twice: {', '.join(twice)}")
        object.__setattr__(self, "alert_kinds", AlertKinds(r.alerts for r in self.items))

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(r.name for r in self.items)

    def get(self, name: str) -> DetectorRegistration | None:
        return next((r for r in self.items if r.name == name), None)

    def of(self, detector: Detector) -> DetectorRegistration:
        """The registration of a built detector (by its name)."""
        reg = self.get(detector.name)
        if reg is None:
            raise ValueError(f"detector {detector.name!r} is not registered (known: {', '.join(self.names)})")
        return reg

    def build_detectors(
        self,
        camera_id: str,
        sections: Mapping[str, BaseModel],
        calibration: CameraCalibration,
        models: Mapping[str, YoloModel],
        survey_store: SurveyStore | None = None,
    ) -> list[Detector]:
        """Every detector a camera's resolved `sections` enable, in registration order."""
        return [
            r.build(BuildContext(camera_id, sections[r.name], calibration, models, survey_store))
            for r in self.items
            if r.name in sections
        ]

    def models_used(self, sections: Mapping[str, BaseModel]) -> set[str]:
        """Names of the models these resolved sections need."""
        return {m for r in self.items if r.name in sections for m in r.models_used(sections[r.name])}

    def keeps_surveys(self, sections: Mapping[str, BaseModel]) -> bool:
        return any(r.keeps_surveys(sections[r.name]) for r in self.items if r.name in sections)

    def summaries(self, detectors: Iterable[Detector]) -> list[NamedSummary]:
        """Summaries of ended recordings held by `detectors`."""
        return [s for d in detectors for s in self.of(d).summaries(d)]
