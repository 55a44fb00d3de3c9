"""What self-calibration can and cannot do with the real DJI SRT files (shared testdata, no video).

The 24 third-party SRT files (../shared/testdata-real/dji-srt, SOURCES.md) come without their videos, so
no focal and no gimbal offset can be *estimated* from them: that needs the footage. What they do tell:

- whether ingest parses them, and into how many 1 s analysis instants with a pose;
- how many of those poses the drone geometry can project (`unusable_reason`), i.e. the frames the
  calibrator would get if the video were there, against its `first_attempt_frames` and `give_up_frames`;
- whether the drone moved enough for frame pairs (ground track length);
- the focal the SRT *states* (`focal_len`, 35 mm-equivalent) and how far apart the two common crop
  conventions put it in pixels for a 1920x1080 video (a 16:9 frame cut from a 4:3 sensor, or a sensor
  that is 16:9 itself): the ambiguity self-calibration exists to remove.

Run: `PYTHONPATH=. python -m benchmarks.real_srt_calibration [testdata-real dir]`.
"""

from __future__ import annotations

import math
import sys
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from detectors.geometry.drone import unusable_reason
from detectors.geometry.drone_camera import Intrinsics
from detectors.geometry.drone_config import DroneGeometryConfig
from detectors.geometry.selfcal_config import SelfCalibrationConfig
from foundation.errors import SourceError
from ingest.srt import load_srt

VIDEO_W_PX, VIDEO_H_PX = 1920, 1080
ANALYSIS_STEP_S = 1.0
"""The construction detector analyses drone video at 1 fps."""
_EARTH_RADIUS_M = 6_371_008.8


@dataclass(frozen=True)
class SrtCalibrationRow:
    """One SRT file: what it gives the calibrator (error is set when ingest rejects the file)."""

    file: str
    error: str | None = None
    samples: int = 0
    instants: int = 0
    """1 s analysis instants with a pose."""
    usable: int = 0
    """Instants whose pose the drone geometry can project."""
    unusable: tuple[tuple[str, int], ...] = ()
    track_m: float = 0.0
    gimbal_reported: bool = False
    stated_focal_35mm: tuple[float, ...] = ()
    focal_px_4x3: float = math.nan
    """Configured focal for 1920x1080 from the stated focal, 16:9 cut from a 4:3 sensor (the default)."""
    focal_px_16x9: float = math.nan
    """The same if the sensor itself is 16:9."""

    def calibration_verdict(self, cfg: SelfCalibrationConfig) -> str:
        """What self-calibration could do with this file's telemetry if its video were present."""
        if self.error is not None:
            return "no: telemetry rejected"
        if self.usable == 0:
            return "no: no projectable pose"
        if self.usable < cfg.first_attempt_frames:
            return f"only a last fit on {self.usable} frames (first attempt needs {cfg.first_attempt_frames})"
        return f"yes: {self.usable} frames (fit from {cfg.first_attempt_frames})"


def _track_m(lat: np.ndarray, lon: np.ndarray) -> float:
    ok = np.isfinite(lat) & np.isfinite(lon) & ~((lat == 0) & (lon == 0))
    if ok.sum() < 2:
        return 0.0
    la, lo = np.radians(lat[ok]), np.radians(lon[ok])
    de = np.diff(lo) * np.cos(la[:-1]) * _EARTH_RADIUS_M
    dn = np.diff(la) * _EARTH_RADIUS_M
    return float(np.hypot(de, dn).sum())


def study_file(path: Path, name: str, geo: DroneGeometryConfig | None = None) -> SrtCalibrationRow:
    """Parse one SRT and count what the calibrator would get from it."""
    geo = geo or DroneGeometryConfig()
    try:
        track = load_srt(path)
    except SourceError as e:
        return SrtCalibrationRow(name, error=str(e).splitlines()[0][:120])
    t0 = float(track.t_s[0])
    reasons: Counter[str] = Counter()
    instants = usable = 0
    gimbal = False
    focals: set[float] = set()
    for k in range(int(track.duration_s / ANALYSIS_STEP_S) + 1):
        pose = track.pose_at(t0 + k * ANALYSIS_STEP_S)
        if pose is None:
            continue
        instants += 1
        gimbal = gimbal or "gimbal_pitch_deg" not in pose.defaulted
        if pose.focal_len_35mm is not None and pose.focal_len_35mm > 1:
            focals.add(round(pose.focal_len_35mm, 1))
        why = unusable_reason(pose, geo)
        if why is None:
            usable += 1
        else:
            reasons[why] += 1
    f35 = min(focals) if focals else None
    return SrtCalibrationRow(
        name,
        samples=len(track),
        instants=instants,
        usable=usable,
        unusable=tuple(sorted(reasons.items())),
        track_m=round(_track_m(track.values["lat"], track.values["lon"]), 1),
        gimbal_reported=gimbal,
        stated_focal_35mm=tuple(sorted(focals)),
        focal_px_4x3=Intrinsics.from_35mm(VIDEO_W_PX, VIDEO_H_PX, f35, 4 / 3).fx_px if f35 else math.nan,
        focal_px_16x9=Intrinsics.from_35mm(VIDEO_W_PX, VIDEO_H_PX, f35, 16 / 9).fx_px if f35 else math.nan,
    )


def study(testdata_real: Path) -> list[SrtCalibrationRow]:
    """Every SRT file under `testdata_real/dji-srt`, sorted by path."""
    root = testdata_real / "dji-srt"
    files = sorted(p for p in root.rglob("*") if p.suffix.lower() == ".srt")
    return [study_file(p, str(p.relative_to(root))) for p in files]


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    root = Path(args[0]) if args else Path(__file__).resolve().parents[2] / "shared" / "testdata-real"
    cfg = SelfCalibrationConfig()
    for r in study(root):
        if r.error:
            print(f"{r.file}: rejected ({r.error}) -> {r.calibration_verdict(cfg)}")
            continue
        print(
            f"{r.file}: {r.samples} samples, {r.instants} instants at 1 s, {r.usable} projectable "
            f"{dict(r.unusable) or ''}, track {r.track_m:.0f} m, gimbal {'yes' if r.gimbal_reported else 'no'}, "
            f"focal_len {list(r.stated_focal_35mm) or '-'} -> {r.focal_px_4x3:.0f} px (4:3) / "
            f"{r.focal_px_16x9:.0f} px (16:9) -> {r.calibration_verdict(cfg)}"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
