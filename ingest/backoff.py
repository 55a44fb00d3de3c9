"""Exponential reconnect backoff with jitter and a cap: a sick camera is retried forever, politely."""

from __future__ import annotations

import random
from collections.abc import Callable


class Backoff:
    """Waits `initial_s`, 2x, 4x ... up to `max_s`, each scaled by a random factor in [1-jitter, 1+jitter].

    The jitter spreads reconnects of many cameras that lost the same switch; the cap bounds how long a
    camera stays dark after its server comes back. `reset()` after a healthy connection.
    """

    def __init__(
        self, initial_s: float, max_s: float, jitter: float = 0.2, rand: Callable[[], float] = random.random
    ) -> None:
        if not (0 < initial_s <= max_s):
            raise ValueError(f"backoff needs 0 < initial_s <= max_s, got {initial_s}, {max_s}")
        if not (0 <= jitter <= 1):
            raise ValueError(f"backoff jitter must be in [0, 1], got {jitter}")
        self.initial_s = initial_s
        self.max_s = max_s
        self.jitter = jitter
        self._rand = rand
        self.attempt = 0

    def next_s(self) -> float:
        """The next wait in seconds (never above `max_s` * (1 + jitter), never negative)."""
        base = min(self.max_s, self.initial_s * (2.0 ** min(self.attempt, 60)))
        self.attempt += 1
        factor = 1.0 + self.jitter * (2.0 * self._rand() - 1.0)
        return max(0.0, base * factor)

    def reset(self) -> None:
        self.attempt = 0
