"""`gridwatch config check` beyond the schema: open what a valid config points at.

A config can be valid and still fail at deploy time: a model path that holds no model, a grid GeoJSON
that does not parse, a telemetry file that is not DJI SRT, an outbox folder the service cannot create,
an expired client certificate. `check_resources` opens each file the way the service would (ONNX
metadata and the detect-model checks, the GeoJSON loaders, the SRT parser, the TLS files) and returns one
line per problem, starting with the key that named the file. Nothing is written and nothing is connected
to: brokers, stores and cameras are left to the service.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from functools import partial
from pathlib import Path

from pydantic import BaseModel

from alerts.config import AlertsConfig
from alerts.enrich import grid_index_from_config
from alerts.evidence_config import S3StoreConfig
from alerts.kafka_config import KafkaConfig
from alerts.kafka_probe import check_client_files
from alerts.s3_store import require_boto3
from detectors.construction.registry import Registry
from foundation.errors import GridwatchError
from gridwatch.config import LoadedConfig
from ingest.srt import load_srt
from models.config import ModelConfig
from models.runtime import check_model_file, model_files


def check_resources(loaded: LoadedConfig) -> list[str]:
    """Every problem with the files and folders `loaded` names, as `key: what is wrong` lines."""
    root = loaded.root
    problems: list[str] = []
    for i, model in enumerate(root.models):
        key = f"models[{i}].fetched" if model.fetched is not None else f"models[{i}].path"
        problems += _attempt(key, partial(_check_model, model))
    problems += _camera_files(loaded)
    problems += _registry_files(loaded)
    problems += _alerts_files(root.alerts)
    if root.cluster is not None and root.cluster.kafka is not None:
        problems += _kafka_files("cluster.kafka", root.cluster.kafka)
    return problems


def _check_model(model: ModelConfig) -> None:
    """The file a model entry resolves to (fetched weights: the cache, at its precision), opened and checked."""
    path, manifest = model_files(model)
    check_model_file(path, manifest)


def _attempt(key: str, action: Callable[[], object]) -> list[str]:
    try:
        action()
    except GridwatchError as exc:
        return [f"{key}: {_one_line(exc)}"]
    except (OSError, ValueError) as exc:
        return [f"{key}: {type(exc).__name__}: {exc}"]
    return []


def _one_line(exc: BaseException) -> str:
    return " ".join(str(exc).split())


def _camera_files(loaded: LoadedConfig) -> list[str]:
    problems: list[str] = []
    for i, cam in enumerate(loaded.root.cameras):
        source = cam.source
        if not source.is_stream:
            path = Path(source.url_text().removeprefix("file://"))
            if not path.is_file():
                problems.append(f"cameras[{i}].source.url: video file {path} not found")
        if source.telemetry is not None:
            problems += _attempt(f"cameras[{i}].source.telemetry", partial(load_srt, source.telemetry))
    return problems


def _registry_files(loaded: LoadedConfig) -> list[str]:
    """The construction registry of every camera that runs the detector (once per distinct file)."""
    seen: set[str] = set()
    problems: list[str] = []
    default = loaded.root.detectors.construction.registry.path
    for index, cam in enumerate(loaded.root.cameras):
        resolved = loaded.cameras.get(cam.id)
        det: BaseModel | None = resolved.detectors.get("construction") if resolved is not None else None
        path = getattr(getattr(det, "registry", None), "path", None)
        if not path or path in seen:
            continue
        seen.add(path)
        key = ("detectors.construction.registry.path" if path == default
               else f"cameras[{index}].detectors.construction.registry.path")
        problems += _attempt(key, partial(Registry.load, path))
    return problems


def _alerts_files(alerts: AlertsConfig) -> list[str]:
    problems = writable_folder("alerts.outbox.path", Path(alerts.outbox.path).parent)
    grid = alerts.grid
    if grid.path is not None:
        problems += _attempt("alerts.grid.path", partial(grid_index_from_config, grid))
    evidence = alerts.evidence
    if evidence.enabled:
        problems += writable_folder("alerts.evidence.scratch_dir", evidence.scratch_dir)
        store = evidence.store
        if isinstance(store, S3StoreConfig):
            problems += writable_folder("alerts.evidence.store.spool_dir", store.spool_dir)
            if store.ca_bundle is not None and not os.access(store.ca_bundle, os.R_OK):
                problems.append(f"alerts.evidence.store.ca_bundle: {store.ca_bundle} cannot be read")
            problems += _attempt("alerts.evidence.store", require_boto3)
        else:
            problems += writable_folder("alerts.evidence.store.dir", store.dir)
    if alerts.kafka is not None:
        problems += _kafka_files("alerts.kafka", alerts.kafka)
    return problems


def _kafka_files(key: str, kafka: KafkaConfig) -> list[str]:
    cause = check_client_files(kafka)
    return [f"{key}: {cause}"] if cause else []


def writable_folder(key: str, folder: Path) -> list[str]:
    """A folder the service can write, or create: the nearest existing ancestor must be a writable folder."""
    probe = folder
    while not probe.exists():
        if probe.parent == probe:
            break
        probe = probe.parent
    if not probe.is_dir():
        return [f"{key}: {probe} is not a folder, so {folder} cannot be created"]
    if not os.access(probe, os.W_OK | os.X_OK):
        verb = "written" if probe == folder else f"created (no write permission on {probe})"
        return [f"{key}: {folder} cannot be {verb}"]
    return []
