"""Construction detector on generated drone flights, run as a user runs it, and scored against the truth.

Each flight case is a scenario (benchmarks/scenarios/drone.py: cached H.264 video + DJI SRT + the scene's
own registry + truth) with the camera's *true* focal set `focal_off` away from what the user's config
says. The detector is configured the way an operator configures it: `configs/reference/construction.yaml`
with the flight's overrides written as YAML (`drone_model`, the registry file); frames go through ingest
(PyAV decode, SRT parse, analysis-rate sampling), the detector writes its flight summary (GeoJSON, text,
PNG), and only then does `score_flight` - the one function here that reads the truth - compare the
summary's sites and the `start` events with the structures of the scene.

No model is involved: blue steel roofs come from the weights-free cue. Scaffolds and the bare-soil
construction site are in every scene but need a trained model (or a change between surveys); they are
reported as `needs_model`, not as misses.

    python -m benchmarks.construction --seeds 1 2 3 --out var/bench     # tuning seeds
    python -m benchmarks.construction --seeds 101 102 103               # gate seeds (report only)
    python -m benchmarks.construction --gate [--no-calibration]         # exactly the gates' flights
"""

from __future__ import annotations

import argparse
import json
import math
import statistics
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import yaml
from shapely.geometry import Point, Polygon

from benchmarks.report import environment, write_report
from benchmarks.scenarios.drone import GATE_SEEDS, TUNING_SEEDS, FlightFiles, cached_flight
from benchmarks.scenarios.drone_flight import FlightPlan, nadir_plan, oblique_plan
from detectors.construction import ConstructionConfig, ConstructionDetector, FlightProcessor, FlightResult
from detectors.event import Phase
from ingest.files import iter_file_frames

REPO = Path(__file__).resolve().parents[1]
REFERENCE_CONFIG = REPO / "configs" / "reference" / "construction.yaml"

FlightKind = Literal["nadir", "oblique"]

NOMINAL_FOCAL_PX: dict[str, float] = {
    "nadir": 1331.3,
    "oblique": 1280.0,
}
"""The focal (pixels, 1920 wide) the user's configuration implies for each flight kind: nadir - the SRT's
`focal_len: 24.00` read as a 35 mm-equivalent on a 4:3 sensor (24 / 43.27 mm x 2400 px); oblique - the
`dji_phantom_4_rtk` model's 8.8 mm lens on a 13.2 mm wide sensor spanning the frame (8.8 / 13.2 x 1920).
A case's true focal is this times (1 + focal_off)."""

USER_OVERRIDES: dict[str, str] = {
    "nadir": "drone_model: generic\n",
    "oblique": "drone_model: dji_phantom_4_rtk\n",
}
"""What an operator writes for each flight (besides the registry path): the drone model."""

MATCH_GROW_M = 3.0
"""A site belongs to a structure when its position is inside the outline grown by this, or close to it."""


@dataclass(frozen=True)
class FlightCase:
    """One generated flight: its kind, scene seed and how far the true focal is from the configured one."""

    kind: FlightKind
    seed: int
    focal_off: float = 0.0

    @property
    def name(self) -> str:
        return f"{self.kind}-s{self.seed}-f{round(100 * self.focal_off):+d}"

    def plan(self) -> FlightPlan:
        focal = NOMINAL_FOCAL_PX[self.kind] * (1.0 + self.focal_off)
        return nadir_plan(focal) if self.kind == "nadir" else oblique_plan(focal)

    def files(self, cache_dir: Path | None = None) -> FlightFiles:
        return cached_flight(self.seed, self.plan(), f"{self.kind}-s{self.seed}-f{self.focal_off:+.3f}", cache_dir)


GATE_CASES: tuple[FlightCase, ...] = (
    FlightCase("nadir", GATE_SEEDS[0], 0.0),
    FlightCase("nadir", GATE_SEEDS[1], +0.1),
    FlightCase("nadir", GATE_SEEDS[2], -0.1),
    FlightCase("oblique", GATE_SEEDS[0], +0.1),
    FlightCase("oblique", GATE_SEEDS[1], -0.1),
    FlightCase("oblique", GATE_SEEDS[2], 0.0),
)
"""The accuracy gates' flights (tests/detectors/construction/test_accuracy_gate.py): each focal offset once
per flight kind, each gate seed once per kind. Never TUNING_SEEDS."""

FOUND_WITHIN_M = 5.0
"""A new structure counts as found within this distance (the issue's 'found within 5 m')."""


