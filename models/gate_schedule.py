"""The full-frame sweep schedule of one camera's gate: when its next whole-frame look is due.

Every camera gets a full-frame look at least every `sweep_every_s` of capture time (and on its first
frame), staggered across cameras by a fixed phase drawn from the camera id, so a node's cameras do not
sweep together. The phase is the same on every node and after restarts.
"""

from __future__ import annotations

import math
import zlib


def stagger_share(camera_id: str) -> float:
    """A camera's fixed sweep phase in [0, 1), from its id (the same on every node and after restarts)."""
    return zlib.crc32(camera_id.encode("utf-8")) / 2**32


class SweepSchedule:
    """Which sweep slot a capture time falls in, and whether this frame opens a new one."""

    def __init__(self, camera_id: str) -> None:
        self._phase = stagger_share(camera_id)
        self._last_slot: int | None = None

    @property
    def started(self) -> bool:
        """Whether any sweep was taken yet."""
        return self._last_slot is not None

    def _slot(self, captured_at: float, period_s: float) -> int:
        return math.floor(captured_at / period_s + self._phase)

    def take_if_new_slot(self, captured_at: float, period_s: float) -> bool:
        """True (and the slot is taken) when `captured_at` lies in a slot not swept yet."""
        slot = self._slot(captured_at, period_s)
        if slot == self._last_slot:
            return False
        self._last_slot = slot
        return True

    def take(self, captured_at: float, period_s: float) -> None:
        """Sweep now (first frame, background restarted): the slot of `captured_at` counts as swept."""
        self._last_slot = self._slot(captured_at, period_s)

    def next_in_s(self, captured_at: float, period_s: float) -> float:
        """Capture-time seconds until the next slot opens."""
        slot = self._slot(captured_at, period_s)
        return (slot + 1 - self._phase) * period_s - captured_at
