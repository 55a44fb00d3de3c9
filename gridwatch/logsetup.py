"""Logging set-up for the CLI: one handler, a readable format, and a last line of defence for secrets.

Packages log through `logging.getLogger(__name__)` and mask credentials themselves; the redaction filter
here also rewrites anything that still looks like `scheme://user:password@` or `password=...`, so a
third-party library's message cannot leak a camera password into the log.

kafka-python logs every failed connection attempt, several per second while a broker refuses us, some
with a traceback. Our relay and cluster clients log the diagnosed cause themselves (alerts/kafka_probe.py),
so below DEBUG the library's records lose their tracebacks and each of its messages is shown at most once
per `_THIRD_PARTY_REPEAT_S`.
"""

from __future__ import annotations

import logging
import re
import sys
import threading
import time

_URL_CREDENTIALS = re.compile(r"(?P<scheme>[a-zA-Z][a-zA-Z0-9+.-]*://)[^/\s@]+@")
_THIRD_PARTY_REPEAT_S = 60.0
_QUIETED = ("kafka",)
_KEY_VALUE_SECRET = re.compile(
    r"(?i)(?P<key>password|passwd|secret|token|sasl_plain_password)(?P<sep>\s*[=:]\s*)[^\s,;&]+"
)


def redact(text: str) -> str:
    """Mask URL credentials and `password=...`-style values in free text."""
    text = _URL_CREDENTIALS.sub(lambda m: f"{m.group('scheme')}***@", text)
    return _KEY_VALUE_SECRET.sub(lambda m: f"{m.group('key')}{m.group('sep')}***", text)


class RedactingFilter(logging.Filter):
    """Rewrites each record's final message through `redact` (arguments are merged in first)."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        cleaned = redact(message)
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact(record.exc_text)
        if cleaned != message or record.args:
            record.msg, record.args = cleaned, None
        return True


class ThirdPartyQuietFilter(logging.Filter):
    """Library records (kafka-python) without tracebacks, each message template once per `repeat_s`."""

    def __init__(self, repeat_s: float = _THIRD_PARTY_REPEAT_S, prefixes: tuple[str, ...] = _QUIETED) -> None:
        super().__init__()
        self.repeat_s = repeat_s
        self.prefixes = prefixes
        self._last: dict[tuple[str, str], float] = {}
        self._lock = threading.Lock()

    def filter(self, record: logging.LogRecord) -> bool:
        if not record.name.startswith(self.prefixes) or logging.getLogger().level <= logging.DEBUG:
            return True
        key = (record.name, str(record.msg))
        now = time.monotonic()
        with self._lock:
            if now - self._last.get(key, -self.repeat_s) < self.repeat_s:
                return False
            self._last[key] = now
        record.exc_info, record.exc_text, record.stack_info = None, None, None
        return True


def configure_logging(level: str = "INFO", stream: object = None) -> None:
    """Install one stderr handler on the root logger (idempotent: replaces handlers it installed)."""
    root = logging.getLogger()
    for handler in list(root.handlers):
        if getattr(handler, "_gridwatch", False):
            root.removeHandler(handler)
    handler = logging.StreamHandler(stream or sys.stderr)  # type: ignore[arg-type]
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)-7s %(name)s: %(message)s"))
    handler.addFilter(ThirdPartyQuietFilter())
    handler.addFilter(RedactingFilter())
    handler._gridwatch = True  # type: ignore[attr-defined]
    root.addHandler(handler)
    root.setLevel(level.upper())
    for noisy in ("kafka", "ultralytics", "PIL", "matplotlib"):
        logging.getLogger(noisy).setLevel(max(logging.WARNING, root.level))
