"""County sums: siting's coverage-fraction zonal sums against exactextract on the same raster.

Both compute Σ value × (share of the cell inside the county) per county. exactextract measures the
share exactly from the polygon geometry; siting measures it by supersampling each boundary cell
(``siting.geo.grid.county_coverage``) once per grid, then sums any number of rasters with two bincounts.
The benchmark burns Guangxi's 111 real counties onto an Albers grid, writes a random raster on that grid
to a GeoTIFF, and times, in the same process:

- siting: building the coverage (once) and one zonal sum;
- exactextract ``sum`` with the default feature-sequential strategy (polygons in the raster's CRS).

It prints the largest relative difference per county (over counties larger than 100 cells), the total
difference and the time ratio. Needs ``pip install exactextract``.

    python benchmarks/bench_zonal.py --resolution 250
"""

from __future__ import annotations

import argparse
import os
import platform
import tempfile
import time
from pathlib import Path

import numpy as np


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--resolution", type=float, default=250.0, help="grid cell size in metres")
    ap.add_argument("--region", default="guangxi")
    args = ap.parse_args()

    import rasterio
    from exactextract import exact_extract

    from siting.io import regions as region
    from siting.geo.grid import CHINA_ALBERS, county_coverage, make_grid, supersample_factor

    units = region.counties(args.region)
    projected = units.geometry.to_crs(CHINA_ALBERS)
    grid = make_grid(tuple(projected.total_bounds), args.resolution)
    rng = np.random.default_rng(1)
    values = rng.random(grid.shape, dtype="float32")
    folder = Path(tempfile.mkdtemp(prefix="siting-zonal-"))
    tif = folder / "values.tif"
    with rasterio.open(tif, "w", driver="GTiff", width=grid.width, height=grid.height, count=1, dtype="float32",
                       crs=CHINA_ALBERS, transform=grid.transform, tiled=True, blockxsize=512, blockysize=512) as dst:
        dst.write(values, 1)
    polys = units.set_geometry(projected)[["adcode", "geometry"]]

    t = time.perf_counter()
    cov = county_coverage(list(projected), grid)
    t_cov = time.perf_counter() - t
    t = time.perf_counter()
    ours = cov.zonal_sum(values)
    t_sum = time.perf_counter() - t

    t = time.perf_counter()
    theirs = exact_extract(str(tif), polys, "sum", include_cols=["adcode"], output="pandas")
    t_ee = time.perf_counter() - t
    theirs = theirs.set_index("adcode").loc[units.adcode, "sum"].to_numpy()

    big = cov.zonal_sum(np.ones(grid.shape)) > 100
    rel = np.abs(ours - theirs) / np.maximum(np.abs(theirs), 1e-9)
    print(f"machine: {platform.platform()}, {os.cpu_count()} CPUs, Python {platform.python_version()}")
    print(f"{args.region}: {len(units)} counties, grid {grid.width} x {grid.height} = {grid.width * grid.height:,} "
          f"cells at {args.resolution:g} m, supersampling {supersample_factor(args.resolution)}x per side")
    print(f"max relative difference per county (>100 cells): {rel[big].max():.2e}; median {np.median(rel[big]):.2e}")
    print(f"total: siting {ours.sum():,.1f}, exactextract {theirs.sum():,.1f}, "
          f"difference {abs(ours.sum() - theirs.sum()) / theirs.sum():.2e}")
    print(f"time: siting coverage {t_cov:.2f} s + sum {t_sum:.3f} s = {t_cov + t_sum:.2f} s; "
          f"exactextract {t_ee:.2f} s; ratio exactextract / siting = {t_ee / (t_cov + t_sum):.2f} "
          f"(each further raster: {t_ee / t_sum:,.0f}x)")


if __name__ == "__main__":
    main()
