"""Gated inference with the real runtime: ONNX Runtime behind the cross-camera batcher, the service in this
process on a generated file, and the metrics it exports (promtool-clean).

The model is the cached YOLOv8n export with its random head calibrated to output boxes (tests/infra), so
crops give real boxes to map back; a trained model changes the boxes, not the paths.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import time
from pathlib import Path

import numpy as np
import pytest
from numpy.typing import NDArray

from benchmarks.scenarios.video import write_h264
from foundation.errors import ModelError
from gridwatch.config import load_config_text
from gridwatch.metrics import render
from gridwatch.ops import Operations
from gridwatch.service import Service
from models.batcher import DynamicBatcher
from models.config import BatcherConfig, GatingConfig, ModelConfig
from models.export import synthetic_scene
from models.gating import Gate, InferencePath, ModelGeometry
from models.regions import to_source
from models.runtime import load_model
from tests.infra.models import cached_model, demo_model

FPS = 10


def scene(i: int) -> NDArray[np.uint8]:
    """A still street-like picture; from frame 20 on a bright square moves slowly across it."""
    rng = np.random.default_rng(i)
    img = np.zeros((360, 640, 3), np.uint8)
    img[:] = np.linspace(50, 170, 640, dtype=np.uint8)[None, :, None]
    img[200:] = 70
    img = np.clip(img.astype(np.int16) + rng.integers(-3, 4, img.shape[:2])[..., None], 0, 255).astype(np.uint8)
    if i >= 20:
        x = 100 + 4 * (i - 20)
        img[250:280, x : x + 20] = (40, 140, 250)
    return img


@pytest.fixture(scope="module")
def clip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("gated") / "street.mp4"
    write_h264(out, (scene(i) for i in range(80)), fps=FPS)
    return out


def test_a_crop_through_the_real_batcher_gives_the_models_boxes_shifted_exactly() -> None:
    model = load_model(ModelConfig(name="v8", path=demo_model("yolov8n.yaml"), imgsz=(640, 640), rect=True,
                                   intra_op_threads=2, spin_wait=False))
    batcher = DynamicBatcher(model, BatcherConfig(max_batch=4, max_delay_ms=5)).start()
    try:
        gate = Gate("cam", "v8", ModelGeometry.of(model.info))
        cfg = GatingConfig(sweep_every_s=3600, context_share=0.2)
        image = synthetic_scene(3, 360, 640)
        gate.plan(image, 100.0, np.zeros((0, 4), np.float32), cfg)
        plan = gate.plan(image, 100.5, np.array([[260, 40, 480, 260]], np.float32), cfg)
        assert plan.path is InferencePath.REGIONS and plan.crop_inputs == ((320, 320),), "a 308 px crop, run at 320"
        got = gate.run(image, plan, lambda im, hw: batcher.submit("cam", im, input_hw=hw))
        crops = [image[y1:y2, x1:x2] for x1, y1, x2, y2 in plan.crops.tolist()]
        direct = to_source(model.predict(crops, input_hw=(320, 320)), plan.crops)
        assert len(direct) > 0, "the calibrated head answers boxes on a crop"
        assert got.xyxy.tolist() == direct.xyxy.tolist() and got.confidence.tolist() == direct.confidence.tolist()
        x1, y1, x2, y2 = plan.crops[0].tolist()
        xs, ys = got.xyxy[:, [0, 2]], got.xyxy[:, [1, 3]]
        assert ((xs >= x1 - 1e-3) & (xs <= x2 + 1e-3)).all() and ((ys >= y1 - 1e-3) & (ys <= y2 + 1e-3)).all(), \
            "every box lies in the crop it came from, in source pixels"
    finally:
        batcher.stop(5.0)


def test_crop_sizes_a_model_cannot_take_are_refused_clearly() -> None:
    dynamic = load_model(ModelConfig(name="dyn", path=demo_model("yolov8n.yaml"), intra_op_threads=1),
                         warmup=False)
    with pytest.raises(ModelError, match="multiple of the stride 32"):
        dynamic.predict([scene(0)], input_hw=(300, 300))
    fixed = load_model(ModelConfig(name="fixed", path=cached_model("yolov8n.yaml", 320), intra_op_threads=1),
                       warmup=False)
    with pytest.raises(ModelError, match="fixed-shape export"):
        fixed.predict([scene(0)], input_hw=(256, 256))
    assert len(fixed.predict([scene(0)], input_hw=(320, 320))) == 1, "its own size is fine"


def config(work: Path, clip: Path, gated: bool) -> str:
    return (
        "service: {reload_poll_s: 0, metrics: {enabled: false}, shutdown_timeout_s: 8}\n"
        f"models:\n  - {{name: v8, path: {demo_model('yolov8n.yaml')}, imgsz: [640, 640], rect: true, "
        "intra_op_threads: 2, spin_wait: false}\n"
        "detectors:\n"
        f"  fire: {{analysis_fps: 5, mode: both, model: v8, gating: {{enabled: {str(gated).lower()}, "
        "sweep_every_s: 3, recheck_after_s: 0}}\n"
        f"cameras:\n  - id: cam-g\n    source: {{url: {clip}, realtime: false}}\n    detectors: {{fire: {{}}}}\n"
        f"alerts:\n  outbox: {{path: {work}/outbox.sqlite3}}\n  evidence: {{enabled: false}}\n"
    )


def run_service(work: Path, clip: Path, gated: bool) -> str:
    service = Service(load_config_text(config(work, clip, gated)))
    ops = Operations(service, None, None)
    service.start()
    try:
        deadline = time.monotonic() + 60
        while not service.all_finished() and time.monotonic() < deadline:
            time.sleep(0.2)
        assert service.all_finished(), "the clip was analysed within a minute"
        return render(ops.registry).decode()
    finally:
        service.stop()


def sample(text: str, name: str, **labels: str) -> float:
    """The sum of the samples of `name` whose labels include `labels`."""
    total = 0.0
    for line in text.splitlines():
        m = re.match(rf"^{name}\{{(.*)\}} (\S+)$", line)
        if m and all(f'{k}="{v}"' in m.group(1) for k, v in labels.items()):
            total += float(m.group(2))
    return total


def test_the_service_gates_its_model_and_counts_every_path(tmp_path: Path, clip: Path) -> None:
    text = run_service(tmp_path, clip, gated=True)
    frames = sample(text, "gridwatch_camera_frames_analysed_total", camera_id="cam-g")
    assert frames == 40, "8 s at 5 fps"
    gate = {p: sample(text, "gridwatch_gate_frames_total", camera_id="cam-g", model="v8", path=p)
            for p in ("sweep", "skipped", "regions", "full", "reused")}
    assert sum(gate.values()) == frames, gate
    assert sample(text, "gridwatch_gate_frames_total", path="sweep", reason="first") == 1
    assert 2 <= gate["sweep"] <= 4, "first frame plus one per 3 s slot over 8 s"
    assert gate["skipped"] >= 5, "the still first seconds skip the model"
    assert gate["regions"] >= 10, "the moving square is looked at in crops"
    assert sample(text, "gridwatch_gate_regions_total", camera_id="cam-g") >= gate["regions"]
    assert 'gridwatch_gate_regions_reused_total{camera_id="cam-g",model="v8"} 0.0' in text and gate["reused"] == 0, \
        "recheck_after_s 0 never gives a look again"
    spent = sample(text, "gridwatch_gate_input_pixels_total", camera_id="cam-g")
    whole = sample(text, "gridwatch_gate_ungated_input_pixels_total", camera_id="cam-g")
    assert whole == frames * 640 * 384 and 0 < spent < 0.6 * whole
    assert 'gridwatch_stage_seconds_count{stage="change"}' in text
    promtool = shutil.which("promtool")
    assert promtool, "promtool (Debian package prometheus) is required; deploy/dev/bootstrap.sh installs it"
    lint = subprocess.run([promtool, "check", "metrics"], input=text.encode(), capture_output=True, timeout=30)
    assert lint.returncode == 0, lint.stdout + lint.stderr


def test_gating_off_runs_every_frame_whole(tmp_path: Path, clip: Path) -> None:
    text = run_service(tmp_path, clip, gated=False)
    assert sample(text, "gridwatch_gate_frames_total", camera_id="cam-g", path="ungated", reason="off") == 40
    assert sample(text, "gridwatch_gate_regions_total", camera_id="cam-g") == 0
