"""Resampling one tile onto the analysis grid: siting's lattice against rasterio/GDAL, exact and approximate.

For tiles of the analysis grid (512 x 512 cells at 100 m, and 64 x 64 at 1 km) over Guangxi, a lon/lat source
raster at 0.0009° (about the Copernicus DEM GLO-90 / a 100 m land cover) is resampled with

- ``lattice``: :func:`siting.geo.resample.nearest` / ``bilinear`` (exact transformation on a lattice of cell
  centres anchored to the CRS origin, bilinear in between; what the engine uses);
- ``gdal-exact``: ``rasterio.warp.reproject(..., tolerance=0)`` (every cell transformed exactly);
- ``gdal-approx``: ``rasterio.warp.reproject`` with GDAL's default 1/8-pixel approximation.

Then mode and average, for grid cells coarser than the source (1 km cells on 0.0009° and 0.0027° sources):
siting's :func:`siting.geo.resample.aggregate` (each source pixel counted in the cell that holds its centre)
against GDAL's ``mode`` / ``average`` warping.

It prints the median time per tile of each (ratios to siting's in the same run), and two checks that decide
which one the engine can use: whether a cell gets the same value when the tile is cut differently (the county
figures must not depend on the tile size), and the share of cells that differ from the exact transformation.

Usage::

    python benchmarks/bench_resample.py            # 5 repeats
    python benchmarks/bench_resample.py --repeat 9
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import time

import numpy as np
import pyproj
import rasterio
import rasterio.warp
from affine import Affine
from rasterio.crs import CRS
from rasterio.enums import Resampling

from siting.geo import resample
from siting.geo.grid import CHINA_ALBERS, make_grid

WGS84 = CRS.from_epsg(4326).to_wkt()


def source(res_deg: float, west: float, north: float, n: int, seed: int = 0):
    """A categorical (17 classes, patchy) and a smooth continuous source raster."""
    rng = np.random.default_rng(seed)
    coarse = rng.integers(0, 17, (n // 8 + 2, n // 8 + 2)).astype("uint16")
    classes = np.kron(coarse, np.ones((8, 8), dtype="uint16"))[:n, :n]
    yy, xx = np.mgrid[0:n, 0:n] / n
    smooth = (300 + 200 * np.sin(6 * xx) * np.cos(4 * yy) + rng.normal(0, 5, (n, n))).astype("float32")
    return classes, smooth, Affine(res_deg, 0, west, 0, -res_deg, north)


def gdal(arr, tr, grid, kind: str, tolerance: float | None) -> np.ndarray:
    """GDAL's warper with ``kind`` (nearest, bilinear, mode, average); class 65535 or NaN is no data."""
    fill = 65535 if arr.dtype.kind == "u" else np.nan
    dst = np.full(grid.shape, fill, dtype=arr.dtype)
    extra = {} if tolerance is None else {"tolerance": tolerance}
    rasterio.warp.reproject(arr, dst, src_transform=tr, src_crs=WGS84, src_nodata=fill, dst_transform=grid.transform,
                            dst_crs=grid.crs, dst_nodata=fill, resampling=Resampling[kind], **extra)
    return dst


def ours(arr, tr, grid, kind: str) -> np.ndarray:
    if kind == "nearest":
        return resample.nearest(arr, tr, WGS84, grid, np.uint16(65535))
    return resample.bilinear(arr, tr, WGS84, grid)


def truth_nearest(arr, tr, grid) -> np.ndarray:
    """Nearest by the exact transformation of every cell centre (pyproj), for the accuracy column."""
    xx, yy = np.meshgrid(grid.x_coords(), grid.y_coords())
    lon, lat = pyproj.Transformer.from_crs(grid.crs, "EPSG:4326", always_xy=True).transform(xx, yy)
    col, row = np.floor((lon - tr.c) / tr.a).astype(int), np.floor((lat - tr.f) / tr.e).astype(int)
    return arr[row, col]


def timed(fn, repeat: int) -> tuple[float, np.ndarray]:
    out = fn()
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times), out


