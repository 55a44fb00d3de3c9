"""Config sections validate as documented; credentials are masked wherever text may leave the process."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError

from ingest.config import DecodeMode, IngestConfig, SourceConfig, TelemetryDefaults
from ingest.credentials import mask_url, redact, secrets_of


def test_empty_sections_are_valid_with_documented_defaults() -> None:
    ingest = IngestConfig()
    assert ingest.workers == 0 and ingest.ring_slots >= 2
    assert ingest.telemetry.gimbal_pitch_deg == -90.0
    src = SourceConfig(url="rtsp://cam/stream")
    assert src.transport == "tcp" and src.decode is DecodeMode.FULL and src.is_stream
    assert SourceConfig(url="/data/flight.mp4").is_stream is False


@pytest.mark.parametrize(
    "bad",
    [
        {"url": "rtsp://x", "colour": "red"},  # unknown key
        {"url": "rtsp://x", "backoff_initial_s": 10, "backoff_max_s": 5},
        {"url": "rtsp://x", "read_timeout_s": 0},
        {"url": "rtsp://x", "analysis_fps": -1},
        {"url": "rtsp://x", "decode": "every_other"},
        {"url": "  "},
        {"url": "rtsp://x", "telemetry": "/f.SRT"},  # telemetry belongs to files
    ],
)
def test_invalid_source_sections_are_rejected(bad: dict[str, object]) -> None:
    with pytest.raises(ValidationError):
        SourceConfig.model_validate(bad)


def test_every_field_is_described() -> None:
    for model in (SourceConfig, IngestConfig, TelemetryDefaults):
        undocumented = [name for name, f in model.model_fields.items() if not f.description]
        assert not undocumented, f"{model.__name__}: {undocumented}"


def test_url_with_password_never_shows_in_repr_or_dump() -> None:
    src = SourceConfig(
        url="rtsp://admin:Hunter2Secret@10.1.2.3/live", sub_url="rtsp://admin:Hunter2Secret@10.1.2.3/sub"
    )
    for text in (repr(src), str(src), src.model_dump_json(), str(src.model_dump())):
        assert "Hunter2Secret" not in text
    assert src.url_text().endswith("@10.1.2.3/live")
    assert src.analysis_url_text().endswith("/sub")


@pytest.mark.parametrize(
    ("url", "masked"),
    [
        ("rtsp://admin:pw@10.0.0.1:554/Streaming/101", "rtsp://***@10.0.0.1:554/Streaming/101"),
        ("rtsp://user@cam.local/live", "rtsp://***@cam.local/live"),
        ("rtsp://u:p%40ss@cam/x", "rtsp://***@cam/x"),
        ("rtsp://u:p@ss@cam/x", "rtsp://***@cam/x"),  # an unescaped @ in the password
        ("rtsp://cam/x?token=abc", "rtsp://cam/x"),  # tokens in query strings go too
        ("rtsp://cam/x", "rtsp://cam/x"),
        ("/videos/flight 1.mp4", "/videos/flight 1.mp4"),
    ],
)
def test_mask_url(url: str, masked: str) -> None:
    assert mask_url(url) == masked


def test_redact_removes_urls_and_bare_secrets_from_ffmpeg_messages() -> None:
    url = "rtsp://admin:Canary-7781@127.0.0.1:8554/cam"
    msg = f"[Errno 1094995529] Invalid data found when processing input: '{url}' (password Canary-7781)"
    out = redact(msg, [url])
    assert "Canary-7781" not in out and "rtsp://***@127.0.0.1:8554/cam" in out


@given(
    user=st.text(
        alphabet=st.characters(min_codepoint=48, max_codepoint=122, blacklist_characters=":@/?#[]\\"),
        min_size=1,
        max_size=12,
    ),
    password=st.text(
        alphabet=st.characters(min_codepoint=33, max_codepoint=126, blacklist_characters="/?#@"),
        min_size=3,
        max_size=20,
    ),
)
def test_masking_removes_any_password(user: str, password: str) -> None:
    url = f"rtsp://{user}:{password}@192.168.1.20:554/h264"
    assert password not in mask_url(url)
    assert password not in redact(f"failed: {url}; {password}", [url])
    assert password in secrets_of(url)
