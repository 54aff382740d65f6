"""Each DEM pixel's slope-rule outcome as one byte, and those bytes summed per grid cell, in compiled loops.

:func:`siting.model.terrain.horn_slope_aspect` and :func:`siting.model.terrain.aspect_factor` define a pixel's
slope, aspect and north-facing weight on whole arrays; a rule keeps a pixel when its slope is at most the rule's
maximum, weighted by the aspect factor when the rule has one. Done with NumPy, a 1024 × 2048 block of elevations
goes through some twenty full-size temporaries (gradients, slope, aspect, the factor, the pass marks and their
weights) before it is summed per cell. Here the same arithmetic runs pixel by pixel in one pass (numba), and what
leaves the pass is one byte per pixel in the layout of :mod:`siting.io.slopecodes` (bit 7 known, bit 0 has a
slope, bit ``1 + 2k`` rule ``k`` passes, bit ``2 + 2k`` its north-facing factor applies), which
:func:`sum_codes` then adds up per cell.

Exactness
---------
The gradients are computed with the operations of ``_horn_gradients`` in the same order (no fused
multiply-adds), so they are the same to the last bit. The slope test ``slope_deg <= max`` is made on the squared
gradient against ``tan²(max)``, and only pixels within a relative 1e-9 of that bound take the arctangent of
``horn_slope_aspect``; the aspect (an ``arctan2``) is computed only for pixels that pass and are steeper than
the factor's minimum slope. A pixel's outcome can therefore differ from the NumPy path's only where its slope or
aspect lies within a few units in the last place of a bound (the two use different ``arctan`` implementations),
which does not happen on real or synthetic elevations; the tests compare the two on random surfaces.

The per-cell sums add each pixel's weight in row-major order into a fresh array per block, as ``np.bincount``
does, so the cell totals are the same to the last bit as the NumPy path's.
"""

from __future__ import annotations

import math

import numba
import numpy as np

# numba compiles on first use and keeps the machine code beside this file (or in its user cache folder when
# the package folder is read-only)
_JIT = dict(nogil=True, cache=True)

_BAND = 1e-9  # relative distance to a bound within which the slope is compared in degrees, as NumPy does
_DEG_PER_RAD = 180.0 / np.pi


@numba.njit(**_JIT)
def _slope_le(g2, t2, bound_deg):
    """slope_deg <= bound_deg for a squared gradient g2 (t2 = tan²(bound))."""
    if g2 < t2 * (1.0 - _BAND):
        return True
    if g2 > t2 * (1.0 + _BAND):
        return False
    return math.atan(math.sqrt(g2)) * _DEG_PER_RAD <= bound_deg


@numba.njit(**_JIT)
def _aspect_deg(dzdx, dzdy):
    """The compass direction of the downhill gradient in [0, 360); NaN where flat (as ``_aspect_deg``)."""
    if dzdx == 0.0 and dzdy == 0.0:
        return np.nan
    out = math.atan2(-dzdx, -dzdy) * _DEG_PER_RAD
    if out < 0.0:
        out += 360.0
    if out >= 360.0:
        out = 0.0
    return out


@numba.njit(**_JIT)
def _codes_kernel(z, dx, dy_span, r0, r1, c0, c1, max_deg, max_t2, has_filter, min_deg, min_t2, start_deg,
                  end_deg, out):
    h, w = z.shape
    n_rules = max_deg.size
    for i in range(r0, r1):
        for j in range(c0, c1):
            code = 0x80
            if 0 < i < h - 1 and 0 < j < w - 1:
                a, b, c = z[i - 1, j - 1], z[i - 1, j], z[i - 1, j + 1]
                d, e, f = z[i, j - 1], z[i, j], z[i, j + 1]
                g, hh, ii = z[i + 1, j - 1], z[i + 1, j], z[i + 1, j + 1]
                dzdx = (c - a) / dx[i - 1]
                dzdx += ((f - d) * 2.0) / dx[i]
                dzdx += (ii - g) / dx[i + 1]
                dzdx /= 8.0
                dzdy = ((b * 2.0 + a) + c) - ((hh * 2.0 + g) + ii)
                dzdy /= dy_span[i]
                g2 = dzdx * dzdx
                g2 += dzdy * dzdy
                if not (math.isnan(e) or math.isnan(g2)):
                    code |= 0x01
                    for k in range(n_rules):
                        if not _slope_le(g2, max_t2[k], max_deg[k]):
                            continue
                        code |= 1 << (1 + 2 * k)
                        if has_filter[k] and not _slope_le(g2, min_t2[k], min_deg[k]):
                            aspect = _aspect_deg(dzdx, dzdy)
                            if start_deg[k] <= end_deg[k]:
                                in_sector = aspect >= start_deg[k] and aspect <= end_deg[k]
                            else:
                                in_sector = aspect >= start_deg[k] or aspect <= end_deg[k]
                            if in_sector:
                                code |= 1 << (2 + 2 * k)
            out[i - r0, j - c0] = code


