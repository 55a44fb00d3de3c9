"""The embedded demo: media generated on this machine, the trained weights fetched at set-up, the demo config.

Two generated cameras: one where a fire starts beside an orange sign, one with only distractors (a red
car passing and a blinking amber light). The fire detector runs in `both` mode with the `fire-smoke`
weights that `gridwatch models fetch fire-smoke` put in the cache (`make setup` runs it); nothing is
downloaded here, and missing weights fail with that command. Media are cached in the demo directory.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path

from gridwatch.resources import CONFIGS_DIR, DEMO_CONFIG  # package data (see gridwatch/resources.py)
from models.weights import read_fetched

__all__ = ["CONFIGS_DIR", "DEMO_CONFIG", "DEMO_WEIGHTS", "default_workdir", "prepare"]

log = logging.getLogger(__name__)

DEMO_WEIGHTS = "fire-smoke"
DEMO_CLIPS = {
    "demo-fire.mp4": ("fire", 7, ("orange_sign",)),
    "demo-distractors.mp4": ("distractor", 7, ("red_car", "amber_light")),
}


def default_workdir() -> Path:
    """Where the demo writes (a user location, never the installed package): $GRIDWATCH_DEMO_DIR, else
    $GRIDWATCH_CACHE/demo, else var/demo under the working directory."""
    if os.environ.get("GRIDWATCH_DEMO_DIR"):
        return Path(os.environ["GRIDWATCH_DEMO_DIR"])
    if os.environ.get("GRIDWATCH_CACHE"):
        return Path(os.environ["GRIDWATCH_CACHE"]) / "demo"
    return Path.cwd() / "var" / "demo"


def prepare(workdir: Path) -> dict[str, str]:
    """Generate what the demo needs (once) and return the environment its config refers to."""
    from benchmarks.scenarios.fire import make_scenario, write_scenario

    workdir.mkdir(parents=True, exist_ok=True)
    for name, (category, seed, distractors) in DEMO_CLIPS.items():
        target = workdir / name
        if target.is_file():
            continue
        log.info("demo: generating %s", target)
        files = write_scenario(make_scenario(category, seed, distractors), workdir / "scenes")  # type: ignore[arg-type]
        files.video.replace(target)
    read_fetched(DEMO_WEIGHTS)  # ModelError naming `gridwatch models fetch` before anything starts
    return {
        "GRIDWATCH_DEMO_DIR": str(workdir.resolve()),
        "GRIDWATCH_CONFIGS_DIR": str(CONFIGS_DIR.resolve()),
    }
