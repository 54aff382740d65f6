"""Each grid cell's bilinear value from a north-up source raster, in one compiled pass per layer.

:mod:`siting.geo.resample` defines where a cell centre falls in a source raster (its coordinates from the exact
lattice, then the source's affine transformation) and what bilinear resampling takes from there: the four pixel
centres around it, renormalised over the neighbours that have data. Done with NumPy, a tile goes through a dozen
whole-tile temporaries per layer (pixel coordinates, their floors, fractions, flat indices, four gathers,
weights). Here each cell goes through those steps once, from the cell centres' coordinates that every layer of a
tile shares.

Exactness
---------
The operations are those of the NumPy definition, in the same order and precision (float64 positions, float32
weights and values, the plain formula when every cell has its four neighbours with data, the renormalised one
otherwise), so the values are the same to the last bit (``tests/test_resample.py`` holds the definition and
compares the two).
"""

from __future__ import annotations

import numba
import numpy as np

_JIT = dict(nogil=True, cache=True)


@numba.njit(**_JIT)
def _position(x, y, c, a, f, e):
    """Pixel coordinates (u, v) of a point, as :func:`siting.geo.resample._pixel_coords` gives them, with
    coordinates the projection could not reach (non-finite) put off the source."""
    u = (x - c) / a
    v = (y - f) / e
    if not np.isfinite(u):
        u = -10.0
    if not np.isfinite(v):
        v = -10.0
    return u, v


@numba.njit(**_JIT)
def _all_finite(src):
    h, w = src.shape
    for r in range(h):
        for q in range(w):
            if not np.isfinite(src[r, q]):
                return False
    return True


@numba.njit(**_JIT)
def _plain_kernel(x, y, c, a, f, e, src, out):
    """The plain formula, cell by cell; False as soon as a cell is off the source or lacks one of its four
    neighbours (``out`` is then partly written and must be computed again by the general formula)."""
    h, w = src.shape
    rows, cols = x.shape
    one = np.float32(1.0)
    for i in range(rows):
        for j in range(cols):
            u, v = _position(x[i, j], y[i, j], c, a, f, e)
            if not (u >= 0 and u < w and v >= 0 and v < h):
                return False
            u -= 0.5
            v -= 0.5
            cf = np.floor(u)
            rf = np.floor(v)
            if not (cf >= 0 and cf + 1 < w and rf >= 0 and rf + 1 < h):
                return False
            fu = np.float32(u - cf)
            fv = np.float32(v - rf)
            c0, r0 = int(cf), int(rf)
            top = src[r0, c0] * (one - fu)
            top += src[r0, c0 + 1] * fu
            bottom = src[r0 + 1, c0] * (one - fu)
            bottom += src[r0 + 1, c0 + 1] * fu
            top *= one - fv
            bottom *= fv
            out[i, j] = top + bottom
    return True


@numba.njit(**_JIT)
def _general_kernel(x, y, c, a, f, e, src, out):
    """The formula renormalised over the neighbours on the source with data, cell by cell."""
    h, w = src.shape
    rows, cols = x.shape
    one = np.float32(1.0)
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
            out[i, j] = num / den if den > 0 else np.nan  # nothing was added for a centre off the source


@numba.njit(**_JIT)
def _bilinear_kernel(x, y, c, a, f, e, src, out):
    # the plain formula only when every cell is on the source with its four neighbours there and every source
    # value is known (as the NumPy path decides it, over the whole tile); tried in one pass, which stops at the
    # first cell that does not qualify
    if _all_finite(src) and _plain_kernel(x, y, c, a, f, e, src, out):
        return
    _general_kernel(x, y, c, a, f, e, src, out)


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
