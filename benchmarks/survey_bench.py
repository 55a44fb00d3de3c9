"""Change between surveys: accuracy on generated before/after survey pairs, processing rate, storage.

For each seed, `benchmarks.scenarios.survey` renders a before and an after flight over one quarter of
Shangjie District; both run through the construction detector as a user configures it
(`detectors.construction.survey.enabled: true`, the district's registry, mosaics in a local evidence
store), the after flight being compared with the before one. The scorer (`score`) is the only code that
reads the truth: each new structure must be alerted exactly once; permitted and pending-review ones must
not be; any other alert is a false change. Figures:

- new structures found by kind (and named right), position error (median, worst);
- false changes per km2 of compared ground;
- processing rate in ha per CPU-hour: CPU seconds of the detector's survey work (keyframe selection and
  shrinking during the flight, mosaic, archive, comparison at its end) per hectare of mosaic, decode
  excluded (see `gridwatch bench decode`);
- storage: bytes of the COG mosaic (+ view index) per km2.

    python -m benchmarks.survey_bench                      # gate seeds, report in var/bench/survey
    python -m benchmarks.survey_bench --seeds 11 12 13     # the tuning seeds
    python -m benchmarks.survey_bench --scale-lanes 7 --scale-length 700   # a larger flight for the rate
"""

from __future__ import annotations

import argparse
import math
import statistics
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import shapely
from shapely.geometry import Polygon

from alerts.evidence_config import EvidenceConfig
from alerts.survey_store import survey_store
from benchmarks.report import environment, markdown_table, write_report
from benchmarks.scenarios.survey import GATE_SEEDS, TUNING_SEEDS, FlightPlan, SurveyPair, TruthStructure, make_pair
from benchmarks.scenarios.survey_camera import LocalTangentPlane
from detectors.construction import ConstructionConfig, ConstructionDetector, FlightProcessor, Registry
from detectors.construction.events import ConstructionDetails
from detectors.construction.survey.run import SurveyRecorder, SurveyResult
from detectors.construction.survey.summary import ChangeReport
from detectors.event import Event
from ingest.frame import Frame

MATCH_REACH_M = 4.0
"""A change counts for a structure when its footprint comes within this distance of the structure's."""


@dataclass
class PairRun:
    """One pair through the detector: the after flight's survey result and events, and the CPU spent."""

    seed: int
    pair: SurveyPair
    result: SurveyResult
    events: list[Event]
    survey_cpu_s: float
    before_cpu_s: float
    mosaic_area_m2: float
    store_dir: Path


@dataclass
class Score:
    """The scorer's verdict on one pair (truth read here only)."""

    seed: int
    found: dict[str, int] = field(default_factory=dict)
    """Truth id -> number of alerted changes matching it (1 is right)."""
    kinds: dict[str, str] = field(default_factory=dict)
    """Truth id -> truth kind."""
    named: dict[str, str] = field(default_factory=dict)
    """Truth id -> kind the detector named it (matched ones only)."""
    errors_m: dict[str, float] = field(default_factory=dict)
    filtered_alerted: list[str] = field(default_factory=list)
    """Permitted or pending-review structures that were alerted (should be none)."""
    false_changes: list[ChangeReport] = field(default_factory=list)
    compared_km2: float = 0.0

    @property
    def missed(self) -> list[str]:
        return [t for t, n in self.found.items() if n == 0]

    @property
    def duplicated(self) -> list[str]:
        return [t for t, n in self.found.items() if n > 1]


def survey_config(registry_path: str | None = None) -> ConstructionConfig:
    """The construction detector as a user turns surveys on (everything else default)."""
    return ConstructionConfig.model_validate({"survey": {"enabled": True}, "registry": {"path": registry_path}})


