"""Quiet logging of a reconnect streak: the first failure, then one summary a minute, then the recovery.

A camera that is down for an hour retries hundreds of times; one line per attempt would bury the other cameras'
logs, so a streak is summarised instead.
"""

from __future__ import annotations

import logging
import time

log = logging.getLogger(__name__)

REPEAT_LOG_S = 60.0


class FailureLog:
    """Logs the first failure of a streak, then at most one summary a minute; logs the recovery."""

    def __init__(self, camera_id: str, what: str) -> None:
        self.camera_id = camera_id
        self.what = what
        self.streak = 0
        self.since = 0.0
        self._last_log = 0.0

    def failed(self, kind: str, message: str, retry_in_s: float) -> None:
        """Record one failed attempt; `message` is already redacted."""
        now = time.monotonic()
        if self.streak == 0:
            self.since = now
        self.streak += 1
        prefix = f"camera {self.camera_id}:"
        text = message if message.startswith(prefix) else f"{prefix} {message}"
        if self.streak == 1 or now - self._last_log >= REPEAT_LOG_S:
            self._last_log = now
            log.warning(
                "%s [%s %s, %d failed attempt(s)]; retrying in %.1f s",
                text, self.what, kind, self.streak, retry_in_s,
            )
        else:
            log.debug("%s [%s %s, attempt %d]", text, self.what, kind, self.streak)

    def recovered(self) -> None:
        if self.streak:
            log.info(
                "camera %s: %s back after %d failed attempt(s) and %.1f s",
                self.camera_id,
                self.what,
                self.streak,
                time.monotonic() - self.since,
            )
        self.streak = 0
