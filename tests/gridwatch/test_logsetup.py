"""The CLI's log handler: kafka-python's repeated connection records lose their tracebacks and repeat at
most once per interval; secrets are still masked; our own records pass untouched."""

from __future__ import annotations

import io
import logging

from gridwatch.logsetup import ThirdPartyQuietFilter, configure_logging


def _raise() -> None:
    raise ConnectionError("socket disconnected")


def test_kafka_records_lose_tracebacks_and_repeats_while_ours_pass() -> None:
    stream = io.StringIO()
    configure_logging("INFO", stream)
    try:
        noisy = logging.getLogger("kafka.net.transport")
        for _ in range(5):
            try:
                _raise()
            except ConnectionError:
                noisy.error("%s: Error receiving network data closing socket", "<transport>", exc_info=True)
        logging.getLogger("alerts.relay").warning("kafka relay: password=hunter2 refused")
        logging.getLogger("alerts.relay").warning("kafka relay: password=hunter2 refused")
    finally:
        configure_logging("INFO")
    text = stream.getvalue()
    assert text.count("Error receiving network data") == 1
    assert "Traceback" not in text
    assert text.count("kafka relay: password=*** refused") == 2 and "hunter2" not in text


def test_debug_keeps_every_library_record() -> None:
    quiet = ThirdPartyQuietFilter(repeat_s=60.0)
    record = logging.LogRecord("kafka.conn", logging.ERROR, __file__, 1, "boom", None, None)
    root = logging.getLogger()
    old = root.level
    root.setLevel(logging.DEBUG)
    try:
        assert quiet.filter(record) and quiet.filter(record)
    finally:
        root.setLevel(old)
    assert quiet.filter(record) and not quiet.filter(record)
