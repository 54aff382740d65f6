"""Eligibility and county sums for Guangxi at 100 m: siting against atlite, on the same layers and rules.

Layers (made by ``bench_realsize.py``, reused from ``--keep``): a patchy IGBP land cover at 0.0009°
(~100 m, EPSG:4326), a slope raster (degrees) computed from the fractal DEM at the same resolution, and
300 protected-area polygons. Rules, identical for both tools:

- land cover classes 0 (water), 2 (evergreen broadleaf forest), 13 (urban) excluded;
- slope above 25° excluded;
- protected areas excluded with a 500 m buffer.

atlite: ``ExclusionContainer(crs=<China Albers>, res=100)`` with ``add_raster`` for the land cover
(codes) and the slope (a code function), ``add_geometry(buffer=500)`` for the protected areas, and
``shape_availability`` once per county (111 calls), eligible km² = eligible pixels x 0.01 km².

siting: ``siting.assess("guangxi", tech="wind", resolution_m=100)`` with a scenario holding the same three
rules (no wind-resource layer, so no energy step; boundary cells are split by their coverage fraction).

Each tool runs in its own child process (peak RSS from ``os.wait4``); the time is that of the work
after imports: the county polygons are loaded and the module that does the work (``atlite.gis``,
``siting.api``) imported before the clock starts in both; what either imports on the way counts. (Until
2026-12-05 the siting child imported ``siting.api`` inside the clock, about 0.5 s that atlite's import of
``atlite.gis`` kept outside; the process wall time, which holds every import of both, is unchanged by it.)
The layer cache of siting is off, so both read and reproject the rasters.

    python benchmarks/bench_atlite.py --keep /tmp/realsize      # needs `pip install atlite`
"""

from __future__ import annotations

import argparse
import importlib.metadata
import json
import os
import platform
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
ORIGINAL_ENV = dict(os.environ)  # before importing siting (which sets GDAL_CACHEMAX unless given): the children's env
EXCLUDED_CLASSES = [0, 2, 13]
MAX_SLOPE_DEG = 25.0
BUFFER_M = 500.0


def make_slope(folder: Path) -> Path:
    """Slope (degrees, float32) of the benchmark DEM at its own resolution, by Horn's method."""
    import rasterio

    from siting.io.dem import slope_aspect_windows

    out = folder / "slope_100m.tif"
    if out.exists():
        return out
    dem = folder / "dem_100m.tif"
    with rasterio.open(dem) as src:
        profile = src.profile | {"dtype": "float32", "nodata": np.nan, "compress": "deflate"}
    with rasterio.open(out, "w", **profile) as dst:
        for rows, cols, slope, _ in slope_aspect_windows(dem, window_rows=1024):
            dst.write(slope.astype("float32"), 1, window=rasterio.windows.Window.from_slices(rows, cols))
    return out


def write_scenario(folder: Path, lc: Path, slope: Path, pa: Path) -> Path:
    path = folder / "atlite_rules.toml"
    path.write_text(f'''[meta]
name = "same-rules-as-atlite"
[layers.land_cover]
source = "{lc}"
kind = "categorical"
units = "IGBP class"
[layers.slope]
source = "{slope}"
kind = "continuous"
units = "degrees"
resampling = "nearest"      # as atlite: each cell takes the slope of the DEM pixel under its centre
[layers.protected]
source = "{pa}"
kind = "categorical"
units = "1 = protected"
[wind]
label = "eligible land"
capacity_density_mw_per_km2 = 3.0
utilisation = 1.0
[wind.rules.land_cover]
type = "classes"
layer = "land_cover"
exclude = {EXCLUDED_CLASSES}
source = "benchmark"
[wind.rules.slope]
type = "range"
layer = "slope"
max = {MAX_SLOPE_DEG}
source = "benchmark"
[wind.rules.protected]
type = "buffer"
layer = "protected"
classes = [1]
distance_m = {BUFFER_M}
source = "benchmark"
''', encoding="utf-8")
    return path


