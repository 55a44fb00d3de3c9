"""Scenario generators share no code with what they test: nothing under benchmarks/scenarios/ imports
detectors/ (runners and scorers, which run the detector, live in benchmarks/ itself)."""

from __future__ import annotations

import ast
from pathlib import Path

SCENARIOS = Path(__file__).resolve().parents[2] / "benchmarks" / "scenarios"


def _imported(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


def test_no_scenario_module_imports_detector_code() -> None:
    files = sorted(SCENARIOS.glob("*.py"))
    assert len(files) > 10, f"no generators found under {SCENARIOS}"
    offenders = {
        f.name: sorted(m for m in _imported(f) if m == "detectors" or m.startswith("detectors."))
        for f in files
    }
    assert not {name: mods for name, mods in offenders.items() if mods}
