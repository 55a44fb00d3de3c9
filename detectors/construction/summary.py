"""The flight summary: what a drone flight covered and found, as GeoJSON, a short text and a PNG map.

Written once per processed flight for the drone team: new sites (alerted), known sites seen (not
alerted, so the team knows the registry was checked), frames skipped and why, the track and the ground
covered. The map is drawn in local metres with matplotlib's Agg canvas (no pyplot global state, no
network fonts).
"""

from __future__ import annotations

import json
import math
import textwrap
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from detectors.geometry.selfcal_fit import CalibrationResult
from foundation.errors import GridwatchError


@dataclass(frozen=True)
class SiteReport:
    """One site as it stood at the end of the flight (immutable copy of the detector's state)."""

    site_id: str
    status: str
    kind: str
    lat_deg: float
    lon_deg: float
    accuracy_m: float
    area_m2: float
    frames: int
    passes: int
    first_seen_at: float
    last_seen_at: float
    confidence: float
    ring_m: NDArray[np.float64]
    ring_lonlat: NDArray[np.float64]
    incident_id: str | None = None
    registry_id: str | None = None
    registry_overlap: float = 0.0
    on_id: str | None = None
    on_kind: str | None = None
    sources: tuple[str, ...] = ()
    centre_m: tuple[float, float] | None = None
    """The site's position in the summary's local metres (None: the outline's centre)."""


