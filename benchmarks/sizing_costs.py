"""Per-camera costs for `gridwatch bench size`, read from the reports of earlier `gridwatch bench` runs.

Each figure is taken from a measured report (never invented) and can say how it was derived:

- decode (`decode` suite): core-seconds per camera-second for a resolution, decode mode and analysis rate;
- inference (`compare` suite, else `infer`): CPU milliseconds per image through gridwatch's batched
  pipeline, and of pre/post-processing alone (what stays on the CPU of a GPU node);
- gating (`district` suite): the model input share a gated fire camera spends, and the change signal's CPU;
- the fire detector and the rest of the service per analysed frame (`pipeline` suite), the throw detector
  per frame (`throw` suite);
- memory: a model of frames buffered per camera plus per-camera and per-node bases.

`benchmarks.sizing` turns them into cameras per node and nodes.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from benchmarks.decode import CASES as DECODE_CASES
from benchmarks.decode import FPS as DECODE_FPS
from benchmarks.decode import GOP as DECODE_GOP
from benchmarks.decode import SIZES as DECODE_SIZES
from benchmarks.deployment import StreamSpec
from benchmarks.measured import Report
from foundation.errors import GridwatchError

BUFFERED_FRAMES = 12
"""Decoded frames a camera holds at once: the analysis queue (8 by default) plus decoder and hand-over."""
PER_CAMERA_BASE_MIB = 20.0
"""Decoder context, packet buffers, thread stacks and detector state of one camera."""
PER_NODE_BASE_MIB = 400.0
"""The service itself: Python, ONNX Runtime, the model, the alerts runtime."""
STRIDE = 32


class MissingFiguresError(GridwatchError):
    """The reports needed for this deployment are not all there; `suites` says which to run."""

    def __init__(self, suites: Sequence[str]) -> None:
        super().__init__(f"no measured figures from: {', '.join(suites)}", retryable=False)
        self.suites = list(suites)


def rect_pixels(imgsz: int, width: int, height: int) -> int:
    """Pixels of the model input for a frame letterboxed to `imgsz` with rect padding (to the stride)."""
    long_side, short_side = max(width, height), min(width, height)
    short = math.ceil(imgsz * short_side / long_side / STRIDE) * STRIDE
    return imgsz * short


def _parse_shape(text: str) -> int | None:
    try:
        w, h = (int(v) for v in str(text).lower().split("x"))
    except ValueError:
        return None
    return w * h


class DecodeCosts:
    """Decode cost per camera from the `decode` report, for any resolution, mode and analysis rate."""

    def __init__(self, report: Report) -> None:
        self.report = report
        by_name = {c.name: c for c in DECODE_CASES}
        self.full: dict[str, dict[float, float]] = {}
        self.keyframes: dict[str, float] = {}
        for row in report.rows:
            case = by_name.get(str(row.get("case")))
            if case is None or case.resize is not None or case.clip.endswith("-b"):
                continue
            cores = float(row["cpu_s_per_cam_min"]) / 60.0
            if case.mode.value == "keyframes":
                self.keyframes[case.clip] = cores
            elif case.mode.value == "full":
                self.full.setdefault(case.clip, {})[float(case.analysis_fps or DECODE_FPS)] = cores
        if not self.full:
            raise ValueError(f"{report.path}: no full-decode rows to size from")

    def _nearest(self, pixels: int, clips: Sequence[str]) -> str:
        def px(clip: str) -> int:
            w, h = DECODE_SIZES[clip]
            return w * h

        return min(clips, key=lambda c: abs(math.log(px(c) / pixels)))

    def cost(self, stream: StreamSpec, mode: str, analysis_fps: float) -> tuple[float, str]:
        """(cores per camera, how it was derived)."""
        if mode == "keyframes" and self.keyframes:
            clip = self._nearest(stream.pixels, list(self.keyframes))
            w, h = DECODE_SIZES[clip]
            gop_measured = DECODE_GOP / DECODE_FPS
            cores = self.keyframes[clip] * (stream.pixels / (w * h)) * (gop_measured / stream.gop_s)
            return cores, (f"keyframes-only {clip} ({self.keyframes[clip]:.4f} cores at GOP {gop_measured:g} s), "
                           f"x{stream.pixels / (w * h):.2f} pixels, x{gop_measured / stream.gop_s:.2f} keyframe rate")
        clip = self._nearest(stream.pixels, list(self.full))
        w, h = DECODE_SIZES[clip]
        points = self.full[clip]
        if len(points) >= 2:
            (f1, c1), (f2, c2) = sorted(points.items())[0], sorted(points.items())[-1]
            per_frame = max(0.0, (c2 - c1) / (f2 - f1))
        else:
            (f1, c1), per_frame = next(iter(points.items())), 0.0
        fixed = max(0.0, c1 - per_frame * f1)
        scale = stream.pixels / (w * h)
        cores = (fixed * stream.fps / DECODE_FPS + per_frame * analysis_fps) * scale
        how = (f"{'full' if mode == 'full' else mode + ' (as full)'} {clip}: {fixed:.4f} cores to decode "
               f"{DECODE_FPS} fps + {per_frame * 1000:.2f} mcores per analysed fps, x{scale:.2f} pixels, "
               f"x{stream.fps / DECODE_FPS:.2f} stream rate")
        return cores, how


@dataclass(frozen=True)
class InferenceCosts:
    """CPU ms per image through gridwatch's batched pipeline, and of pre/post-processing alone."""

    cpu_ms: float
    prepost_cpu_ms: float
    input_pixels: int
    source: str

    @classmethod
    def from_reports(cls, reports: dict[str, Report]) -> InferenceCosts:
        compare = reports.get("compare")
        if compare is not None:
            rows = compare.rows
            gw = [r for r in rows if str(r["method"]).startswith("gridwatch DynamicBatcher")]
            if gw:
                best = max(gw, key=lambda r: int(r["batch"]))
                only = [r for r in rows if str(r["method"]).startswith("model only") and r["batch"] == best["batch"]]
                cpu = float(best["cpu_ms_per_img"])
                prepost = cpu - float(only[0]["cpu_ms_per_img"]) if only else cpu
                px = _parse_shape(str(best.get("input", ""))) or 640 * 384
                return cls(cpu, max(0.0, prepost), px,
                           f"compare: gridwatch batcher at batch {best['batch']}, input {best.get('input')}")
        infer = reports.get("infer")
        if infer is not None:
            rows = [r for r in infer.rows if str(r.get("variant", "")).startswith("fp32 640x640")]
            pipe = [r for r in rows if r.get("stage") == "pipeline"]
            if pipe:
                best = max(pipe, key=lambda r: int(r["batch"]))
                only = [r for r in rows if r.get("stage") == "model only" and r["batch"] == best["batch"]]
                cpu = float(best["cpu_ms_per_img"])
                prepost = cpu - float(only[0]["cpu_ms_per_img"]) if only else cpu
                return cls(cpu, max(0.0, prepost), 640 * 640,
                           f"infer: pipeline fp32 640x640 at batch {best['batch']}")
        raise MissingFiguresError(["compare"])


