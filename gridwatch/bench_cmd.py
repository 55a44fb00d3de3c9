"""`gridwatch bench SUITE [options]`: run a benchmark suite, print its table, write its reports.

Suites: decode, infer, compare, pipeline, alerts, throw, district (measure); size (cameras per node and
nodes for a deployment, from the reports of earlier runs); all (every measuring suite, then size of the
district example). Each suite parses its own options (`gridwatch bench SUITE --help`) and writes JSON, markdown
and PNG plots into `--out` (default var/bench/SUITE). `--quick` runs a tiny size that only proves the
suite works (the CI smoke runs); its figures mean nothing. Progress bars appear on a terminal only.
"""

from __future__ import annotations

import argparse
import contextlib
import logging
import sys
from collections.abc import Callable
from pathlib import Path

from benchmarks import suites
from benchmarks.deployment import load_deployment
from benchmarks.district import TUNING_SEEDS, DistrictSpec, cache_root
from benchmarks.infer import default_model
from benchmarks.kafka_broker import kafka_broker, parse_security
from benchmarks.measured import find_reports
from benchmarks.pipeline_spec import PipelineSpec
from benchmarks.progress import wanted
from benchmarks.sizing import missing_suites, size
from benchmarks.sizing_costs import MissingFiguresError
from benchmarks.sizing_report import render_text, write
from foundation.errors import ConfigError
from models.weights import resolve_fetched

BENCH_ROOT = Path("var/bench")
DISTRICT_EXAMPLE = Path("configs/deployments/district-example.yaml")
MEASURING = ("decode", "infer", "compare", "pipeline", "alerts", "throw", "district")
SUITES = (*MEASURING, "size", "all")

Runner = Callable[[argparse.Namespace], int]


def _parser(suite: str, description: str) -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog=f"gridwatch bench {suite}", description=description)
    p.add_argument("--out", type=Path, default=None, help=f"report directory (default {BENCH_ROOT}/{suite})")
    p.add_argument("--quick", action="store_true", help="tiny size: proves the suite runs (CI smoke)")
    p.add_argument("--no-progress", action="store_true", help="no progress bars even on a terminal")
    return p


def _progress(args: argparse.Namespace) -> bool:
    return wanted(None) and not args.no_progress


def _out(args: argparse.Namespace, suite: str) -> Path:
    return Path(args.out) if args.out is not None else BENCH_ROOT / suite


def _show(result: suites.SuiteResult) -> None:
    print(f"\n== gridwatch bench {result.suite}  ->  {result.out_dir}\n")
    print(result.table)
    if result.summary:
        print("Summary:")
        for key, value in result.summary.items():
            print(f"- {key}: {value}")
    if result.notes:
        print("Notes:")
        for note in result.notes:
            print(f"- {note}")
    print("Files: " + ", ".join(str(f) for f in result.files))


def _pipeline_spec(args: argparse.Namespace) -> PipelineSpec:
    width, height = (int(v) for v in args.resolution.lower().split("x"))
    return PipelineSpec(
        cameras=args.cameras, seconds=args.seconds, warmup_s=args.warmup, width=width, height=height,
        stream_fps=args.stream_fps, analysis_fps=args.fps, decode=args.decode, source=args.source,
        model=args.model, imgsz=args.imgsz, max_batch=args.max_batch, threads=args.threads, workers=args.workers,
        kafka=not args.no_kafka, bootstrap=args.bootstrap, scrape_every_s=args.scrape_every,
    )


def _measuring_parser(suite: str) -> argparse.ArgumentParser:
    """The option parser of one measuring suite (any other name gets the throw suite's, as before)."""
    description, add_options = _SUITE_OPTIONS.get(suite, _SUITE_OPTIONS["throw"])
    p = _parser(suite, description)
    add_options(p)
    return p


def _decode_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--seconds", type=float, default=6.0, help="clip length (default 6)")
    p.add_argument("--repeats", type=int, default=3, help="runs per case, median reported (default 3)")


def _infer_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--model", type=Path, help="ONNX model (default: cached yolov8n, dynamic shapes)")
    p.add_argument("--batches", type=int, nargs="+", default=[1, 2, 4, 8])
    p.add_argument("--seconds", type=float, default=10.0, help="paired calls per batch size (default 10)")
    p.add_argument("--threads", type=int, default=2, help="ONNX Runtime intra-op threads")
    p.add_argument("--no-int8", action="store_true")
    p.add_argument("--no-rect", action="store_true")
    p.add_argument("--no-ultralytics", action="store_true")


