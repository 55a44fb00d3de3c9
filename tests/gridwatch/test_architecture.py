"""Imports follow the data: ingest -> models -> detectors -> alerts; gridwatch is imported by nothing.

The shared types `gridwatch.errors` and `gridwatch.yamlsafe` are leaf modules every package may use.
"""

import ast
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
OURS = {"gridwatch", "ingest", "models", "detectors", "alerts", "benchmarks"}
SHARED = {"gridwatch.errors", "gridwatch.yamlsafe"}
ALLOWED = {
    "ingest": set(),
    "models": set(),
    "detectors": {"ingest", "models"},
    "alerts": {"detectors", "ingest", "models"},
    "benchmarks": {"ingest", "models", "detectors", "alerts", "benchmarks"},
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
            if top == "gridwatch":
                if not any(name == s or name.startswith(s + ".") for s in SHARED) and name != "gridwatch":
                    bad.append(f"{path.relative_to(REPO)} imports {name}")
                continue
            if top not in ALLOWED[package]:
                bad.append(f"{path.relative_to(REPO)} imports {name}")
    assert not bad, "imports against the flow:\n" + "\n".join(bad)


def test_shared_modules_import_nothing_of_ours_but_each_other() -> None:
    for mod in SHARED:
        path = REPO / (mod.replace(".", "/") + ".py")
        ours = {n for n in imports_of(path) if n.split(".")[0] in OURS}
        assert ours <= SHARED | {"gridwatch"} | {f"{s}.{x}" for s in SHARED for x in ("ConfigError",)}, ours


def test_no_prometheus_outside_gridwatch() -> None:
    offenders = [
        str(p.relative_to(REPO))
        for pkg in ALLOWED
        for p in (REPO / pkg).rglob("*.py")
        if any(n.startswith("prometheus_client") for n in imports_of(p))
    ]
    assert not offenders, offenders
