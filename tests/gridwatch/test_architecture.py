"""Imports follow the data: ingest -> models -> detectors -> alerts; gridwatch is imported by nothing.

`foundation` holds the shared types; every package may import it and it imports nothing of ours.
"""

import ast
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
OURS = {"foundation", "gridwatch", "ingest", "models", "detectors", "alerts", "benchmarks"}
ALLOWED = {
    "foundation": set(),
    "ingest": {"foundation"},
    "models": {"foundation"},
    "detectors": {"foundation", "ingest", "models"},
    "alerts": {"foundation", "detectors", "ingest", "models"},
    "benchmarks": {"foundation", "ingest", "models", "detectors", "alerts"},
}


def imports_of(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
            names.update(f"{node.module}.{alias.name}" for alias in node.names)
    return names


@pytest.mark.parametrize("package", sorted(ALLOWED))
def test_package_imports_follow_the_flow(package: str) -> None:
    bad: list[str] = []
    for path in sorted((REPO / package).rglob("*.py")):
        for name in imports_of(path):
            top = name.split(".")[0]
            if top not in OURS or top == package:
                continue
            if top not in ALLOWED[package]:
                bad.append(f"{path.relative_to(REPO)} imports {name}")
    assert not bad, "imports against the flow:\n" + "\n".join(bad)


def test_no_prometheus_outside_gridwatch() -> None:
    offenders = [
        str(p.relative_to(REPO))
        for pkg in ALLOWED
        for p in (REPO / pkg).rglob("*.py")
        if any(n.startswith("prometheus_client") for n in imports_of(p))
    ]
    assert not offenders, offenders
