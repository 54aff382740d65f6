"""Running the PV model on many resource cells: inputs looked up, cells split over threads.

:func:`siting.model.solar.simulate_yield` is the physics, for cells whose inputs are all given.
This module adds what a run needs around it: the Linke turbidity of every cell from pvlib's table
(:mod:`siting.io.irradiance`), and parallel threads over chunks of cells (NumPy releases the GIL in
its array loops). Every cell is simulated on its own, so the result does not depend on how the cells
are chunked or on the number of threads.
"""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pandas as pd

from siting.errors import SitingError
from siting.io.irradiance import linke_turbidity_monthly
from siting.model import solar
from siting.model.solar import PVSystemSpec, YieldResult

MAX_THREADS = 8


def _linke(lat_deg: np.ndarray, lon_deg: np.ndarray) -> np.ndarray:
    """Monthly Linke turbidity per cell; NaN for cells without a position (they are not simulated)."""
    lat = np.atleast_1d(np.asarray(lat_deg, dtype="float64"))
    lon = np.atleast_1d(np.asarray(lon_deg, dtype="float64"))
    out = np.full((lat.size, 12), np.nan)
    if lat.shape != lon.shape:
        return out  # the model reports the shape mismatch
    ok = np.isfinite(lat) & np.isfinite(lon) & (np.abs(lat) <= 90) & (np.abs(lon) <= 180)
    out[ok] = linke_turbidity_monthly(lat[ok], lon[ok])
    return out


def _concat(parts: list[YieldResult]) -> YieldResult:
    cat = np.concatenate
    return YieldResult(
        specific_yield_kwh_per_kwp=cat([p.specific_yield_kwh_per_kwp for p in parts]),
        capacity_factor_ac=cat([p.capacity_factor_ac for p in parts]),
        capacity_factor_dc=cat([p.capacity_factor_dc for p in parts]),
        monthly_kwh_per_kwp=cat([p.monthly_kwh_per_kwp for p in parts]),
        poa_kwh_per_m2_yr=cat([p.poa_kwh_per_m2_yr for p in parts]),
        ghi_kwh_per_m2_yr=cat([p.ghi_kwh_per_m2_yr for p in parts]),
        losses={k: cat([p.losses[k] for p in parts]) for k in parts[0].losses},
        clear_sky_scale_max=cat([p.clear_sky_scale_max for p in parts]),
    )


def simulate_yield(lat_deg: np.ndarray, lon_deg: np.ndarray, elevation_m: np.ndarray,
                   monthly_ghi_w_m2: np.ndarray, system: PVSystemSpec = PVSystemSpec(), year: int = 2019,
                   block_cells: int = 64, ambient_temperature_c: np.ndarray | float | None = None,
                   wind_speed_m_s: float = 1.0, n_threads: int | None = None) -> YieldResult:
    """Typical-year PV yield for many cells, with pvlib's Linke turbidity, in parallel threads.

    Parameters are those of :func:`siting.model.solar.simulate_yield`, without
    ``linke_turbidity`` (looked up here), plus:

    n_threads : int, optional
        Chunks of cells simulated in parallel threads; default the number of CPUs,
        at most 8. Peak memory grows with ``n_threads × block_cells`` (~1 MB per cell).

    Returns
    -------
    YieldResult
    """
    if block_cells < 1:
        raise SitingError(f"block_cells must be >= 1, got {block_cells}")
    ghi = np.asarray(monthly_ghi_w_m2, dtype="float64")
    linke = _linke(lat_deg, lon_deg)
    n = ghi.shape[0] if ghi.ndim == 2 else 1
    workers = max(1, min(n_threads or (os.cpu_count() or 1), MAX_THREADS))
    args = dict(system=system, year=year, block_cells=block_cells, wind_speed_m_s=wind_speed_m_s)
    if workers == 1 or ghi.ndim != 2 or linke.shape[0] != n or n <= block_cells:
        return solar.simulate_yield(lat_deg, lon_deg, elevation_m, ghi, linke,
                                    ambient_temperature_c=ambient_temperature_c, **args)
    solar.validate_inputs(lat_deg, lon_deg, elevation_m, ghi, ambient_temperature_c)  # errors name the whole input
    lat, lon, elev = (np.atleast_1d(np.asarray(v, dtype="float64")) for v in (lat_deg, lon_deg, elevation_m))
    temp = ambient_temperature_c
    if temp is not None and np.ndim(temp) > 0:
        temp = np.asarray(temp, dtype="float64")
        temp = temp[:, None] if temp.ndim == 1 and temp.shape[0] == n else temp
        temp = np.broadcast_to(temp, (n, 12))
    chunk = block_cells * max(1, -(-n // (block_cells * workers * 4)))  # ~4 chunks per thread
    starts = range(0, n, chunk)

    def run(s: int) -> YieldResult:
        sl = slice(s, s + chunk)
        t = temp if temp is None or np.ndim(temp) == 0 else temp[sl]
        return solar.simulate_yield(lat[sl], lon[sl], elev[sl], ghi[sl], linke[sl], ambient_temperature_c=t,
                                    **args)

    with ThreadPoolExecutor(max_workers=workers) as pool:
        return _concat(list(pool.map(run, starts)))


def hourly_profile(lat_deg: float, lon_deg: float, elevation_m: float, monthly_ghi_w_m2: np.ndarray,
                   system: PVSystemSpec = PVSystemSpec(), year: int = 2019,
                   ambient_temperature_c: np.ndarray | float | None = None,
                   wind_speed_m_s: float = 1.0) -> pd.DataFrame:
    """Hourly typical-year series of one site (:func:`siting.model.solar.hourly_profile`) with pvlib's Linke
    turbidity of the site."""
    linke = _linke(np.array([lat_deg]), np.array([lon_deg]))[0]
    return solar.hourly_profile(lat_deg, lon_deg, elevation_m, monthly_ghi_w_m2, linke, system=system, year=year,
                                ambient_temperature_c=ambient_temperature_c, wind_speed_m_s=wind_speed_m_s)
