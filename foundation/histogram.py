"""Fixed-bucket histogram data that packages record and the metrics layer exports (a leaf module).

Recording stays free of prometheus_client so that ingest, models and detectors can keep plain stats;
`gridwatch.metrics` turns a snapshot into Prometheus `le` buckets at scrape time.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class Histogram:
    """Fixed-bucket histogram data: `counts[i]` observations in bucket i (<= `bounds[i]`), last: above all."""

    bounds: tuple[float, ...]
    counts: list[int] = field(default_factory=list)
    sum: float = 0.0
    count: int = 0

    def __post_init__(self) -> None:
        if not self.counts:
            self.counts = [0] * (len(self.bounds) + 1)

    def observe(self, value: float) -> None:
        i = 0
        while i < len(self.bounds) and value > self.bounds[i]:
            i += 1
        self.counts[i] += 1
        self.sum += value
        self.count += 1

    def cumulative(self) -> list[int]:
        """Counts of observations <= each bound, then the total (Prometheus `le` buckets incl. +Inf)."""
        out, running = [], 0
        for c in self.counts:
            running += c
            out.append(running)
        return out

    def copy(self) -> Histogram:
        return Histogram(self.bounds, list(self.counts), self.sum, self.count)
