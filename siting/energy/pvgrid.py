"""PV specific yield on the analysis grid.

The hourly model (:mod:`siting.model.solar`) runs once per *resource* cell, at the
resolution of the irradiance data (3° for the built-in MERRA-2 monthly GHI),
not once per analysis cell; the result is mapped onto the analysis grid with
nearest-neighbour lookup. Each resource cell is simulated at the mean
elevation of the analysis cells it covers inside the region.

If the scenario declares a layer ``pvout_kwh_per_kwp`` (e.g. Global Solar
Atlas PVOUT), that layer is used directly instead of simulating, and the
provenance says so.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from siting.geo import resample
from siting.geo.grid import Grid
from siting.io.layers import WGS84, merra2_monthly_ghi_w_m2

PVOUT_LAYER = "pvout_kwh_per_kwp"
# Irradiance ratios (cell GHI / its resource cell's MERRA-2 GHI) are simulated in steps of 1 %.
RATIO_STEP = 0.01


@dataclass
class GridYield:
    """How the specific yield on the grid was obtained (the values themselves are summed per tile).

    Attributes
    ----------
    method : str
        ``"simulated"`` or ``"pvout layer"``.
    detail : dict
        Resource cells simulated, losses, system parameters (for provenance).
    """

    method: str
    detail: dict


def resource_cells() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Centres and monthly GHI of the global 3° MERRA-2 resource cells (flattened).

    Returns
    -------
    lat_deg, lon_deg : numpy.ndarray
    monthly_ghi_w_m2 : numpy.ndarray, shape (n_global, 12)
    """
    monthly, transform, _ = merra2_monthly_ghi_w_m2()
    nlat, nlon = monthly.shape[1:]
    rows, cols = np.divmod(np.arange(nlat * nlon), nlon)
    lon = transform.c + (cols + 0.5) * transform.a
    lat = transform.f + (rows + 0.5) * transform.e
    return lat, lon, monthly.reshape(12, -1).T


def resource_index_on_grid(grid: Grid) -> np.ndarray:
    """Which 3° MERRA-2 cell each analysis cell falls in: flat index into :func:`resource_cells` (-1 outside)."""
    monthly, transform, _ = merra2_monthly_ghi_w_m2()
    nlat, nlon = monthly.shape[1:]
    ids = np.arange(nlat * nlon, dtype="int32").reshape(nlat, nlon)
    out = resample.nearest(ids, transform, WGS84.to_wkt(), grid, np.int32(-1))
    return out


def resource_elevations_m(grid: Grid, in_region: np.ndarray, elevation_m: np.ndarray | None) -> dict[int, float]:
    """Mean elevation (m) of each 3° resource cell over its part of the region.

    Resource cells on the grid but outside the region get the mean over all
    their grid cells, so every cell a finer grid can meet has a value.
    """
    index = resource_index_on_grid(grid)
    out: dict[int, float] = {}
    if elevation_m is None:
        return {int(c): 0.0 for c in np.unique(index[index >= 0])}
    vals = elevation_m.astype("float64")
    for mask in (index >= 0, in_region & (index >= 0)):  # the region's mean overrides the grid's
        ok = mask & np.isfinite(vals)
        used, pos = np.unique(index[ok], return_inverse=True)
        s = np.bincount(pos.reshape(-1), weights=vals[ok], minlength=used.size)
        n = np.bincount(pos.reshape(-1), minlength=used.size)
        out.update({int(c): float(v / m) for c, v, m in zip(used, s, n)})
    for c in np.unique(index[index >= 0]):
        out.setdefault(int(c), 0.0)
    return out


