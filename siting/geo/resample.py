"""Nearest-neighbour and bilinear resampling onto the analysis grid, identical in every tile.

GDAL's warper approximates the coordinate transformation piecewise along each
output scanline, so the value a cell receives can depend on the output window
it is warped in. Here the transformation is evaluated exactly on a lattice of
cell centres that is anchored to the CRS origin (every ``step``-th cell of any
grid of that resolution, nodes at most 800 m apart) and interpolated
bilinearly in between, so a cell's source position depends only on the cell.
The interpolation error is below a thousandth of a cell (tested across China).

Aggregating methods (mode, average: grid cells much larger than source
pixels) are left to GDAL, whose window dependence there is negligible.
"""

from __future__ import annotations

import functools

import numpy as np
from affine import Affine

from siting.geo.grid import Grid, transformer

LATTICE_STEP = 8        # cells between exact nodes, at most...
LATTICE_SPAN_M = 800.0  # ...and at most this many metres apart (coarse grids transform every cell)


def lattice_step(resolution_m: float) -> int:
    """Cells between exact lattice nodes for a grid of this resolution (1 = every cell exact)."""
    return int(max(1, min(LATTICE_STEP, LATTICE_SPAN_M // resolution_m)))


def interpolate_lattice(values: np.ndarray, ri: np.ndarray, rf: np.ndarray, ci: np.ndarray,
                        cf: np.ndarray) -> np.ndarray:
    """Bilinear interpolation of lattice ``values`` at fractional lattice positions (rows ``ri + rf``, cols ``ci + cf``).

    ``ri`` must be non-decreasing (rows in order); ``rf`` has shape (rows, 1) and ``cf`` (1, cols).
    """
    along = values[:, ci] + cf * (values[:, ci + 1] - values[:, ci])  # on the lattice rows, every column
    out = np.empty((ri.size, along.shape[1]), dtype="float64")
    starts = np.flatnonzero(np.r_[True, ri[1:] != ri[:-1]])
    for s, e in zip(starts, np.r_[starts[1:], ri.size]):  # one block of rows per lattice interval
        k = ri[s]
        np.multiply(along[k + 1] - along[k], rf[s:e], out=out[s:e])
        out[s:e] += along[k]
    return out


@functools.lru_cache(maxsize=4)
def cell_centres_in(grid: Grid, crs: str) -> tuple[np.ndarray, np.ndarray]:
    """Cell centres of ``grid`` in another CRS, exact on the origin-anchored lattice, bilinear in between.

    Returns read-only float64 arrays (x, y) of ``grid.shape``.
    """
    r = grid.resolution_m
    step = lattice_step(r)
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
    u = x - transform.c
    u /= transform.a
    v = y - transform.f
    v /= transform.e
    return u, v


def _index(u: np.ndarray, v: np.ndarray, w: int, h: int) -> tuple[np.ndarray, np.ndarray]:
    """Flat source index of the pixel containing (u, v) and whether it is on the source (overwrites u, v)."""
    with np.errstate(invalid="ignore"):
        np.floor(u, out=u)
        np.floor(v, out=v)
        ok = (u >= 0) & (u < w) & (v >= 0) & (v < h)
    v *= w
    v += u
    v[~ok] = 0
    return v.astype("int64"), ok


def nearest(array: np.ndarray, transform: Affine, crs: str, grid: Grid, fill) -> np.ndarray:
    """The source pixel under each cell centre (``fill`` where the centre is off the source)."""
    u, v = _pixel_coords(grid, transform, crs)
    h, w = array.shape
    idx, ok = _index(u, v, w, h)
    out = np.take(array.reshape(-1), idx)
    out[~ok] = fill
    return out


def bilinear(array: np.ndarray, transform: Affine, crs: str, grid: Grid) -> np.ndarray:
    """Bilinear interpolation between the four source pixel centres around each cell centre (float32).

    Missing neighbours (NaN or off the source) are left out and the weights of
    the others renormalised, as GDAL does; NaN where the centre is off the
    source or no neighbour has data.
    """
    u, v = _pixel_coords(grid, transform, crs)
    h, w = array.shape
    if not (np.isfinite(u).all() and np.isfinite(v).all()):  # cells the projection cannot reach
        u = np.nan_to_num(u, nan=-10.0, posinf=-10.0, neginf=-10.0)
        v = np.nan_to_num(v, nan=-10.0, posinf=-10.0, neginf=-10.0)
    inside = (u >= 0) & (u < w) & (v >= 0) & (v < h)
    u -= 0.5
    v -= 0.5
    c0 = np.floor(u)
    r0 = np.floor(v)
    fu = (u - c0).astype("float32")
    fv = (v - r0).astype("float32")
    c0 = c0.astype("int64")
    r0 = r0.astype("int64")
    src = array.astype("float32", copy=False).reshape(-1)
    if (inside.all() and c0.min() >= 0 and c0.max() + 1 < w and r0.min() >= 0 and r0.max() + 1 < h
            and np.isfinite(src).all()):  # every cell has its four neighbours: plain bilinear
        i00 = r0 * w
        i00 += c0
        top = np.take(src, i00) * (1.0 - fu)
        top += np.take(src, i00 + 1) * fu
        i00 += w
        bottom = np.take(src, i00) * (1.0 - fu)
        bottom += np.take(src, i00 + 1) * fu
        top *= 1.0 - fv
        bottom *= fv
        top += bottom
        return top
    num = np.zeros(grid.shape, dtype="float32")
    den = np.zeros(grid.shape, dtype="float32")
    for dr, dc in ((0, 0), (0, 1), (1, 0), (1, 1)):
        rr, cc = r0 + dr, c0 + dc
        ok = inside & (rr >= 0) & (rr < h) & (cc >= 0) & (cc < w)
        val = np.take(src, np.where(ok, rr * w + cc, 0))
        ok &= np.isfinite(val)
        wgt = (fv if dr else 1.0 - fv) * (fu if dc else 1.0 - fu)
        wgt[~ok] = 0.0
        val[~ok] = 0.0
        num += wgt * val
        den += wgt
    with np.errstate(invalid="ignore", divide="ignore"):
        out = num / den
    out[~inside | (den <= 0)] = np.nan
    return out
