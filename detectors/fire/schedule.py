"""Active hours: whether a new incident may start at a capture time, in the camera's local time zone."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from detectors.fire.config import ScheduleConfig


class ActiveHours:
    """Parsed `ScheduleConfig`: a list of local [start, end) minute ranges; empty means always active."""

    def __init__(self, cfg: ScheduleConfig) -> None:
        self._zone = ZoneInfo(cfg.timezone)
        self._ranges: list[tuple[int, int]] = []
        for item in cfg.active_hours:
            start, end = item.strip().split("-")
            self._ranges.append((_minutes(start), _minutes(end)))

    @property
    def always(self) -> bool:
        return not self._ranges

    def active(self, captured_at: float) -> bool:
        """True when `captured_at` (UTC epoch seconds) falls in any range; ranges may wrap midnight."""
        if not self._ranges:
            return True
        local = datetime.fromtimestamp(captured_at, self._zone)
        minute = local.hour * 60 + local.minute
        for start, end in self._ranges:
            if start <= end:
                if start <= minute < end:
                    return True
            elif minute >= start or minute < end:
                return True
        return False


def _minutes(hhmm: str) -> int:
    h, m = hhmm.split(":")
    return int(h) * 60 + int(m)