ATLITE_CHILD = r"""
import json, sys, time
import numpy as np
from atlite.gis import ExclusionContainer, shape_availability
import siting.io.regions as region
from siting.geo.grid import CHINA_ALBERS
sys.path.insert(0, sys.argv[5])
from bench_atlite import steep

lc, slope, pa = sys.argv[1:4]
codes = json.loads(sys.argv[4])
units = region.counties(region.resolve("guangxi"))
shapes = units.geometry.to_crs(CHINA_ALBERS)
t0 = time.perf_counter()
excluder = ExclusionContainer(crs=CHINA_ALBERS, res=100)
excluder.add_raster(lc, codes=codes, crs=4326)
excluder.add_raster(slope, codes=steep, crs=4326, nodata=-1)
excluder.add_geometry(pa, buffer=float(sys.argv[6]))
excluder.open_files()
km2 = []
for i in range(len(shapes)):
    masked, transform = shape_availability(shapes.iloc[[i]], excluder)
    km2.append(float(masked.sum()) * abs(transform.a * transform.e) / 1e6)
seconds = time.perf_counter() - t0
hwm = [int(l.split()[1]) for l in open("/proc/self/status") if l.startswith("VmHWM")][0] / 1024
print(json.dumps({"seconds": seconds, "km2": km2, "adcode": units.adcode.tolist(), "hwm_mb": hwm}))
"""

SITING_CHILD = r"""
import json, os, sys, time
import siting
import siting.api  # the module that runs the assessment, imported before the clock as atlite.gis is
import siting.io.regions as region
units = region.counties(region.resolve("guangxi"))
t0 = time.perf_counter()
a = siting.assess("guangxi", tech="wind", resolution_m=100, scenario=sys.argv[1], workers=int(sys.argv[2]) or None)
c = a.counties
seconds = time.perf_counter() - t0
hwm = [int(l.split()[1]) for l in open("/proc/self/status") if l.startswith("VmHWM")][0] / 1024
print(json.dumps({"seconds": seconds, "km2": c.usable_wind_km2.tolist(),
                  "adcode": c.adcode.tolist(), "area_km2": c.grid_area_km2.tolist(), "name": c.name_zh.tolist(),
                  "tile_seconds": a.provenance["tile_seconds"], "hwm_mb": hwm}))
"""


def steep(slope_deg):
    """atlite code function: pixels steeper than the limit are excluded."""
    return slope_deg > MAX_SLOPE_DEG


