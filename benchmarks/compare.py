"""`gridwatch bench compare`: gridwatch against what a user would run instead, on the same model and frames.

The question a reviewer asks first is "why not just call Ultralytics?". This suite answers it on the
machine at hand, with one ONNX file, one set of 1920x1080 BGR frames (as cameras send them) and one ONNX
Runtime configuration (threads, spinning) shared by every method, so only the code around the model
differs:

- model only: ONNX Runtime `run` on a ready tensor (batch 1 and batch B): the ceiling;
- gridwatch, per frame and batched: `YoloModel.predict` (letterbox + inference + decode/NMS);
- gridwatch through the cross-camera batcher: B "cameras" submit one frame each to `DynamicBatcher`, as
  the service's analysis threads do, and wait for their detections;
- Ultralytics: `YOLO(model.onnx).predict`, per frame and on a list of B frames, its ONNX Runtime
  session swapped for ours (same options), so the comparison is of the pipelines, not of settings;
- naive loop: per frame, OpenCV letterbox + `blobFromImage` + ONNX Runtime + numpy decode +
  `cv2.dnn.NMSBoxesBatched`, the loop most tutorials write.

All methods use the same input shape (Ultralytics' `predict` letterboxes to the minimal rectangle on
dynamic-shape models, e.g. 640x384 for 16:9 at 640; gridwatch does the same with `rect`), the same
confidence (0.25) and NMS IoU (0.7) thresholds, and their boxes per frame are reported so one can see
they did the same work. The cases of one batch size run call by call in turn (`benchmarks.infer.measure`),
so the ratios between methods share the same moments of background load on a busy machine; throughput
over all calls, from the fastest call (least disturbed), and CPU time per image are all reported.
"""

from __future__ import annotations

import logging
import os
import statistics
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import onnxruntime as ort
from numpy.typing import NDArray

from benchmarks import plots
from benchmarks.infer import FRAME_HW, Case, default_model, make_frames, measure
from benchmarks.progress import steps
from benchmarks.report import environment, markdown_table, write_report
from models.batcher import DynamicBatcher
from models.config import BatcherConfig, ModelConfig
from models.preprocess import Preprocessor, plan_batch
from models.runtime import YoloModel, check_model_file, load_model

log = logging.getLogger(__name__)

SUITE = "compare"
CONF = 0.25
IOU = 0.7
Image = NDArray[np.uint8]
Call = Callable[[int], None]

MODEL_ONLY = "model only (ORT run on a ready tensor)"
GW_PREDICT = "gridwatch YoloModel.predict"
GW_BATCHER = "gridwatch DynamicBatcher (B cameras)"
UL_PREDICT = "Ultralytics YOLO.predict"
NAIVE = "naive OpenCV + ORT loop"


def _cycle(frames: Sequence[Image], batch: int, i: int) -> list[Image]:
    return [frames[(i * batch + k) % len(frames)] for k in range(batch)]


class NaiveDetector:
    """The per-frame loop a tutorial writes: OpenCV letterbox and blob, ORT, numpy decode, OpenCV NMS.

    Written for anchor-head YOLO outputs (B, 4 + classes, anchors) with sigmoid-ed class scores, as
    Ultralytics exports YOLOv8/11 detect models.
    """

    def __init__(self, session: ort.InferenceSession, canvas_hw: tuple[int, int]) -> None:
        self.session = session
        self.input_name = session.get_inputs()[0].name
        self.canvas_hw = canvas_hw

    def __call__(self, image: Image) -> NDArray[np.float32]:
        """(N, 6) rows of x1, y1, x2, y2, score, class in the image's pixels."""
        ch, cw = self.canvas_hw
        h, w = image.shape[:2]
        gain = min(ch / h, cw / w)
        nh, nw = round(h * gain), round(w * gain)
        resized = cv2.resize(image, (nw, nh), interpolation=cv2.INTER_LINEAR)
        top, left = (ch - nh) // 2, (cw - nw) // 2
        canvas = cv2.copyMakeBorder(resized, top, ch - nh - top, left, cw - nw - left, cv2.BORDER_CONSTANT,
                                    value=(114, 114, 114))
        blob = cv2.dnn.blobFromImage(canvas, 1.0 / 255.0, swapRB=True)
        out = np.asarray(self.session.run(None, {self.input_name: blob})[0][0], np.float32).T
        scores = out[:, 4:]
        cls = scores.argmax(1)
        conf = scores[np.arange(len(cls)), cls]
        keep = conf > CONF
        xywh, conf, cls = out[keep, :4], conf[keep], cls[keep]
        if not len(conf):
            return np.zeros((0, 6), np.float32)
        tl = xywh[:, :2] - xywh[:, 2:] / 2
        rects = np.concatenate([tl, xywh[:, 2:]], axis=1)
        idx = np.asarray(cv2.dnn.NMSBoxesBatched(rects.tolist(), conf.tolist(), cls.tolist(), CONF, IOU),
                         np.int64).reshape(-1)[:300]
        x1 = (rects[idx, 0] - left) / gain
        y1 = (rects[idx, 1] - top) / gain
        x2 = x1 + rects[idx, 2] / gain
        y2 = y1 + rects[idx, 3] / gain
        return np.stack([x1, y1, x2, y2, conf[idx], cls[idx].astype(np.float32)], axis=1).astype(np.float32)


