"""The survey archive: mosaics kept as Cloud-Optimized GeoTIFFs in the evidence store, found again by place
and time, read back by window (resampled when an earlier survey used another lattice)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from alerts.evidence_config import EvidenceConfig
from alerts.survey_store import EvidenceSurveyStore, survey_store
from detectors.construction.survey.archive import MosaicArchive, SurveyRecord
from detectors.construction.survey.grid import Lattice, Window
from detectors.construction.survey.mosaic import Canvas

rasterio = pytest.importorskip("rasterio")

LAT, LON = 34.80, 113.29


def _store(tmp_path: Path) -> EvidenceSurveyStore:
    return survey_store(EvidenceConfig.model_validate({"store": {"type": "local", "dir": str(tmp_path / "ev")}}))


def _canvas(lattice: Lattice, col0: int, row0: int, w: int = 600, h: int = 500, seed: int = 0) -> Canvas:
    rng = np.random.default_rng(seed)
    image = np.clip(rng.normal(120, 30, (h // 20, w // 20, 3)), 0, 255).astype(np.uint8).repeat(20, 0).repeat(20, 1)
    valid = np.ones((h, w), bool)
    valid[:, :50] = False
    index = np.where(valid, (np.arange(w)[None, :] // 200).repeat(h, 0), -1).astype(np.int32)
    views = np.array(
        [[col0 + 100.0, row0 + 250.0, 100.0], [col0 + 300.0, row0 + 250.0, 101.0], [col0 + 500.0, row0 + 250.0, 99.0]]
    )
    return Canvas(lattice, Window(col0, row0, w, h), image, valid, index, views)


def _record(sid: str, canvas: Canvas, t0: float) -> SurveyRecord:
    w = canvas.window
    return SurveyRecord(
        sid,
        "drone-1",
        t0,
        t0 + 600,
        canvas.lattice.resolution_m,
        canvas.lattice.reference_lat_deg,
        w.col0,
        w.row0,
        w.width,
        w.height,
        w.lon_lat_bounds(canvas.lattice),
        canvas.views.tolist(),
        3,
    )


def test_mosaic_is_a_georeferenced_cog_and_reads_back_by_window(tmp_path: Path) -> None:
    lattice = Lattice.for_area(0.25, LAT)
    col0, row0 = (int(v) for v in lattice.col_row(np.array([LON]), np.array([LAT]))[0])
    canvas = _canvas(lattice, col0, row0)
    archive = MosaicArchive(_store(tmp_path), "surveys")
    saved = archive.save(_record("drone-1-20260601T080000Z", canvas, 1.78e9), canvas)
    path = tmp_path / "ev" / "surveys" / "drone-1-20260601T080000Z" / "mosaic.tif"
    assert saved.mosaic_bytes == path.stat().st_size > 0
    with rasterio.open(path) as ds:
        assert ds.crs.to_epsg() == 4326 and ds.count == 3 and ds.profile["tiled"]
        assert ds.profile["compress"] == "jpeg" and ds.overviews(1)  # a COG: tiles, overviews
        west, north = ds.transform @ (0, 0)
        assert west == pytest.approx(col0 * lattice.dlon_deg) and north == pytest.approx(-row0 * lattice.dlat_deg)
        assert ds.read_masks(1)[:, :50].max() == 0 and ds.read_masks(1)[:, 50:].min() == 255
    # A later flight's window overlapping the right half: read back exactly there.
    later = Window(col0 + 300, row0 + 100, 500, 300)
    prev, used = archive.compose(archive.previous(later.lon_lat_bounds(lattice), 1.79e9, 3e8), lattice, later)
    assert used == ["drone-1-20260601T080000Z"] and prev is not None
    assert prev.valid[:, :300].all() and not prev.valid[:, 300:].any()
    jpeg_error = np.abs(prev.image[:, :300].astype(int) - canvas.image[100:400, 300:].astype(int))
    assert np.median(jpeg_error) <= 3  # JPEG at quality 90, YCbCr 4:2:0
    shifted = np.abs(prev.image[:, :300].astype(int) - canvas.image[100:400, 280:580].astype(int))
    assert np.median(shifted) > np.median(jpeg_error)  # and read back at the right place
    assert set(np.unique(prev.view_index[:, :300])) == {1, 2}
    assert np.allclose(prev.views, canvas.views)


def test_previous_surveys_newest_first_and_the_baseline_when_pinned(tmp_path: Path) -> None:
    lattice = Lattice.for_area(0.25, LAT)
    col0, row0 = (int(v) for v in lattice.col_row(np.array([LON]), np.array([LAT]))[0])
    archive = MosaicArchive(_store(tmp_path), "surveys")
    old, new = _canvas(lattice, col0, row0, seed=1), _canvas(lattice, col0 + 200, row0, seed=2)
    archive.save(_record("a-old", old, 1.70e9), old)
    archive.save(_record("b-new", new, 1.75e9), new)
    far = _canvas(lattice, col0 + 100_000, row0)
    archive.save(_record("c-far", far, 1.76e9), far)
    bounds = Window(col0, row0, 800, 500).lon_lat_bounds(lattice)
    assert [r.survey_id for r in archive.previous(bounds, 1.8e9, 1e9)] == ["b-new", "a-old"]
    assert [r.survey_id for r in archive.previous(bounds, 1.72e9, 1e9)] == ["a-old"]  # only earlier ones
    assert archive.previous(bounds, 1.8e9, 1e6) == []  # too old
    assert [r.survey_id for r in archive.previous(bounds, 1.8e9, 1e9, baseline_id="a-old")] == ["a-old"]
    # Composed: the newest where it has ground, the older one filling the rest.
    canvas, used = archive.compose(archive.previous(bounds, 1.8e9, 1e9), lattice, Window(col0, row0, 800, 500))
    assert canvas is not None and used == ["b-new", "a-old"]
    diff_new = np.abs(canvas.image[:, 300:700].astype(int) - new.image[:, 100:500].astype(int))
    assert np.median(diff_new) <= 3
    assert canvas.valid[:, 50:].all() and not canvas.valid[:, :50].any()


def test_an_earlier_survey_on_another_lattice_is_resampled(tmp_path: Path) -> None:
    coarse = Lattice(0.5, 35.0)
    col0, row0 = (int(v) for v in coarse.col_row(np.array([LON]), np.array([LAT]))[0])
    old = _canvas(coarse, col0, row0, 300, 250, seed=4)
    archive = MosaicArchive(_store(tmp_path), "surveys")
    archive.save(_record("coarse", old, 1.7e9), old)
    fine = Lattice(0.25, 35.0)
    window = Window(col0 * 2 + 200, row0 * 2 + 100, 200, 200)
    canvas, used = archive.compose(archive.previous(window.lon_lat_bounds(fine), 1.8e9, 1e9), fine, window)
    assert used == ["coarse"] and canvas is not None and canvas.valid.mean() > 0.95
    # The same ground: fine pixel (x, y) lies in coarse pixel ((x + 200) / 2, (y + 100) / 2).
    ys, xs = np.mgrid[20:180:37, 20:180:37]
    expect = old.image[(ys + 100) // 2, (xs + 200) // 2].astype(int)
    assert np.median(np.abs(canvas.image[ys, xs].astype(int) - expect)) <= 6


def test_a_damaged_record_is_skipped_not_fatal(tmp_path: Path) -> None:
    store = _store(tmp_path)
    store.put_bytes("surveys/broken/survey.json", b"{not json", "application/json")
    assert MosaicArchive(store, "surveys").records() == []
