"""Guangdong with offshore wind: what the sea run adds to a land run, at 1000 m and 250 m.

For each resolution two runs are made, each in a child process: the reference (ground PV and onshore wind on
the built-in data) and the same with offshore wind, whose sea areas (``siting.geo.sea``) get a second engine
run with a water-depth layer. The depth layer is synthetic but of the real product's size and layout: an
ETOPO 2022-like 15 arc-second float32 elevation GeoTIFF over Guangdong and 1.5° of sea around it, the sea
floor falling 0.6 m per km of distance from the land of China and its neighbours (60 m deep at 100 km) with
noise, the land rising from the shore; the scenario reads it with ``scale = -1`` as `siting fetch` does.

Printed per run: wall time, the offshore step's time, the child's peak memory (``VmHWM``), and the ratio of
time and memory to the reference run of the same resolution (made in the same invocation).

    python benchmarks/bench_offshore.py                      # 1000 m and 250 m
    python benchmarks/bench_offshore.py --resolutions 1000
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

RES_DEG = 1 / 240  # 15 arc-seconds, as ETOPO 2022
REACH_DEG = 1.5


def make_depth(folder: Path) -> Path:
    """The synthetic ETOPO-like elevation raster (m, negative at sea) over Guangdong and its sea."""
    import rasterio
    from affine import Affine
    from rasterio.features import rasterize
    from scipy.ndimage import distance_transform_edt, zoom

    from siting.io.regions import counties, land_near, resolve

    w, s, e, n = counties(resolve("guangdong")).total_bounds
    west, south, east, north = w - REACH_DEG, s - REACH_DEG, e + REACH_DEG, n + REACH_DEG
    width, height = int(np.ceil((east - west) / RES_DEG)), int(np.ceil((north - south) / RES_DEG))
    transform = Affine(RES_DEG, 0, west, 0, -RES_DEG, north)
    land = rasterize([land_near((west, south, east, north))], out_shape=(height, width), transform=transform,
                     fill=0, default_value=1, dtype="uint8").astype(bool)
    km_per_px = RES_DEG * 111.0 * np.cos(np.radians((south + north) / 2))  # of longitude; latitude a little more
    to_land_km = distance_transform_edt(~land) * km_per_px
    to_sea_km = distance_transform_edt(land) * km_per_px
    rng = np.random.default_rng(3)
    noise = zoom(rng.random((height // 40 + 2, width // 40 + 2)).astype("float32"), 40, order=1)[:height, :width]
    elevation = np.where(land, 20.0 + 8.0 * to_sea_km, -(0.6 * to_land_km) * (0.8 + 0.4 * noise)).astype("float32")
    path = folder / "etopo_like_guangdong.tif"
    with rasterio.open(path, "w", driver="GTiff", width=width, height=height, count=1, dtype="float32",
                       crs="EPSG:4326", transform=transform, tiled=True, blockxsize=256, blockysize=256,
                       compress="deflate") as dst:
        dst.write(elevation, 1)
    scenario = folder / "offshore_depth.toml"
    scenario.write_text(
        'extends = "china"\n[meta]\nname = "bench-offshore"\n'
        f'[layers.water_depth_m]\nsource = "{path}"\nkind = "continuous"\nunits = "m (positive down)"\n'
        'scale = -1.0\n', encoding="utf-8")
    return scenario


CHILD = r"""
import json, sys, time
t0 = time.perf_counter()
import siting
marks = []
a = siting.assess("guangdong", resolution_m=float(sys.argv[1]), scenario=sys.argv[2], tech=sys.argv[3], draws=0,
                  progress=lambda m: marks.append((m, time.perf_counter() - t0)))
marks.append(("done", time.perf_counter() - t0))
hwm = [int(l.split()[1]) for l in open("/proc/self/status") if l.startswith("VmHWM")][0] / 1024
c = a.counties
out = {"hwm_mb": hwm, "marks": marks, "land_cells": a.provenance["grid"]["shape"],
       "pv_gw": float(c.capacity_pv_mwp.sum() / 1000), "wind_gw": float(c.capacity_wind_mw.sum() / 1000)}
if "capacity_offshore_mw" in c:
    out.update(offshore_gw=float(c.capacity_offshore_mw.sum() / 1000), sea_km2=float(c.sea_area_km2.sum()),
               fixed_gw=float(c.get("capacity_offshore_fixed_mw", c.area_km2 * 0).sum() / 1000),
               floating_gw=float(c.get("capacity_offshore_floating_mw", c.area_km2 * 0).sum() / 1000))
print(json.dumps(out))
"""


def run_child(resolution_m: float, scenario: Path, tech: str) -> dict:
    t0 = time.perf_counter()
    env = dict(os.environ, SITING_NO_CACHE="1")
    proc = subprocess.run([sys.executable, "-c", CHILD, str(resolution_m), str(scenario), tech],
                          capture_output=True, text=True, env=env)
    if proc.returncode != 0:
        sys.exit(f"run {tech} at {resolution_m:g} m failed:\n{proc.stderr}")
    out = json.loads(proc.stdout.strip().splitlines()[-1])
    out.update(wall_s=time.perf_counter() - t0)
    marks = out["marks"]
    out["offshore_s"] = sum(marks[i + 1][1] - t for i, (m, t) in enumerate(marks[:-1]) if m.startswith("offshore"))
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--resolutions", default="1000,250")
    args = ap.parse_args()
    import numpy
    import rasterio

    print(f"# {platform.platform()}, {os.cpu_count()} CPUs, Python {platform.python_version()}, numpy "
          f"{numpy.__version__}, rasterio {rasterio.__version__}, {time.strftime('%Y-%m-%d')}")
    with tempfile.TemporaryDirectory(prefix="siting-bench-offshore-") as tmp:
        t = time.perf_counter()
        scenario = make_depth(Path(tmp))
        print(f"# synthetic depth raster made in {time.perf_counter() - t:.1f} s")
        print("| resolution | run | wall s | offshore step s | peak MB | time ratio | memory ratio | PV GW | wind GW "
              "| offshore GW (fixed + floating) | sea km² |")
        print("|---:|---|---:|---:|---:|---:|---:|---:|---:|---|---:|")
        for res in (float(r) for r in args.resolutions.split(",")):
            ref = run_child(res, scenario, "pv,wind")
            off = run_child(res, scenario, "pv,wind,offshore")
            for name, r in (("reference: pv, wind", ref), ("with offshore", off)):
                sea = (f"{r['offshore_gw']:.1f} ({r['fixed_gw']:.1f} + {r['floating_gw']:.1f})"
                       if "offshore_gw" in r else "")
                print(f"| {res:g} m | {name} | {r['wall_s']:.1f} | {r['offshore_s']:.1f} | {r['hwm_mb']:.0f} | "
                      f"{r['wall_s'] / ref['wall_s']:.2f} | {r['hwm_mb'] / ref['hwm_mb']:.2f} | {r['pv_gw']:.1f} | "
                      f"{r['wind_gw']:.1f} | {sea} | {r.get('sea_km2', 0):,.0f} |", flush=True)


if __name__ == "__main__":
    main()