def user_config(overrides_yaml: str) -> ConstructionConfig:
    """The reference configuration with an operator's overrides (YAML text) merged over it."""
    doc = yaml.safe_load(REFERENCE_CONFIG.read_text(encoding="utf-8"))
    section: dict[str, Any] = doc["detectors"]["construction"]
    over = yaml.safe_load(overrides_yaml) or {}
    return ConstructionConfig.model_validate(_merge(section, over))


def _merge(base: dict[str, Any], over: dict[str, Any]) -> dict[str, Any]:
    out = dict(base)
    for k, v in over.items():
        out[k] = _merge(out[k], v) if isinstance(v, dict) and isinstance(out.get(k), dict) else v
    return out


@dataclass
class RunOutput:
    result: FlightResult
    summary_paths: dict[str, Path]
    detector_cpu_s: float
    frames: int


def run_case(case: FlightCase, out_dir: Path, *, extra_yaml: str = "", cache_dir: Path | None = None) -> tuple[
    RunOutput, FlightFiles
]:
    """Run the detector over one case's video + SRT as configured by a user; write the flight summary."""
    files = case.files(cache_dir)
    overrides = USER_OVERRIDES[case.kind] + f"registry:\n  path: {json.dumps(str(files.registry))}\n" + extra_yaml
    detector = ConstructionDetector(user_config(overrides))
    proc = FlightProcessor(detector, flight_id=case.name)
    busy = 0.0
    frames = iter_file_frames(files.video, case.name, analysis_fps=detector.analysis_fps, telemetry=files.srt,
                              start_utc_s=files.start_utc_s)
    for frame in frames:
        t0 = time.process_time()
        proc.feed(frame)
        busy += time.process_time() - t0
    t0 = time.process_time()
    result = proc.finish()
    busy += time.process_time() - t0
    paths = result.summary.write(out_dir / case.name)
    return RunOutput(result, paths, busy, result.summary.frames_analysed), files


# -- scoring (the only code that reads the truth) --------------------------------------------------------


@dataclass
class FlightScore:
    """A flight's sites against the truth (positions in metres, areas in m²)."""

    case: str
    new_findable: int = 0
    found: dict[str, float] = field(default_factory=dict)
    """Structure id -> position error of the new site found for it."""
    areas: dict[str, float] = field(default_factory=dict)
    missed: list[str] = field(default_factory=list)
    duplicates: int = 0
    registered_alerted: list[str] = field(default_factory=list)
    permitted_alerted: list[str] = field(default_factory=list)
    """The registered structures alerted as new that are permitted roofs (not buildings)."""
    distractor_alerted: list[str] = field(default_factory=list)
    nothing_alerted: int = 0
    known_seen: int = 0
    inside: int = 0
    placed: int = 0
    """Sites matched to a structure (new or known): the denominator of the honesty share."""
    stated_m: list[float] = field(default_factory=list)
    """Stated accuracy_m of each placed site; `actual_m` holds its true error, in the same order."""
    actual_m: list[float] = field(default_factory=list)
    needs_model_found: int = 0
    needs_model: int = 0
    starts: int = 0
    new_sites: int = 0
    calibration: dict[str, Any] = field(default_factory=dict)
    true_focal_px: float = math.nan

    @property
    def false_sites(self) -> int:
        return len(self.registered_alerted) + len(self.distractor_alerted) + self.nothing_alerted

    @property
    def median_error_m(self) -> float:
        return statistics.median(self.found.values()) if self.found else math.nan

    @property
    def max_error_m(self) -> float:
        return max(self.found.values(), default=math.nan)

    @property
    def found_within(self) -> int:
        """New structures found within FOUND_WITHIN_M of their truth."""
        return sum(1 for e in self.found.values() if e <= FOUND_WITHIN_M)

    @property
    def focal_error(self) -> float:
        """The used focal over the true one, minus 1 (NaN without a calibration record)."""
        focal = self.calibration.get("focal_px")
        return float(focal) / self.true_focal_px - 1.0 if focal else math.nan

    def row(self) -> dict[str, Any]:
        cal = self.calibration
        return {
            "flight": self.case,
            "calibration": cal.get("status"),
            "focal_px": cal.get("focal_px"),
            "true_focal_px": round(self.true_focal_px, 1),
            "focal_err_pct": round(100 * self.focal_error, 2),
            "new": self.new_findable,
            "found": len(self.found),
            "within_5m": self.found_within,
            "missed": ",".join(self.missed) or "-",
            "dup": self.duplicates,
            "false": self.false_sites,
            "false_what": ",".join(self.registered_alerted + self.distractor_alerted) or "-",
            "permitted_alerted": len(self.permitted_alerted),
            "known": self.known_seen,
            "err_med_m": round(self.median_error_m, 2),
            "err_max_m": round(self.max_error_m, 2),
            "inside": f"{self.inside}/{self.placed}",
            "smallest_found_m2": round(min((self.areas[k] for k in self.found), default=math.nan), 1),
        }


