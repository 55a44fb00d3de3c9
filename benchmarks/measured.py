"""The measured figures sizing builds on: the JSON reports earlier `gridwatch bench` runs wrote.

Sizing never invents a speed: each figure it uses comes from a report file, and the sizing names the
file, when and on which machine it was measured. Reports are found under the bench output directory
(default var/bench, one sub-directory per suite) or in paths given with `--measured`; when a suite
has several reports, the newest (by its recorded time) wins.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

KNOWN_SUITES = ("decode", "infer", "compare", "pipeline", "throw", "alerts", "district")


@dataclass(frozen=True)
class Report:
    """One suite's report as written by `benchmarks.report.write_report`."""

    suite: str
    path: Path
    payload: dict[str, Any]

    @property
    def rows(self) -> list[dict[str, Any]]:
        rows: list[dict[str, Any]] = self.payload.get("rows", [])
        return rows

    @property
    def summary(self) -> dict[str, Any]:
        summary: dict[str, Any] = self.payload.get("summary", {})
        return summary

    @property
    def environment(self) -> dict[str, Any]:
        env: dict[str, Any] = self.payload.get("environment", {})
        return env

    def provenance(self) -> str:
        """`file (when, CPU x cores, commit)`: where a figure came from."""
        env = self.environment
        return (f"{self.path} ({env.get('when_utc', '?')}, {env.get('cpu', '?')} x {env.get('cores', '?')} "
                f"cores, commit {env.get('git_commit', '?')})")


def _candidates(paths: Iterable[Path]) -> Iterable[Path]:
    for p in paths:
        if p.is_file():
            yield p
        elif p.is_dir():
            yield from sorted(p.rglob("*.json"))


def _read(path: Path) -> Report | None:
    try:
        payload = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(payload, dict) or payload.get("suite") not in KNOWN_SUITES or "rows" not in payload:
        return None
    return Report(str(payload["suite"]), path, payload)


def find_reports(paths: Sequence[Path]) -> dict[str, Report]:
    """The newest report of each known suite found in `paths` (files, or directories searched deeply)."""
    best: dict[str, Report] = {}
    for path in _candidates(paths):
        report = _read(path)
        if report is None:
            continue
        old = best.get(report.suite)
        if old is None or str(report.environment.get("when_utc", "")) >= str(old.environment.get("when_utc", "")):
            best[report.suite] = report
    return best
