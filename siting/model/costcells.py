"""Each cell's LCOE at the mid, low and high costs and its cost class, in compiled loops.

:func:`siting.model.cost.lcoe_cny_per_kwh` defines a plant's LCOE and :func:`siting.engine.sums.cost_class` a cell's
cost class (its LCOE bin and whether it pays against its county's tariff at each of the three costs). Done with
NumPy on the candidate cells of a tile, that is some twenty whole-array passes (three LCOEs, their masks, the bin
search, three tariff gathers and comparisons, the class arithmetic). Here each cell goes through them once.

Exactness
---------
Only additions, multiplications, divisions and comparisons, in the order of the NumPy functions: the values
are the same to the last bit (``tests/test_economics.py``).
"""

from __future__ import annotations

import numba
import numpy as np

from siting.model.cost import capital_recovery_factor, discounted_energy_factor

_JIT = dict(nogil=True, cache=True)


@numba.njit(**_JIT)
def _lcoe_kernel(capex, fom_annuity, energy_factor, energy, connection, connectable, out):
    for j in range(energy.size):
        if not connectable[j]:
            for e in range(capex.size):
                out[e, j] = np.nan
            continue
        for e in range(capex.size):
            cost = (capex[e] + connection[j]) + fom_annuity[e]
            x = energy[j] * energy_factor[e]
            if x > 0:
                out[e, j] = cost / x
            elif np.isnan(x):
                out[e, j] = np.nan
            else:
                out[e, j] = np.inf


def lcoe_at_three_costs(costs, discount_rates, energy_kwh_per_kw_yr: np.ndarray, connection_cny_per_kw: np.ndarray,
                        connectable: np.ndarray) -> np.ndarray:
    """LCOE (CNY/kWh) of each cell at three sets of costs, as :func:`siting.model.cost.lcoe_cny_per_kwh`.

    Parameters
    ----------
    costs : sequence of 3 objects
        Each with ``capex_cny_per_kw``, ``fixed_om_cny_per_kw_yr``, ``lifetime_yr`` and ``degradation_per_yr``
        (the mid, low and high costs).
    discount_rates : sequence of 3 float
    energy_kwh_per_kw_yr : numpy.ndarray
        First-year net energy per kW of each cell (1-D).
    connection_cny_per_kw : numpy.ndarray
        Cost of the line to the grid, added to the capex (1-D).
    connectable : numpy.ndarray of bool
        Cells that can be connected; the others get NaN.

    Returns
    -------
    numpy.ndarray
        Shape (3, cells): the LCOE at each set of costs; ``inf`` where the energy is 0 or less.
    """
    capex = np.array([float(c.capex_cny_per_kw) for c in costs])
    fom_annuity = np.array([float(np.asarray(c.fixed_om_cny_per_kw_yr, dtype="float64")
                                  * (1.0 / capital_recovery_factor(r, c.lifetime_yr)))
                            for c, r in zip(costs, discount_rates)])
    factor = np.array([discounted_energy_factor(r, c.lifetime_yr, c.degradation_per_yr)
                       for c, r in zip(costs, discount_rates)])
    energy = np.ascontiguousarray(energy_kwh_per_kw_yr, dtype="float64")
    out = np.empty((len(costs), energy.size))
    _lcoe_kernel(capex, fom_annuity, factor, energy, np.ascontiguousarray(connection_cny_per_kw, dtype="float64"),
                 np.ascontiguousarray(connectable, dtype=bool), out)
    return out


