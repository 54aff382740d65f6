"""Each grid cell's value from a north-up source raster, nearest or bilinear, in one compiled pass per layer.

:mod:`siting.geo.resample` defines where a cell centre falls in a source raster (its coordinates from the exact
lattice, then the source's affine transformation) and what the cell takes from there: the pixel under it
(nearest) or the four pixel centres around it (bilinear, renormalised over the neighbours that have data). Done
with NumPy, a tile goes through a dozen whole-tile temporaries per layer (pixel coordinates, their floors,
fractions, flat indices, four gathers, weights). Here each cell goes through those steps once, from the cell
centres' coordinates that every layer of a tile shares.

Exactness
---------
The operations are NumPy's, in the same order and precision (float64 positions, float32 weights and values, the
plain formula when every cell has its four neighbours with data, the renormalised one otherwise), so the values
are the same to the last bit (``tests/test_resample.py``).
"""

from __future__ import annotations

import numba
import numpy as np

_JIT = dict(nogil=True, cache=True)


@numba.njit(**_JIT)
def _between_rows_kernel(along, ri, rf, out):
    rows, cols = out.shape
    for i in range(rows):
        k = ri[i]
        f = rf[i]
        for j in range(cols):
            out[i, j] = (along[k + 1, j] - along[k, j]) * f + along[k, j]


def between_lattice_rows(along: np.ndarray, ri: np.ndarray, rf: np.ndarray) -> np.ndarray:
    """Row ``i`` of the result is ``along[ri[i]] + rf[i] × (along[ri[i] + 1] - along[ri[i]])``, computed as
    :func:`siting.geo.resample.interpolate_lattice` does (the difference times the fraction, then the base).

    Parameters
    ----------
    along : numpy.ndarray
        Values on the lattice rows at every output column (2-D, float64).
    ri : numpy.ndarray of int
        Lattice row below each output row.
    rf : numpy.ndarray
        Fraction of the way to the next lattice row, per output row.

    Returns
    -------
    numpy.ndarray of float64, shape (len(ri), along.shape[1])
    """
    out = np.empty((len(ri), along.shape[1]), dtype="float64")
    _between_rows_kernel(np.ascontiguousarray(along, dtype="float64"), np.ascontiguousarray(ri, dtype="int64"),
                         np.ascontiguousarray(rf, dtype="float64").reshape(-1), out)
    return out


@numba.njit(**_JIT)
def _nearest_kernel(x, y, c, a, f, e, src, fill, out):
    h, w = src.shape
    rows, cols = x.shape
    for i in range(rows):
        for j in range(cols):
            u = np.floor((x[i, j] - c) / a)  # NaN stays NaN, and is on no pixel
            v = np.floor((y[i, j] - f) / e)
            if u >= 0 and u < w and v >= 0 and v < h:
                out[i, j] = src[int(v), int(u)]
            else:
                out[i, j] = fill


def nearest_cells(x: np.ndarray, y: np.ndarray, transform, array: np.ndarray, fill) -> np.ndarray:
    """The source pixel under each cell centre ``(x, y)`` (in the source's CRS), ``fill`` where it is off the source.

    Parameters
    ----------
    x, y : numpy.ndarray
        Cell centres in the source's CRS (2-D, float64).
    transform : affine.Affine
        The source's north-up transformation.
    array : numpy.ndarray
        Source values (2-D).
    fill : scalar
        Value of the cells off the source (cast to the source's dtype).

    Returns
    -------
    numpy.ndarray
        Shape of ``x``, dtype of ``array``.
    """
    out = np.empty(x.shape, dtype=array.dtype)
    _nearest_kernel(x, y, float(transform.c), float(transform.a), float(transform.f), float(transform.e),
                    np.ascontiguousarray(array), array.dtype.type(fill), out)
    return out


@numba.njit(**_JIT)
def _pixel_kernel(x, y, c, a, f, e, h, w, out):
    rows, cols = x.shape
    for i in range(rows):
        for j in range(cols):
            u = np.floor((x[i, j] - c) / a)
            v = np.floor((y[i, j] - f) / e)
            if u >= 0 and u < w and v >= 0 and v < h:
                out[i, j] = int(v) * w + int(u)
            else:
                out[i, j] = -1


