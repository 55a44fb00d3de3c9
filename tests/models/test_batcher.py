"""The cross-camera dynamic batcher: deadlines, fairness, ordering, overload, stop (unit tests with a
named fake model at the predict seam, plus one component test with the real ONNX model)."""

from __future__ import annotations

import random
import threading
import time
from collections import defaultdict
from collections.abc import Sequence
from concurrent.futures import Future, wait

import numpy as np
import pytest
from numpy.typing import NDArray

from foundation.errors import ModelError
from models.batcher import BatcherStoppedError, DynamicBatcher, QueueOverflowError, StaleFrameError
from models.config import BatcherConfig
from models.detections import Detections
from models.runtime import YoloModel
from tests.models.scenes import scenes, unmatched


def frame(frame_id: int) -> NDArray[np.uint8]:
    """A tiny frame carrying its id in its first pixel (0..65535)."""
    image = np.zeros((4, 4, 3), np.uint8)
    image[0, 0, 0], image[0, 0, 1] = frame_id % 256, frame_id // 256
    return image


def frame_id(image: NDArray[np.uint8]) -> int:
    return int(image[0, 0, 0]) + 256 * int(image[0, 0, 1])


class FakeModel:
    """Test double for the model: records each batch's frame ids; answers one box whose x1 is the id.

    `gate` (set by default) lets a test hold the dispatcher inside predict; `fail_ids` raise ModelError.
    """

    def __init__(self, name: str = "fake", delay_s: float = 0.0, class_id: int = 0) -> None:
        self._name = name
        self.delay_s = delay_s
        self.class_id = class_id
        self.batches: list[list[int]] = []
        self.called_at: list[float] = []
        self.gate = threading.Event()
        self.gate.set()
        self.entered = threading.Event()
        self.fail_ids: set[int] = set()

    @property
    def name(self) -> str:
        return self._name

    def predict(self, images: Sequence[NDArray[np.uint8]]) -> list[Detections]:
        self.called_at.append(time.monotonic())
        self.entered.set()
        assert self.gate.wait(10)
        ids = [frame_id(im) for im in images]
        self.batches.append(ids)
        time.sleep(self.delay_s)
        if self.fail_ids & set(ids):
            raise ModelError(f"fake failure for {sorted(self.fail_ids & set(ids))}")
        return [Detections.from_arrays([[i, 0, i + 1, 1]], [0.9], [self.class_id]) for i in ids]


def hold(model: FakeModel, batcher: DynamicBatcher) -> Future[Detections]:
    """Park the dispatcher inside predict (gate closed) with one primer frame; returns its future."""
    model.gate.clear()
    primer = batcher.submit("primer", frame(60_000))
    assert model.entered.wait(5)
    return primer


@pytest.fixture
def started() -> list[DynamicBatcher]:
    batchers: list[DynamicBatcher] = []
    yield batchers
    for b in batchers:
        b.stop(2.0)


def start(started: list[DynamicBatcher], model: FakeModel, **cfg: float) -> DynamicBatcher:
    batcher = DynamicBatcher(model, BatcherConfig(**cfg)).start()  # type: ignore[arg-type]
    started.append(batcher)
    return batcher


def test_silent_camera_never_holds_a_partial_batch_past_max_delay(started: list[DynamicBatcher]) -> None:
    model = FakeModel()
    batcher = start(started, model, max_batch=8, max_delay_ms=50)
    t0 = time.monotonic()
    result = batcher.submit("cam-a", frame(7)).result(timeout=5)  # cam-b..h are silent
    assert result.xyxy[0, 0] == 7
    waited = model.called_at[0] - t0
    assert model.batches == [[7]]
    assert 0.045 <= waited < 1.0  # went on the deadline, not when (never) the batch filled
    stats = batcher.stats()
    assert stats.batches == 1 and stats.completed == 1 and stats.queue_delay_s.count == 1
    assert stats.queue_delay_s.sum >= 0.045


