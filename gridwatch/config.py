"""The root configuration: each package's section model composed into one file, validated as a whole.

Precedence is global defaults -> detector defaults (`detectors.<name>`) -> per-camera overrides
(`cameras[i].detectors.<name>`): a camera's override is merged over the defaults and the result is
validated by the detector's own model, so an error points at the camera's line when it came from there.
The config version is a hash of the file, carried in every alert so a ticket can be traced to the
thresholds that produced it.
"""

from __future__ import annotations

import hashlib
import ipaddress
import re
import socket
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from alerts.config import AlertsConfig, SiteConfig
from detectors.config import CameraCalibration, DetectorsConfig
from foundation.errors import ConfigError
from foundation.yamlsafe import YamlDocument, load_yaml, read_text
from gridwatch.cluster.config import ClusterConfig
from gridwatch.configload import deep_merge, describe_errors, validate
from gridwatch.registered import BUILTIN
from gridwatch.registration import Registrations
from gridwatch.resources import config_environment
from ingest.config import IngestConfig, SourceConfig
from models.config import ModelConfig


class MetricsConfig(BaseModel):
    """The HTTP endpoint. `address` is a host (IP literal or host name); `host:port` is accepted on
    purpose, because that is how the endpoint is usually written, and sets `port` (a different explicit
    `port` is an error)."""

    model_config = ConfigDict(extra="forbid")

    enabled: bool = Field(default=True, description="Serve /metrics, /healthz, /readyz and /status over HTTP.")
    address: str = Field(default="127.0.0.1", description="Listen address; loopback by default, 0.0.0.0 in containers.")
    port: int = Field(default=9108, ge=0, le=65535, description="Listen port (0 picks a free port, for tests).")

    @model_validator(mode="before")
    @classmethod
    def _split_host_port(cls, data: Any) -> Any:
        if not isinstance(data, Mapping) or not isinstance(data.get("address"), str):
            return data
        host, port = split_listen_address(data["address"])
        if port is None:
            return data
        if "port" in data and data["port"] != port:
            raise ValueError(f"address {data['address']!r} names port {port} but port is {data['port']}; "
                             "give the port once")
        return {**data, "address": host, "port": port}

    @model_validator(mode="after")
    def _check_host(self) -> MetricsConfig:
        check_listen_host(self.address)
        return self


_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
_HOSTNAME = re.compile(rf"^(?=.{{1,253}}$){_LABEL}(?:\.{_LABEL})*$")


def split_listen_address(address: str) -> tuple[str, int | None]:
    """`host`, `host:port`, `[v6]` or `[v6]:port` as (host, port or None); a bare IPv6 literal stays whole."""
    text = address.strip()
    if text.startswith("["):
        host, _, rest = text[1:].partition("]")
        if rest and not rest.startswith(":"):
            raise ValueError(f"listen address {address!r}: expected [IPv6]:port")
        return host, _port(rest[1:], address) if rest else None
    if text.count(":") == 1:
        host, port = text.split(":")
        return host, _port(port, address)
    return text, None


def _port(text: str, address: str) -> int:
    if not text.isdigit() or not 0 <= int(text) <= 65535:
        raise ValueError(f"listen address {address!r}: port must be a number from 0 to 65535")
    return int(text)


def check_listen_host(host: str) -> None:
    """An IP literal or a syntactically valid host name (resolving it is left to the bind at start)."""
    try:
        ipaddress.ip_address(host)
        return
    except ValueError:
        pass
    if not _HOSTNAME.match(host):
        raise ValueError(f"listen address {host!r} is neither an IP address nor a host name")


class ServiceConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    node_id: str = Field(
        default_factory=socket.gethostname, min_length=1, max_length=128,
        description="Name of this video node, carried in every alert.",
    )
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = Field(default="INFO", description="Log verbosity.")
    shutdown_timeout_s: float = Field(
        default=20.0, gt=0, le=600, description="Deadline for a clean stop (sources, batcher, detectors, outbox flush)."
    )
    reload_poll_s: float = Field(
        default=2.0, ge=0, le=3600, description="How often the config file is checked for changes (0: only on SIGHUP)."
    )
    metrics: MetricsConfig = Field(default_factory=MetricsConfig, description="HTTP endpoint for metrics and health.")


class CameraConfig(BaseModel):
    """One fixed camera (or a drone flight source): where frames come from and what runs on them."""

    model_config = ConfigDict(extra="forbid")

    id: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$", description="Stable camera id (Kafka key).")
    enabled: bool = Field(default=True, description="A disabled camera is validated but not started.")
    source: SourceConfig = Field(description="Stream or file, sampling and reconnect settings.")
    detectors: dict[str, dict[str, Any]] = Field(
        default_factory=dict,
        description="Detectors to run here (a registered name: fire, throw, construction); each value overrides "
        "keys of `detectors.<name>` for this camera.",
    )
    calibration: CameraCalibration = Field(
        default_factory=CameraCalibration, description="Image-to-ground calibration (facades: detectors.throw)."
    )
    site: SiteConfig | None = Field(
        default=None, description="Camera position and grid cell, for alerts without geometry."
    )


class GridwatchConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    service: ServiceConfig = Field(default_factory=ServiceConfig, description="Process-wide settings.")
    ingest: IngestConfig = Field(default_factory=IngestConfig, description="Ingest workers and defaults.")
    models: list[ModelConfig] = Field(default_factory=list, description="ONNX models, referenced by name.")
    detectors: DetectorsConfig = Field(default_factory=DetectorsConfig, description="Detector defaults.")
    cameras: list[CameraConfig] = Field(default_factory=list, description="Cameras this node runs.")
    alerts: AlertsConfig = Field(default_factory=AlertsConfig, description="Alert schema, outbox, Kafka, evidence.")
    cluster: ClusterConfig | None = Field(
        default=None,
        description="Cluster mode (`run --cluster`): cameras come from the Kafka registry, not `cameras:`.",
    )

    @model_validator(mode="after")
    def _unique_names(self) -> GridwatchConfig:
        seen: set[str] = set()
        for cam in self.cameras:
            if cam.id in seen:
                raise ValueError(f"camera id '{cam.id}' is used twice")
            seen.add(cam.id)
        names = [m.name for m in self.models]
        dup = {n for n in names if names.count(n) > 1}
        if dup:
            raise ValueError(f"model name(s) used twice: {', '.join(sorted(dup))}")
        return self


@dataclass(frozen=True)
class ResolvedCamera:
    """A camera with its detector settings merged and validated: what the service runs."""

    id: str
    config: CameraConfig
    detectors: Mapping[str, BaseModel]

    @property
    def source(self) -> SourceConfig:
        return self.config.source


@dataclass(frozen=True)
class LoadedConfig:
    """A validated config file: the root model, resolved cameras, version and origin."""

    root: GridwatchConfig
    cameras: Mapping[str, ResolvedCamera]
    version: str
    source: str
    warnings: tuple[str, ...] = field(default=())
    registrations: Registrations = BUILTIN
    """The detectors this config was resolved against (the service and `replay` build from them)."""

    def model(self, name: str) -> ModelConfig:
        for m in self.root.models:
            if m.name == name:
                return m
        raise ConfigError(f"{self.source}: no model named '{name}' in `models:`")


def config_version(text: str) -> str:
    """Short content hash of the config text: same file, same version, on every node."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:12]


def resolve_cameras(
    doc: YamlDocument, root: GridwatchConfig, registrations: Registrations = BUILTIN
) -> tuple[dict[str, ResolvedCamera], list[str]]:
    """Merge each camera's detector overrides over `doc`'s raw `detectors:` defaults and validate them.

    Returns the resolved cameras and one problem line per failure (a camera with a problem is still
    returned, without the failing detector). Cluster nodes call it for each registry definition.
    """
    data = doc.data or {}
    defaults_raw: Mapping[str, Any] = (data.get("detectors") or {}) if isinstance(data, Mapping) else {}
    model_names = {m.name for m in root.models}
    problems: list[str] = []
    cameras: dict[str, ResolvedCamera] = {}
    for index, cam in enumerate(root.cameras):
        resolved: dict[str, BaseModel] = {}
        for name, override in cam.detectors.items():
            registration = registrations.get(name)
            if registration is None:
                line = doc.line_of(("cameras", index, "detectors", name))
                problems.append(
                    f"{doc.source}:{line}: cameras[{index}].detectors.{name}: no detector named '{name}' "
                    f"(known: {', '.join(registrations.names)})"
                )
                continue
            model_cls = registration.config_model
            merged = deep_merge(defaults_raw.get(name) or {}, override or {})
            try:
                det_cfg = model_cls.model_validate(merged)
            except ValidationError as exc:
                override_doc = YamlDocument(data=data, source=doc.source, lines=doc.lines)
                problems += describe_errors(
                    exc, override_doc, model_cls, prefix=("cameras", index, "detectors", name),
                    fallback_doc=doc, fallback_prefix=("detectors", name),
                )
                continue
            wanted = getattr(det_cfg, "model", None)
            if wanted and wanted not in model_names:
                line = doc.line_of(("cameras", index, "detectors", name, "model")) or doc.line_of(
                    ("detectors", name, "model"))
                problems.append(
                    f"{doc.source}:{line}: cameras[{index}].detectors.{name}.model: no model named "
                    f"'{wanted}' in `models:` (known: {', '.join(sorted(model_names)) or 'none'})"
                )
                continue
            resolved[name] = det_cfg
        cameras[cam.id] = ResolvedCamera(id=cam.id, config=cam, detectors=resolved)
    return cameras, problems


def load_config_text(
    text: str,
    source: str = "<string>",
    env: Mapping[str, str] | None = None,
    registrations: Registrations = BUILTIN,
) -> LoadedConfig:
    """Parse, validate and resolve a config; ConfigError lists every problem with file, line and key.

    `registrations`: the detectors a camera may name (the shipped ones unless a test adds its own)."""
    doc = load_yaml(text, source=source, env=config_environment(env))
    root = validate(GridwatchConfig, doc)
    cameras, problems = resolve_cameras(doc, root, registrations)
    if problems:
        raise ConfigError(f"{source}: {len(problems)} problem(s)", problems)
    return LoadedConfig(
        root=root, cameras=cameras, version=config_version(text), source=source, registrations=registrations
    )


def load_config(path: str | Path, env: Mapping[str, str] | None = None) -> LoadedConfig:
    """Load a config file (see `load_config_text`)."""
    return load_config_text(read_text(path), source=str(path), env=env)
