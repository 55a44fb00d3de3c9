"""`gridwatch bench district`: how many cameras a core serves, gated, ungated, and with Ultralytics.

N cameras from a realistic mix (`benchmarks.scenarios.district_mix`: mostly quiet streets, some traffic
and people, night streets with blinking lamps, a few fires igniting at known times), as 640x360 sub-streams
at 25 fps, are analysed at the same rate (every `vid_stride`-th frame) three times, with one model file:

- gridwatch, gated: the service's analysis path (PyAV decode and sampling as `ingest` does it,
  `detectors.analysis.CameraAnalysis` with its per-model `Gate`, the cross-camera `DynamicBatcher`, the
  fire detector as configured in `configs/reference/fire.yaml` in `both` mode), one thread per camera, all
  cameras at once, files read as fast as they decode;
- gridwatch, ungated: the same with `gating.enabled: false` (every analysed frame runs whole);
- Ultralytics: `YOLO(model).predict(source, stream=True, vid_stride=k)` per camera, its ONNX Runtime
  session replaced by one with the same options as ours (threads, no spinning), OpenCV decoding with one
  FFmpeg thread as ours; its boxes are fed to the same fire detector so recall, time to alert and false
  alerts are judged alike. Its CPU is reported for predict alone (what Ultralytics costs) and with the
  detector.

Cameras per core come from CPU time (process CPU seconds over camera-seconds of video analysed), so they
hold on a shared machine where wall time does not; a system keeps up with that many cameras per core when
its CPU is all theirs. The machine's load is recorded with the figures.

Each system's figure is given twice: over the whole clips, and after a warm-up (`warmup_s`, the same for
all three): the CPU spent on the frames from `warmup_s` on, over the camera-seconds from there. A service
camera runs for hours, so what it costs per camera is its steady state; a 30 s clip starts every camera
at once, which weighs the start (gridwatch's first-frame sweep and change background, Ultralytics' stream
set-up) several times more than hours of running would. gridwatch's camera threads wait for each other at
`warmup_s` (nothing is in flight then: each has its answers) and the CPU is read there; Ultralytics, one
camera after another, counts the CPU from the end of one frame to the end of the next for the frames from
`warmup_s` on. Recall, time to alert and false alerts always cover the whole clips. Alerts, the outbox and Kafka are
left out of all three (`gridwatch bench alerts` measures them; they cost little per camera).

This module runs the systems; `benchmarks.district_report` turns their runs into the report.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections import Counter
from collections.abc import Iterable, Sequence
from concurrent.futures import Future
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from benchmarks import district_report, plots
from benchmarks.district_report import GRIDWATCH_GATED, GRIDWATCH_UNGATED, ULTRALYTICS, AfterWarmup, SystemRun
from benchmarks.district_score import Start
from benchmarks.fire_street_score import load_fire_config
from benchmarks.report import environment, write_report
from benchmarks.scenarios.district_mix import FPS as MIX_FPS
from benchmarks.scenarios.district_mix import CameraFiles, district, write_district
from detectors.analysis import CameraAnalysis, GatedInference
from detectors.event import Event, Phase
from detectors.fire import FireConfig, FireDetector
from ingest.files import iter_file_frames
from ingest.frame import Frame
from models.batcher import DynamicBatcher
from models.config import BatcherConfig, ModelConfig, Provider
from models.detections import Detections
from models.gating import GateStats, ModelGeometry
from models.providers import create_session
from models.runtime import YoloModel, check_model_file, load_model

log = logging.getLogger(__name__)

SUITE = "district"
T0 = 1.7e9
"""Capture time of every clip's first frame (UTC epoch seconds); any fixed value works."""
TUNING_SEEDS = (1,)
"""Seeds of the mix the gate's defaults were tuned on (change threshold, crop sizes); never benched."""
STREAM_FPS = MIX_FPS
"""Frame rate of every generated clip (a sub-stream's)."""


def cache_root() -> Path:
    """`$GRIDWATCH_CACHE`, default `~/.cache/gridwatch`: generated clips are kept there between runs."""
    return Path(os.environ.get("GRIDWATCH_CACHE") or Path.home() / ".cache" / "gridwatch")