def test_full_batch_goes_without_waiting_for_the_deadline(started: list[DynamicBatcher]) -> None:
    model = FakeModel()
    batcher = start(started, model, max_batch=8, max_delay_ms=10_000, max_share=0.25)
    futures = [batcher.submit(f"cam-{c}", frame(10 * c + k)) for c in range(4) for k in range(2)]
    done, _ = wait(futures, timeout=5)  # waiting for the 10 s deadline would fail this
    assert len(done) == 8 and model.batches == [[0, 1, 10, 11, 20, 21, 30, 31]]
    assert batcher.stats().batch_size.counts[7] == 1  # bucket "8 frames"


def test_one_camera_takes_at_most_max_share_of_a_batch(started: list[DynamicBatcher]) -> None:
    model = FakeModel()
    batcher = start(started, model, max_batch=8, max_share=0.25, max_delay_ms=20)  # cap: 2 frames
    hold(model, batcher)
    busy = [batcher.submit("busy", frame(100 + k)) for k in range(10)]
    quiet = [batcher.submit(f"quiet-{c}", frame(200 + c)) for c in range(3)]
    model.gate.set()
    wait(busy + quiet, timeout=10)
    after_primer = model.batches[1:]
    assert all(sum(1 for i in b if i < 200) <= 2 for b in after_primer), after_primer
    assert after_primer[0] == [100, 101, 200, 201, 202]  # quiet cameras are not stuck behind the busy one
    assert [i for b in after_primer for i in b if i < 200] == list(range(100, 110))  # busy camera in order