def _ultralytics(path: Path, imgsz: int, rect: bool, session: ort.InferenceSession) -> Callable[[list[Image]], int]:
    """A function that runs Ultralytics' predictor on a list of frames and returns the boxes found."""
    from ultralytics.models.yolo.model import YOLO  # noqa: PLC0415 (optional `export` extra)

    yolo = YOLO(str(path), task="detect")

    def predict(images: list[Image]) -> int:
        results: Any = yolo.predict(images, conf=CONF, iou=IOU, imgsz=imgsz, rect=rect,
                                    batch=len(images), verbose=False)
        return int(sum(len(r.boxes) for r in results))

    predict([np.zeros((64, 64, 3), np.uint8)])  # builds the predictor and its backend
    backend = getattr(getattr(getattr(yolo, "predictor", None), "model", None), "backend", None)
    if backend is not None and hasattr(backend, "session"):
        backend.session = session
    else:
        log.warning("Ultralytics' ONNX Runtime session could not be swapped; it keeps its own options")
    return predict


def _model(path: Path, imgsz: int, threads: int, batch: int, rect: bool) -> YoloModel:
    """Our model at `imgsz` (with rect letterboxing) when the export has dynamic shapes; a fixed-shape
    export runs at its own size, square."""
    dynamic = check_model_file(path).layout.static_hw is None
    cfg = ModelConfig(name="compare", path=path, imgsz=(imgsz, imgsz) if dynamic else None,
                      intra_op_threads=threads, spin_wait=False, rect=rect and dynamic, warmup_runs=1,
                      conf_threshold=CONF, iou_threshold=IOU,
                      batch=BatcherConfig(max_batch=batch, max_delay_ms=50.0, max_share=1.0))
    return load_model(cfg)


def _model_only_cases(
    model: YoloModel, pre: Preprocessor, images: Sequence[Image], batch: int, shape: str
) -> list[Case]:
    """The model alone on a ready tensor, at batch 1 and `batch` (where a static batch allows it)."""
    cases: list[Case] = []
    for b in sorted({1, batch}):
        if model.info.static_batch and b > model.info.static_batch:
            continue
        ready = np.array(pre(images[:b])[0])

        def only(_i: int, t: NDArray[np.float32] = ready) -> None:
            model.run_tensor(t)

        cases.append(Case({"method": MODEL_ONLY, "input": shape}, b, only))
    return cases


def _each_batch(method: str, shape: str, batch: int, predict: Callable[[int, int], object]) -> list[Case]:
    """One case per batch size (1 and `batch`) calling `predict(batch_size, call_index)`."""
    cases: list[Case] = []
    for b in sorted({1, batch}):
        def call(i: int, b: int = b) -> None:
            predict(b, i)

        cases.append(Case({"method": method, "input": shape}, b, call))
    return cases


