"""The blue colour-steel roof cue on drawn roofs, blue look-alikes, and real drone negatives."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest

from detectors.construction.candidates import from_cues, project
from detectors.construction.config import BlueRoofCueConfig, ConstructionConfig
from detectors.construction.cue import find_blue_roofs
from detectors.geometry.drone import build_view
from detectors.geometry.drone_config import DroneGeometryConfig
from ingest.frame import Pose
from tests.detectors.construction.synth import grass, ribbed_roof

CFG = BlueRoofCueConfig()


def best(cues):  # the most confident candidate
    return int(np.argmax(cues.confidence))


@pytest.mark.parametrize("angle", [0.0, 23.0, 61.0])
def test_ribbed_blue_roof_is_found_with_its_rectangle(angle: float) -> None:
    img = ribbed_roof(grass(), (640, 360), (160, 90), angle)
    cues = find_blue_roofs(img, CFG)
    i = best(cues)
    assert cues.confidence[i] >= CFG.min_confidence
    assert cues.rib_coherence[i] > 0.6
    assert cues.rib_alignment[i] > 0.8
    quad = cues.quads_px[i]
    assert np.allclose(quad.mean(axis=0), (640, 360), atol=3)
    assert cv2.contourArea(quad.astype(np.float32)) == pytest.approx(160 * 90, rel=0.1)
    assert not cues.touches_border[i]


def test_large_frames_are_analysed_downscaled_but_reported_in_source_pixels() -> None:
    img = ribbed_roof(grass(1440, 2560), (1280, 720), (320, 180), 10.0, rib_px=12.0)
    cues = find_blue_roofs(img, CFG)
    i = best(cues)
    assert cues.confidence[i] >= CFG.min_confidence
    assert np.allclose(cues.quads_px[i].mean(axis=0), (1280, 720), atol=6)


def diagonal_ribs(img):
    """A blue square whose stripes run diagonally: textured, but not like sheet laid along a roof."""
    out = img.copy()
    yy, xx = np.mgrid[0:160, 0:160]
    phase = ((xx + yy) / 8.5) % 1.0
    shade = 1 + 0.2 * np.clip(np.abs(phase - 0.5) * 4 - 0.6, -1, 1)
    patch = np.clip(np.array([175, 95, 35], np.float32) * shade[..., None], 0, 255).astype(np.uint8)
    out[280:440, 560:720] = patch
    return out


@pytest.mark.parametrize(
    ("what", "draw"),
    [
        ("smooth blue paint or a pool", lambda g: ribbed_roof(g, (640, 360), (160, 90), 0.0, ribs=False)),
        ("cyan water", lambda g: ribbed_roof(g, (640, 360), (160, 90), 0.0, ribs=False, bgr=(215, 175, 70))),
        ("ribs at 45 degrees to the outline", diagonal_ribs),
    ],
)
def test_blue_look_alikes_score_below_the_alert_threshold(what: str, draw) -> None:
    img = draw(grass())
    cues = find_blue_roofs(img, CFG)
    assert (cues.confidence < CFG.min_confidence).all(), what


def test_court_with_painted_lines_is_rejected() -> None:
    img = ribbed_roof(grass(), (640, 360), (300, 160), 0.0, ribs=False, bgr=(160, 95, 40))
    cv2.rectangle(img, (500, 290), (780, 430), (235, 235, 235), 2)
    cv2.line(img, (640, 290), (640, 430), (235, 235, 235), 2)
    cues = find_blue_roofs(img, CFG)
    assert len(cues) >= 1
    assert (cues.confidence < CFG.min_confidence).all()


def test_irregular_tarp_is_rejected_by_shape() -> None:
    img = grass()
    pts = np.array([[600, 300], [700, 320], [690, 380], [650, 420], [610, 400], [560, 350]], np.int32)
    cv2.fillPoly(img, [pts], (200, 120, 40))
    cues = find_blue_roofs(img, CFG)
    assert len(cues) == 1
    assert cues.fill[0] < 0.85
    assert cues.confidence[0] < CFG.min_confidence


def test_roof_cut_by_the_frame_edge_is_flagged() -> None:
    img = ribbed_roof(grass(), (20, 360), (160, 90), 0.0)
    cues = find_blue_roofs(img, CFG)
    assert cues.touches_border[best(cues)]


def test_no_blue_no_candidates() -> None:
    assert len(find_blue_roofs(grass(), CFG)) == 0


# The two real drone frames of ../shared/testdata-real/nitr-drone (DJI Phantom 4: 3.61 mm on a 6.17 mm wide
# sensor) show a campus road with people and bicycles (oblique) and a rural road with trees (near nadir);
# neither has a blue roof. The altitudes are read off the content (people ~1.7 m, a road ~4 m wide):
# about 15 m and 20 m. The cue must give no candidate that passes the alert threshold and the size gate,
# at those heights and at twice them.
NITR = [("NITR_AC_JAN26_30.jpg", -60.0, 15.0), ("NITR_FR_1.jpg", -90.0, 20.0)]


@pytest.mark.parametrize(("name", "pitch", "alt"), NITR)
@pytest.mark.parametrize("alt_factor", [1.0, 2.0])
def test_real_drone_negatives_give_no_alertable_candidate(
    real_testdata: Path, name: str, pitch: float, alt: float, alt_factor: float
) -> None:
    image = cv2.imread(str(real_testdata / "nitr-drone" / "images" / name))
    assert image is not None
    cfg = ConstructionConfig(drone_model="dji_phantom_4")
    camera = cfg.drone_models["dji_phantom_4"].model_copy(update={"prefer_telemetry_focal": False})
    pose = Pose(lat_deg=22.25, lon_deg=84.9, rel_alt_m=alt * alt_factor, gimbal_pitch_deg=pitch)
    view = build_view(pose, image.shape[1], image.shape[0], camera, DroneGeometryConfig(max_off_nadir_deg=60))
    cues = find_blue_roofs(image, cfg.cue)
    ground, _ = project(from_cues(cues, cfg.cue.min_confidence), view, None)
    alertable = (ground.area_m2 >= cfg.cue.min_area_m2) & (ground.area_m2 <= cfg.cue.max_area_m2)
    assert not alertable.any(), (
        f"{name}: {int(alertable.sum())} blue candidate(s) pass: areas {ground.area_m2[alertable].round(1)}"
    )