class TimedSurveyRecorder(SurveyRecorder):
    """The detector's survey recorder, counting the CPU time of its own work (the rate's numerator)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.cpu_s: dict[str, float] = {}

    def add(self, frame: Frame) -> None:
        t = time.process_time()
        super().add(frame)
        self.cpu_s[frame.camera_id] = self.cpu_s.get(frame.camera_id, 0.0) + time.process_time() - t

    def finish(self, flight_id: str, now: float | None = None) -> SurveyResult | None:
        t = time.process_time()
        out = super().finish(flight_id, now)
        self.cpu_s[flight_id] = self.cpu_s.get(flight_id, 0.0) + time.process_time() - t
        return out


def run_pair(pair: SurveyPair, store_dir: Path, config: ConstructionConfig | None = None) -> PairRun:
    """Fly the before then the after flight through one construction detector with surveys on, as the
    service does (frames through `process`, the flight ended with `end_flight`)."""
    cfg = config or survey_config()
    registry = Registry.from_geojson(pair.registry_geojson(), source=f"survey-{pair.seed}-registry")
    detector = ConstructionDetector(cfg, registry=registry)
    recorder = TimedSurveyRecorder(
        cfg.survey,
        cfg.camera,
        cfg.geometry,
        registry,
        known_min_overlap=cfg.registry.known_min_overlap,
        tolerance_m=cfg.registry.tolerance_m,
        search_radius_m=cfg.registry.search_radius_m,
        store=survey_store(EvidenceConfig.model_validate({"store": {"type": "local", "dir": str(store_dir)}})),
        keep_canvases=True,
    )
    detector.survey = recorder
    events: list[Event] = []
    for flight in (pair.before, pair.after):
        proc = FlightProcessor(detector, analysis_fps=0)
        for frame in flight.frames():
            proc.feed(frame)
        events += [e for e in proc.finish().events
                   if isinstance(e.details, ConstructionDetails) and e.details.change is not None]
        flight.texture = None
    result = recorder.results[pair.after.flight_id]
    return PairRun(
        pair.seed,
        pair,
        result,
        events,
        recorder.cpu_s[pair.after.flight_id],
        recorder.cpu_s[pair.before.flight_id],
        result.summary.mosaic_area_m2,
        store_dir,
    )


def score(run: PairRun) -> Score:
    """Match alerted changes to the truth (see the module docstring)."""
    out = Score(run.seed, compared_km2=run.result.summary.compared_area_m2 / 1e6)
    truth: list[TruthStructure] = run.pair.truth
    polys = {t.id: Polygon(_metres(t.ring_lonlat, t.lat_deg, t.lon_deg)) for t in truth}
    alerted = [c for c in run.result.summary.changes if c.status == "new"]
    for t in truth:
        if t.registry == "none":
            out.found[t.id] = 0
            out.kinds[t.id] = t.kind
    for c in alerted:
        hits = []
        for t in truth:
            ring = _metres(c.ring_lonlat, t.lat_deg, t.lon_deg)
            gap = shapely.distance(Polygon(ring).buffer(0), polys[t.id])
            if gap <= MATCH_REACH_M:
                hits.append((gap, _distance_m(c.lat_deg, c.lon_deg, t.lat_deg, t.lon_deg), t))
        if not hits:
            out.false_changes.append(c)
            continue
        _, err, t = min(hits, key=lambda h: (h[0], h[1]))
        if t.registry != "none":
            out.filtered_alerted.append(t.id)
            continue
        out.found[t.id] += 1
        if out.found[t.id] == 1:
            out.errors_m[t.id] = err
            out.named[t.id] = c.kind
    return out


def _metres(ring_lonlat: np.ndarray, lat0: float, lon0: float) -> np.ndarray:
    """A lon/lat ring in metres on the generator's own tangent plane at (lat0, lon0): the scorer measures in
    the truth's frame, never with the detector's geodesy it is grading."""
    e, n = LocalTangentPlane(lat0, lon0).from_lat_lon(ring_lonlat[:, 1], ring_lonlat[:, 0])
    return np.column_stack([e, n])


def _distance_m(lat_deg: float, lon_deg: float, lat0_deg: float, lon0_deg: float) -> float:
    """Ground distance between two points, on the generator's tangent plane at the second (truth) point."""
    e, n = LocalTangentPlane(lat0_deg, lon0_deg).from_lat_lon(np.array(lat_deg), np.array(lon_deg))
    return float(math.hypot(float(e), float(n)))


