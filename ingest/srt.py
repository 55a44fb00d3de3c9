"""DJI `.SRT` flight telemetry: parse every common layout, then look up the drone's pose at a video time.

DJI writes one subtitle block per frame (or per second on older models). The layouts seen in the field:

- `bracket`: Mavic 2/3, Air 2/2S/3S, Mini 3/4/5, Avata, Neo: `FrameCnt`/`SrtCnt` header, a clock line and
  `[key: value]` fields: `[latitude: ..] [longitude: ..]` (Mavic 2 spells it `longtitude`),
  `[rel_alt: .. abs_alt: ..]` or `[altitude: ..]` (above sea level), `[focal_len: ..]`, `[fnum: ..]` and on
  recent models `[gb_yaw: .. gb_pitch: .. gb_roll: ..]`. Old firmware writes `fnum : 280` for f/2.8 and
  `focal_len : 240` for 24 mm.
- `comma`: Phantom 4 / Mavic Mini: `F/2.8, SS .., ISO .., EV .., GPS (lon, lat, sats), D ..m, H ..m`, and on
  the P4 RTK `F.PRY (pitch°, roll°, yaw°)` (aircraft) and `G.PRY (..)` (gimbal). Longitude comes first.
- `gps_barometer`: Mavic Pro / Phantom 3-4: `HOME(lon,lat) date` / `GPS(lon,lat,sats) BAROMETER:h` (or
  `Hb:h Hs:h`). Longitude first; 1 Hz; `N/A` before GPS lock.
- `matrice`: Matrice 300: `YYYY.MM.DD hh:mm:ss` / `GPS(lat,lon,altM) BAROMETER:hM`. Latitude first (the
  third value carries an `M`, where the older layout has a satellite count).

Blocks are timed by their `-->` line, or by their clock relative to the first block when there is none.
Lines that fit no layout are counted as garbage and skipped; a block without a usable position (no GPS
lock: `N/A` or 0,0) is counted and skipped. A file with no usable block raises `SourceError`.
"""

from __future__ import annotations

import calendar
import logging
import math
import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from foundation.errors import SourceError
from ingest.config import TelemetryDefaults
from ingest.frame import Pose

log = logging.getLogger(__name__)

_NUM = r"[-+]?(?:\d+(?:\.\d*)?|\.\d+)"
_TIME_LINE = re.compile(
    r"^\s*(\d+):(\d{1,2}):(\d{1,2})[,.](\d{1,3})\s*-->\s*(\d+):(\d{1,2}):(\d{1,2})[,.](\d{1,3})\s*$"
)
_INDEX_LINE = re.compile(r"^\s*\d+\s*$")
_CLOCK = re.compile(
    r"(?P<y>\d{4})[-./](?P<mo>\d{1,2})[-./](?P<d>\d{1,2})[ T]+(?P<h>\d{1,2}):(?P<mi>\d{2}):(?P<s>\d{2})"
    r"(?:[.,](?P<ms>\d{1,3})(?:[.,](?P<us>\d{1,3}))?)?"
)
_KV = re.compile(r"([A-Za-z_][A-Za-z_0-9.]*)\s*:\s*(" + _NUM + r")")
_GPS_PAREN = re.compile(
    r"GPS\s*\(\s*(?P<a>"
    + _NUM
    + r"|N/A)\s*,\s*(?P<b>"
    + _NUM
    + r"|N/A)\s*(?:,\s*(?P<c>"
    + _NUM
    + r")\s*(?P<cu>[Mm])?)?\s*\)"
)
_TRIPLE = r"\(\s*(" + _NUM + r")\s*°?\s*,\s*(" + _NUM + r")\s*°?\s*,\s*(" + _NUM + r")\s*°?\s*\)"
_F_PRY = re.compile(r"F\.PRY\s*" + _TRIPLE)
_G_PRY = re.compile(r"G\.PRY\s*" + _TRIPLE)
_H_COMMA = re.compile(r"(?:^|,)\s*H\s+(" + _NUM + r")\s*m", re.IGNORECASE)
_F_NUMBER = re.compile(r"(?:^|[\s,])F/?(" + _NUM + r")")
_BARO = re.compile(r"(?:BAROMETER|Hb)\s*:\s*(" + _NUM + r")")
_KNOWN_LINE = re.compile(
    r"FrameCnt|SrtCnt|DiffTime|\[|HOME|GPS|BAROMETER|ISO|Shutter|Fnum|F/|SS\s|</font>|<font", re.IGNORECASE
)

