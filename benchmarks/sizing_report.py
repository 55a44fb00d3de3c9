"""How a sizing is shown: plain text for the terminal, and JSON + markdown + a PNG in the bench directory.

The text leads with the answer (nodes, cameras per node), then the per-group costs it came from, the
reports those figures were read from, and every assumption, so a reader can check each step.
"""

from __future__ import annotations

from pathlib import Path

from benchmarks import plots
from benchmarks.report import environment, markdown_table, write_report
from benchmarks.sizing import Sizing

COLUMNS = ("group", "cameras", "stream", "decode", "detectors", "analysed_fps", "decode_cores", "inference_cores",
           "detector_cores", "cores_per_camera", "memory_mib_per_camera", "cameras_per_node_alone", "limited_by",
           "total_cores")


def render_text(s: Sizing) -> str:
    """The sizing as the terminal shows it."""
    dep = s.deployment
    node = dep.node
    gpu = f", GPU {node.gpu.name}" if node.gpu else ""
    lines = [
        f"Sizing {dep.name}: {dep.cameras:,} cameras on nodes of {node.cores} cores, {node.memory_gib:g} GiB{gpu}",
        "",
        f"  nodes needed:          {s.nodes}   (by CPU {s.nodes_by_cpu}, by memory {s.nodes_by_memory}"
        + (f", by GPU {s.nodes_by_gpu}" if node.gpu else "") + ")",
        f"  cameras per node:      {s.cameras_per_node:.0f} on average, groups mixed on every node",
        f"  with dedicated nodes:  {s.nodes_dedicated} nodes (each group on nodes of its own)",
        *([f"  without gating:        {s.without_gating.nodes} nodes ({s.without_gating.cameras_per_node:.0f} "
           f"cameras per node); gated fire cameras spend x{s.gating.model_share:.3f} of the model input"]
          if s.gating and s.without_gating else
          ["  gating:                not measured (no `gridwatch bench district` report): every analysed "
           "frame is sized to run whole"]),
        "",
        "Per camera (cores of the benchmark machine / node speed factor) and per node if it ran one group:",
        "",
        markdown_table([g.row() for g in s.groups], COLUMNS),
    ]
    for g in s.groups:
        lines.append(f"  {g.group.role}: " + "; ".join(g.notes))
    if s.warnings:
        lines += ["", "Warnings:"] + [f"  ! {w}" for w in s.warnings]
    lines += ["", "Measured figures used:"] + [f"  {k}: {v}" for k, v in s.sources.items()]
    lines += ["", "Assumptions:"] + [f"  - {a}" for a in s.assumptions]
    return "\n".join(lines) + "\n"


def write(s: Sizing, out_dir: Path) -> list[Path]:
    """size.json, size.md and size_core_demand.png in `out_dir`."""
    rows = [g.row() for g in s.groups]
    notes = [*s.assumptions, *(f"warning: {w}" for w in s.warnings),
             *(f"figures from {k}: {v}" for k, v in s.sources.items())]
    env = environment()
    env["deployment"] = s.deployment.model_dump(mode="json")
    jpath, mpath = write_report(out_dir, "size", env, rows, summary=s.summary(), notes=notes)
    demand = {f"{g.group.role} ({g.group.count})": g.cores_per_camera * g.group.count for g in s.groups}
    png = plots.hbars(demand, out_dir / "size_core_demand.png", xlabel="cores (benchmark machine)",
                      title=f"{s.deployment.name}: core demand by group, {s.nodes} nodes", annotate="{:.0f}")
    plots.link_plots(mpath, [png])
    return [jpath, mpath, png]