def _compare_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--model", type=Path, help="ONNX model (default: cached yolov8n, dynamic shapes)")
    p.add_argument("--imgsz", type=int, default=640, help="model input size (default 640)")
    p.add_argument("--batch", type=int, default=4, help="gridwatch's batch size (default 4)")
    p.add_argument("--frames", type=int, default=8, help="distinct 1080p frames cycled (default 8)")
    p.add_argument("--seconds", type=float, default=20.0, help="paired calls per batch size (default 20)")
    p.add_argument("--threads", type=int, default=2, help="ONNX Runtime intra-op threads (default 2)")
    p.add_argument("--warmup-s", type=float, default=5.0,
                   help="seconds at each clip's start left out of the after-warm-up cameras per core, for every "
                   "system alike (default 5: a camera's start, its first sweep and change background, weighs "
                   "far more in a 30 s clip than in hours of service); 0 counts the whole clips there too")
    p.add_argument("--no-ultralytics", action="store_true", help="skip Ultralytics (not installed)")


def _pipeline_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--cameras", type=int, default=4)
    p.add_argument("--seconds", type=float, default=30.0, help="measuring window (default 30)")
    p.add_argument("--warmup", type=float, default=10.0, help="seconds before the window (default 10)")
    p.add_argument("--resolution", default="640x360", help="stream size WxH (default 640x360, a sub-stream)")
    p.add_argument("--stream-fps", type=float, default=25.0)
    p.add_argument("--fps", type=float, default=2.0, help="fire detector analysis fps (default 2)")
    p.add_argument("--decode", choices=["full", "keyframes", "skip_nonref"], default="full")
    p.add_argument("--source", choices=["rtsp", "file"], default="rtsp", help="RTSP server or files")
    p.add_argument("--model", type=Path, help="ONNX model (default: cached yolov8n, dynamic shapes)")
    p.add_argument("--imgsz", type=int, default=640)
    p.add_argument("--max-batch", type=int, default=4)
    p.add_argument("--threads", type=int, default=2, help="ONNX Runtime intra-op threads")
    p.add_argument("--workers", type=int, default=0, help="ingest worker processes (0: threads)")
    p.add_argument("--no-kafka", action="store_true", help="outbox only: no frame -> ack latency")
    p.add_argument("--bootstrap", help="use this Kafka broker instead of starting one")
    p.add_argument("--scrape-every", type=float, default=2.0, help="seconds between /metrics scrapes")


def _alerts_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--bootstrap", help="use this Kafka broker instead of starting one")
    p.add_argument("--backlog", type=int, default=10_000)
    p.add_argument("--rates", default="20,100", help="comma-separated event rates of the latency runs")
    p.add_argument("--duration", type=float, default=15.0, help="seconds per latency run")
    p.add_argument("--security", default="PLAINTEXT",
                   help="listeners to measure, comma-separated: PLAINTEXT, SASL_SSL (SCRAM-SHA-512), MTLS, "
                        "or all (secured ones on the benchmark's own broker)")
    p.add_argument("--repeats", type=int, default=1, help="throughput runs per listener, interleaved (median)")


def _district_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--model", type=Path, help="ONNX fire/smoke model (default: the cached yolov8n test model, "
                   "random weights: its recall figures mean nothing)")
    p.add_argument("--manifest", type=Path, help="the model's manifest (class names, version)")
    p.add_argument("--cameras", type=int, default=30, help="cameras in the mix (default 30)")
    p.add_argument("--seed", type=int, default=2026, help="seed of the mix (default 2026; never a tuning seed)")
    p.add_argument("--vid-stride", type=int, default=12, help="analyse every k-th frame (default 12: ~2 fps)")
    p.add_argument("--imgsz", type=int, default=640)
    p.add_argument("--max-batch", type=int, default=8)
    p.add_argument("--threads", type=int, default=2, help="ONNX Runtime intra-op threads")
    p.add_argument("--clips-dir", type=Path, default=None, help="where clips are made and reused "
                   "(default $GRIDWATCH_CACHE/bench/district)")
    p.add_argument("--warmup-s", type=float, default=5.0,
                   help="seconds at each clip's start left out of the after-warm-up cameras per core, for every "
                   "system alike (default 5: a camera's start, its first sweep and change background, weighs "
                   "far more in a 30 s clip than in hours of service); 0 counts the whole clips there too")
    p.add_argument("--no-ultralytics", action="store_true", help="skip Ultralytics (not installed)")
    p.add_argument("--no-ungated", action="store_true", help="skip the ungated gridwatch run")
    p.add_argument("--fetched", metavar="NAME", help="instead of --model: trained weights fetched at set-up "
                   "(`gridwatch models fetch NAME`, e.g. fire-smoke), read from the cache")
    p.add_argument("--precision", choices=["auto", "fp32", "int8"], default="auto",
                   help="with --fetched: auto (INT8 when its stored agreement with fp32 passed), fp32 or int8")


