"""DJI `.SRT` text into blocks of values: every common layout, line by line.

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


Lines that fit no layout are counted as garbage and skipped. `ingest.srt` turns the blocks into a track.
"""

from __future__ import annotations

import calendar
import math
import re
from dataclasses import dataclass, field

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
class SrtBlock:
    """One subtitle block as parsed: its time (from `-->` or the clock line) and the values it carries."""

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


def _scaled(raw: str, value: float, threshold: float) -> float:
    """Old firmware writes `fnum : 280` (f/2.8) and `focal_len : 240` (24 mm): integers x10 or x100."""
    if "." not in raw and value >= threshold:
        return value / (100.0 if value >= threshold * 10 else 10.0)
    return value


# `[key: value]` names of the bracket layout -> our value names (`focal_len` is scaled, see `_scaled`)
_BRACKET_KEYS = {
    "latitude": "lat",
    "longitude": "lon",
    "longtitude": "lon",  # sic: Mavic 2 firmware
    "rel_alt": "rel_alt_m",
    "abs_alt": "abs_alt_m",
    "altitude": "abs_alt_m",
    "gb_yaw": "gimbal_yaw_deg",
    "gb_pitch": "gimbal_pitch_deg",
    "gb_roll": "gimbal_roll_deg",
}


def _parse_bracket(line: str, block: SrtBlock) -> bool:
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
        if k in _BRACKET_KEYS:
            block.values[_BRACKET_KEYS[k]] = v
        elif k == "focal_len":
            block.values["focal_len_35mm"] = _scaled(raw, v, 100.0)
    if got:
        block.family = block.family or "bracket"
    return got


def _parse_gps_line(line: str, block: SrtBlock) -> bool:
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


def _parse_line(line: str, block: SrtBlock) -> bool:
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


def _span_start_s(tm: re.Match[str]) -> float:
    """Start of a `hh:mm:ss,mmm --> ...` line in seconds."""
    h, m, s = int(tm.group(1)), int(tm.group(2)), int(tm.group(3))
    return h * 3600 + m * 60 + s + int(tm.group(4).ljust(3, "0")) / 1000.0


def _starts_block(line: str, tm: re.Match[str] | None, cur: SrtBlock) -> bool:
    """Whether `line` begins a new block although no blank line ended `cur` (files that drop blank lines)."""
    if tm:
        return cur.t_s is not None or bool(cur.values) or cur.clock_s is not None
    if _INDEX_LINE.match(line):
        return bool(cur.values) or cur.t_s is not None
    # a second clock line with no `-->` or blank line between: a new block began
    return cur.clock_s is not None and bool(cur.values) and cur.t_s is None and _CLOCK.search(line) is not None


def split_blocks(text: str, report: SrtReport) -> list[SrtBlock]:
    """Parse SRT text into its blocks, counting lines that fit no layout in `report.garbage_lines`."""
    out: list[SrtBlock] = []
    cur = SrtBlock()

    def flush() -> None:
        nonlocal cur
        if cur.lines:
            out.append(cur)
        cur = SrtBlock()

    for raw in text.splitlines():
        line = raw.replace("\ufeff", "").strip()
        if not line:
            flush()
            continue
        tm = _TIME_LINE.match(line)
        if _starts_block(line, tm, cur):
            flush()
        if tm:
            cur.t_s = _span_start_s(tm)
            cur.lines += 1
        elif _INDEX_LINE.match(line):
            continue
        elif _parse_line(line, cur):
            cur.lines += 1
        else:
            report.garbage_lines += 1
    flush()
    return out
