"""ConstructionDetector on synthetic nadir flights: one alert per site, registry, gates, model, summary."""

from __future__ import annotations

import json
import math
from pathlib import Path

import cv2
import numpy as np
import pytest

from detectors.base import Detector
from detectors.construction import (
    ConstructionConfig,
    ConstructionDetector,
    FlightProcessor,
    Registry,
    process_flight,
)
from detectors.construction.events import ConstructionDetails
from detectors.event import Event, EventKind, GeoMethod, Phase
from detectors.geometry.geodesy import enu_to_wgs84, wgs84_to_enu
from foundation.errors import ConfigError
from ingest.frame import Frame
from models.detections import Detections
from tests.detectors.construction.synth import (
    LAT,
    LON,
    ROOF_E,
    ROOF_L,
    ROOF_N,
    ROOF_W,
    config,
    flight,
    grass,
    roof_frame,
)


def _details(event: Event) -> ConstructionDetails:
    assert isinstance(event.details, ConstructionDetails)
    return event.details


def registry_with(kind: str, e0: float, n0: float, e1: float, n1: float, **props: object) -> Registry:
    lat, lon = enu_to_wgs84(LAT, LON, np.array([e0, e1, e1, e0, e0]), np.array([n0, n0, n1, n1, n0]))
    ring = [[float(a), float(b)] for a, b in zip(lon, lat, strict=True)]
    return Registry.from_geojson(
        {
            "type": "FeatureCollection",
            "features": [
                {
                    "type": "Feature",
                    "properties": {"id": "REG-1", "kind": kind, **props},
                    "geometry": {"type": "Polygon", "coordinates": [ring]},
                }
            ],
        }
    )


def run(frames: list[Frame], det: ConstructionDetector):
    events = []
    for f in frames:
        events += det.process(f, None)
    return events


def test_implements_the_detector_protocol() -> None:
    det = ConstructionDetector(config())
    assert isinstance(det, Detector)
    assert det.name == "construction" and det.analysis_fps == 1.0 and det.model_name is None
    assert ConstructionDetector(ConstructionConfig(model="roofs", tiled=False)).model_name == "roofs"


def test_one_start_per_site_with_its_geometry_then_one_end() -> None:
    det = ConstructionDetector(config())
    events = run(flight(), det)
    assert [e.phase for e in events] == [Phase.START]
    start = events[0]
    assert start.kind == EventKind.CONSTRUCTION and start.source_id == "F1" and start.update_seq == 0
    assert start.incident_id == f"construction-F1-{round(start.started_at * 1000)}-S1"
    assert start.ground is not None and start.ground.method == GeoMethod.DRONE_RAY
    e, n = wgs84_to_enu(LAT, LON, start.ground.lat_deg, start.ground.lon_deg)
    assert math.hypot(float(e) - ROOF_E, float(n) - ROOF_N) < 1.0
    # Uncalibrated: the configured focal (10 %) and gimbal offset (1.5 deg) errors count, at 90 % odds.
    assert 5.0 < start.ground.accuracy_m < 12.0
    assert start.area_m2 == pytest.approx(ROOF_W * ROOF_L, rel=0.12)
    assert start.footprint_lonlat is not None and len(start.footprint_lonlat) == 4
    lon, lat = np.array(start.footprint_lonlat).T
    fe, fn = wgs84_to_enu(LAT, LON, lat, lon)
    assert fe.min() == pytest.approx(ROOF_E - ROOF_W / 2, abs=1.0) and fn.max() == pytest.approx(
        ROOF_N + ROOF_L / 2, abs=1.0
    )
    assert start.snapshot is not None and start.box_xyxy is not None
    assert start.reasons["frames"] >= 2 and start.reasons["sources"] == "cue"
    assert isinstance(start.details, ConstructionDetails)
    assert start.details.flight_id == "F1" and start.details.structure_kind == "steel_roof"
    assert start.evidence_window_s is not None and start.evidence_window_s[0] <= start.evidence_window_s[1]

    ends = det.flush(now=1.78e9 + 100)
    assert [(e.phase, e.incident_id, e.update_seq) for e in ends] == [(Phase.END, start.incident_id, 1)]
    assert ends[0].reasons["frames"] > start.reasons["frames"]
    assert det.stats.events == {"start": 1, "end": 1}
    assert det.open_flights() == [] and "F1" in det.summaries