def pixel_under_cells(x: np.ndarray, y: np.ndarray, transform, shape: tuple[int, int]) -> np.ndarray:
    """Flat index (row × width + column) of the source pixel under each cell centre ``(x, y)``; -1 off the source.

    The pixel :func:`nearest_cells` takes, for a source of ``shape`` (rows, columns) that need not be in memory.
    """
    out = np.empty(x.shape, dtype="int64")
    _pixel_kernel(x, y, float(transform.c), float(transform.a), float(transform.f), float(transform.e),
                  int(shape[0]), int(shape[1]), out)
    return out


@numba.njit(**_JIT)
def _position(x, y, c, a, f, e):
    """Pixel coordinates (u, v) of a point, as ``_pixel_coords`` and the non-finite replacement of ``bilinear``."""
    u = (x - c) / a
    v = (y - f) / e
    if not np.isfinite(u):
        u = -10.0
    if not np.isfinite(v):
        v = -10.0
    return u, v


@numba.njit(**_JIT)
def _bilinear_kernel(x, y, c, a, f, e, src, out):
    h, w = src.shape
    rows, cols = x.shape
    one = np.float32(1.0)
    # the plain formula only when every cell is on the source with its four neighbours there and every source
    # value is known (as the NumPy path decides it, over the whole tile)
    plain = True
    for i in range(rows):
        if not plain:
            break
        for j in range(cols):
            u, v = _position(x[i, j], y[i, j], c, a, f, e)
            c0 = np.floor(u - 0.5)
            r0 = np.floor(v - 0.5)
            if not (u >= 0 and u < w and v >= 0 and v < h and c0 >= 0 and c0 + 1 < w and r0 >= 0 and r0 + 1 < h):
                plain = False
                break
    if plain:
        for r in range(h):
            for q in range(w):
                if not np.isfinite(src[r, q]):
                    plain = False
                    break
            if not plain:
                break
    for i in range(rows):
        for j in range(cols):
            u, v = _position(x[i, j], y[i, j], c, a, f, e)
            inside = u >= 0 and u < w and v >= 0 and v < h
            u -= 0.5
            v -= 0.5
            cf = np.floor(u)
            rf = np.floor(v)
            fu = np.float32(u - cf)
            fv = np.float32(v - rf)
            c0, r0 = int(cf), int(rf)
            if plain:
                top = src[r0, c0] * (one - fu)
                top += src[r0, c0 + 1] * fu
                bottom = src[r0 + 1, c0] * (one - fu)
                bottom += src[r0 + 1, c0 + 1] * fu
                top *= one - fv
                bottom *= fv
                out[i, j] = top + bottom
                continue
            num = np.float32(0.0)
            den = np.float32(0.0)
            for dr in range(2):
                for dc in range(2):
                    rr, cc = r0 + dr, c0 + dc
                    if not (inside and rr >= 0 and rr < h and cc >= 0 and cc < w):
                        continue
                    val = src[rr, cc]
                    if not np.isfinite(val):
                        continue
                    wgt = (fv if dr else one - fv) * (fu if dc else one - fu)
                    num += wgt * val
                    den += wgt
            out[i, j] = num / den if inside and den > 0 else np.nan


def bilinear_cells(x: np.ndarray, y: np.ndarray, transform, array: np.ndarray) -> np.ndarray:
    """Bilinear interpolation between the four source pixel centres around each cell centre ``(x, y)`` (float32).

    Missing neighbours (NaN or off the source) are left out and the weights of the others renormalised, as GDAL
    does; NaN where the centre is off the source or no neighbour has data.

    Parameters
    ----------
    x, y : numpy.ndarray
        Cell centres in the source's CRS (2-D, float64).
    transform : affine.Affine
        The source's north-up transformation.
    array : numpy.ndarray
        Source values (2-D; taken as float32).

    Returns
    -------
    numpy.ndarray of float32
    """
    out = np.empty(x.shape, dtype="float32")
    _bilinear_kernel(x, y, float(transform.c), float(transform.a), float(transform.f), float(transform.e),
                     np.ascontiguousarray(array, dtype="float32"), out)
    return out