FAMILIES: tuple[str, ...] = ("bracket", "comma", "gps_barometer", "matrice")
_ANGLE_FIELDS = ("gimbal_yaw_deg", "aircraft_yaw_deg")


@dataclass
class SrtReport:
    """What parsing found: usable samples, skipped blocks and garbage lines, per family."""

    source: str
    blocks: int = 0
    samples: int = 0
    blocks_without_position: int = 0
    blocks_without_time: int = 0
    duplicate_times: int = 0
    garbage_lines: int = 0
    families: dict[str, int] = field(default_factory=dict)


@dataclass
class _Block:
    t_s: float | None = None
    clock_s: float | None = None
    values: dict[str, float] = field(default_factory=dict)
    family: str = ""
    bad_position: bool = False
    lines: int = 0


def _clock_seconds(m: re.Match[str]) -> float | None:
    try:
        y, mo, d = int(m["y"]), int(m["mo"]), int(m["d"])
        h, mi, s = int(m["h"]), int(m["mi"]), int(m["s"])
        if not (1 <= mo <= 12 and 1 <= d <= 31 and h < 24 and mi < 60 and s < 61 and 1970 <= y <= 2200):
            return None
        ms = int(m["ms"].ljust(3, "0")) if m["ms"] else 0
        us = int(m["us"].ljust(3, "0")) if m["us"] else 0
        return calendar.timegm((y, mo, d, h, mi, s, 0, 0, 0)) + ms / 1e3 + us / 1e6
    except (ValueError, OverflowError):
        return None


def _finite(*xs: float) -> bool:
    return all(math.isfinite(x) for x in xs)


def _scaled(raw: str, value: float, threshold: float) -> float:
    """Old firmware writes `fnum : 280` (f/2.8) and `focal_len : 240` (24 mm): integers x10 or x100."""
    if "." not in raw and value >= threshold:
        return value / (100.0 if value >= threshold * 10 else 10.0)
    return value


def _parse_bracket(line: str, block: _Block) -> bool:
    pairs = _KV.findall(line)
    if not pairs:
        return False
    got = False
    for key, raw in pairs:
        k = key.lower()
        try:
            v = float(raw)
        except ValueError:
            continue
        if not math.isfinite(v):
            continue
        got = True
        if k == "latitude":
            block.values["lat"] = v
        elif k in ("longitude", "longtitude"):
            block.values["lon"] = v
        elif k == "rel_alt":
            block.values["rel_alt_m"] = v
        elif k in {"abs_alt", "altitude"}:
            block.values["abs_alt_m"] = v
        elif k == "gb_yaw":
            block.values["gimbal_yaw_deg"] = v
        elif k == "gb_pitch":
            block.values["gimbal_pitch_deg"] = v
        elif k == "gb_roll":
            block.values["gimbal_roll_deg"] = v
        elif k == "focal_len":
            block.values["focal_len_35mm"] = _scaled(raw, v, 100.0)
    if got:
        block.family = block.family or "bracket"
    return got


