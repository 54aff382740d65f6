"""All of China on the built-in data: wall time, peak memory and where the time goes, at several resolutions.

Runs ``siting.assess("china", resolution_m=R)`` (every technology of the preset, offshore wind on the sea of the
whole coast, 2,875 counties) in a child process per resolution, the layer cache off. The boundaries and the sea
areas are cached derived data (``siting.io.regions``): the first run of the invocation starts from an empty
cache folder and builds them (``cold``), the later runs find them (as every run after a user's first does).
The first resolution listed is the reference of the ratios.

    python benchmarks/bench_china.py                          # 10 km cold, then 10 km and 1 km warm
    python benchmarks/bench_china.py --resolutions 10000,1000,250

Peak memory is the child's own high-water mark (``VmHWM``).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

CHILD = r"""
import json, sys, time
t0 = time.perf_counter(); marks = []
import siting
a = siting.assess("china", resolution_m=float(sys.argv[1]), scheduler=None,
                  progress=lambda m: marks.append((m, time.perf_counter() - t0)))
marks.append(("done", time.perf_counter() - t0))
hwm = [int(l.split()[1]) for l in open("/proc/self/status") if l.startswith("VmHWM")][0] / 1024
c = a.counties
print(json.dumps({"hwm_mb": hwm, "marks": marks, "cells": a.provenance["grid"]["shape"],
                  "tiles": a.provenance["grid"]["tiles"], "tile_seconds": a.provenance["tile_seconds"],
                  "pv_gw": float(c.capacity_pv_mwp.sum() / 1000), "wind_gw": float(c.capacity_wind_mw.sum() / 1000),
                  "offshore_gw": float(c.get("capacity_offshore_mw", c.area_km2 * 0).sum() / 1000)}))
"""


def run_child(resolution_m: float, cache: Path) -> dict:
    env = dict(os.environ, SITING_CACHE=str(cache), SITING_NO_CACHE="1")
    t0 = time.perf_counter()
    proc = subprocess.Popen([sys.executable, "-c", CHILD, str(resolution_m)], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env=env)
    out, err = proc.communicate()
    wall = time.perf_counter() - t0
    if proc.returncode != 0:
        sys.exit(f"run at {resolution_m:g} m failed:\n{err}")
    result = json.loads(out.strip().splitlines()[-1])
    result.update(resolution_m=resolution_m, wall_s=wall)
    return result


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--resolutions", default="10000,10000,1000",
                    help="grid resolutions in metres, in order; the first runs with an empty cache (default: "
                         "10000,10000,1000)")
    ap.add_argument("--json", type=Path)
    args = ap.parse_args()
    import siting  # noqa: F401  (versions below)
    import numpy
    import shapely

    print(f"machine: {platform.platform()}, {os.cpu_count()} CPUs, Python {platform.python_version()}, "
          f"numpy {numpy.__version__}, shapely {shapely.__version__}")
    cache = Path(tempfile.mkdtemp(prefix="siting-bench-china-"))
    results = []
    try:
        for i, r in enumerate(float(x) for x in args.resolutions.split(",")):
            res = run_child(r, cache)
            res["cache"] = "cold" if i == 0 else "warm"
            results.append(res)
            print(f"  {r:g} m ({res['cache']}): {res['wall_s']:.1f} s, {res['hwm_mb']:,.0f} MB", flush=True)
    finally:
        shutil.rmtree(cache, ignore_errors=True)
    ref = results[0]
    print(f"\n{'resolution m':>12} {'cache':>6} {'grid cells':>14} {'tiles':>5} {'wall s':>8} {'peak RSS MB':>12} "
          f"{'time x':>7} {'mem x':>6} {'PV GWp':>8} {'wind GW':>8} {'offsh GW':>8}")
    for r in results:
        cells = r["cells"][0] * r["cells"][1]
        print(f"{r['resolution_m']:>12g} {r['cache']:>6} {cells:>14,} {r['tiles']:>5} {r['wall_s']:>8.1f} "
              f"{r['hwm_mb']:>12,.0f} {r['wall_s'] / ref['wall_s']:>7.2f} {r['hwm_mb'] / ref['hwm_mb']:>6.2f} "
              f"{r['pv_gw']:>8,.0f} {r['wind_gw']:>8,.0f} {r['offshore_gw']:>8,.0f}")
    for r in results:
        print(f"\nwhere the time goes at {r['resolution_m']:g} m, {r['cache']} cache (wall seconds of the steps; "
              "the sea run of offshore wind is the last, 'offshore: sea areas' to 'done'):")
        marks = r["marks"]
        for (name, t), (_, t_next) in zip(marks[:-1], marks[1:]):
            print(f"  {name:<44} {t_next - t:7.2f} s")
        print("  inside the tiles (seconds summed over tiles and threads, land and sea runs):")
        for name, sec in sorted(r["tile_seconds"].items(), key=lambda kv: -kv[1])[:12]:
            print(f"    {name:<42} {sec:7.2f} s")
    if args.json:
        args.json.write_text(json.dumps(results, indent=1))


if __name__ == "__main__":
    main()
