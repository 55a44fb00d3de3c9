"""The shape of the code: imports follow the data, and no module imports itself back. No exemptions.

Imports flow ingest -> models -> detectors -> alerts; `foundation` holds the shared types (every package may
import it, it imports nothing of ours); `benchmarks` may use the pipeline packages; `gridwatch` (CLI, config
root, wiring, metrics) may import every package and is imported by none. `tests` may import anything and
is imported by nothing.

The packages are read from the tree (every top-level folder with an `__init__.py`), so a new package fails
here until it is given its place in `ALLOWED`. Every import counts, wherever it is written: at the top, in a
function (a lazy import is still an arrow) or under `TYPE_CHECKING` (a typing cycle is still a cycle).
Cycles are checked between modules, not only between packages.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from functools import cache
from pathlib import Path

import numpy as np
import pytest
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

REPO = Path(__file__).resolve().parents[2]
TESTS = "tests"

ALLOWED: dict[str, set[str]] = {
    "foundation": set(),
    "ingest": {"foundation"},
    "models": {"foundation"},
    "detectors": {"foundation", "ingest", "models"},
    "alerts": {"foundation", "detectors", "ingest", "models"},
    "benchmarks": {"foundation", "ingest", "models", "detectors", "alerts"},
    "gridwatch": {"foundation", "ingest", "models", "detectors", "alerts", "benchmarks"},
}
"""Which packages each package may import (besides itself). The design; not a list of exceptions."""


def packages_in_tree() -> set[str]:
    return {p.parent.name for p in REPO.glob("*/__init__.py")}


def module_name(path: Path) -> str:
    parts = list(path.relative_to(REPO).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


@cache
def modules() -> dict[str, Path]:
    """Every module of ours, by dotted name."""
    return {module_name(p): p for pkg in sorted(packages_in_tree()) for p in sorted((REPO / pkg).rglob("*.py"))}


def _imported_names(name: str, path: Path) -> Iterator[str]:
    """Dotted names an import statement in `path` may refer to (relative imports made absolute)."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - (node.level - 1)]
                base = ".".join([*anchor, base] if base else anchor)
            yield base
            yield from (f"{base}.{alias.name}" for alias in node.names)  # `from pkg import module`


def _resolve(dotted: str) -> str | None:
    """The module of ours that `dotted` names (the longest prefix that is one), or None."""
    mods = modules()
    while dotted and dotted not in mods:
        dotted = dotted.rpartition(".")[0]
    return dotted or None


@cache
def import_graph() -> dict[str, set[str]]:
    """module -> the modules of ours it imports."""
    graph: dict[str, set[str]] = {}
    for name, path in modules().items():
        targets = {_resolve(n) for n in _imported_names(name, path)}
        graph[name] = {t for t in targets if t is not None and t != name}
    return graph


def _package(module: str) -> str:
    return module.split(".", maxsplit=1)[0]


def arrows_against_the_flow() -> list[str]:
    bad = []
    for src, targets in import_graph().items():
        here = _package(src)
        for dst in sorted(targets):
            there = _package(dst)
            if here in (there, TESTS):
                continue
            if there == TESTS or there not in ALLOWED.get(here, set()):
                bad.append(f"{src} imports {dst}")
    return sorted(bad)


def import_cycles() -> list[list[str]]:
    """Strongly connected groups of more than one module (scipy's csgraph finds the components)."""
    graph = import_graph()
    names = sorted(graph)
    at = {name: i for i, name in enumerate(names)}
    pairs = [(at[a], at[b]) for a in names for b in graph[a]]
    rows, cols = zip(*pairs, strict=True) if pairs else ((), ())
    adjacency = coo_matrix((np.ones(len(pairs)), (rows, cols)), shape=(len(names), len(names)))
    _count, labels = connected_components(adjacency, directed=True, connection="strong")
    groups: dict[int, list[str]] = {}
    for name, label in zip(names, labels, strict=True):
        groups.setdefault(int(label), []).append(name)
    return sorted(group for group in groups.values() if len(group) > 1)


def test_every_package_in_the_tree_has_its_place() -> None:
    found = packages_in_tree() - {TESTS}
    assert found == set(ALLOWED), f"give new packages a place in ALLOWED: {sorted(found ^ set(ALLOWED))}"


def test_the_graph_sees_what_is_there() -> None:
    """Guards the checks below against reading nothing: known arrows of each kind are found."""
    graph = import_graph()
    assert len(graph) > 200
    assert "foundation.errors" in graph["ingest.decode"]  # a top-level import
    assert "ingest.sampling" in graph["detectors.analysis"]
    assert "gridwatch.ops_view" in graph["gridwatch.metrics"]  # under TYPE_CHECKING
    assert "alerts.evidence_spool" in graph["alerts.evidence_store"]  # inside a function
    assert "gridwatch.demo" in graph["gridwatch.demo_config"]  # `from package import module`


def test_imports_follow_the_flow() -> None:
    bad = arrows_against_the_flow()
    assert not bad, "imports against the flow:\n" + "\n".join(bad)


def test_the_flow_check_finds_an_arrow_against_it(monkeypatch: pytest.MonkeyPatch) -> None:
    fake = {"ingest.x": {"gridwatch.y", "foundation.e"}, "tests.t": {"gridwatch.y"}, "alerts.a": {"tests.h"}}
    monkeypatch.setitem(arrows_against_the_flow.__globals__, "import_graph", lambda: fake)
    assert arrows_against_the_flow() == ["alerts.a imports tests.h", "ingest.x imports gridwatch.y"]


def test_no_module_imports_itself_back() -> None:
    cycles = import_cycles()
    graph = import_graph()
    described = [
        "; ".join(f"{a} -> {b}" for a in group for b in sorted(graph[a]) if b in group) for group in cycles
    ]
    assert not cycles, "import cycles between modules:\n" + "\n".join(described)


def test_the_cycle_finder_finds_a_cycle(monkeypatch: pytest.MonkeyPatch) -> None:
    """The check above can fail: a three-module loop and a two-module loop are reported, a chain is not."""
    fake = {"a.x": {"a.y"}, "a.y": {"a.z"}, "a.z": {"a.x"}, "b.p": {"b.q"}, "b.q": {"b.p", "a.x"}, "c.m": {"a.x"}}
    monkeypatch.setitem(import_cycles.__globals__, "import_graph", lambda: fake)
    assert import_cycles() == [["a.x", "a.y", "a.z"], ["b.p", "b.q"]]


def test_no_prometheus_outside_gridwatch() -> None:
    offenders = [
        str(path.relative_to(REPO))
        for name, path in modules().items()
        if _package(name) in set(ALLOWED) - {"gridwatch"}
        and any(n.startswith("prometheus_client") for n in _imported_names(name, path))
    ]
    assert not offenders, offenders
