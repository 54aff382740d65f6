"""Nearest-neighbour and bilinear resampling onto the analysis grid, identical in every tile.

GDAL's warper approximates the coordinate transformation piecewise along each
output scanline, so the value a cell receives can depend on the output window
it is warped in. Here the transformation is evaluated exactly on a lattice of
cell centres that is anchored to the CRS origin (every ``step``-th cell of any
grid of that resolution, nodes at most 800 m apart) and interpolated
bilinearly in between, so a cell's source position depends only on the cell.
The interpolation error is below a thousandth of a cell (tested across China).

Aggregating methods (mode, average: grid cells larger than source pixels)
work the other way round: every source pixel's centre is carried to the grid
(exact every 8 pixels on a lattice anchored at the file's pixel (0, 0),
bilinear in between, as for the slope of a DEM) and falls in exactly one cell,
which takes the mean or the most frequent class of its pixels. A cell's value
then depends only on the pixels whose centres it contains, whatever tile it is
computed in; GDAL's warper, whose source windows and approximate transformer
follow the output window, gave different values for up to 0.1 % of the cells
(mode) and nearly every cell in the last digits (average) between tilings.
"""

from __future__ import annotations

import collections
import functools
import threading

import numpy as np
from affine import Affine

from siting.geo.grid import Grid, transformer

LATTICE_STEP = 8        # cells (or source pixels) between exact nodes, at most...
LATTICE_SPAN_M = 800.0  # ...and at most this many metres apart (coarse grids transform every cell)