def _to_local(lat: float, lon: float, lat0: float, lon0: float) -> tuple[float, float]:
    """Degrees -> metres east/north of (lat0, lon0) on a sphere (the scorer's own, a few mm over 1 km)."""
    r = 6_371_008.8
    return math.radians(lon - lon0) * r * math.cos(math.radians(lat0)), math.radians(lat - lat0) * r


def score_flight(truth_path: Path, summary_geojson: Path, start_events: int, case: str = "") -> FlightScore:
    """Compare a flight summary's sites with the scene's structures (see module docstring)."""
    truth = json.loads(truth_path.read_text(encoding="utf-8"))
    doc = json.loads(summary_geojson.read_text(encoding="utf-8"))
    lat0, lon0 = truth["origin_lat_deg"], truth["origin_lon_deg"]
    structures = truth["structures"]
    shapes = {s["id"]: Polygon(s["ring_m"]) for s in structures}
    score = FlightScore(case=case, starts=start_events, calibration=doc["flight"].get("camera_calibration") or {},
                        true_focal_px=float(truth["plan"]["camera"]["focal_px"]))
    findable = [s for s in structures if s["status"] == "new" and not s["needs_model"]]
    score.new_findable = len(findable)
    score.needs_model = sum(1 for s in structures if s["status"] == "new" and s["needs_model"])
    hits: dict[str, list[float]] = {s["id"]: [] for s in findable}
    for f in doc["features"]:
        p = f["properties"]
        if p.get("layer") != "site" or p["status"] not in ("new", "known"):
            continue
        e, n = _to_local(p["lat"], p["lon"], lat0, lon0)
        best, best_d = _nearest_structure(Point(e, n), p["kind"], structures, shapes)
        new = p["status"] == "new"
        score.new_sites += int(new)
        if best is None:
            score.nothing_alerted += int(new)
            continue
        _score_site(score, hits, best, best_d, float(p["accuracy_m"]), new)
    for s in findable:
        got = hits[s["id"]]
        score.areas[s["id"]] = float(s["area_m2"])
        if not got:
            score.missed.append(f"{s['id']}({s['area_m2']:.0f}m2)")
            continue
        score.duplicates += len(got) - 1
        score.found[s["id"]] = min(got)
    return score


def _nearest_structure(
    where: Point, kind: str, structures: Sequence[dict[str, Any]], shapes: dict[str, Polygon]
) -> tuple[dict[str, Any] | None, float]:
    """The structure a site names: the closest compatible one it lies in (grown) or within 8 m of."""
    best, best_d = None, math.inf
    for s in structures:
        compatible = s["kind"] == kind or s["status"] == "distractor" or s["needs_model"]
        d = where.distance(Polygon(s["ring_m"]).centroid)
        if compatible and (shapes[s["id"]].buffer(MATCH_GROW_M).contains(where) or d <= 8.0) and d < best_d:
            best, best_d = s, d
    return best, best_d


def _score_site(
    score: FlightScore, hits: dict[str, list[float]], best: dict[str, Any], best_d: float, accuracy_m: float,
    new: bool,
) -> None:
    """Count one site matched to structure `best` at `best_d` metres from its centre."""
    if best["status"] != "distractor" and not best["needs_model"]:
        score.placed += 1
        score.inside += int(best_d <= accuracy_m)
        score.stated_m.append(accuracy_m)
        score.actual_m.append(best_d)
    if best["needs_model"]:
        score.needs_model_found += int(new)
    elif best["status"] == "distractor":
        if new:
            score.distractor_alerted.append(f"{best['id']}:{best['kind']}")
    elif best["status"] == "registered":
        if new:
            score.registered_alerted.append(best["id"])
            if best["kind"] != "building":
                score.permitted_alerted.append(best["id"])
        else:
            score.known_seen += 1
    elif new:
        hits[best["id"]].append(best_d)


