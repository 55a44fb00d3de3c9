"""Before/after drone survey pairs with ground truth, for grading change detection between surveys.

A pair is two lawn-mower flights over the same procedural quarter of Shangjie District, Zhengzhou
(`survey_world.World`), months apart. The after flight sees new structures of several kinds and colours
(`NewStructure`: roofs, one of them on a building's roof, excavated soil, dust nets, a scaffold in safety
netting); both flights see change that is not construction: cars parked elsewhere, another sun
(shadows), exposure and white balance, autumn colour in the after survey, wet patches after rain.

Frames are rendered from the *true* pose through this package's own camera (`survey_camera`: OpenCV
`projectPoints` with explicit intrinsics), raised things with their walls and at their height, so
roofs lean away from the nadir point as in real footage. Each frame carries the *measured* pose a DJI
SRT would give: the truth plus a per-flight GNSS bias, slow GNSS wander, an altitude bias, a yaw bias
and gimbal noise, rounded as DJI writes them.

Nothing here imports `detectors/`: camera, geodesy, palette and sizes are this generator's own. The
truth (`SurveyPair.truth`) is for the scorer only; `SurveyPair.registry_geojson()` is the registry a
district would hold for the area: every building, the permitted works and the structure already
confirmed in an earlier review (`pending_review`).

Seeds: `TUNING_SEEDS` were used to tune the change detector; `GATE_SEEDS` never were and are what the
gates run on.

    python -m benchmarks.scenarios.survey --seed 11 --out var/survey-preview   # texture + a few frames
"""

from __future__ import annotations

import argparse
import math
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import cv2
import numpy as np
from numpy.typing import NDArray

from benchmarks.scenarios.survey_camera import CameraPose, LocalTangentPlane, PinholeCamera
from benchmarks.scenarios.survey_ground import ground_texture
from benchmarks.scenarios.survey_layout import build_world
from benchmarks.scenarios.survey_render import render
from benchmarks.scenarios.survey_world import Day, World, raised_of, ring_area
from ingest.frame import Frame, Pose

TUNING_SEEDS: tuple[int, ...] = (
    11, 12, 13, 21, 22, 23, 24, 25, 26, *range(41, 53), *range(61, 89), *range(91, 103), *range(103, 127),
    *range(127, 139),
)
"""Pairs the change detector was developed and tuned on (21-26 were first meant as gate seeds; their results
were looked at while fixing relief and shade, so they count as tuning seeds; 41-52 are the development seeds
on which scaffold misses were diagnosed and the lattice rule was measured; 61-88: false changes, parked cars
and revealed ground; 91-102: misses of small roofs and scaffolds (issue 16 round 6); 103-114: the false changes
left after those rules, and a parallax rule tried on them and on 41-52, 61-63 and 75-77, then withdrawn;
115-126: misses diagnosed by cause in issue 16 round 7 (a roof like the pavement beside it, built on a lawn:
the ground-class rule of `regions.ground_like`), with 103-114 and 61-88 for its false changes; 127-138: fresh
development seeds for the false changes of issue 16 round 7, listed with 41-52 by cause: two rows of parked
cars over the group limit, shadows and things gone, a keyframe misregistered). Issue 16 round 8 checked the
ground beside tall registered buildings (`registered_relief.cut_buildings`, `judged.judged_and_learnt`) on
103-126 and 61-69 again: no new seeds."""
GATE_SEEDS: tuple[int, ...] = (31, 32, 33, 34, 35, 36)
"""Pairs never used for tuning: the gates and the benchmark's figures come from these."""

SHANGJIE_LAT, SHANGJIE_LON = 34.8035, 113.2885
"""Shangjie District, Zhengzhou: where the generated quarters lie (one per seed, a few km apart)."""
BEFORE_UTC_S = 1_780_300_800.0  # 2026-06-01T08:00:00Z (16:00 local): the before survey
AFTER_UTC_S = BEFORE_UTC_S + 122 * 86_400.0  # four months later, in autumn

Array = NDArray[np.float64]


@dataclass(frozen=True)
class FlightPlan:
    """A lawn-mower survey: north-south lines at a spacing, one frame per interval, a nadir gimbal."""

    altitude_m: float = 100.0
    speed_mps: float = 10.0
    frame_interval_s: float = 1.0
    lane_spacing_m: float = 90.0
    lanes: int = 3
    length_m: float = 300.0
    camera: PinholeCamera = field(default_factory=lambda: PinholeCamera(1280, 720, 887.5))
    """fx = fy = 887.5 px for 1280 x 720 video: a 24 mm-equivalent lens on a 4:3 sensor (~72 deg across)."""


