"""Nearest-neighbour and bilinear resampling onto the analysis grid, identical in every tile.

GDAL's warper approximates the coordinate transformation piecewise along each
output scanline, so the value a cell receives can depend on the output window
it is warped in. Here the transformation is evaluated exactly on a lattice of
cell centres that is anchored to the CRS origin (every ``step``-th cell of any
grid of that resolution) and interpolated bilinearly in between, so a cell's
source position depends only on the cell. The projections used here are so
smooth that over 8 cells the interpolation error is a few millimetres.

Aggregating methods (mode, average: grid cells much larger than source
pixels) are left to GDAL, whose window dependence there is negligible.
"""

from __future__ import annotations

import functools

import numpy as np
from affine import Affine

from .grid import Grid, transformer

LATTICE_STEP = 8


def interpolate_lattice(values: np.ndarray, ri: np.ndarray, rf: np.ndarray, ci: np.ndarray,
                        cf: np.ndarray) -> np.ndarray:
    """Bilinear interpolation of lattice ``values`` at fractional lattice positions (rows ``ri + rf``, cols ``ci + cf``)."""
    along = values[:, ci] * (1.0 - cf) + values[:, ci + 1] * cf  # on the lattice rows, every column
    out = along[ri]
    out *= 1.0 - rf
    out += along[ri + 1] * rf
    return out


@functools.lru_cache(maxsize=8)
def cell_centres_in(grid: Grid, crs: str, step: int = LATTICE_STEP) -> tuple[np.ndarray, np.ndarray]:
    """Cell centres of ``grid`` in another CRS, exact on the origin-anchored lattice, bilinear in between.

    Returns read-only float64 arrays (x, y) of ``grid.shape``.
    """
    r = grid.resolution_m
    col0 = int(round(grid.transform.c / r))
    row0 = int(round(-grid.transform.f / r))
    cols = col0 + np.arange(grid.width)
    rows = row0 + np.arange(grid.height)
    c_nodes = np.arange((cols[0] // step) * step, cols[-1] + step + 1, step)
    r_nodes = np.arange((rows[0] // step) * step, rows[-1] + step + 1, step)
    xn = (c_nodes + 0.5) * r
    yn = -(r_nodes + 0.5) * r
    gx, gy = transformer(grid.crs, crs).transform(*np.meshgrid(xn, yn))
    ci, cf = np.divmod(cols - c_nodes[0], step)
    ri, rf = np.divmod(rows - r_nodes[0], step)
    cf = (cf / step)[None, :]
    rf = (rf / step)[:, None]
    x = interpolate_lattice(np.asarray(gx), ri, rf, ci, cf)
    y = interpolate_lattice(np.asarray(gy), ri, rf, ci, cf)
    x.setflags(write=False)
    y.setflags(write=False)
    return x, y


def _pixel_coords(grid: Grid, transform: Affine, crs: str) -> tuple[np.ndarray, np.ndarray]:
    """Fractional (column, row) of every cell centre in a north-up source raster."""
    x, y = cell_centres_in(grid, crs)
    return (x - transform.c) / transform.a, (y - transform.f) / transform.e


def nearest(array: np.ndarray, transform: Affine, crs: str, grid: Grid, fill) -> np.ndarray:
    """The source pixel under each cell centre (``fill`` where the centre is off the source)."""
    u, v = _pixel_coords(grid, transform, crs)
    h, w = array.shape
    with np.errstate(invalid="ignore"):
        col = np.floor(u)
        row = np.floor(v)
        ok = (col >= 0) & (col < w) & (row >= 0) & (row < h)
    out = np.full(grid.shape, fill, dtype=array.dtype)
    out[ok] = array[row[ok].astype("int64"), col[ok].astype("int64")]
    return out


def bilinear(array: np.ndarray, transform: Affine, crs: str, grid: Grid) -> np.ndarray:
    """Bilinear interpolation between the four source pixel centres around each cell centre (float32).

    Missing neighbours (NaN or off the source) are left out and the weights of
    the others renormalised, as GDAL does; NaN where the centre is off the
    source or no neighbour has data.
    """
    u, v = _pixel_coords(grid, transform, crs)
    h, w = array.shape
    with np.errstate(invalid="ignore"):
        inside = (u >= 0) & (u < w) & (v >= 0) & (v < h)
        uu, vv = u - 0.5, v - 0.5
        c0 = np.floor(uu)
        r0 = np.floor(vv)
    fu, fv = uu - c0, vv - r0
    num = np.zeros(grid.shape, dtype="float64")
    den = np.zeros(grid.shape, dtype="float64")
    src = array.astype("float64", copy=False)
    for dr, dc, wgt in ((0, 0, (1 - fv) * (1 - fu)), (0, 1, (1 - fv) * fu), (1, 0, fv * (1 - fu)), (1, 1, fv * fu)):
        rr, cc = r0 + dr, c0 + dc
        ok = inside & (rr >= 0) & (rr < h) & (cc >= 0) & (cc < w)
        val = np.full(grid.shape, np.nan)
        val[ok] = src[rr[ok].astype("int64"), cc[ok].astype("int64")]
        ok &= np.isfinite(val)
        num[ok] += wgt[ok] * val[ok]
        den[ok] += wgt[ok]
    out = np.full(grid.shape, np.nan, dtype="float32")
    good = inside & (den > 0)
    out[good] = num[good] / den[good]
    return out
