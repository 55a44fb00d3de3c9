"""Media shared by the ingest tests, generated once per session with real FFmpeg (PyAV)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.ingest.media import damage_packets, make_clip, unsupported_codec_file


@pytest.fixture(scope="session")
def media_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("ingest-media")


@pytest.fixture(scope="session")
def clip_4s(media_dir: Path) -> Path:
    """320x240, 25 fps, 4 s, keyframe every 25 frames (1 s), moving content."""
    return make_clip(media_dir / "clip_4s.mp4", seconds=4.0, fps=25, gop=25)


@pytest.fixture(scope="session")
def clip_bframes(media_dir: Path) -> Path:
    """Like clip_4s but with 2 B-frames between references (non-reference frames exist)."""
    return make_clip(media_dir / "clip_bframes.mp4", seconds=4.0, fps=25, gop=25, bframes=2)


@pytest.fixture(scope="session")
def clip_static(media_dir: Path) -> Path:
    """3 s of one unchanging picture at 10 fps: what a frozen camera sends."""
    return make_clip(media_dir / "clip_static.mp4", seconds=3.0, fps=10, gop=10, static=True)


@pytest.fixture(scope="session")
def clip_damaged(media_dir: Path, clip_4s: Path) -> tuple[Path, int]:
    dst = media_dir / "clip_damaged.mp4"
    return dst, damage_packets(clip_4s, dst, every=7)


@pytest.fixture(scope="session")
def clip_garbage_tail(media_dir: Path) -> Path:
    """8 s at 25 fps: one good second, then packets of random bytes (packets arrive, nothing decodes)."""
    src = make_clip(media_dir / "clip_8s.mp4", seconds=8.0, fps=25, gop=25)
    dst = media_dir / "clip_garbage_tail.mp4"
    damage_packets(src, dst, garbage_after=25)
    return dst


@pytest.fixture(scope="session")
def empty_file(media_dir: Path) -> Path:
    path = media_dir / "empty.mp4"
    path.write_bytes(b"")
    return path


@pytest.fixture(scope="session")
def unsupported_file(media_dir: Path, clip_4s: Path) -> Path:
    return unsupported_codec_file(clip_4s, media_dir / "unsupported.avi")