@dataclass(frozen=True)
class FlightSummary:
    """Everything the flight report needs, in WGS-84 (and local metres around `origin` for the map)."""

    flight_id: str
    origin_lat_deg: float
    origin_lon_deg: float
    frames_analysed: int
    frames_used: int
    skipped: Mapping[str, int]
    started_at: float | None
    ended_at: float | None
    track_m: NDArray[np.float64]
    track_lonlat: NDArray[np.float64]
    coverage_m: tuple[NDArray[np.float64], ...]
    coverage_lonlat: tuple[NDArray[np.float64], ...]
    covered_area_m2: float
    sites: tuple[SiteReport, ...]
    registered_m: tuple[tuple[str, str, NDArray[np.float64]], ...] = ()
    unconfirmed_sites: int = 0
    notes: tuple[str, ...] = field(default=())
    calibration: CalibrationResult | None = None
    """The flight's camera calibration: what positions and accuracy radii were computed with."""
    accuracy_note: str = "radius holding the true position with 90 % odds"

    @property
    def new_sites(self) -> tuple[SiteReport, ...]:
        return tuple(s for s in self.sites if s.status == "new")

    @property
    def known_sites(self) -> tuple[SiteReport, ...]:
        return tuple(s for s in self.sites if s.status == "known")

    @property
    def partial_sites(self) -> tuple[SiteReport, ...]:
        return tuple(s for s in self.sites if s.status == "partial")

    def geojson(self) -> dict[str, Any]:
        """FeatureCollection: the track, the covered ground and every confirmed site (lon/lat)."""

        def closed(ring: NDArray[np.float64]) -> list[list[float]]:
            pts = [[round(float(x), 8), round(float(y), 8)] for x, y in ring]
            return [*pts, pts[0]]

        features: list[dict[str, Any]] = []
        if len(self.track_lonlat) >= 2:
            step = max(1, len(self.track_lonlat) // 2000)
            line = [[round(float(x), 8), round(float(y), 8)] for x, y in self.track_lonlat[::step]]
            features.append(
                {
                    "type": "Feature",
                    "properties": {"layer": "track", "flight_id": self.flight_id},
                    "geometry": {"type": "LineString", "coordinates": line},
                }
            )
        if self.coverage_lonlat:
            features.append(
                {
                    "type": "Feature",
                    "properties": {
                        "layer": "coverage",
                        "flight_id": self.flight_id,
                        "area_m2": round(self.covered_area_m2, 1),
                    },
                    "geometry": {
                        "type": "MultiPolygon",
                        "coordinates": [[closed(r)] for r in self.coverage_lonlat],
                    },
                }
            )
        for s in self.sites:
            props: dict[str, Any] = {
                "layer": "site",
                "flight_id": self.flight_id,
                "site_id": s.site_id,
                "status": s.status,
                "kind": s.kind,
                "area_m2": round(s.area_m2, 1),
                "frames": s.frames,
                "passes": s.passes,
                "lat": round(s.lat_deg, 8),
                "lon": round(s.lon_deg, 8),
                "accuracy_m": round(s.accuracy_m, 2),
                "first_seen": _iso(s.first_seen_at),
                "last_seen": _iso(s.last_seen_at),
                "confidence": round(s.confidence, 3),
                "incident_id": s.incident_id,
                "registry_id": s.registry_id,
                "registry_overlap": round(s.registry_overlap, 3),
                "on_id": s.on_id,
                "on_kind": s.on_kind,
                "sources": list(s.sources),
            }
            features.append(
                {
                    "type": "Feature",
                    "properties": props,
                    "geometry": {"type": "Polygon", "coordinates": [closed(s.ring_lonlat)]},
                }
            )
        return {"type": "FeatureCollection", "features": features, "flight": self._header()}

    def _header(self) -> dict[str, Any]:
        return {
            "flight_id": self.flight_id,
            "started": _iso(self.started_at),
            "ended": _iso(self.ended_at),
            "frames_analysed": self.frames_analysed,
            "frames_used": self.frames_used,
            "frames_skipped": dict(self.skipped),
            "new_sites": len(self.new_sites),
            "known_sites": len(self.known_sites),
            "partial_sites": len(self.partial_sites),
            "unconfirmed_sites": self.unconfirmed_sites,
            "covered_area_m2": round(self.covered_area_m2, 1),
            "camera_calibration": calibration_json(self.calibration),
        }

    def text_report(self) -> str:
        """A few lines a drone operator reads after landing."""
        skipped = sum(self.skipped.values())
        why = ", ".join(f"{k} {v}" for k, v in sorted(self.skipped.items(), key=lambda kv: -kv[1]))
        lines = [
            f"Flight {self.flight_id}: {_iso(self.started_at)} to {_iso(self.ended_at)}",
            f"Frames: {self.frames_analysed} analysed, {self.frames_used} used, {skipped} skipped"
            + (f" ({why})" if why else ""),
            f"Ground covered: {self.covered_area_m2 / 10_000:.2f} ha",
            self.calibration.describe() if self.calibration is not None else "camera calibration: none",
            f"New sites ({len(self.new_sites)}):",
        ]
        for s in self.new_sites:
            where = f"{s.lat_deg:.6f},{s.lon_deg:.6f} ±{s.accuracy_m:.1f} m"
            on = f", on {s.on_kind} {s.on_id}" if s.on_id else ""
            lines.append(
                f"  {s.site_id} {s.kind} {s.area_m2:.0f} m² at {where}{on}; {s.frames} frames, "
                f"{s.passes} pass(es), seen {_clock(s.first_seen_at)}-{_clock(s.last_seen_at)}"
            )
        if not self.new_sites:
            lines.append("  none")
        lines.append(f"Known sites seen ({len(self.known_sites)}):")
        for s in self.known_sites:
            lines.append(
                f"  {s.site_id} {s.kind} {s.area_m2:.0f} m² matches registered {s.registry_id} "
                f"(covers {s.registry_overlap:.0%}); {s.frames} frames"
            )
        if not self.known_sites:
            lines.append("  none")
        if self.partial_sites:
            lines.append(f"Seen only cut by the frame edge, not alerted ({len(self.partial_sites)}):")
            for s in self.partial_sites:
                lines.append(f"  {s.site_id} {s.kind} at {s.lat_deg:.6f},{s.lon_deg:.6f}; {s.frames} frames")
        if self.unconfirmed_sites:
            lines.append(f"Unconfirmed candidates (seen too few times, not alerted): {self.unconfirmed_sites}")
        lines += list(self.notes)
        return "\n".join(lines) + "\n"

    def write_map_png(self, path: str | Path, dpi: int = 100) -> Path:
        """PNG map in local metres: coverage, registered outlines, track, sites labelled by id."""
        # matplotlib is an optional extra (bench), so the service imports it only when a map is drawn.
        try:
            from matplotlib.backends.backend_agg import FigureCanvasAgg  # noqa: PLC0415
            from matplotlib.figure import Figure  # noqa: PLC0415
            from matplotlib.patches import Circle  # noqa: PLC0415
            from matplotlib.patches import Polygon as MplPolygon  # noqa: PLC0415
        except ImportError as exc:
            raise GridwatchError("the flight map needs matplotlib (install gridwatch[bench])") from exc
        fig = Figure(figsize=(8, 9), dpi=dpi)
        FigureCanvasAgg(fig)
        ax = fig.add_axes((0.1, 0.2, 0.85, 0.75))
        for ring in self.coverage_m:
            ax.add_patch(MplPolygon(ring, closed=True, facecolor="#cfe3f7", edgecolor="#7aa6d6", lw=0.8, label="_cov"))
        for _, _kind, ring in self.registered_m:
            ax.add_patch(MplPolygon(ring, closed=True, fill=False, edgecolor="#999999", lw=0.6, ls="--"))
        if len(self.track_m):
            ax.plot(self.track_m[:, 0], self.track_m[:, 1], color="#333333", lw=1.0, label="track")
            ax.plot(*self.track_m[0], marker="^", color="#333333", ms=7)
        colours = {"new": "#d62728", "known": "#2ca02c"}
        for s in self.sites:
            colour = colours.get(s.status, "#ff7f0e")
            ax.add_patch(MplPolygon(s.ring_m, closed=True, facecolor=colour, edgecolor=colour, alpha=0.6))
            cx, cy = s.centre_m if s.centre_m is not None else s.ring_m.mean(axis=0)
            ax.add_patch(Circle((cx, cy), s.accuracy_m, fill=False, edgecolor=colour, lw=0.8, ls=":"))
            ax.plot([cx], [cy], marker="+", color=colour, ms=6)
            ax.annotate(
                f"{s.site_id} {s.status} ±{s.accuracy_m:.1f} m",
                (cx, cy),
                xytext=(4, 4),
                textcoords="offset points",
                fontsize=8,
                color=colour,
            )
        pts = [r for r in self.coverage_m] + ([self.track_m] if len(self.track_m) else [])
        if pts:
            allp = np.concatenate(pts)
            (x0, y0), (x1, y1) = allp.min(axis=0) - 10, allp.max(axis=0) + 10
            ax.set_xlim(x0, x1)
            ax.set_ylim(y0, y1)
        ax.set_aspect("equal")
        ax.set_xlabel("east (m)")
        ax.set_ylabel("north (m)")
        ax.set_title(
            f"flight {self.flight_id}: {len(self.new_sites)} new, {len(self.known_sites)} known "
            f"(origin {self.origin_lat_deg:.5f}, {self.origin_lon_deg:.5f})",
            fontsize=9,
        )
        ax.grid(True, lw=0.3)
        caption = [
            "filled: site outline (best view); dotted circle: stated accuracy "
            f"({self.accuracy_note}); dashed: registered outlines",
            self.calibration.describe() if self.calibration is not None else "camera calibration: none",
        ]
        fig.text(0.05, 0.02, "\n".join(textwrap.fill(line, 120) for line in caption), fontsize=7, va="bottom")
        out = Path(path)
        out.parent.mkdir(parents=True, exist_ok=True)
        fig.savefig(str(out), format="png")
        return out

    def write(self, out_dir: str | Path) -> dict[str, Path]:
        """Write `<flight>.geojson`, `<flight>.txt` and `<flight>.png` into out_dir."""
        out = Path(out_dir)
        out.mkdir(parents=True, exist_ok=True)
        stem = "".join(c if c.isalnum() or c in "-_." else "_" for c in self.flight_id) or "flight"
        paths = {"geojson": out / f"{stem}.geojson", "text": out / f"{stem}.txt", "png": out / f"{stem}.png"}
        paths["geojson"].write_text(json.dumps(self.geojson(), indent=1), encoding="utf-8")
        paths["text"].write_text(self.text_report(), encoding="utf-8")
        self.write_map_png(paths["png"])
        return paths


def _round(x: float, digits: int) -> float | None:
    return round(x, digits) if math.isfinite(x) else None


def calibration_json(c: CalibrationResult | None) -> dict[str, Any] | None:
    """The calibration as plain JSON (focal in full-resolution pixels, angles in degrees, 1-sigma)."""
    if c is None:
        return None
    e = c.estimate
    return {
        "status": c.status.value,
        "reason": c.reason,
        "used": c.correction is not None,
        "configured_focal_px": _round(c.configured_focal_px, 1),
        "focal_px": _round(c.focal_px, 1) if e is not None else None,
        "focal_sigma_px": _round(c.focal_sigma_px, 1) if e is not None else None,
        "pitch_deg": _round(e.pitch_deg, 3) if e is not None else None,
        "roll_deg": _round(e.roll_deg, 3) if e is not None else None,
        "yaw_deg": _round(e.yaw_deg, 3) if e is not None else None,
        "tilt_sigma_deg": _round(e.tilt_sigma_deg, 3) if e is not None else None,
        "yaw_sigma_deg": _round(e.yaw_sigma_deg, 3) if e is not None else None,
        "residual_px": _round(c.residual_px, 2),
        "residual_m": _round(c.residual_m, 3),
        "frames": c.frames,
        "pairs": c.pairs,
        "cross_pairs": c.cross_pairs,
        "matches": c.matches,
    }


def _iso(t: float | None) -> str | None:
    if t is None:
        return None
    ms = round(t * 1000)
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(ms // 1000)) + f".{ms % 1000:03d}Z"


def _clock(t: float) -> str:
    return time.strftime("%H:%M:%S", time.gmtime(t))
