"""`gridwatch alerts list|tail|replay`: read the outbox or the Kafka topic, re-send outbox rows."""

from __future__ import annotations

import argparse
import json
import re
import sys
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, TextIO

from alerts.config import AlertsConfig
from alerts.grid import GridLevel
from alerts.outbox_rows import OutboxRow
from alerts.reader import AlertGroup, GroupBy, group_alerts, list_alerts, replay, tail_topic
from detectors.event import EventKind
from foundation.errors import ConfigError
from gridwatch.config import load_config
from gridwatch.demo_config import demo_config_path

_DURATION = re.compile(r"^(\d+(?:\.\d+)?)\s*([smhd])$")
_UNIT_S = {"s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0}


def _alerts_config(config: Path | None) -> AlertsConfig:
    if config is None:
        config = demo_config_path()
    return load_config(config).root.alerts


def _when(ts: float | None) -> str:
    if ts is None:
        return "-"
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def describe(alert: dict[str, Any]) -> str:
    """One readable line per alert: time, kind, phase, source, position, area, confidence, why."""
    loc = alert.get("location") or {}
    where = (
        f"{loc['lat']:.5f},{loc['lon']:.5f} ±{loc.get('accuracy_m', 0):.0f} m ({loc.get('geo_method', '?')})"
        if loc else "no position"
    )
    reasons = alert.get("reasons") or {}
    why = ", ".join(f"{k}={v}" for k, v in list(reasons.items())[:4])
    return (
        f"{alert.get('started_at', '?')}  {alert.get('kind', '?'):<12} {alert.get('phase', '?'):<6} "
        f"{alert.get('source', '?'):<14} conf {float(alert.get('confidence', 0)):.2f}  {where}  "
        f"{_area(alert)}  [{why}]"
    )


def _area(alert: dict[str, Any]) -> str:
    """`grid <cell>`, with the community and officer team where the alert has them (schema 1.1)."""
    cell = alert.get("grid_cell") or {}
    text = f"grid {cell.get('id', '-')}"
    community = (alert.get("grid_levels") or {}).get("community") or {}
    if community:
        text += f" ({community.get('name', community.get('id', ''))})"
    if alert.get("officer_team"):
        text += f" team {alert['officer_team']}"
    return text


def print_rows(rows: Sequence[OutboxRow], out: TextIO, as_json: bool = False) -> None:
    for row in rows:
        if as_json:
            out.write(row.payload.decode("utf-8") + "\n")
        else:
            out.write(f"{row.status:<8} {describe(row.alert())}\n")


def print_groups(groups: Sequence[AlertGroup], by: str, out: TextIO) -> None:
    """A table: one line per area (or team, or kind) with its alerts, incidents and kinds."""
    out.write(f"{by:<16} {'name':<20} {'alerts':>6} {'incidents':>9}  kinds\n")
    for g in groups:
        kinds = ", ".join(f"{k} {n}" for k, n in sorted(g.kinds.items()))
        out.write(f"{g.key:<16} {g.name:<20} {g.alerts:>6} {len(g.incidents):>9}  {kinds}\n")


def parse_since(text: str, now: datetime | None = None) -> float:
    """`today` (local midnight), a duration back (`90m`, `24h`, `7d`), or ISO-8601 (naive: local time)
    -> epoch seconds. ConfigError saying what is accepted otherwise."""
    now = now or datetime.now().astimezone()
    value = text.strip().lower()
    if value == "today":
        return now.replace(hour=0, minute=0, second=0, microsecond=0).timestamp()
    m = _DURATION.match(value)
    if m:
        return (now - timedelta(seconds=float(m.group(1)) * _UNIT_S[m.group(2)])).timestamp()
    try:
        when = datetime.fromisoformat(text.strip())
    except ValueError:
        raise ConfigError(
            f"--since {text!r}: expected `today`, a duration such as 90m/24h/7d, or an ISO-8601 date/time"
        ) from None
    return (when if when.tzinfo else when.astimezone()).timestamp()


def cmd_list(args: argparse.Namespace) -> int:
    cfg = _alerts_config(args.config)
    status = None if args.status == "all" else args.status
    kinds = {k.value for k in EventKind}
    if args.kind is not None and args.kind not in kinds:
        raise ConfigError(f"--kind {args.kind!r}: expected one of {', '.join(sorted(kinds))}")
    areas = {
        level: value
        for level, value in (
            (GridLevel.STREET, args.street),
            (GridLevel.COMMUNITY, args.community),
            (GridLevel.GRID, args.grid),
            (GridLevel.MICRO_GRID, args.micro_grid),
        )
        if value is not None
    }
    since_s = parse_since(args.since) if args.since else None
    grouping = args.group_by is not None
    rows = list_alerts(cfg.outbox, status=status, since_s=since_s, kind=args.kind, areas=areas,
                       limit=None if grouping else args.limit)
    if grouping:
        by: GroupBy = args.group_by if args.group_by in ("officer_team", "kind") else GridLevel(args.group_by)
        print_groups(group_alerts(rows, by), args.group_by, sys.stdout)
        print(f"({len(rows)} alert(s) grouped by {args.group_by}; outbox {cfg.outbox.path})", file=sys.stderr)
        return 0
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