def _cases(
    model: YoloModel, path: Path, images: Sequence[Image], batch: int, ultralytics: bool,
) -> tuple[list[Case], dict[str, float], DynamicBatcher]:
    """The measured cases, and boxes per frame found by each method on the first frames."""
    imgsz = model.info.imgsz[0]
    rect = model.info.rect
    canvas_hw, _ = plan_batch([im.shape[:2] for im in images[:1]], model.info.imgsz, model.info.stride, rect=rect)
    shape = f"{canvas_hw[1]}x{canvas_hw[0]}"
    pre = Preprocessor(model.info.imgsz, model.info.stride, rect=rect, dtype=np.float32)
    probe = list(images[:batch])
    boxes: dict[str, float] = {}
    cases = _model_only_cases(model, pre, images, batch, shape)
    cases += _each_batch(GW_PREDICT, shape, batch, lambda b, i: model.predict(_cycle(images, b, i)))
    boxes[GW_PREDICT] = sum(len(d) for d in model.predict(probe)) / len(probe)

    batcher = DynamicBatcher(model, model.cfg.batch).start()

    def via_batcher(i: int) -> None:
        futures = [batcher.submit(f"cam-{k}", im) for k, im in enumerate(_cycle(images, batch, i))]
        for fut in futures:
            fut.result(timeout=600)

    cases.append(Case({"method": GW_BATCHER, "input": shape}, batch, via_batcher))

    if ultralytics:
        ul = _ultralytics(path, imgsz, rect, model.session)
        cases += _each_batch(UL_PREDICT, shape, batch, lambda b, i: ul(_cycle(images, b, i)))
        boxes[UL_PREDICT] = ul(probe) / len(probe)

    if not model.info.end2end:
        naive = NaiveDetector(model.session, canvas_hw)

        def nv(i: int) -> None:
            naive(images[i % len(images)])

        cases.append(Case({"method": NAIVE, "input": shape}, 1, nv))
        boxes[NAIVE] = sum(len(naive(im)) for im in probe) / len(probe)
    return cases, boxes, batcher


def _rate(rows: Sequence[dict[str, Any]], method: str, batch: int, *, key: str = "img_s") -> float | None:
    for r in rows:
        if r["method"] == method and r["batch"] == batch:
            return float(r[key])
    return None


def _ratios(rows: Sequence[dict[str, Any]], a: tuple[str, int], b: tuple[str, int]) -> dict[str, float] | None:
    """a over b by throughput (all calls), by the fastest call, and by CPU time per image (b's / a's)."""
    ra, rb = (_rate(rows, *a), _rate(rows, *b))
    pa, pb = (_rate(rows, *a, key="img_s_peak"), _rate(rows, *b, key="img_s_peak"))
    ca, cb = (_rate(rows, *a, key="cpu_ms_per_img"), _rate(rows, *b, key="cpu_ms_per_img"))
    if not (ra and rb and pa and pb and ca and cb):
        return None
    return {"throughput": round(ra / rb, 3), "fastest calls": round(pa / pb, 3), "CPU time": round(cb / ca, 3)}


def summarise(rows: Sequence[dict[str, Any]], batch: int) -> dict[str, Any]:
    """The two headline ratios and their details, each by throughput, fastest call and CPU time.

    Every ratio is between cases of the same batch size, which ran call by call in turn (paired):
    `gridwatch / Ultralytics` is gridwatch through the batcher (as the service runs) over Ultralytics'
    predict on a list of the same B frames; `pipeline / model only` is the same gridwatch figure over ONNX
    Runtime alone on a ready tensor of B: the share of the model's ceiling the pipeline keeps. Per-frame
    (batch 1) ratios and the naive loop follow.
    """
    out: dict[str, Any] = {}
    pairs = [
        ("gridwatch / Ultralytics", (GW_BATCHER, batch), (UL_PREDICT, batch)),
        ("pipeline / model only", (GW_BATCHER, batch), (MODEL_ONLY, batch)),
        ("gridwatch / Ultralytics, per frame (batch 1)", (GW_PREDICT, 1), (UL_PREDICT, 1)),
        ("gridwatch / naive loop, per frame (batch 1)", (GW_PREDICT, 1), (NAIVE, 1)),
        ("pipeline / model only, per frame (batch 1)", (GW_PREDICT, 1), (MODEL_ONLY, 1)),
        (f"gridwatch predict / batcher (batch {batch})", (GW_PREDICT, batch), (GW_BATCHER, batch)),
    ]
    for label, a, b in pairs:
        if a == b:
            continue
        r = _ratios(rows, a, b)
        if r is not None:
            out[label] = r["throughput"]
            out[f"{label} (fastest calls)"] = r["fastest calls"]
            out[f"{label} (CPU time)"] = r["CPU time"]
    return out


