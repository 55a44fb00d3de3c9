"""A reader for the Prometheus text format the service serves on /metrics, for black-box benchmarks.

Benchmarks may not import prometheus_client (only `gridwatch/` owns metrics), and a scrape is all the
`pipeline` suite needs: samples keyed by name and labels, counter deltas, and percentiles estimated
from histogram buckets the way PromQL's histogram_quantile does (linear within a bucket).
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

_SAMPLE = re.compile(r"^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})?\s+(\S+)(\s+\S+)?$")
_LABEL = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"')

Labels = tuple[tuple[str, str], ...]


@dataclass(frozen=True)
class Scrape:
    """One scrape: `{(name, labels): value}` with labels as a sorted tuple of pairs."""

    samples: Mapping[tuple[str, Labels], float]

    def get(self, name: str, **labels: str) -> float:
        """The value of one series (0.0 when absent: counters that never moved are often not exported)."""
        return self.samples.get((name, _key(labels)), 0.0)

    def series(self, name: str) -> dict[Labels, float]:
        """Every series of `name`, keyed by labels."""
        return {lab: v for (n, lab), v in self.samples.items() if n == name}

    def total(self, name: str, **match: str) -> float:
        """Sum of the series of `name` whose labels include `match`."""
        want = set(match.items())
        return sum(v for lab, v in self.series(name).items() if want <= set(lab))

    def buckets(self, name: str, **match: str) -> list[tuple[float, float]]:
        """Cumulative (upper bound, count) of histogram `name`, summed over series matching `match`."""
        sums: dict[float, float] = {}
        want = set(match.items())
        for lab, v in self.series(f"{name}_bucket").items():
            d = dict(lab)
            if not want <= set(lab) or "le" not in d:
                continue
            le = math.inf if d["le"] == "+Inf" else float(d["le"])
            sums[le] = sums.get(le, 0.0) + v
        return sorted(sums.items())


def _key(labels: Mapping[str, str]) -> Labels:
    return tuple(sorted(labels.items()))


def parse(text: str) -> Scrape:
    """Parse Prometheus text exposition (comments skipped, escapes in label values kept as written)."""
    out: dict[tuple[str, Labels], float] = {}
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        m = _SAMPLE.match(line)
        if m is None:
            continue
        labels = dict(_LABEL.findall(m.group(3) or ""))
        try:
            value = float(m.group(4))
        except ValueError:
            continue
        out[(m.group(1), _key(labels))] = value
    return Scrape(out)


def bucket_delta(
    after: Iterable[tuple[float, float]], before: Iterable[tuple[float, float]],
) -> list[tuple[float, float]]:
    """Cumulative buckets of what was observed between two scrapes."""
    old = dict(before)
    return [(le, count - old.get(le, 0.0)) for le, count in after]


def quantile(q: float, buckets: list[tuple[float, float]]) -> float | None:
    """The q-quantile (0..1) of cumulative buckets, interpolated linearly inside a bucket; None if empty.

    Like PromQL, a quantile in the +Inf bucket is reported as the highest finite bound.
    """
    if not buckets or buckets[-1][1] <= 0:
        return None
    rank = q * buckets[-1][1]
    prev_le, prev_count = 0.0, 0.0
    for le, count in buckets:
        if count >= rank:
            if math.isinf(le):
                return prev_le
            if count == prev_count:
                return le
            return prev_le + (le - prev_le) * (rank - prev_count) / (count - prev_count)
        prev_le, prev_count = le, count
    return prev_le
