"""Benchmark of ``siting.energy.pvyield.simulate_yield`` against a loop of ``pvlib.modelchain.ModelChain``.

Both paths get identical inputs: the same sites, the same hourly GHI/DNI/DHI (the synthesis of
``siting.energy.pvyield.hourly_profile``), the same ambient temperature and wind, and the same solar position
(ModelChain is given the model's own Spencer-1971 solar position through a ``Location`` subclass,
so the comparison isolates the vectorised implementation from the choice of solar position
algorithm). ModelChain is configured as PVWatts DC + PVWatts inverter + PVWatts losses, SAPM
cell temperature (open rack glass/polymer), Hay-Davies transposition, physical IAM on the beam and
``FD`` = ``siting.model.solar.DIFFUSE_IAM`` on the diffuse.

Usage::

    python benchmarks/bench_pv.py                 # 1000 sites, ModelChain on 20 of them
    python benchmarks/bench_pv.py --sites 1000 --mc-sites 20 --threads 2 --mounting fixed
"""

from __future__ import annotations

import argparse
import os
import platform
import resource
import time
import tracemalloc

import numpy as np
import pandas as pd
import pvlib

from siting.energy import pvyield
from siting.energy.pvreference import modelchain_inputs, modelchain_yield_kwh_per_kwp
from siting.model import solar as pv
from siting.io.layers import merra2_monthly_ghi_w_m2


def sample_sites(n_sites: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Random land sites in South China (18-27N, 104-118E) with the MERRA-2 GHI of their 3° cell."""
    ghi_grid, transform, _ = merra2_monthly_ghi_w_m2()
    rng = np.random.default_rng(seed)
    lat, lon, ghi = [], [], []
    while len(lat) < n_sites:
        la, lo = rng.uniform(18, 27), rng.uniform(104, 118)
        col, row = ~transform @ (lo, la)
        values = ghi_grid[:, int(row), int(col)]
        if np.isfinite(values).all():
            lat.append(la)
            lon.append(lo)
            ghi.append(values)
    lat_deg, lon_deg = np.array(lat), np.array(lon)
    elevation_m = np.array([pvlib.location.lookup_altitude(a, o) for a, o in zip(lat_deg, lon_deg)], dtype=float)
    return lat_deg, lon_deg, elevation_m, np.array(ghi, dtype="float64")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sites", type=int, default=1000)
    parser.add_argument("--mc-sites", type=int, default=20)
    parser.add_argument("--threads", type=int, default=None)
    parser.add_argument("--block-cells", type=int, default=64)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--mounting", choices=["fixed", "single_axis"], default="fixed")
    parser.add_argument("--transposition", choices=["haydavies", "perez"], default="haydavies")
    args = parser.parse_args()

    system = pv.PVSystemSpec(mounting=args.mounting, transposition=args.transposition)
    lat, lon, elev, ghi = sample_sites(args.sites)
    axis = pv.time_axis(2019)

    # (b) vectorised: best of --repeat, then one run under tracemalloc for the peak
    pvyield.simulate_yield(lat[:8], lon[:8], elev[:8], ghi[:8], system=system)  # warm-up (imports, h5 cache)
    times, cpu_times = [], []
    for _ in range(args.repeat):
        t0, c0 = time.perf_counter(), time.process_time()
        result = pvyield.simulate_yield(lat, lon, elev, ghi, system=system, block_cells=args.block_cells,
                                   n_threads=args.threads)
        times.append(time.perf_counter() - t0)
        cpu_times.append(time.process_time() - c0)
    vec_s, vec_cpu_s = min(times), min(cpu_times)
    tracemalloc.start()
    pvyield.simulate_yield(lat, lon, elev, ghi, system=system, block_cells=args.block_cells, n_threads=args.threads)
    _, peak_bytes = tracemalloc.get_traced_memory()
    tracemalloc.stop()

    # (a) ModelChain loop on a subset
    k = min(args.mc_sites, args.sites)
    inputs = [modelchain_inputs(lat[i], lon[i], elev[i], ghi[i], system, axis) for i in range(k)]  # not timed
    mc_yield = np.empty(k)
    modelchain_yield_kwh_per_kwp(lat[0], lon[0], elev[0], *inputs[0], system)  # warm-up
    t0, c0 = time.perf_counter(), time.process_time()
    for i in range(k):
        mc_yield[i] = modelchain_yield_kwh_per_kwp(lat[i], lon[i], elev[i], *inputs[i], system)
    mc_s, mc_cpu_s = time.perf_counter() - t0, time.process_time() - c0

    # the same weather but ModelChain's own SPA solar position: the effect of the solar position algorithm
    mc_spa = np.array([modelchain_yield_kwh_per_kwp(lat[i], lon[i], elev[i], inputs[i][0], None, system)
                       for i in range(k)])
    spa_pct = 100 * (result.specific_yield_kwh_per_kwp[:k] / mc_spa - 1)
    diff_pct = 100 * (result.specific_yield_kwh_per_kwp[:k] / mc_yield - 1)
    vec_rate = args.sites / vec_s
    mc_rate = k / mc_s
    print(f"machine: {platform.platform()}, {os.cpu_count()} CPUs, Python {platform.python_version()}, "
          f"numpy {np.__version__}, pandas {pd.__version__}, pvlib {pvlib.__version__}")
    print(f"mounting {args.mounting}, transposition {args.transposition}, {args.sites} sites, "
          f"block_cells {args.block_cells}, threads {args.threads}")
    print("site  lat    lon     elev_m  modelchain_kwh_per_kwp  vectorised_kwh_per_kwp  diff_%")
    for i in range(k):
        print(f"{i:4d}  {lat[i]:5.2f}  {lon[i]:6.2f}  {elev[i]:6.0f}  {mc_yield[i]:22.2f}  "
              f"{result.specific_yield_kwh_per_kwp[i]:22.2f}  {diff_pct[i]:+9.6f}")
    print(f"max |diff| {np.abs(diff_pct).max():.6f} %  (mean {diff_pct.mean():+.6f} %)")
    print(f"vs ModelChain with its own SPA solar position (same hourly weather): max |diff| "
          f"{np.abs(spa_pct).max():.3f} % (mean {spa_pct.mean():+.3f} %)")
    print(f"ModelChain loop: {k} sites in {mc_s:.2f} s -> {mc_rate:.1f} site-years/s")
    print(f"simulate_yield: {args.sites} sites in {vec_s:.2f} s (best of {args.repeat}: "
          f"{', '.join(f'{t:.2f}' for t in times)}) -> {vec_rate:.0f} site-years/s")
    print(f"speedup {vec_rate / mc_rate:.0f}x (wall clock)")
    print(f"per CPU-second (all threads; less sensitive to other load): ModelChain {k / mc_cpu_s:.1f}, "
          f"simulate_yield {args.sites / vec_cpu_s:.0f} site-years/CPU-s, ratio "
          f"{(args.sites / vec_cpu_s) / (k / mc_cpu_s):.0f}x")
    print(f"peak traced memory of simulate_yield: {peak_bytes / 2**20:.0f} MB; "
          f"process max RSS {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB")
    print(f"mean specific yield {np.nanmean(result.specific_yield_kwh_per_kwp):.0f} kWh/kWp, "
          f"mean GHI {np.nanmean(result.ghi_kwh_per_m2_yr):.0f} kWh/m2/yr")


if __name__ == "__main__":
    main()