def run_and_score(
    case: FlightCase, out_dir: Path, *, extra_yaml: str = "", cache_dir: Path | None = None
) -> tuple[FlightScore, RunOutput]:
    out, files = run_case(case, out_dir, extra_yaml=extra_yaml, cache_dir=cache_dir)
    starts = sum(1 for e in out.result.events if e.phase == Phase.START)
    return score_flight(files.truth, out.summary_paths["geojson"], starts, case.name), out


def summarise(scores: Sequence[FlightScore]) -> dict[str, Any]:
    """The figures of a set of flights, by flight kind and focal offset."""
    out: dict[str, Any] = {}
    for kind in ("nadir", "oblique"):
        for off in sorted({s.case.rsplit("-f", 1)[1] for s in scores}):
            group = [s for s in scores if s.case.startswith(kind) and s.case.endswith(f"-f{off}")]
            errs = [e for s in group for e in s.found.values()]
            if not group:
                continue
            out[f"{kind} focal {off}%"] = {
                "flights": len(group),
                "found": f"{sum(len(s.found) for s in group)}/{sum(s.new_findable for s in group)}",
                "err_median_m": round(statistics.median(errs), 2) if errs else None,
                "err_max_m": round(max(errs), 2) if errs else None,
                "within_5m": f"{sum(s.found_within for s in group)}/{sum(s.new_findable for s in group)}",
                "duplicates": sum(s.duplicates for s in group),
                "false_sites": sum(s.false_sites for s in group),
                "permitted_alerted": sum(len(s.permitted_alerted) for s in group),
                "focal_err_pct": [round(100 * s.focal_error, 2) for s in group],
            }
    inside = sum(s.inside for s in scores)
    placed = sum(s.placed for s in scores)
    out["inside_stated_accuracy"] = f"{inside}/{placed} ({inside / placed:.0%})" if placed else None
    stated = [x for s in scores for x in s.stated_m]
    actual = [x for s in scores for x in s.actual_m]
    if stated:
        out["stated_accuracy_m_median_max"] = [round(statistics.median(stated), 2), round(max(stated), 2)]
        out["actual_error_m_median_max"] = [round(statistics.median(actual), 2), round(max(actual), 2)]
    out["needs_model_found"] = f"{sum(s.needs_model_found for s in scores)}/{sum(s.needs_model for s in scores)}"
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description="construction detector on generated flights, scored against truth")
    ap.add_argument("--out", default="var/bench")
    ap.add_argument("--seeds", type=int, nargs="*", default=list(TUNING_SEEDS))
    ap.add_argument("--kinds", nargs="*", default=["nadir", "oblique"], choices=["nadir", "oblique"])
    ap.add_argument("--focal-offs", type=float, nargs="*", default=[0.0, 0.1, -0.1])
    ap.add_argument("--no-calibration", action="store_true", help="the configured camera only (the baseline)")
    ap.add_argument("--gate", action="store_true", help="exactly the gates' flights (GATE_CASES); ignores --seeds etc.")
    args = ap.parse_args(argv)
    extra = "calibration:\n  enabled: false\n" if args.no_calibration else ""
    cases = list(GATE_CASES) if args.gate else [
        FlightCase(kind, seed, off) for seed in args.seeds for kind in args.kinds for off in args.focal_offs
    ]
    scores, rows = [], []
    t0 = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        for case in cases:
            score, run = run_and_score(case, Path(tmp), extra_yaml=extra)
            row = {**score.row(), "cpu_ms_per_frame": round(1000 * run.detector_cpu_s / max(1, run.frames))}
            scores.append(score)
            rows.append(row)
            print(row, flush=True)
    seeds = sorted({c.seed for c in cases})
    summary = {**summarise(scores), "wall_s": round(time.perf_counter() - t0, 1), "seeds": seeds}
    print(json.dumps(summary, indent=1))
    suite = "construction-uncalibrated" if args.no_calibration else "construction"
    jpath, mpath = write_report(args.out, suite, environment(), rows, summary, notes=[
        "generated flights (benchmarks/scenarios/drone.py), 1920x1080 at 1 fps, through H.264 + SRT + ingest",
        "detector configured from configs/reference/construction.yaml + per-flight drone_model and registry",
        "blue roofs from the weights-free cue; scaffolds and bare-soil sites need a model (needs_model)",
    ])
    print(f"wrote {jpath} and {mpath}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
