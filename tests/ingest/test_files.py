"""Decoding files with real FFmpeg (PyAV): sampling, decode modes, resize, telemetry, damaged/bad files."""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import pytest

from foundation.errors import SourceError
from ingest.config import DecodeMode
from ingest.decode import FreezeDetector, output_size
from ingest.files import iter_file_frames
from ingest.srt import parse_srt
from tests.ingest.helpers import modern_srt


def test_freeze_detector_tolerates_requantisation_but_not_motion() -> None:
    d = FreezeDetector(frozen_after_s=1.0, max_diff=12)
    rng = np.random.default_rng(0)
    still = rng.integers(0, 255, (240, 320, 3), dtype=np.uint8)
    frozen = []
    for i in range(30):
        noisy = np.clip(still.astype(int) + rng.integers(-3, 4, still.shape), 0, 255).astype(np.uint8)
        frozen.append(d.update(noisy, i * 0.1))
    assert not any(frozen[:10]) and all(frozen[11:])
    moved = still.copy()
    moved[100:110, 150:160] = 255 - moved[100:110, 150:160]  # a 10x10 object: 0.1 % of the picture
    assert d.update(moved, 3.1) is False


def test_output_size_keeps_aspect_when_one_side_given() -> None:
    assert output_size(1920, 1080, 640, None) == (640, 360)
    assert output_size(1920, 1080, None, 360) == (640, 360)
    assert output_size(1920, 1080, 320, 320) == (320, 320)
    assert output_size(1920, 1080, None, None) == (1920, 1080)


def test_full_decode_delivers_every_frame_in_order(clip_4s: Path) -> None:
    frames = list(iter_file_frames(clip_4s, "f1"))
    assert len(frames) == 100
    assert [f.seq for f in frames] == list(range(100))
    assert frames[0].image.shape == (240, 320, 3) and frames[0].keyframe
    assert sum(f.keyframe for f in frames) == 4
    pts = np.array([f.pts_s for f in frames])
    assert np.allclose(np.diff(pts), 0.04, atol=1e-3)
    assert not frames[0].image.flags.writeable
    # the content moves: consecutive frames differ
    assert np.abs(frames[1].image.astype(int) - frames[0].image).max() > 100


def test_analysis_fps_samples_on_pts(clip_4s: Path) -> None:
    frames = list(iter_file_frames(clip_4s, "f1", analysis_fps=5))
    assert len(frames) == 20
    assert np.allclose(np.diff([f.pts_s for f in frames]), 0.2, atol=1e-3)


def test_keyframes_mode_decodes_one_frame_per_gop(clip_4s: Path) -> None:
    frames = list(iter_file_frames(clip_4s, "f1", decode=DecodeMode.KEYFRAMES))
    assert len(frames) == 4 and all(f.keyframe for f in frames)
    assert [round(f.pts_s, 2) for f in frames] == [0.0, 1.0, 2.0, 3.0]


def test_skip_nonref_drops_b_frames_only(clip_bframes: Path, clip_4s: Path) -> None:
    with_b = list(iter_file_frames(clip_bframes, "f1", decode=DecodeMode.SKIP_NONREF))
    assert 20 < len(with_b) < 100  # non-reference B-frames were skipped
    without_b = list(iter_file_frames(clip_4s, "f1", decode=DecodeMode.SKIP_NONREF))
    assert len(without_b) == 100  # every P-frame is a reference: nothing to skip


def test_resize_at_decode(clip_4s: Path) -> None:
    frames = list(iter_file_frames(clip_4s, "f1", resize_width=160, analysis_fps=1))
    assert frames[0].image.shape == (120, 160, 3)
    full = next(iter_file_frames(clip_4s, "f1"))
    small = frames[0].image.astype(np.float32)
    reference = full.image.reshape(120, 2, 160, 2, 3).mean(axis=(1, 3))
    assert np.abs(small - reference).mean() < 6  # the same picture, scaled


def test_realtime_paces_at_native_speed(clip_4s: Path) -> None:
    t0 = time.monotonic()
    frames = list(iter_file_frames(clip_4s, "f1", analysis_fps=5, realtime=True))
    elapsed = time.monotonic() - t0
    assert frames[-1].pts_s == pytest.approx(3.8, abs=0.01)
    assert elapsed >= 3.7  # a 4 s file takes (almost) 4 s: the last frame is due at 3.8 s
    start = frames[0].captured_at
    assert [round(f.captured_at - start, 2) for f in frames[:3]] == [0.0, 0.2, 0.4]


def test_telemetry_attaches_pose_by_time(clip_4s: Path) -> None:
    rows = [(30.0 + i * 1e-4, 120.0, 50.0 + i, 0.0, -60.0, 0.0) for i in range(5)]
    track = parse_srt(modern_srt(rows, period_ms=1000), "flight.SRT")
    frames = list(iter_file_frames(clip_4s, "drone1", analysis_fps=2, telemetry=track))
    assert all(f.pose is not None for f in frames)
    between = next(f for f in frames if 1.4 < f.pts_s < 1.6)  # between the samples at 1 s and 2 s
    t = between.pts_s
    assert between.pose is not None and between.pose.t_s == pytest.approx(t)
    assert between.pose.lat_deg == pytest.approx(30.0 + t * 1e-4) and between.pose.rel_alt_m == pytest.approx(
        50 + t
    )
    assert between.pose.gimbal_pitch_deg == -60.0


def test_telemetry_file_path_is_loaded(clip_4s: Path, tmp_path: Path) -> None:
    srt = tmp_path / "flight.SRT"
    srt.write_text(modern_srt([(30.0, 120.0, 50.0, 10.0, -90.0, 0.0)] * 100), encoding="utf-8")
    frame = next(iter_file_frames(clip_4s, "drone1", telemetry=srt))
    assert frame.pose is not None and frame.pose.gimbal_yaw_deg == 10.0


def test_damaged_packets_keep_decoding(clip_damaged: tuple[Path, int]) -> None:
    path, damaged = clip_damaged
    assert damaged >= 10
    frames = list(iter_file_frames(path, "f1"))
    # a damaged packet may cost its own frame; decoding recovers and goes on to the end
    assert len(frames) >= 100 - damaged
    assert frames[-1].pts_s == pytest.approx(3.96, abs=0.05)


def test_empty_file_is_a_clear_error(empty_file: Path) -> None:
    with pytest.raises(SourceError, match=r"camera f1: file .*empty\.mp4 is empty \(0 bytes\)") as err:
        next(iter_file_frames(empty_file, "f1"))
    assert err.value.retryable is False


def test_unsupported_codec_is_a_clear_error(unsupported_file: Path) -> None:
    with pytest.raises(SourceError, match="camera f1: unsupported video codec"):
        next(iter_file_frames(unsupported_file, "f1"))


def test_missing_and_non_video_files_are_clear_errors(tmp_path: Path) -> None:
    with pytest.raises(SourceError, match="cannot read file"):
        next(iter_file_frames(tmp_path / "nope.mp4", "f1"))
    junk = tmp_path / "junk.mp4"
    junk.write_bytes(b"not a video at all" * 100)
    with pytest.raises(SourceError, match="camera f1: cannot open file"):
        next(iter_file_frames(junk, "f1"))
