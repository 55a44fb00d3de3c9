"""POSIX signals as events: the main loop of `run`, `demo` and cluster mode waits on them."""

from __future__ import annotations

import os
import signal
import threading
from types import FrameType


class Signals:
    """Turns POSIX signals into events the main loop waits on (handlers only set flags)."""

    def __init__(self) -> None:
        self.stop = threading.Event()
        self.reload = threading.Event()
        self._count = 0

    def install(self) -> None:
        signal.signal(signal.SIGTERM, self._on_stop)
        signal.signal(signal.SIGINT, self._on_stop)
        signal.signal(signal.SIGHUP, self._on_reload)

    def _on_stop(self, signum: int, _frame: FrameType | None) -> None:
        self._count += 1
        if self._count > 1:
            os._exit(130)  # a second Ctrl-C: the operator does not want to wait for the drain
        self.stop.set()

    def _on_reload(self, _signum: int, _frame: FrameType | None) -> None:
        self.reload.set()
