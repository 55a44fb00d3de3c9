"""`gridwatch models quantize MODEL.onnx --calibrate VIDEO`: static INT8 for CPU nodes, checked against fp32.

ONNX Runtime static quantization (QDQ, int8 weights per channel, uint8 activations calibrated by min/max
on frames from a real video of the site, read with PyAV and letterboxed exactly as at inference). The
whole network runs in int8, activations included (SiLU's Sigmoid and Mul too: leaving them in float
puts a dequantize/quantize pair around every layer and was slower than fp32 here), except the detect
head's last layers and the box/score decoding after them, which stay in float: one int8 scale cannot
span 0-640 px and 0-1 scores.

The report says how far the INT8 model agrees with the fp32 one on held-out frames of the same video
(boxes matched by class and IoU), so an operator sees the accuracy cost next to the speed gain that
`gridwatch bench infer` measures.
"""

from __future__ import annotations

import json
import logging
import tempfile
import time
from collections.abc import Iterator, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Literal

import av
import numpy as np
import onnx
from numpy.typing import NDArray
from onnxruntime.quantization import (
    CalibrationDataReader,
    CalibrationMethod,
    QuantFormat,
    QuantType,
    quantize_static,
)
from onnxruntime.quantization.shape_inference import quant_pre_process

from foundation.errors import ModelError
from models.config import ModelConfig
from models.detections import Detections
from models.preprocess import Preprocessor
from models.providers import ORT_ERRORS
from models.quantize_head import WEIGHTED_OPS, detect_module_nodes, float_head_nodes
from models.runtime import YoloModel, check_model_file, load_model

log = logging.getLogger(__name__)

AGREEMENT_KEY = "gridwatch_int8_agreement"
"""ONNX metadata key of the INT8 model's agreement with its fp32 original (JSON of BoxAgreement + settings)."""
CALIBRATION_METHODS = {
    "minmax": CalibrationMethod.MinMax,
    "percentile": CalibrationMethod.Percentile,
    "entropy": CalibrationMethod.Entropy,
}


@dataclass(frozen=True)
class BoxAgreement:
    """How well a test model's boxes agree with a reference model's on the same frames."""

    frames: int
    reference_boxes: int
    test_boxes: int
    matched: int
    recall: float
    precision: float
    mean_iou: float
    mean_abs_score_diff: float


@dataclass(frozen=True)
class QuantizeReport:
    """What `quantize_int8` did and how the result compares with the fp32 model."""

    model: Path
    output: Path
    calibration: str
    calibration_frames: int
    eval_frames: int
    quantized_nodes: int
    float_nodes_kept: tuple[str, ...]
    seconds: float
    agreement: BoxAgreement
    conf_threshold: float = 0.25
    iou_match: float = 0.5

    def to_dict(self) -> dict[str, Any]:
        out = asdict(self)
        for key in ("model", "output"):
            out[key] = str(out[key])
        out["float_nodes_kept"] = list(self.float_nodes_kept)
        return out


