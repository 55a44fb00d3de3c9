"""PNG plots for benchmark reports (matplotlib, Agg backend: no display needed on servers and in CI).

Three plot shapes cover the suites: lines (throughput vs batch size, timelines), horizontal bars (CPU per
camera by decode mode, throughput per method, core demand per camera role), and grouped bars (latency
percentiles). Each function writes one file and returns its path; `link_plots` adds them to the
suite's markdown report so the table and its pictures travel together.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # the backend is chosen first


def _save(fig: object, path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)  # type: ignore[attr-defined]
    plt.close(fig)  # type: ignore[arg-type]
    return path


def lines(
    series: Mapping[str, Sequence[tuple[float, float]]], path: Path, *, title: str, xlabel: str, ylabel: str,
    log_x: bool = False, xticks: Sequence[float] | None = None,
) -> Path:
    """One line with markers per series of (x, y) points."""
    fig, ax = plt.subplots(figsize=(7.5, 4.5))
    for name, points in series.items():
        pts = sorted(points)
        if pts:
            ax.plot([p[0] for p in pts], [p[1] for p in pts], marker="o", label=name)
    if log_x:
        ax.set_xscale("log", base=2)
    if xticks:
        ax.set_xticks(list(xticks))
        ax.set_xticklabels([f"{x:g}" for x in xticks])
    ax.set(title=title, xlabel=xlabel, ylabel=ylabel)
    ax.grid(True, alpha=0.3)
    if series:
        ax.legend(fontsize=8)
    fig.tight_layout()
    return _save(fig, path)


def hbars(
    values: Mapping[str, float], path: Path, *, title: str, xlabel: str, annotate: str = "{:.3g}",
) -> Path:
    """Horizontal bars, one per label, in the given order (top to bottom), each annotated."""
    labels = list(values)
    fig, ax = plt.subplots(figsize=(8.5, 0.45 * len(labels) + 1.6))
    y = list(range(len(labels)))
    vals = [values[k] for k in labels]
    ax.barh(y, vals, color="#4C72B0")
    ax.set_yticks(y)
    ax.set_yticklabels(labels, fontsize=8)
    ax.invert_yaxis()
    for yi, v in zip(y, vals, strict=True):
        ax.text(v, yi, " " + annotate.format(v), va="center", fontsize=8)
    ax.set(title=title, xlabel=xlabel)
    ax.grid(True, axis="x", alpha=0.3)
    ax.margins(x=0.15)
    fig.tight_layout()
    return _save(fig, path)


def grouped_bars(
    groups: Mapping[str, Mapping[str, float]], path: Path, *, title: str, ylabel: str,
) -> Path:
    """Bars grouped by outer key (e.g. frame->event, frame->ack), one bar per inner key (p50, p95, p99)."""
    names = list(groups)
    inner: list[str] = []
    for g in groups.values():
        inner += [k for k in g if k not in inner]
    fig, ax = plt.subplots(figsize=(7.5, 4.5))
    width = 0.8 / max(1, len(inner))
    for i, key in enumerate(inner):
        xs = [j + i * width for j in range(len(names))]
        vals = [groups[n].get(key, 0.0) for n in names]
        bars = ax.bar(xs, vals, width, label=key)
        ax.bar_label(bars, fmt="%.3g", fontsize=7)
    ax.set_xticks([j + width * (len(inner) - 1) / 2 for j in range(len(names))])
    ax.set_xticklabels(names, fontsize=8)
    ax.set(title=title, ylabel=ylabel)
    ax.grid(True, axis="y", alpha=0.3)
    if inner:
        ax.legend(fontsize=8)
    fig.tight_layout()
    return _save(fig, path)


def link_plots(markdown: Path, pngs: Sequence[Path]) -> None:
    """Append image links (relative to the markdown file) to a report written by `write_report`."""
    if not pngs:
        return
    lines_ = ["", "Plots:", ""] + [f"![{p.stem}]({p.name})" for p in pngs] + [""]
    with markdown.open("a", encoding="utf-8") as fh:
        fh.write("\n".join(lines_))
