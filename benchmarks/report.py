"""Benchmark reports: every run records the environment it ran on and writes JSON plus a markdown table."""

from __future__ import annotations

import hashlib
import json
import os
import platform
import shutil
import subprocess
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import av
import cv2
import numpy as np
import onnxruntime as ort


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def gpu_name() -> str | None:
    smi = shutil.which("nvidia-smi")
    if smi is None:
        return None
    try:
        out = subprocess.run(
            [smi, "--query-gpu=name", "--format=csv,noheader"],
            capture_output=True, text=True, timeout=5, check=False,
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    name = out.stdout.strip().splitlines()
    return name[0] if out.returncode == 0 and name else None


def git_commit(repo: Path | None = None) -> str:
    git = shutil.which("git")
    if git is None:
        return "unknown"
    try:
        out = subprocess.run(
            [git, "rev-parse", "--short", "HEAD"], capture_output=True, text=True, timeout=5,
            check=False, cwd=repo or Path(__file__).resolve().parents[1],
        )
        dirty = subprocess.run(
            [git, "status", "--porcelain", "--untracked-files=no"], capture_output=True, text=True,
            timeout=5, check=False, cwd=repo or Path(__file__).resolve().parents[1],
        )
    except (OSError, subprocess.TimeoutExpired):
        return "unknown"
    commit = out.stdout.strip() or "unknown"
    return commit + ("-dirty" if dirty.stdout.strip() else "")


def file_sha256(path: str | Path) -> str:
    digest = hashlib.sha256()
    with Path(path).open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def environment(model_path: str | Path | None = None, provider: str | None = None) -> dict[str, Any]:
    """What the figures depend on: CPU, cores, GPU, library versions, provider, model hash, commit."""
    env: dict[str, Any] = {
        "when_utc": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "host": platform.node(),
        "cpu": cpu_model(),
        "cores": os.cpu_count(),
        "gpu": gpu_name(),
        "python": platform.python_version(),
        "onnxruntime": ort.__version__,
        "ort_providers_available": ort.get_available_providers(),
        "numpy": np.__version__,
        "opencv": cv2.__version__,
        "pyav": av.__version__,
        "git_commit": git_commit(),
    }
    if provider:
        env["provider"] = provider
    if model_path:
        env["model"] = str(model_path)
        env["model_sha256"] = file_sha256(model_path)
    return env


def markdown_table(rows: Sequence[dict[str, Any]], columns: Sequence[str] | None = None) -> str:
    """Rows of dicts as a GitHub markdown table (floats to 3 significant decimals)."""
    if not rows:
        return "(no rows)\n"
    cols = list(columns or rows[0].keys())

    def cell(v: Any) -> str:
        if isinstance(v, float):
            return f"{v:.3g}" if abs(v) < 1000 else f"{v:.0f}"
        return str(v)

    lines = ["| " + " | ".join(cols) + " |", "|" + "---|" * len(cols)]
    lines += ["| " + " | ".join(cell(r.get(c, "")) for c in cols) + " |" for r in rows]
    return "\n".join(lines) + "\n"


def write_report(
    out_dir: str | Path, suite: str, env: dict[str, Any], rows: Sequence[dict[str, Any]],
    summary: dict[str, Any] | None = None, notes: Sequence[str] = (),
) -> tuple[Path, Path]:
    """Write `<suite>.json` and `<suite>.md` into out_dir; return both paths."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    payload = {"suite": suite, "environment": env, "summary": summary or {}, "rows": list(rows),
               "notes": list(notes)}
    jpath = out / f"{suite}.json"
    jpath.write_text(json.dumps(payload, indent=2, default=str), encoding="utf-8")
    md = [f"# gridwatch bench {suite}", "", markdown_table(list(rows))]
    if summary:
        md += ["", "Summary:", ""] + [f"- {k}: {v}" for k, v in summary.items()]
    if notes:
        md += ["", "Notes:", ""] + [f"- {n}" for n in notes]
    env_line = ", ".join(f"{k}={env[k]}" for k in ("cpu", "cores", "gpu", "onnxruntime", "git_commit") if k in env)
    md += ["", f"Environment: {env_line}", ""]
    mpath = out / f"{suite}.md"
    mpath.write_text("\n".join(md), encoding="utf-8")
    return jpath, mpath
