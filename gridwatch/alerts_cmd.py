"""`gridwatch alerts list|tail|replay`: read the outbox or the Kafka topic, re-send outbox rows."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TextIO

from alerts.config import AlertsConfig
from alerts.outbox import OutboxRow
from alerts.reader import list_alerts, replay, tail_topic
from foundation.errors import ConfigError
from gridwatch.config import load_config


def _alerts_config(config: Path | None) -> AlertsConfig:
    if config is None:
        from gridwatch.runner import demo_config_path

        config = demo_config_path()
    return load_config(config).root.alerts


def _when(ts: float | None) -> str:
    if ts is None:
        return "-"
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def describe(alert: dict[str, Any]) -> str:
    """One readable line per alert: time, kind, phase, source, position, grid cell, confidence, why."""
    loc = alert.get("location") or {}
    cell = alert.get("grid_cell") or {}
    where = (
        f"{loc['lat']:.5f},{loc['lon']:.5f} ±{loc.get('accuracy_m', 0):.0f} m ({loc.get('geo_method', '?')})"
        if loc else "no position"
    )
    reasons = alert.get("reasons") or {}
    why = ", ".join(f"{k}={v}" for k, v in list(reasons.items())[:4])
    return (
        f"{alert.get('started_at', '?')}  {alert.get('kind', '?'):<12} {alert.get('phase', '?'):<6} "
        f"{alert.get('source', '?'):<14} conf {float(alert.get('confidence', 0)):.2f}  {where}  "
        f"grid {cell.get('id', '-')}  [{why}]"
    )


def print_rows(rows: Sequence[OutboxRow], out: TextIO, as_json: bool = False) -> None:
    for row in rows:
        if as_json:
            out.write(row.payload.decode("utf-8") + "\n")
        else:
            out.write(f"{row.status:<8} {describe(row.alert())}\n")


def cmd_list(args: argparse.Namespace) -> int:
    cfg = _alerts_config(args.config)
    status = None if args.status == "all" else args.status
    rows = list_alerts(cfg.outbox, status=status, limit=args.limit)
    print_rows(rows, sys.stdout, as_json=args.json)
    if not args.json:
        print(f"({len(rows)} shown, newest first; outbox {cfg.outbox.path})", file=sys.stderr)
    return 0


def cmd_tail(args: argparse.Namespace) -> int:
    cfg = _alerts_config(args.config)
    if cfg.kafka is None:
        raise ConfigError("alerts.kafka is not configured: there is no topic to tail (use `alerts list`)")
    for msg in tail_topic(cfg.kafka, from_beginning=args.from_beginning, max_messages=args.max or None,
                          timeout_s=args.timeout_s or None):
        print(json.dumps({"partition": msg.partition, "offset": msg.offset, "alert": msg.alert}, ensure_ascii=False))
    return 0


def cmd_replay(args: argparse.Namespace) -> int:
    cfg = _alerts_config(args.config)
    since_s = datetime.fromisoformat(args.since).timestamp() if args.since else None
    result = replay(cfg, alert_ids=args.alert_id or None, since_s=since_s)
    print(f"requeued {result.requeued}, sent {result.sent}, still pending {result.pending_left}")
    return 0 if result.pending_left == 0 else 1
