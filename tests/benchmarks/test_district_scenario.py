"""The sample-district generator: it rebuilds the committed files exactly, and its count allocation holds."""

from __future__ import annotations

from pathlib import Path

import pytest

from benchmarks.scenarios.district import FILES, allocate, write


@pytest.mark.slow
def test_the_generator_rebuilds_the_committed_files(tmp_path: Path, repo_root: Path) -> None:
    written = write(tmp_path)
    for datum, name in FILES.items():
        committed = (repo_root / "configs" / "grid" / name).read_bytes()
        assert written[datum].read_bytes() == committed, (
            f"configs/grid/{name} is not what the generator writes: run `python -m benchmarks.scenarios.district`"
        )


def test_allocation_hits_the_total_keeps_the_minimum_and_follows_the_weights() -> None:
    counts = allocate(1887, [5.0, 1.0, 1.0, 0.01], minimum=2)
    assert sum(counts) == 1887 and min(counts) >= 2
    assert counts[0] > 4 * counts[1] and abs(counts[1] - counts[2]) <= 1
    assert allocate(10, [1.0, 0.0, 0.0], minimum=2) == [6, 2, 2]  # the minimum binds
    assert allocate(401, [1.0] * 401, minimum=1) == [1] * 401
    with pytest.raises(ValueError, match="at least 3"):
        allocate(5, [1.0, 1.0], minimum=3)
