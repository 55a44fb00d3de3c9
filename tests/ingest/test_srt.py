"""DJI SRT telemetry: every real sample file, each layout family, garbage, interpolation, fuzzing."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from foundation.errors import SourceError
from ingest.config import TelemetryDefaults
from ingest.srt import load_srt, parse_srt
from tests.ingest.helpers import modern_srt

JUAN = "dji-srt/juanirache-dji_srt_parser"
MARCUS = "dji-srt/callmarcus-dji-drone-metadata-embedder"

# file -> (family, samples, first lat, first lon, has gimbal angles, altitude field or None)
# Expected values are read off the files by hand (see SOURCES.md for each layout).
GOOD = {
    f"{JUAN}/MAVIC3.srt": ("bracket", 12318, 3.41531, -3.37440, False, "rel_alt_m"),
    f"{JUAN}/air2s.srt": ("bracket", 17, 41.424724, 2.234156, False, "abs_alt_m"),
    f"{JUAN}/mavic_air2.srt": ("bracket", 25, 41.420684, 2.162162, False, "abs_alt_m"),
    f"{JUAN}/m2zoom.SRT": ("bracket", 7113, 31.452012, 74.398751, False, "abs_alt_m"),
    f"{JUAN}/mavic_2pro_new.SRT": ("bracket", 8952, -35.080155, -60.286702, False, None),
    f"{JUAN}/broken_incomplete2.SRT": ("bracket", 4, -34.869950, -57.823395, False, "abs_alt_m"),
    f"{JUAN}/mavic_2_style.SRT": ("bracket", 463, -20.2533, 149.0251, False, None),
    f"{JUAN}/mavic_pro.SRT": ("gps_barometer", 468, -20.2533, 149.0251, False, "rel_alt_m"),
    f"{JUAN}/old_format.SRT": ("gps_barometer", 468, -20.2533, 149.0251, False, "rel_alt_m"),
    f"{JUAN}/mavic_pro_buggy.SRT": ("gps_barometer", 530, 42.4668, -1.2218, False, "rel_alt_m"),
    f"{JUAN}/broken_incomplete.SRT": ("gps_barometer", 19, -34.7383, -58.4563, False, "rel_alt_m"),
    f"{JUAN}/matrice_300.srt": ("matrice", 381, 36.6146, -6.1120, False, "rel_alt_m"),
    f"{JUAN}/mavic_mini.SRT": ("comma", 117, 48.0771, -121.7458, False, "rel_alt_m"),
    f"{JUAN}/p4p_sample.SRT": ("comma", 5, 47.4692, 8.2090, False, "rel_alt_m"),
    f"{JUAN}/p4_rtk.SRT": ("comma", 55, -34.237922, -58.851745, True, "rel_alt_m"),
    f"{JUAN}/mix_p4rtk_mavic2pro.srt": ("comma", 12, -34.650200, -59.409424, True, "rel_alt_m"),
    f"{MARCUS}/Avata360_clip.SRT": ("bracket", 5, 53.365080, 6.460739, True, "rel_alt_m"),
    f"{MARCUS}/Mini5PRO_clip.SRT": ("bracket", 5, 53.365108, 6.460719, False, "rel_alt_m"),
    f"{MARCUS}/air3S_clip.SRT": ("bracket", 5, 34.270373, -84.176160, False, "rel_alt_m"),
    f"{MARCUS}/neo2_clip.SRT": ("bracket", 5, 45.607181, 13.753860, False, "rel_alt_m"),
    f"{MARCUS}/neo2_clip_nogps.SRT": ("bracket", 3, 32.848932, -84.861966, False, "rel_alt_m"),
}
BAD = {
    f"{JUAN}/broken_empty.SRT": "empty",
    f"{JUAN}/broken_empty2.SRT": "no valid telemetry sample",
    f"{JUAN}/mavic_air.SRT": "no valid telemetry sample",  # camera fields only, no GPS
}


def test_every_real_sample_file_is_covered(real_testdata: Path) -> None:
    on_disk = {
        str(p.relative_to(real_testdata))
        for p in (real_testdata / "dji-srt").rglob("*")
        if p.suffix.lower() == ".srt"
    }
    assert len(on_disk) == 24
    assert on_disk == set(GOOD) | set(BAD)


@pytest.mark.parametrize("name", sorted(GOOD))
def test_real_file_parses(real_testdata: Path, name: str) -> None:
    family, samples, lat0, lon0, gimbal, alt_field = GOOD[name]
    track = load_srt(real_testdata / name)
    assert len(track) == samples
    assert track.report.families.get(family, 0) >= 1
    assert np.all(np.diff(track.t_s) > 0)
    first = track.pose_at(float(track.t_s[0]))
    assert first is not None
    assert first.lat_deg == pytest.approx(lat0, abs=1e-6) and first.lon_deg == pytest.approx(lon0, abs=1e-6)
    if gimbal:
        assert "gimbal_pitch_deg" not in first.defaulted and "gimbal_yaw_deg" not in first.defaulted
    else:
        assert set(first.defaulted) >= {"gimbal_yaw_deg", "gimbal_pitch_deg", "gimbal_roll_deg"}
        assert first.gimbal_pitch_deg == -90.0
    if alt_field is not None:
        assert getattr(first, alt_field) is not None
    else:
        assert first.rel_alt_m is None and first.abs_alt_m is None


@pytest.mark.parametrize("name", sorted(BAD))
def test_real_file_without_usable_sample_is_a_clear_error(real_testdata: Path, name: str) -> None:
    with pytest.raises(SourceError, match=BAD[name]) as err:
        load_srt(real_testdata / name)
    assert name.rsplit("/", 1)[1] in str(err.value)  # the message names the file


def test_gimbal_and_aircraft_angles_of_p4_rtk(real_testdata: Path) -> None:
    track = load_srt(real_testdata / JUAN / "p4_rtk.SRT")
    p = track.pose_at(0.0)
    assert p is not None
    # G.PRY (-24.4°, 0.0°, 110.4°), F.PRY (2.7°, -7.0°, 110.1°), H 85.80m
    assert (p.gimbal_pitch_deg, p.gimbal_roll_deg, p.gimbal_yaw_deg) == (-24.4, 0.0, 110.4)
    assert (p.aircraft_pitch_deg, p.aircraft_roll_deg, p.aircraft_yaw_deg) == (2.7, -7.0, 110.1)
    assert p.rel_alt_m == 85.80 and p.defaulted == ()


def test_avata_gimbal_fields_and_focal_length(real_testdata: Path) -> None:
    p = load_srt(real_testdata / MARCUS / "Avata360_clip.SRT").pose_at(0.0)
    assert p is not None
    assert (p.gimbal_yaw_deg, p.gimbal_pitch_deg, p.gimbal_roll_deg) == (-162.8, 0.0, 0.0)
    assert (p.rel_alt_m, p.abs_alt_m, p.focal_len_35mm) == (5.4, -124.744, 28.0)


def test_old_firmware_scaled_focal_length(real_testdata: Path) -> None:
    p = load_srt(real_testdata / JUAN / "m2zoom.SRT").pose_at(0.0)
    assert p is not None and p.focal_len_35mm == 24.0  # `focal_len : 240`


def test_pre_gps_lock_and_na_blocks_are_counted_not_used(real_testdata: Path) -> None:
    nogps = load_srt(real_testdata / MARCUS / "neo2_clip_nogps.SRT")
    assert nogps.report.blocks_without_position == 3
    buggy = load_srt(real_testdata / JUAN / "mavic_pro_buggy.SRT")
    assert buggy.report.blocks_without_position == 16  # GPS(N/A,N/A,..)


def test_utc_from_drone_clock_with_offset(real_testdata: Path) -> None:
    track = load_srt(real_testdata / JUAN / "MAVIC3.srt", TelemetryDefaults(clock_utc_offset_h=8.0))
    p = track.pose_at(0.0)
    assert p is not None and p.utc_s is not None
    # 2021-12-25 12:27:52.373 local (UTC+8) -> 04:27:52.373 UTC
    assert p.utc_s == pytest.approx(1640406472.373, abs=1e-3)


def test_modern_layout_interpolates_position_and_gimbal() -> None:
    text = modern_srt([(30.0, 120.0, 50.0, 170.0, -60.0, 0.0), (30.0002, 120.0004, 52.0, -170.0, -40.0, 2.0)])
    track = parse_srt(text, "gen.SRT")
    mid = track.pose_at(0.020)
    assert mid is not None and mid.defaulted == () and mid.family == "bracket"
    assert mid.lat_deg == pytest.approx(30.0001) and mid.lon_deg == pytest.approx(120.0002)
    assert mid.rel_alt_m == pytest.approx(51.0) and mid.abs_alt_m == pytest.approx(81.0)
    assert mid.gimbal_pitch_deg == pytest.approx(-50.0) and mid.gimbal_roll_deg == pytest.approx(1.0)
    assert abs(mid.gimbal_yaw_deg) == pytest.approx(180.0)  # 170 -> -170 the short way, through 180


def test_pose_outside_track_or_in_long_gap_is_none() -> None:
    rows = [(30.0, 120.0, 50.0, 0.0, -90.0, 0.0)] * 2
    track = parse_srt(modern_srt(rows, period_ms=1000), "gap.SRT", TelemetryDefaults(max_gap_s=0.5))
    # samples at 0 s and 1 s: a gap longer than max_gap_s, so only +-0.25 s around each sample has a pose
    for t in (-0.2, 0.0, 0.2, 0.8, 1.0, 1.2):
        assert track.pose_at(t) is not None, t
    for t in (-0.3, 0.3, 0.5, 0.7, 1.3, math.nan):
        assert track.pose_at(t) is None, t


def test_garbage_lines_are_counted_and_skipped() -> None:
    text = modern_srt([(30.0, 120.0, 50.0, 0.0, -90.0, 0.0)] * 3)
    lines = text.splitlines()
    lines.insert(3, "@@@ corrupted line ~~~")
    lines.insert(10, "\x00\x01 binary junk")
    track = parse_srt("\n".join(lines), "junk.SRT")
    assert len(track) == 3 and track.report.garbage_lines == 2


def test_gimbal_defaults_come_from_config_and_are_named() -> None:
    text = "1\n00:00:00,000 --> 00:00:01,000\nGPS(120.5,30.25,17) BAROMETER:42.0\n"
    d = TelemetryDefaults(gimbal_pitch_deg=-80.0, rel_alt_m=None)
    p = parse_srt(text, "x.SRT", d).pose_at(0.0)
    assert p is not None and p.family == "gps_barometer"
    assert (p.lat_deg, p.lon_deg, p.rel_alt_m, p.gimbal_pitch_deg) == (30.25, 120.5, 42.0, -80.0)
    assert "rel_alt_m" not in p.defaulted and "gimbal_pitch_deg" in p.defaulted


def test_default_altitude_used_and_named_when_configured() -> None:
    text = "1\n00:00:00,000 --> 00:00:01,000\n[latitude : 30.1] [longtitude : 120.2]\n"
    p = parse_srt(text, "x.SRT", TelemetryDefaults(rel_alt_m=60.0)).pose_at(0.0)
    assert p is not None and p.rel_alt_m == 60.0 and "rel_alt_m" in p.defaulted


sample = st.tuples(
    st.floats(-89.9, 89.9),
    st.floats(-179.9, 179.9),
    st.floats(-100, 5000),
    st.floats(-180, 180),
    st.floats(-90, 30),
    st.floats(-45, 45),
)


@given(rows=st.lists(sample, min_size=1, max_size=20))
@settings(max_examples=60, deadline=None)
def test_modern_layout_round_trip(rows: list[tuple[float, float, float, float, float, float]]) -> None:
    usable = [r for r in rows if not (round(r[0], 6) == 0.0 and round(r[1], 6) == 0.0)]  # 0,0 = no GPS lock
    if not usable:
        with pytest.raises(SourceError, match="no valid telemetry sample"):
            parse_srt(modern_srt(rows), "gen.SRT")
        return
    track = parse_srt(modern_srt(rows), "gen.SRT")
    assert len(track) == len(usable)
    for i, row in enumerate(rows):
        if row in usable:
            p = track.pose_at(i * 0.040)
            assert p is not None and p.defaulted == ()
            assert p.lat_deg == pytest.approx(row[0], abs=1e-6) and p.lon_deg == pytest.approx(
                row[1], abs=1e-6
            )
            assert p.gimbal_pitch_deg == pytest.approx(row[4], abs=0.051)


@given(st.text(max_size=2000))
@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_parser_never_crashes_on_arbitrary_text(text: str) -> None:
    try:
        track = parse_srt(text, "fuzz.SRT")
    except SourceError:
        return
    for t in np.linspace(float(track.t_s[0]) - 1, float(track.t_s[-1]) + 1, 7):
        track.pose_at(float(t))


fragments = st.sampled_from(
    [
        "1",
        "12",
        "00:00:01,000 --> 00:00:02,000",
        "00:00:00,033 --> 00:00:00,066",
        "",
        "HOME(149.0251,-20.2532) 2017.08.05 14:11:51",
        "GPS(149.0251,-20.2533,16) BAROMETER:1.9",
        "GPS(N/A,N/A,3) BAROMETER:0.0",
        "GPS(36.6146,-6.1120,0.0M) BAROMETER:0.3M",
        "2022.06.21 16:06:17",
        "ISO:100 Shutter:60 EV: Fnum:2.2",
        '<font size="28">FrameCnt: 1, DiffTime: 20ms',
        "2021-12-25 12:27:52.373",
        "[latitude: 3.41531] [longitude: -3.37440] [rel_alt: -2.400 abs_alt: 0.401]",
        "[latitude : -34.86] [longtitude : -57.82] [altitude: 74.7] </font>",
        "[gb_yaw: 1e400 gb_pitch: -0.0",
        "F/2.8, SS 30.15, ISO 260, EV -1.7, GPS (-121.7458, 48.0771, 17), D 221.21m, H 200.70m, H.S n/a",
        "G.PRY (-24.4°, 0.0°, 110.4°), F.PRY (2.7°, -7.0°, 110.1°)",
        "[latit",
        "\ufeff1",
        "99:99:99,999 --> 0",
    ]
)


@given(st.lists(fragments, max_size=60))
@settings(max_examples=300, deadline=None)
def test_parser_never_crashes_on_shuffled_real_fragments(lines: list[str]) -> None:
    try:
        track = parse_srt("\n".join(lines), "frag.SRT")
    except SourceError:
        return
    assert len(track) >= 1
    assert np.all(np.isfinite(track.t_s))
    p = track.pose_at(float(track.t_s[0]))
    assert p is not None and -90 <= p.lat_deg <= 90 and -180 <= p.lon_deg <= 180
