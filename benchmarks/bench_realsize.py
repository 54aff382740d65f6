"""Guangxi at 100 m on real-size synthetic rasters: wall time, peak memory and where the time goes.

The built-in data is coarse, so this benchmark makes rasters of the size real data has over the real
Guangxi county boundaries, and runs the whole pipeline on them at a 100 m grid:

- a fractal DEM (sum of bilinearly upsampled noise octaves, 0.0009° ≈ 100 m, ~52 M pixels, EPSG:4326),
  from which slope is computed at its own resolution (Horn) for the PV and wind slope rules;
- a patchy IGBP land cover at the same resolution (classes by thresholds of a second noise field);
- 300 synthetic protected-area polygons (a GeoPackage), excluded with a 500 m buffer for wind;
- the built-in irradiance (PV yield is simulated per 3° cell).

Each run is a child process; its peak memory is the child's own high-water mark (``VmHWM``), plus the
workers' for the cluster run (the sum of the three peaks, an upper bound of what was held at once). Step
timings come from the pipeline's progress messages and, inside the tiles, from the seconds per stage the
engine records in the provenance (summed over tiles and threads). Compare runs made on the same machine in
the same invocation; the ratios printed are against the first run.

    python benchmarks/bench_realsize.py                 # writes inputs to a temp folder, runs 1000 m and 100 m
    python benchmarks/bench_realsize.py --keep DIR      # keep (and reuse) the synthetic inputs in DIR
    python benchmarks/bench_realsize.py --keep DIR --resolutions 1000,100 --localcluster --cached
    python benchmarks/bench_realsize.py --keep DIR --fetched   # the same data laid out as `siting fetch` leaves it
    python benchmarks/bench_realsize.py --keep DIR --resolutions 100 --wind --against REV --pairs 4
                                                        # this checkout against git revision REV, alternating

With ``--fetched`` the synthetic rasters are cut into the files `siting fetch` downloads (Copernicus DEM 1°
tiles, ESA WorldCover 3° tiles with the IGBP classes recoded to WorldCover's, the nature-reserves zip) and
registered in a ``manifest.json``; the run then uses the scenario :func:`siting.io.fetched.write_scenario`
writes for them, i.e. the path a user takes from `siting fetch` to `siting report --data`.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

BBOX = (104.4, 20.8, 112.1, 26.5)
RES_DEG = 0.0009


def value_noise(shape: tuple[int, int], octaves: int, rng: np.random.Generator, base: int = 8) -> np.ndarray:
    """Fractal value noise in [0, 1] (float32), octaves of bilinearly upsampled random grids."""
    from scipy.ndimage import zoom

    h, w = shape
    out = np.zeros(shape, dtype="float32")
    amp, total = 1.0, 0.0
    for o in range(octaves):
        n = base * 2 ** o
        coarse = rng.random((max(2, h * n // w), n)).astype("float32")
        up = zoom(coarse, (h / coarse.shape[0], w / coarse.shape[1]), order=1)[:h, :w]
        out[: up.shape[0], : up.shape[1]] += amp * up
        total += amp
        amp *= 0.55
    out /= total
    return (out - out.min()) / (out.max() - out.min())


def make_inputs(folder: Path) -> dict[str, Path]:
    """Write the DEM, land cover and protected areas (skipped if already there)."""
    import geopandas as gpd
    import rasterio
    import shapely
    from affine import Affine

    folder.mkdir(parents=True, exist_ok=True)
    paths = {"dem": folder / "dem_100m.tif", "lc": folder / "landcover_100m.tif", "pa": folder / "protected.gpkg"}
    west, south, east, north = BBOX
    w, h = int(round((east - west) / RES_DEG)), int(round((north - south) / RES_DEG))
    transform = Affine(RES_DEG, 0, west, 0, -RES_DEG, north)
    rng = np.random.default_rng(42)
    profile = {"driver": "GTiff", "width": w, "height": h, "count": 1, "crs": "EPSG:4326", "transform": transform,
               "tiled": True, "blockxsize": 512, "blockysize": 512, "compress": "deflate", "BIGTIFF": "IF_SAFER"}
    if not paths["dem"].exists():
        z = value_noise((h, w), 9, rng) ** 1.6 * 2200.0
        with rasterio.open(paths["dem"], "w", dtype="float32", **profile) as dst:
            dst.write(z.astype("float32"), 1)
        del z
    if not paths["lc"].exists():
        n = value_noise((h, w), 8, rng)
        # IGBP-like mix for Guangxi: forest, woody savanna, savanna, cropland, grass, urban, water
        edges = [0.30, 0.45, 0.55, 0.70, 0.78, 0.82, 0.84]
        classes = np.array([2, 8, 9, 12, 14, 10, 13, 0], dtype="uint8")
        lc = classes[np.searchsorted(edges, n)]
        with rasterio.open(paths["lc"], "w", dtype="uint8", nodata=255, **profile) as dst:
            dst.write(lc, 1)
        del n, lc
    if not paths["pa"].exists():
        lon = rng.uniform(west, east, 300)
        lat = rng.uniform(south, north, 300)
        r = rng.uniform(0.01, 0.08, 300)
        geoms = [shapely.Point(x, y).buffer(rr, 16) for x, y, rr in zip(lon, lat, r)]
        gpd.GeoDataFrame({"kind": np.ones(len(geoms), dtype=int)}, geometry=geoms, crs="EPSG:4326").to_file(paths["pa"])
    return paths


def make_wind(folder: Path) -> tuple[Path, Path]:
    """A Global Wind Atlas-like mean wind speed at 100 m (0.0025°, ~250 m, float32) and a Weibull k layer over
    the bounding box (skipped if already there)."""
    import rasterio
    from affine import Affine

    speed, k = folder / "wind_speed_100m.tif", folder / "weibull_k_100m.tif"
    if speed.exists() and k.exists():
        return speed, k
    res = 0.0025
    west, south, east, north = BBOX
    w, h = int(round((east - west) / res)), int(round((north - south) / res))
    rng = np.random.default_rng(11)
    profile = {"driver": "GTiff", "width": w, "height": h, "count": 1, "crs": "EPSG:4326", "dtype": "float32",
               "transform": Affine(res, 0, west, 0, -res, north), "tiled": True, "blockxsize": 512,
               "blockysize": 512, "compress": "deflate"}
    v = 4.0 + 5.0 * value_noise((h, w), 7, rng)  # 4-9 m/s, hills windier
    with rasterio.open(speed, "w", **profile) as dst:
        dst.write(v.astype("float32"), 1)
    kk = 1.6 + 1.0 * value_noise((h, w), 5, rng)
    with rasterio.open(k, "w", **profile) as dst:
        dst.write(kk.astype("float32"), 1)
    return speed, k


def write_wind_scenario(folder: Path, base: Path, speed: Path, k: Path) -> Path:
    scen = folder / "realsize_wind.toml"
    scen.write_text(base.read_text(encoding="utf-8") + f'''
[layers.wind_speed_ms]
source = "{speed}"
kind = "continuous"
units = "m/s"
height_m = 100.0
[layers.weibull_k]
source = "{k}"
kind = "continuous"
units = "1"
''', encoding="utf-8")
    return scen


def make_buildings(folder: Path, n: int, rng_seed: int = 7) -> Path:
    """``n`` square building footprints (8-60 m sides) in clusters around 400 towns over Guangxi, as GeoParquet.

    Types follow the 84号 categories (1 government, 2 public, 3 industrial/commercial, 4 residential) in
    proportions 2/8/20/70 %, and 1 % carry a code 9 the scenario does not weigh (they get the default).
    """
    import geopandas as gpd
    import shapely

    path = folder / f"buildings_{n}.parquet"
    if path.exists():
        return path
    rng = np.random.default_rng(rng_seed)
    west, south, east, north = BBOX
    towns = np.column_stack([rng.uniform(west + 0.3, east - 0.3, 400), rng.uniform(south + 0.3, north - 0.3, 400)])
    which = rng.integers(0, len(towns), n)
    spread = rng.uniform(0.005, 0.05, len(towns))[which]
    lon = towns[which, 0] + rng.normal(0.0, 1.0, n) * spread
    lat = towns[which, 1] + rng.normal(0.0, 1.0, n) * spread
    half = rng.uniform(4.0, 30.0, n) / 111_000.0  # degrees, about metres / 111 km
    geoms = shapely.box(lon - half, lat - half, lon + half, lat + half)
    kind = rng.choice([1, 2, 3, 4, 9], n, p=[0.02, 0.08, 0.2, 0.69, 0.01])
    gpd.GeoDataFrame({"type": kind}, geometry=geoms, crs="EPSG:4326").to_parquet(path)
    return path


def write_building_scenario(folder: Path, base: Path, buildings: Path) -> Path:
    scen = folder / f"realsize_{buildings.stem}.toml"
    scen.write_text(f'''extends = "{base}"
[meta]
name = "realsize-synthetic-buildings"
[layers.roof_area_share]
source = "{buildings}"
kind = "continuous"
units = "share"
aggregate = "area_share"
[layers.roof_usable_share]
source = "{buildings}"
kind = "continuous"
units = "share"
aggregate = "class_weight_mean"
value_column = "type"
class_weights = {{ 1 = 0.5, 2 = 0.4, 3 = 0.3, 4 = 0.2 }}
class_weight_default = 0.25
''', encoding="utf-8")
    return scen


def make_fine_dem(folder: Path, coarse: Path, arcsec: float = 1.0, strip_rows: int = 2048) -> Path:
    """A 1″ (~30 m) DEM over the bounding box (~570 M pixels, float32): the 0.0009° DEM interpolated bilinearly
    plus a finer octave (±15 m, ~250 m wavelength), written strip by strip so that memory stays bounded
    (skipped if already there)."""
    import rasterio
    from affine import Affine
    from scipy.ndimage import map_coordinates

    path = folder / f"dem_{arcsec:g}arcsec.tif"
    if path.exists():
        return path
    res = arcsec / 3600.0
    west, south, east, north = BBOX
    w, h = int(round((east - west) / res)), int(round((north - south) / res))
    rng = np.random.default_rng(5)
    fine = rng.random((h // 8 + 2, w // 8 + 2)).astype("float32")  # the finer octave's random grid
    profile = {"driver": "GTiff", "width": w, "height": h, "count": 1, "crs": "EPSG:4326", "dtype": "float32",
               "transform": Affine(res, 0, west, 0, -res, north), "tiled": True, "blockxsize": 512,
               "blockysize": 512, "compress": "deflate", "predictor": 3, "BIGTIFF": "YES"}
    cols = (np.arange(w) + 0.5) * res / RES_DEG - 0.5  # fine pixel centres in coarse pixel units
    with rasterio.open(coarse) as src, rasterio.open(path.with_suffix(".part.tif"), "w", **profile) as dst:
        for r0 in range(0, h, strip_rows):
            r1 = min(h, r0 + strip_rows)
            rows = (np.arange(r0, r1) + 0.5) * res / RES_DEG - 0.5
            c_r0 = max(0, int(np.floor(rows[0])))
            c_r1 = min(src.height, int(np.ceil(rows[-1])) + 2)
            z = src.read(1, window=((c_r0, c_r1), (0, src.width)))
            rr, cc = np.meshgrid(rows - c_r0, cols, indexing="ij")
            out = map_coordinates(z, [rr, cc], order=1, mode="nearest")
            fr, fc = np.meshgrid(np.arange(r0, r1) / 8.0, np.arange(w) / 8.0, indexing="ij")
            out += 30.0 * (map_coordinates(fine, [fr, fc], order=1, mode="nearest") - 0.5)
            dst.write(out.astype("float32"), 1, window=((r0, r1), (0, w)))
    path.with_suffix(".part.tif").rename(path)
    return path


def write_scenario(folder: Path, paths: dict[str, Path], name: str = "realsize.toml") -> Path:
    scen = folder / name
    scen.write_text(f'''extends = "china"
[meta]
name = "realsize-synthetic"
[layers.land_cover]
source = "{paths['lc']}"
coarse = false
[layers.slope_deg]
source = "{paths['dem']}"
kind = "continuous"
units = "degrees"
derive = "slope_deg"
[layers.protected]
source = "{paths['pa']}"
kind = "categorical"
units = "1 = protected"
[wind.rules.protected_buffer]
type = "buffer"
layer = "protected"
classes = [1]
distance_m = 500.0
source = "benchmark"
''', encoding="utf-8")
    return scen


IGBP_TO_WORLDCOVER = {2: 10, 8: 10, 9: 20, 12: 40, 14: 40, 10: 30, 13: 50, 0: 80, 255: 0}


def make_fetched_layout(folder: Path, paths: dict[str, Path]) -> Path:
    """Cut the synthetic inputs into the files `siting fetch` would leave, register them, write the scenario."""
    import zipfile

    import geopandas as gpd
    import rasterio
    from rasterio.windows import from_bounds

    from siting.io import fetch as F
    from siting.io.fetched import write_scenario
    from siting.io.regions import counties, resolve

    out = folder / "fetched"
    out.mkdir(exist_ok=True)
    region = resolve("guangxi")
    bbox = tuple(float(v) for v in counties(region).total_bounds)
    entries = []
    for ds, item in F.plan(bbox, "dem,landcover,reserves"):
        dest = out / item.path
        dest.parent.mkdir(parents=True, exist_ok=True)
        if ds.name in ("dem", "landcover") and not dest.exists():
            name = dest.name
            if ds.name == "dem":
                code_lat, code_lon = name.split("_")[4], name.split("_")[6]
                lat, lon, size = int(code_lat[1:]), int(code_lon[1:]), 1
            else:
                code = name.split("_")[5]
                lat, lon, size = int(code[1:3]), int(code[4:7]), 3
            src_path = paths["dem"] if ds.name == "dem" else paths["lc"]
            with rasterio.open(src_path) as src:
                win = from_bounds(lon, lat, lon + size, lat + size, src.transform).round_offsets().round_lengths()
                data = src.read(1, window=win, boundless=True, fill_value=0 if ds.name == "dem" else 255)
                profile = src.profile | {"width": data.shape[1], "height": data.shape[0],
                                         "transform": src.window_transform(win)}
            if ds.name == "landcover":
                lut = np.zeros(256, dtype="uint8")
                for k, v in IGBP_TO_WORLDCOVER.items():
                    lut[k] = v
                data, profile["nodata"] = lut[data], 0
            with rasterio.open(dest, "w", **profile) as dst:
                dst.write(data, 1)
        elif ds.name == "reserves" and not dest.exists():
            shp = folder / "reserves_shp"
            shp.mkdir(exist_ok=True)
            gpd.read_file(paths["pa"]).to_file(shp / "China_Nature_Reserves.shp")
            with zipfile.ZipFile(dest, "w") as zf:
                for f in sorted(shp.iterdir()):
                    zf.write(f, f"China_Nature_Reserves/{f.name}")
        entries.append(F.ManifestEntry(dataset=ds.name, url=item.url, path=item.path,
                                       size_bytes=dest.stat().st_size, sha256=F.sha256_file(dest),
                                       licence=ds.licence, resolution=ds.resolution,
                                       fetched_utc="2026-12-03T00:00:00+00:00"))
    (out / F.MANIFEST_NAME).write_text(json.dumps({"files": [e.to_dict() for e in entries]}, indent=1),
                                       encoding="utf-8")
    return write_scenario(out, region, bbox).path


CHILD = r"""
import json, sys, time
import siting
print("siting from", siting.__file__, file=sys.stderr)
t0 = time.perf_counter(); marks = []
scheduler = sys.argv[3] if sys.argv[3] != "-" else None
client = cluster = None
if scheduler == "localcluster":
    import dask
    from dask.distributed import Client, LocalCluster
    # dask starts workers with MALLOC_TRIM_THRESHOLD_=65536, which also switches off glibc's adaptive mmap
    # threshold: every array over 128 kB is then mmapped and page-faulted in afresh (2-3x slower tiles, mostly
    # system time). Keep freed memory for the next array instead, as a plain process does.
    dask.config.set({"distributed.nanny.pre-spawn-environ.MALLOC_TRIM_THRESHOLD_": 1 << 30,
                     "distributed.nanny.pre-spawn-environ.MALLOC_MMAP_THRESHOLD_": 1 << 28})
    cluster = LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None,
                           host="127.0.0.1", memory_limit="6GB")
    client = scheduler = Client(cluster)
    marks.append(("cluster start", time.perf_counter() - t0))