def _parse_gps_line(line: str, block: _Block) -> bool:
    """`GPS(..)` in the comma, gps_barometer and matrice layouts; True if the line was understood."""
    m = _GPS_PAREN.search(line)
    if m is None:
        return False
    a, b, c_unit = m["a"], m["b"], m["cu"]
    lat_first = c_unit is not None  # Matrice: GPS(lat,lon,altM); others: GPS(lon,lat,sats)
    comma = "," in line[: m.start()] or "D " in line or _F_PRY.search(line) is not None
    block.family = "matrice" if lat_first else ("comma" if comma else "gps_barometer")
    if a == "N/A" or b == "N/A":
        block.bad_position = True
        return True
    x, y = float(a), float(b)
    lat, lon = (x, y) if lat_first else (y, x)
    block.values["lat"], block.values["lon"] = lat, lon
    if lat_first and m["c"] is not None:
        alt = float(m["c"])
        if alt != 0.0 and math.isfinite(alt):  # the Matrice writes 0.0M when it has no GPS altitude
            block.values["abs_alt_m"] = alt
    baro = _BARO.search(line)
    if baro:
        block.values["rel_alt_m"] = float(baro.group(1))
    h = _H_COMMA.search(line)
    if h:
        block.values["rel_alt_m"] = float(h.group(1))
    f = _F_PRY.search(line)
    if f:
        block.values["aircraft_pitch_deg"] = float(f.group(1))
        block.values["aircraft_roll_deg"] = float(f.group(2))
        block.values["aircraft_yaw_deg"] = float(f.group(3))
    g = _G_PRY.search(line)
    if g:
        block.values["gimbal_pitch_deg"] = float(g.group(1))
        block.values["gimbal_roll_deg"] = float(g.group(2))
        block.values["gimbal_yaw_deg"] = float(g.group(3))
    return True


def _parse_line(line: str, block: _Block) -> bool:
    """Fold one content line into `block`; False when the line fits no known layout (garbage)."""
    understood = False
    if ("GPS" in line and _parse_gps_line(line, block)) or ("[" in line and _parse_bracket(line, block)):
        understood = True
    elif line.lstrip().startswith(("HOME", "ISO", "F/")) or "BAROMETER" in line or "Hb:" in line:
        understood = True
        baro = _BARO.search(line)
        if baro:
            block.values["rel_alt_m"] = float(baro.group(1))
    clock = _CLOCK.search(line)
    if clock:
        secs = _clock_seconds(clock)
        if secs is not None:
            block.clock_s = secs
            understood = True
    if not understood and _KNOWN_LINE.search(line):
        understood = True  # camera-only lines (`FrameCnt ..`, `[iso: ..]` without GPS) are fine, not garbage
    return understood


def _blocks(text: str, report: SrtReport) -> list[_Block]:
    out: list[_Block] = []
    cur = _Block()

    def flush() -> None:
        nonlocal cur
        if cur.lines:
            out.append(cur)
        cur = _Block()

    for raw in text.splitlines():
        line = raw.replace("\ufeff", "").strip()
        if not line:
            flush()
            continue
        tm = _TIME_LINE.match(line)
        if tm:
            if cur.t_s is not None or cur.values or cur.clock_s is not None:
                flush()
            g = [int(x) for x in tm.groups()]
            cur.t_s = g[0] * 3600 + g[1] * 60 + g[2] + int(tm.group(4).ljust(3, "0")) / 1000.0
            cur.lines += 1
            continue
        if _INDEX_LINE.match(line):
            if cur.values or cur.t_s is not None:
                flush()
            continue
        clock = _CLOCK.search(line)
        if clock and cur.clock_s is not None and cur.values and cur.t_s is None:
            flush()  # a second clock line with no `-->` or blank line between: a new block began
        if not _parse_line(line, cur):
            report.garbage_lines += 1
            continue
        cur.lines += 1
    flush()
    return out


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
    blocks = _blocks(text, report)
    report.blocks = len(blocks)
    first_clock = next((b.clock_s for b in blocks if b.clock_s is not None), None)
    rows: list[tuple[float, dict[str, float], str]] = []
    for b in blocks:
        lat, lon = b.values.get("lat"), b.values.get("lon")
        if (
            b.bad_position
            or lat is None
            or lon is None
            or not _finite(lat, lon)
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
