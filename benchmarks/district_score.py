"""Scoring for `gridwatch bench district`: the only reader of the district clips' ground truth.

An incident counts for the fire of a fire camera when its `start` (fire or smoke) comes at or after
ignition; the time to alert is its trigger frame's stream time minus ignition, from the first such start.
Every `start` on a camera without fire, or before ignition on a fire camera, is a false alert. (A smoke
start after ignition on a fire camera is the plume of that fire: it counts as found, not as false, and
the report says which kind came first.)
"""

from __future__ import annotations

import json
import statistics
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class Start:
    """An incident start as a system raised it: camera, kind and the stream time of its trigger frame."""

    camera: str
    kind: str
    pts_s: float


def score_camera(truth_path: Path, starts: Sequence[Start]) -> dict[str, Any]:
    """One camera's outcome: found (fire cameras), time to alert, first kind, false alerts."""
    truth = json.loads(truth_path.read_text(encoding="utf-8"))
    ignition = truth.get("ignition_s")
    fire = bool(truth.get("fire"))
    ordered = sorted(starts, key=lambda s: s.pts_s)
    hits = [s for s in ordered if fire and ignition is not None and s.pts_s >= ignition - 1e-3]
    false = [s for s in ordered if s not in hits]
    first = hits[0] if hits else None
    return {
        "camera": truth["camera"],
        "kind": truth["kind"],
        "fire": fire,
        "found": first is not None,
        "time_to_alert_s": None if first is None else round(first.pts_s - float(ignition), 2),
        "first_kind": None if first is None else first.kind,
        "false_alerts": len(false),
    }


def summarise(rows: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """Recall on the fires, median and worst time to alert, false alerts on cameras without fire."""
    fires = [r for r in rows if r["fire"]]
    found = [r for r in fires if r["found"]]
    tta = sorted(float(r["time_to_alert_s"]) for r in found)
    return {
        "fires": len(fires),
        "fires_found": len(found),
        "recall": round(len(found) / len(fires), 3) if fires else None,
        "time_to_alert_median_s": round(statistics.median(tta), 2) if tta else None,
        "time_to_alert_worst_s": tta[-1] if tta else None,
        "false_alerts": sum(int(r["false_alerts"]) for r in rows),
        "cameras_with_false_alerts": sum(int(r["false_alerts"]) > 0 for r in rows),
    }
