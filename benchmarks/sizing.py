"""`gridwatch bench size`: cameras per node and nodes needed, from measured figures and a deployment.

A camera costs CPU in three places, each taken from a report of an earlier run (never invented):

- decode (`decode` suite): core-seconds per camera-second for the stream's resolution and decode mode,
  as a fixed part (decoding every frame) plus a part per analysed frame (colour conversion), scaled
  by pixel count to the group's resolution and by its frame rate;
- inference (`compare` suite, else `infer`): CPU milliseconds per image through gridwatch's batched
  pipeline, scaled by the model input's pixel count; on a GPU node only the pre/post-processing stays on
  the CPU (pipeline minus model-only) and the GPU's stated throughput bounds the frames per node;
- detectors: the throw detector's CPU per frame (`throw` suite), and for fire the rest of the service
  measured end to end (`pipeline` suite: its CPU per analysed frame minus its decode and inference);
- gating (`district` suite, optional): the share of model input a gated fire camera spends on the
  district mix and the change signal's CPU per analysed frame. With it, fire groups' inference (and GPU
  load) is scaled by that share and the sizing is given with and without gating.

Memory is a model (frames buffered per camera x frame size + a per-camera and per-node base) calibrated
up when the `pipeline` run measured more. Every assumption is returned with the figures, so the sizing
can be read, questioned and redone.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from benchmarks.decode import CASES as DECODE_CASES
from benchmarks.decode import FPS as DECODE_FPS
from benchmarks.decode import GOP as DECODE_GOP
from benchmarks.decode import SIZES as DECODE_SIZES
from benchmarks.deployment import CameraGroup, Deployment, StreamSpec
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


def required_suites(dep: Deployment) -> list[str]:
    """Suites whose reports sizing `dep` needs: decode always, inference if a model runs, pipeline for
    fire cameras (the detector and the rest of the service), throw for throw cameras."""
    need = ["decode"]
    if any(g.model_fps > 0 for g in dep.groups if g.count):
        need.append("compare")
    if any("fire" in g.detectors for g in dep.groups if g.count):
        need.append("pipeline")
    if any("throw" in g.detectors for g in dep.groups if g.count):
        need.append("throw")
    return need


def missing_suites(dep: Deployment, reports: dict[str, Report]) -> list[str]:
    """Required suites with no report (`infer` stands in for `compare`)."""
    out = []
    for suite in required_suites(dep):
        if suite == "compare" and ("compare" in reports or "infer" in reports):
            continue
        if suite not in reports:
            out.append(suite)
    return out


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
        return cls(float(row["model_input_share"]), float(row.get("change_ms_per_frame") or 0.0),
                   f"district: gated model input share {float(row['model_input_share']):.3f} on a mix of "
                   + ", ".join(f"{n} {k}" for k, n in sorted(mix.items())))


@dataclass
class GroupSizing:
    """The cost of one camera of a group, and how many fit a node if the node ran only this group."""

    group: CameraGroup
    decode_cores: float
    inference_cores: float
    detector_cores: float
    gpu_img_s: float
    memory_mib: float
    cameras_per_node: int
    limited_by: str
    notes: list[str] = field(default_factory=list)

    @property
    def cores_per_camera(self) -> float:
        return self.decode_cores + self.inference_cores + self.detector_cores

    def row(self) -> dict[str, Any]:
        g = self.group
        return {
            "group": g.role,
            "cameras": g.count,
            "stream": f"{g.stream.width}x{g.stream.height}@{g.stream.fps:g}",
            "decode": g.decode,
            "detectors": ", ".join(f"{k}@{v.fps:g}" for k, v in g.detectors.items()),
            "analysed_fps": round(g.analysis_fps, 2),
            "decode_cores": round(self.decode_cores, 4),
            "inference_cores": round(self.inference_cores, 4),
            "detector_cores": round(self.detector_cores, 4),
            "cores_per_camera": round(self.cores_per_camera, 4),
            "memory_mib_per_camera": round(self.memory_mib, 1),
            "cameras_per_node_alone": self.cameras_per_node,
            "limited_by": self.limited_by,
            "total_cores": round(self.cores_per_camera * g.count, 1),
        }


@dataclass
class Sizing:
    """The answer: nodes needed and cameras per node, with the figures and assumptions behind it."""

    deployment: Deployment
    groups: list[GroupSizing]
    usable_cores: float
    usable_memory_mib: float
    nodes_by_cpu: int
    nodes_by_memory: int
    nodes_by_gpu: int
    nodes_dedicated: int
    assumptions: list[str]
    sources: dict[str, str]
    warnings: list[str]
    gating: GatingFigures | None = None
    without_gating: Sizing | None = None
    """The same deployment with every analysed frame run whole (when gating figures were used)."""

    @property
    def nodes(self) -> int:
        return max(1, self.nodes_by_cpu, self.nodes_by_memory, self.nodes_by_gpu)

    @property
    def cameras_per_node(self) -> float:
        return self.deployment.cameras / self.nodes

    def summary(self) -> dict[str, Any]:
        total = sum(g.cores_per_camera * g.group.count for g in self.groups)
        return {
            "deployment": self.deployment.name,
            "cameras": self.deployment.cameras,
            "nodes_needed": self.nodes,
            "cameras_per_node_mixed": round(self.cameras_per_node, 1),
            "nodes_by_cpu": self.nodes_by_cpu,
            "nodes_by_memory": self.nodes_by_memory,
            "nodes_by_gpu": self.nodes_by_gpu,
            "nodes_if_groups_get_dedicated_nodes": self.nodes_dedicated,
            "core_demand_total": round(total, 1),
            "usable_cores_per_node": round(self.usable_cores, 2),
            "usable_memory_gib_per_node": round(self.usable_memory_mib / 1024, 1),
            "gating": "measured (district)" if self.gating else "not measured: every analysed frame runs whole",
            **({"gated_model_input_share": self.gating.model_share,
                "nodes_needed_without_gating": self.without_gating.nodes if self.without_gating else None,
                "cameras_per_node_without_gating": round(self.without_gating.cameras_per_node, 1)
                if self.without_gating else None} if self.gating else {}),
        }


def _throw_ms(report: Report, width: int) -> tuple[float, float, str]:
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


def _fire_costs(reports: dict[str, Report], decode: DecodeCosts, infer: InferenceCosts | None) -> FireCosts:
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
    modelled = PER_NODE_BASE_MIB + cams * _camera_mib(stream)
    return FireCosts(max(0.0, other), float(s.get("service_rss_mib") or 0.0), modelled, how)


def _camera_mib(stream: StreamSpec) -> float:
    return BUFFERED_FRAMES * stream.pixels * 3 / 2**20 + PER_CAMERA_BASE_MIB


def _group(
    g: CameraGroup, dep: Deployment, decode: DecodeCosts, infer: InferenceCosts | None, fire: FireCosts | None,
    throw: Report | None, mem_scale: float, usable_cores: float, usable_mib: float,
    gating: GatingFigures | None = None,
) -> GroupSizing:
    node = dep.node
    speed = node.cpu_speed_vs_measured
    fps = g.analysis_fps
    notes: list[str] = []
    dec, how = decode.cost(g.stream, g.decode, fps)
    notes.append(f"decode: {how}")
    if g.decode == "keyframes" and max(d.fps for d in g.detectors.values()) > fps:
        notes.append(f"keyframe-only decoding gives {fps:g} fps (one frame per {g.stream.gop_s:g} s GOP); "
                     "detectors asking for more get that")
    inf_cores = gpu_img_s = 0.0
    if g.model_fps > 0 and infer is not None:
        px = rect_pixels(dep.model_imgsz, g.stream.width, g.stream.height)
        per_img = infer.prepost_cpu_ms if node.gpu else infer.cpu_ms
        inf_cores = g.model_fps * per_img * px / infer.input_pixels / 1000.0
        gpu_img_s = g.model_fps if node.gpu else 0.0
        if gating is not None and "fire" in g.detectors:
            inf_cores = inf_cores * gating.model_share + g.model_fps * gating.change_ms / 1000.0
            gpu_img_s *= gating.model_share
            notes.append(f"gated: model input x{gating.model_share:.3f} + change signal {gating.change_ms:.2f} ms "
                         "per analysed frame")
    det_cores = 0.0
    for name, use in g.detectors.items():
        rate = min(use.fps, fps)
        if name == "fire" and fire is not None:
            det_cores += rate * fire.other_ms / 1000.0
        elif name == "throw" and throw is not None:
            det_ms, _, which = _throw_ms(throw, use.process_width_px or 960)
            det_cores += rate * det_ms / 1000.0
            frame_ms = 1000.0 * dec / max(fps, 1e-9) / speed + det_ms / speed
            if frame_ms > 1000.0 / rate:
                notes.append(f"throw: decode + detector take {frame_ms:.0f} ms per frame on one core, over the "
                             f"{1000.0 / rate:.0f} ms a {rate:g} fps camera allows: one camera cannot keep up")
            notes.append(f"throw detector: {det_ms:.2f} ms per frame ({which})")
    scale = 1.0 / speed
    mem = _camera_mib(g.stream) * mem_scale
    cores = (dec + inf_cores + det_cores) * scale
    limits = {"cpu": math.floor(usable_cores / cores) if cores > 0 else 10**9,
              "memory": math.floor(usable_mib / mem)}
    if node.gpu and gpu_img_s > 0:
        limits["gpu"] = math.floor(node.gpu.inference_img_per_s * node.target_utilisation / gpu_img_s)
    limited_by = min(limits, key=lambda k: limits[k])
    return GroupSizing(g, dec * scale, inf_cores * scale, det_cores * scale, gpu_img_s, mem,
                       max(0, limits[limited_by]), limited_by, notes)


def size(dep: Deployment, reports: dict[str, Report], *, gated: bool = True) -> Sizing:
    """Size `dep` from `reports` (suite -> newest report); raises MissingFiguresError when some are missing.

    With a `district` report (and `gated`), fire cameras are sized gated, and `without_gating` holds the
    same sizing with every analysed frame run whole.
    """
    missing = missing_suites(dep, reports)
    if missing:
        raise MissingFiguresError(missing)
    gating = GatingFigures.from_reports(reports) if gated else None
    sizing = _size(dep, reports, gating)
    if gating is not None:
        sizing.without_gating = _size(dep, reports, None)
    return sizing


def _size(dep: Deployment, reports: dict[str, Report], gating: GatingFigures | None) -> Sizing:
    node = dep.node
    decode = DecodeCosts(reports["decode"])
    infer = InferenceCosts.from_reports(reports) if any(g.model_fps > 0 for g in dep.groups) else None
    fire = _fire_costs(reports, decode, infer) if "pipeline" in reports else None
    mem_scale = max(1.0, fire.measured_rss_mib / fire.modelled_rss_mib) if fire and fire.modelled_rss_mib else 1.0
    usable_cores = (node.cores - node.reserved_cores) * node.target_utilisation
    usable_mib = (node.memory_gib - node.reserved_memory_gib) * 1024 - PER_NODE_BASE_MIB
    groups = [_group(g, dep, decode, infer, fire, reports.get("throw"), mem_scale, usable_cores, usable_mib, gating)
              for g in dep.groups if g.count > 0]
    cores = sum(g.cores_per_camera * g.group.count for g in groups)
    mem = sum(g.memory_mib * g.group.count for g in groups)
    gpu_load = sum(g.gpu_img_s * g.group.count for g in groups)
    by_gpu = math.ceil(gpu_load / (node.gpu.inference_img_per_s * node.target_utilisation)) if node.gpu else 0
    dedicated = sum(math.ceil(g.group.count / g.cameras_per_node) if g.cameras_per_node else 10**6 for g in groups)
    sources = {name: r.provenance() for name, r in sorted(reports.items())
               if name in ("decode", "compare", "infer", "pipeline", "throw") or (name == "district" and gating)}
    assumptions = _assumptions(dep, infer, fire, mem_scale, usable_cores, usable_mib)
    if gating is not None:
        assumptions.append(f"gating: {gating.source}; fire cameras of this deployment are assumed as restless as "
                           "that mix (its static, traffic, lamp-lit and burning streets), and crops are priced "
                           "by their model input pixels")
    warnings = [f"{g.group.role}: {n}" for g in groups for n in g.notes if "cannot keep up" in n]
    return Sizing(dep, groups, usable_cores, usable_mib, math.ceil(cores / usable_cores),
                  math.ceil(mem / usable_mib), by_gpu, dedicated, assumptions, sources, warnings, gating)


def _assumptions(
    dep: Deployment, infer: InferenceCosts | None, fire: FireCosts | None, mem_scale: float,
    usable_cores: float, usable_mib: float,
) -> list[str]:
    n = dep.node
    out = [
        f"node: {n.cores} cores, {n.memory_gib:g} GiB, {'GPU ' + n.gpu.name if n.gpu else 'no GPU'}; planned "
        f"busy share {n.target_utilisation:.0%} of ({n.cores} - {n.reserved_cores:g} reserved) cores = "
        f"{usable_cores:.1f} usable cores; {usable_mib / 1024:.1f} GiB usable after "
        f"{n.reserved_memory_gib:g} GiB reserved and the service's {PER_NODE_BASE_MIB:.0f} MiB",
        f"one node core is {n.cpu_speed_vs_measured:g}x one core of the benchmark machine (CPU times are "
        "divided by this)",
        "decode: the nearest measured resolution, scaled by pixel count; stream rate scales the fixed part; "
        "skip_nonref is sized as full (it saves nothing on streams without B-frames)",
        "cameras are spread over nodes by CPU demand; a camera is never split, and mixed nodes pack groups",
        f"memory per camera: {BUFFERED_FRAMES} buffered frames x frame size + {PER_CAMERA_BASE_MIB:g} MiB, "
        f"x{mem_scale:.2f} (calibrated up from the pipeline run when it measured more than this model says)",
        "drones (construction) are batch jobs on recorded flights and are not sized here; alerts and the "
        "Kafka relay cost little next to video (see the `alerts` suite for their throughput)",
    ]
    cells = dep.grid_cells()
    if cells:
        out.append(f"district grid: {cells:,} cells in {dep.grid}, {dep.cameras / cells:.1f} cameras per cell "
                   "on average (for the reader; cells do not change the sizing)")
    if infer is not None:
        out.append(f"inference: {infer.cpu_ms:.1f} CPU ms per image ({infer.source}), scaled by the model input's "
                   f"pixels at imgsz {dep.model_imgsz} with rect padding; measured on 1920x1080 frames, so the "
                   "letterbox cost of smaller sub-streams is overestimated"
                   + (f"; with the GPU only pre/post-processing ({infer.prepost_cpu_ms:.1f} ms) stays on CPU"
                      if n.gpu else ""))
    if n.gpu:
        out.append(f"GPU: {n.gpu.inference_img_per_s:g} images/s for this model (stated in the deployment, not "
                   f"measured here), planned at {n.target_utilisation:.0%}")
    if fire is not None:
        out.append(f"fire detector and the rest of the service per analysed frame: {fire.how}; all of the "
                   "remainder is charged per frame (per-camera fixed costs are folded in)")
    return out
