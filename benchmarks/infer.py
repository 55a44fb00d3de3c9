"""`gridwatch bench infer`: inference throughput, ours against the model alone and against Ultralytics.

On the same machine, model and frames (1920x1080 BGR, as cameras send them) it measures:

- model only: ONNX Runtime `run` on a ready tensor, at batch 1/2/4/8 — the ceiling;
- pipeline: `YoloModel.predict` on raw frames (letterbox + inference + decode/NMS), same batches;
- Ultralytics: `YOLO(model.onnx).predict` on the same frames;
- rectangular input: the pipeline with `rect` (640x384 for 16:9) on the dynamic-shape model;
- INT8: the model quantized by `models.quantize` (calibrated on a video of the same kind of frames).

The cases of one batch size run call by call in turn, so the ratios between them (pipeline vs model
only vs Ultralytics, INT8 vs fp32) share the same background load; wall throughput, the fastest call
and CPU time per image are all reported. Figures are numbers to read, never assertions.

    python -m benchmarks.infer [--model M.onnx] [--seconds 15] [--batches 1 2 4 8] [--out DIR]
    python -m benchmarks.infer --compare old/infer.json new/infer.json
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import statistics
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import onnxruntime as ort
from numpy.typing import NDArray

from benchmarks.report import environment, markdown_table, write_report
from benchmarks.scenarios.video import write_h264
from models.config import BatcherConfig, ModelConfig, Provider
from models.export import export_cached, synthetic_scene
from models.quantize import quantize_int8
from models.runtime import YoloModel, load_model

log = logging.getLogger(__name__)

SUITE = "infer"
FRAME_HW = (1080, 1920)


def default_model() -> Path:
    """yolov8n (dynamic shapes) with the calibrated random head, so decoding and NMS do real work."""
    root = Path(os.environ.get("GRIDWATCH_CACHE", Path.home() / ".cache" / "gridwatch"))
    return export_cached("yolov8n.yaml", root / "models", 640, dynamic=True, demo_scores=True)


def make_frames(count: int, seed: int = 0) -> list[NDArray[np.uint8]]:
    return [synthetic_scene(seed + i, *FRAME_HW) for i in range(count)]


def _cycle(frames: Sequence[NDArray[np.uint8]], batch: int, i: int) -> list[NDArray[np.uint8]]:
    return [frames[(i * batch + k) % len(frames)] for k in range(batch)]


class Case:
    """One measured configuration: a callable that processes `batch` images per call, and its timings."""

    def __init__(self, row: dict[str, Any], batch: int, call: Callable[[int], None]) -> None:
        self.row = row
        self.batch = batch
        self.call = call
        self.wall_s: list[float] = []
        self.cpu_s: list[float] = []

    def once(self) -> None:
        """One timed call (wall and process CPU time)."""
        t0, c0 = time.perf_counter(), time.process_time()
        self.call(len(self.wall_s) + 1)
        self.wall_s.append(time.perf_counter() - t0)
        self.cpu_s.append(time.process_time() - c0)

    def result(self) -> dict[str, Any]:
        images = self.batch * len(self.wall_s)
        return {
            **self.row, "batch": self.batch,
            "img_s": images / sum(self.wall_s),
            "img_s_median": self.batch / statistics.median(self.wall_s),
            "img_s_peak": self.batch / min(self.wall_s),
            "cpu_ms_per_img": 1000.0 * sum(self.cpu_s) / images,
            "calls": len(self.wall_s),
        }


def measure(cases: Sequence[Case], seconds: float, min_calls: int = 5) -> None:
    """Time the cases of each batch size call by call in turn (A, B, C, A, B, C...).

    Cases compared with each other then share the same moments of background load, so their ratios
    hold on a busy machine even when the absolute figures do not.
    """
    for batch in sorted({c.batch for c in cases}):
        group = [c for c in cases if c.batch == batch]
        for case in group:
            case.call(0)  # warm this shape
        t_end = time.perf_counter() + seconds
        while time.perf_counter() < t_end or min(len(c.wall_s) for c in group) < min_calls:
            for case in group:
                case.once()
        log.info("batch %d: %d calls per case", batch, len(group[0].wall_s))


def _model(path: Path, name: str, threads: int, max_batch: int, spin: bool, rect: bool = False,
           providers: Sequence[Provider] = ("cpu",), trt_cache_dir: Path | None = None) -> YoloModel:
    cfg = ModelConfig(name=name, path=path, intra_op_threads=threads, rect=rect, warmup_runs=1, spin_wait=spin,
                      batch=BatcherConfig(max_batch=max_batch), providers=list(providers), trt_cache_dir=trt_cache_dir)
    return load_model(cfg)


def _model_only(model: YoloModel, frames: Sequence[NDArray[np.uint8]], batch: int) -> Callable[[int], None]:
    tensor, _ = model._preprocess(frames[:batch])
    ready = np.array(tensor)  # own copy: the preprocess buffer is reused

    def call(_i: int) -> None:
        model.run_tensor(ready)

    return call


def _pipeline(model: YoloModel, frames: Sequence[NDArray[np.uint8]], batch: int) -> Callable[[int], None]:
    def call(i: int) -> None:
        model.predict(_cycle(frames, batch, i))

    return call


def _ultralytics(
    path: Path, frames: Sequence[NDArray[np.uint8]], batch: int, session: ort.InferenceSession, rect: bool,
) -> Callable[[int], None]:
    """Ultralytics' predictor on the same file, its ONNX Runtime session swapped for ours (same threads and
    spinning), so the comparison is of the pipelines around the model, not of settings.

    With `rect` (Ultralytics' default) a batch of same-shape frames on a dynamic model is letterboxed to
    the minimal rectangle, like our `rect`; without it, to the full square, like ours by default.
    """
    from ultralytics.models.yolo.model import YOLO  # noqa: PLC0415 (optional `export` extra)

    yolo = YOLO(str(path), task="detect")

    def call(i: int) -> None:
        yolo.predict(_cycle(frames, batch, i), conf=0.25, iou=0.7, imgsz=640, rect=rect, verbose=False)

    call(0)  # builds the predictor and its backend
    predictor: Any = yolo.predictor
    predictor.model.backend.session = session
    return call


def _int8_model(
    path: Path, out_dir: Path, calibration_video: Path | None, frames: int,
) -> tuple[Path, dict[str, Any]]:
    target = out_dir / f"{path.stem}.int8.onnx"
    with tempfile.TemporaryDirectory(prefix="gw-bench-") as tmp:
        video = calibration_video
        if video is None:
            video = Path(tmp) / "calibration.mp4"
            write_h264(video, (synthetic_scene(1000 + i, *FRAME_HW) for i in range(frames)), fps=10)
        report = quantize_int8(path, video, target, frames=frames // 2, eval_frames=frames // 4)
    return target, report.to_dict()


def run(
    model: Path | None = None,
    *,
    batches: Sequence[int] = (1, 2, 4, 8),
    seconds: float = 15.0,
    threads: int = 2,
    spin: bool = False,
    frames: int = 8,
    int8: bool = True,
    rect: bool = True,
    ultralytics: bool = True,
    calibration_video: Path | None = None,
    out_dir: Path | None = Path("out/bench"),
    providers: Sequence[Provider] = ("cpu",),
    trt_cache_dir: Path | None = None,
) -> dict[str, Any]:
    """Run the suite; returns {"rows", "summary", "environment", "quantize"} and writes infer.json/.md.

    `providers` (e.g. ["tensorrt", "cuda"] on a GPU node; I/O binding is used there) run every gridwatch
    case; the provider actually used is in the environment.
    """
    path = Path(model) if model is not None else default_model()
    images = make_frames(frames)
    max_b = max(batches)
    fp32 = _model(path, "fp32", threads, max_b, spin, providers=providers, trt_cache_dir=trt_cache_dir)
    cases: list[Case] = []

    def add_pair(variant: str, model: YoloModel) -> None:
        for b in batches:
            cases.append(Case({"variant": variant, "stage": "model only"}, b, _model_only(model, images, b)))
            cases.append(Case({"variant": variant, "stage": "pipeline"}, b, _pipeline(model, images, b)))

    add_pair("fp32 640x640", fp32)
    square_and_rect = [("fp32 640x640", False)]
    if rect and fp32.info.dynamic_hw:
        add_pair("fp32 rect 640x384", _model(path, "fp32-rect", threads, max_b, spin, rect=True, providers=providers,
                                             trt_cache_dir=trt_cache_dir))
        square_and_rect.append(("fp32 rect 640x384", True))
    if ultralytics:
        for variant, ul_rect in square_and_rect:
            for b in sorted({min(batches), max_b}):
                cases.append(Case({"variant": variant, "stage": "ultralytics predict"}, b,
                                  _ultralytics(path, images, b, fp32.session, ul_rect)))
    quant: dict[str, Any] = {}
    if int8:
        work = Path(out_dir) if out_dir is not None else Path(tempfile.mkdtemp(prefix="gw-bench-"))
        work.mkdir(parents=True, exist_ok=True)
        q_path, quant = _int8_model(path, work, calibration_video, 4 * frames)
        add_pair("int8 640x640", _model(q_path, "int8", threads, max_b, spin, providers=providers,
                                        trt_cache_dir=trt_cache_dir))
    measure(cases, seconds)
    rows = [c.result() for c in cases]
    summary = _summary(rows, max_b)
    env = environment(path, provider=fp32.info.provider)
    env.update(intra_op_threads=threads, spin_wait=spin, frames=f"{frames} x {FRAME_HW[1]}x{FRAME_HW[0]} BGR",
               load_avg_1m=os.getloadavg()[0])
    notes = [
        "Cases of one batch size run call by call in turn (paired), so their ratios share background load. "
        "img_s = images / wall time; img_s_median from the median call; img_s_peak from the fastest call "
        "(least disturbed by other work); cpu_ms_per_img = process CPU time per image, all threads.",
        "pipeline = letterbox + inference + decode/NMS on raw 1920x1080 frames; model only = ONNX Runtime "
        "run on a ready tensor.",
        "model: yolov8n architecture with seeded random weights and a calibrated head (real compute; the "
        "boxes it finds are meaningless but numerous, so NMS does real work).",
    ]
    if out_dir is not None:
        write_report(out_dir, SUITE, env, rows, summary=summary, notes=notes)
    return {"rows": rows, "summary": summary, "environment": env, "quantize": quant}


def _value(rows: Sequence[dict[str, Any]], variant: str, stage: str, batch: int, key: str) -> float | None:
    for r in rows:
        if r["variant"] == variant and r["stage"] == stage and r["batch"] == batch:
            return float(r[key])
    return None


def _summary(rows: Sequence[dict[str, Any]], max_b: int) -> dict[str, Any]:
    """Speed ratios (> 1: the first is faster) from wall throughput, the fastest call and CPU time.

    On a machine shared with other work the fastest-call and CPU-time ratios are the steadier ones.
    """
    out: dict[str, Any] = {}
    base = "fp32 640x640"
    pairs = [
        ("pipeline / model only (fp32)", (base, "pipeline"), (base, "model only")),
        ("pipeline / ultralytics predict (fp32 640x640)", (base, "pipeline"), (base, "ultralytics predict")),
        ("pipeline / ultralytics predict (fp32 rect)", ("fp32 rect 640x384", "pipeline"),
         ("fp32 rect 640x384", "ultralytics predict")),
        ("int8 / fp32 model only", ("int8 640x640", "model only"), (base, "model only")),
        ("int8 / fp32 pipeline", ("int8 640x640", "pipeline"), (base, "pipeline")),
        ("rect 640x384 / 640x640 pipeline", ("fp32 rect 640x384", "pipeline"), (base, "pipeline")),
    ]
    for label, (va, sa), (vb, sb) in pairs:
        a, b = _value(rows, va, sa, max_b, "img_s"), _value(rows, vb, sb, max_b, "img_s")
        pa, pb = _value(rows, va, sa, max_b, "img_s_peak"), _value(rows, vb, sb, max_b, "img_s_peak")
        ca, cb = (_value(rows, va, sa, max_b, "cpu_ms_per_img"), _value(rows, vb, sb, max_b, "cpu_ms_per_img"))
        if a and b and pa and pb and ca and cb:
            out[f"{label}, batch {max_b}"] = (
                f"{a / b:.3f} (wall), {pa / pb:.3f} (fastest call), {cb / ca:.3f} (CPU time)"
            )
    return out


def compare(before: str | Path, after: str | Path) -> str:
    """Markdown table of two infer.json reports side by side (img/s and after/before)."""
    a = json.loads(Path(before).read_text(encoding="utf-8"))
    b = json.loads(Path(after).read_text(encoding="utf-8"))
    index = {(r["variant"], r["stage"], r["batch"]): r for r in a["rows"]}
    rows = []
    for r in b["rows"]:
        old = index.get((r["variant"], r["stage"], r["batch"]))
        rows.append({
            "variant": r["variant"], "stage": r["stage"], "batch": r["batch"],
            "before img/s": old["img_s"] if old else "", "after img/s": r["img_s"],
            "after/before": round(r["img_s"] / old["img_s"], 3) if old else "",
        })
    head = f"before: {a['environment'].get('git_commit')}, after: {b['environment'].get('git_commit')}\n\n"
    return head + markdown_table(rows)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.infer", description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", type=Path, help="ONNX model (default: cached demo yolov8n, dynamic)")
    parser.add_argument("--batches", type=int, nargs="+", default=[1, 2, 4, 8])
    parser.add_argument("--seconds", type=float, default=15.0,
                        help="measuring time per batch size (its cases run in turn)")
    parser.add_argument("--threads", type=int, default=2, help="ONNX Runtime intra-op threads")
    parser.add_argument("--spin", action="store_true", help="let ONNX Runtime threads spin-wait")
    parser.add_argument("--calibrate", type=Path, help="video for INT8 calibration (default: generated)")
    parser.add_argument("--no-int8", action="store_true")
    parser.add_argument("--no-rect", action="store_true")
    parser.add_argument("--no-ultralytics", action="store_true")
    parser.add_argument("--out", type=Path, default=Path("out/bench"), help="report directory (default out/bench)")
    parser.add_argument("--compare", type=Path, nargs=2, metavar=("BEFORE", "AFTER"))
    args = parser.parse_args(argv)
    if args.compare:
        print(compare(*args.compare))
        return 0
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    result = run(
        args.model, batches=args.batches, seconds=args.seconds, threads=args.threads,
        spin=args.spin,
        int8=not args.no_int8, rect=not args.no_rect, ultralytics=not args.no_ultralytics,
        calibration_video=args.calibrate, out_dir=args.out,
    )
    cols = ["variant", "stage", "batch", "img_s", "img_s_median", "img_s_peak", "cpu_ms_per_img", "calls"]
    print(markdown_table(result["rows"], cols))
    for key, value in result["summary"].items():
        print(f"- {key}: {value}")
    if result["quantize"]:
        agreement = result["quantize"]["agreement"]
        print(f"- int8 agreement with fp32: recall {agreement['recall']:.3f}, "
              f"precision {agreement['precision']:.3f}, mean IoU {agreement['mean_iou']:.3f} "
              f"on {agreement['frames']} frames")
    print(f"- providers available: {', '.join(ort.get_available_providers())}; report in {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
