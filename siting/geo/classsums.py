"""Sums per (county, class) of products of cell quantities, in one compiled pass.

:meth:`siting.geo.grid.Coverage.sums_by_class` adds, for every quantity of a technology's cost classes (usable
share, energy, cost, distance to the grid, whether it is known), ``fraction x common x quantity`` into the
(county, class) key of each classed cell. With NumPy each quantity costs a gather of the cells' positions, a
gather of its values, a product, a clean-up of NaN and a :func:`numpy.bincount`: five tile-sized passes per
quantity, some of them holding the GIL. Here every cell is visited once for all quantities.

Exactness
---------
The operations are those of the NumPy definition, in the same order and precision: the common factor read as
float64, its product with the quantity (0 where the quantity is not given), NaN counted as 0 and ±inf as ±the
largest float (as :func:`numpy.nan_to_num`), added key by key in the order of the cells (as
:func:`numpy.bincount`), the split cells' shares summed apart and added last. The sums are the same to the last
bit (``tests/test_grid.py`` holds the NumPy definition and compares the two).
"""

from __future__ import annotations

import numba
import numpy as np

_JIT = dict(nogil=True, cache=True)
_BIG = np.finfo(np.float64).max


@numba.njit(**_JIT)
def _cleaned(w):
    """``numpy.nan_to_num`` of one float64."""
    if w != w:
        return 0.0
    if w > _BIG:
        return _BIG
    if w < -_BIG:
        return -_BIG
    return w


@numba.njit(**_JIT)
def _add_products(out, keys, cells, frac, common, position, values):
    """out[q, keys[i]] += (frac[i] x) nan_to_num(common[cells[i]] x values[q, position[cells[i]]]), cell by cell;
    ``frac`` empty: whole cells."""
    for i in range(keys.size):
        c = cells[i]
        base = np.float64(common[c])
        p = position[c]
        k = keys[i]
        for q in range(values.shape[0]):
            w = _cleaned(base * (values[q, p] if p >= 0 else 0.0))
            out[q, k] += np.float64(frac[i]) * w if frac.size else w


@numba.njit(**_JIT)
def _class_sums_kernel(keys, cells, common, position, values, size, mixed_keys, mixed_cells, mixed_frac):
    out = np.zeros((values.shape[0], size))
    _add_products(out, keys, cells, mixed_frac[:0], common, position, values)
    if mixed_keys.size:  # the split cells' shares apart, added last
        extra = np.zeros_like(out)
        _add_products(extra, mixed_keys, mixed_cells, mixed_frac, common, position, values)
        out += extra
    return out


def class_sums(keys: np.ndarray, cells: np.ndarray, common: np.ndarray, position: np.ndarray,
               values: np.ndarray, size: int, mixed_keys: np.ndarray, mixed_cells: np.ndarray,
               mixed_frac: np.ndarray) -> np.ndarray:
    """Σ ``common[cell]`` x ``values[q, position[cell]]`` per key, for every quantity ``q``.

    Parameters
    ----------
    keys : numpy.ndarray of int64
        The key (``county * n_classes + class``, below ``size``) of each wholly-inside classed cell.
    cells : numpy.ndarray of int
        Those cells' flat indices into ``common`` and ``position``.
    common : numpy.ndarray of float32 or float64, flat
        The factor every quantity is multiplied by (a usable share).
    position : numpy.ndarray of int32 or int64, flat
        Where each cell's quantities lie in ``values`` (-1: not given, the quantities are 0 there).
    values : numpy.ndarray of float64, shape (quantities, given cells)
    size : int
        The number of keys.
    mixed_keys, mixed_cells, mixed_frac : numpy.ndarray
        The split cells' (cell, county) pairs that have a class: key, flat cell, share of the cell.

    Returns
    -------
    numpy.ndarray of float64, shape (quantities, size)
    """
    return _class_sums_kernel(np.asarray(keys, dtype=np.int64), np.asarray(cells, dtype=np.intp), common,
                              position, np.ascontiguousarray(values, dtype=np.float64), int(size),
                              np.asarray(mixed_keys, dtype=np.int64), np.asarray(mixed_cells, dtype=np.intp),
                              mixed_frac)