def slope_codes(elevation_m: np.ndarray, cell_size_x_m: np.ndarray, cell_size_y_m: np.ndarray,
                inner: tuple[slice, slice], rules: list[dict]) -> np.ndarray:
    """The outcome byte of each pixel of ``elevation_m[inner]`` under the slope rules (the module's layout).

    Parameters
    ----------
    elevation_m : numpy.ndarray of float64, shape (rows, cols)
        Elevations in metres, NaN where missing; a pixel on its outer ring has no slope (so read the wanted
        pixels with a ring of neighbours, as :func:`siting.model.terrain.horn_slope_aspect` needs).
    cell_size_x_m, cell_size_y_m : numpy.ndarray of float64, shape (rows,)
        East-west and north-south pixel sizes of each row, in metres.
    inner : (slice, slice)
        The pixels wanted, with explicit starts and stops.
    rules : list of dict
        At most three, each ``{"max_slope_deg": float}`` and, for a north-facing factor, ``"min_slope_deg"``,
        ``"north_sector_deg"`` (start, end) and ``"factor"`` (the keywords of
        :func:`siting.model.terrain.aspect_factor`).

    Returns
    -------
    numpy.ndarray of uint8, shape of ``elevation_m[inner]``
        Bit 7 set; bit 0 where the pixel has a slope; bit ``1 + 2k`` where rule ``k`` passes (slope ≤ max); bit
        ``2 + 2k`` where it passes and its factor applies (steeper than the minimum, aspect in the sector, and
        a factor other than 1).
    """
    z = np.ascontiguousarray(elevation_m, dtype="float64")
    if z.ndim != 2:
        raise ValueError("elevation_m must be a 2-D array")
    if not 0 < len(rules) <= 3:
        raise ValueError("one to three rules fit in a byte")
    rows = z.shape[0]
    dx = np.ascontiguousarray(np.broadcast_to(np.asarray(cell_size_x_m, dtype="float64").reshape(-1), (rows,)))
    dy = np.ascontiguousarray(np.broadcast_to(np.asarray(cell_size_y_m, dtype="float64").reshape(-1), (rows,)))
    # the north-south span of row i's stencil, as _horn_gradients forms it
    span = np.full(rows, np.nan)
    if rows >= 3:
        span[1:-1] = 4.0 * (0.5 * dy[:-2] + dy[1:-1] + 0.5 * dy[2:])
    rs, cs = inner
    max_deg = np.array([float(r["max_slope_deg"]) for r in rules])
    filt = [r.get("factor") is not None and float(np.float32(r["factor"])) != 1.0 for r in rules]
    min_deg = np.array([float(r.get("min_slope_deg", 0.0)) for r in rules])
    sector = [tuple(float(v) % 360.0 for v in r.get("north_sector_deg", (0.0, 0.0))) for r in rules]
    out = np.empty((rs.stop - rs.start, cs.stop - cs.start), dtype="uint8")
    _codes_kernel(z, dx, span, rs.start, rs.stop, cs.start, cs.stop, max_deg, _tan2(max_deg),
                  np.array(filt, dtype=np.bool_), min_deg, _tan2(min_deg),
                  np.array([s[0] for s in sector]), np.array([s[1] for s in sector]), out)
    return out


def _tan2(deg: np.ndarray) -> np.ndarray:
    return np.tan(np.radians(deg)) ** 2