def _throw_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--seconds", type=float, default=20.0, help="speed clip length")
    p.add_argument("--small-seconds", type=float, default=40.0, help="small-object clip length")


_SUITE_OPTIONS: dict[str, tuple[str, Callable[[argparse.ArgumentParser], None]]] = {
    "decode": (
        "CPU cost of decoding camera streams: resolution x decode mode x analysis rate",
        _decode_options,
    ),
    "infer": (
        "inference throughput per batch size: model only, pipeline, Ultralytics, INT8, rect",
        _infer_options,
    ),
    "compare": (
        "gridwatch vs Ultralytics predict vs a naive OpenCV+ORT loop, same model and frames",
        _compare_options,
    ),
    "pipeline": (
        "N simulated cameras end to end through `gridwatch run`, measured from outside",
        _pipeline_options,
    ),
    "alerts": (
        "outbox -> Kafka throughput and Event -> broker ack latency",
        _alerts_options,
    ),
    "district": (
        "cameras per core gated, ungated and with Ultralytics on a district's mix of cameras",
        _district_options,
    ),
    "throw": (
        "throw detector frames/s per core and the small-object cost of shrinking",
        _throw_options,
    ),
}
"""Each measuring suite's description and options."""


def _run_measuring(suite: str, args: argparse.Namespace, out: Path, progress: bool) -> suites.SuiteResult:
    quick = bool(args.quick)
    if suite == "decode":
        return suites.run_decode(out, seconds=args.seconds, repeats=args.repeats, quick=quick, progress=progress)
    if suite == "infer":
        return suites.run_infer(out, model=args.model, batches=args.batches, seconds=args.seconds,
                                threads=args.threads, int8=not args.no_int8,
                                rect=not args.no_rect, ultralytics=not args.no_ultralytics, quick=quick,
                                progress=progress)
    if suite == "compare":
        return suites.run_compare(out, model=args.model, imgsz=args.imgsz, batch=args.batch, frames=args.frames,
                                  seconds=args.seconds, threads=args.threads,
                                  ultralytics=not args.no_ultralytics, quick=quick, progress=progress)
    if suite == "pipeline":
        return suites.run_pipeline(out, spec=_pipeline_spec(args), quick=quick, progress=progress)
    if suite == "alerts":
        rates = [float(r) for r in args.rates.split(",") if r.strip()]
        return suites.run_alerts(out, bootstrap=args.bootstrap, backlog=args.backlog, rates=rates,
                                 duration_s=args.duration, quick=quick, progress=progress,
                                 security=parse_security(getattr(args, "security", "PLAINTEXT")),
                                 repeats=getattr(args, "repeats", 1))
    if suite == "district":
        return suites.run_district(out, spec=_district_spec(args), quick=quick, progress=progress)
    return suites.run_throw(out, seconds=args.seconds, small_seconds=args.small_seconds, quick=quick,
                            progress=progress)


def _district_spec(args: argparse.Namespace) -> DistrictSpec:
    """The spec from the options, refusing what would give meaningless figures before any clip is made."""
    for name in ("cameras", "vid_stride", "max_batch", "threads"):
        if getattr(args, name) < 1:
            raise ConfigError(f"gridwatch bench district: --{name.replace('_', '-')} must be at least 1, "
                              f"not {getattr(args, name)}")
    if args.imgsz < 32 or args.imgsz % 32:
        raise ConfigError(f"gridwatch bench district: --imgsz must be a multiple of 32 (the model's stride), "
                          f"not {args.imgsz}")
    if not 0.0 <= args.warmup_s < DistrictSpec.duration_s:
        raise ConfigError(f"gridwatch bench district: --warmup-s must be at least 0 and shorter than the clips "
                          f"({DistrictSpec.duration_s:g} s), not {args.warmup_s}")
    if args.seed in TUNING_SEEDS:
        raise ConfigError(f"gridwatch bench district: seed {args.seed} is one the gate's defaults were tuned "
                          f"on ({', '.join(map(str, TUNING_SEEDS))}); bench on another seed")
    if args.fetched is not None and args.model is not None:
        raise ConfigError("gridwatch bench district: give --model or --fetched, not both")
    for flag, path in (("--model", args.model), ("--manifest", args.manifest)):
        if path is not None and not Path(path).is_file():
            raise ConfigError(f"gridwatch bench district: {flag} {path} is not a file")
    if args.fetched is not None:
        model, fetched_manifest = resolve_fetched(args.fetched, args.precision)
        manifest = args.manifest or fetched_manifest
    else:
        model, manifest = (args.model, args.manifest) if args.model else (default_model(), None)
    clips = args.clips_dir or cache_root() / "bench" / "district"
    return DistrictSpec(model=model, manifest=manifest, cameras=args.cameras, seed=args.seed,
                        vid_stride=args.vid_stride, imgsz=args.imgsz, max_batch=args.max_batch, threads=args.threads,
                        clips_dir=clips, ultralytics=not args.no_ultralytics, ungated=not args.no_ungated,
                        warmup_s=args.warmup_s)