@dataclass(frozen=True)
class DistrictSpec:
    """What one bench run measures."""

    model: Path
    manifest: Path | None = None
    cameras: int = 30
    seed: int = 2026
    duration_s: float = 30.0
    width: int = 640
    height: int = 360
    vid_stride: int = 12
    imgsz: int = 640
    max_batch: int = 8
    threads: int = 2
    clips_dir: Path = Path("var/bench/district/clips")
    ultralytics: bool = True
    ungated: bool = True
    fire_config: Path | None = None
    providers: tuple[Provider, ...] = ("cpu",)
    trt_cache_dir: Path | None = None
    warmup_s: float = 5.0
    """Capture seconds at the start of each clip left out of the after-warm-up figures (module docstring)."""

    @property
    def stream_fps(self) -> float:
        return STREAM_FPS

    @property
    def analysis_fps(self) -> float:
        return self.stream_fps / self.vid_stride



def _starts(events: Sequence[Event], camera: str) -> list[Start]:
    return [Start(camera, e.kind.value, e.trigger_captured_at - T0) for e in events if e.phase is Phase.START]


def fire_config(spec: DistrictSpec, gated: bool) -> FireConfig:
    """The shipped fire defaults (configs/reference/fire.yaml), in `both` mode with the bench's model."""
    cfg = load_fire_config(spec.fire_config) if spec.fire_config else load_fire_config()
    gating = cfg.gating.model_copy(update={"enabled": gated})
    return cfg.model_copy(update={"mode": "both", "model": "fire", "analysis_fps": spec.analysis_fps,
                                  "gating": gating})


def _model(spec: DistrictSpec) -> YoloModel:
    return load_model(ModelConfig(
        name="fire", path=spec.model, manifest=spec.manifest, imgsz=(spec.imgsz, spec.imgsz), rect=True,
        intra_op_threads=spec.threads, spin_wait=False, warmup_runs=1, providers=list(spec.providers),
        trt_cache_dir=spec.trt_cache_dir,
        batch=BatcherConfig(max_batch=spec.max_batch, max_delay_ms=10.0, max_share=0.5, request_timeout_ms=600_000,
                            queue_size=4096),
    ))