def simulated_yield(grid: Grid, in_region: np.ndarray, elevation_by_cell: dict[int, float], system,
                    annual_ghi_kwh_m2: np.ndarray | None = None, ratio_step: float = RATIO_STEP,
                    known: dict[int, float] | None = None, keyed: tuple | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Run the hourly PV model per resource cell and map the yield onto the grid.

    Parameters
    ----------
    grid : Grid
        The grid, or one tile of it.
    in_region : numpy.ndarray of bool
    elevation_by_cell : dict
        Elevation (m) of each 3° resource cell (:func:`resource_elevations_m`),
        taken over the whole region so that every tile gets the same values.
    system : siting.model.solar.PVSystemSpec
    annual_ghi_kwh_m2 : numpy.ndarray, optional
        A finer annual GHI layer on the grid (e.g. Global Solar Atlas). The
        MERRA-2 monthly shape of each cell is then scaled to it: cells are
        grouped by their ratio to the MERRA-2 annual total in steps of
        ``ratio_step`` and each group is simulated, so temperature and clipping
        respond to the finer irradiance.
    ratio_step : float, default RATIO_STEP (1 %)
    known : dict, optional
        Yields already simulated, by key (see below); only the others are run.
    keyed : tuple, optional
        :func:`grid_keys` of these grid, region, GHI and ratio step, when already found (several plant designs
        on one tile share them).

    Returns
    -------
    yield_kwh_per_kwp : numpy.ndarray of float32, grid shape
        NaN outside the region and where the resource is unknown.
    keys : numpy.ndarray of int64
        The (resource cell, ratio step) pairs simulated, as ``cell * 10**6 + step``
        (for :func:`simulation_detail`).
    """
    valid, have, keys, inverse = keyed if keyed is not None else grid_keys(grid, in_region, annual_ghi_kwh_m2,
                                                                             ratio_step)
    per_key_of = yields_for_keys(keys, elevation_by_cell, system, known, ratio_step)
    per_key = np.array([per_key_of[int(k)] for k in keys], dtype="float64")
    flat = np.full(grid.shape, np.nan, dtype="float32")
    vals = np.full(valid.sum(), np.nan, dtype="float32")
    vals[have] = per_key[inverse.reshape(-1)]
    flat[valid] = vals
    return flat, keys


def grid_keys(grid: Grid, in_region: np.ndarray, annual_ghi_kwh_m2: np.ndarray | None, ratio_step: float = RATIO_STEP
              ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The (resource cell, irradiance ratio step) pair of every region cell of a grid.

    Returns
    -------
    valid : numpy.ndarray of bool
        Region cells inside a resource cell.
    have : numpy.ndarray of bool
        Among ``valid`` cells, those with a finite ratio.
    keys : numpy.ndarray of int64
        The distinct pairs, as ``cell * 10**6 + step``.
    inverse : numpy.ndarray
        Index into ``keys`` of every ``have`` cell.
    """
    from siting.io.layers import annual_energy_kwh_m2

    index = resource_index_on_grid(grid)
    _, _, monthly = resource_cells()
    valid = in_region & (index >= 0)
    if annual_ghi_kwh_m2 is None:
        ratio = np.ones(valid.sum())
    else:
        merra_annual = annual_energy_kwh_m2(monthly.T)
        ratio = annual_ghi_kwh_m2[valid].astype("float64") / merra_annual[index[valid]]
        ratio = np.where(np.isfinite(ratio), np.round(ratio / ratio_step) * ratio_step, np.nan)
    cell_of = index[valid].astype("int64")
    have = np.isfinite(ratio)
    steps = np.rint(ratio[have] / ratio_step).astype("int64")  # ratio bins, well below 10^6
    keys, inverse = _unique_keys(cell_of[have], steps)
    return valid, have, keys, inverse


def yields_for_keys(keys: np.ndarray, elevation_by_cell: dict[int, float], system,
                    known: dict[int, float] | None = None, ratio_step: float = RATIO_STEP) -> dict[int, float]:
    """Specific yield (kWh/kWp) of every key; those in ``known`` are taken from it, the others simulated."""
    known = known or {}
    out = {int(k): known[int(k)] for k in keys if int(k) in known}
    todo = np.array([k for k in keys if int(k) not in known], dtype="int64")
    if todo.size:
        lat, lon, monthly = resource_cells()
        result = _simulate_keys(todo, lat, lon, monthly, elevation_by_cell, system, ratio_step)
        out.update(zip(todo.tolist(), result.specific_yield_kwh_per_kwp.astype("float64").tolist()))
    return out


def _unique_keys(cells: np.ndarray, steps: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Sorted distinct ``cell * 10**6 + step`` keys and the index of each element's key (by counting, not sorting)."""
    if cells.size == 0:
        return np.zeros(0, dtype="int64"), np.zeros(0, dtype="int64")
    c0, s0 = int(cells.min()), int(steps.min())
    span = int(steps.max()) - s0 + 1
    compact = (cells - c0) * span + (steps - s0)
    present = np.flatnonzero(np.bincount(compact))
    lut = np.zeros(present[-1] + 1, dtype="int64")
    lut[present] = np.arange(present.size)
    c, st = np.divmod(present, span)
    return (c + c0) * 1_000_000 + (st + s0), lut[compact]


def _simulate_keys(keys, lat, lon, monthly, elevation_by_cell, system, ratio_step):
    from siting.energy.pvyield import simulate_yield

    cells = keys // 1_000_000
    scale = (keys % 1_000_000) * ratio_step
    return simulate_yield(lat[cells], lon[cells], np.array([elevation_by_cell.get(int(c), 0.0) for c in cells]),
                          monthly[cells] * scale[:, None], system)


def unit_ratio_yields(elevation_by_cell: dict[int, float], system, ratio_step: float = RATIO_STEP) -> dict[int, float]:
    """Yield of every resource cell at its own MERRA-2 irradiance (ratio 1), keyed as in :func:`simulated_yield`."""
    lat, lon, monthly = resource_cells()
    keys = np.array(sorted(c * 1_000_000 + int(round(1.0 / ratio_step)) for c in elevation_by_cell), dtype="int64")
    if keys.size == 0:
        return {}
    result = _simulate_keys(keys, lat, lon, monthly, elevation_by_cell, system, ratio_step)
    return dict(zip(keys.tolist(), result.specific_yield_kwh_per_kwp.astype("float64").tolist()))


def simulation_detail(keys: np.ndarray, elevation_by_cell: dict[int, float], system, scaled: bool,
                      ratio_step: float = RATIO_STEP) -> dict:
    """Provenance of a simulated yield: method, the simulations run and the mean losses."""
    lat, lon, monthly = resource_cells()
    keys = np.unique(np.asarray(keys, dtype="int64"))
    result = _simulate_keys(keys, lat, lon, monthly, elevation_by_cell, system, ratio_step)
    cells = keys // 1_000_000
    scale = (keys % 1_000_000) * ratio_step
    method = ("simulated: hourly typical year per 3° MERRA-2 cell (siting.model.solar), mapped by nearest cell"
              if not scaled else
              "simulated: MERRA-2 monthly shape scaled to the annual GHI layer in steps of "
              f"{ratio_step:.0%}, hourly typical year per (3° cell, step) (siting.model.solar)")
    return {
        "method": method,
        "simulations": int(len(cells)),
        "resource_cells": [
            {"lat_deg": float(lat[c]), "lon_deg": float(lon[c]), "ghi_scale": round(float(k), 3),
             "elevation_m": round(float(elevation_by_cell.get(int(c), 0.0)), 1), "ghi_kwh_per_m2_yr": round(float(g), 1),
             "specific_yield_kwh_per_kwp": round(float(y), 1)}
            for c, k, g, y in zip(cells[:200], scale, result.ghi_kwh_per_m2_yr, result.specific_yield_kwh_per_kwp)
        ],
        "losses": {k: float(np.nanmean(v)) for k, v in result.losses.items()},
        # resource cells that reach the region only in slivers the 5 km elevation grid missed: simulated at 0 m
        "resource_cells_without_elevation": len({int(c) for c in cells} - set(elevation_by_cell)),
    }


def pv_system_spec(tech):
    """The :class:`siting.model.solar.PVSystemSpec` of a scenario's ``[pv]`` table (defaults where not given)."""
    from siting.model.solar import PVSystemSpec

    params = tech.system.model_dump(exclude={"source"}) if tech.system is not None else {}
    if tech.dc_ac_ratio:
        params["dc_ac_ratio"] = tech.dc_ac_ratio
    return PVSystemSpec(**params)


def pv_systems(plan) -> dict[str, tuple[str, object]]:
    """The plant design each PV technology of a plan is simulated with, and a key shared by identical designs.

    A technology with its own ``system`` table (rooftop: low tilt on roofs; fishery PV: water albedo) is
    simulated with it; one without uses ground PV's design, so agrivoltaics get ground PV's yield cell by cell.

    Returns
    -------
    dict
        Technology → (key, :class:`siting.model.solar.PVSystemSpec`).
    """
    from siting.rules.scenario import PV_TECHS

    ground = plan.tech_specs.get("pv") or plan.rules.pv
    out = {}
    for t in plan.techs:
        if t not in PV_TECHS:
            continue
        spec = plan.tech_specs[t]
        design = spec if spec.system is not None or ground is None else ground.model_copy(
            update={"dc_ac_ratio": spec.dc_ac_ratio})
        system = pv_system_spec(design)
        out[t] = (repr(system), system)
    return out
