"""`Detections`: boxes as a struct of arrays, so no per-detection Python objects exist on hot paths."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray


@dataclass(frozen=True, slots=True)
class Detections:
    """N boxes in source-image pixels: `xyxy` float32 (N,4), `confidence` float32 (N,), `class_id` int32 (N,).

    Shapes are checked once here. Indexing with a boolean mask or an index array returns Detections.
    """

    xyxy: NDArray[np.float32]
    confidence: NDArray[np.float32]
    class_id: NDArray[np.int32]
    tracker_id: NDArray[np.int64] | None = None

    def __post_init__(self) -> None:
        n = self.xyxy.shape[0] if self.xyxy.ndim == 2 else -1
        if self.xyxy.ndim != 2 or self.xyxy.shape[1] != 4:
            raise ValueError(f"Detections.xyxy must be (N, 4), got {self.xyxy.shape}")
        if self.confidence.shape != (n,) or self.class_id.shape != (n,):
            raise ValueError(
                f"Detections arrays disagree: xyxy {self.xyxy.shape}, confidence {self.confidence.shape}, "
                f"class_id {self.class_id.shape}"
            )
        if self.tracker_id is not None and self.tracker_id.shape != (n,):
            raise ValueError(f"Detections.tracker_id must be ({n},), got {self.tracker_id.shape}")

    @classmethod
    def empty(cls) -> Detections:
        return cls(
            xyxy=np.zeros((0, 4), np.float32),
            confidence=np.zeros((0,), np.float32),
            class_id=np.zeros((0,), np.int32),
        )

    @classmethod
    def from_arrays(
        cls,
        xyxy: NDArray[np.floating] | list[list[float]],
        confidence: NDArray[np.floating] | list[float],
        class_id: NDArray[np.integer] | list[int],
    ) -> Detections:
        """Build from any array-likes, converting dtypes once."""
        return cls(
            xyxy=np.asarray(xyxy, np.float32).reshape(-1, 4),
            confidence=np.asarray(confidence, np.float32).reshape(-1),
            class_id=np.asarray(class_id, np.int32).reshape(-1),
        )

    def __len__(self) -> int:
        return int(self.xyxy.shape[0])

    def __getitem__(self, index: NDArray[np.bool_] | NDArray[np.integer] | slice) -> Detections:
        return Detections(
            xyxy=self.xyxy[index],
            confidence=self.confidence[index],
            class_id=self.class_id[index],
            tracker_id=None if self.tracker_id is None else self.tracker_id[index],
        )

    @property
    def area(self) -> NDArray[np.float32]:
        wh = np.clip(self.xyxy[:, 2:4] - self.xyxy[:, 0:2], 0, None)
        area: NDArray[np.float32] = (wh[:, 0] * wh[:, 1]).astype(np.float32)
        return area

    @staticmethod
    def concat(parts: list[Detections]) -> Detections:
        parts = [p for p in parts if len(p)]
        if not parts:
            return Detections.empty()
        return Detections(
            xyxy=np.concatenate([p.xyxy for p in parts]),
            confidence=np.concatenate([p.confidence for p in parts]),
            class_id=np.concatenate([p.class_id for p in parts]),
        )