@dataclass(frozen=True)
class GatingFigures:
    """What gated inference saves, measured by `gridwatch bench district` on its mix of cameras."""

    model_share: float
    """Model input spent with gating over what every analysed frame run whole costs."""
    change_ms: float
    """CPU ms per analysed frame for the change signal and region planning."""
    source: str

    @classmethod
    def from_reports(cls, reports: dict[str, Report]) -> GatingFigures | None:
        report = reports.get("district")
        if report is None:
            return None
        rows = [r for r in report.rows if r.get("system") == "gridwatch gated" and r.get("model_input_share")]
        if not rows:
            return None
        row = rows[0]
        mix = report.environment.get("mix", {})
        # A node runs its cameras for hours: the share after the bench's warm-up (each camera's start, its
        # first-frame sweep, left out) is theirs; reports written before it was measured give the whole clips'.
        steady = row.get("model_input_share_after_warmup")
        share = float(steady or row["model_input_share"])
        return cls(share, float(row.get("change_ms_per_frame") or 0.0),
                   f"district: gated model input share {share:.3f}{' after warm-up' if steady else ''} on a mix of "
                   + ", ".join(f"{n} {k}" for k, n in sorted(mix.items())))


def throw_ms(report: Report, width: int) -> tuple[float, float, str]:
    """(detector CPU ms per frame, decode ms per frame as the throw bench saw it, which row)."""
    rows = [r for r in report.rows if r.get("section", "speed") == "speed" and r.get("method") == "difference"]
    rows = rows or [r for r in report.rows if r.get("section", "speed") == "speed"]
    if not rows:
        raise MissingFiguresError(["throw"])
    best = min(rows, key=lambda r: abs(int(r["process_width_px"]) - width))
    return (float(best["detector_ms"]), float(best.get("decode_ms", 0.0)),
            f"throw: {best.get('method')} at {best['process_width_px']} px")


@dataclass(frozen=True)
class FireCosts:
    """The fire detector plus the rest of the service per analysed frame, from the pipeline run."""

    other_ms: float
    measured_rss_mib: float
    modelled_rss_mib: float
    how: str


def fire_costs(reports: dict[str, Report], decode: DecodeCosts, infer: InferenceCosts | None) -> FireCosts:
    report = reports["pipeline"]
    s, spec = report.summary, report.environment.get("pipeline_spec", {})
    total_ms = float(s.get("cpu_ms_per_analysed_frame") or 0.0)
    fps = float(spec.get("analysis_fps") or s.get("target_fps_per_camera") or 1.0)
    stream = StreamSpec(width=int(spec.get("width", 640)), height=int(spec.get("height", 360)),
                        fps=float(spec.get("stream_fps", 25.0)), gop_s=1.0)
    dec_cores, _ = decode.cost(stream, str(spec.get("decode", "full")), fps)
    dec_ms = 1000.0 * dec_cores / fps
    inf_ms = 0.0
    if infer is not None:
        px = rect_pixels(int(spec.get("imgsz", 640)), stream.width, stream.height)
        inf_ms = infer.cpu_ms * px / infer.input_pixels
    other = total_ms - dec_ms - inf_ms
    how = (f"pipeline: {total_ms:.1f} ms CPU per analysed frame end to end, minus decode {dec_ms:.1f} ms and "
           f"inference {inf_ms:.1f} ms = {other:.1f} ms for the fire detector, alerts and the service")
    cams = int(s.get("cameras") or 1)
    modelled = PER_NODE_BASE_MIB + cams * camera_mib(stream)
    return FireCosts(max(0.0, other), float(s.get("service_rss_mib") or 0.0), modelled, how)


def camera_mib(stream: StreamSpec) -> float:
    return BUFFERED_FRAMES * stream.pixels * 3 / 2**20 + PER_CAMERA_BASE_MIB
