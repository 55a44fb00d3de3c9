"""INT8 calibration frames for fetched weights, made on this machine (nothing is downloaded).

For the fire/smoke model: frames of generated street scenes (`benchmarks.scenarios.fire`: fires, a smoke
plume, an amber lamp, a red car, day/dusk/night) plus the two real photographs Ultralytics installs with
itself (`ultralytics/assets`), so activation ranges cover both rendered and camera pictures. Frames are
split interleaved: one share calibrates, the rest measure the INT8/fp32 agreement that decides whether
the runtime may use INT8 (`models.weights`).

`CALIBRATION_SEEDS` are used for nothing else: they are neither the fire detector's tuning seeds nor its
gate seeds (a test checks), so no accuracy gate runs on a scene the quantizer has seen.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import cv2
import numpy as np
from numpy.typing import NDArray

from models.fetch import CalibrationSet

CALIBRATION_SEEDS: tuple[int, ...] = (7001, 7002, 7003, 7004, 7005, 7006, 7007, 7008)
_SCENES: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("fire", ()),
    ("fire", ("orange_sign",)),
    ("smoke", ()),
    ("distractor", ("amber_light",)),
    ("fire", ()),
    ("distractor", ("red_car",)),
    ("smoke", ()),
    ("fire", ("orange_sign",)),
)
FRAME_STEP = 3
"""Every third rendered frame (10 fps scenes): about 33 frames per scene, 260 in all."""
HELD_OUT_EVERY = 2
"""Every second frame is held out for the agreement measure; the others calibrate."""


def _ultralytics_photos() -> list[NDArray[np.uint8]]:
    spec = importlib.util.find_spec("ultralytics")
    if spec is None or not spec.submodule_search_locations:
        return []
    folder = Path(next(iter(spec.submodule_search_locations))) / "assets"
    out = []
    for path in sorted(folder.glob("*.jpg")):
        img = cv2.imread(str(path))
        if img is not None:
            out.append(np.asarray(img, np.uint8))
    return out


def fire_smoke_calibration() -> CalibrationSet:
    """Calibration and held-out frames for the `fire-smoke` weights (see the module docstring)."""
    from benchmarks.scenarios.fire import make_scenario, render  # noqa: PLC0415 (only a fetch needs it)

    frames: list[NDArray[np.uint8]] = []
    for seed, (category, distractors) in zip(CALIBRATION_SEEDS, _SCENES, strict=True):
        sc = make_scenario(category, seed, distractors)  # type: ignore[arg-type]
        frames += [np.ascontiguousarray(img) for i, (img, _) in enumerate(render(sc)) if i % FRAME_STEP == 0]
    held = frames[1::HELD_OUT_EVERY]
    calibrate = frames[0::HELD_OUT_EVERY] + _ultralytics_photos()
    return CalibrationSet(
        calibrate=calibrate,
        held_out=held,
        description=f"generated fire scenes, seeds {CALIBRATION_SEEDS[0]}-{CALIBRATION_SEEDS[-1]}, every "
        f"{FRAME_STEP}rd frame, interleaved calibrate/held-out, plus Ultralytics' bundled photos (calibrate)",
    )


CALIBRATIONS = {"fire-smoke": fire_smoke_calibration}
