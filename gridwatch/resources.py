"""Files the installed product carries (package data): the demo config, the sample grid and registry, the
reference configs. In a wheel they sit in `gridwatch/configs/`; in a checkout that is a link to configs/.

`${GRIDWATCH_CONFIGS_DIR}` in a config resolves to this folder unless the environment sets it, so the demo
config works from any working directory and from an installed wheel alike.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

CONFIGS_DIR = Path(__file__).resolve().parent / "configs"
DEMO_CONFIG = CONFIGS_DIR / "demo.yaml"


def config_environment(env: Mapping[str, str] | None = None) -> dict[str, str]:
    """The environment `${...}` references resolve against: `env` (default os.environ) over the defaults
    this package provides."""
    return {"GRIDWATCH_CONFIGS_DIR": str(CONFIGS_DIR), **(os.environ if env is None else env)}
