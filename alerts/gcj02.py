"""WGS-84 <-> GCJ-02, the obfuscated datum Chinese map platforms (Amap, Tencent) display in.

We store WGS-84 and add GCJ-02 for display, converting exactly once. The forward transform is the
published polynomial-plus-sine offset on the Krasovsky ellipsoid; it is not applied outside China's
bounding box, where map platforms use WGS-84 as is. The inverse has no closed form: we solve it by
fixed-point iteration, which converges to well under a millimetre because the offset changes slowly
(its Jacobian is close to the identity). Both work on numpy arrays.
"""

from __future__ import annotations

import math

import numpy as np
from numpy.typing import ArrayLike, NDArray

_A_M = 6378245.0  # Krasovsky 1940 semi-major axis used by GCJ-02
_EE = 0.00669342162296594323  # its first eccentricity squared
_PI = math.pi

# China's rough bounding box (degrees); outside it GCJ-02 equals WGS-84.
CHINA_LON_MIN, CHINA_LON_MAX = 72.004, 137.8347
CHINA_LAT_MIN, CHINA_LAT_MAX = 0.8293, 55.8271

F64 = NDArray[np.float64]


def in_china(lat_deg: ArrayLike, lon_deg: ArrayLike) -> NDArray[np.bool_]:
    """True where the GCJ-02 offset applies."""
    lat = np.asarray(lat_deg, np.float64)
    lon = np.asarray(lon_deg, np.float64)
    return (lon >= CHINA_LON_MIN) & (lon <= CHINA_LON_MAX) & (lat >= CHINA_LAT_MIN) & (lat <= CHINA_LAT_MAX)


def _offset_deg(lat: F64, lon: F64) -> tuple[F64, F64]:
    """The (dlat, dlon) degrees GCJ-02 adds to a WGS-84 position."""
    x = lon - 105.0
    y = lat - 35.0
    sqrt_abs_x = np.sqrt(np.abs(x))
    common = (20.0 * np.sin(6.0 * x * _PI) + 20.0 * np.sin(2.0 * x * _PI)) * 2.0 / 3.0
    dlat = -100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * sqrt_abs_x + common
    dlat += (20.0 * np.sin(y * _PI) + 40.0 * np.sin(y / 3.0 * _PI)) * 2.0 / 3.0
    dlat += (160.0 * np.sin(y / 12.0 * _PI) + 320.0 * np.sin(y * _PI / 30.0)) * 2.0 / 3.0
    dlon = 300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * sqrt_abs_x + common
    dlon += (20.0 * np.sin(x * _PI) + 40.0 * np.sin(x / 3.0 * _PI)) * 2.0 / 3.0
    dlon += (150.0 * np.sin(x / 12.0 * _PI) + 300.0 * np.sin(x / 30.0 * _PI)) * 2.0 / 3.0
    rad_lat = np.radians(lat)
    magic = 1.0 - _EE * np.sin(rad_lat) ** 2
    sqrt_magic = np.sqrt(magic)
    dlat = dlat * 180.0 / ((_A_M * (1.0 - _EE)) / (magic * sqrt_magic) * _PI)
    dlon = dlon * 180.0 / (_A_M / sqrt_magic * np.cos(rad_lat) * _PI)
    return dlat, dlon


def wgs84_to_gcj02_array(lat_deg: ArrayLike, lon_deg: ArrayLike) -> tuple[F64, F64]:
    """WGS-84 -> GCJ-02 for arrays (positions outside China are returned unchanged)."""
    lat = np.asarray(lat_deg, np.float64)
    lon = np.asarray(lon_deg, np.float64)
    dlat, dlon = _offset_deg(lat, lon)
    inside = in_china(lat, lon)
    return np.where(inside, lat + dlat, lat), np.where(inside, lon + dlon, lon)


def gcj02_to_wgs84_array(
    lat_deg: ArrayLike, lon_deg: ArrayLike, *, tol_deg: float = 1e-10, max_iter: int = 30
) -> tuple[F64, F64]:
    """GCJ-02 -> WGS-84 for arrays, by fixed-point iteration of the forward transform.

    Stops when every forward-mapped estimate is within `tol_deg` of the input (1e-10 deg ~ 0.01 mm).
    """
    g_lat = np.asarray(lat_deg, np.float64)
    g_lon = np.asarray(lon_deg, np.float64)
    w_lat, w_lon = g_lat.copy(), g_lon.copy()
    for _ in range(max_iter):
        f_lat, f_lon = wgs84_to_gcj02_array(w_lat, w_lon)
        e_lat, e_lon = f_lat - g_lat, f_lon - g_lon
        w_lat = w_lat - e_lat
        w_lon = w_lon - e_lon
        if (
            float(np.max(np.abs(e_lat), initial=0.0)) < tol_deg
            and float(np.max(np.abs(e_lon), initial=0.0)) < tol_deg
        ):
            break
    return w_lat, w_lon


def wgs84_to_gcj02(lat_deg: float, lon_deg: float) -> tuple[float, float]:
    """One WGS-84 position -> (lat, lon) in GCJ-02."""
    lat, lon = wgs84_to_gcj02_array(lat_deg, lon_deg)
    return float(lat), float(lon)


def gcj02_to_wgs84(lat_deg: float, lon_deg: float) -> tuple[float, float]:
    """One GCJ-02 position -> (lat, lon) in WGS-84."""
    lat, lon = gcj02_to_wgs84_array(lat_deg, lon_deg)
    return float(lat), float(lon)
