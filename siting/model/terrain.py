"""Terrain maths: slope and aspect by Horn's method, cell sizes on the ellipsoid, the north-facing factor.

Reading a DEM window by window and counting the pixels that pass a slope rule per analysis cell is
:mod:`siting.io.dem`; this module holds the array functions it applies.


Slope is computed with Horn's (1981) 3×3 method on the DEM at its own
resolution, window by window with a one-pixel overlap so that the result does
not depend on the window size. Each DEM pixel then passes or fails the slope
rule (``slope_deg <= max_slope_deg``) and the analysis grid receives, per
cell, the share of the DEM pixels inside it that pass. Carrying this fraction
keeps the areas right; resampling a slope raster onto the grid and then
thresholding it does not (bilinear versus nearest moved county eligible areas
by up to 3.3 % in our measurements).

Conventions
-----------
* Elevations are metres. Horizontal cell sizes are metres: taken from the
  transform for projected DEMs, and from the WGS-84 (or the DEM's own)
  ellipsoid for longitude/latitude DEMs, where the east-west size shrinks with
  the cosine of latitude. A projected DEM's nominal pixel size is taken as its
  ground size, which holds for UTM, transverse Mercator and Albers (scale
  within about 1 %) but not for Web Mercator: warp such DEMs first.
* ``slope_deg`` is 0..90. ``aspect_deg`` is the compass direction the slope
  faces (downhill), clockwise from north, in [0, 360); it is NaN where the
  surface is exactly flat.
* Pixels on the outer edge of the DEM, and pixels next to a nodata pixel, have
  NaN slope and aspect; they count neither as passing nor as failing.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
from affine import Affine


WGS84_SEMI_MAJOR_M = 6378137.0
WGS84_INVERSE_FLATTENING = 298.257223563

AspectFilter = Callable[[np.ndarray, np.ndarray], np.ndarray]


# ---------------------------------------------------------------------------
# Pure array functions
# ---------------------------------------------------------------------------

def _per_row(cell_size_m, rows: int, name: str) -> np.ndarray:
    """Cell size as a float64 column of shape (rows, 1) (a scalar is broadcast)."""
    size = np.asarray(cell_size_m, dtype="float64")
    if size.ndim == 0:
        size = np.full((rows, 1), float(size))
    else:
        size = size.reshape(-1, 1)
        if size.shape[0] != rows:
            raise ValueError(f"{name} has {size.shape[0]} rows, the elevation array {rows}")
    if not np.all(size > 0):
        raise ValueError(f"{name} must be positive")
    return size


def _horn_gradients(z: np.ndarray, dx: np.ndarray, dy: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """East and north gradients of the interior cells (rows-2, cols-2); NaN where undefined."""
    a, b, c = z[:-2, :-2], z[:-2, 1:-1], z[:-2, 2:]
    d, f = z[1:-1, :-2], z[1:-1, 2:]
    g, h, i = z[2:, :-2], z[2:, 1:-1], z[2:, 2:]
    # dz/dx = [(c - a)/dx_top + 2 (f - d)/dx_mid + (i - g)/dx_bot] / 8, in place to spare memory traffic
    dzdx = np.subtract(c, a)
    dzdx /= dx[:-2]
    tmp = np.subtract(f, d)
    tmp *= 2.0
    tmp /= dx[1:-1]
    dzdx += tmp
    np.subtract(i, g, out=tmp)
    tmp /= dx[2:]
    dzdx += tmp
    dzdx /= 8.0
    # dz/dy = [(a + 2b + c) - (g + 2h + i)] / (4 · span between the outer rows' centres)
    dzdy = np.multiply(b, 2.0)
    dzdy += a
    dzdy += c
    np.multiply(h, 2.0, out=tmp)
    tmp += g
    tmp += i
    dzdy -= tmp
    dzdy /= 4.0 * (0.5 * dy[:-2] + dy[1:-1] + 0.5 * dy[2:])
    # the stencil skips the centre cell; a missing centre still has no slope
    missing = np.isnan(z[1:-1, 1:-1])
    dzdx[missing] = np.nan
    dzdy[missing] = np.nan
    return dzdx, dzdy


def _slope_deg(dzdx: np.ndarray, dzdy: np.ndarray) -> np.ndarray:
    """Slope in degrees from the gradients."""
    out = np.multiply(dzdx, dzdx)
    out += dzdy * dzdy
    np.sqrt(out, out=out)
    np.arctan(out, out=out)
    out *= 180.0 / np.pi
    return out


def _aspect_deg(dzdx: np.ndarray, dzdy: np.ndarray) -> np.ndarray:
    """Compass direction of the downhill gradient in [0, 360), NaN where flat."""
    out = np.arctan2(-dzdx, -dzdy)  # bearing = atan2(east, north) of -gradient
    out *= 180.0 / np.pi
    out[out < 0.0] += 360.0
    out[out >= 360.0] = 0.0
    out[(dzdx == 0.0) & (dzdy == 0.0)] = np.nan
    return out


def horn_slope_aspect(elevation_m: np.ndarray, cell_size_x_m, cell_size_y_m) -> tuple[np.ndarray, np.ndarray]:
    """Slope and aspect of a north-up elevation grid by Horn's (1981) 3×3 method.

    With the neighbourhood ::

        a b c
        d e f      (row 0 is the northernmost row)
        g h i

    the east and north gradients of the centre cell are ::

        dz/dx = [(c - a)/Δx_top + 2 (f - d)/Δx_mid + (i - g)/Δx_bot] / 8
        dz/dy = [(a + 2b + c) - (g + 2h + i)] / (4 (Δy_top/2 + Δy_mid + Δy_bot/2))

    which reduce to the textbook ``/(8 Δx)`` and ``/(8 Δy)`` for constant cell
    sizes, and stay exact for a plane when the east-west size varies by row
    (longitude/latitude DEMs).

    Parameters
    ----------
    elevation_m : numpy.ndarray, shape (rows, cols)
        Elevations in metres; NaN marks missing data.
    cell_size_x_m, cell_size_y_m : float or numpy.ndarray
        East-west and north-south pixel sizes in metres: a scalar, or one value
        per row (shape ``(rows,)`` or ``(rows, 1)``), e.g. from
        :func:`geographic_cell_sizes_m`.

    Returns
    -------
    slope_deg : numpy.ndarray of float64, shape (rows, cols)
        Slope in degrees, 0..90.
    aspect_deg : numpy.ndarray of float64, shape (rows, cols)
        Direction the slope faces (downhill), degrees clockwise from north in
        [0, 360); NaN where the surface is flat (zero gradient).

    Notes
    -----
    Both outputs are NaN on the outer ring of the array (no full
    neighbourhood) and wherever any of the nine cells (including the centre,
    which the stencil itself does not use) is NaN. Callers that
    tile a large DEM supply a one-pixel overlap so that tile edges do not show.
    """
    z = np.asarray(elevation_m, dtype="float64")
    if z.ndim != 2:
        raise ValueError("elevation_m must be a 2-D array")
    rows, cols = z.shape
    dx = _per_row(cell_size_x_m, rows, "cell_size_x_m")
    dy = _per_row(cell_size_y_m, rows, "cell_size_y_m")
    slope_deg = np.full((rows, cols), np.nan)
    aspect_deg = np.full((rows, cols), np.nan)
    if rows < 3 or cols < 3:
        return slope_deg, aspect_deg

    dzdx, dzdy = _horn_gradients(z, dx, dy)
    slope_deg[1:-1, 1:-1] = _slope_deg(dzdx, dzdy)
    aspect_deg[1:-1, 1:-1] = _aspect_deg(dzdx, dzdy)
    return slope_deg, aspect_deg


def _horn_slope_only(z: np.ndarray, dx: np.ndarray, dy: np.ndarray) -> np.ndarray:
    """Slope of :func:`horn_slope_aspect` (same values) without computing the aspect."""
    slope_deg = np.full(z.shape, np.nan)
    if z.shape[0] >= 3 and z.shape[1] >= 3:
        slope_deg[1:-1, 1:-1] = _slope_deg(*_horn_gradients(z, _per_row(dx, z.shape[0], "cell_size_x_m"),
                                                            _per_row(dy, z.shape[0], "cell_size_y_m")))
    return slope_deg


def geographic_cell_sizes_m(transform: Affine, height: int, width: int | None = None, *,
                            semi_major_m: float = WGS84_SEMI_MAJOR_M,
                            inverse_flattening: float = WGS84_INVERSE_FLATTENING) -> tuple[np.ndarray, np.ndarray]:
    """Pixel sizes in metres, per row, of a north-up longitude/latitude raster.

    At the latitude φ of each row's centre, with the ellipsoid's
    prime-vertical radius of curvature N(φ) and meridional radius M(φ)::

        cell_size_x_m = N(φ) cos(φ) |Δλ|     (along the parallel)
        cell_size_y_m = M(φ) |Δφ|            (along the meridian)

    with Δλ, Δφ the pixel size in radians.

    Parameters
    ----------
    transform : affine.Affine
        Pixel-to-degrees transform of the raster (north-up, no rotation).
    height : int
        Number of rows.
    width : int, optional
        Number of columns; when given, the raster must span at most 360° of
        longitude.
    semi_major_m, inverse_flattening : float
        Ellipsoid; WGS-84 by default (CGCS2000 differs by < 0.1 mm).

    Returns
    -------
    cell_size_x_m, cell_size_y_m : numpy.ndarray of float64, shape (height,)
        East-west and north-south pixel sizes of each row in metres.
    """
    if transform.b != 0.0 or transform.d != 0.0:
        raise ValueError("rotated transforms are not supported")
    if width is not None and abs(transform.a) * width > 360.0 + 1e-9:
        raise ValueError("a longitude/latitude raster spans at most 360° of longitude")
    lat_deg = transform.f + (np.arange(height, dtype="float64") + 0.5) * transform.e
    if np.any(np.abs(lat_deg) > 90.0):
        raise ValueError("row latitudes must lie within ±90°")
    fl = 1.0 / inverse_flattening
    e2 = fl * (2.0 - fl)
    phi = np.radians(lat_deg)
    w = 1.0 - e2 * np.sin(phi) ** 2
    n_m = semi_major_m / np.sqrt(w)
    m_m = semi_major_m * (1.0 - e2) / w ** 1.5
    cell_size_x_m = n_m * np.cos(phi) * math.radians(abs(transform.a))
    cell_size_y_m = m_m * math.radians(abs(transform.e))
    return cell_size_x_m, cell_size_y_m


def aspect_factor(aspect_deg: np.ndarray, slope_deg: np.ndarray, min_slope_deg: float = 5.0,
                  north_sector_deg: tuple[float, float] = (315.0, 45.0), factor: float = 0.0) -> np.ndarray:
    """Weight (0..1) that penalises north-facing slopes, per pixel.

    PV siting guidance for hilly south China penalises or excludes
    ground-mounted PV on north-facing slopes, which receive less irradiance.
    This returns ``factor`` for pixels that face into ``north_sector_deg`` and
    are steeper than ``min_slope_deg``, and 1 elsewhere (flat pixels, whose
    aspect is NaN, get 1). Use it as ``aspect_filter`` of
    :func:`slope_pass_fraction` (``functools.partial`` sets the keywords); the
    defaults (315°–45°, above 5°, factor 0) exclude such pixels outright. Check
    the thresholds against the guidance that applies to the province.

    Parameters
    ----------
    aspect_deg, slope_deg : numpy.ndarray
        As returned by :func:`horn_slope_aspect` (broadcastable shapes).
    min_slope_deg : float, default 5
        Only slopes strictly steeper than this are penalised.
    north_sector_deg : (float, float), default (315, 45)
        Sector of aspects, clockwise from the first to the second bound, both
        inclusive; it may wrap through 0° (north).
    factor : float, default 0
        Weight given to penalised pixels.

    Returns
    -------
    numpy.ndarray of float32
        ``factor`` or 1 per pixel; NaN where ``slope_deg`` is NaN.
    """
    aspect = np.asarray(aspect_deg, dtype="float64")
    slope = np.asarray(slope_deg, dtype="float64")
    start, end = (float(v) % 360.0 for v in north_sector_deg)
    with np.errstate(invalid="ignore"):
        if start <= end:
            in_sector = (aspect >= start) & (aspect <= end)
        else:
            in_sector = (aspect >= start) | (aspect <= end)
        penalised = in_sector & (slope > min_slope_deg)
    out = np.where(penalised, float(factor), 1.0)
    out = np.where(np.isnan(slope), np.nan, out)
    return out.astype("float32")
