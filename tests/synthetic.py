"""A synthetic region with a known answer: two 20 km squares and a class raster on the Albers grid."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import numpy as np
import pyproj
import rasterio
import shapely
from affine import Affine

from siting.geo.grid import CHINA_ALBERS

KM = 1000.0


def origin() -> tuple[float, float]:
    x, y = pyproj.Transformer.from_crs("EPSG:4326", CHINA_ALBERS, always_xy=True).transform(108.0, 23.0)
    return round(x / KM) * KM, round(y / KM) * KM


def write_boundaries(folder: Path) -> Path:
    """Squares A (west) and B (east), 20 km × 20 km each, as a GeoPackage in the Albers CRS."""
    x0, y0 = origin()
    a = shapely.segmentize(shapely.box(x0, y0, x0 + 20 * KM, y0 + 20 * KM), 100.0)
    b = shapely.segmentize(shapely.box(x0 + 20 * KM, y0, x0 + 40 * KM, y0 + 20 * KM), 100.0)
    gdf = gpd.GeoDataFrame({"code": ["A", "B"], "name": ["甲县", "乙县"]}, geometry=[a, b], crs=CHINA_ALBERS)
    path = folder / "units.gpkg"
    gdf.to_file(path)
    return path


def write_classes(folder: Path, *, cover: str = "all", crs: str | None = CHINA_ALBERS, nodata_cells: int = 0,
                  name: str = "lc.tif") -> Path:
    """Class raster: west half of A cropland (12), top row of B water (0), the rest grassland (10).

    cover="west" writes only the part over A; ``nodata_cells`` sets that many cells of B's bottom row to 255.
    """
    x0, y0 = origin()
    left, top = x0 - 5 * KM, y0 + 25 * KM
    width = 25 if cover == "west" else 50
    height = 30
    arr = np.full((height, width), 10, dtype="uint8")
    xs = left + (np.arange(width) + 0.5) * KM
    ys = top - (np.arange(height) + 0.5) * KM
    xx, yy = np.meshgrid(xs, ys)
    arr[(xx < x0 + 10 * KM)] = 12
    arr[(xx > x0 + 20 * KM) & (yy > y0 + 19 * KM) & (yy < y0 + 20 * KM)] = 0
    if nodata_cells:
        row = np.nonzero((ys > y0) & (ys < y0 + KM))[0][0]
        cols = np.nonzero(xs > x0 + 20 * KM)[0][:nodata_cells]
        arr[row, cols] = 255
    path = folder / name
    profile = {"driver": "GTiff", "width": width, "height": height, "count": 1, "dtype": "uint8", "nodata": 255,
               "transform": Affine(KM, 0, left, 0, -KM, top)}
    if crs:
        profile["crs"] = crs
    with rasterio.open(path, "w", **profile) as dst:
        dst.write(arr, 1)
    return path


SCENARIO = """
[meta]
name = "synthetic"

[layers.lc]
source = "{raster}"
kind = "categorical"
units = "class"

[pv]
label = "PV"
capacity_density_mw_per_km2 = 40.0
utilisation = 0.5
dc_ac_ratio = 1.25

