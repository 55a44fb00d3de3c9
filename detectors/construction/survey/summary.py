"""The survey summary: what one flight's mosaic was compared with and what changed, as GeoJSON, text, PNG.

Written next to the flight summary (`summary.py` of the flight detector) and into the evidence store
beside the mosaic. The GeoJSON lists every change with its status (new ones were alerted), footprint,
kind and crops; its `new` features can be handed to `registry.add_pending_review` once an operator has
confirmed them (`gridwatch survey confirm`), so the next survey does not alert on them again. The map is
the mosaic, shrunk, with each change outlined in its status colour and labelled.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import cv2
import numpy as np
from numpy.typing import NDArray

from detectors.construction.survey.changes import Change, ChangeStatus

STATUS_COLOURS: dict[ChangeStatus, tuple[int, int, int]] = {
    ChangeStatus.NEW: (40, 40, 235),
    ChangeStatus.REGISTERED: (60, 180, 60),
    ChangeStatus.PERMITTED: (200, 160, 40),
    ChangeStatus.PENDING_REVIEW: (0, 170, 255),
    ChangeStatus.REMOVED: (160, 160, 160),
    ChangeStatus.VEHICLES: (200, 200, 200),
}
MAP_MAX_PX = 1600


@dataclass(frozen=True)
class ChangeReport:
    """One change as the summary shows it (no pixels)."""

    change_id: str
    kind: str
    structure_kind: str
    status: str
    lat_deg: float
    lon_deg: float
    accuracy_m: float
    area_m2: float
    ring_lonlat: NDArray[np.float64]
    registry_id: str | None
    crops: dict[str, str]
    score: float

    @classmethod
    def of(cls, c: Change) -> ChangeReport:
        m = c.registry
        reg = None
        if m is not None and m.known:
            reg = m.covered_by_id or m.same_kind_id
        return cls(
            c.change_id,
            c.kind.value,
            c.structure_kind.value,
            c.status.value,
            c.lat_deg,
            c.lon_deg,
            c.accuracy_m,
            c.area_m2,
            c.ring_lonlat,
            reg,
            dict(c.crops),
            c.region.mean_score,
        )


@dataclass(frozen=True)
class SurveySummary:
    """One flight's survey: its mosaic, what it was compared with, and the changes found."""

    survey_id: str
    flight_id: str
    captured_from: float | None
    captured_to: float | None
    resolution_m: float
    keyframes: int
    frames_seen: int
    skipped: dict[str, int]
    mosaic_area_m2: float
    compared_area_m2: float
    previous_ids: tuple[str, ...]
    changes: tuple[ChangeReport, ...]
    footprint_lonlat: NDArray[np.float64]
    frame_ties: int = 0
    anchored_frames: int = 0
    registration_rms_m: float = float("nan")
    mosaic_uri: str | None = None
    mosaic_bytes: int = 0
    cpu_s: float = 0.0
    map_png: bytes = b""
    notes: tuple[str, ...] = field(default=())

    @property
    def new_changes(self) -> tuple[ChangeReport, ...]:
        return tuple(c for c in self.changes if c.status == ChangeStatus.NEW.value)

    def geojson(self) -> dict[str, Any]:
        """FeatureCollection: the mosaic's outline and every change (lon/lat)."""

        def closed(ring: NDArray[np.float64]) -> list[list[float]]:
            pts = [[round(float(x), 8), round(float(y), 8)] for x, y in ring]
            return [*pts, pts[0]] if pts else pts

        features: list[dict[str, Any]] = []
        if len(self.footprint_lonlat) >= 3:
            features.append(
                {
                    "type": "Feature",
                    "properties": {
                        "layer": "mosaic",
                        "survey_id": self.survey_id,
                        "flight_id": self.flight_id,
                        "resolution_m": self.resolution_m,
                        "mosaic_uri": self.mosaic_uri,
                        "compared_with": list(self.previous_ids),
                    },
                    "geometry": {"type": "Polygon", "coordinates": [closed(self.footprint_lonlat)]},
                }
            )
        for c in self.changes:
            features.append(
                {
                    "type": "Feature",
                    "properties": {
                        "layer": "change",
                        "id": f"{self.survey_id}/{c.change_id}",
                        "kind": c.structure_kind,
                        "change_kind": c.kind,
                        "status": c.status,
                        "survey_id": self.survey_id,
                        "change_id": c.change_id,
                        "area_m2": round(c.area_m2, 1),
                        "lat": round(c.lat_deg, 8),
                        "lon": round(c.lon_deg, 8),
                        "accuracy_m": round(c.accuracy_m, 2),
                        "score": round(c.score, 2),
                        "registry_id": c.registry_id,
                        "before_crop_uri": c.crops.get("before"),
                        "after_crop_uri": c.crops.get("after"),
                        "detected_at": _iso(self.captured_to),
                    },
                    "geometry": {"type": "Polygon", "coordinates": [closed(c.ring_lonlat)]},
                }
            )
        return {"type": "FeatureCollection", "features": features}

    def text_report(self) -> str:
        lines = [
            f"survey {self.survey_id} (flight {self.flight_id})  "
            f"{_iso(self.captured_from)} .. {_iso(self.captured_to)}",
            f"mosaic: {self.keyframes} keyframes of {self.frames_seen} frames, {self.mosaic_area_m2 / 1e4:.2f} ha at "
            f"{self.resolution_m:.2f} m, {self.mosaic_bytes / 1e6:.1f} MB"
            + (f" -> {self.mosaic_uri}" if self.mosaic_uri else ""),
            f"alignment: {self.frame_ties} frame ties, {self.anchored_frames} keyframes tied to the previous mosaic, "
            f"rms {self.registration_rms_m:.2f} m",
        ]
        if self.previous_ids:
            lines.append(f"compared with {', '.join(self.previous_ids)} over {self.compared_area_m2 / 1e4:.2f} ha")
        else:
            lines.append("no earlier survey of this ground: this mosaic is the baseline")
        counts: dict[str, int] = {}
        for c in self.changes:
            counts[c.status] = counts.get(c.status, 0) + 1
        lines.append("changes: " + (", ".join(f"{n} {s}" for s, n in sorted(counts.items())) or "none"))
        for c in self.changes:
            lines.append(
                f"  {c.change_id:4s} {c.status:14s} {c.kind:9s} {c.area_m2:7.1f} m2  {c.lat_deg:.6f},{c.lon_deg:.6f} "
                f"+-{c.accuracy_m:.1f} m" + (f"  registry {c.registry_id}" if c.registry_id else "")
            )
        if self.skipped:
            lines.append("frames left out: " + ", ".join(f"{k} {v}" for k, v in sorted(self.skipped.items())))
        lines += [f"note: {n}" for n in self.notes]
        lines.append(f"processing: {self.cpu_s:.1f} CPU-s")
        return "\n".join(lines) + "\n"

    def write(self, out_dir: str | Path) -> dict[str, Path]:
        """GeoJSON, text and PNG map into a directory; returns their paths."""
        out = Path(out_dir)
        out.mkdir(parents=True, exist_ok=True)
        stem = "".join(ch if ch.isalnum() or ch in "-_." else "_" for ch in self.survey_id) or "survey"
        paths = {"geojson": out / f"{stem}-changes.geojson", "text": out / f"{stem}-changes.txt"}
        paths["geojson"].write_text(json.dumps(self.geojson(), indent=1), encoding="utf-8")
        paths["text"].write_text(self.text_report(), encoding="utf-8")
        if self.map_png:
            paths["png"] = out / f"{stem}-changes.png"
            paths["png"].write_bytes(self.map_png)
        return paths