def read_video_frames(path: str | Path, count: int) -> list[NDArray[np.uint8]]:
    """Up to `count` BGR frames spread evenly over a video (PyAV/FFmpeg decode)."""
    p = Path(path)
    if not p.is_file():
        raise ModelError(f"{p}: calibration video not found")
    frames: list[NDArray[np.uint8]] = []
    try:
        with av.open(str(p)) as container:
            if not container.streams.video:
                raise ModelError(f"{p}: no video stream")
            stream = container.streams.video[0]
            total = int(stream.frames or 0)
            step = max(1, total // count) if total else 1
            for i, frame in enumerate(container.decode(stream)):
                if i % step == 0:
                    frames.append(np.asarray(frame.to_ndarray(format="bgr24"), np.uint8))
                    if len(frames) >= count:
                        break
    except av.FFmpegError as exc:
        raise ModelError(f"{p}: cannot decode calibration video: {exc}") from exc
    if not frames:
        raise ModelError(f"{p}: no decodable frames")
    return frames


class _FrameReader(CalibrationDataReader):  # type: ignore[misc]
    """Feeds letterboxed calibration frames to ONNX Runtime's calibrator, one per call; `set_range` lets
    the calibrator take them in strides (bounded memory, see `_extra_options`)."""

    def __init__(self, frames: Sequence[NDArray[np.uint8]], pre: Preprocessor, input_name: str) -> None:
        self._frames = list(frames)
        self._iter: Iterator[NDArray[np.uint8]] = iter(self._frames)
        self._pre = pre
        self._input = input_name

    def __len__(self) -> int:
        return len(self._frames)

    def set_range(self, start_index: int, end_index: int) -> None:
        self._iter = iter(self._frames[start_index:end_index])

    def get_next(self) -> dict[str, NDArray[np.floating]] | None:
        frame = next(self._iter, None)
        if frame is None:
            return None
        tensor, _ = self._pre([frame])
        return {self._input: tensor.copy()}


def _iou_matrix(a: NDArray[np.float32], b: NDArray[np.float32]) -> NDArray[np.float32]:
    lt = np.maximum(a[:, None, :2], b[None, :, :2])
    rb = np.minimum(a[:, None, 2:], b[None, :, 2:])
    inter = np.prod(np.clip(rb - lt, 0, None), axis=2)
    area_a = np.prod(a[:, 2:] - a[:, :2], axis=1)
    area_b = np.prod(b[:, 2:] - b[:, :2], axis=1)
    union = area_a[:, None] + area_b[None, :] - inter
    return np.asarray(inter / np.maximum(union, 1e-9), np.float32)


def box_agreement(
    reference: Sequence[Detections], test: Sequence[Detections], iou_match: float = 0.5,
) -> BoxAgreement:
    """Match boxes per frame (same class, IoU >= iou_match, best pairs first) and summarise."""
    ref_n = test_n = matched = 0
    ious: list[float] = []
    score_diffs: list[float] = []
    for ref, tst in zip(reference, test, strict=True):
        ref_n, test_n = ref_n + len(ref), test_n + len(tst)
        if not len(ref) or not len(tst):
            continue
        iou = _iou_matrix(ref.xyxy, tst.xyxy)
        iou[ref.class_id[:, None] != tst.class_id[None, :]] = 0.0
        pairs = np.argwhere(iou >= iou_match)
        order = np.argsort(-iou[pairs[:, 0], pairs[:, 1]], kind="stable")
        used_r: set[int] = set()
        used_t: set[int] = set()
        for r, t in pairs[order].tolist():  # offline report, not a hot path
            if r in used_r or t in used_t:
                continue
            used_r.add(r)
            used_t.add(t)
            ious.append(float(iou[r, t]))
            score_diffs.append(abs(float(ref.confidence[r]) - float(tst.confidence[t])))
        matched += len(used_r)
    return BoxAgreement(
        frames=len(reference), reference_boxes=ref_n, test_boxes=test_n, matched=matched,
        recall=matched / ref_n if ref_n else 1.0, precision=matched / test_n if test_n else 1.0,
        mean_iou=float(np.mean(ious)) if ious else 0.0,
        mean_abs_score_diff=float(np.mean(score_diffs)) if score_diffs else 0.0,
    )


Frames = list[NDArray[np.uint8]]


def _split(frames: Frames, eval_frames: int) -> tuple[Frames, Frames]:
    """Interleaved split so held-out frames span the whole video, like the calibration ones."""
    n_eval = min(eval_frames, len(frames) // 2)
    eval_idx = set(np.linspace(0, len(frames) - 1, n_eval).round().astype(int).tolist()) if n_eval else set()
    calib = [f for i, f in enumerate(frames) if i not in eval_idx]
    held = [f for i, f in enumerate(frames) if i in eval_idx]
    return calib, held


def quantize_int8(
    model_path: str | Path,
    calibration_video: str | Path,
    out_path: str | Path | None = None,
    *,
    frames: int = 64,
    eval_frames: int = 16,
    conf_threshold: float = 0.25,
    iou_match: float = 0.5,
    keep_head_float: bool = True,
    per_channel: bool = True,
    method: Literal["minmax", "percentile", "entropy"] = "minmax",
) -> QuantizeReport:
    """Write an INT8 copy of an Ultralytics detect model and report its agreement with the original.

    `frames` calibrate the activation ranges (`method`: min/max of what they show, or a percentile /
    entropy rule that ignores outliers); `eval_frames` other frames of the same video measure the
    agreement. The output defaults to MODEL.int8.onnx next to the model.
    """
    check_model_file(model_path)  # a bad model is named before minutes of decoding
    sampled = read_video_frames(calibration_video, frames + eval_frames)
    calib, held = _split(sampled, eval_frames)
    return quantize_frames(
        model_path, calib, held, out_path, calibration_name=str(calibration_video),
        conf_threshold=conf_threshold, iou_match=iou_match, keep_head_float=keep_head_float,
        per_channel=per_channel, method=method,
    )


def quantize_frames(
    model_path: str | Path,
    calibrate: Sequence[NDArray[np.uint8]],
    held_out: Sequence[NDArray[np.uint8]],
    out_path: str | Path | None = None,
    *,
    calibration_name: str = "frames",
    conf_threshold: float = 0.25,
    iou_match: float = 0.5,
    keep_head_float: bool = True,
    keep_detect_float: bool = False,
    per_channel: bool = True,
    method: Literal["minmax", "percentile", "entropy"] = "minmax",
) -> QuantizeReport:
    """`quantize_int8` on given BGR frames: `calibrate` set the ranges, `held_out` measure the agreement.

    `keep_detect_float` keeps the whole Detect module in float (see `detect_module_nodes`), not only its
    last layers. The agreement is also written into the INT8 file's metadata (`AGREEMENT_KEY`, JSON), so it travels
    with the model and a runtime can check it.
    """
    t0 = time.perf_counter()
    src = Path(model_path)
    checked = check_model_file(src)
    if checked.layout.input.dtype != "float32":
        raise ModelError(f"{src}: quantize a float32 export (this one takes {checked.layout.input.dtype})")
    if not calibrate:
        raise ModelError(f"{src}: no calibration frames")
    out = Path(out_path) if out_path is not None else src.with_suffix(".int8.onnx")
    if method == "minmax":  # strides must divide the frames: the few left over are not used
        calibrate = list(calibrate)[: len(calibrate) - len(calibrate) % _stride(len(calibrate))]
    meta = checked.meta
    imgsz = checked.layout.static_hw or meta.imgsz
    pre = Preprocessor(imgsz, meta.stride, rect=False, dtype=np.float32)
    with tempfile.TemporaryDirectory(prefix="gw-quant-") as tmp:
        prepared = Path(tmp) / "prepared.onnx"
        try:
            quant_pre_process(str(src), str(prepared), skip_symbolic_shape=True)
            graph = onnx.load(str(prepared), load_external_data=False)
            keep_float = (
                detect_module_nodes(graph) if keep_detect_float else float_head_nodes(graph) if keep_head_float
                else []
            )
            weighted = [n.name for n in graph.graph.node if n.op_type in WEIGHTED_OPS]
            quantize_static(
                str(prepared), str(out), _FrameReader(calibrate, pre, checked.layout.input.name),
                quant_format=QuantFormat.QDQ, activation_type=QuantType.QUInt8, weight_type=QuantType.QInt8,
                per_channel=per_channel, calibrate_method=CALIBRATION_METHODS[method],
                nodes_to_exclude=keep_float, extra_options=_extra_options(method, len(calibrate)),
            )
        except (*ORT_ERRORS, OSError, onnx.checker.ValidationError) as exc:  # type: ignore[misc]
            raise ModelError(f"{src}: INT8 quantization failed: {exc}") from exc
    agreement = _agreement(src, out, held_out, conf_threshold, iou_match)
    _copy_metadata(src, out, {AGREEMENT_KEY: json.dumps(
        {**asdict(agreement), "iou_match": iou_match, "conf_threshold": conf_threshold,
         "calibration": calibration_name}
    )})
    report = QuantizeReport(
        model=src, output=out, calibration=calibration_name, calibration_frames=len(calibrate),
        eval_frames=len(held_out), quantized_nodes=len([n for n in weighted if n not in set(keep_float)]),
        float_nodes_kept=tuple(keep_float), seconds=time.perf_counter() - t0, agreement=agreement,
        conf_threshold=conf_threshold, iou_match=iou_match,
    )
    log.info("quantized %s -> %s: %d weighted layers int8, recall %.3f precision %.3f vs fp32 on %d frames",
             src, out, report.quantized_nodes, agreement.recall, agreement.precision, agreement.frames)
    return report


CALIB_STRIDE = 8
"""Min/max calibration takes frames in strides of this many and merges the ranges of each stride, instead
of keeping every activation of every frame in memory (hundreds of MB per 640x640 frame for a YOLO).

ONNX Runtime's `CalibStridedMinMax` does this (`CalibMaxIntermediateOutputs` does not: in ORT 1.2x it
drops each full batch without computing its ranges, so only the last partial batch calibrated)."""


def _stride(frames: int) -> int:
    return CALIB_STRIDE if frames >= CALIB_STRIDE else frames


def _extra_options(method: str, frames: int) -> dict[str, object]:
    options: dict[str, object] = {"ActivationSymmetric": False}
    if method == "minmax":
        options["CalibStridedMinMax"] = _stride(frames)
    return options


def _copy_metadata(src: Path, out: Path, extra: dict[str, str] | None = None) -> None:
    """quantize_static drops nothing but may reorder; make sure Ultralytics metadata (and `extra`) is on
    the output."""
    original = {p.key: p.value for p in onnx.load(str(src), load_external_data=False).metadata_props}
    original.update(extra or {})
    model = onnx.load(str(out))
    present = {p.key: p for p in model.metadata_props}
    changed = False
    for key, value in original.items():
        prop = present.get(key)
        if prop is None:
            prop = model.metadata_props.add()
            prop.key = key
        if prop.value != value:
            prop.value = value
            changed = True
    if changed:
        onnx.save(model, str(out))


def _agreement(
    src: Path, out: Path, frames: Sequence[NDArray[np.uint8]], conf_threshold: float, iou_match: float,
) -> BoxAgreement:
    if not frames:
        return box_agreement([], [], iou_match)
    models: list[YoloModel] = [
        load_model(ModelConfig(name=name, path=path, conf_threshold=conf_threshold), warmup=False)
        for name, path in (("fp32", src), ("int8", out))
    ]
    ref = models[0].predict(frames)
    tst = models[1].predict(frames)
    return box_agreement(ref, tst, iou_match)