@dataclass(frozen=True)
class TelemetryErrors:
    """1-sigma errors of what the drone reports (per-flight biases, per-frame noise)."""

    gnss_bias_m: float = 1.2
    gnss_wander_m: float = 0.5
    altitude_bias_m: float = 1.0
    yaw_bias_deg: float = 1.0
    gimbal_noise_deg: float = 0.4
    true_attitude_jitter_deg: float = 0.6


@dataclass(frozen=True)
class TruthStructure:
    """A new structure of the after survey, where it is (WGS-84 and local metres) and how it is registered."""

    id: str
    kind: str
    colour: str
    area_m2: float
    lat_deg: float
    lon_deg: float
    ring_lonlat: Array
    registry: str


@dataclass
class SurveyFlight:
    """One flight of a pair: its day and the frames it renders on demand."""

    pair: SurveyPair
    day: Day
    flight_id: str
    start_utc_s: float
    offset_m: tuple[float, float]
    texture: NDArray[np.uint8] | None = None

    def frames(self) -> Iterator[Frame]:
        """Rendered frames with their measured poses, in flight order (rendered lazily: ~3 MB each)."""
        return self.pair.render_flight(self)


class SurveyPair:
    """A before and an after flight over one generated quarter, and the truth about what changed."""

    def __init__(
        self, seed: int, plan: FlightPlan | None = None, errors: TelemetryErrors | None = None, cell_m: float = 0.1
    ) -> None:
        self.seed = seed
        self.plan = plan or FlightPlan()
        self.errors = errors or TelemetryErrors()
        rng = np.random.default_rng(seed)
        p = self.plan
        ground_half_w = (
            (p.lanes - 1) * p.lane_spacing_m / 2 + p.altitude_m * p.camera.width_px / p.camera.focal_px / 2 + 10
        )
        ground_half_h = p.length_m / 2 + p.altitude_m * p.camera.height_px / p.camera.focal_px / 2 + 25
        # New structures go where both flights see the ground whole and steeply: within 30 m outside the
        # outer lines and 10 m inside the lines' ends (flights end at slightly different places).
        inner = ((p.lanes - 1) * p.lane_spacing_m / 2 + 30, p.length_m / 2 - 10)
        self.world: World = build_world(seed, ground_half_w, ground_half_h, cell_m, inner)
        shift_e, shift_n = rng.uniform(-3000, 3000, 2)
        here = LocalTangentPlane(SHANGJIE_LAT, SHANGJIE_LON)
        lat, lon = here.to_lat_lon(np.array(shift_e), np.array(shift_n))
        self.earth = LocalTangentPlane(float(lat), float(lon))
        before = Day(
            "before",
            seed * 31 + 1,
            float(rng.uniform(120, 160)),
            float(rng.uniform(52, 70)),
            1.0,
            (1.0, 1.0, 1.0),
            0.0,
            int(rng.integers(1, 4)),
            float(rng.uniform(0.45, 0.65)),
            with_new=False,
        )
        after = Day(
            "after",
            seed * 31 + 2,
            float(rng.uniform(200, 240)),
            float(rng.uniform(30, 42)),
            float(rng.uniform(0.82, 1.15)),
            tuple(float(v) for v in rng.uniform(0.93, 1.07, 3)),  # type: ignore[arg-type]
            float(rng.uniform(0.35, 0.6)),
            int(rng.integers(3, 7)),
            float(rng.uniform(0.45, 0.65)),
            with_new=True,
        )
        self.before = SurveyFlight(self, before, f"survey-{seed}-a", BEFORE_UTC_S, (0.0, 0.0))
        self.after = SurveyFlight(
            self, after, f"survey-{seed}-b", AFTER_UTC_S, (float(rng.uniform(-4, 4)), float(rng.uniform(0, 9)))
        )
        self._later_rng = rng

    def later(self) -> SurveyFlight:
        """A third flight, months after the after flight: the same new structures, another day (cars, sun,
        exposure, wet ground). For the registry's change flow: confirmed structures must not alert again."""
        rng = self._later_rng
        day = Day(
            "later",
            self.seed * 31 + 3,
            float(rng.uniform(150, 190)),
            float(rng.uniform(25, 35)),
            float(rng.uniform(0.85, 1.1)),
            tuple(float(v) for v in rng.uniform(0.94, 1.06, 3)),  # type: ignore[arg-type]
            float(rng.uniform(0.6, 0.9)),
            int(rng.integers(2, 6)),
            float(rng.uniform(0.45, 0.65)),
            with_new=True,
        )
        return SurveyFlight(
            self,
            day,
            f"survey-{self.seed}-c",
            AFTER_UTC_S + 61 * 86_400.0,
            (float(rng.uniform(-4, 4)), float(rng.uniform(0, 9))),
        )

    # -- truth and registry ------------------------------------------------------------------------------

    def lonlat(self, ring: Array) -> Array:
        lat, lon = self.earth.to_lat_lon(ring[:, 0], ring[:, 1])
        return np.column_stack([lon, lat])

    @property
    def truth(self) -> list[TruthStructure]:
        """The after survey's new structures (scorer only)."""
        out = []
        for s in self.world.new:
            c = s.centre
            lat, lon = self.earth.to_lat_lon(np.array(c[0]), np.array(c[1]))
            out.append(
                TruthStructure(
                    s.id, s.kind, s.colour, s.area_m2, float(lat), float(lon), self.lonlat(s.ring), s.registry
                )
            )
        return out

    def compared_area_m2(self) -> float:
        """Ground both flights see with full overlap: the lanes' span and the lines' length, less a margin."""
        p = self.plan
        across = (p.lanes - 1) * p.lane_spacing_m + p.altitude_m * p.camera.width_px / p.camera.focal_px - 20
        along = p.length_m + p.altitude_m * p.camera.height_px / p.camera.focal_px - 20
        return across * along

    def registry_geojson(self) -> dict[str, Any]:
        """What the district has on record here: buildings (with heights), permitted works, and the
        structure an earlier review added as pending_review."""
        feats = []
        for b in self.world.buildings:
            kind = "steel_roof" if b.roof.startswith("roof_steel") else "building"
            feats.append(_feature(b.id, kind, self.lonlat(b.ring), {"height_m": round(b.height_m, 1)}))
        for s in self.world.new:
            if s.registry == "permitted":
                grown = s.centre + (s.ring - s.centre) * 1.25
                feats.append(
                    _feature(f"P-{s.id}", "excavation", self.lonlat(grown), {"permit": f"ZZSJ-2026-{self.seed:03d}"})
                )
            elif s.registry == "pending_review":
                feats.append(_feature(f"R-{s.id}", "steel_roof", self.lonlat(s.ring), {"status": "pending_review"}))
        return {"type": "FeatureCollection", "features": feats}

    # -- flights -----------------------------------------------------------------------------------------

    def true_poses(self, flight: SurveyFlight) -> list[tuple[float, CameraPose]]:
        """(seconds since take-off, true camera pose) of every frame of a flight."""
        p, e = self.plan, self.errors
        rng = np.random.default_rng(self.seed * 1000 + _flight_no(flight))
        out: list[tuple[float, CameraPose]] = []
        t = 0.0
        step = p.speed_mps * p.frame_interval_s
        for lane in range(p.lanes):
            x = (lane - (p.lanes - 1) / 2) * p.lane_spacing_m + flight.offset_m[0]
            north = lane % 2 == 0
            ys = np.arange(-p.length_m / 2 - 10 + flight.offset_m[1], p.length_m / 2 + 10, step)
            if not north:
                ys = ys[::-1]
            wobble = _ar1(rng, len(ys), 0.8, 0.9)
            jitter = _ar1(rng, len(ys) * 3, e.true_attitude_jitter_deg, 0.7).reshape(3, -1)
            for k, y in enumerate(ys):
                yaw = (0.0 if north else 180.0) + jitter[0, k]
                out.append(
                    (
                        t,
                        CameraPose(
                            x + wobble[k],
                            float(y),
                            p.altitude_m + 0.3 * jitter[2, k],
                            yaw,
                            -90.0 + jitter[1, k],
                            jitter[2, k],
                        ),
                    )
                )
                t += p.frame_interval_s
            t += 12.0  # the turn to the next line
        return out

    def measured(self, flight: SurveyFlight, poses: list[tuple[float, CameraPose]]) -> list[Pose]:
        """What the SRT says for each frame: truth + this flight's biases + noise, rounded like DJI."""
        e = self.errors
        rng = np.random.default_rng(self.seed * 1000 + 500 + _flight_no(flight))
        bias_e, bias_n = rng.normal(0, e.gnss_bias_m, 2)
        alt_bias = float(rng.normal(0, e.altitude_bias_m))
        yaw_bias = float(rng.normal(0, e.yaw_bias_deg))
        wander = _ar1(rng, len(poses) * 2, e.gnss_wander_m, 0.97).reshape(2, -1)
        out = []
        for k, (t, c) in enumerate(poses):
            lat, lon = self.earth.to_lat_lon(
                np.array(c.east_m + bias_e + wander[0, k]), np.array(c.north_m + bias_n + wander[1, k])
            )
            out.append(
                Pose(
                    lat_deg=round(float(lat), 7),
                    lon_deg=round(float(lon), 7),
                    rel_alt_m=round(c.up_m + alt_bias, 1),
                    abs_alt_m=round(c.up_m + alt_bias + 110.0, 1),
                    gimbal_yaw_deg=round(_wrap(c.yaw_deg + yaw_bias + rng.normal(0, e.gimbal_noise_deg)), 1),
                    gimbal_pitch_deg=round(c.pitch_deg + rng.normal(0, e.gimbal_noise_deg), 1),
                    gimbal_roll_deg=round(c.roll_deg + rng.normal(0, e.gimbal_noise_deg), 1),
                    focal_len_35mm=round(self.plan.camera.focal_35mm_equivalent(), 2),
                    t_s=t,
                    utc_s=flight.start_utc_s + t,
                    family="survey-generator",
                )
            )
        return out

    def render_flight(self, flight: SurveyFlight) -> Iterator[Frame]:
        if flight.texture is None:
            flight.texture, _ = ground_texture(self.world, flight.day)
        raised = raised_of(self.world, flight.day)
        poses = self.true_poses(flight)
        measured = self.measured(flight, poses)
        rng = np.random.default_rng(self.seed * 1000 + 900 + _flight_no(flight))
        for seq, ((t, true_pose), pose) in enumerate(zip(poses, measured, strict=True)):
            image = render(self.world, flight.texture, raised, flight.day, self.plan.camera, true_pose, rng)
            yield Frame(flight.flight_id, seq, flight.start_utc_s + t, t, image, pose=pose)

    def release(self) -> None:
        """Drop the painted textures (about 80 MB each)."""
        self.before.texture = None
        self.after.texture = None