def same(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return (a == b) | (np.isnan(a) & np.isnan(b)) if a.dtype.kind == "f" else a == b


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    print(f"machine: {platform.platform()}, {os.cpu_count()} CPUs, Python {platform.python_version()}, "
          f"numpy {np.__version__}, rasterio {rasterio.__version__}, GDAL {rasterio.__gdal_version__}, "
          f"pyproj {pyproj.__version__}")
    x0, y0 = pyproj.Transformer.from_crs("EPSG:4326", CHINA_ALBERS, always_xy=True).transform(108.0, 23.0)
    print("tile            method         median s  x lattice  same cell in any window  differs from exact "
          "(nearest: pyproj per cell; bilinear: gdal-exact)")
    for res_m, n_cells, res_deg in ((100.0, 512, 0.0009), (1000.0, 64, 0.009)):
        grid, inner, (r0, c0), (classes, smooth, tr) = case(x0, y0, res_m, n_cells, res_deg)
        for kind, arr in (("nearest", classes), ("bilinear", smooth)):
            t_ref, ref = timed(lambda: ours(arr, tr, grid, kind), args.repeat)
            exact = truth_nearest(arr, tr, grid) if kind == "nearest" else gdal(arr, tr, grid, kind, 0.0)
            for name, fn in (("lattice", lambda g: ours(arr, tr, g, kind)),
                             ("gdal-exact", lambda g: gdal(arr, tr, g, kind, 0.0)),
                             ("gdal-approx", lambda g: gdal(arr, tr, g, kind, None))):
                t, whole = timed(lambda: fn(grid), args.repeat)
                part = fn(inner)
                cut = whole[r0:r0 + inner.height, c0:c0 + inner.width]
                if kind == "nearest":
                    window_same = f"{same(part, cut).mean():.6f}"
                    diff = f"{(~same(whole, exact)).mean():.2e} of cells"
                else:
                    ok = np.isfinite(part) & np.isfinite(cut)
                    window_same = f"{same(part, cut).mean():.6f} (max {np.abs(part[ok] - cut[ok]).max():.1e})"
                    both = np.isfinite(whole) & np.isfinite(exact)
                    d = np.abs(whole[both] - exact[both])
                    diff = f"p99.9 {np.percentile(d, 99.9):.1e}, max {d.max():.1e} (values ~300)"
                print(f"{n_cells}x{n_cells} {res_m:g} m {kind:8s} {name:12s} {t:8.4f}  {t / t_ref:9.2f}  "
                      f"{window_same:>23s}  {diff}")
    aggregating(x0, y0, args.repeat)


def case(x0: float, y0: float, res_m: float, n_cells: int, res_deg: float):
    """A tile of ``n_cells`` x ``n_cells`` at ``res_m``, the same cells cut as another tile (``inner``, at
    offset (r0, c0)), and a lon/lat source of ``res_deg`` covering the tile with a margin."""
    grid = make_grid((x0, y0, x0 + n_cells * res_m, y0 + n_cells * res_m), res_m)
    w, s, e, nth = rasterio.warp.transform_bounds(grid.crs, "EPSG:4326", *grid.bounds)
    n_src = int(max(e - w, nth - s) / res_deg) + 40
    r0, c0 = n_cells // 14, n_cells // 10
    inner = grid.window(r0, c0, n_cells - 2 * r0, n_cells - 2 * c0)
    return grid, inner, (r0, c0), source(res_deg, w - 10 * res_deg, nth + 10 * res_deg, n_src)


def aggregating(x0: float, y0: float, repeat: int) -> None:
    """Mode and average (grid cells coarser than the source): siting's pixel-centre counts against GDAL's warper."""
    print("\naggregating (cells coarser than the source): siting counts each source pixel in the cell that holds its "
          "centre; GDAL warps")
    print("tile            method         median s  x siting  same cell in any window  agreement with the other")
    for res_m, n_cells, res_deg in ((1000.0, 128, 0.0009), (1000.0, 256, 0.0027)):
        grid, inner, (r0, c0), (classes, smooth, tr) = case(x0, y0, res_m, n_cells, res_deg)
        for how, arr, fill in (("mode", classes, np.uint16(65535)), ("average", smooth, np.float32(np.nan))):
            results = {}
            for name, fn in (("siting", lambda g: resample.aggregate(arr, tr, WGS84, g, how, fill)),
                             ("gdal", lambda g: gdal(arr, tr, g, how, None))):
                t, whole = timed(lambda: fn(grid), repeat)
                part = fn(inner)
                cut = whole[r0:r0 + inner.height, c0:c0 + inner.width]
                results[name] = (t, whole, same(part, cut).mean())
            t_ref = results["siting"][0]
            a, b = results["siting"][1], results["gdal"][1]
            if how == "mode":
                agree = f"{same(a, b).mean():.4f} of cells equal"
            else:
                d = np.abs(a - b)[np.isfinite(a) & np.isfinite(b)]
                agree = f"p99.9 {np.percentile(d, 99.9):.1e}, max {d.max():.1e} (values ~300)"
            for name in ("siting", "gdal"):
                t, _, win = results[name]
                print(f"{n_cells}x{n_cells} {res_m:g} m {how:8s} {name:8s} {t:12.4f}  {t / t_ref:8.2f}  "
                      f"{win:23.6f}  {agree}")


if __name__ == "__main__":
    main()
