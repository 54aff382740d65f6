"""Uncertainty draws after a run: 1,000 draws of every county's MW and GWh, and their percentiles.

For Guangxi at 1000 m (111 counties) and all of China at 10 km (2,875 counties) it runs the assessment
once (not timed as part of the draws), then times the 1,000 draws and the P10/P50/P90 columns of the counties
and of every city and province subtotal, as a run adds them (``siting.api._add_percentiles``), and measures
the memory they allocate (tracemalloc). The run's own time is printed for scale; the ratio draws/run is what to compare.

Usage::

    python benchmarks/bench_ranges.py
    python benchmarks/bench_ranges.py --draws 1000 --repeat 5
"""

from __future__ import annotations

import argparse
import importlib.metadata
import os
import platform
import statistics
import time
import tracemalloc

import numpy as np

import siting


def draws_and_percentiles(a, n: int) -> None:
    """The draws, then the percentile columns of the counties and of every subtotal row, as a run adds them."""
    from siting.api import _add_percentiles

    _add_percentiles(a.counties.copy(), a.totals.copy(), a.ranges, n, 0)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--draws", type=int, default=1000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    print(f"machine: {platform.platform()}, {os.cpu_count()} CPUs, Python {platform.python_version()}, "
          f"numpy {np.__version__}, siting {importlib.metadata.version('siting')}")
    print("region            counties  run s   draws s (median)  draws/run  draw memory MB")
    for label, region, res in (("guangxi 1000 m", "guangxi", 1000.0), ("china 10 km", "china", 10_000.0)):
        t0 = time.perf_counter()
        a = siting.assess(region, resolution_m=res, draws=0)
        run_s = time.perf_counter() - t0
        times = []
        for _ in range(args.repeat):
            t0 = time.perf_counter()
            draws_and_percentiles(a, args.draws)
            times.append(time.perf_counter() - t0)
        tracemalloc.start()
        draws_and_percentiles(a, args.draws)
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        d = statistics.median(times)
        print(f"{label:16s} {len(a.counties):9d} {run_s:6.1f} {d:17.3f} {d / run_s:10.3f} {peak / 2**20:15.0f}")


if __name__ == "__main__":
    main()