[pv.rules.crop_water]
type = "classes"
layer = "lc"
exclude = [0, 12]
source = "test"
"""


def write_scenario(folder: Path, raster: Path) -> Path:
    path = folder / "synthetic.toml"
    path.write_text(SCENARIO.format(raster=raster.name), encoding="utf-8")
    return path


def _geotiff(path: Path, arr: np.ndarray, west: float, north: float, res_deg: float, nodata=None) -> Path:
    profile = {"driver": "GTiff", "width": arr.shape[1], "height": arr.shape[0], "count": 1, "dtype": arr.dtype.name,
               "transform": Affine(res_deg, 0, west, 0, -res_deg, north), "crs": "EPSG:4326"}
    if nodata is not None:
        profile["nodata"] = nodata
    with rasterio.open(path, "w", **profile) as dst:
        dst.write(arr, 1)
    return path


def write_every_layer(folder: Path, bounds_ll: tuple[float, float, float, float], res_deg: float = 0.01,
                      seed: int = 0) -> Path:
    """A scenario over a lon/lat box with every layer the China preset asks for, as real data would give.

    Land cover (grassland, some cropland, forest and water), protected areas and basic farmland (0/1 patches),
    a hilly DEM from which slope is derived, and a 100 m mean wind speed of about 6.5 m/s. Irradiance and
    elevation stay the built-in ones.
    """
    rng = np.random.default_rng(seed)
    w, s, e, n = bounds_ll
    west, north = w - 0.2, n + 0.2
    ny, nx = int((n - s + 0.4) / res_deg) + 1, int((e - w + 0.4) / res_deg) + 1
    yy, xx = np.mgrid[0:ny, 0:nx]
    blocks = lambda k: np.kron(rng.random((ny // k + 1, nx // k + 1)), np.ones((k, k)))[:ny, :nx]  # noqa: E731
    lc = np.full((ny, nx), 10, dtype="uint8")
    lc[blocks(12) < 0.25] = 12
    lc[blocks(15) > 0.85] = 2
    lc[blocks(30) > 0.97] = 0
    protected = (blocks(20) > 0.9).astype("uint8")
    farmland = ((lc == 12) & (blocks(8) > 0.3)).astype("uint8")
    dem = (300 + 250 * np.sin(xx / 23.0) * np.cos(yy / 31.0) + 40 * blocks(6)).astype("float32")
    wind = (6.5 + 0.8 * np.sin(xx / 40.0) + 0.3 * blocks(10)).astype("float32")
    paths = {k: _geotiff(folder / f"{k}.tif", arr, west, north, res_deg)
             for k, arr in (("land_cover", lc), ("protected", protected), ("farmland", farmland), ("dem", dem),
                            ("wind", wind))}
    scen = folder / "every_layer.toml"
    scen.write_text(f'''extends = "china"
[meta]
name = "every-layer"

[layers.land_cover]
source = "{paths['land_cover'].name}"
kind = "categorical"
units = "IGBP class"
coarse = false

[layers.protected]
source = "{paths['protected'].name}"
kind = "categorical"
units = "1 = protected"

[layers.basic_farmland]
source = "{paths['farmland'].name}"
kind = "categorical"
units = "1 = basic farmland"

[layers.slope_deg]
source = "{paths['dem'].name}"
kind = "continuous"
units = "degrees"
derive = "slope_deg"

[layers.wind_speed_ms]
source = "{paths['wind'].name}"
kind = "continuous"
units = "m/s"
height_m = 100.0
''', encoding="utf-8")
    return scen


def write_real_size_like(folder: Path, bounds_ll: tuple[float, float, float, float]) -> tuple[Path, Path]:
    """:func:`write_every_layer` at about 300 m (slope from the DEM at that resolution), with a Weibull k layer,
    a 500 m buffer around protected areas for wind and a network of power lines with voltages.

    Returns the scenario and the lines (a GeoPackage in lon/lat with a ``voltage`` column).
    """
    res_deg = 0.0027
    scen = write_every_layer(folder, bounds_ll, res_deg=res_deg, seed=3)
    rng = np.random.default_rng(11)
    with rasterio.open(folder / "wind.tif") as src:
        shape, west, north = src.shape, src.transform.c, src.transform.f
    yy, xx = np.mgrid[0:shape[0], 0:shape[1]]
    k = (2.0 + 0.4 * np.sin(xx / 57.0) * np.cos(yy / 43.0)).astype("float32")
    _geotiff(folder / "weibull_k.tif", k, west, north, res_deg)
    w, s, e, n = bounds_ll
    lines = []
    for _ in range(12):
        x = np.sort(rng.uniform(w, e, 6))
        y = rng.uniform(s, n) + np.cumsum(rng.normal(0, 0.05, 6))
        lines.append(shapely.LineString(np.column_stack([x, y])))
    volts = rng.choice(["500000", "220000", "110000;35000", "35 kV", ""], len(lines))
    lines_path = folder / "lines.gpkg"
    gpd.GeoDataFrame({"voltage": volts}, geometry=lines, crs="EPSG:4326").to_file(lines_path)
    with open(scen, "a", encoding="utf-8") as f:
        f.write('''
[layers.weibull_k]
source = "weibull_k.tif"
kind = "continuous"
units = "1"

[wind.rules.protected_buffer]
type = "buffer"
layer = "protected"
classes = [1]
distance_m = 500.0
source = "test"
''')
    return scen, lines_path