@dataclass
class Figures:
    """What the benchmark reports over several seeds."""

    structures: int
    found_once: int
    missed: list[str]
    duplicated: list[str]
    filtered_alerted: list[str]
    by_kind: dict[str, tuple[int, int, int]]
    """kind -> (structures, found, named right)."""
    false_changes: int
    compared_km2: float
    error_median_m: float
    error_worst_m: float
    survey_cpu_s: float
    mosaic_ha: float
    storage_bytes: int

    @property
    def false_per_km2(self) -> float:
        return self.false_changes / self.compared_km2 if self.compared_km2 > 0 else math.nan

    @property
    def ha_per_cpu_hour(self) -> float:
        return self.mosaic_ha / (self.survey_cpu_s / 3600.0) if self.survey_cpu_s > 0 else math.nan

    @property
    def mb_per_km2(self) -> float:
        return self.storage_bytes / 1e6 / (self.mosaic_ha / 100.0) if self.mosaic_ha > 0 else math.nan


def figures(runs: Sequence[PairRun], scores: Sequence[Score]) -> Figures:
    errors = [e for s in scores for e in s.errors_m.values()]
    by_kind: dict[str, list[int]] = {}
    for s in scores:
        for tid, kind in s.kinds.items():
            row = by_kind.setdefault(kind, [0, 0, 0])
            row[0] += 1
            row[1] += int(s.found[tid] >= 1)
            row[2] += int(s.named.get(tid) == kind)
    storage = sum(r.result.record.mosaic_bytes + r.result.record.views_bytes for r in runs if r.result.record)
    return Figures(
        structures=sum(len(s.found) for s in scores),
        found_once=sum(sum(1 for n in s.found.values() if n == 1) for s in scores),
        missed=[f"{s.seed}:{t}" for s in scores for t in s.missed],
        duplicated=[f"{s.seed}:{t}" for s in scores for t in s.duplicated],
        filtered_alerted=[f"{s.seed}:{t}" for s in scores for t in s.filtered_alerted],
        by_kind={k: (v[0], v[1], v[2]) for k, v in sorted(by_kind.items())},
        false_changes=sum(len(s.false_changes) for s in scores),
        compared_km2=sum(s.compared_km2 for s in scores),
        error_median_m=statistics.median(errors) if errors else math.nan,
        error_worst_m=max(errors) if errors else math.nan,
        survey_cpu_s=sum(r.survey_cpu_s for r in runs),
        mosaic_ha=sum(r.mosaic_area_m2 for r in runs) / 1e4,
        storage_bytes=storage,
    )


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description="change between surveys: accuracy, rate, storage")
    ap.add_argument("--seeds", type=int, nargs="+", default=list(GATE_SEEDS))
    ap.add_argument("--out", type=Path, default=Path("var/bench/survey"))
    ap.add_argument(
        "--frame-interval", type=float, default=2.0, help="seconds between frames (1.0: every analysed frame)"
    )
    ap.add_argument("--scale-lanes", type=int, default=0, help="also fly one larger pair with this many lanes")
    ap.add_argument("--scale-length", type=float, default=600.0)
    args = ap.parse_args(argv)
    rows: list[dict[str, Any]] = []
    runs, scores = [], []
    with tempfile.TemporaryDirectory(prefix="gw-survey-bench-") as tmp:
        for seed in args.seeds:
            run = run_pair(make_pair(seed, frame_interval_s=args.frame_interval), Path(tmp) / f"store-{seed}")
            s = score(run)
            runs.append(run)
            scores.append(s)
            rows.append(_row(run, s))
            print(_line(run, s), flush=True)
        fig = figures(runs, scores)
        scale_row = None
        if args.scale_lanes:
            pair = SurveyPair(
                args.seeds[0] + 1000,
                FlightPlan(lanes=args.scale_lanes, length_m=args.scale_length, frame_interval_s=2.0),
            )
            big = run_pair(pair, Path(tmp) / "store-scale")
            scale_row = _row(big, score(big))
            print("scale:", _line(big, score(big)), flush=True)
    summary = {
        "new structures found once": f"{fig.found_once}/{fig.structures}",
        "found by kind (found/all, named right)": {k: f"{v[1]}/{v[0]}, {v[2]} named" for k, v in fig.by_kind.items()},
        "missed": fig.missed,
        "duplicated": fig.duplicated,
        "permitted/pending alerted": fig.filtered_alerted,
        "false changes per km2": round(fig.false_per_km2, 1),
        "false changes": f"{fig.false_changes} over {fig.compared_km2:.2f} km2",
        "position error median / worst (m)": f"{fig.error_median_m:.2f} / {fig.error_worst_m:.2f}",
        "rate (ha per CPU-hour)": round(fig.ha_per_cpu_hour),
        "storage (MB per km2, COG + view index)": round(fig.mb_per_km2, 2),
    }
    if scale_row is not None:
        rows.append({**scale_row, "seed": f"scale {scale_row['seed']}"})
        summary["rate on the larger flight (ha per CPU-hour)"] = scale_row["ha_per_cpu_h"]
    notes = [
        "generated scenes (benchmarks/scenarios/survey.py, independent of the detector); seeds "
        f"{args.seeds}; tuning seeds were {', '.join(map(str, TUNING_SEEDS))}",
        "rate: CPU time (time.process_time) of the survey work only; decoding the video is not included "
        "(gridwatch bench decode); frames are 1280x720 (4K frames add the cost of shrinking each keyframe)",
        "storage: JPEG-in-COG of generated ground; real photographs compress less (expect 2-4x)",
    ]
    write_report(args.out, "survey", environment(), rows, summary=summary, notes=notes)
    print(markdown_table(rows))
    for k, v in summary.items():
        print(f"{k}: {v}")
    return 0