a = siting.assess("guangxi", resolution_m=float(sys.argv[1]), scenario=sys.argv[2], scheduler=scheduler,
                  progress=lambda m: marks.append((m, time.perf_counter() - t0)))
marks.append(("done", time.perf_counter() - t0))
hwm = [int(l.split()[1]) for l in open("/proc/self/status") if l.startswith("VmHWM")][0] / 1024
worker_hwm = []
if client is not None:
    def _hwm():
        return [int(l.split()[1]) for l in open("/proc/self/status") if l.startswith("VmHWM")][0] / 1024
    worker_hwm = list(client.run(_hwm).values())
    client.close(); cluster.close()
print(json.dumps({"hwm_mb": hwm, "worker_hwm_mb": worker_hwm, "marks": marks, "cells": a.provenance["grid"]["shape"], "tiles": a.provenance["grid"]["tiles"],
                  "tile_seconds": a.provenance["tile_seconds"],
                  "pv_gw": float(a.counties.capacity_pv_mwp.sum() / 1000),
                  "wind_gw": float(a.counties.capacity_wind_mw.sum() / 1000),
                  "rooftop_gw": float(a.counties.get("capacity_rooftop_pv_mwp", a.counties.area_km2 * 0).sum() / 1000),
                  "usable_pv_km2": a.counties.usable_pv_km2.tolist(),
                  "usable_wind_km2": a.counties.usable_wind_km2.tolist()}))
