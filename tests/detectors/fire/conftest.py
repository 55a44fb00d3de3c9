"""Shared, session-scoped runs of the fire detector with the trained weights on the real media.

The model runs once per video (INT8 or fp32 as `precision: auto` chooses, like the demo); every mode's
detector and alert pipeline then reads the same detections, so each gate below costs only its detector.
`GRIDWATCH_TEST_DETECTIONS=DIR` keeps those detections on disk between sessions (keyed by the sha256 of
the video and of the model file, see `DetectionStore`): for re-running the gates while working on the
detector; unset (the default, and in CI) the model runs in every session.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from benchmarks.fire_detections import DetectionStore, load_fire_model
from benchmarks.fire_modes import NEGATIVE_VIDEOS
from benchmarks.fire_variants import MAIN_VARIANTS, VideoRun, run_video_variants, variant_configs
from detectors.fire import FireConfig


@pytest.fixture(scope="session")
def mode_configs() -> dict[str, FireConfig]:
    """`model`, `cues` and `both` with every other setting at its default, as a user would configure them."""
    every = variant_configs()
    return {k: every[k] for k in MAIN_VARIANTS}


@pytest.fixture(scope="session")
def fire_store() -> DetectionStore:
    from tests.infra.weights import fire_smoke_weights

    fire_smoke_weights()
    folder = os.environ.get("GRIDWATCH_TEST_DETECTIONS")
    return DetectionStore(load_fire_model("auto"), Path(folder) if folder else None)


@pytest.fixture(scope="session")
def furg_run(real_testdata: Path, fire_store: DetectionStore, mode_configs: dict[str, FireConfig]) -> VideoRun:
    return run_video_variants(real_testdata / "furg-fire" / "house6.mp4", mode_configs, fire_store,
                              camera_id="furg-house6")


@pytest.fixture(scope="session")
def intel_runs(
    real_testdata: Path, fire_store: DetectionStore, mode_configs: dict[str, FireConfig]
) -> dict[str, VideoRun]:
    folder = real_testdata / "intel-sample-videos"
    return {name: run_video_variants(folder / name, mode_configs, fire_store, camera_id=Path(name).stem)
            for name in NEGATIVE_VIDEOS}