def run_gridwatch(files: Sequence[CameraFiles], spec: DistrictSpec, *, gated: bool) -> SystemRun:
    """Every camera at once through CameraAnalysis and one shared batcher (see the module docstring)."""
    model = _model(spec)
    batcher = DynamicBatcher(model, model.cfg.batch).start()
    geometry, config = {"fire": ModelGeometry.of(model.info)}, fire_config(spec, gated)
    starts: dict[str, list[Start]] = {}
    frames = Counter[str]()
    gates: dict[str, GateStats] = {}
    change_cpu_s, detector_cpu_s, change_frames = 0.0, 0.0, 0
    errors: list[Exception] = []
    lock = threading.Lock()
    warm = _Warmup(len(files), spec.warmup_s)

    def camera(cf: CameraFiles) -> None:
        nonlocal change_cpu_s, change_frames, detector_cpu_s
        cam = cf.camera.name

        def infer(_model: str, frame: Frame) -> Detections:
            return batcher.submit(cam, frame.image).result()

        def submit(_model: str, image: NDArray[np.uint8], hw: tuple[int, int] | None) -> Future[Detections]:
            return batcher.submit(cam, image, input_hw=hw)

        det = FireDetector(config, class_names=dict(model.info.names), camera_id=cam)
        analysis = CameraAnalysis(cam, [det], infer, GatedInference(submit, geometry))
        events: list[Event] = []
        last = T0
        try:
            for frame in iter_file_frames(cf.video, cam, analysis_fps=spec.analysis_fps, decode_threads=1,
                                          start_utc_s=T0):
                warm.at(cam, frame.pts_s, analysis)
                events += analysis.analyse(frame)
                last = frame.captured_at
            warm.at(cam, float("inf"), analysis)
            events += analysis.flush(last)
        except Exception as exc:  # noqa: BLE001 - raised after the join; one camera never stops the others
            with lock:
                errors.append(exc)
            warm.fail()  # the others go on; the run fails after the join
            return
        with lock:
            starts[cam] = _starts(events, cam)
            frames[cam] = analysis.frames_analysed
            gates[cam] = analysis.gate_stats()["fire"]
            change_cpu_s += analysis.times.change_cpu_total_s  # CPU: wall time grows with the machine's load
            change_frames += len(analysis.times.drain_change())
            detector_cpu_s += analysis.times.detector_cpu_total_s

    load0 = os.getloadavg()[0]
    cpu0, wall0 = time.process_time(), time.perf_counter()
    threads = [threading.Thread(target=camera, args=(cf,), name=f"bench-{cf.camera.name}") for cf in files]
    for t in threads:
        t.start()
    cpu_warm = warm.cpu_s()
    for t in threads:
        t.join()
    cpu_end, wall = time.process_time(), time.perf_counter() - wall0
    batcher.stop(10.0)
    if errors:
        raise RuntimeError(f"district bench: {len(errors)} camera(s) failed: {errors[0]!r}") from errors[0]
    total = _total(gates.values())
    after = None if cpu_warm is None else AfterWarmup(cpu_end - cpu_warm, _after_warmup_s(files, spec),
                                                      _minus(total, _total(warm.gates.values())))
    return SystemRun(GRIDWATCH_GATED if gated else GRIDWATCH_UNGATED, starts, cpu_end - cpu0, wall,
                     sum(frames.values()), sum(cf.camera.clip.duration_s for cf in files),
                     detector_cpu_s=detector_cpu_s, gate=total, camera_gates=gates, after_warmup=after,
                     change_ms_per_frame=round(1000.0 * change_cpu_s / change_frames, 3) if change_frames else None,
                     load_avg=(load0, os.getloadavg()[0]))


class _Warmup:
    """Where every camera thread of a gridwatch run has reached `warmup_s`: each waits there for the others
    (and the main thread, which reads the process CPU then), with its answers in, so nothing is in flight."""

    def __init__(self, cameras: int, warmup_s: float) -> None:
        self.warmup_s = warmup_s
        self.gates: dict[str, GateStats] = {}
        """Each camera's gate counters at the warm-up (for the after-warm-up model input share)."""
        self._barrier = threading.Barrier(cameras + 1)
        self._lock = threading.Lock()

    def at(self, camera: str, pts_s: float, analysis: CameraAnalysis) -> None:
        """A camera's next frame is at `pts_s` (inf: its clip ended): wait there once it passes `warmup_s`."""
        if pts_s < self.warmup_s or camera in self.gates:
            return
        with self._lock:
            self.gates[camera] = analysis.gate_stats().get("fire", GateStats())
        try:
            self._barrier.wait()
        except threading.BrokenBarrierError:  # another camera failed: the run fails after the join
            return

    def fail(self) -> None:
        """A camera failed: nobody waits for it."""
        self._barrier.abort()

    def cpu_s(self) -> float | None:
        """(Main thread) the process CPU once every camera reached the warm-up; None if one failed first."""
        try:
            self._barrier.wait()
        except threading.BrokenBarrierError:
            return None
        return time.process_time()


def _after_warmup_s(files: Sequence[CameraFiles], spec: DistrictSpec) -> float:
    """Camera-seconds of video from `warmup_s` on."""
    return sum(max(0.0, cf.camera.clip.duration_s - spec.warmup_s) for cf in files)


def _minus(end: GateStats, start: GateStats) -> GateStats:
    """The model input counters of the frames between two snapshots (for the after-warm-up share)."""
    return GateStats(input_px=end.input_px - start.input_px,
                     full_frame_input_px=end.full_frame_input_px - start.full_frame_input_px)