"""


CACHE_DIR = Path(tempfile.mkdtemp(prefix="siting-bench-cache-"))  # empty at start: the first cached run fills it


def warm_up(scenario: Path, code: Path | None = None) -> None:
    """One small county (Chengzhong, 78 km²) at 100 m with the scenario: compiles the machine code of every
    compiled pass the run uses, if numba's cache for that checkout does not hold it yet."""
    env = dict(os.environ, SITING_NO_CACHE="1")
    if code is not None:
        env["PYTHONPATH"] = os.pathsep.join([str(code)] + [p for p in [env.get("PYTHONPATH")] if p])
    subprocess.run([sys.executable, "-c", "import sys, siting; siting.assess('450202', resolution_m=100.0, "
                    "scenario=sys.argv[1])", str(scenario)], check=True, capture_output=True, env=env,
                   cwd=None if code is None else str(code))


def run_child(resolution_m: float, scenario: Path, scheduler: str = "-", cache: bool = False,
              code: Path | None = None) -> dict:
    """One run in a child process; the layer cache is off unless ``cache`` (then it is read and filled).

    ``code``: a checkout of another revision of siting to run instead of this one (put first on the path).
    """
    t0 = time.perf_counter()
    env = dict(os.environ)  # this script does not import siting, so this is the user's environment
    if code is not None:
        env["PYTHONPATH"] = os.pathsep.join([str(code)] + [p for p in [env.get("PYTHONPATH")] if p])
    if cache:
        env["SITING_CACHE"] = str(CACHE_DIR)
        env.pop("SITING_NO_CACHE", None)
    else:
        env["SITING_NO_CACHE"] = "1"
    # with -c the working directory comes first on the path: run another revision from its own folder
    proc = subprocess.Popen([sys.executable, "-c", CHILD, str(resolution_m), str(scenario), scheduler],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
                            cwd=None if code is None else str(code))
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - t0
    out, err = proc.stdout.read(), proc.stderr.read()
    if status != 0:
        sys.exit(f"run at {resolution_m:g} m failed:\n{err}")
    result = json.loads(out.strip().splitlines()[-1])
    # the child's own high-water mark (ru_maxrss of os.wait4 can include the parent's); workers of a cluster added
    rss_mb = result["hwm_mb"] + sum(result["worker_hwm_mb"])
    result.update(resolution_m=resolution_m, wall_s=wall, peak_rss_mb=rss_mb, scheduler=scheduler, cache=cache,
                  cpu_s=usage.ru_utime + usage.ru_stime)
    return result


