"""Hot reload: apply a new, already validated config to a running service.

What changes in place: detector thresholds, zones and masks (each detector's `reconfigure`, which keeps
tracks and open incidents), the config version in new alerts, and the camera list (added cameras start,
removed ones stop). A camera whose source, detector set or detector model changed is restarted. New
`alerts.kafka` connection settings (credentials fixed, certificates rotated) reconnect the relay; the
alerts waiting in the outbox go first. Other changes to `models`, `ingest`, `alerts` or `service` need a
restart; they are logged and otherwise ignored, so the running pipeline always matches one validated file.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

from foundation.errors import GridwatchError
from gridwatch.config import LoadedConfig, ResolvedCamera
from gridwatch.service import Service

log = logging.getLogger(__name__)

_RESTART_SECTIONS = ("models", "ingest", "alerts", "service")


@dataclass
class ReloadPlan:
    """What a reload will do, decided before anything is touched."""

    added: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    restarted: list[str] = field(default_factory=list)
    reconfigured: list[str] = field(default_factory=list)
    ignored_sections: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)
    """Cameras the new config names that could not start (logged each); the others run."""
    kafka_reconnect: bool = False
    """Only `alerts.kafka` changed under `alerts` (and Kafka stays configured): the relay reconnects."""


def _needs_restart(old: ResolvedCamera, new: ResolvedCamera) -> bool:
    if old.config.source != new.config.source or old.config.calibration != new.config.calibration:
        return True
    if set(old.detectors) != set(new.detectors):
        return True
    for name, cfg in new.detectors.items():
        before = old.detectors[name]
        for attr in ("model", "mode", "analysis_fps"):
            if getattr(before, attr, None) != getattr(cfg, attr, None):
                return True
        clf_old, clf_new = getattr(before, "classifier", None), getattr(cfg, "classifier", None)
        if getattr(clf_old, "model", None) != getattr(clf_new, "model", None):
            return True
    return False


def plan_reload(service: Service, new: LoadedConfig) -> ReloadPlan:
    old = service.loaded
    plan = ReloadPlan()
    running = set(service.cameras)
    wanted = {cid for cid, cam in new.cameras.items() if cam.config.enabled}
    plan.added = sorted(wanted - running)
    plan.removed = sorted(running - wanted)
    for cid in sorted(running & wanted):
        if _needs_restart(old.cameras[cid], new.cameras[cid]):
            plan.restarted.append(cid)
        elif old.cameras[cid].detectors != new.cameras[cid].detectors:
            plan.reconfigured.append(cid)
    for section in _RESTART_SECTIONS:
        if section == "models" and _models_only_added(old, new):
            continue
        if section == "alerts" and _only_kafka_connection_changed(old, new):
            plan.kafka_reconnect = old.root.alerts.kafka != new.root.alerts.kafka
            continue
        if getattr(old.root, section) != getattr(new.root, section):
            plan.ignored_sections.append(section)
    return plan


def _models_only_added(old: LoadedConfig, new: LoadedConfig) -> bool:
    """New model entries can be loaded live; changing a loaded one needs a restart."""
    new_models = {m.name: m for m in new.root.models}
    return all(new_models.get(m.name) == m for m in old.root.models)


def _only_kafka_connection_changed(old: LoadedConfig, new: LoadedConfig) -> bool:
    """`alerts` differs at most in `alerts.kafka`, with Kafka configured before and after."""
    before, after = old.root.alerts, new.root.alerts
    if before.kafka is None or after.kafka is None:
        return before == after
    return before.model_copy(update={"kafka": after.kafka}) == after


def apply_reload(service: Service, new: LoadedConfig) -> ReloadPlan:
    """Swap to `new` (validated): reconfigure, stop, start. Returns what was done."""
    plan = plan_reload(service, new)
    with service.lock:
        service.stop_cameras(plan.removed + plan.restarted)
        for section in plan.ignored_sections:
            log.warning("config reload: changes under `%s` take effect after a restart; kept the running ones",
                        section)
        update = {"cameras": new.root.cameras, "detectors": new.root.detectors}
        if "models" not in plan.ignored_sections:
            update["models"] = new.root.models
        if plan.kafka_reconnect and service.alerts is not None and new.root.alerts.kafka is not None:
            try:
                service.alerts.reconfigure_kafka(new.root.alerts.kafka)
                update["alerts"] = new.root.alerts
            except GridwatchError as exc:  # the cameras' part of the reload still applies
                log.error("config reload: new Kafka settings not applied: %s", exc)
        service.loaded = LoadedConfig(
            root=service.loaded.root.model_copy(update=update),
            cameras=new.cameras, version=new.version, source=new.source,
        )
        if service.alerts is not None:
            service.alerts.pipeline.config_version = new.version
        for cid in plan.reconfigured:
            rt = service.cameras[cid]
            rt.camera = new.cameras[cid]
            for det in rt.detectors:
                det.reconfigure(new.cameras[cid].detectors[det.name])
        for cid in plan.added + plan.restarted:
            try:
                service.start_cameras([cid])
            except GridwatchError as exc:  # one camera's bad model or calibration must not block the rest
                plan.failed.append(cid)
                log.error("config reload: camera %s not started: %s", cid, exc)
    log.info(
        "config reloaded to version %s: %d added, %d removed, %d restarted, %d reconfigured, %d failed%s",
        new.version, len(plan.added), len(plan.removed), len(plan.restarted), len(plan.reconfigured),
        len(plan.failed), "; kafka relay reconnected" if plan.kafka_reconnect else "",
    )
    return plan
