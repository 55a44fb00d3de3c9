"""The embedded demo: media and a model generated on this machine, the demo config, nothing downloaded.

Two generated cameras: one where a fire starts beside an orange sign, one with only distractors (a red
car passing and a blinking amber light). The model is YOLOv8n exported by Ultralytics from its
architecture file with seeded random weights: it costs what a real model costs but finds nothing, so
the alerts come from the weights-free fire cues. Assets are cached in the demo directory.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path

from foundation.errors import MissingExtraError, ModelError
from gridwatch.resources import CONFIGS_DIR, DEMO_CONFIG  # package data (see gridwatch/resources.py)

__all__ = ["CONFIGS_DIR", "DEMO_CONFIG", "DEMO_MODEL_IMGSZ", "default_workdir", "prepare"]

log = logging.getLogger(__name__)

DEMO_MODEL_IMGSZ = 320
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
    model = workdir / f"yolov8n-{DEMO_MODEL_IMGSZ}.onnx"
    if not model.is_file():
        log.info("demo: exporting yolov8n (random weights) to %s with Ultralytics", model)
        try:
            from models.export import export_onnx

            export_onnx("yolov8n.yaml", model, imgsz=DEMO_MODEL_IMGSZ)
        except MissingExtraError as exc:
            raise MissingExtraError("export", "the demo (its model is exported by Ultralytics)", "Ultralytics") from exc
        except ModelError as exc:
            raise ModelError(f"demo model: {exc}") from exc
    return {
        "GRIDWATCH_DEMO_DIR": str(workdir.resolve()),
        "GRIDWATCH_CONFIGS_DIR": str(CONFIGS_DIR.resolve()),
    }
