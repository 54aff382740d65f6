"""Small files in the real formats and names of each fetched source, covering one county, for end-to-end tests.

Copernicus DEM 1°x1° float32 tiles (no nodata, sea = 0), ESA WorldCover 3°x3° uint8 tiles with its class codes
and nodata 0, the Global Wind Atlas country GeoTIFF (float32, 100 m speeds), the Global Solar Atlas zip with
daily-total GHI and PVOUT GeoTIFFs in a folder, the Zenodo nature-reserves zip holding a shapefile, and ETOPO
2022 15°x15° elevation tiles (negative at sea). Only
the resolution is coarser than the real files'.
"""

from __future__ import annotations

import io
import tempfile
import zipfile
from pathlib import Path

import numpy as np
from affine import Affine
from rasterio.io import MemoryFile

from siting.io import fetch as F

SOLAR_DIR = "China_GISdata_LTAy_AvgDailyTotals_GlobalSolarAtlas-v2_GEOTIFF"


def _tif(arr: np.ndarray, west: float, north: float, res: float, nodata=None, **extra) -> bytes:
    profile = dict(driver="GTiff", width=arr.shape[1], height=arr.shape[0], count=1, dtype=arr.dtype.name,
                   crs="EPSG:4326", transform=Affine(res, 0, west, 0, -res, north), tiled=True, blockxsize=64,
                   blockysize=64, compress="deflate", **extra)
    if nodata is not None:
        profile["nodata"] = nodata
    with MemoryFile() as mem:
        with mem.open(**profile) as dst:
            dst.write(arr, 1)
        return bytes(mem.read())


def _grid(west: float, north: float, n: int, res: float):
    lat = north - (np.arange(n) + 0.5) * res
    lon = west + (np.arange(n) + 0.5) * res
    return np.meshgrid(lon, lat)


def dem_tile(lat: int, lon: int, res: float = 1 / 480) -> bytes:
    n = int(round(1 / res))
    x, y = _grid(lon, lat + 1, n, res)
    z = 200 + 180 * np.sin(x * 40) * np.cos(y * 30) + 60 * np.sin(x * 170 + y * 90)
    return _tif(z.astype("float32"), lon, lat + 1, res)


def worldcover_tile(lat: int, lon: int, res: float = 0.01) -> bytes:
    n = int(round(3 / res))
    x, y = _grid(lon, lat + 3, n, res)
    rng = np.random.default_rng(lat * 1000 + lon)
    cls = np.full(x.shape, 30, dtype="uint8")                       # grassland
    cls[np.sin(x * 50) > 0.5] = 40                                  # cropland strips
    cls[np.cos(y * 45) > 0.75] = 10                                 # tree cover bands
    cls[rng.random(x.shape) < 0.02] = 50                            # scattered built-up
    cls[(np.abs(np.sin(x * 7 + y * 3)) < 0.02)] = 80                # a river
    return _tif(cls, lon, lat + 3, res, nodata=0)


def gwa_country(bbox, res: float = 0.01) -> bytes:
    w, s, e, n = bbox
    west, north = np.floor(w) - 1, np.ceil(n) + 1
    size = int(round((max(e - west, north - s) + 2) / res))
    x, y = _grid(west, north, size, res)
    return _tif((6.0 + 0.8 * np.sin(x * 20) + 0.4 * np.cos(y * 15)).astype("float32"), west, north, res)


def gsa_zip(bbox, res: float = 0.01) -> bytes:
    w, s, e, n = bbox
    west, north = np.floor(w) - 1, np.ceil(n) + 1
    size = int(round((max(e - west, north - s) + 2) / res))
    x, y = _grid(west, north, size, res)
    ghi = (3.55 + 0.05 * np.sin(x * 10)).astype("float32")           # kWh/m²/day
    pvout = (3.10 + 0.05 * np.cos(y * 10)).astype("float32")         # kWh/kWp/day
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr(f"{SOLAR_DIR}/GHI.tif", _tif(ghi, west, north, res, nodata=-9999.0))
        zf.writestr(f"{SOLAR_DIR}/PVOUT.tif", _tif(pvout, west, north, res, nodata=-9999.0))
        zf.writestr(f"{SOLAR_DIR}/README.txt", b"Global Solar Atlas 2.0 (fixture)")
    return buf.getvalue()


def etopo_tile(north: int, west: int, res: float = 1 / 40) -> bytes:
    """An ETOPO 2022 15°x15° tile (float32 elevation, m): land rises north of 21.9° N (north of every bay of
    the Beibu Gulf), the sea floor falls 50 m per degree south of it (60 m deep at 20.7° N)."""
    n = int(round(15 / res))
    _, y = _grid(west, north, n, res)
    return _tif(((y - 21.9) * 50.0).astype("float32"), west, north, res, nodata=-99999.0)


def reserves_zip(bbox) -> bytes:
    import geopandas as gpd
    import shapely

    w, s, e, n = bbox
    cx, cy = (w + e) / 2, (s + n) / 2
    dx, dy = (e - w) / 6, (n - s) / 6
    gdf = gpd.GeoDataFrame({"name": ["fixture reserve 保护区"], "level": ["national"]},
                           geometry=[shapely.box(cx - dx, cy - dy, cx + dx, cy + dy)], crs="EPSG:4326")
    with tempfile.TemporaryDirectory() as tmp:
        gdf.to_file(Path(tmp) / "China_Nature_Reserves.shp")
        buf = io.BytesIO()
        with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
            for f in sorted(Path(tmp).iterdir()):
                zf.write(f, f"China_Nature_Reserves/{f.name}")
        return buf.getvalue()


def files_for(bbox, datasets: str = "dem,wind,solar,landcover,reserves,bathymetry") -> dict[str, bytes]:
    """Server content (by cache path) for every file :func:`siting.io.fetch.plan` asks for a bbox."""
    out = {}
    for ds, item in F.plan(bbox, datasets):
        name = Path(item.path).name
        if ds.name == "dem":
            lat = int(name.split("_")[4][1:]) * (1 if name.split("_")[4][0] == "N" else -1)
            lon = int(name.split("_")[6][1:]) * (1 if name.split("_")[6][0] == "E" else -1)
            out[item.path] = dem_tile(lat, lon)
        elif ds.name == "landcover":
            code = name.split("_")[5]
            lat, lon = int(code[1:3]) * (1 if code[0] == "N" else -1), int(code[4:7]) * (1 if code[3] == "E" else -1)
            out[item.path] = worldcover_tile(lat, lon)
        elif ds.name == "wind":
            out[item.path] = gwa_country(bbox)
        elif ds.name == "solar":
            out[item.path] = gsa_zip(bbox)
        elif ds.name == "reserves":
            out[item.path] = reserves_zip(bbox)
        elif ds.name == "bathymetry":
            code = name.split("_")[4]  # N30E105: the north-west corner
            north, west = int(code[1:3]) * (1 if code[0] == "N" else -1), int(code[4:7]) * (1 if code[3] == "E" else -1)
            out[item.path] = etopo_tile(north, west)
    return out
