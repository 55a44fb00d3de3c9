"""Shows what the cluster end-to-end test measured, even without `-s` (the issue asks for the figures)."""

from __future__ import annotations

import pytest

from tests.cluster.timeline import TIMELINE


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if TIMELINE:
        terminalreporter.section("cluster timeline (measured)")
        for line in TIMELINE:
            terminalreporter.write_line(line)