def lattice_step(resolution_m: float) -> int:
    """Cells between exact lattice nodes for a grid of this resolution (1 = every cell exact)."""
    return int(max(1, min(LATTICE_STEP, LATTICE_SPAN_M // resolution_m)))


def interpolate_lattice(values: np.ndarray, ri: np.ndarray, rf: np.ndarray, ci: np.ndarray,
                        cf: np.ndarray) -> np.ndarray:
    """Bilinear interpolation of lattice ``values`` at fractional lattice positions (rows ``ri + rf``, cols ``ci + cf``).

    ``ri`` must be non-decreasing (rows in order); ``rf`` has shape (rows, 1) and ``cf`` (1, cols). Every output row
    is ``along[k] + (along[k + 1] - along[k]) * rf`` for its lattice interval ``k``; consecutive intervals that start
    on a lattice row and are equally long share their row fractions and are done in one broadcast operation (a
    handful of whole-tile operations instead of two per interval, each of which lets another thread take the GIL
    and must win it back), the same values to the last bit.
    """
    along = values[:, ci] + cf * (values[:, ci + 1] - values[:, ci])  # on the lattice rows, every column
    out = np.empty((ri.size, along.shape[1]), dtype="float64")
    starts = np.flatnonzero(np.r_[True, ri[1:] != ri[:-1]])
    ends = np.r_[starts[1:], ri.size]
    aligned = rf[starts, 0] == 0  # starts on a lattice row
    i, m = 0, starts.size
    while i < m:
        s, e = starts[i], ends[i]
        j = i
        while aligned[i] and j + 1 < m and aligned[j + 1] and ends[j + 1] - starts[j + 1] == e - s:
            j += 1
        if j > i:  # intervals i..j: the same row fractions rf[s:e]
            k0, k1 = ri[s], ri[starts[j]] + 1
            block = out[s:ends[j]].reshape(j - i + 1, e - s, -1)
            np.multiply((along[k0 + 1:k1 + 1] - along[k0:k1])[:, None, :], rf[s:e][None, :, :], out=block)
            block += along[k0:k1][:, None, :]
        else:
            k = ri[s]
            np.multiply(along[k + 1] - along[k], rf[s:e], out=out[s:e])
            out[s:e] += along[k]
        i = j + 1
    return out


_CENTRES: collections.OrderedDict = collections.OrderedDict()  # (grid, crs) -> (x, y), the last few
_CENTRES_KEPT = 4
_CENTRES_LOCK = threading.Lock()


def _origin(grid: Grid) -> tuple[int, int]:
    """The grid's first (row, column) counted from the CRS origin in cells."""
    r = grid.resolution_m
    return int(round(-grid.transform.f / r)), int(round(grid.transform.c / r))


def cell_centres_in(grid: Grid, crs: str) -> tuple[np.ndarray, np.ndarray]:
    """Cell centres of ``grid`` in another CRS, exact on the origin-anchored lattice, bilinear in between.

    A cell's coordinates depend only on the cell, so a grid inside one of the last few grids asked for (a tile
    inside the tile with its halo) is cut from that grid's arrays, to the last bit the same.

    Returns read-only float64 arrays (x, y) of ``grid.shape``.
    """
    row0, col0 = _origin(grid)
    with _CENTRES_LOCK:
        for (g, c), (x, y) in reversed(_CENTRES.items()):
            if c != crs or g.crs != grid.crs or g.resolution_m != grid.resolution_m:
                continue
            g_row0, g_col0 = _origin(g)
            dr, dc = row0 - g_row0, col0 - g_col0
            if 0 <= dr and dr + grid.height <= g.height and 0 <= dc and dc + grid.width <= g.width:
                return x[dr:dr + grid.height, dc:dc + grid.width], y[dr:dr + grid.height, dc:dc + grid.width]
    x, y = _cell_centres(grid, crs, row0, col0)
    with _CENTRES_LOCK:
        _CENTRES[(grid, crs)] = (x, y)
        while len(_CENTRES) > _CENTRES_KEPT:
            _CENTRES.popitem(last=False)
    return x, y


def _cell_centres(grid: Grid, crs: str, row0: int, col0: int) -> tuple[np.ndarray, np.ndarray]:
    r = grid.resolution_m
    step = lattice_step(r)
    cols = col0 + np.arange(grid.width)
    rows = row0 + np.arange(grid.height)
    if step == 1:  # every cell is a node: its exact coordinates (what interpolating at the nodes gives back)
        gx, gy = transformer(grid.crs, crs).transform(*np.meshgrid((cols + 0.5) * r, -(rows + 0.5) * r))
        return _read_only(np.asarray(gx, dtype="float64"), np.asarray(gy, dtype="float64"))
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
    return _read_only(x, y)


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


def _read_only(*arrays: np.ndarray) -> tuple[np.ndarray, ...]:
    for a in arrays:
        a.setflags(write=False)
    return arrays


# Several layers of a tile often share a source geometry (land cover and a slope raster on one lattice): where each
# cell falls in the source is found once for them (exactly the same arrays; read-only). Nearest resampling is a
# gather, as quick in NumPy as compiled, so runs that need nothing else compiled do not load numba.
@functools.lru_cache(maxsize=4)
def nearest_positions(grid: Grid, transform: Affine, crs: str, h: int, w: int) -> tuple[np.ndarray, np.ndarray]:
    """Flat index of the source pixel under each cell centre of ``grid`` (0 where off the source) and whether it
    is on the source, for a north-up source of ``h`` x ``w`` pixels; read-only arrays of ``grid.shape``."""
    u, v = _pixel_coords(grid, transform, crs)
    return _read_only(*_index(u, v, w, h))


def nearest(array: np.ndarray, transform: Affine, crs: str, grid: Grid, fill) -> np.ndarray:
    """The source pixel under each cell centre (``fill`` where the centre is off the source)."""
    h, w = array.shape
    idx, ok = nearest_positions(grid, transform, crs, h, w)
    out = np.take(array.reshape(-1), idx)
    out[~ok] = fill
    return out


def bilinear(array: np.ndarray, transform: Affine, crs: str, grid: Grid) -> np.ndarray:
    """Bilinear interpolation between the four source pixel centres around each cell centre (float32).

    Missing neighbours (NaN or off the source) are left out and the weights of
    the others renormalised, as GDAL does; NaN where the centre is off the
    source or no neighbour has data. The cell centres come from :func:`cell_centres_in` and the values from
    :func:`siting.geo.cellsample.bilinear_cells`, one compiled pass per layer.
    """
    from siting.geo.cellsample import bilinear_cells

    x, y = cell_centres_in(grid, crs)
    return bilinear_cells(x, y, transform, array)


def lattice_transform(to_grid, transform: Affine, rows: slice, cols: slice,
                      step: int = LATTICE_STEP) -> tuple[np.ndarray, np.ndarray]:
    """Pixel centres of a raster window in another CRS, exact on a lattice and bilinear in between.

    The transformation is evaluated exactly every ``step`` pixels, on a lattice
    anchored at the raster's pixel (0, 0), and interpolated bilinearly between
    lattice nodes. Because the lattice does not move with the window, a pixel
    gets the same coordinates whatever window it is read in. Over 8 pixels of a
    DEM the projection is so nearly linear that the interpolation error is about
    a centimetre (tested), and it is several times faster than transforming every pixel.

    Parameters
    ----------
    to_grid : pyproj.Transformer
        From the raster's CRS to the target CRS.
    transform : affine.Affine
        The whole raster's transform (north-up); ``rows`` and ``cols`` are pixels of the whole raster.

    Returns
    -------
    x, y : numpy.ndarray of float64, shape (rows, cols)
    """
    r_nodes = np.arange((rows.start // step) * step, rows.stop + step, step)
    c_nodes = np.arange((cols.start // step) * step, cols.stop + step, step)
    xn = transform.c + (c_nodes + 0.5) * transform.a
    yn = transform.f + (r_nodes + 0.5) * transform.e
    gx_n, gy_n = to_grid.transform(*np.meshgrid(xn, yn))
    r = np.arange(rows.start, rows.stop) - r_nodes[0]
    c = np.arange(cols.start, cols.stop) - c_nodes[0]
    ri, ci = r // step, c // step
    rf = ((r % step) / step)[:, None]
    cf = ((c % step) / step)[None, :]
    out = [interpolate_lattice(np.asarray(g), ri, rf, ci, cf) for g in (gx_n, gy_n)]
    return out[0], out[1]


def pixel_cells(to_grid, transform: Affine, rows: slice, cols: slice, grid: Grid
                ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The grid cell that holds each pixel centre of a raster window (:func:`lattice_transform`).

    Returns
    -------
    grow, gcol : numpy.ndarray of float64, shape (rows, cols)
        Grid row and column (whole numbers; NaN where the transformation fails).
    inside : numpy.ndarray of bool
        Whether the centre lies on the grid.
    """
    gx, gy = lattice_transform(to_grid, transform, rows, cols)
    with np.errstate(invalid="ignore"):
        gx -= grid.transform.c
        gx /= grid.resolution_m
        gcol = np.floor(gx, out=gx)
        np.subtract(grid.transform.f, gy, out=gy)
        gy /= grid.resolution_m
        grow = np.floor(gy, out=gy)
        inside = (gcol >= 0) & (gcol < grid.width) & (grow >= 0) & (grow < grid.height)
    return grow, gcol, inside


MODE_TABLE_CELLS = 32_000_000  # above cells × classes, the mode is found by sorting instead of a count table


def aggregate(array: np.ndarray, transform: Affine, crs: str, grid: Grid, how: str, fill,
              offset: tuple[int, int] = (0, 0), block_rows: int = 512) -> np.ndarray:
    """Mean (``how="average"``) or most frequent value (``how="mode"``) of the source pixels whose centres lie
    in each cell, the same in every tile.

    Parameters
    ----------
    array : numpy.ndarray
        A window of a north-up source raster; NaN (float) or ``fill`` (integer classes) is no data and left out.
    transform : affine.Affine
        The window's transform.
    crs : str
        The source's CRS.
    grid : Grid
    how : {"average", "mode"}
    fill
        Value of cells without a valid pixel (NaN, or the class no-data code).
    offset : (int, int)
        Row and column of the window's first pixel in the whole file: pixel centres are carried to the grid on a
        lattice anchored at the file's pixel (0, 0), so that they do not depend on the window.
    block_rows : int, default 512
        Source rows handled at a time (memory).

    Returns
    -------
    numpy.ndarray of ``grid.shape``
        float32 for ``average``, ``array``'s dtype for ``mode`` (ties go to the smallest class). A cell that
        contains no pixel centre at all (a grid about as fine as the source) takes the pixel under its centre.
    """
    if how not in ("average", "mode"):
        raise ValueError(f"how must be 'average' or 'mode', not {how!r}")
    h, w = array.shape
    r_off, c_off = offset
    whole = transform * Affine.translation(-c_off, -r_off)  # the file's transform (pixel (0, 0) of the file)
    to_grid = transformer(crs, grid.crs)
    n = grid.width * grid.height
    rows = _source_rows_cols(transform, crs, grid, h, w)
    if how == "mode":
        valid_all = array != fill
        codes = np.unique(array[valid_all]) if valid_all.any() else np.zeros(0, dtype=array.dtype)
        k = max(1, codes.size)
        table = n * k <= MODE_TABLE_CELLS
        counts = np.zeros(n * k, dtype="int64") if table else None
        keys_seen: list[np.ndarray] = []
    else:
        total = np.zeros(n, dtype="float64")
        count = np.zeros(n, dtype="int64")
    (r0, r1), (c0, c1) = rows
    for b0 in range(r0, r1, block_rows):
        b1 = min(b0 + block_rows, r1)
        grow, gcol, ok = pixel_cells(to_grid, whole, slice(b0 + r_off, b1 + r_off), slice(c0 + c_off, c1 + c_off),
                                     grid)
        vals = array[b0:b1, c0:c1]
        ok &= (vals != fill) if how == "mode" else np.isfinite(vals)
        idx = grow[ok].astype("int64") * grid.width + gcol[ok].astype("int64")
        v = vals[ok]
        if how == "average":
            total += np.bincount(idx, weights=v.astype("float64"), minlength=n)
            count += np.bincount(idx, minlength=n)
            continue
        key = idx * k + np.searchsorted(codes, v)
        if table:
            counts += np.bincount(key, minlength=n * k)
        else:
            keys_seen.append(key)
    if how == "average":
        out = np.full(n, np.nan, dtype="float64")
        np.divide(total, count, out=out, where=count > 0)
        out = out.astype("float32")
        empty = count == 0
    else:
        out = np.full(n, fill, dtype=array.dtype)
        if table:
            per = counts.reshape(n, k)
            best = per.argmax(axis=1)
            has = per[np.arange(n), best] > 0
            out[has] = codes[best[has]]
        elif keys_seen:
            uniq, cnt = np.unique(np.concatenate(keys_seen), return_counts=True)
            cell, cls = np.divmod(uniq, k)
            order = np.lexsort((cls, -cnt, cell))  # per cell: most pixels first, then the smallest class
            first = np.unique(cell[order], return_index=True)[1]
            pick = order[first]
            out[cell[pick]] = codes[cls[pick]]
            has = np.zeros(n, dtype=bool)
            has[cell[pick]] = True
        else:
            has = np.zeros(n, dtype=bool)
        empty = ~has
    out = out.reshape(grid.shape)
    empty = empty.reshape(grid.shape)
    if empty.any():  # cells with no pixel centre inside: the pixel under the centre (cells on no data stay fill)
        under = nearest(array, transform, crs, grid, fill)
        out[empty] = under[empty]
    return out


def _source_rows_cols(transform: Affine, crs: str, grid: Grid, h: int, w: int) -> tuple[tuple[int, int], tuple[int, int]]:
    """Rows and columns of the source window whose pixel centres can fall in the grid (with a pixel's margin)."""
    from rasterio.warp import transform_bounds

    try:
        left, bottom, right, top = transform_bounds(grid.crs, crs, *grid.bounds, densify_pts=21)
    except Exception:
        return (0, h), (0, w)
    if not np.all(np.isfinite([left, bottom, right, top])):
        return (0, h), (0, w)
    inv = ~transform
    c_a, r_a = inv * (left, top)
    c_b, r_b = inv * (right, bottom)
    c0, c1 = int(np.floor(min(c_a, c_b))) - 1, int(np.ceil(max(c_a, c_b))) + 1
    r0, r1 = int(np.floor(min(r_a, r_b))) - 1, int(np.ceil(max(r_a, r_b))) + 1
    return (max(0, r0), min(h, max(0, r1))), (max(0, c0), min(w, max(0, c1)))