def make_pair(seed: int, *, lanes: int = 3, length_m: float = 300.0, frame_interval_s: float = 2.0) -> SurveyPair:
    """A before/after pair over a quarter of about (lanes x 90 + 54) x (length + 80) metres.

    One frame every 2 s at 10 m/s (20 m apart, 75 % forward overlap) is what a 1 fps analysis keeps of
    a survey video after keyframe selection anyway; pass 1.0 for every analysed frame."""
    return SurveyPair(seed, FlightPlan(lanes=lanes, length_m=length_m, frame_interval_s=frame_interval_s))


def _flight_no(flight: SurveyFlight) -> int:
    return {"before": 0, "after": 1}.get(flight.day.name, 2)


def _feature(fid: str, kind: str, ring_lonlat: Array, props: dict[str, Any]) -> dict[str, Any]:
    coords = [[round(float(x), 8), round(float(y), 8)] for x, y in ring_lonlat]
    coords.append(coords[0])
    return {
        "type": "Feature",
        "properties": {"id": fid, "kind": kind, **props},
        "geometry": {"type": "Polygon", "coordinates": [coords]},
    }


def _ar1(rng: np.random.Generator, n: int, sigma: float, rho: float) -> Array:
    out = np.zeros(n)
    v = rng.normal(0, sigma)
    for i in range(n):
        v = rho * v + math.sqrt(1 - rho * rho) * rng.normal(0, sigma)
        out[i] = v
    return out


def _wrap(deg: float) -> float:
    return (deg + 180.0) % 360.0 - 180.0


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description="write a survey pair's textures and a few frames as JPEG")
    ap.add_argument("--seed", type=int, default=TUNING_SEEDS[0])
    ap.add_argument("--out", type=Path, default=Path("var/survey-preview"))
    args = ap.parse_args(argv)
    pair = make_pair(args.seed)
    args.out.mkdir(parents=True, exist_ok=True)
    for flight in (pair.before, pair.after):
        frames = list(flight.frames())
        assert flight.texture is not None
        cv2.imwrite(str(args.out / f"{flight.flight_id}-ground.jpg"), flight.texture[::4, ::4])
        for f in frames[:: max(1, len(frames) // 6)]:
            cv2.imwrite(str(args.out / f"{flight.flight_id}-{f.seq:03d}.jpg"), f.image)
    for t in pair.truth:
        print(f"{t.id} {t.kind:9s} {t.colour:16s} {t.area_m2:6.1f} m2 {t.lat_deg:.6f},{t.lon_deg:.6f} {t.registry}")
    print(f"areas (m2): {[round(ring_area(s.ring), 1) for s in pair.world.new]}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
