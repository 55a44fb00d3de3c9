"""Survey mosaics kept in the evidence store, as Cloud-Optimized GeoTIFFs with a JSON record each.

Per survey, under `<prefix>/<survey_id>/`:

- `mosaic.tif`: the mosaic, a COG (tiles of 512, JPEG in YCbCr at quality 90, internal validity mask,
  overviews) in EPSG:4326 on the district lattice (`grid.py`), readable by any GIS or a COG viewer;
- `views.tif`: per pixel, which keyframe it came from (uint16, 0 = none; DEFLATE), so a later survey
  knows how each roof leans here;
- `survey.json`: the record: when, which flight, lattice and window, bounds, the keyframes' nadir points
  and heights, and what it was compared with.

The store is reached through the narrow `SurveyStore` protocol, which the alerts package implements over
its evidence store (local directory or S3); detectors never import it. rasterio (the optional `survey`
extra) is imported only when a mosaic is written or read.
"""

from __future__ import annotations

import json
import logging
import tempfile
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Protocol

import numpy as np
from numpy.typing import NDArray

from detectors.construction.survey.grid import Lattice, Window
from detectors.construction.survey.mosaic import Canvas
from foundation.errors import ConfigError, GridwatchError

log = logging.getLogger(__name__)

JPEG_QUALITY = 90
BLOCK_PX = 512
RECORD_NAME = "survey.json"
MOSAIC_NAME = "mosaic.tif"
VIEWS_NAME = "views.tif"


class SurveyStoreError(GridwatchError):
    """A survey mosaic could not be written or read (the store, or a damaged file)."""


class SurveyStore(Protocol):
    """Where mosaics and change crops are kept (the alerts package adapts its evidence store to this)."""

    def uri_for(self, key: str) -> str:
        """The URI under which `key` is (or will be) readable, for alerts and summaries."""
        ...

    def put_bytes(self, key: str, data: bytes, content_type: str) -> None:
        """Write one object; raises a GridwatchError subclass on failure."""
        ...

    def put_file(self, key: str, path: Path, content_type: str) -> None:
        """Move or upload a local file as `key`; the local file is gone afterwards."""
        ...

    def get_file(self, key: str, dest: Path) -> bool:
        """Copy or download `key` to `dest`; False when there is no such object."""
        ...

    def list_keys(self, prefix: str) -> list[str]:
        """Every key under `prefix` (a '/'-separated key prefix)."""
        ...


def _rasterio() -> Any:
    try:
        import rasterio  # noqa: PLC0415 - optional extra, only for surveys
    except ImportError as exc:  # pragma: no cover - the extra is installed in development
        raise ConfigError(
            "detectors.construction.survey is enabled but rasterio is not installed: pip install 'gridwatch[survey]'"
        ) from exc
    return rasterio


@dataclass(frozen=True)
class SurveyRecord:
    """What is kept about one survey besides its rasters."""

    survey_id: str
    flight_id: str
    captured_from: float
    captured_to: float
    resolution_m: float
    reference_lat_deg: float
    col0: int
    row0: int
    width: int
    height: int
    bounds_lonlat: tuple[float, float, float, float]
    views: list[list[float]]
    """Per keyframe: nadir col, row (lattice) and camera height (m)."""
    keyframes: int
    compared_with: list[str] = field(default_factory=list)
    mosaic_bytes: int = 0
    views_bytes: int = 0

    @property
    def lattice(self) -> Lattice:
        return Lattice(self.resolution_m, self.reference_lat_deg)

    @property
    def window(self) -> Window:
        return Window(self.col0, self.row0, self.width, self.height)

    def to_json(self) -> str:
        return json.dumps(asdict(self), indent=1)

    @classmethod
    def from_json(cls, text: str, where: str) -> SurveyRecord:
        try:
            data = json.loads(text)
            data["bounds_lonlat"] = tuple(data["bounds_lonlat"])
            return cls(**data)
        except (ValueError, TypeError, KeyError) as exc:
            raise SurveyStoreError(f"{where}: not a survey record ({exc})") from exc


def survey_keys(prefix: str, survey_id: str) -> tuple[str, str, str]:
    """(mosaic, views, record) keys of a survey."""
    base = f"{prefix}/{survey_id}"
    return f"{base}/{MOSAIC_NAME}", f"{base}/{VIEWS_NAME}", f"{base}/{RECORD_NAME}"


