"""`gridwatch run` and `gridwatch demo`: start the service, wait for a signal, stop in order.

SIGTERM and SIGINT stop the service (the second one stops waiting for a clean drain); SIGHUP reloads
the config. When every camera is a recording that has ended, the run ends by itself: that is how the
demo and file-based runs finish.
"""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

from gridwatch.config import LoadedConfig, load_config
from gridwatch.demo_config import demo_config_path
from gridwatch.logsetup import configure_logging
from gridwatch.service import Service
from gridwatch.signals import Signals

log = logging.getLogger(__name__)


def serve(loaded: LoadedConfig, config_path: Path | None, signals: Signals) -> int:
    """Run the service until a stop signal or until every recording has been analysed."""
    from gridwatch.ops import Operations

    service = Service(loaded)
    ops = Operations(service, config_path, signals)
    try:
        service.start()
        ops.start()
        while not signals.stop.wait(0.5):
            ops.tick()
            if service.all_finished():
                log.info("every source has ended and was analysed; stopping")
                break
    finally:
        ops.stop()
        drained = service.stop()
    return 0 if drained else 1


def cmd_run(args: argparse.Namespace) -> int:
    if getattr(args, "cluster", False):
        from gridwatch.cluster.node import run_cluster_node

        return run_cluster_node(args)
    path: Path = args.config or demo_config_path()
    loaded = load_config(path)
    configure_logging(args.log_level if args.log_level != "INFO" else loaded.root.service.log_level)
    signals = Signals()
    signals.install()
    return serve(loaded, path, signals)


def cmd_demo(args: argparse.Namespace) -> int:
    from alerts.reader import list_alerts
    from gridwatch.alerts_cmd import print_rows

    path = demo_config_path(args.workdir)
    loaded = load_config(path)
    outbox_path = loaded.root.alerts.outbox.path
    # A fresh outbox each demo run, so the alerts printed are this run's.
    for suffix in ("", "-wal", "-shm"):
        Path(f"{outbox_path}{suffix}").unlink(missing_ok=True)
    signals = Signals()
    signals.install()
    code = serve(loaded, path, signals)
    rows = list_alerts(loaded.root.alerts.outbox, limit=1000)
    print(f"\n{len(rows)} alert(s) in the outbox {outbox_path}:")
    print_rows(list(reversed(rows)), sys.stdout)
    if not rows:
        print("no alerts: the demo expected at least one fire alert", file=sys.stderr)
        return 1
    return code
