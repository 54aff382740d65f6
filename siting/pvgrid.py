"""PV specific yield on the analysis grid.

The hourly model (:mod:`siting.pv`) runs once per *resource* cell, at the
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
import rasterio.warp
from rasterio.enums import Resampling

from .grid import Grid
from .layers import WGS84, merra2_monthly_ghi_w_m2

PVOUT_LAYER = "pvout_kwh_per_kwp"


@dataclass
class GridYield:
    """Specific yield on the analysis grid and how it was obtained.

    Attributes
    ----------
    specific_yield_kwh_per_kwp : numpy.ndarray
        AC energy per kWp DC per year on the grid (NaN where unknown).
    method : str
        ``"simulated"`` or ``"pvout layer"``.
    detail : dict
        Resource cells simulated, losses, system parameters (for provenance).
    """

    specific_yield_kwh_per_kwp: np.ndarray
    method: str
    detail: dict


def resource_index_on_grid(grid: Grid) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Which 3° MERRA-2 cell each analysis cell falls in.

    Returns
    -------
    index : numpy.ndarray of int32, grid shape
        Flat index into the global resource grid (-1 outside).
    lat_deg, lon_deg : numpy.ndarray
        Centres of the global resource cells (flattened).
    monthly_ghi_w_m2 : numpy.ndarray, shape (n_global, 12)
    """
    monthly, transform, _ = merra2_monthly_ghi_w_m2()
    nlat, nlon = monthly.shape[1:]
    ids = np.arange(nlat * nlon, dtype="int32").reshape(nlat, nlon)
    out = np.full(grid.shape, -1, dtype="int32")
    rasterio.warp.reproject(ids, out, src_transform=transform, src_crs=WGS84, src_nodata=-1,
                            dst_transform=grid.transform, dst_crs=grid.crs, dst_nodata=-1,
                            resampling=Resampling.nearest)
    rows, cols = np.divmod(np.arange(nlat * nlon), nlon)
    lon = transform.c + (cols + 0.5) * transform.a
    lat = transform.f + (rows + 0.5) * transform.e
    return out, lat, lon, monthly.reshape(12, -1).T


def simulated_yield(grid: Grid, in_region: np.ndarray, elevation_m: np.ndarray | None, system,
                    annual_ghi_kwh_m2: np.ndarray | None = None, ratio_step: float = 0.02) -> GridYield:
    """Run the hourly PV model per resource cell and map the yield onto the grid.

    Parameters
    ----------
    grid : Grid
    in_region : numpy.ndarray of bool
    elevation_m : numpy.ndarray or None
        Elevation on the grid; resource cells use its mean over their region part.
    system : siting.pv.PVSystemSpec
    annual_ghi_kwh_m2 : numpy.ndarray, optional
        A finer annual GHI layer on the grid (e.g. Global Solar Atlas). The
        MERRA-2 monthly shape of each cell is then scaled to it: cells are
        grouped by their ratio to the MERRA-2 annual total in steps of
        ``ratio_step`` and each group is simulated, so temperature and clipping
        respond to the finer irradiance.
    """
    from .layers import annual_energy_kwh_m2
    from .pv import simulate_yield

    index, lat, lon, monthly = resource_index_on_grid(grid)
    valid = in_region & (index >= 0)
    used = np.unique(index[valid])
    elev = np.zeros(used.size, dtype="float64")
    if elevation_m is not None:
        pos = np.searchsorted(used, index[valid])
        vals = elevation_m[valid].astype("float64")
        ok = np.isfinite(vals)
        s = np.bincount(pos[ok], weights=vals[ok], minlength=used.size)
        n = np.bincount(pos[ok], minlength=used.size)
        elev = np.where(n > 0, s / np.maximum(n, 1), 0.0)
    elev_of = dict(zip(used.tolist(), elev))
    if annual_ghi_kwh_m2 is None:
        ratio = np.ones(valid.sum())
    else:
        merra_annual = annual_energy_kwh_m2(monthly.T)
        ratio = annual_ghi_kwh_m2[valid].astype("float64") / merra_annual[index[valid]]
        ratio = np.where(np.isfinite(ratio), np.round(ratio / ratio_step) * ratio_step, np.nan)
    cell_of = index[valid].astype("int64")
    have = np.isfinite(ratio)
    steps = np.rint(ratio[have] / ratio_step).astype("int64")  # ratio bins, well below 10^6
    keys, inverse = np.unique(cell_of[have] * 1_000_000 + steps, return_inverse=True)
    cells = keys // 1_000_000
    scale = (keys % 1_000_000) * ratio_step
    result = simulate_yield(lat[cells], lon[cells], np.array([elev_of[c] for c in cells]),
                            monthly[cells] * scale[:, None], system)
    flat = np.full(grid.shape, np.nan, dtype="float32")
    vals = np.full(valid.sum(), np.nan, dtype="float32")
    vals[have] = result.specific_yield_kwh_per_kwp[inverse.reshape(-1)]
    flat[valid] = vals
    method = ("simulated: hourly typical year per 3° MERRA-2 cell (siting.pv), mapped by nearest cell"
              if annual_ghi_kwh_m2 is None else
              "simulated: MERRA-2 monthly shape scaled to the annual GHI layer in steps of "
              f"{ratio_step:.0%}, hourly typical year per (3° cell, step) (siting.pv)")
    detail = {
        "method": method,
        "simulations": int(len(cells)),
        "resource_cells": [
            {"lat_deg": float(lat[c]), "lon_deg": float(lon[c]), "ghi_scale": round(float(k), 3),
             "elevation_m": round(float(elev_of[c]), 1), "ghi_kwh_per_m2_yr": round(float(g), 1),
             "specific_yield_kwh_per_kwp": round(float(y), 1)}
            for c, k, g, y in zip(cells[:200], scale, result.ghi_kwh_per_m2_yr, result.specific_yield_kwh_per_kwp)
        ],
        "losses": {k: float(np.nanmean(v)) for k, v in result.losses.items()},
    }
    return GridYield(flat, "simulated", detail)


def layer_yield(pvout: np.ndarray, path: str) -> GridYield:
    """Use a PVOUT raster (kWh/kWp/yr, e.g. Global Solar Atlas) directly."""
    return GridYield(pvout.astype("float32"), "pvout layer",
                     {"method": f"PVOUT layer used directly (no simulation): {path}"})


def pv_system_spec(tech):
    """The :class:`siting.pv.PVSystemSpec` of a scenario's ``[pv]`` table (defaults where not given)."""
    from .pv import PVSystemSpec

    params = tech.system.model_dump(exclude={"source"}) if tech.system is not None else {}
    if tech.dc_ac_ratio:
        params["dc_ac_ratio"] = tech.dc_ac_ratio
    return PVSystemSpec(**params)
