"""`gridwatch replay VIDEO --config FILE --camera ID`: one camera's detectors over a recording, offline.

Operators tune thresholds with it: alerts come out as JSON lines in exactly the Kafka schema, and
`--annotate` writes a video with each detector's boxes, tracks, counters and reasons drawn, and for a
gated model the path each frame took (skipped, crops, full frame, sweep, reused look, held incident with
the time to its re-look) and why. Nothing is
published and the service's outbox is not touched: a scratch outbox holds the run's alerts, so dedup and
cooldowns behave as in the service. Drone footage takes its poses from `--telemetry` (DJI .SRT), and
detectors that keep summaries (construction: each flight's sites, each survey's changes) write them
(GeoJSON, text, PNG map) next to the output.
"""

from __future__ import annotations

import argparse
import logging
import sys
import tempfile
import time
from collections.abc import Iterator
from concurrent.futures import Future
from contextlib import ExitStack
from pathlib import Path
from typing import IO

import av
import numpy as np
from numpy.typing import NDArray

from alerts.clips import FileClipSource
from alerts.config import AlertsConfig
from alerts.pipeline import AlertPipeline
from alerts.schema import Alert
from alerts.survey_store import EvidenceSurveyStore, survey_store
from detectors.analysis import CameraAnalysis, GatedInference
from detectors.base import Detector
from detectors.event import Event
from foundation.errors import ConfigError
from gridwatch.config import LoadedConfig, ResolvedCamera, load_config
from ingest.files import iter_file_frames
from ingest.frame import Frame
from models.detections import Detections
from models.gating import ModelGeometry
from models.runtime import YoloModel, load_model

log = logging.getLogger(__name__)


def _camera(loaded: LoadedConfig, camera_id: str) -> ResolvedCamera:
    cam = loaded.cameras.get(camera_id)
    if cam is None:
        known = ", ".join(sorted(loaded.cameras)) or "none"
        raise ConfigError(f"{loaded.source}: no camera '{camera_id}' (known: {known})")
    if not cam.detectors:
        raise ConfigError(f"{loaded.source}: camera '{camera_id}' runs no detectors")
    return cam


def _replay_alerts_config(cfg: AlertsConfig, scratch: Path, evidence_dir: Path | None) -> AlertsConfig:
    """The configured alert settings, with a scratch outbox, no Kafka, and evidence only when asked."""
    outbox = cfg.outbox.model_copy(update={"path": scratch / "replay-outbox.sqlite3"})
    evidence = cfg.evidence.model_copy(update={"enabled": evidence_dir is not None})
    if evidence_dir is not None:
        store = cfg.evidence.store.model_copy(update={"type": "local", "dir": evidence_dir}) \
            if cfg.evidence.store.type == "local" else cfg.evidence.store
        evidence = evidence.model_copy(update={"store": store, "scratch_dir": scratch / "evidence-tmp"})
    return cfg.model_copy(update={"outbox": outbox, "kafka": None, "evidence": evidence})


