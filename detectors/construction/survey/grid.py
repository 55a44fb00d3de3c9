"""The district's mosaic lattice: one pixel grid in WGS-84 degrees that every survey mosaic shares.

Mosaics from different flights are compared pixel by pixel, so they are cut from one lattice: columns
step `dlon` degrees east from longitude 0, rows step `dlat` degrees south from latitude 0, with steps
that make a pixel `resolution_m` square at the lattice's reference latitude. Two mosaics on the same
lattice overlap by whole pixels, and comparing them is a windowed read, not a resampling.

Degrees, not a projected CRS: `detectors.geometry.geodesy` maps local metres to WGS-84 with a
longitude/latitude-linear (equirectangular) map, so a pixel of this lattice is exactly a fixed box in
a flight's local metres, and the GeoTIFF written for it is plain EPSG:4326 that any GIS reads. A pixel
is square at the reference latitude; 5 km north or south it is 0.05 % off square, which is far below
what a mosaic resolves.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from detectors.geometry.geodesy import enu_to_wgs84, local_radii_m

Affine2x3 = NDArray[np.float64]
"""A 2 x 3 affine matrix [[a, b, c], [d, e, f]]: (x, y) -> (a x + b y + c, d x + e y + f)."""


@dataclass(frozen=True, slots=True)
class Lattice:
    """A pixel lattice: `resolution_m` square pixels at `reference_lat_deg`, anchored at lon 0 / lat 0."""

    resolution_m: float
    reference_lat_deg: float

    @classmethod
    def for_area(cls, resolution_m: float, lat_deg: float, snap_deg: float = 0.5) -> Lattice:
        """The lattice for ground near `lat_deg`: the reference latitude snapped to `snap_deg` so that every
        flight over a district picks the same one."""
        ref = round(lat_deg / snap_deg) * snap_deg
        return cls(resolution_m, float(ref))

    @property
    def dlat_deg(self) -> float:
        m, _ = local_radii_m(self.reference_lat_deg)
        return math.degrees(self.resolution_m / m)

    @property
    def dlon_deg(self) -> float:
        _, n = local_radii_m(self.reference_lat_deg)
        return math.degrees(self.resolution_m / (n * math.cos(math.radians(self.reference_lat_deg))))

    def col_row(self, lon_deg: NDArray[np.float64], lat_deg: NDArray[np.float64]) -> NDArray[np.float64]:
        """(N,) lon/lat -> (N, 2) fractional (col, row) of the lattice (pixel centres at +0.5)."""
        return np.column_stack([np.asarray(lon_deg) / self.dlon_deg, -np.asarray(lat_deg) / self.dlat_deg])

    def lon_lat(self, col_row: NDArray[np.float64]) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
        """(N, 2) fractional (col, row) -> (lon, lat) arrays."""
        cr = np.asarray(col_row, np.float64).reshape(-1, 2)
        return cr[:, 0] * self.dlon_deg, -cr[:, 1] * self.dlat_deg

    def enu_to_lattice(self, origin_lat_deg: float, origin_lon_deg: float) -> Affine2x3:
        """The exact affine map from a flight's local metres (origin lat/lon) to lattice (col, row)."""
        e = np.array([0.0, 100.0, 0.0])
        n = np.array([0.0, 0.0, 100.0])
        lat, lon = enu_to_wgs84(origin_lat_deg, origin_lon_deg, e, n)
        cr = self.col_row(lon, lat)
        return np.array(
            [
                [(cr[1, 0] - cr[0, 0]) / 100.0, (cr[2, 0] - cr[0, 0]) / 100.0, cr[0, 0]],
                [(cr[1, 1] - cr[0, 1]) / 100.0, (cr[2, 1] - cr[0, 1]) / 100.0, cr[0, 1]],
            ]
        )


@dataclass(frozen=True, slots=True)
class Window:
    """A rectangle of lattice pixels: (col0, row0) is its top-left pixel."""

    col0: int
    row0: int
    width: int
    height: int

    @classmethod
    def around(cls, col_row: NDArray[np.float64], margin_px: int = 0) -> Window:
        """The smallest window holding every point, grown by a margin."""
        cr = np.asarray(col_row, np.float64).reshape(-1, 2)
        c0, r0 = np.floor(cr.min(axis=0)).astype(int) - margin_px
        c1, r1 = np.ceil(cr.max(axis=0)).astype(int) + margin_px
        return cls(int(c0), int(r0), int(c1 - c0), int(r1 - r0))

    @property
    def shape(self) -> tuple[int, int]:
        return self.height, self.width

    def intersect(self, other: Window) -> Window | None:
        c0, r0 = max(self.col0, other.col0), max(self.row0, other.row0)
        c1 = min(self.col0 + self.width, other.col0 + other.width)
        r1 = min(self.row0 + self.height, other.row0 + other.height)
        if c1 <= c0 or r1 <= r0:
            return None
        return Window(c0, r0, c1 - c0, r1 - r0)

    def slices(self, inner: Window) -> tuple[slice, slice]:
        """Row and column slices of `inner` (a window inside this one) in this window's array."""
        return (
            slice(inner.row0 - self.row0, inner.row0 - self.row0 + inner.height),
            slice(inner.col0 - self.col0, inner.col0 - self.col0 + inner.width),
        )

    def lon_lat_bounds(self, lattice: Lattice) -> tuple[float, float, float, float]:
        """(west, south, east, north) degrees of the window's outer edges."""
        lon, lat = lattice.lon_lat(
            np.array([[self.col0, self.row0 + self.height], [self.col0 + self.width, self.row0]])
        )
        return float(lon[0]), float(lat[0]), float(lon[1]), float(lat[1])


def to_pixels(window: Window, col_row: NDArray[np.float64]) -> NDArray[np.float64]:
    """Lattice (col, row) -> pixel coordinates of the window's array in OpenCV's convention (pixel x's
    centre at x: lattice column col0 + x + 0.5)."""
    out: NDArray[np.float64] = np.asarray(col_row, np.float64).reshape(-1, 2) - (window.col0 + 0.5, window.row0 + 0.5)
    return out


def from_pixels(window: Window, px: NDArray[np.float64]) -> NDArray[np.float64]:
    """Pixel coordinates of the window's array (OpenCV convention) -> lattice (col, row)."""
    offset = np.array([window.col0 + 0.5, window.row0 + 0.5])
    out: NDArray[np.float64] = np.asarray(px, np.float64).reshape(-1, 2) + offset
    return out
