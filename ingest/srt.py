"""DJI `.SRT` flight telemetry: a time-sorted track of the drone's pose, looked up at a video time.

The layouts (bracket, comma, gps_barometer, matrice) are parsed in `ingest.srt_layouts`. Blocks are timed by
their `-->` line, or by their clock relative to the first block when there is none. A block without a usable
position (no GPS lock: `N/A` or 0,0) is counted and skipped. A file with no usable block raises `SourceError`.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from foundation.errors import SourceError
from ingest.config import TelemetryDefaults
from ingest.frame import Pose
from ingest.srt_layouts import SrtReport, split_blocks

log = logging.getLogger(__name__)

_ANGLE_FIELDS = ("gimbal_yaw_deg", "aircraft_yaw_deg")


@dataclass(frozen=True)
class TelemetryTrack:
    """Time-sorted telemetry samples of one flight as arrays; `pose_at` interpolates between them.

    Fields a family lacks are NaN in the arrays and are filled from `defaults` (and named in
    `Pose.defaulted`) when a pose is made.
    """

    t_s: NDArray[np.float64]
    values: dict[str, NDArray[np.float64]]
    families: tuple[str, ...]
    defaults: TelemetryDefaults
    report: SrtReport

    def __len__(self) -> int:
        return int(self.t_s.shape[0])

    @property
    def duration_s(self) -> float:
        return float(self.t_s[-1] - self.t_s[0]) if len(self) else 0.0

    def pose_at(self, t_s: float) -> Pose | None:
        """The pose at video time `t_s`, linearly interpolated (angles the short way round).

        Between samples at most `defaults.max_gap_s` apart the pose is interpolated. Elsewhere (before the
        first sample, after the last, or in a longer gap) the nearest sample is used if it is at most half
        of `max_gap_s` away; otherwise there is no pose (None).
        """
        if not math.isfinite(t_s) or len(self) == 0:
            return None
        ts = self.t_s
        gap = self.defaults.max_gap_s
        j = int(np.searchsorted(ts, t_s, side="right"))
        if 0 < j < len(ts) and float(ts[j] - ts[j - 1]) <= gap:
            i0, i1 = j - 1, j
            span = float(ts[i1] - ts[i0])
            return self._pose(i0, i1, 0.0 if span <= 0 else float((t_s - ts[i0]) / span), t_s)
        candidates = [i for i in (j - 1, j) if 0 <= i < len(ts)]
        nearest = min(candidates, key=lambda i: abs(float(ts[i]) - t_s))
        if abs(float(ts[nearest]) - t_s) > gap / 2:
            return None
        return self._pose(nearest, nearest, 0.0, t_s)

    def _value(self, name: str, i0: int, i1: int, w: float) -> float | None:
        arr = self.values.get(name)
        if arr is None:
            return None
        a, b = float(arr[i0]), float(arr[i1])
        if math.isnan(a) and math.isnan(b):
            return None
        if math.isnan(a):
            return b
        if math.isnan(b) or w == 0.0:
            return a
        if (name in _ANGLE_FIELDS or name == "lon") and abs(b - a) > 180.0:
            # the short way round: 179 -> -179 passes through 180, not through 0
            out = a + w * ((b - a + 180.0) % 360.0 - 180.0)
            return (out + 180.0) % 360.0 - 180.0 if name == "lon" else out
        return a + w * (b - a)

    def _pose(self, i0: int, i1: int, w: float, t_s: float) -> Pose:
        d = self.defaults
        defaulted: list[str] = []

        def get(name: str, default: float | None) -> float | None:
            v = self._value(name, i0, i1, w)
            if v is None and default is not None:
                defaulted.append(name)
                return default
            return v

        lat = self._value("lat", i0, i1, w)
        lon = self._value("lon", i0, i1, w)
        gimbal_yaw = get("gimbal_yaw_deg", d.gimbal_yaw_deg)
        gimbal_pitch = get("gimbal_pitch_deg", d.gimbal_pitch_deg)
        gimbal_roll = get("gimbal_roll_deg", d.gimbal_roll_deg)
        rel_alt = get("rel_alt_m", d.rel_alt_m)
        utc = self._value("utc_s", i0, i1, w)
        return Pose(
            lat_deg=float(lat if lat is not None else math.nan),
            lon_deg=float(lon if lon is not None else math.nan),
            rel_alt_m=rel_alt,
            abs_alt_m=self._value("abs_alt_m", i0, i1, w),
            gimbal_yaw_deg=float(gimbal_yaw if gimbal_yaw is not None else 0.0),
            gimbal_pitch_deg=float(gimbal_pitch if gimbal_pitch is not None else -90.0),
            gimbal_roll_deg=float(gimbal_roll if gimbal_roll is not None else 0.0),
            aircraft_yaw_deg=self._value("aircraft_yaw_deg", i0, i1, w),
            aircraft_pitch_deg=self._value("aircraft_pitch_deg", i0, i1, w),
            aircraft_roll_deg=self._value("aircraft_roll_deg", i0, i1, w),
            focal_len_35mm=self._value("focal_len_35mm", i0, i1, w),
            t_s=float(t_s),
            utc_s=utc,
            family=self.families[i0 if w < 0.5 else i1],
            defaulted=tuple(defaulted),
        )


_VALUE_NAMES = (
    "lat",
    "lon",
    "rel_alt_m",
    "abs_alt_m",
    "gimbal_yaw_deg",
    "gimbal_pitch_deg",
    "gimbal_roll_deg",
    "aircraft_yaw_deg",
    "aircraft_pitch_deg",
    "aircraft_roll_deg",
    "focal_len_35mm",
    "utc_s",
)


def parse_srt(text: str, source: str = "<srt>", defaults: TelemetryDefaults | None = None) -> TelemetryTrack:
    """Parse DJI SRT text into a `TelemetryTrack`; `SourceError` when no block has a usable position."""
    defaults = defaults or TelemetryDefaults()
    report = SrtReport(source=source)
    blocks = split_blocks(text, report)
    report.blocks = len(blocks)
    first_clock = next((b.clock_s for b in blocks if b.clock_s is not None), None)
    rows: list[tuple[float, dict[str, float], str]] = []
    for b in blocks:
        lat, lon = b.values.get("lat"), b.values.get("lon")
        if (
            b.bad_position
            or lat is None
            or lon is None
            or not (math.isfinite(lat) and math.isfinite(lon))
            or not (-90.0 <= lat <= 90.0 and -180.0 <= lon <= 180.0)
            or (lat == 0.0 and lon == 0.0)
        ):
            report.blocks_without_position += 1
            continue
        t = b.t_s
        if t is None and b.clock_s is not None and first_clock is not None:
            t = b.clock_s - first_clock
        if t is None or not math.isfinite(t):
            report.blocks_without_time += 1
            continue
        vals = dict(b.values)
        if b.clock_s is not None:
            vals["utc_s"] = b.clock_s - defaults.clock_utc_offset_h * 3600.0
        rows.append((t, vals, b.family or "bracket"))
    if not rows:
        raise SourceError(
            f"{source}: no valid telemetry sample in {report.blocks} block(s) "
            f"({report.blocks_without_position} without a GPS position, "
            f"{report.garbage_lines} garbage line(s))",
            retryable=False,
        )
    rows.sort(key=lambda r: r[0])
    # One sample per time: files that concatenate flights repeat times; keep the first.
    t_arr = np.array([r[0] for r in rows], dtype=np.float64)
    keep = np.concatenate(([True], np.diff(t_arr) > 0))
    rows = [r for r, k in zip(rows, keep, strict=True) if k]
    t_arr = t_arr[keep]
    report.duplicate_times = int((~keep).sum())
    for r in rows:
        report.families[r[2]] = report.families.get(r[2], 0) + 1
    values = {
        name: np.array([r[1].get(name, math.nan) for r in rows], dtype=np.float64) for name in _VALUE_NAMES
    }
    report.samples = len(rows)
    if report.garbage_lines or report.blocks_without_position:
        log.info(
            "%s: telemetry has %d sample(s); skipped %d garbage line(s) and %d block(s) without position",
            source,
            report.samples,
            report.garbage_lines,
            report.blocks_without_position,
        )
    return TelemetryTrack(
        t_s=t_arr, values=values, families=tuple(r[2] for r in rows), defaults=defaults, report=report
    )


def load_srt(path: str | Path, defaults: TelemetryDefaults | None = None) -> TelemetryTrack:
    """Read and parse a DJI .SRT file (UTF-8, with or without BOM; undecodable bytes are replaced)."""
    p = Path(path)
    try:
        data = p.read_bytes()
    except OSError as exc:
        raise SourceError(f"{p}: cannot read telemetry: {exc.strerror or exc}", retryable=False) from exc
    if not data.strip():
        raise SourceError(f"{p}: telemetry file is empty ({len(data)} bytes)", retryable=False)
    return parse_srt(data.decode("utf-8", errors="replace"), source=str(p), defaults=defaults)
