"""What self-calibration could get from the 24 real DJI SRT files (no videos ship with them).

Real third-party telemetry (../shared/testdata-real/dji-srt, SOURCES.md). The expected counts were
measured with `python -m benchmarks.real_srt_calibration` and checked against the files by eye (flight
durations, altitude fields, gimbal fields); a change in ingest or in `unusable_reason` that moves any of
them fails here.
"""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from benchmarks.real_srt_calibration import SrtCalibrationRow, study
from detectors.geometry.selfcal_config import SelfCalibrationConfig

JUAN = "juanirache-dji_srt_parser"
MARCUS = "callmarcus-dji-drone-metadata-embedder"

# file -> (1 s instants with a pose, projectable instants, what the calibrator could do)
EXPECTED = {
    f"{JUAN}/matrice_300.srt": (381, 360, "yes"),
    f"{JUAN}/mavic_mini.SRT": (117, 117, "yes"),
    f"{JUAN}/mavic_pro.SRT": (468, 332, "yes"),
    f"{JUAN}/old_format.SRT": (468, 332, "yes"),
    f"{JUAN}/mavic_pro_buggy.SRT": (532, 494, "yes"),
    f"{JUAN}/broken_incomplete.SRT": (19, 9, "only"),
    f"{JUAN}/p4p_sample.SRT": (5, 5, "only"),
    f"{JUAN}/MAVIC3.srt": (247, 0, "no"),  # flown below the 15 m minimum height
    f"{JUAN}/m2zoom.SRT": (119, 0, "no"),  # abs_alt only: height above ground unknown
    f"{JUAN}/mavic_2pro_new.SRT": (370, 0, "no"),  # no altitude at all
    f"{JUAN}/mavic_2_style.SRT": (469, 0, "no"),
    f"{JUAN}/p4_rtk.SRT": (55, 0, "no"),  # gimbal near level: beyond 40 deg off nadir
    f"{JUAN}/mix_p4rtk_mavic2pro.srt": (6, 0, "no"),
    f"{JUAN}/air2s.srt": (1, 0, "no"),
    f"{JUAN}/mavic_air2.srt": (1, 0, "no"),
    f"{JUAN}/broken_incomplete2.SRT": (1, 0, "no"),
    f"{MARCUS}/Avata360_clip.SRT": (1, 0, "no"),
    f"{MARCUS}/Mini5PRO_clip.SRT": (1, 0, "no"),
    f"{MARCUS}/air3S_clip.SRT": (1, 0, "no"),
    f"{MARCUS}/neo2_clip.SRT": (1, 0, "no"),
    f"{MARCUS}/neo2_clip_nogps.SRT": (1, 0, "no"),
}
REJECTED = {f"{JUAN}/broken_empty.SRT", f"{JUAN}/broken_empty2.SRT", f"{JUAN}/mavic_air.SRT"}

CONVENTION_RATIO = 0.918
"""16:9-sensor focal over 4:3-crop focal for the same stated focal_len (the issue's ~9 % convention gap)."""
CONVENTION_MARGIN = 0.002


@pytest.fixture(scope="module")
def rows(real_testdata: Path) -> dict[str, SrtCalibrationRow]:
    return {r.file: r for r in study(real_testdata)}


def test_every_file_is_studied(rows: dict[str, SrtCalibrationRow]) -> None:
    assert set(rows) == set(EXPECTED) | REJECTED
    assert len(rows) == 24


def test_what_the_calibrator_would_get_from_each_file(rows: dict[str, SrtCalibrationRow]) -> None:
    cfg = SelfCalibrationConfig()
    got = {
        name: (r.instants, r.usable, r.calibration_verdict(cfg).split(":")[0].split(" ")[0])
        for name, r in rows.items()
        if name in EXPECTED
    }
    assert got == EXPECTED
    for name in REJECTED:
        assert rows[name].error and rows[name].calibration_verdict(cfg) == "no: telemetry rejected"


def test_stated_focal_and_its_convention_gap(rows: dict[str, SrtCalibrationRow]) -> None:
    stated = {name: r.stated_focal_35mm for name, r in rows.items() if r.stated_focal_35mm}
    assert stated[f"{MARCUS}/air3S_clip.SRT"] == (24.0,)
    assert stated[f"{JUAN}/mavic_2pro_new.SRT"] == (28.0,)
    assert len(stated[f"{JUAN}/m2zoom.SRT"]) == 12  # the zoom moves: the stated focal follows it
    assert len(stated) == 9
    # No file both states a focal and has projectable poses: where calibration could run, the focal is
    # the drone model's configured one; where a focal is stated, the clip is too short, too low or lacks height.
    assert not {name for name in stated if rows[name].usable}
    for name in stated:
        r = rows[name]
        assert math.isfinite(r.focal_px_4x3)
        assert abs(r.focal_px_16x9 / r.focal_px_4x3 - CONVENTION_RATIO) < CONVENTION_MARGIN, name
    assert abs(rows[f"{MARCUS}/air3S_clip.SRT"].focal_px_4x3 - 1331) < 1