def write_rasters(canvas: Canvas, mosaic_path: Path, views_path: Path) -> None:
    """The canvas as a COG (RGB + mask) and its view index as a DEFLATE GeoTIFF."""
    rio = _rasterio()
    from rasterio.transform import Affine  # noqa: PLC0415 - optional extra

    lat, win = canvas.lattice, canvas.window
    transform = Affine(lat.dlon_deg, 0.0, win.col0 * lat.dlon_deg, 0.0, -lat.dlat_deg, -win.row0 * lat.dlat_deg)
    h, w = win.shape
    rgb = np.ascontiguousarray(canvas.image[..., ::-1].transpose(2, 0, 1))
    with rio.open(
        mosaic_path,
        "w",
        driver="COG",
        width=w,
        height=h,
        count=3,
        dtype="uint8",
        crs="EPSG:4326",
        transform=transform,
        compress="JPEG",
        quality=JPEG_QUALITY,
        blocksize=BLOCK_PX,
        overviews="AUTO",
    ) as ds:
        ds.write(rgb)
        ds.write_mask((canvas.valid * 255).astype(np.uint8))
    index = np.clip(canvas.view_index + 1, 0, 65535).astype(np.uint16)
    with rio.open(
        views_path,
        "w",
        driver="GTiff",
        width=w,
        height=h,
        count=1,
        dtype="uint16",
        crs="EPSG:4326",
        transform=transform,
        compress="DEFLATE",
        tiled=True,
        blockxsize=BLOCK_PX,
        blockysize=BLOCK_PX,
    ) as ds:
        ds.write(index[None])


def read_window(
    record: SurveyRecord, mosaic_path: Path, views_path: Path, lattice: Lattice, window: Window
) -> Canvas | None:
    """The part of a stored mosaic inside `window` of `lattice` (resampled when its lattice differs)."""
    rio = _rasterio()
    if record.lattice == lattice:
        inter = record.window.intersect(window)
        if inter is None:
            return None
        rw = rio.windows.Window(inter.col0 - record.col0, inter.row0 - record.row0, inter.width, inter.height)
        try:
            with rio.open(mosaic_path) as ds:
                rgb = ds.read(window=rw)
                mask = ds.read_masks(1, window=rw)
            with rio.open(views_path) as ds:
                index = ds.read(1, window=rw)
        except rio.errors.RasterioError as exc:
            raise SurveyStoreError(f"survey {record.survey_id}: cannot read its mosaic ({exc})") from exc
        part = Canvas(
            lattice,
            inter,
            np.ascontiguousarray(rgb.transpose(1, 2, 0)[..., ::-1]),
            mask > 0,
            index.astype(np.int32) - 1,
            np.asarray(record.views, np.float64).reshape(-1, 3),
        )
        return part.cut(window)
    return _read_resampled(record, mosaic_path, views_path, lattice, window)


def _read_resampled(
    record: SurveyRecord, mosaic_path: Path, views_path: Path, lattice: Lattice, window: Window
) -> Canvas | None:
    """A mosaic from another lattice (another resolution or reference latitude), warped onto this one."""
    rio = _rasterio()
    from rasterio.transform import Affine  # noqa: PLC0415 - optional extra
    from rasterio.warp import Resampling, reproject  # noqa: PLC0415 - optional extra

    h, w = window.shape
    dst_transform = Affine(
        lattice.dlon_deg, 0.0, window.col0 * lattice.dlon_deg, 0.0, -lattice.dlat_deg, -window.row0 * lattice.dlat_deg
    )
    rgb = np.zeros((3, h, w), np.uint8)
    mask = np.zeros((h, w), np.uint8)
    index = np.zeros((h, w), np.uint16)
    try:
        with rio.open(mosaic_path) as ds:
            for band in range(3):
                reproject(
                    rio.band(ds, band + 1),
                    rgb[band],
                    dst_transform=dst_transform,
                    dst_crs="EPSG:4326",
                    resampling=Resampling.bilinear,
                )
            reproject(
                ds.read_masks(1),
                mask,
                src_transform=ds.transform,
                src_crs=ds.crs,
                dst_transform=dst_transform,
                dst_crs="EPSG:4326",
                resampling=Resampling.nearest,
            )
        with rio.open(views_path) as ds:
            reproject(
                rio.band(ds, 1), index, dst_transform=dst_transform, dst_crs="EPSG:4326", resampling=Resampling.nearest
            )
    except rio.errors.RasterioError as exc:
        raise SurveyStoreError(f"survey {record.survey_id}: cannot read its mosaic ({exc})") from exc
    views = np.asarray(record.views, np.float64).reshape(-1, 3).copy()
    if len(views):
        lon, la = record.lattice.lon_lat(views[:, :2])
        views[:, :2] = lattice.col_row(lon, la)
    valid = mask > 0
    if not valid.any():
        return None
    return Canvas(
        lattice,
        window,
        np.ascontiguousarray(rgb.transpose(1, 2, 0)[..., ::-1]),
        valid,
        index.astype(np.int32) - 1,
        views,
    )


