"""Fixtures of the benchmark tests."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.benchmarks.helpers import synthetic_reports


@pytest.fixture
def measured(tmp_path: Path) -> Path:
    """A directory of synthetic suite reports (see `synthetic_reports` for the figures)."""
    return synthetic_reports(tmp_path / "measured")
