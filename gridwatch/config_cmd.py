"""`gridwatch config check FILE [--fast]`: validate a config, then open the files it names (preflight)."""

from __future__ import annotations

import argparse
import sys

from foundation.errors import ConfigError
from gridwatch.config import load_config
from gridwatch.preflight import check_resources


def cmd_check(args: argparse.Namespace) -> int:
    """`gridwatch config check FILE [--fast]`: 0 when valid; otherwise every error, one per line, and exit 2.

    Without `--fast` the files and folders the config names are opened too (gridwatch/preflight.py)."""
    try:
        loaded = load_config(args.file)
    except ConfigError as exc:
        print(f"{args.file}: INVALID", file=sys.stderr)
        for line in exc.problems or [str(exc)]:
            print(f"  {line}", file=sys.stderr)
        return 2
    cams = len(loaded.cameras)
    dets = sum(len(c.detectors) for c in loaded.cameras.values())
    summary = (f"version {loaded.version}; {cams} camera(s), {dets} detector assignment(s), "
               f"{len(loaded.root.models)} model(s)")
    if not getattr(args, "fast", False):
        problems = check_resources(loaded)
        if problems:
            print(f"{args.file}: INVALID (valid schema, {summary}; {len(problems)} problem(s) with the files "
                  "it names)", file=sys.stderr)
            for line in problems:
                print(f"  {line}", file=sys.stderr)
            return 2
    checked = "schema only (--fast)" if getattr(args, "fast", False) else "schema and the files it names"
    print(f"{args.file}: OK ({summary}; {checked})")
    return 0