def draw_map(image: NDArray[np.uint8], valid: NDArray[np.bool_], changes: list[Change], title: str) -> bytes:
    """The mosaic shrunk to at most MAP_MAX_PX, changes outlined by status and labelled; PNG bytes."""
    h, w = image.shape[:2]
    scale = min(1.0, MAP_MAX_PX / max(h, w))
    size = (max(1, round(w * scale)), max(1, round(h * scale)))
    small = np.asarray(cv2.resize(image, size, interpolation=cv2.INTER_AREA), np.uint8)
    mask = cv2.resize(valid.astype(np.uint8), (small.shape[1], small.shape[0]), interpolation=cv2.INTER_NEAREST)
    small[mask == 0] = 40
    for c in changes:
        colour = STATUS_COLOURS[c.status]
        x0, y0, x1, y1 = (round(v * scale) for v in c.box_px)
        pad = 4
        cv2.rectangle(small, (x0 - pad, y0 - pad), (x1 + pad, y1 + pad), colour, 2)
        _label(small, f"{c.change_id} {c.kind.value}", (x0 - pad, max(12, y0 - pad - 4)), colour)
    _label(small, title, (8, 20), (255, 255, 255))
    legend_y = small.shape[0] - 10
    x = 8
    for status, colour in STATUS_COLOURS.items():
        _label(small, status.value, (x, legend_y), colour)
        x += 12 + 9 * len(status.value)
    ok, buf = cv2.imencode(".png", small)
    return bytes(buf) if ok else b""


def _label(img: NDArray[np.uint8], text: str, org: tuple[int, int], colour: tuple[int, int, int]) -> None:
    (tw, th), base = cv2.getTextSize(text, cv2.FONT_HERSHEY_SIMPLEX, 0.45, 1)
    x, y = org
    cv2.rectangle(img, (x - 2, y - th - 3), (x + tw + 2, y + base), (0, 0, 0), -1)
    cv2.putText(img, text, (x, y), cv2.FONT_HERSHEY_SIMPLEX, 0.45, colour, 1, cv2.LINE_AA)


def _iso(t: float | None) -> str | None:
    if t is None:
        return None
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(t))