def _cmd_measuring(suite: str, rest: list[str]) -> int:
    args = _measuring_parser(suite).parse_args(rest)
    _show(_run_measuring(suite, args, _out(args, suite), _progress(args)))
    return 0


def _size_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="gridwatch bench size",
        description="cameras per node and nodes needed for DEPLOYMENT.yaml, from measured figures")
    p.add_argument("deployment", type=Path, help="deployment description (see configs/deployments/)")
    p.add_argument("--measured", type=Path, action="append", default=[],
                   help="report file or directory to take figures from (repeatable; default: --bench-dir)")
    p.add_argument("--bench-dir", type=Path, default=BENCH_ROOT, help=f"where suites wrote (default {BENCH_ROOT})")
    p.add_argument("--run-missing", action="store_true",
                   help="run the missing suites at quick size first (rough figures, in --bench-dir)")
    p.add_argument("--out", type=Path, default=None, help=f"report directory (default {BENCH_ROOT}/size)")
    return p


def _cmd_size(rest: list[str], progress: bool = False) -> int:
    args = _size_parser().parse_args(rest)
    dep = load_deployment(args.deployment)
    sources = args.measured or [args.bench_dir]
    reports = find_reports(sources)
    missing = missing_suites(dep, reports)
    if missing and args.run_missing:
        for suite in missing:
            print(f"running `gridwatch bench {suite} --quick` for missing figures (rough)...", file=sys.stderr)
            sub = _measuring_parser(suite).parse_args(["--quick"])
            _show(_run_measuring(suite, sub, args.bench_dir / suite, progress))
        reports = find_reports([*sources, args.bench_dir])
    try:
        sizing = size(dep, reports)
    except MissingFiguresError as exc:
        where = ", ".join(str(s) for s in sources)
        print(f"gridwatch bench size: no measured figures from {', '.join(exc.suites)} in {where}.\n"
              "Run these first (each writes its report where `size` looks):\n"
              + "".join(f"  gridwatch bench {s}\n" for s in exc.suites)
              + "or add --run-missing to run them now at quick size (rough figures).", file=sys.stderr)
        return 1
    print(render_text(sizing))
    files = write(sizing, args.out or BENCH_ROOT / "size")
    print("Files: " + ", ".join(str(f) for f in files))
    return 0


def _cmd_all(rest: list[str]) -> int:
    p = argparse.ArgumentParser(prog="gridwatch bench all",
                                description="every measuring suite at its default size, then size the district")
    p.add_argument("--out", type=Path, default=BENCH_ROOT, help=f"root of the reports (default {BENCH_ROOT})")
    p.add_argument("--quick", action="store_true", help="tiny sizes (CI smoke)")
    p.add_argument("--skip", nargs="*", default=[], choices=MEASURING, help="suites not to run")
    p.add_argument("--bootstrap", help="Kafka broker for pipeline and alerts (default: start one for both)")
    p.add_argument("--deployment", type=Path, default=DISTRICT_EXAMPLE, help="deployment sized at the end")
    p.add_argument("--no-progress", action="store_true")
    args = p.parse_args(rest)
    progress = _progress(args)
    wanted_suites = [s for s in MEASURING if s not in args.skip]
    needs_kafka = bool({"pipeline", "alerts"} & set(wanted_suites))
    broker = kafka_broker(args.bootstrap) if needs_kafka else contextlib.nullcontext(None)
    with broker as bootstrap:
        for suite in wanted_suites:
            opts = ["--quick"] if args.quick else []
            if suite in ("pipeline", "alerts") and bootstrap:
                opts += ["--bootstrap", bootstrap]
            sub = _measuring_parser(suite).parse_args(opts)
            _show(_run_measuring(suite, sub, args.out / suite, progress))
    if args.deployment.exists():
        return _cmd_size([str(args.deployment), "--bench-dir", str(args.out), "--out", str(args.out / "size")])
    return 0


def cmd_bench(args: argparse.Namespace) -> int:
    """Dispatch `gridwatch bench SUITE REST...`."""
    logging.getLogger("kafka").setLevel(logging.WARNING)
    suite, rest = str(args.suite), list(args.rest or [])
    if suite not in SUITES:
        raise ConfigError(f"unknown benchmark suite {suite!r}; choose one of: {', '.join(SUITES)}")
    if suite == "size":
        return _cmd_size(rest, wanted(None))
    if suite == "all":
        return _cmd_all(rest)
    return _cmd_measuring(suite, rest)
