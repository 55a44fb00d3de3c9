"""Construction detector benchmark: accuracy on generated drone flights, and time per analysed frame.

For each scene seed and gimbal pitch it renders a survey flight (benchmarks/scenarios/drone.py), runs the
`ConstructionDetector` over it, and scores the events against the ground truth: every new structure
alerted exactly once, position error of each alert, no alert for registered structures or distractors.

Blue roofs are found by the detector's weights-free cue on the rendered images. There is no trained
construction model in the repository, so scaffolds come from `FakeScaffoldModel`, a stand-in for the
model's scaffold class that boxes the true scaffolds in each frame (with misses and jitter): it checks
everything after the model (projection, site merge, registry), not a model's recall.

    python -m benchmarks.construction --out var/bench            # tuning seeds, in-memory frames
    python -m benchmarks.construction --seeds 101 102 --video     # through H.264 + DJI SRT + ingest
"""

from __future__ import annotations

import argparse
import math
import statistics
import tempfile
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from benchmarks.report import environment, write_report
from benchmarks.scenarios.drone import (
    START_UTC_S,
    TUNING_SEEDS,
    FlightPlan,
    FlightTrack,
    Scene,
    build_scene,
    iter_frames,
    plan_flight,
    write_flight,
)
from detectors.construction import ConstructionConfig, ConstructionDetector, FlightProcessor, Registry
from detectors.construction.cue import find_blue_roofs
from detectors.event import Event, Phase
from detectors.geometry.drone import Intrinsics, rotation_world_from_camera
from detectors.geometry.geodesy import wgs84_to_enu
from ingest.files import iter_file_frames
from ingest.frame import Frame
from models.detections import Detections

SCAFFOLD_CLASS_ID = 1
CLASS_NAMES = {0: "steel_roof", SCAFFOLD_CLASS_ID: "scaffold"}
MATCH_RADIUS_M = 12.0


class FakeScaffoldModel:
    """Stand-in for a construction model's scaffold class: boxes of the true scaffolds in a frame.

    Each visible scaffold (its top outline projected with the *true* pose) becomes a box with a few
    pixels of jitter; `miss_rate` of them are dropped, as a real model misses some.
    """

    def __init__(
        self,
        scene: Scene,
        track: FlightTrack,
        plan: FlightPlan,
        *,
        miss_rate: float = 0.15,
        jitter_px: float = 3.0,
        seed: int = 0,
    ) -> None:
        self.scene, self.track, self.plan = scene, track, plan
        self.miss_rate, self.jitter_px = miss_rate, jitter_px
        self.rng = np.random.default_rng(seed)
        self.k = Intrinsics.from_35mm(plan.width_px, plan.height_px, plan.focal_35mm).matrix()
        self.scaffolds = [s for s in scene.structures if s.kind == "scaffold"]

    def __call__(self, frame: Frame) -> Detections:
        """Boxes for the flight frame at this presentation time (frame i is at i / fps)."""
        i = min(len(self.track) - 1, max(0, round(frame.pts_s * self.plan.fps)))
        tr = self.track
        r = rotation_world_from_camera(float(tr.yaw_deg[i]), float(tr.pitch_deg[i]), float(tr.roll_deg[i]))
        cam = np.array([tr.east_m[i], tr.north_m[i], tr.alt_m[i]])
        w, h = self.plan.width_px, self.plan.height_px
        boxes, conf = [], []
        for s in self.scaffolds:
            ring = np.asarray(s.ring_m)
            p = np.column_stack([ring - cam[:2], np.full(len(ring), s.top_m - cam[2])]) @ r
            if (p[:, 2] <= 1).any():
                continue
            uv = (p @ self.k.T)[:, :2] / p[:, 2:3]
            x0, y0 = uv.min(axis=0)
            x1, y1 = uv.max(axis=0)
            inside = (min(x1, w) - max(x0, 0)) * (min(y1, h) - max(y0, 0)) / max((x1 - x0) * (y1 - y0), 1.0)
            if x1 <= 0 or y1 <= 0 or x0 >= w or y0 >= h or inside < 0.3 or self.rng.random() < self.miss_rate:
                continue
            j = self.rng.normal(0, self.jitter_px, 4)
            boxes.append(
                [max(0.0, x0 + j[0]), max(0.0, y0 + j[1]), min(w - 1.0, x1 + j[2]), min(h - 1.0, y1 + j[3])]
            )
            conf.append(float(self.rng.uniform(0.55, 0.9)))
        return Detections.from_arrays(np.asarray(boxes).reshape(-1, 4), conf, [SCAFFOLD_CLASS_ID] * len(conf))