@numba.njit(**_JIT)
def _class_kernel(lcoe, pos, zone, tariffs, bins, out, onto, scatter):
    # without scatter, column pos[j] goes to out[j] in county zone[j]; with it, column j goes to out[onto[j]] in
    # county zone[onto[j]]: one loop body for both uses, written out (a helper called per cell made it 9x slower)
    n = onto.size if scatter else pos.size
    for j in range(n):
        p = j if scatter else pos[j]
        k = onto[j] if scatter else j
        mid = lcoe[0, p]
        if not np.isfinite(mid):
            out[k] = -1
            continue
        b = 0  # np.digitize with increasing bins: how many bins are at or below the value
        while b < bins.size and bins[b] <= mid:
            b += 1
        t = tariffs[zone[k]] if zone[k] >= 0 else np.nan
        out[k] = b * 8 + 4 * (mid <= t) + 2 * (lcoe[1, p] <= t) + (lcoe[2, p] <= t)


def cost_classes(lcoe: np.ndarray, positions: np.ndarray, zone: np.ndarray, tariff_cny_per_kwh: np.ndarray,
                 lcoe_bins_cny_per_kwh) -> np.ndarray:
    """Cost class (:func:`siting.engine.sums.cost_class`) of the cells ``positions`` of ``lcoe`` in counties ``zone``.

    Parameters
    ----------
    lcoe : numpy.ndarray
        Shape (3, cells), from :func:`lcoe_at_three_costs` (mid, low, high).
    positions : numpy.ndarray of int
        Columns of ``lcoe`` to class.
    zone : numpy.ndarray of int
        The county index each is counted in (-1: none, so it pays nowhere).
    tariff_cny_per_kwh : numpy.ndarray
        Tariff per county index (NaN: unknown, pays nowhere).
    lcoe_bins_cny_per_kwh : sequence of float
        Increasing edges of the LCOE classes.

    Returns
    -------
    numpy.ndarray of int64
        ``bin × 8 + 4 pays_mid + 2 pays_low + pays_high``; -1 where the mid LCOE is not finite.
    """
    out = np.empty(len(positions), dtype="int64")
    _class_kernel(lcoe, np.ascontiguousarray(positions, dtype="int64"), np.ascontiguousarray(zone, dtype="int64"),
                  np.ascontiguousarray(tariff_cny_per_kwh, dtype="float64"),
                  np.asarray(lcoe_bins_cny_per_kwh, dtype="float64"), out, np.zeros(0, dtype="int64"), False)
    return out


def cost_classes_onto(lcoe: np.ndarray, cells: np.ndarray, zone_of_cell: np.ndarray, tariff_cny_per_kwh: np.ndarray,
                      lcoe_bins_cny_per_kwh, out: np.ndarray) -> None:
    """Write the cost class of column ``j`` of ``lcoe`` into ``out[cells[j]]``, counted in county
    ``zone_of_cell[cells[j]]``: :func:`cost_classes` of every column, scattered onto a tile's flat class array
    (int16) without the intermediate arrays.

    Parameters
    ----------
    lcoe : numpy.ndarray
        Shape (3, cells), from :func:`lcoe_at_three_costs`.
    cells : numpy.ndarray of int
        Flat index of each column's cell in ``out`` and ``zone_of_cell``.
    zone_of_cell : numpy.ndarray of int, flat
        The county index of every cell (-1: none).
    tariff_cny_per_kwh, lcoe_bins_cny_per_kwh
        As :func:`cost_classes`.
    out : numpy.ndarray of int16, flat
        Written at ``cells``; other cells keep their value.
    """
    if lcoe.shape[1] != len(cells):
        raise ValueError(f"{lcoe.shape[1]} LCOE columns for {len(cells)} cells")
    if len(cells) == 0:
        return
    if out.ndim != 1 or zone_of_cell.shape != out.shape or not 0 <= np.min(cells) <= np.max(cells) < out.size:
        raise ValueError(f"cells outside the flat class array of {out.size} cells (or a county array of another size)")
    _class_kernel(lcoe, np.zeros(0, dtype="int64"), zone_of_cell,
                  np.ascontiguousarray(tariff_cny_per_kwh, dtype="float64"),
                  np.asarray(lcoe_bins_cny_per_kwh, dtype="float64"), out, np.ascontiguousarray(cells, dtype="int64"), True)
