"""Benchmark of ``siting.model.wind.capacity_factor`` against a naive per-cell quadrature loop.

Random cells: mean hub-height wind speed 3-9 m/s, Weibull k 1.6-2.6, air density
1.1-1.225 kg/m³ (seeded). The vectorised, blocked exact integral runs on all cells; the
reference, ``scipy.integrate.quad`` of the interpolated power curve times
``scipy.stats.weibull_min.pdf`` cell by cell (split at the curve's breakpoints), runs on the
first ``--ref-cells`` cells in the same process and is extrapolated linearly. The largest
difference between the two on those cells is printed as a check.

Usage::

    python benchmarks/bench_wind.py                        # 10^6 cells, 2 turbines, quad on 200
    python benchmarks/bench_wind.py --cells 200000 --ref-cells 100 --turbines iea-3.4mw-130
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
import resource
import time
import tracemalloc

import numpy as np
import scipy
from scipy import integrate, special, stats

from siting.io import turbines
from siting.model import wind


def sample_cells(n_cells: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    return rng.uniform(3, 9, n_cells), rng.uniform(1.6, 2.6, n_cells), rng.uniform(1.1, 1.225, n_cells)


def quad_cf(curve: wind.PowerCurve, mean_ms: float, k: float, air_density_kg_m3: float) -> float:
    """One cell by adaptive quadrature (the reference)."""
    scale_ms = mean_ms / special.gamma(1 + 1 / k)
    ratio = (air_density_kg_m3 / wind.STANDARD_AIR_DENSITY_KG_M3) ** (1 / 3)
    dist = stats.weibull_min(k, scale=scale_ms)
    edges = np.concatenate([[0.0], curve.speed_ms / ratio])
    total = 0.0
    for lo, hi in zip(edges[:-1], edges[1:]):
        total += integrate.quad(lambda v: curve.power_at_kw(v * ratio) * dist.pdf(v), lo, hi, limit=100)[0]
    return total / curve.rated_power_kw


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cells", type=int, default=1_000_000)
    parser.add_argument("--ref-cells", type=int, default=200)
    parser.add_argument("--block-cells", type=int, default=wind.DEFAULT_BLOCK_CELLS)
    parser.add_argument("--turbines", default="nrel-2023-bespoke-3.3mw-148,enercon-e141-4200")
    parser.add_argument("--repeat", type=int, default=1)
    args = parser.parse_args()

    mean_ms, k, rho = sample_cells(args.cells)
    print(
        f"machine: {platform.platform()}, {os.cpu_count()} CPUs, Python {platform.python_version()}, "
        f"numpy {np.__version__}, scipy {scipy.__version__}, date {dt.date.today().isoformat()}"
    )
    print(f"cells: {args.cells}, block_cells: {args.block_cells}, reference cells (quad): {args.ref_cells}")
    header = (
        "| turbine | curve points | bends | vectorised s | cells/s | quad s/cell | quad cells/s | speed-up | "
        "peak traced MB | max abs diff |"
    )
    print(header)
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    tables = []
    for name in args.turbines.split(","):
        curve = turbines.load_turbine(name).power_curve
        bends = int(wind._breakpoints(curve).moment_mask.sum())
        times = []
        for _ in range(args.repeat):
            tracemalloc.start()
            start = time.perf_counter()
            cf = wind.capacity_factor(mean_ms, k, curve, rho, block_cells=args.block_cells)
            times.append(time.perf_counter() - start)
            _, peak_bytes = tracemalloc.get_traced_memory()
            tracemalloc.stop()
        vec_s = min(times)
        n_ref = min(args.ref_cells, args.cells)
        start = time.perf_counter()
        ref = np.array([quad_cf(curve, mean_ms[i], k[i], rho[i]) for i in range(n_ref)])
        quad_s_per_cell = (time.perf_counter() - start) / n_ref
        diff = float(np.max(np.abs(ref - cf[:n_ref])))
        vec_rate = args.cells / vec_s
        quad_rate = 1 / quad_s_per_cell
        print(
            f"| {name} | {curve.speed_ms.size} | {bends} | {vec_s:.2f} | {vec_rate:,.0f} | {quad_s_per_cell * 1e3:.1f} ms | "
            f"{quad_rate:,.0f} | {vec_rate / quad_rate:,.0f} | {peak_bytes / 1e6:.0f} | {diff:.1e} |"
        )
        # the look-up table (siting.model.wind.capacity_factor_table) against the exact vectorised integral
        wind._TABLES.clear()  # build the table afresh: its time is reported
        start = time.perf_counter()
        wind.capacity_factor_table(curve)
        build_s = time.perf_counter() - start
        table_times = []
        for _ in range(max(args.repeat, 3)):
            start = time.perf_counter()
            fast = wind.capacity_factor(mean_ms, k, curve, rho, method="table")
            table_times.append(time.perf_counter() - start)
        big = cf >= 0.01
        rel = float(np.max(np.abs(fast[big] - cf[big]) / cf[big])) if big.any() else float("nan")
        tables.append(f"| {name} | {build_s:.2f} | {min(table_times):.3f} | {args.cells / min(table_times):,.0f} | "
                      f"{vec_s / min(table_times):,.0f} | {rel:.1e} | {float(np.max(np.abs(fast - cf))):.1e} |")
    print("\nlook-up table against the exact integral (same cells):")
    print("| turbine | table build s | look-up s | cells/s | speed-up | max rel diff (CF >= 1 %) | max abs diff |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    for line in tables:
        print(line)
    print(f"max RSS of the process: {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB")


if __name__ == "__main__":
    main()
