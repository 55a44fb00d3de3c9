"""Where the demo's config lives, once its media and model are prepared (`gridwatch demo`, `alerts list`)."""

from __future__ import annotations

import os
from pathlib import Path

from gridwatch import demo


def demo_config_path(workdir: Path | None = None) -> Path:
    """Prepare the demo's media and model, export the env its config uses, and return the config path."""
    env = demo.prepare(workdir or demo.default_workdir())
    os.environ.update(env)
    return demo.DEMO_CONFIG