class AnnotatedWriter:
    """Encodes annotated frames to H.264 at the analysed rate (opened on the first frame)."""

    def __init__(self, path: Path, fps: float) -> None:
        self.path = path
        self.fps = fps
        self._container: av.container.OutputContainer | None = None
        self._stream: av.video.stream.VideoStream | None = None

    def write(self, image: object) -> None:
        img = np.ascontiguousarray(image)
        if self._container is None:
            from fractions import Fraction

            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._container = av.open(str(self.path), "w")
            stream = self._container.add_stream("libx264", rate=Fraction(self.fps).limit_denominator(1000))
            stream.height, stream.width = (img.shape[0] // 2) * 2, (img.shape[1] // 2) * 2
            stream.pix_fmt = "yuv420p"
            stream.options = {"crf": "23", "preset": "veryfast"}
            self._stream = stream
        assert self._stream is not None
        img = img[: self._stream.height, : self._stream.width]
        for packet in self._stream.encode(av.VideoFrame.from_ndarray(img, format="bgr24")):
            self._container.mux(packet)

    def close(self) -> None:
        if self._container is not None and self._stream is not None:
            for packet in self._stream.encode():
                self._container.mux(packet)
            self._container.close()


def _progress(frames: Iterator[Frame], video: Path, fps: float, enabled: bool) -> Iterator[Frame]:
    if not enabled:
        yield from frames
        return
    from tqdm import tqdm

    total = None
    try:
        with av.open(str(video)) as c:
            if c.duration:
                total = int(c.duration / 1_000_000 * fps) or None
    except av.FFmpegError:
        total = None
    yield from tqdm(frames, total=total, unit="frame", desc=video.name, file=sys.stderr, leave=False)


def _survey_store(loaded: LoadedConfig, cam: ResolvedCamera, evidence_dir: Path | None) -> EvidenceSurveyStore | None:
    """Where a replayed flight's survey mosaic goes and earlier ones come from: `--evidence-dir` when given,
    else the configured evidence store (a replay is how an uploaded flight joins the archive)."""
    if not loaded.registrations.keeps_surveys(cam.detectors):
        return None
    evidence = loaded.root.alerts.evidence
    if evidence_dir is not None and evidence.store.type == "local":
        evidence = evidence.model_copy(update={"store": evidence.store.model_copy(update={"dir": evidence_dir})})
    return survey_store(evidence)


def replay(
    video: Path, loaded: LoadedConfig, camera_id: str, *, telemetry: Path | None = None,
    out: IO[str], annotate: Path | None = None, evidence_dir: Path | None = None, progress: bool = False,
) -> list[Alert]:
    """Run the camera's detectors over `video`; write each alert as a JSON line to `out`; return them."""
    cam = _camera(loaded, camera_id)
    regs = loaded.registrations
    models: dict[str, YoloModel] = {name: load_model(loaded.model(name)) for name in regs.models_used(cam.detectors)}
    detectors = regs.build_detectors(
        cam.id, cam.detectors, cam.config.calibration, models, _survey_store(loaded, cam, evidence_dir)
    )

    analysis = _inline_analysis(cam.id, detectors, models)
    fps = analysis.max_fps or None
    alerts: list[Alert] = []
    with ExitStack() as stack:
        scratch = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="gw-replay-")))
        pipeline = AlertPipeline(
            _replay_alerts_config(loaded.root.alerts, scratch, evidence_dir),
            node_id=loaded.root.service.node_id, config_version=loaded.version, kinds=regs.alert_kinds,
        )
        pipeline.start()
        stack.callback(pipeline.close)
        clips = FileClipSource(video, source_id=cam.id)
        writer = AnnotatedWriter(annotate, fps or 25.0) if annotate else None

        def emit(events: list[Event]) -> None:
            for event in events:
                alert = pipeline.handle(event, site=cam.config.site, clip_source=clips)
                if alert is not None:
                    alerts.append(alert)
                    out.write(alert.to_json_bytes().decode("utf-8") + "\n")
                    out.flush()

        frames = iter_file_frames(
            video, cam.id, analysis_fps=fps, telemetry=telemetry or cam.source.telemetry,
            telemetry_defaults=loaded.root.ingest.telemetry, start_utc_s=time.time(),
        )
        last_at = time.time()
        for frame in _progress(frames, video, fps or 25.0, progress):
            emit(analysis.analyse(frame))
            last_at = frame.captured_at
            if writer is not None:
                _write_annotated(writer, frame, detectors, analysis)
        emit(analysis.flush(last_at))
        if writer is not None:
            writer.close()
        _write_summaries(loaded, detectors, (annotate.parent if annotate else None) or evidence_dir or Path.cwd())
    return alerts


def _inline_analysis(camera_id: str, detectors: list[Detector], models: dict[str, YoloModel]) -> CameraAnalysis:
    """The camera's analysis with the models run inline on this thread: a replay is one video, so the
    service's shared batcher would only add threads; results are handed back as already-done futures."""

    def infer(model_name: str, frame: Frame) -> Detections:
        return models[model_name].predict([frame.image])[0]

    def submit(model_name: str, image: NDArray[np.uint8], input_hw: tuple[int, int] | None) -> Future[Detections]:
        done: Future[Detections] = Future()
        done.set_result(models[model_name].predict([image], input_hw=input_hw)[0])
        return done

    geometry = {name: ModelGeometry.of(m.info) for name, m in models.items()}
    return CameraAnalysis(camera_id, detectors, infer, GatedInference(submit, geometry))


def _write_annotated(
    writer: AnnotatedWriter, frame: Frame, detectors: list[Detector], analysis: CameraAnalysis
) -> None:
    """One frame of the `--annotate` video: every detector's own overlay, then the inference gates'."""
    image = frame.image.copy()
    for det in detectors:
        image = det.annotate(image)
    writer.write(analysis.annotate_gates(image))


def _write_summaries(loaded: LoadedConfig, detectors: list[Detector], summary_dir: Path) -> None:
    """Write the per-flight summaries some detectors keep (drone surveys) next to the replay's output."""
    for named in loaded.registrations.summaries(detectors):
        written = named.summary.write(summary_dir)
        log.info("flight %s %s: %s", named.flight_id, named.label, ", ".join(str(p) for p in written.values()))


def cmd_replay(args: argparse.Namespace) -> int:
    loaded = load_config(args.config)
    progress = sys.stderr.isatty() and not args.no_progress
    with ExitStack() as stack:
        out: IO[str] = stack.enter_context(args.out.open("w", encoding="utf-8")) if args.out else sys.stdout
        alerts = replay(
            args.video, loaded, args.camera, telemetry=args.telemetry, out=out, annotate=args.annotate,
            evidence_dir=args.evidence_dir, progress=progress,
        )
    print(f"{len(alerts)} alert(s) from {args.video}" + (f" -> {args.out}" if args.out else ""), file=sys.stderr)
    return 0