@numba.njit(**_JIT)
def _bounds_kernel(codes, cell, sentinel):
    lo, hi = sentinel, -1  # sentinel: an int
    h, w = codes.shape
    for i in range(h):
        for j in range(w):
            c = cell[i, j]
            if (codes[i, j] & 1) and c < sentinel:
                k = int(c)
                if k < lo:
                    lo = k
                if k > hi:
                    hi = k
    return lo, hi


@numba.njit(**_JIT)
def _sum_kernel(codes, cell, lo, sentinel, row_area, weighted, tables, total, passed):
    h, w = codes.shape
    n_rules = tables.shape[0]
    for i in range(h):
        area = row_area[i] if weighted else 1.0
        for j in range(w):
            code = codes[i, j]
            c = cell[i, j]
            if (code & 1) == 0 or not c < sentinel:
                continue
            k = int(c) - lo
            total[k] += area
            for r in range(n_rules):
                if code & (1 << (1 + 2 * r)):
                    passed[r, k] += tables[r, code] * area


def sum_codes(codes: np.ndarray, cell: np.ndarray, n_cells: int, weights: np.ndarray,
              row_area_m2: np.ndarray | None) -> tuple[int, np.ndarray, np.ndarray] | None:
    """Per grid cell, the weight of a block's pixels that have a slope and of those that pass each rule.

    Parameters
    ----------
    codes : numpy.ndarray of uint8, shape (rows, cols)
        Outcome bytes (:func:`slope_codes`).
    cell : numpy.ndarray of float64, shape (rows, cols)
        Each pixel's flat grid cell (a whole number), ``n_cells`` where it lies off the grid.
    n_cells : int
    weights : numpy.ndarray of float64, shape (n_rules, 256)
        Per rule, a passing pixel's weight by its byte: 1, or the north-facing factor where bit ``2 + 2k`` is set.
    row_area_m2 : numpy.ndarray of float64, shape (rows,), or None
        Each row's pixel area, to weight the pixels by it (longitude/latitude DEMs); None counts pixels.

    Returns
    -------
    (lo, total, passed) or None
        The smallest cell with a counted pixel, then per cell from ``lo`` on the summed area (or count) of the
        pixels with a slope and, per rule, of those that pass times their weight, each added in row-major pixel
        order; None when no pixel has a slope on the grid.
    """
    codes = np.ascontiguousarray(codes)
    cell = np.ascontiguousarray(cell, dtype="float64")
    lo, hi = _bounds_kernel(codes, cell, int(n_cells))
    if hi < lo:
        return None
    tables = np.ascontiguousarray(weights, dtype="float64")
    total = np.zeros(hi - lo + 1)
    passed = np.zeros((tables.shape[0], hi - lo + 1))
    area = np.zeros(codes.shape[0]) if row_area_m2 is None else np.ascontiguousarray(row_area_m2, dtype="float64")
    _sum_kernel(codes, cell, lo, int(n_cells), area, row_area_m2 is not None, tables, total, passed)
    return lo, total, passed


def byte_weights(rules: list[dict]) -> np.ndarray:
    """Per rule, a passing pixel's weight for each of the 256 bytes: the factor where the rule's penalty bit is
    set (as :func:`siting.model.terrain.aspect_factor` gives it: float32, then float64), else 1.

    Returns
    -------
    numpy.ndarray of float64, shape (len(rules), 256)
    """
    table = np.ones((len(rules), 256), dtype="float64")
    codes = np.arange(256)
    for k, rule in enumerate(rules):
        if rule.get("factor") is not None:
            table[k, (codes & (1 << (2 + 2 * k))) != 0] = float(np.float32(rule["factor"]))
    return table


def decode_codes(codes: np.ndarray, weights: np.ndarray) -> tuple[np.ndarray, list[np.ndarray], list[np.ndarray]]:
    """``(has_slope, passes, weights)`` per pixel from outcome bytes: bool, one bool array per rule, and per rule
    the weight of each pixel were it to pass (``weights`` of :func:`byte_weights`)."""
    has_slope = (codes & 1).astype(bool)
    passes = [(codes & (1 << (1 + 2 * k))).astype(bool) for k in range(weights.shape[0])]
    return has_slope, passes, [np.take(weights[k], codes) for k in range(weights.shape[0])]
