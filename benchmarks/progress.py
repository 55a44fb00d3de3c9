"""Progress bars for long benchmark runs: shown on a terminal only, so CI logs and piped output stay clean.

Two shapes: `steps()` wraps a loop whose length is known (cases, rounds, scrape ticks); `Ticker` is a bar
driven by elapsed time against an estimate, for suites that run as one call without a hook to report
progress (the other engineers' `run()` functions). Both go to stderr; the figures go to stdout.
"""

from __future__ import annotations

import sys
import threading
import time
from collections.abc import Iterable, Iterator
from typing import TypeVar

from tqdm import tqdm

T = TypeVar("T")


def wanted(enabled: bool | None = None) -> bool:
    """Show bars when asked explicitly, else only when stderr is a terminal."""
    return sys.stderr.isatty() if enabled is None else enabled


def steps(items: Iterable[T], desc: str, total: int | None = None, enabled: bool = False) -> Iterator[T]:
    """`items`, with a bar on stderr while they are consumed when `enabled`."""
    if not enabled:
        yield from items
        return
    yield from tqdm(items, desc=desc, total=total, file=sys.stderr, leave=False, dynamic_ncols=True)


class Ticker:
    """A time bar: `with Ticker("infer", expected_s=120, enabled=True): infer.run(...)`.

    The bar fills with elapsed seconds against `expected_s` (the estimate may be wrong on a busy machine;
    the bar then stays full until the call returns).
    """

    def __init__(self, desc: str, expected_s: float, enabled: bool = False, period_s: float = 0.5) -> None:
        self.desc = desc
        self.expected_s = max(1.0, expected_s)
        self.enabled = enabled
        self.period_s = period_s
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def _run(self) -> None:
        total = round(self.expected_s)
        with tqdm(total=total, desc=self.desc, unit="s", file=sys.stderr, leave=False, dynamic_ncols=True,
                  bar_format="{desc}: {percentage:3.0f}%|{bar}| {elapsed} of ~{total}s") as bar:
            start = time.monotonic()
            while not self._stop.wait(self.period_s):
                bar.n = min(total, round(time.monotonic() - start))
                bar.refresh()

    def __enter__(self) -> Ticker:
        if self.enabled:
            self._thread = threading.Thread(target=self._run, name="gw-bench-progress", daemon=True)
            self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(2.0)
