"""A gate's last decision drawn on a frame, for `gridwatch replay --annotate`."""

from __future__ import annotations

import cv2
import numpy as np
from numpy.typing import NDArray

from models.gate_plan import GatePlan, InferencePath


def draw_plan(image: NDArray[np.uint8], plan: GatePlan | None, model_name: str) -> NDArray[np.uint8]:
    """`plan` on a BGR copy: change blobs (cyan), watched regions (magenta), crops (yellow), held open
    incidents' regions (orange), and a line saying which path the frame took and why."""
    out = image.copy()
    if plan is None:
        return out
    for box, colour, thick in (
        *((b, (255, 255, 0), 1) for b in plan.change.boxes.tolist()),
        *((b, (255, 0, 255), 1) for b in np.asarray(plan.watched).reshape(-1, 4).tolist()),
        *((b, (0, 255, 255), 2) for b in plan.crops.tolist()),
        *((b, (0, 128, 255), 2) for b in plan.held.tolist()),
    ):
        x1, y1, x2, y2 = (round(v) for v in box)
        cv2.rectangle(out, (x1, y1), (x2, y2), colour, thick)
    if plan.incident_relook_in_s is not None:  # on the held region: the bottom line is full on a sub-stream
        x1, y1 = (round(v) for v in plan.held[0, :2].tolist())
        cv2.putText(out, f"incident held, re-look in {plan.incident_relook_in_s:.1f} s", (x1, max(12, y1 - 4)),
                    cv2.FONT_HERSHEY_SIMPLEX, 0.4, (0, 128, 255), 1, cv2.LINE_AA)
    if plan.path is InferencePath.SWEEP or plan.path is InferencePath.FULL:
        cv2.rectangle(out, (1, 1), (out.shape[1] - 2, out.shape[0] - 2), (0, 255, 255), 2)
    text = (f"gate {model_name}: {plan.path.value} ({plan.reason.value})"
            + (f", {len(plan.crops)} crop(s) at " + " ".join(f"{w}x{h}" for h, w in plan.crop_inputs)
               if plan.path is InferencePath.REGIONS else "")
            + f", change {plan.change.changed_share:.1%}, next sweep in {plan.next_sweep_in_s:.0f} s"
            + (", still: cues rest" if plan.cues_rest else ""))
    (tw, th), base = cv2.getTextSize(text, cv2.FONT_HERSHEY_SIMPLEX, 0.5, 1)
    y = out.shape[0] - 10
    cv2.rectangle(out, (4, y - th - 4), (12 + tw, y + base + 2), (0, 0, 0), -1)
    cv2.putText(out, text, (8, y), cv2.FONT_HERSHEY_SIMPLEX, 0.5, (0, 255, 255), 1, cv2.LINE_AA)
    return out
