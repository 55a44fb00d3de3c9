"""The batcher's guarantees hold for gated crops: fairness, order, deadlines and drop-oldest, with crops and
whole frames in one queue, and one inference call per input size (unit tests, `SizedFakeModel` at the
predict seam)."""

from __future__ import annotations

import threading
import time
from collections.abc import Sequence
from concurrent.futures import Future, wait

import numpy as np
import pytest
from numpy.typing import NDArray

from models.batcher import DynamicBatcher, QueueOverflowError, StaleFrameError
from models.config import BatcherConfig
from models.detections import Detections
from tests.models.test_batcher import frame, frame_id

CROP = (320, 320)


class SizedFakeModel:
    """Test double for the model: records each inference call as (input size, frame ids) and answers one
    box whose x1 is the frame id; `gate` lets a test hold the dispatcher inside predict."""

    name = "sized-fake"

    def __init__(self) -> None:
        self.calls: list[tuple[tuple[int, int] | None, list[int]]] = []
        self.gate = threading.Event()
        self.gate.set()
        self.entered = threading.Event()

    def predict(self, images: Sequence[NDArray[np.uint8]], input_hw: tuple[int, int] | None = None) -> list[Detections]:
        self.entered.set()
        assert self.gate.wait(10)
        ids = [frame_id(im) for im in images]
        self.calls.append((input_hw, ids))
        return [Detections.from_arrays([[i, 0, i + 1, 1]], [0.9], [0]) for i in ids]


@pytest.fixture
def started() -> list[DynamicBatcher]:
    batchers: list[DynamicBatcher] = []
    yield batchers
    for b in batchers:
        b.stop(2.0)


def start(started: list[DynamicBatcher], model: SizedFakeModel, **cfg: float) -> DynamicBatcher:
    batcher = DynamicBatcher(model, BatcherConfig(**cfg)).start()  # type: ignore[arg-type]
    started.append(batcher)
    return batcher


def hold(model: SizedFakeModel, batcher: DynamicBatcher) -> None:
    model.gate.clear()
    batcher.submit("primer", frame(60_000))
    assert model.entered.wait(5)


def test_a_mixed_batch_runs_once_per_input_size_and_answers_each_request(started: list[DynamicBatcher]) -> None:
    model = SizedFakeModel()
    batcher = start(started, model, max_batch=8, max_share=1.0, max_delay_ms=20)
    hold(model, batcher)
    futures = [
        batcher.submit("cam-a", frame(1)),
        batcher.submit("cam-b", frame(2), input_hw=CROP),
        batcher.submit("cam-b", frame(3), input_hw=CROP),
        batcher.submit("cam-c", frame(4)),
        batcher.submit("cam-c", frame(5), input_hw=(256, 256)),
    ]
    model.gate.set()
    assert [f.result(timeout=5).xyxy[0, 0] for f in futures] == [1, 2, 3, 4, 5]
    assert model.calls[1:] == [(None, [1, 4]), (CROP, [2, 3]), ((256, 256), [5])]
    stats = batcher.stats()
    assert stats.batches == 2 and stats.completed == 6, "one batch (three calls) after the primer"


def test_crops_count_towards_their_cameras_share(started: list[DynamicBatcher]) -> None:
    model = SizedFakeModel()
    batcher = start(started, model, max_batch=4, max_share=0.5, max_delay_ms=20)  # cap: 2 per camera
    hold(model, batcher)
    busy = [batcher.submit("busy", frame(100 + k), input_hw=CROP) for k in range(6)]  # one frame's six crops
    quiet = [batcher.submit("quiet-1", frame(200)), batcher.submit("quiet-2", frame(201), input_hw=CROP)]
    model.gate.set()
    wait(busy + quiet, timeout=10)
    first = sorted(i for _, ids in model.calls[1:3] for i in ids)
    assert first == [100, 101, 200, 201], "the busy camera's crops did not crowd out the others"
    crops_in_order = [i for hw, ids in model.calls[1:] if hw == CROP for i in ids if i < 200]
    assert crops_in_order == list(range(100, 106)), "a camera's crops run in the order submitted"


def test_crops_past_their_deadline_go_stale_and_are_never_inferred(started: list[DynamicBatcher]) -> None:
    model = SizedFakeModel()
    batcher = start(started, model, max_batch=8, request_timeout_ms=50, max_delay_ms=1)
    hold(model, batcher)
    stale = [batcher.submit("cam-a", frame(k), input_hw=CROP) for k in range(3)]
    fresh = batcher.submit("cam-b", frame(9), input_hw=CROP, deadline_s=30.0)
    time.sleep(0.2)
    model.gate.set()
    for fut in stale:
        with pytest.raises(StaleFrameError):
            fut.result(timeout=5)
    assert fresh.result(timeout=5).xyxy[0, 0] == 9
    assert batcher.stats().dropped == {("cam-a", "stale"): 3}
    assert all(k not in ids for _, ids in model.calls for k in range(3))


def test_a_full_queue_drops_the_oldest_request_crop_or_frame(started: list[DynamicBatcher]) -> None:
    model = SizedFakeModel()
    batcher = start(started, model, max_batch=8, queue_size=3, max_delay_ms=1)
    hold(model, batcher)
    futures: list[Future[Detections]] = [
        batcher.submit("cam-a", frame(1), input_hw=CROP),
        batcher.submit("cam-a", frame(2), input_hw=CROP),
        batcher.submit("cam-b", frame(3)),
        batcher.submit("cam-c", frame(4), input_hw=CROP),
    ]
    with pytest.raises(QueueOverflowError, match="cam-a"):
        futures[0].result(timeout=1)
    model.gate.set()
    assert [f.result(timeout=5).xyxy[0, 0] for f in futures[1:]] == [2, 3, 4]
    assert batcher.stats().dropped == {("cam-a", "overflow"): 1}