def _plots(rows: Sequence[dict[str, Any]], out: Path, shape: str) -> list[Path]:
    best = {f"{r['method']}, batch {r['batch']}": float(r["img_s"]) for r in rows}
    series: dict[str, list[tuple[float, float]]] = {}
    for r in rows:
        series.setdefault(str(r["method"]), []).append((float(r["batch"]), float(r["img_s"])))
    batches = sorted({float(r["batch"]) for r in rows})
    return [
        plots.hbars(best, out / "compare_throughput.png", xlabel="images/s (all calls)",
                    title=f"Same model and frames, input {shape}: throughput by method"),
        plots.lines(series, out / "compare_throughput_vs_batch.png", title="Throughput vs batch size",
                    xlabel="batch size", ylabel="images/s", log_x=True, xticks=batches),
    ]


def run(
    model: Path | None = None,
    *,
    imgsz: int = 640,
    batch: int = 4,
    frames: int = 8,
    seconds: float = 20.0,
    threads: int = 2,
    rect: bool = True,
    ultralytics: bool = True,
    out_dir: Path | None = Path("var/bench/compare"),
    progress: bool = False,
) -> dict[str, Any]:
    """Measure every method, `seconds` per batch size; returns {"rows", "summary", "boxes_per_frame",
    "environment", "files"}."""
    path = Path(model) if model is not None else default_model()
    images = make_frames(max(frames, batch))
    gw_model = _model(path, imgsz, threads, batch, rect)
    cases, boxes, batcher = _cases(gw_model, path, images, batch, ultralytics)
    sizes = sorted({c.batch for c in cases})
    try:
        for b in steps(sizes, "compare batch sizes", total=len(sizes), enabled=progress):
            measure([c for c in cases if c.batch == b], seconds)
    finally:
        batcher.stop(10.0)
    rows = [c.result() for c in cases]
    for r in rows:
        found = boxes.get(str(r["method"]))
        r["boxes_per_frame"] = round(found, 1) if found is not None else ""
    summary = summarise(rows, batch)
    shape = str(rows[0]["input"]) if rows else "?"
    env = environment(path, provider=gw_model.info.provider)
    env.update(intra_op_threads=threads, spin_wait=False, imgsz=imgsz, input=shape,
               frames=f"{len(images)} x {FRAME_HW[1]}x{FRAME_HW[0]} BGR", load_avg_1m=os.getloadavg()[0])
    steady = statistics.median(float(r["img_s"]) / float(r["img_s_peak"]) for r in rows) if rows else 1.0
    notes = [
        f"one ONNX Runtime session ({threads} intra-op threads, no spinning) serves every method; "
        "Ultralytics' own session is swapped for it after its predictor is built",
        f"input {shape} for every method (rect letterbox on dynamic-shape models, as Ultralytics' predict "
        f"does); conf {CONF}, NMS IoU {IOU}, at most 300 boxes; boxes_per_frame shows each did the same work",
        "the cases of one batch size ran call by call in turn, so their ratios share background load; img_s = "
        "images / wall time over all calls, img_s_median from the median call, img_s_peak from the fastest "
        "call; cpu_ms_per_img = process CPU time per image (all threads)",
        f"gridwatch / Ultralytics = gridwatch through the batcher over Ultralytics' predict on the same {batch} "
        f"frames; pipeline / model only = the same gridwatch figure over ORT alone on a ready tensor of {batch}; "
        "ratios are only taken between cases of one batch size (paired calls); CPU-time ratios are the "
        "inverse ratio of CPU ms per image",
        f"machine load (1 min) {os.getloadavg()[0]:.1f} at the end on {os.cpu_count()} cores: other processes "
        f"share the CPU (calls ran at {steady:.0%} of the fastest call's speed, median over cases); the "
        "CPU-time ratios are the steadiest",
    ]
    files: list[Path] = []
    if out_dir is not None:
        jpath, mpath = write_report(out_dir, SUITE, env, rows, summary=summary, notes=notes)
        pngs = _plots(rows, Path(out_dir), shape)
        plots.link_plots(mpath, pngs)
        files = [jpath, mpath, *pngs]
    return {"rows": rows, "summary": summary, "boxes_per_frame": boxes, "environment": env, "files": files}


COLUMNS = ("method", "batch", "input", "img_s", "img_s_median", "img_s_peak", "cpu_ms_per_img", "boxes_per_frame",
           "calls")


def table(result: dict[str, Any]) -> str:
    """The rows as a markdown table with the columns that matter."""
    return markdown_table(result["rows"], COLUMNS)