def test_every_result_goes_back_to_its_camera_in_order(started: list[DynamicBatcher]) -> None:
    model = FakeModel(delay_s=0.002)
    batcher = start(started, model, max_batch=4, max_delay_ms=5, max_share=0.5, queue_size=1000)
    completed: dict[str, list[int]] = defaultdict(list)
    submitted: dict[str, list[int]] = defaultdict(list)
    lock = threading.Lock()
    futures: list[tuple[int, Future[Detections]]] = []

    def camera(c: int) -> None:
        rng = random.Random(c)
        for k in range(30):
            fid = 1000 * c + k
            fut = batcher.submit(f"cam-{c}", frame(fid))
            fut.add_done_callback(lambda _f, cam=f"cam-{c}", fid=fid: completed[cam].append(fid))
            with lock:
                submitted[f"cam-{c}"].append(fid)
                futures.append((fid, fut))
            time.sleep(rng.uniform(0, 0.004))

    threads = [threading.Thread(target=camera, args=(c,)) for c in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for fid, fut in futures:
        assert fut.result(timeout=10).xyxy[0, 0] == fid  # nobody got another camera's (or frame's) boxes
    assert completed == submitted  # per camera, answered in submission order
    assert max(len(b) for b in model.batches) <= 4 and len(model.batches) < 180


def test_overload_drops_the_oldest_frames_and_counts_them(started: list[DynamicBatcher]) -> None:
    model = FakeModel()
    batcher = start(started, model, max_batch=8, queue_size=4, max_delay_ms=1)
    hold(model, batcher)
    futures = [batcher.submit("cam-a", frame(k)) for k in range(1, 7)]
    for fut in futures[:2]:
        with pytest.raises(QueueOverflowError, match=r"cam-a.*queue full"):
            fut.result(timeout=1)
    model.gate.set()
    assert [f.result(timeout=5).xyxy[0, 0] for f in futures[2:]] == [3, 4, 5, 6]
    stats = batcher.stats()
    assert stats.dropped == {("cam-a", "overflow"): 2} and stats.dropped_by_reason() == {"overflow": 2}


def test_stale_frames_fail_with_their_own_error(started: list[DynamicBatcher]) -> None:
    model = FakeModel()
    batcher = start(started, model, max_batch=8, request_timeout_ms=50, max_delay_ms=1)
    hold(model, batcher)
    stale = [batcher.submit("cam-a", frame(k)) for k in range(3)]
    patient = batcher.submit("cam-b", frame(9), deadline_s=30.0)
    time.sleep(0.2)
    model.gate.set()
    for fut in stale:
        with pytest.raises(StaleFrameError, match="cam-a: frame waited"):
            fut.result(timeout=5)
    assert patient.result(timeout=5).xyxy[0, 0] == 9
    assert batcher.stats().dropped == {("cam-a", "stale"): 3}
    assert all(0 not in b and 1 not in b for b in model.batches)  # stale frames were never inferred


def test_stop_drains_the_queue_then_refuses_frames(started: list[DynamicBatcher]) -> None:
    model = FakeModel()
    batcher = start(started, model, max_batch=8, max_delay_ms=10_000)
    futures = [batcher.submit("cam-a", frame(k)) for k in range(3)]
    batcher.stop(timeout_s=5)
    assert [f.result(timeout=0).xyxy[0, 0] for f in futures] == [0, 1, 2]
    assert not batcher.running
    late = batcher.submit("cam-a", frame(5))
    with pytest.raises(BatcherStoppedError):
        late.result(timeout=0)
    assert batcher.stats().dropped == {("cam-a", "stopped"): 1}


def test_a_failed_inference_fails_its_batch_only(started: list[DynamicBatcher]) -> None:
    model = FakeModel()
    model.fail_ids = {13}
    batcher = start(started, model, max_batch=2, max_delay_ms=1)
    hold(model, batcher)
    bad = [batcher.submit("cam-a", frame(13)), batcher.submit("cam-b", frame(14))]
    model.gate.set()
    for fut in bad:
        with pytest.raises(ModelError, match="fake failure"):
            fut.result(timeout=5)
    assert batcher.submit("cam-a", frame(15)).result(timeout=5).xyxy[0, 0] == 15
    assert batcher.stats().dropped_by_reason() == {"error": 2}


def test_cancelled_frames_are_skipped(started: list[DynamicBatcher]) -> None:
    model = FakeModel()
    batcher = start(started, model, max_batch=8, max_delay_ms=1)
    hold(model, batcher)
    gone = batcher.submit("cam-a", frame(21))
    kept = batcher.submit("cam-a", frame(22))
    assert gone.cancel()
    model.gate.set()
    assert kept.result(timeout=5).xyxy[0, 0] == 22
    assert all(21 not in b for b in model.batches)
    assert batcher.stats().dropped == {("cam-a", "cancelled"): 1}


def test_two_models_batch_side_by_side(started: list[DynamicBatcher]) -> None:
    fire, smoke = FakeModel("fire", delay_s=0.01, class_id=1), FakeModel("smoke", delay_s=0.01, class_id=2)
    batchers = [start(started, m, max_batch=4, max_delay_ms=5) for m in (fire, smoke)]
    futures = [(b, b.submit(f"cam-{k % 3}", frame(k))) for k in range(24) for b in batchers]
    for b, fut in futures:
        assert fut.result(timeout=10).class_id[0] == (1 if b.name == "fire" else 2)
    assert sum(len(x) for x in fire.batches) == sum(len(x) for x in smoke.batches) == 24
    assert {b.stats().model for b in batchers} == {"fire", "smoke"}


def test_batched_results_equal_direct_inference_with_the_real_model(
    v8_model: YoloModel, started: list[DynamicBatcher],
) -> None:
    batcher = DynamicBatcher(v8_model, BatcherConfig(max_batch=4, max_delay_ms=20, request_timeout_ms=60_000))
    started.append(batcher.start())
    shapes = {"cam-1": (1080, 1920), "cam-2": (480, 640), "cam-3": (720, 1280)}
    images = {cam: scenes([shape] * 3, seed=10 * i) for i, (cam, shape) in enumerate(shapes.items())}
    futures: dict[str, list[Future[Detections]]] = defaultdict(list)

    def camera(cam: str) -> None:
        for image in images[cam]:
            futures[cam].append(batcher.submit(cam, image))

    threads = [threading.Thread(target=camera, args=(cam,)) for cam in shapes]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    boxes = 0
    for cam, imgs in images.items():
        direct = v8_model.predict(imgs)
        for fut, expected in zip(futures[cam], direct, strict=True):
            got = fut.result(timeout=60)
            assert unmatched(got, expected.xyxy, expected.confidence, expected.class_id) == ([], [])
            boxes += len(got)
    assert boxes > 50
    stats = batcher.stats()
    assert stats.completed == 9 and stats.batch_size.sum == 9 and stats.inference_s.count == stats.batches
