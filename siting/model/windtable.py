"""The net wind capacity factor of every usable grid cell from the look-up table, in one compiled pass.

:func:`siting.model.wind.capacity_factor` (``method="table"``) and :func:`siting.model.wind.net_capacity_factor`
define a cell's gross capacity factor looked up in :class:`siting.model.wind.CapacityFactorTable` from its
density-adjusted mean speed and Weibull k, and the net value after losses. Done with NumPy over a tile, the usable
cells are first gathered out of each layer and then go through a dozen whole-array passes (adjusted speed,
logarithm, four gathers from the table, exponential, losses). :func:`net_capacity_factor_cells` runs the same
arithmetic cell by cell (numba) on the tile's layers as they are, and writes the result in place. The air density
factor ``(rho / 1.225)^(1/3)`` comes in computed (by NumPy, whose vectorised ``pow`` and ``cbrt`` are faster than
the math library's one value at a time).

A cell the table does not cover (a density-adjusted mean speed outside 0.5–40 m/s or k outside 1–4.5), or with a
negative speed (which the NumPy functions refuse), is not computed here but marked, so that the caller computes
it with those functions: the exact integral, or their error.

Exactness
---------
The operations are those of the NumPy functions, in the same order, so a cell's value differs from theirs only
by the last-place differences of the math library's ``log`` and ``exp`` against NumPy's own, if any (far below
the float32 of the output); ``tests/test_wind.py`` compares the two on random layers.
"""

from __future__ import annotations

import math

import numba
import numpy as np

from siting.model.wind import CapacityFactorTable

_JIT = dict(nogil=True, cache=True)


@numba.njit(**_JIT)
def _cells_kernel(usable, speed, k_layer, has_k, k_default, density, has_density, log_cf, lm0, lm_step, k0, k_step,
                  keep_wake, keep_availability, keep_electrical, out, redo):
    h, w = speed.shape
    n_k, n_m = log_cf.shape
    for i in range(h):
        for j in range(w):
            s = np.float64(speed[i, j])
            if not (usable[i, j] > 0) or not np.isfinite(s):
                continue
            k = k_default
            if has_k:
                kk = np.float64(k_layer[i, j])
                if np.isfinite(kk) and kk > 0:
                    k = kk
            d = density[i, j] if has_density else 1.0  # standard air: cbrt(1.225 / 1.225)
            if s < 0.0:
                redo[i, j] = True
                continue
            fm = (math.log(s * d) - lm0) / lm_step if s > 0.0 else -1.0
            fk = (k - k0) / k_step
            if not (fm >= 0.0 and fm < n_m - 1 and fk >= 0.0 and fk < n_k - 1):
                redo[i, j] = True
                continue
            im, ik = int(fm), int(fk)
            wm, wk = fm - im, fk - ik
            v = ((log_cf[ik, im] * (1.0 - wm) + log_cf[ik, im + 1] * wm) * (1.0 - wk)
                 + (log_cf[ik + 1, im] * (1.0 - wm) + log_cf[ik + 1, im + 1] * wm) * wk)
            out[i, j] = ((math.exp(v) * keep_wake) * keep_availability) * keep_electrical


def net_capacity_factor_cells(usable_share: np.ndarray, hub_speed_ms: np.ndarray, weibull_k: np.ndarray | None,
                              density_factor: np.ndarray | None, table: CapacityFactorTable, *, default_k: float,
                              wake_loss: float, availability_loss: float,
                              electrical_loss: float) -> tuple[np.ndarray, np.ndarray]:
    """Net capacity factor of the cells with usable land and a known hub-height mean speed.

    Parameters
    ----------
    usable_share : numpy.ndarray
        Usable share of each cell (2-D); cells with 0 are left out.
    hub_speed_ms : numpy.ndarray
        Mean wind speed at hub height, m/s (NaN: unknown, left out).
    weibull_k : numpy.ndarray or None
        Weibull k per cell; ``default_k`` where it is missing, not finite or not positive.
    density_factor : numpy.ndarray or None
        ``cbrt(air density / 1.225 kg/m³)`` per cell (float64), the factor :func:`siting.model.wind.capacity_factor`
        scales the mean speed by; None: standard air everywhere.
    table : CapacityFactorTable
        The turbine's table (:func:`siting.model.wind.capacity_factor_table`).
    default_k : float
    wake_loss, availability_loss, electrical_loss : float
        Fractional losses, as :func:`siting.model.wind.net_capacity_factor` applies them.

    Returns
    -------
    net_cf : numpy.ndarray of float32
        Net capacity factor; NaN where left out or marked in ``redo``.
    redo : numpy.ndarray of bool
        Cells to compute with :func:`siting.model.wind.capacity_factor`: outside the table or a negative speed.
    """
    shape = hub_speed_ms.shape
    out = np.full(shape, np.nan, dtype="float32")
    redo = np.zeros(shape, dtype=bool)
    _cells_kernel(np.asarray(usable_share), np.asarray(hub_speed_ms),
                  np.zeros((1, 1), dtype="float32") if weibull_k is None else np.asarray(weibull_k),
                  weibull_k is not None, float(default_k),
                  np.ones((1, 1)) if density_factor is None else np.asarray(density_factor, dtype="float64"),
                  density_factor is not None, np.ascontiguousarray(table.log_cf, dtype="float64"), table.log_mean_start,
                  table.log_mean_step, table.k_start, table.k_step, 1 - wake_loss, 1 - availability_loss,
                  1 - electrical_loss, out, redo)
    return out, redo