def _row(run: PairRun, s: Score) -> dict[str, Any]:
    return {
        "seed": run.seed,
        "structures": len(s.found),
        "found_once": sum(1 for n in s.found.values() if n == 1),
        "missed": " ".join(s.missed),
        "duplicated": " ".join(s.duplicated),
        "filtered_alerted": " ".join(s.filtered_alerted),
        "false": len(s.false_changes),
        "compared_ha": round(s.compared_km2 * 100, 2),
        "err_median_m": round(statistics.median(s.errors_m.values()), 2) if s.errors_m else None,
        "err_worst_m": round(max(s.errors_m.values()), 2) if s.errors_m else None,
        "mosaic_ha": round(run.mosaic_area_m2 / 1e4, 2),
        "cpu_s": round(run.survey_cpu_s, 2),
        "ha_per_cpu_h": round(run.mosaic_area_m2 / 1e4 / (run.survey_cpu_s / 3600.0)),
        "mosaic_mb": round((run.result.record.mosaic_bytes if run.result.record else 0) / 1e6, 2),
    }


def _line(run: PairRun, s: Score) -> str:
    named = sum(1 for t, k in s.named.items() if k == s.kinds[t])
    return (
        f"seed {run.seed}: {sum(1 for n in s.found.values() if n == 1)}/{len(s.found)} found once "
        f"(missed {s.missed}, dup {s.duplicated}), {named} named right, filtered alerted {s.filtered_alerted}, "
        f"{len(s.false_changes)} false over {s.compared_km2 * 100:.1f} ha, "
        f"errors {sorted(round(e, 1) for e in s.errors_m.values())}, "
        f"{run.survey_cpu_s:.1f} CPU-s for {run.mosaic_area_m2 / 1e4:.1f} ha"
    )


if __name__ == "__main__":
    raise SystemExit(main())