def steps(marks: list) -> list[tuple[str, float]]:
    """Duration of each progress step (seconds)."""
    return [(name, marks[i + 1][1] - t) for i, (name, t) in enumerate(marks[:-1])]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--keep", type=Path, help="folder for the synthetic inputs (kept and reused)")
    ap.add_argument("--resolutions", default="1000,100")
    ap.add_argument("--localcluster", action="store_true",
                    help="also run the last resolution on a 2-worker dask LocalCluster")
    ap.add_argument("--cached", action="store_true",
                    help="also run the last resolution twice with the layer cache (fill, then hit)")
    ap.add_argument("--regrid", action="store_true",
                    help="also run the last resolution with the cache (filling it), then the first: another grid, so "
                         "no layer is cached for it, but every DEM pixel's slope outcome is (siting.io.slopecodes)")
    ap.add_argument("--json", type=Path)
    ap.add_argument("--fetched", action="store_true",
                    help="lay the inputs out as siting fetch leaves them and run the scenario it writes")
    ap.add_argument("--wind", action="store_true",
                    help="also run the last resolution with a GWA-like 250 m wind speed and Weibull k layer")
    ap.add_argument("--against", metavar="REV",
                    help="first run the last resolution (with the wind layer if --wind) with this git revision of "
                         "siting, as the reference of the ratios, and check that the county figures are the same")
    ap.add_argument("--pairs", type=int, default=0,
                    help="with --against: then run the reference and this checkout alternately this many times each "
                         "(the last resolution, with the wind layer if --wind) and compare the medians: a machine whose "
                         "speed drifts by 10-40 %% within the hour makes a single pair of runs an unreliable ratio")
    ap.add_argument("--fine-dem", action="store_true",
                    help="also run Guangxi at 100 m and at 30 m with slope from a synthetic 1-arcsecond DEM "
                         "(~570 M pixels; made once in --keep, about 2 GB)")
    ap.add_argument("--buildings", type=int, default=0,
                    help="also run the last resolution with this many synthetic building footprints (rooftop PV)")
    args = ap.parse_args()
    folder = args.keep or Path(tempfile.mkdtemp(prefix="siting-realsize-"))
    t = time.perf_counter()
    paths = make_inputs(folder)
    print(f"inputs in {folder} ({time.perf_counter() - t:.0f} s to make or find)")
    scenario = make_fetched_layout(folder, paths) if args.fetched else write_scenario(folder, paths)
    print(f"scenario: {scenario}")
    print(f"machine: {platform.platform()}, {os.cpu_count()} CPUs, Python {platform.python_version()}")
    resolutions = [float(r) for r in args.resolutions.split(",")]
    results = []
    pairs: list[tuple[dict, dict]] = []  # (reference, this checkout), alternating
    if args.pairs and not args.against:
        sys.exit("--pairs needs --against REV")
    if args.against:
        old = Path(tempfile.mkdtemp(prefix="siting-against-")) / "tree"
        subprocess.run(["git", "-C", str(Path(__file__).resolve().parent), "worktree", "add", "--detach", "-f",
                        str(old), args.against], check=True, capture_output=True)
        try:
            scen_ref = scenario
            if args.wind:
                speed, k = make_wind(folder)
                scen_ref = write_wind_scenario(folder, scenario, speed, k)
            # a fresh checkout has no compiled machine code yet (numba's cache is per copy of the code): a
            # run on one small county first compiles it, as earlier runs did for this checkout: neither side pays for it
            warm_up(scen_ref, code=old)
            ref = run_child(resolutions[-1], scen_ref, code=old)
            ref["label"] = f"at {args.against}"[:14]
            ref["wind_layer"] = args.wind
            results.append(ref)
            warm_up(scen_ref)  # the same for this checkout (nothing to compile when its cache is filled)
            for _ in range(args.pairs):
                pairs.append((run_child(resolutions[-1], scen_ref, code=old), run_child(resolutions[-1], scen_ref)))
        finally:
            subprocess.run(["git", "-C", str(Path(__file__).resolve().parent), "worktree", "remove", "--force",
                            str(old)], capture_output=True)
    results += [run_child(r, scenario) for r in resolutions]
    if args.localcluster:
        results.append(run_child(resolutions[-1], scenario, "localcluster"))
    if args.cached:
        results += [run_child(resolutions[-1], scenario, cache=True) for _ in range(2)]
    if args.regrid:
        if not args.cached:
            results.append(run_child(resolutions[-1], scenario, cache=True))
        regrid = run_child(resolutions[0], scenario, cache=True)
        regrid["label"] = "stored slopes"
        results.append(regrid)
    if args.wind:
        speed, k = make_wind(folder)
        with_wind = run_child(resolutions[-1], write_wind_scenario(folder, scenario, speed, k))
        with_wind["wind_layer"] = True
        results.append(with_wind)
    if args.fine_dem:
        t = time.perf_counter()
        fine = make_fine_dem(folder, paths["dem"])
        print(f"1-arcsecond DEM in {fine} ({time.perf_counter() - t:.0f} s to make or find)")
        scen_fine = write_scenario(folder, {**paths, "dem": fine}, name="realsize_1arcsec.toml")
        for r in (100.0, 30.0):
            fine_run = run_child(r, scen_fine)
            fine_run["label"] = "1-arcsec DEM"
            results.append(fine_run)
    if args.buildings:
        t = time.perf_counter()
        buildings = make_buildings(folder, args.buildings)
        print(f"{args.buildings:,} buildings in {buildings} ({time.perf_counter() - t:.0f} s to make or find)")
        with_roofs = run_child(resolutions[-1], write_building_scenario(folder, scenario, buildings))
        with_roofs["buildings"] = args.buildings
        results.append(with_roofs)
    ref = results[0]
    print(f"\n{'resolution m':>12} {'run':>14} {'grid cells':>12} {'tiles':>5} {'wall s':>8} {'peak RSS MB':>12} "
          f"{'time x':>7} {'mem x':>6} {'PV GWp':>8} {'wind GW':>8} {'roof GWp':>8}")
    for r in results:
        cells = r["cells"][0] * r["cells"][1]
        run = (r["label"] if r.get("label") else "2-worker cluster" if r["scheduler"] == "localcluster"
               else "cached" if r["cache"] else
               f"{r['buildings'] / 1e6:g} M roofs" if r.get("buildings") else "wind layer" if r.get("wind_layer")
               else "threads")
        print(f"{r['resolution_m']:>12g} {run:>14} {cells:>12,} {r['tiles']:>5} {r['wall_s']:>8.1f} "
              f"{r['peak_rss_mb']:>12,.0f} {r['wall_s'] / ref['wall_s']:>7.2f} {r['peak_rss_mb'] / ref['peak_rss_mb']:>6.2f} "
              f"{r['pv_gw']:>8,.1f} {r['wind_gw']:>8,.1f} {r['rooftop_gw']:>8,.1f}")
    if args.against:  # the same scenario with both revisions: the same figures expected
        now = [r for r in results if bool(r.get("wind_layer")) == args.wind and not r.get("label")
               and r["resolution_m"] == resolutions[-1] and r["scheduler"] == "-" and not r["cache"]][-1]
        ref = results[0]
        worst = max(max(abs(a - b) / max(abs(b), 1e-9) for a, b in zip(now[k], ref[k]))
                    for k in ("usable_pv_km2", "usable_wind_km2"))
        print(f"against {args.against}: time ratio {now['wall_s'] / ref['wall_s']:.2f}, memory ratio "
              f"{now['peak_rss_mb'] / ref['peak_rss_mb']:.2f}, largest relative difference of a county's usable "
              f"PV or wind km² {worst:.1e}")
    if pairs:
        print(f"\n{len(pairs)} alternating pairs at {resolutions[-1]:g} m{' with the wind layer' if args.wind else ''} "
              f"(the reference first in each pair):")
        for key, label in (("wall_s", "wall s"), ("cpu_s", "CPU s (user + system)"), ("peak_rss_mb", "peak RSS MB")):
            a = [p[0][key] for p in pairs]
            b = [p[1][key] for p in pairs]
            each = [y / x for x, y in zip(a, b)]
            print(f"  {label:<22} {args.against}: median {statistics.median(a):8.1f}   this: median "
                  f"{statistics.median(b):8.1f}   ratio of medians {statistics.median(b) / statistics.median(a):.2f} "
                  f"(pairs {min(each):.2f}-{max(each):.2f})")
        worst = max(max(abs(x - y) / max(abs(y), 1e-9) for x, y in zip(p[1][k], p[0][k]))
                    for p in pairs for k in ("usable_pv_km2", "usable_wind_km2"))
        print(f"  largest relative difference of a county's usable PV or wind km² in any pair {worst:.1e}")
    last = [r for r in results if r["resolution_m"] == resolutions[-1] and not r.get("wind_layer")
            and not r.get("buildings") and not r.get("label")]  # runs with more data need not give the same
    if len(last) > 1:
        base = last[0]
        for r in last[1:]:
            same = r["usable_pv_km2"] == base["usable_pv_km2"] and r["usable_wind_km2"] == base["usable_wind_km2"]
            print(f"{r['scheduler']}/{'cache' if r['cache'] else 'no cache'}: time ratio to the threads run "
                  f"{r['wall_s'] / base['wall_s']:.2f}, county figures identical: {same}")
    if args.regrid:  # the first resolution again, its DEM pixels' outcomes stored by the run at the last
        base = [r for r in results if r["resolution_m"] == resolutions[0] and not r["cache"] and not r.get("label")
                and r["scheduler"] == "-"][0]
        same = (regrid["usable_pv_km2"] == base["usable_pv_km2"]
                and regrid["usable_wind_km2"] == base["usable_wind_km2"])
        slope = sum(v for k, v in regrid["tile_seconds"].items() if "slope" in k)
        slope_base = sum(v for k, v in base["tile_seconds"].items() if "slope" in k)
        print(f"{resolutions[0]:g} m after a run at {resolutions[-1]:g} m (stored slope outcomes): time ratio to the "
              f"uncached run {regrid['wall_s'] / base['wall_s']:.2f}, slope work {slope:.1f} against "
              f"{slope_base:.1f} CPU-s, county figures identical: {same}")
    for r in results:
        print(f"\nwhere the time goes at {r['resolution_m']:g} m, {r['scheduler']} "
              f"(wall seconds of the pipeline's steps, excluding interpreter start):")
        for name, dt in steps(r["marks"]):
            print(f"  {name:<40} {dt:7.2f} s")
        print("  inside the tiles (seconds summed over tiles and threads):")
        for name, sec in sorted(r["tile_seconds"].items(), key=lambda kv: -kv[1]):
            print(f"    {name:<38} {sec:7.2f} s")
    if args.json:
        args.json.write_text(json.dumps(results, indent=1))
    shutil.rmtree(CACHE_DIR, ignore_errors=True)


if __name__ == "__main__":
    main()
