"""Scenario generators share no code with what they test: nothing under benchmarks/scenarios/ imports
detectors/ (runners and scorers, which run the detector, live in benchmarks/ itself), and of the service's
own packages they import only what is listed in `ALLOWED`, each with the reason it cannot hide an error.
A camera model, colour rule or geodesy borrowed from ingest/ or models/ would make a generator agree with the
detector by construction, so a new import from them fails here until someone writes down why it is safe."""

from __future__ import annotations

import ast
from pathlib import Path

SCENARIOS = Path(__file__).resolve().parents[2] / "benchmarks" / "scenarios"

SERVICE_PACKAGES = ("detectors", "ingest", "models", "alerts", "gridwatch", "foundation")

ALLOWED = {
    # The frame/pose containers the detectors consume: plain data holders, no camera model or geometry.
    "ingest.frame": "data containers",
    # The sample district's GCJ-02 copy is drawn with the transform it documents; the lookup code it feeds
    # (alerts/grid.py) and the transform's own tests (tests/alerts/test_gcj02.py, published reference points)
    # do not depend on it.
    "alerts.gcj02": "sample-data GCJ-02 copy",
}


def _imported(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


def _is_service(module: str) -> bool:
    return module.split(".", maxsplit=1)[0] in SERVICE_PACKAGES


def test_no_scenario_module_imports_detector_code() -> None:
    files = sorted(SCENARIOS.glob("*.py"))
    assert len(files) > 10, f"no generators found under {SCENARIOS}"
    offenders = {
        f.name: sorted(m for m in _imported(f) if m == "detectors" or m.startswith("detectors.")) for f in files
    }
    assert not {name: mods for name, mods in offenders.items() if mods}


def test_scenario_modules_import_only_allowed_service_code() -> None:
    files = sorted(SCENARIOS.glob("*.py"))
    offenders = {f.name: sorted(m for m in _imported(f) if _is_service(m) and m not in ALLOWED) for f in files}
    assert not {name: mods for name, mods in offenders.items() if mods}, (
        "a generator imports service code; add it to ALLOWED only with the reason it cannot hide an error"
    )
