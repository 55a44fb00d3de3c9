"""The DJI SRT a generated drone flight carries (`bracket` per-frame or `p4rtk` 1 Hz layout), written from
the track's *measured* telemetry, rounded as DJI writes it. Shares nothing with `detectors/` or `ingest/`.
"""

from __future__ import annotations

import time

from benchmarks.scenarios.drone_flight import START_UTC_S, TAKEOFF_MSL_M, FlightPlan, FlightTrack


def _srt_time(t: float) -> str:
    ms = round(t * 1000)
    return f"{ms // 3_600_000:02d}:{ms // 60_000 % 60:02d}:{ms // 1000 % 60:02d},{ms % 1000:03d}"


def srt_text(track: FlightTrack, plan: FlightPlan, start_utc_s: float = START_UTC_S) -> str:
    """The measured telemetry as the flight's DJI SRT, in the plan's layout."""
    m = track.measured
    dt = 1.0 / plan.fps
    blocks = []
    home_lon, home_lat = float(m["lon"][0]), float(m["lat"][0])
    for i in range(len(track)):
        t0 = float(track.t_s[i])
        if plan.srt == "p4rtk":
            body = (
                f"F/5.6, SS 400, ISO 100, EV 0, GPS ({m['lon'][i]:.6f}, {m['lat'][i]:.6f}, 18), "
                f"HOME ({home_lon:.6f}, {home_lat:.6f}, {TAKEOFF_MSL_M:.2f}m), D 0.00m, H {m['rel_alt'][i]:.2f}m, "
                f"H.S {m['speed'][i]:.2f}m/s, V.S 0.00m/s, "
                f"F.PRY (0.0°, 0.0°, {m['aircraft_yaw'][i]:.1f}°), "
                f"G.PRY ({m['pitch'][i]:.1f}°, {m['roll'][i]:.1f}°, {m['yaw'][i]:.1f}°)"
            )
        else:
            clock_ms = round((start_utc_s + t0) * 1000)
            stamp = time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(clock_ms // 1000)) + f".{clock_ms % 1000:03d}"
            focal = "" if plan.srt_focal_35mm is None else f"[focal_len: {plan.srt_focal_35mm:.2f}] "
            body = (
                f'<font size="28">FrameCnt: {i + 1}, DiffTime: {round(dt * 1000)}ms\n{stamp}\n'
                f"[iso: 100] [shutter: 1/1000.0] [fnum: 2.8] [ev: 0] [color_md: default] {focal}"
                f"[latitude: {m['lat'][i]:.6f}] [longitude: {m['lon'][i]:.6f}] "
                f"[rel_alt: {m['rel_alt'][i]:.3f} abs_alt: {m['abs_alt'][i]:.3f}] "
                f"[gb_yaw: {m['yaw'][i]:.1f} gb_pitch: {m['pitch'][i]:.1f} gb_roll: {m['roll'][i]:.1f}] "
                f"[ct: 5500] </font>"
            )
        blocks.append(f"{i + 1}\n{_srt_time(t0)} --> {_srt_time(t0 + dt)}\n{body}\n")
    return "\n".join(blocks)


# -- registry and files ----------------------------------------------------------------------------------
