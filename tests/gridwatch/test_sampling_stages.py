"""Ingest and analysis sample with the one sampler (ingest/sampling.py), so they agree on real decoded
files; a reload that changes a detector's rate restarts its camera at the new rate."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from detectors.analysis import CameraAnalysis
from gridwatch.config import load_config_text
from gridwatch.reload import apply_reload
from gridwatch.service import Service
from ingest.files import iter_file_frames
from tests.gridwatch.test_analysis import FakeDetector
from tests.ingest.media import make_clip

CLIP_S = 6.0


@pytest.fixture(scope="module")
def mkv_30fps(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """30 fps H.264 in Matroska: a millisecond time base, so pts are rounded (0.033, 0.067, 0.1, ...)."""
    return make_clip(tmp_path_factory.mktemp("sampling") / "clip.mkv", seconds=CLIP_S, fps=30, gop=30)


@pytest.mark.parametrize("fps", [3.0, 6.0, 15.0])  # the old pair of samplers dropped 3, 8 and 7 of these
def test_a_detector_gets_every_frame_the_decoder_sampled_for_it(mkv_30fps: Path, fps: float) -> None:
    frames = list(iter_file_frames(mkv_30fps, "cam", analysis_fps=fps))
    assert abs(len(frames) - CLIP_S * fps) <= 1, len(frames)
    detector = FakeDetector("d", fps, None)
    analysis = CameraAnalysis("cam", [detector], None)  # type: ignore[list-item]
    for frame in frames:
        analysis.analyse(frame)
    assert [seq for seq, _ in detector.seen] == [f.seq for f in frames]


def _config(clip: Path, work: Path, fps: float) -> str:
    return f"""
service: {{reload_poll_s: 0, metrics: {{enabled: false}}, shutdown_timeout_s: 15}}
detectors:
  fire: {{analysis_fps: {fps}, mode: cues}}
cameras:
  - id: cam-r
    source: {{url: {clip}, realtime: false}}
    detectors: {{fire: {{}}}}
    site: {{lat_deg: 34.8102, lon_deg: 113.2745}}
alerts:
  outbox: {{path: {work}/outbox.sqlite3}}
  evidence: {{enabled: false}}
"""


def _run_to_end(service: Service) -> int:
    deadline = time.monotonic() + 60
    while not service.all_finished() and time.monotonic() < deadline:
        time.sleep(0.1)
    assert service.all_finished(), "the file was not analysed to its end"
    return service.cameras["cam-r"].runner.analysis.frames_analysed


def test_a_reload_that_changes_the_rate_restarts_the_camera_at_the_new_rate(mkv_30fps: Path, tmp_path: Path) -> None:
    service = Service(load_config_text(_config(mkv_30fps, tmp_path, 5.0)))
    service.start()
    try:
        assert _run_to_end(service) == pytest.approx(CLIP_S * 5, abs=1)
        plan = apply_reload(service, load_config_text(_config(mkv_30fps, tmp_path, 2.0)))
        assert plan.restarted == ["cam-r"] and not plan.failed
        runtime = service.cameras["cam-r"]
        assert runtime.source_config.analysis_fps == 2.0, "the decoder samples at the new rate"
        assert _run_to_end(service) == pytest.approx(CLIP_S * 2, abs=1), "and so does the detector's gate"
    finally:
        assert service.stop()