def test_registered_roof_is_known_and_not_alerted() -> None:
    det = ConstructionDetector(config(), registry=registry_with("steel_roof", 14, 46, 26, 54))
    assert run(flight(), det) == []
    ends, summary = det.end_flight("F1")
    assert ends == []
    assert [(s.status, s.registry_id) for s in summary.sites] == [("known", "REG-1")]
    assert det.stats.rejected["known_site"] == 1


def test_new_shed_on_a_registered_building_is_new() -> None:
    det = ConstructionDetector(config(), registry=registry_with("building", 5, 35, 35, 65))
    events = run(flight(), det)
    assert len(events) == 1
    assert isinstance(events[0].details, ConstructionDetails)
    assert events[0].details.on_registered_id == "REG-1"
    assert events[0].details.rooftop_addition is True


def test_unusable_frames_are_skipped_and_counted() -> None:
    det = ConstructionDetector(config())
    frames = [
        Frame(camera_id="F1", seq=0, captured_at=1.78e9, pts_s=0.0, image=grass(), pose=None),
        roof_frame(1, 0.0, alt_m=5.0, roof=False),
        roof_frame(2, 0.0, pitch_deg=-10.0, roof=False),
    ]
    assert run(frames, det) == []
    _, summary = det.end_flight("F1")
    assert summary.skipped == {"no_pose": 1, "low_altitude": 1, "off_nadir": 1}
    assert summary.frames_analysed == 3 and summary.frames_used == 0
    assert det.stats.rejected["off_nadir"] == 1


class FakeTiledInfer:
    """Stands in for models' tiled predictor: boxes the shed as a scaffold, and a person it must ignore."""

    def __init__(self) -> None:
        self.calls = 0

    def __call__(self, image: np.ndarray) -> Detections:
        self.calls += 1
        person = ([10, 10, 30, 60], 0.9, 1)
        mask = cv2.inRange(image, (150, 70, 20), (220, 130, 60))
        ys, xs = np.nonzero(mask)
        found = [([xs.min(), ys.min(), xs.max(), ys.max()], 0.8, 0)] if len(xs) else []
        boxes, conf, cls = zip(*[*found, person], strict=True)
        return Detections.from_arrays(list(boxes), list(conf), list(cls))


def test_tiled_model_candidates_with_class_names() -> None:
    infer = FakeTiledInfer()
    cfg = config(model="construction", cue={"enabled": False})
    det = ConstructionDetector(cfg, infer=infer, class_names={0: "scaffolding", 1: "person"})
    events = run(flight(), det)
    assert infer.calls == 9
    assert len(events) == 1 and _details(events[0]).structure_kind == "scaffold"
    assert events[0].reasons["sources"] == "model"
    assert det.stats.rejected["unmapped_class"] == 9


def test_service_detections_are_used_when_not_tiled() -> None:
    cfg = config(model="construction", tiled=False, cue={"enabled": False})
    det = ConstructionDetector(cfg, class_names={0: "blue_roof"})
    fake = FakeTiledInfer()
    events = []
    for f in flight():
        events += det.process(f, fake(f.image))
    assert len(events) == 1 and _details(events[0]).structure_kind == "steel_roof"


def test_reconfigure_keeps_sites_and_rejects_a_bad_registry(tmp_path: Path) -> None:
    det = ConstructionDetector(config())
    frames = flight()
    assert len(run(frames[:5], det)) == 1
    with pytest.raises(ConfigError, match="not found"):
        det.reconfigure(
            config(registry={"path": str(tmp_path / "none.geojson")})
        )
    assert det.config.registry.path is None
    det.reconfigure(config(sites={"min_frames": 3}))
    assert det.config.sites.min_frames == 3
    assert run(frames[5:], det) == []  # the open site is the same site: no second start


