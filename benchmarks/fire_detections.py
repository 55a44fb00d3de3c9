"""The fetched fire/smoke model and its detections per analysed frame, computed once and shared.

`benchmarks.fire_modes` and the fire gates run many detector variants over the same videos and stills;
`DetectionStore` runs the model once per video (or image) and hands every variant the same detections.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from benchmarks.fire_score import sampled_frames
from benchmarks.report import file_sha256
from models.config import ModelConfig
from models.detections import Detections
from models.runtime import YoloModel, load_model
from models.weights import Precision

MODEL_NAME = "fire-smoke"


def load_fire_model(precision: Precision = "auto") -> YoloModel:
    """The fetched fire/smoke weights (ModelError naming the fetch command when absent)."""
    return load_model(ModelConfig(name=MODEL_NAME, fetched=MODEL_NAME, precision=precision), warmup=False)


class DetectionStore:
    """The model's detections for every analysed frame of a video, computed once per video and rate.

    Variants and tests that run the same video share one inference pass. With `folder`, results are also
    kept on disk, keyed by the sha256 of the video and of the model file and the model's thresholds, so a
    re-run of the benchmark with other rules skips inference (tests keep them in memory only).
    """

    def __init__(self, model: YoloModel, folder: Path | None = None) -> None:
        self.model = model
        self.folder = folder
        self._memory: dict[tuple[str, float], tuple[list[Detections], float]] = {}

    def detections(self, path: str | Path, fps: float) -> tuple[list[Detections], float]:
        """(detections per analysed frame, model CPU seconds spent computing them; 0 when reused)."""
        key = (str(Path(path).resolve()), fps)
        if key in self._memory:
            return self._memory[key][0], 0.0
        disk = self._disk_path(path, fps)
        if disk is not None and disk.is_file():
            dets = _load_detections(disk)
            self._memory[key] = (dets, 0.0)
            return dets, 0.0
        out: list[Detections] = []
        spent = 0.0
        for frame in sampled_frames(path, fps, "store"):
            start = time.process_time()
            out.append(self.model.predict([frame.image])[0])
            spent += time.process_time() - start
        self._memory[key] = (out, spent)
        if disk is not None:
            _save_detections(disk, out)
        return out, spent

    def still(self, path: Path, image: NDArray[np.uint8]) -> Detections:
        """The model's detections on one still image (kept like a video's)."""
        key = (str(path.resolve()), 0.0)
        if key in self._memory:
            return self._memory[key][0][0]
        disk = self._disk_path(path, 0.0)
        if disk is not None and disk.is_file():
            dets = _load_detections(disk)
        else:
            dets = self.model.predict([image])
            if disk is not None:
                _save_detections(disk, dets)
        self._memory[key] = (dets, 0.0)
        return dets[0]

    def _disk_path(self, path: str | Path, fps: float) -> Path | None:
        if self.folder is None:
            return None
        p = self.model.params
        thr = "-".join(f"{v:g}" for v in p.thresholds.tolist())
        tag = f"{file_sha256(path)[:16]}-{self.model.info.sha256[:16]}-{fps:g}fps-c{thr}-i{p.iou_threshold:g}"
        return self.folder / f"{tag}.npz"


def _save_detections(path: Path, dets: Sequence[Detections]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    counts = np.array([len(d) for d in dets], np.int64)
    np.savez_compressed(
        path, counts=counts,
        xyxy=np.concatenate([d.xyxy for d in dets]) if dets else np.zeros((0, 4), np.float32),
        conf=np.concatenate([d.confidence for d in dets]) if dets else np.zeros((0,), np.float32),
        cls=np.concatenate([d.class_id for d in dets]) if dets else np.zeros((0,), np.int32),
    )


def _load_detections(path: Path) -> list[Detections]:
    with np.load(path) as data:
        ends = np.cumsum(data["counts"])
        starts = ends - data["counts"]
        return [Detections.from_arrays(data["xyxy"][a:b], data["conf"][a:b], data["cls"][a:b])
                for a, b in zip(starts.tolist(), ends.tolist(), strict=True)]