def child(code: str, args: list[str], cache_dir: Path | None = None) -> dict:
    """Run ``code`` in a child process; siting's layer cache is off unless ``cache_dir`` is given."""
    env = dict(ORIGINAL_ENV, SITING_NO_CACHE="1") if cache_dir is None else dict(ORIGINAL_ENV, SITING_CACHE=str(cache_dir))
    t0 = time.perf_counter()
    proc = subprocess.Popen([sys.executable, "-c", code, *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, env=env)
    _, status, usage = os.wait4(proc.pid, 0)
    out, err = proc.stdout.read(), proc.stderr.read()
    if status != 0:
        sys.exit(f"child failed:\n{err[-3000:]}")
    res = json.loads(out.strip().splitlines()[-1])
    res["wall_s"] = time.perf_counter() - t0
    res["peak_rss_mb"] = res["hwm_mb"]  # the child's own high-water mark (ru_maxrss would include the parent's)
    return res


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--keep", type=Path, required=True, help="folder of bench_realsize.py inputs (made if missing)")
    ap.add_argument("--workers", type=int, default=0, help="siting threads (0: all CPUs)")
    ap.add_argument("--repeat", type=int, default=1)
    ap.add_argument("--warm", action="store_true",
                    help="also time siting on a second scenario over the same layers (layer cache filled first)")
    ap.add_argument("--json", type=Path)
    args = ap.parse_args()
    sys.path.insert(0, str(HERE))
    from bench_realsize import make_inputs

    import atlite

    paths = make_inputs(args.keep)
    slope = make_slope(args.keep)
    scen = write_scenario(args.keep, paths["lc"], slope, paths["pa"])
    print(f"machine: {platform.platform()}, {os.cpu_count()} CPUs, Python {platform.python_version()}, "
          f"siting {importlib.metadata.version('siting')}, atlite {atlite.__version__}")
    runs = []
    for _ in range(args.repeat):
        at = child(ATLITE_CHILD, [str(paths["lc"]), str(slope), str(paths["pa"]), json.dumps(EXCLUDED_CLASSES),
                                  str(HERE), str(BUFFER_M)])
        si = child(SITING_CHILD, [str(scen), str(args.workers)])
        runs.append((at, si))
    at = min((r[0] for r in runs), key=lambda r: r["seconds"])
    si = min((r[1] for r in runs), key=lambda r: r["seconds"])
    warm = None
    if args.warm:
        import tempfile

        with tempfile.TemporaryDirectory(prefix="siting-bench-cache-") as cache:
            child(SITING_CHILD, [str(scen), str(args.workers)], Path(cache))  # fills the cache
            warm = min((child(SITING_CHILD, [str(scen), str(args.workers)], Path(cache))
                        for _ in range(args.repeat)), key=lambda r: r["seconds"])
    a_km2 = dict(zip(at["adcode"], at["km2"]))
    s_km2 = dict(zip(si["adcode"], si["km2"]))
    area = dict(zip(si["adcode"], si["area_km2"]))
    codes = sorted(a_km2)
    a_arr = np.array([a_km2[c] for c in codes])
    s_arr = np.array([s_km2[c] for c in codes])
    big = np.array([area[c] > 1000 for c in codes])
    rel = np.abs(s_arr - a_arr) / np.maximum(a_arr, 1e-9)
    total_rel = abs(s_arr.sum() - a_arr.sum()) / a_arr.sum()
    print(f"\n{'':<28}{'atlite':>12}{'siting':>12}{'ratio':>8}")
    print(f"{'compute s (best of %d)' % args.repeat:<28}{at['seconds']:>12.1f}{si['seconds']:>12.1f}"
          f"{at['seconds'] / si['seconds']:>8.2f}")
    print(f"{'process wall s':<28}{at['wall_s']:>12.1f}{si['wall_s']:>12.1f}{at['wall_s'] / si['wall_s']:>8.2f}")
    print(f"{'peak RSS MB':<28}{at['peak_rss_mb']:>12,.0f}{si['peak_rss_mb']:>12,.0f}"
          f"{si['peak_rss_mb'] / at['peak_rss_mb']:>8.2f}")
    if warm is not None:
        print(f"{'siting, layers cached, s':<28}{'':>12}{warm['seconds']:>12.1f}{at['seconds'] / warm['seconds']:>8.2f}"
              f"   (peak RSS {warm['peak_rss_mb']:,.0f} MB; same figures: {warm['km2'] == si['km2']})")
    print(f"{'eligible km2, total':<28}{a_arr.sum():>12,.0f}{s_arr.sum():>12,.0f}")
    area_arr = np.array([area[c] for c in codes])
    of_area = np.abs(s_arr - a_arr) / area_arr
    print(f"total difference {total_rel:.3%}; counties over 1,000 km2: {big.sum()}, largest difference "
          f"{rel[big].max():.3%} of the eligible area (median {np.median(rel[big]):.3%}), "
          f"{of_area[big].max():.3%} of the county area; all counties: largest {rel.max():.2%}")
    print(f"counties over 1,000 km2 within 1 % of atlite's eligible area: {(rel[big] <= 0.01).sum()} of {big.sum()}")
    worst = np.argsort(-np.where(big, rel, -1))[:5]
    print("largest differences (counties over 1,000 km2): " + "; ".join(
        f"{codes[k]} {dict(zip(si['adcode'], si['name']))[codes[k]]} atlite {a_arr[k]:,.1f} siting {s_arr[k]:,.1f}"
        for k in worst))
    print("siting, inside the tiles (seconds summed over tiles and threads):")
    for name, sec in sorted(si["tile_seconds"].items(), key=lambda kv: -kv[1]):
        print(f"  {name:<36} {sec:7.2f}")
    if args.json:
        args.json.write_text(json.dumps({"atlite": at, "siting": si}, indent=1))


if __name__ == "__main__":
    main()