class MosaicArchive:
    """The surveys in a store: save a new one, find and load the earlier ones covering some ground."""

    def __init__(self, store: SurveyStore, prefix: str, scratch_dir: Path | None = None) -> None:
        self.store = store
        self.prefix = prefix
        self.scratch_dir = scratch_dir

    def records(self) -> list[SurveyRecord]:
        """Every survey record in the store (damaged ones are logged and skipped)."""
        out: list[SurveyRecord] = []
        keys = [k for k in self.store.list_keys(self.prefix + "/") if k.endswith("/" + RECORD_NAME)]
        with tempfile.TemporaryDirectory(prefix="gw-survey-", dir=self.scratch_dir) as tmp:
            for key in sorted(keys):
                path = Path(tmp) / "record.json"
                if not self.store.get_file(key, path):
                    continue
                try:
                    out.append(SurveyRecord.from_json(path.read_text(encoding="utf-8"), key))
                except (SurveyStoreError, UnicodeDecodeError, OSError) as exc:
                    log.warning("survey archive: skipping %s: %s", key, exc)
        return out

    def previous(
        self,
        bounds_lonlat: tuple[float, float, float, float],
        before_s: float,
        max_age_s: float,
        baseline_id: str | None = None,
    ) -> list[SurveyRecord]:
        """Earlier surveys overlapping the bounds, newest first (only the baseline when one is named)."""
        w, s, e, n = bounds_lonlat
        out = []
        for r in self.records():
            rw, rs, re_, rn = r.bounds_lonlat
            if rw >= e or re_ <= w or rs >= n or rn <= s:
                continue
            if baseline_id is not None:
                if r.survey_id == baseline_id:
                    out.append(r)
                continue
            if r.captured_to < before_s and before_s - r.captured_to <= max_age_s:
                out.append(r)
        return sorted(out, key=lambda r: r.captured_to, reverse=True)

    def compose(
        self, records: Sequence[SurveyRecord], lattice: Lattice, window: Window
    ) -> tuple[Canvas | None, list[str]]:
        """The earlier ground in `window`: the newest survey where it has data, older ones filling gaps.
        Returns the canvas (None when nothing covers it) and the ids of the surveys used."""
        image = np.zeros((*window.shape, 3), np.uint8)
        valid = np.zeros(window.shape, bool)
        index = np.full(window.shape, -1, np.int32)
        views: list[NDArray[np.float64]] = []
        used: list[str] = []
        with tempfile.TemporaryDirectory(prefix="gw-survey-", dir=self.scratch_dir) as tmp:
            for r in records:
                if valid.all():
                    break
                mosaic_key, views_key, _ = survey_keys(self.prefix, r.survey_id)
                mp, vp = Path(tmp) / f"{r.survey_id}-m.tif", Path(tmp) / f"{r.survey_id}-v.tif"
                if not (self.store.get_file(mosaic_key, mp) and self.store.get_file(views_key, vp)):
                    log.warning("survey archive: %s has a record but no rasters; skipped", r.survey_id)
                    continue
                part = read_window(r, mp, vp, lattice, window)
                mp.unlink(missing_ok=True)
                vp.unlink(missing_ok=True)
                if part is None:
                    continue
                fill = part.valid & ~valid
                if not fill.any():
                    continue
                offset = sum(len(v) for v in views)
                image[fill] = part.image[fill]
                index[fill] = np.where(part.view_index[fill] >= 0, part.view_index[fill] + offset, -1)
                valid |= fill
                views.append(part.views)
                used.append(r.survey_id)
        if not valid.any():
            return None, used
        table = np.concatenate(views) if views else np.zeros((0, 3))
        return Canvas(lattice, window, image, valid, index, table), used

    def save(self, record: SurveyRecord, canvas: Canvas) -> SurveyRecord:
        """Write a survey's rasters and record (record last: a survey without one is never read)."""
        mosaic_key, views_key, record_key = survey_keys(self.prefix, record.survey_id)
        with tempfile.TemporaryDirectory(prefix="gw-survey-", dir=self.scratch_dir) as tmp:
            mp, vp = Path(tmp) / MOSAIC_NAME, Path(tmp) / VIEWS_NAME
            write_rasters(canvas, mp, vp)
            sizes = {"mosaic_bytes": mp.stat().st_size, "views_bytes": vp.stat().st_size}
            self.store.put_file(mosaic_key, mp, "image/tiff; application=geotiff; profile=cloud-optimized")
            self.store.put_file(views_key, vp, "image/tiff; application=geotiff")
        out = SurveyRecord(**{**asdict(record), **sizes, "bounds_lonlat": record.bounds_lonlat})
        self.store.put_bytes(record_key, out.to_json().encode("utf-8"), "application/json")
        return out