def test_flight_processor_samples_and_summarises(tmp_path: Path) -> None:
    frames = []
    for i in range(45):  # 5 fps for 9 s, drone moving 12 m/s
        f = roof_frame(i, i * 12.0 / 5)
        frames.append(
            Frame(
                camera_id=f.camera_id,
                seq=i,
                captured_at=1.78e9 + i / 5,
                pts_s=i / 5,
                image=f.image,
                pose=f.pose,
            )
        )
    det = ConstructionDetector(config())
    result = process_flight(frames, det, flight_id="survey-7")
    assert result.frames_seen == 45 and result.summary.frames_analysed == 9
    assert [e.phase for e in result.events] == [Phase.START, Phase.END]
    assert all(e.source_id == "survey-7" for e in result.events)
    summary = result.summary
    assert len(summary.new_sites) == 1 and summary.covered_area_m2 > 10_000
    text = summary.text_report()
    assert "New sites (1):" in text and "S1 steel_roof" in text and "Known sites seen (0):" in text
    doc = summary.geojson()
    layers = [f["properties"]["layer"] for f in doc["features"]]
    assert layers == ["track", "coverage", "site"]
    assert doc["features"][2]["properties"]["incident_id"] == result.events[0].incident_id
    paths = summary.write(tmp_path)
    assert json.loads(paths["geojson"].read_text())["flight"]["new_sites"] == 1
    png = cv2.imread(str(paths["png"]))
    assert png is not None and png.shape[0] >= 400 and png.std() > 5


def test_annotate_draws_sites_and_status() -> None:
    det = ConstructionDetector(config())
    frames = flight()
    proc = FlightProcessor(det, analysis_fps=0)
    for f in frames[:4]:
        proc.feed(f)
    drawn = det.annotate(frames[3].image)
    assert drawn.shape == frames[3].image.shape
    assert np.count_nonzero(np.any(drawn != frames[3].image, axis=2)) > 500
    between = proc.annotate(roof_frame(99, 40.0))
    assert between.shape == frames[0].image.shape
    assert not frames[3].image.flags.writeable  # the frame itself is never drawn on


def test_sites_wait_for_the_calibration_and_the_summary_says_how_it_went(tmp_path: Path) -> None:
    # Calibration on (the default): nine frames of grass are too few to calibrate, so the site waits for the
    # flight's end, is then decided with the configured camera, and the summary says why.
    det = ConstructionDetector(config(calibration={"enabled": True}))
    assert run(flight(), det) == []
    events, summary = det.end_flight("F1")
    assert [e.phase for e in events] == [Phase.START, Phase.END]
    assert events[0].reasons["camera_calibration"] == "configured"
    cal = summary.calibration
    assert cal is not None and cal.status.value == "configured" and "needed" in cal.reason
    header = summary.geojson()["flight"]["camera_calibration"]
    assert header["status"] == "configured" and header["used"] is False and header["pairs"] == cal.pairs
    assert "camera calibration: configured" in summary.text_report()
    paths = summary.write(tmp_path)
    assert json.loads(paths["geojson"].read_text())["flight"]["camera_calibration"]["status"] == "configured"
    site = summary.new_sites[0]
    assert site.centre_m is not None and site.accuracy_m == pytest.approx(events[0].ground.accuracy_m, abs=0.01)  # type: ignore[union-attr]


def test_calibration_off_decides_at_once_and_says_so() -> None:
    det = ConstructionDetector(config())
    assert [e.phase for e in run(flight(), det)] == [Phase.START]
    _, summary = det.end_flight("F1")
    assert summary.calibration is not None and summary.calibration.reason == "self-calibration is off"
    assert summary.calibration.configured_focal_px == pytest.approx(887.5, abs=0.5)
