"""What the economics add to a run: Guangxi at 100 m on the real-size synthetic rasters, with and without.

Two runs of ``benchmarks/bench_realsize.py``'s inputs (a fractal DEM and land cover of real size, 300 protected
areas, the built-in irradiance), each in a child process: the reference with ``[economics] enabled = false``,
and the same with economics on and a synthetic grid: 37 jittered power lines over Guangxi (north-south trunks
every 60 km, east-west lines every 30 km, about 27,000 km), distance-transformed once for the whole grid at
500 m (``siting.io.griddist``), then LCOE, grid parity and the supply curve's cost classes per cell for every
PV mode. Printed: wall time, peak memory and their ratios to the reference.

    python benchmarks/bench_economics.py                       # temp folder, 100 m
    python benchmarks/bench_economics.py --keep DIR --resolution 100
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_realsize import BBOX, make_inputs, run_child, write_scenario  # noqa: E402

SPACING_DEG = 0.135  # about 15 km: trunks every 4 spacings, east-west lines every 2


def make_lines(folder: Path) -> Path:
    """A jittered lattice of power lines over the bounding box (GeoPackage, EPSG:4326)."""
    import geopandas as gpd
    import shapely

    path = folder / "grid_lines.gpkg"
    if path.exists():
        return path
    rng = np.random.default_rng(5)
    west, south, east, north = BBOX
    lines = []
    for x in np.arange(west, east, SPACING_DEG * 4):  # north-south trunks, every 60 km
        ys = np.linspace(south, north, 60)
        lines.append(shapely.LineString(np.c_[x + np.cumsum(rng.normal(0, 0.01, ys.size)), ys]))
    for y in np.arange(south, north, SPACING_DEG * 2):  # east-west lines, every 30 km
        xs = np.linspace(west, east, 80)
        lines.append(shapely.LineString(np.c_[xs, y + np.cumsum(rng.normal(0, 0.01, xs.size))]))
    gpd.GeoDataFrame({"voltage": rng.choice(["110000", "220000", "35 kV", ""], len(lines))},
                     geometry=lines, crs="EPSG:4326").to_file(path)
    return path


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--keep", type=Path, help="folder for the synthetic inputs (kept and reused)")
    ap.add_argument("--resolution", type=float, default=100.0)
    args = ap.parse_args()
    folder = args.keep or Path(tempfile.mkdtemp(prefix="siting-econ-"))
    t = time.perf_counter()
    paths = make_inputs(folder)
    lines = make_lines(folder)
    print(f"inputs in {folder} ({time.perf_counter() - t:.0f} s to make or find)")
    base = write_scenario(folder, paths).read_text(encoding="utf-8")
    off = folder / "economics_off.toml"
    off.write_text(base + "\n[economics]\nenabled = false\n", encoding="utf-8")
    on = folder / "economics_on.toml"
    on.write_text(base + f'\n[layers.grid_lines]\nsource = "{lines}"\nkind = "categorical"\nunits = "line"\n'
                  '\n[economics]\nvoltage_column = "voltage"\n', encoding="utf-8")
    print(f"machine: {platform.platform()}, {os.cpu_count()} CPUs, Python {platform.python_version()}, "
          f"{time.strftime('%Y-%m-%d')}")
    ref = run_child(args.resolution, off)
    econ = run_child(args.resolution, on)
    print(f"\n{'run':>22} {'wall s':>8} {'peak RSS MB':>12} {'time x':>7} {'mem x':>6} {'PV GWp':>8}")
    for name, r in (("economics off", ref), ("economics + grid", econ)):
        print(f"{name:>22} {r['wall_s']:>8.1f} {r['peak_rss_mb']:>12,.0f} {r['wall_s'] / ref['wall_s']:>7.2f} "
              f"{r['peak_rss_mb'] / ref['peak_rss_mb']:>6.2f} {r['pv_gw']:>8,.1f}")
    print("\nsteps of the economics run (wall s):")
    marks = econ["marks"]
    for i, (name, t0) in enumerate(marks[:-1]):
        print(f"  {name:<30} {marks[i + 1][1] - t0:7.2f}")
    print("inside the tiles, economics run (s summed over tiles and threads):")
    for name, sec in sorted(econ["tile_seconds"].items(), key=lambda kv: -kv[1])[:12]:
        print(f"  {name:<30} {sec:7.2f}")


if __name__ == "__main__":
    main()