@dataclass
class FlightScore:
    """How one flight's alerts compare with the truth."""

    seed: int
    pitch_deg: float
    new_structures: int
    alerted_once: int
    missed: list[str] = field(default_factory=list)
    duplicates: dict[str, int] = field(default_factory=dict)
    registered_alerted: list[str] = field(default_factory=list)
    distractor_alerted: list[str] = field(default_factory=list)
    unmatched_alerts: int = 0
    errors_m: dict[str, float] = field(default_factory=dict)
    kinds: dict[str, str] = field(default_factory=dict)
    frames_analysed: int = 0
    detector_ms_per_frame: float = 0.0
    known_sites: int = 0

    @property
    def max_error_m(self) -> float:
        return max(self.errors_m.values(), default=math.nan)

    @property
    def median_error_m(self) -> float:
        return statistics.median(self.errors_m.values()) if self.errors_m else math.nan

    def max_error_of(self, kind: str) -> float:
        vals = [e for sid, e in self.errors_m.items() if self.kinds.get(sid) == kind]
        return max(vals, default=math.nan)

    def row(self) -> dict[str, Any]:
        return {
            "seed": self.seed,
            "pitch_deg": self.pitch_deg,
            "new": self.new_structures,
            "alerted_once": self.alerted_once,
            "missed": len(self.missed),
            "duplicates": sum(self.duplicates.values()),
            "registered_alerted": len(self.registered_alerted),
            "distractor_alerted": len(self.distractor_alerted),
            "unmatched_alerts": self.unmatched_alerts,
            "known_sites": self.known_sites,
            "max_err_m": round(self.max_error_m, 2),
            "median_err_m": round(self.median_error_m, 2),
            "max_err_roof_m": round(self.max_error_of("steel_roof"), 2),
            "max_err_scaffold_m": round(self.max_error_of("scaffold"), 2),
            "frames": self.frames_analysed,
            "detector_ms_per_frame": round(self.detector_ms_per_frame, 1),
        }


def score_events(scene: Scene, events: Iterable[Event], seed: int, pitch_deg: float) -> FlightScore:
    """Match `start` events to structures (same kind, within MATCH_RADIUS_M or inside the outline)."""
    starts = [e for e in events if e.phase == Phase.START]
    new = [s for s in scene.structures if s.status == "new"]
    score = FlightScore(seed=seed, pitch_deg=pitch_deg, new_structures=len(new), alerted_once=0)
    hits: dict[str, list[float]] = {s.id: [] for s in new}
    for ev in starts:
        assert ev.ground is not None
        e, n = wgs84_to_enu(scene.origin_lat_deg, scene.origin_lon_deg, ev.ground.lat_deg, ev.ground.lon_deg)
        p = np.array([float(e), float(n)])
        kind = str(ev.details.get("structure_kind"))
        best, best_d = None, math.inf
        for s in scene.structures:
            d = float(np.hypot(*(np.asarray(s.centre_m) - p)))
            compatible = s.kind == kind or (s.status == "distractor" and kind == "steel_roof")
            if compatible and d < best_d and d <= max(MATCH_RADIUS_M, math.sqrt(s.area_m2)):
                best, best_d = s, d
        if best is None:
            score.unmatched_alerts += 1
        elif best.status == "new":
            hits[best.id].append(best_d)
        elif best.status == "registered":
            score.registered_alerted.append(best.id)
        else:
            score.distractor_alerted.append(best.id)
    for s in new:
        got = hits[s.id]
        score.kinds[s.id] = s.kind
        if not got:
            score.missed.append(s.id)
            continue
        if len(got) > 1:
            score.duplicates[s.id] = len(got) - 1
        else:
            score.alerted_once += 1
        score.errors_m[s.id] = min(got)
    return score


def detector_for(scene: Scene, config: ConstructionConfig | None = None) -> ConstructionDetector:
    registry = Registry.from_geojson(scene.registry_geojson(), source=f"scene {scene.seed}")
    return ConstructionDetector(config or ConstructionConfig(), class_names=CLASS_NAMES, registry=registry)


