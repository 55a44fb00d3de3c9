"""The scenario generator: deterministic, ground truth consistent with the video, real H.264 round trip."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import av
import numpy as np

from benchmarks.fire_score import sampled_frames
from benchmarks.scenarios.fire import (
    DISTRACTORS,
    GATE_SEEDS,
    TUNING_SEEDS,
    make_scenario,
    render,
    suite,
    write_scenario,
)


def _digest(frames: list[np.ndarray]) -> str:
    h = hashlib.sha256()
    for f in frames:
        h.update(f.tobytes())
    return h.hexdigest()


def test_gate_seeds_were_not_tuning_seeds() -> None:
    assert not set(GATE_SEEDS) & set(TUNING_SEEDS)
    gate_names = {s.name for s in suite(GATE_SEEDS)}
    assert not gate_names & {s.name for s in suite(TUNING_SEEDS)}


def test_suite_covers_every_distractor_and_both_incident_kinds() -> None:
    scenarios = suite(GATE_SEEDS[:1])
    cats = [s.category for s in scenarios]
    assert cats.count("fire") == 2 and cats.count("smoke") == 1
    covered = {d for s in scenarios for d in s.distractors}
    assert covered == set(DISTRACTORS)
    assert all(s.ignition_s is None for s in scenarios if s.category == "distractor")


def test_rendering_is_deterministic_and_truth_starts_at_ignition() -> None:
    sc = make_scenario("fire", 4242)
    sc = type(sc)(**{**sc.__dict__, "duration_s": sc.ignition_s + 1.0})  # type: ignore[operator]
    first = list(render(sc))
    second = list(render(sc))
    assert _digest([f for f, _ in first]) == _digest([f for f, _ in second])
    assert sc.ignition_s is not None
    for i, (img, box) in enumerate(first):
        t = i / sc.fps
        assert (box is None) == (t < sc.ignition_s)
        assert img.shape == (sc.height, sc.width, 3)
    boxes = [b for _, b in first if b is not None]
    base_x = sc.params["base_x_share"] * sc.width
    assert all(b[0] <= base_x <= b[2] for b in boxes)
    # the flame is brighter and redder inside its truth box than the scene was before ignition
    img_before, img_after = first[0][0], first[-1][0]
    x1, y1, x2, y2 = (int(v) for v in boxes[-1])
    assert img_after[y1:y2, x1:x2, 2].mean() > img_before[y1:y2, x1:x2, 2].mean() + 20


def test_written_video_decodes_with_the_truth_file(tmp_path: Path) -> None:
    sc = make_scenario("distractor", 4243, ("amber_light",))
    sc = type(sc)(**{**sc.__dict__, "duration_s": 2.0})
    files = write_scenario(sc, tmp_path)
    truth = json.loads(files.truth.read_text())
    assert truth["kind"] is None and truth["boxes"] == []
    with av.open(str(files.video)) as c:
        stream = c.streams.video[0]
        assert stream.codec_context.name == "h264"
        n = sum(1 for _ in c.decode(stream))
    assert n == round(sc.duration_s * sc.fps)
    frames = list(sampled_frames(files.video, 5.0, "cam"))
    assert len(frames) == 10  # 2 s at 5 fps from a 10 fps file
    assert [round(f.pts_s, 2) for f in frames[:3]] == [0.0, 0.2, 0.4]