def _total(gates: Iterable[GateStats]) -> GateStats:
    """Every camera's gate counters summed."""
    total = GateStats()
    for g in gates:
        total.frames.update(g.frames)
        total.regions += g.regions
        total.cues_rested += g.cues_rested
        total.reused += g.reused
        total.incidents_held += g.incidents_held
        total.incident_looks += g.incident_looks
        total.input_px += g.input_px
        total.full_frame_input_px += g.full_frame_input_px
    return total


def _ultralytics_predictor(spec: DistrictSpec) -> Any:
    """Ultralytics' YOLO on the bench model with our session options swapped in (as `bench compare`)."""
    from ultralytics.models.yolo.model import YOLO  # noqa: PLC0415 (optional `export` extra)

    yolo = YOLO(str(spec.model), task="detect")
    yolo.predict(np.zeros((64, 64, 3), np.uint8), imgsz=spec.imgsz, verbose=False)  # builds the predictor
    backend = getattr(getattr(getattr(yolo, "predictor", None), "model", None), "backend", None)
    cfg = ModelConfig(name="ul", path=spec.model, intra_op_threads=spec.threads, spin_wait=False,
                      providers=list(spec.providers), trt_cache_dir=spec.trt_cache_dir)
    session, _ = create_session(spec.model, cfg)
    if backend is not None and hasattr(backend, "session"):
        backend.session = session
    else:
        log.warning("Ultralytics' ONNX Runtime session could not be swapped; it keeps its own options")
    return yolo


def run_ultralytics(files: Sequence[CameraFiles], spec: DistrictSpec) -> SystemRun:
    """Each camera through `YOLO.predict(stream=True, vid_stride=k)`, then the same fire detector."""
    os.environ.setdefault("OPENCV_FFMPEG_CAPTURE_OPTIONS", "threads;1")
    yolo = _ultralytics_predictor(spec)
    names = {int(k): str(v) for k, v in yolo.names.items()}
    config = fire_config(spec, gated=False)
    starts: dict[str, list[Start]] = {}
    frames = 0
    det_cpu = 0.0
    warm_cpu = 0.0
    load0 = os.getloadavg()[0]
    cpu0, wall0 = time.process_time(), time.perf_counter()
    for cf in files:
        cam = cf.camera.name
        det = FireDetector(config, class_names=names, camera_id=cam)
        events: list[Event] = []
        fps = cf.camera.clip.fps
        results = yolo.predict(source=str(cf.video), stream=True, vid_stride=spec.vid_stride, imgsz=spec.imgsz,
                               conf=0.25, iou=0.7, verbose=False)
        last = T0
        ended = time.process_time()
        for i, r in enumerate(results):
            pts = ((i + 1) * spec.vid_stride - 1) / fps  # Ultralytics grabs k frames, then returns the k-th
            boxes = r.boxes
            dets = Detections.from_arrays(boxes.xyxy.cpu().numpy(), boxes.conf.cpu().numpy(), boxes.cls.cpu().numpy())
            t0 = time.process_time()
            frame = Frame(cam, i, T0 + pts, pts, np.ascontiguousarray(r.orig_img))
            events += det.process(frame, dets)
            det_cpu += time.process_time() - t0
            last = frame.captured_at
            frames += 1
            now = time.process_time()
            if pts >= spec.warmup_s:  # this frame's grab, decode, predict and detector
                warm_cpu += now - ended
            ended = now
        events += det.flush(last)
        starts[cam] = _starts(events, cam)
    cpu, wall = time.process_time() - cpu0, time.perf_counter() - wall0
    return SystemRun(ULTRALYTICS, starts, cpu, wall, frames, sum(cf.camera.clip.duration_s for cf in files),
                     detector_cpu_s=det_cpu, load_avg=(load0, os.getloadavg()[0]),
                     after_warmup=AfterWarmup(warm_cpu, _after_warmup_s(files, spec)))


