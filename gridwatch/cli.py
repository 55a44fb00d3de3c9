"""The `gridwatch` command line: argument parsing and dispatch only; each command lives in its own module.

Exit codes: 0 success, 1 runtime failure, 2 usage or configuration error.
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

from foundation.errors import ConfigError, GridwatchError

log = logging.getLogger("gridwatch")

Handler = Callable[[argparse.Namespace], int]


def _add_run(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("run", help="run the service until SIGTERM (no --config: the embedded demo)")
    p.add_argument("--config", type=Path, help="gridwatch YAML config (default: the embedded demo)")
    p.add_argument("--cluster", action="store_true", help="take cameras from the Kafka consumer group")
    p.set_defaults(handler="gridwatch.runner:cmd_run")

    d = sub.add_parser("demo", help="generate demo media and model, run the pipeline, print the alerts")
    d.add_argument("--workdir", type=Path, default=None, help="where demo assets and the outbox go")
    d.set_defaults(handler="gridwatch.runner:cmd_demo")


def _add_replay(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("replay", help="run one camera's detectors over a video file, offline")
    p.add_argument("video", type=Path)
    p.add_argument("--config", type=Path, required=True)
    p.add_argument("--camera", required=True, help="camera (or drone flight) id from the config")
    p.add_argument("--telemetry", type=Path, help="DJI .SRT telemetry for drone footage")
    p.add_argument("--out", type=Path, help="write alerts as JSON lines here (default: stdout)")
    p.add_argument("--annotate", type=Path, help="write a video with boxes, tracks and reasons drawn")
    p.add_argument("--evidence-dir", type=Path, help="write snapshots and clips here (default: none)")
    p.add_argument("--no-progress", action="store_true", help="no progress bar even in a terminal")
    p.set_defaults(handler="gridwatch.replay:cmd_replay")


def _add_config(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("config", help="configuration tools")
    s = p.add_subparsers(dest="config_cmd", required=True)
    c = s.add_parser("check", help="validate a config file and open what it names; exit 2 listing every error")
    c.add_argument("file", type=Path)
    c.add_argument("--fast", action="store_true",
                   help="the schema only: do not open models, GeoJSON, telemetry, folders or TLS files")
    c.set_defaults(handler="gridwatch.config:cmd_check")


def _add_models(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("models", help="fetch trained weights; export, inspect and quantize ONNX models")
    s = p.add_subparsers(dest="models_cmd", required=True)
    f = s.add_parser("fetch", help="fetch trained weights from their pinned registry package into the cache, "
                     "export fp32 and INT8 ONNX, write the manifest (idempotent)")
    f.add_argument("name", help="weights to fetch, e.g. fire-smoke")
    f.add_argument("--force", action="store_true", help="fetch and export again even if the cache is complete")
    f.add_argument("--no-int8", action="store_true", help="skip the INT8 export (the runtime then uses fp32)")
    f.add_argument("--requantize", action="store_true", help="keep the fp32 export, make the INT8 one again")
    f.set_defaults(handler="gridwatch.models_cmd:cmd_fetch")
    e = s.add_parser("export", help="export WEIGHTS.pt or ARCH.yaml to ONNX through Ultralytics")
    e.add_argument("source")
    e.add_argument("--out", type=Path, help="output .onnx (default: next to the source name)")
    e.add_argument("--imgsz", type=int, nargs="+", default=[640], help="size, or height width")
    e.add_argument("--dynamic", action="store_true", help="dynamic batch and image size")
    e.add_argument("--half", action="store_true", help="fp16 weights (GPU inference)")
    e.add_argument("--batch", type=int, default=1)
    e.add_argument("--nms", action="store_true", help="embed NMS in the graph (end-to-end output)")
    e.set_defaults(handler="gridwatch.models_cmd:cmd_export")
    i = s.add_parser("inspect", help="inputs, outputs, class names, imgsz, available providers")
    i.add_argument("model", type=Path)
    i.add_argument("--json", action="store_true", help="print JSON")
    i.set_defaults(handler="gridwatch.models_cmd:cmd_inspect")
    q = s.add_parser("quantize", help="static INT8 quantization with calibration frames from a video")
    q.add_argument("model", type=Path)
    q.add_argument("--calibrate", type=Path, required=True, help="video whose frames calibrate")
    q.add_argument("--out", type=Path, help="output .onnx (default: MODEL.int8.onnx)")
    q.add_argument("--frames", type=int, default=64, help="number of calibration frames")
    q.set_defaults(handler="gridwatch.models_cmd:cmd_quantize")


def _add_alerts(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("alerts", help="read the outbox or the Kafka topic")
    s = p.add_subparsers(dest="alerts_cmd", required=True)
    for name, helptext in (("list", "alerts in the local outbox"), ("tail", "follow the Kafka topic"),
                           ("replay", "re-send outbox rows to Kafka")):
        c = s.add_parser(name, help=helptext)
        c.add_argument("--config", type=Path, help="gridwatch config (default: the embedded demo)")
        c.set_defaults(handler=f"gridwatch.alerts_cmd:cmd_{name}")
        if name == "list":
            c.add_argument("--status", choices=["pending", "sent", "all"], default="all")
            c.add_argument("--limit", type=int, default=50)
            c.add_argument("--json", action="store_true", help="one JSON alert per line")
            c.add_argument("--since", help="created at or after: `today` (local midnight), a duration back "
                           "(`90m`, `24h`, `7d`) or an ISO-8601 date/time (local time unless it has an offset)")
            c.add_argument("--kind", help="only this kind (fire, smoke, throw, construction)")
            for level in ("street", "community", "grid", "micro-grid"):
                c.add_argument(f"--{level}", metavar="ID_OR_NAME", help=f"only alerts in this {level} (id or name)")
            c.add_argument("--group-by", choices=["street", "community", "grid", "micro_grid", "officer_team", "kind"],
                           help="count the matching alerts per area, team or kind (--limit does not apply)")
        elif name == "tail":
            c.add_argument("--from-beginning", action="store_true")
            c.add_argument("--max", type=int, default=0, help="stop after this many (0: follow)")
            c.add_argument("--timeout-s", type=float, default=0.0, help="stop after this idle time (0: never)")
        else:
            c.add_argument("--since", help="ISO-8601 time; re-send rows created at or after it")
            c.add_argument("--alert-id", action="append", default=[], help="re-send only these ids")


def _add_bench(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("bench", help="benchmarks: decode, infer, pipeline, alerts, compare, size")
    p.add_argument("suite", nargs="?", default="all")
    p.add_argument("rest", nargs=argparse.REMAINDER, help="suite options (see gridwatch bench SUITE --help)")
    p.set_defaults(handler="gridwatch.bench_cmd:cmd_bench")


def _add_cluster(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("cameras", help="the camera registry in Kafka (cluster mode)")
    s = p.add_subparsers(dest="cameras_cmd", required=True)
    c = s.add_parser("sync", help="publish the cameras of FILE to the registry topic (adds, changes, removals)")
    c.add_argument("file", type=Path, help="config whose `cameras:` are the district's camera list")
    c.add_argument("--dry-run", action="store_true", help="show what would change, publish nothing")
    c.set_defaults(handler="gridwatch.cluster_cmd:cmd_cameras_sync")
    q = sub.add_parser("cluster", help="cluster mode: nodes and the cameras they hold")
    t = q.add_subparsers(dest="cluster_cmd", required=True)
    st = t.add_parser("status", help="list the group's members, their buckets and cameras")
    st.add_argument("--config", type=Path, required=True, help="a node config (for the Kafka settings)")
    st.add_argument("--json", action="store_true", help="print JSON")
    st.set_defaults(handler="gridwatch.cluster_cmd:cmd_cluster_status")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="gridwatch", description=__doc__)
    parser.add_argument("--log-level", default="INFO", help="DEBUG, INFO, WARNING, ERROR")
    sub = parser.add_subparsers(dest="command", required=True)
    for add in (_add_run, _add_replay, _add_config, _add_models, _add_alerts, _add_bench, _add_cluster):
        add(sub)
    return parser


def _resolve(spec: str) -> Handler:
    module_name, func = spec.split(":")
    module = __import__(module_name, fromlist=[func])
    handler: Handler = getattr(module, func)
    return handler


def main(argv: Sequence[str] | None = None) -> int:
    from gridwatch.extras import missing_extra
    from gridwatch.logsetup import configure_logging

    args = build_parser().parse_args(argv)
    configure_logging(args.log_level)
    try:
        return _resolve(args.handler)(args)
    except ModuleNotFoundError as exc:  # an optional extra that is not installed: name it, no traceback
        missing = missing_extra(exc, f"`gridwatch {args.command}`")
        if missing is None:
            raise
        print(f"error: {missing}", file=sys.stderr)
        return 1
    except ConfigError as exc:
        print(f"configuration error: {exc}", file=sys.stderr)
        return 2
    except GridwatchError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except OSError as exc:  # a file or socket a command was pointed at: one line, no traceback
        where = f"{exc.filename}: " if exc.filename else ""
        print(f"error: {where}{exc.strerror or exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
