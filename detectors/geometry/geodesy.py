"""Local east/north metres around an origin <-> WGS-84 degrees.

Detections are located in a local tangent plane (a camera's ground plane, a drone's take-off point) and
reported in WGS-84. Over the few kilometres one camera or flight covers, an equirectangular projection on
the WGS-84 ellipsoid's local radii is accurate to centimetres, and it is exactly invertible.
"""

from __future__ import annotations

import math

import numpy as np
from numpy.typing import NDArray

WGS84_A_M = 6378137.0
WGS84_F = 1 / 298.257223563
_E2 = WGS84_F * (2 - WGS84_F)


def local_radii_m(lat_deg: float) -> tuple[float, float]:
    """(meridional, prime-vertical) radii of curvature at `lat_deg`, metres."""
    s = math.sin(math.radians(lat_deg))
    w = math.sqrt(1 - _E2 * s * s)
    return WGS84_A_M * (1 - _E2) / w**3, WGS84_A_M / w


def enu_to_wgs84(
    origin_lat_deg: float, origin_lon_deg: float, east_m: NDArray[np.float64] | float,
    north_m: NDArray[np.float64] | float,
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Local east/north offsets (metres) from the origin -> (lat, lon) degrees."""
    m_rad, n_rad = local_radii_m(origin_lat_deg)
    lat = origin_lat_deg + np.degrees(np.asarray(north_m, np.float64) / m_rad)
    lon = origin_lon_deg + np.degrees(
        np.asarray(east_m, np.float64) / (n_rad * math.cos(math.radians(origin_lat_deg)))
    )
    return lat, lon


def wgs84_to_enu(
    origin_lat_deg: float, origin_lon_deg: float, lat_deg: NDArray[np.float64] | float,
    lon_deg: NDArray[np.float64] | float,
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """(lat, lon) degrees -> local east/north metres from the origin (inverse of `enu_to_wgs84`)."""
    m_rad, n_rad = local_radii_m(origin_lat_deg)
    north = np.radians(np.asarray(lat_deg, np.float64) - origin_lat_deg) * m_rad
    east = np.radians(np.asarray(lon_deg, np.float64) - origin_lon_deg) * n_rad * math.cos(
        math.radians(origin_lat_deg)
    )
    return east, north


def haversine_m(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance in metres (mean Earth radius); for dedup radii and error reports."""
    r = 6371008.8
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * r * math.asin(min(1.0, math.sqrt(a)))