def run(spec: DistrictSpec, *, out_dir: Path | None = Path("var/bench/district"),
        progress: bool = False) -> dict[str, Any]:
    """Make (or reuse) the clips, run each system, score, and write district.json/.md/.png."""
    cameras = district(spec.cameras, spec.seed, spec.width, spec.height, spec.duration_s)
    files = write_district(cameras, spec.clips_dir)
    runs = [run_gridwatch(files, spec, gated=True)]
    if spec.ungated:
        runs.append(run_gridwatch(files, spec, gated=False))
    if spec.ultralytics:
        runs.append(run_ultralytics(files, spec))
    rows: list[dict[str, Any]] = []
    per_camera: list[dict[str, Any]] = []
    for r in runs:
        row, cams = district_report.row(r, files)
        rows.append(row)
        per_camera += cams
    summary = district_report.summary(rows, per_camera)
    kinds = Counter(c.kind for c in cameras)
    env = environment(spec.model)
    env.update(spec={k: str(v) for k, v in asdict(spec).items()}, mix=dict(kinds), tuning_seeds=list(TUNING_SEEDS),
               load_avg_1m_end=os.getloadavg()[0])
    notes = [
        f"{len(cameras)} cameras ({', '.join(f'{n} {k}' for k, n in sorted(kinds.items()))}), seed {spec.seed} "
        f"(gate defaults tuned on seeds {', '.join(map(str, TUNING_SEEDS))}), {spec.width}x{spec.height} at "
        f"{spec.stream_fps:g} fps, {cameras[0].clip.duration_s:g} s each, analysed every {spec.vid_stride}th "
        f"frame ({spec.analysis_fps:.3g} fps) by every system",
        "cameras_per_core = camera-seconds of video / process CPU seconds (all threads: decode, change signal, "
        "inference, detector); a system keeps up with that many cameras on a core that is all theirs",
        f"*_after_warmup: the same from {spec.warmup_s:g} s into every clip on, for every system alike (a "
        "service camera runs for hours: its start, gridwatch's first-frame sweep and change background, "
        "Ultralytics' stream set-up, weighs far more in these clips than in service); recall, time to alert "
        "and false alerts cover the whole clips",
        "Ultralytics: YOLO.predict(source, stream=True, vid_stride=k), same ONNX file, its session swapped for "
        f"ours ({spec.threads} intra-op threads, no spinning), OpenCV decoding with one FFmpeg thread; its "
        "boxes go to the same fire detector (cameras_per_core counts predict and detector, "
        "cameras_per_core_predict_only predict alone)",
        "found = a fire or smoke start at or after ignition on a fire camera; false = any other start",
        "model_input_share = model input pixels spent / what every analysed frame run whole would cost",
        "detector_cpu_ms_per_camera_s = the fire detector's own CPU (cues, tracks, events) per camera-second; "
        "cues_rested = still frames (nothing changed, nothing watched) on which the gated detector's cues "
        "rested (gating.rest_cues_when_still)",
        f"machine load (1 min) {rows[0]['load_avg_1m']} during the first run, {os.getloadavg()[0]:.1f} at the end "
        f"on {os.cpu_count()} cores: CPU time, not wall time, carries the figures",
    ]
    names = {str(v).lower() for v in check_model_file(spec.model, spec.manifest).meta.names.values()}
    if not names & {"fire", "flame", "smoke"}:
        notes.insert(0, f"the model ({spec.model.name}) has no fire or smoke class: every alert comes from the "
                     "weights-free cues, so recall and time to alert say nothing about gating; use trained "
                     "fire/smoke weights (--model) for those figures")
    files_out: list[Path] = []
    if out_dir is not None:
        keys = list(dict.fromkeys(k for r in rows for k in r))  # every system's columns (predict-only is Ultralytics')
        cols = [k for k in keys if k != "paths"] + ["paths"]
        all_rows = [{c: r.get(c, "") for c in cols} for r in rows]
        jpath, mpath = write_report(out_dir, SUITE, env, all_rows, summary=summary, notes=notes)
        district_report.append_cameras(mpath, per_camera)
        pngs = district_report.plot(rows, per_camera, out_dir)
        plots.link_plots(mpath, pngs)
        files_out = [jpath, mpath, *pngs]
        district_report.add_cameras_json(jpath, per_camera)
    return {"rows": rows, "cameras": per_camera, "summary": summary, "environment": env, "notes": notes,
            "files": files_out}