def run_flight(
    scene: Scene,
    plan: FlightPlan,
    *,
    frames: Iterator[Frame] | None = None,
    config: ConstructionConfig | None = None,
    model_seed: int = 0,
) -> tuple[FlightScore, Any]:
    """Run one flight (in-memory frames unless `frames` is given) and score it."""
    track = plan_flight(scene, plan)
    detector = detector_for(scene, config)
    model = FakeScaffoldModel(scene, track, plan, seed=model_seed)
    proc = FlightProcessor(detector, flight_id=f"scene{scene.seed}-p{int(-plan.gimbal_pitch_deg)}")
    source = frames if frames is not None else iter_frames(scene, track, plan, every=max(1, round(plan.fps)))
    busy = 0.0
    for frame in source:
        dets = model(frame)
        t0 = time.perf_counter()
        proc.feed(frame, dets)
        busy += time.perf_counter() - t0
    result = proc.finish()
    score = score_events(scene, result.events, scene.seed, plan.gimbal_pitch_deg)
    score.frames_analysed = result.summary.frames_analysed
    score.detector_ms_per_frame = 1000 * busy / max(1, result.summary.frames_analysed)
    score.known_sites = len(result.summary.known_sites)
    return score, result


def video_frames(scene: Scene, plan: FlightPlan, workdir: Path) -> Iterator[Frame]:
    """Write the flight as H.264 + DJI SRT, then read it back through ingest (PyAV decode, SRT parse)."""
    files = write_flight(workdir, scene, plan, name=f"seed{scene.seed}-p{int(-plan.gimbal_pitch_deg)}")
    return iter_file_frames(
        files.video, f"scene{scene.seed}", analysis_fps=1.0, telemetry=files.srt, start_utc_s=START_UTC_S
    )


def cue_timing(scene: Scene, repeats: int = 20) -> dict[str, float]:
    """Milliseconds per call of the blue-roof cue on a rendered 1280x720 frame and on it upscaled to 4K."""
    plan = FlightPlan()
    track = plan_flight(scene, plan)
    frame = next(f for i, f in enumerate(iter_frames(scene, track, plan, every=20)) if i == 5).image
    cfg = ConstructionConfig().cue
    out = {}
    big = np.asarray(cv2.resize(frame, (3840, 2160)), np.uint8)
    for label, img in (("1280x720", frame), ("3840x2160", big)):
        find_blue_roofs(img, cfg)
        t0 = time.perf_counter()
        for _ in range(repeats):
            find_blue_roofs(img, cfg)
        out[f"cue_ms_{label}"] = round(1000 * (time.perf_counter() - t0) / repeats, 2)
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description="construction detector accuracy and timing on generated flights")
    ap.add_argument("--out", default="var/bench")
    ap.add_argument("--seeds", type=int, nargs="*", default=list(TUNING_SEEDS))
    ap.add_argument("--pitches", type=float, nargs="*", default=[-90.0, -60.0])
    ap.add_argument("--video", action="store_true", help="go through H.264 + SRT + ingest (slower)")
    ap.add_argument("--fps", type=float, default=2.0, help="video frame rate of the generated flight")
    args = ap.parse_args(argv)
    rows = []
    t0 = time.perf_counter()
    for seed in args.seeds:
        scene = build_scene(seed)
        for pitch in args.pitches:
            plan = FlightPlan(gimbal_pitch_deg=pitch, fps=args.fps)
            with tempfile.TemporaryDirectory() as tmp:
                frames = video_frames(scene, plan, Path(tmp)) if args.video else None
                score, _ = run_flight(scene, plan, frames=frames)
            rows.append(score.row())
            print(score.row())
    summary = {
        "flights": len(rows),
        "wall_s": round(time.perf_counter() - t0, 1),
        "all_alerted_once": all(r["missed"] == 0 and r["duplicates"] == 0 for r in rows),
        "registered_alerted": sum(r["registered_alerted"] for r in rows),
        "max_err_nadir_m": max((r["max_err_m"] for r in rows if r["pitch_deg"] == -90.0), default=None),
        "max_err_oblique_m": max((r["max_err_m"] for r in rows if r["pitch_deg"] != -90.0), default=None),
        "path": "video+srt+ingest" if args.video else "in-memory frames",
    }
    summary.update(cue_timing(build_scene(args.seeds[0] if args.seeds else TUNING_SEEDS[0])))
    print(summary)
    jpath, mpath = write_report(
        args.out,
        "construction",
        environment(),
        rows,
        summary,
        notes=["scaffolds from FakeScaffoldModel (ground-truth stand-in for a model)"],
    )
    print(f"wrote {jpath} and {mpath}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
