"""`gridwatch bench size`: cameras per node and nodes needed, from measured figures and a deployment.

A camera costs CPU in three places, each taken from a report of an earlier run (never invented; the
figures are read in `benchmarks.sizing_costs`):

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
from dataclasses import dataclass, field
from typing import Any

from benchmarks.deployment import CameraGroup, Deployment
from benchmarks.measured import Report
from benchmarks.sizing_costs import (
    BUFFERED_FRAMES,
    PER_CAMERA_BASE_MIB,
    PER_NODE_BASE_MIB,
    DecodeCosts,
    FireCosts,
    GatingFigures,
    InferenceCosts,
    MissingFiguresError,
    camera_mib,
    fire_costs,
    rect_pixels,
    throw_ms,
)


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
            det_ms, _, which = throw_ms(throw, use.process_width_px or 960)
            det_cores += rate * det_ms / 1000.0
            frame_ms = 1000.0 * dec / max(fps, 1e-9) / speed + det_ms / speed
            if frame_ms > 1000.0 / rate:
                notes.append(f"throw: decode + detector take {frame_ms:.0f} ms per frame on one core, over the "
                             f"{1000.0 / rate:.0f} ms a {rate:g} fps camera allows: one camera cannot keep up")
            notes.append(f"throw detector: {det_ms:.2f} ms per frame ({which})")
    scale = 1.0 / speed
    mem = camera_mib(g.stream) * mem_scale
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
    fire = fire_costs(reports, decode, infer) if "pipeline" in reports else None
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
