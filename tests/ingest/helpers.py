"""Small helpers shared by the ingest tests."""

from __future__ import annotations

import time
from collections.abc import Callable


def wait_for(cond: Callable[[], bool], timeout_s: float, what: str) -> float:
    t0 = time.monotonic()
    while not cond():
        if time.monotonic() - t0 > timeout_s:
            raise AssertionError(f"timed out after {timeout_s} s waiting for {what}")
        time.sleep(0.02)
    return time.monotonic() - t0


MODERN = """{i}
{t0} --> {t1}
<font size="28">FrameCnt: {i}, DiffTime: 40ms
2026-05-27 {clock}
[iso: 200] [shutter: 1/6400.0] [fnum: 1.9] [ev: 0] [ct: 5845] [color_md: dlog_m] [focal_len: 24.00] \
[latitude: {lat:.6f}] [longitude: {lon:.6f}] [rel_alt: {rel:.3f} abs_alt: {abs_:.3f}] \
[gb_yaw: {yaw:.1f} gb_pitch: {pitch:.1f} gb_roll: {roll:.1f}] </font>

"""


def modern_srt(rows: list[tuple[float, float, float, float, float, float]], period_ms: int = 40) -> str:
    """SRT in the modern layout (as Avata360/Mini5PRO and our drone flight generator write it)."""
    out = []
    for i, (lat, lon, rel, yaw, pitch, roll) in enumerate(rows):
        t0, t1 = i * period_ms, (i + 1) * period_ms
        clock_ms = 13 * 3_600_000 + t0
        out.append(
            MODERN.format(
                i=i + 1, t0=srt_time(t0), t1=srt_time(t1), clock=srt_time(clock_ms).replace(",", "."),
                lat=lat, lon=lon, rel=rel, abs_=rel + 30, yaw=yaw, pitch=pitch, roll=roll,
            )
        )
    return "".join(out)


def srt_time(ms: int) -> str:
    """Milliseconds as SubRip `hh:mm:ss,mmm`."""
    return f"{ms // 3_600_000:02d}:{ms // 60_000 % 60:02d}:{ms // 1000 % 60:02d},{ms % 1000:03d}"
