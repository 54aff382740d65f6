"""Distance to the grid and the cost of the line to it, on the whole analysis grid, as two layers.

A run with ``[economics]`` and a layer of grid lines (``grid_layer``, OSM-style power lines or substations,
optionally with a voltage attribute) gets two continuous layers made here before the tiles run:

``grid_distance_km``
    straight-line distance from each cell centre to the nearest line of any voltage (km);
``grid_connection_cny_per_kw``
    the cheapest line to the grid: min over voltage classes of distance × route factor × the class's
    CNY per kW per km (lines without a voltage, or in no class, cost ``unknown_voltage_cny_per_kw_km``).

Both are Euclidean distance transforms of the lines burnt (all-touched) onto a grid with the analysis
grid's origin and extent at ``distance_resolution_m`` (500 m in the China preset; the analysis grid's own
cells when they are coarser), widened by ``search_km`` on every side, and computed once for the whole grid:
a cell's value is the same whatever tile reads it (each analysis cell takes the value of the distance cell
its centre falls in), distances are within half a distance cell's diagonal of the truth, and lines up to
``search_km`` beyond the grid's edge count. They are written as one two-band GeoTIFF into the cache folder
(``griddist/``), keyed by the line file's content, the economics and the grid, and declared as layers the
tiles read like any other.
"""

from __future__ import annotations

import atexit
import hashlib
import json
import shutil
import tempfile
from pathlib import Path

import numpy as np

from siting.errors import SitingError
from siting.geo.grid import Grid
from siting.model.cost import parse_voltage_kv

DISTANCE_LAYER = "grid_distance_km"
CONNECTION_LAYER = "grid_connection_cny_per_kw"
FORMAT = "1"


def _file_digest(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def _folder() -> Path:
    from siting.io import layercache
    from siting.io.cache import cache_dir

    if layercache.enabled():
        return cache_dir("griddist")
    tmp = Path(tempfile.mkdtemp(prefix="siting-griddist-"))
    atexit.register(shutil.rmtree, tmp, True)
    return tmp


def line_classes(values, economics) -> tuple[np.ndarray, int]:
    """Class index of each line (0 … k-1 for the voltage classes, k for unknown) and k.

    Raises
    ------
    SitingError
        For voltage text in no known format (the first three are named).
    """
    names = list(economics.voltage_classes)
    out = np.full(len(values), len(names), dtype="int16")
    bad = []
    for i, v in enumerate(values):
        try:
            kv = parse_voltage_kv(v)
        except ValueError:
            bad.append(str(v))
            continue
        name = economics.voltage_class(kv)
        if name is not None:
            out[i] = names.index(name)
    if bad:
        raise SitingError(f"{len(bad)} voltage value(s) in no known format: {', '.join(repr(b) for b in bad[:3])}"
                          f"{' …' if len(bad) > 3 else ''} (give volts, e.g. 220000, or kV, e.g. 220 kV; several "
                          "circuits as 110000;35000)")
    return out, len(names)


def distance_and_cost(geoms_grid_crs, classes: np.ndarray, n_classes: int, grid: Grid, economics
                      ) -> tuple[np.ndarray, np.ndarray]:
    """The two layers on ``grid`` (float32 arrays): km to the nearest line, and CNY/kW of the cheapest line.

    Parameters
    ----------
    geoms_grid_crs : sequence of shapely geometries
        The lines (or points, polygons) in the grid's CRS.
    classes : numpy.ndarray
        Voltage class of each geometry (:func:`line_classes`).
    n_classes : int
        Number of voltage classes (index ``n_classes`` is "unknown").
    grid : Grid
    economics : siting.rules.scenario.Economics
    """
    from affine import Affine
    from rasterio.features import rasterize
    from scipy.ndimage import distance_transform_edt

    res = grid.resolution_m
    pad = int(np.ceil(economics.search_km * 1000.0 / res))
    t = grid.transform
    padded = Affine(t.a, 0.0, t.c - pad * res, 0.0, t.e, t.f + pad * res)
    shape = (grid.height + 2 * pad, grid.width + 2 * pad)
    inner = (slice(pad, pad + grid.height), slice(pad, pad + grid.width))
    costs = [c.cny_per_kw_km for c in economics.voltage_classes.values()] + [economics.unknown_voltage_cny_per_kw_km]
    nearest = np.full(grid.shape, np.inf, dtype="float32")
    cheapest = np.full(grid.shape, np.inf, dtype="float32")
    for k in range(n_classes + 1):
        pick = [g for g, c in zip(geoms_grid_crs, classes) if c == k]
        if not pick:
            continue
        burnt = rasterize(pick, out_shape=shape, transform=padded, fill=0, default_value=1, all_touched=True,
                          dtype="uint8").astype(bool)
        km = (distance_transform_edt(~burnt, sampling=(res, res))[inner] / 1000.0).astype("float32")
        np.minimum(nearest, km, out=nearest)
        np.minimum(cheapest, (km * economics.route_factor * costs[k]).astype("float32"), out=cheapest)
    return nearest, cheapest


def distance_grid(grid: Grid, resolution_m: float) -> Grid:
    """The grid of the distance transform: the analysis grid's origin and extent at ``resolution_m`` (or the
    analysis grid itself when it is as coarse)."""
    from affine import Affine

    if resolution_m <= grid.resolution_m:
        return grid
    t = grid.transform
    width = int(np.ceil(grid.width * grid.resolution_m / resolution_m))
    height = int(np.ceil(grid.height * grid.resolution_m / resolution_m))
    return Grid(crs=grid.crs, transform=Affine(resolution_m, 0.0, t.c, 0.0, -resolution_m, t.f), width=width,
                height=height, resolution_m=resolution_m)


def grid_layers(rules, grid: Grid, bounds_ll) -> tuple[dict, dict]:
    """The two layers of a run as LayerSpecs (written to the cache folder once per input and grid), and their
    provenance; empty when the scenario has no economics or no grid layer.

    Parameters
    ----------
    rules : siting.rules.scenario.Scenario
    grid : Grid
        The analysis grid.
    bounds_ll : tuple of float
        Lon/lat bounds of the region (lines are read around it).
    """
    import geopandas as gpd
    import rasterio
    import shapely

    from siting.rules.scenario import LayerSpec

    econ = rules.economics
    spec = None if econ is None else rules.layers.get(econ.grid_layer)
    if spec is None:
        return {}, {}
    path = Path(spec.source)
    if not path.is_file():
        raise SitingError(f"layer '{econ.grid_layer}' ({path}): file not found")
    digest = _file_digest(path)
    key = hashlib.sha256(json.dumps({"file": digest, "economics": econ.model_dump(), "crs": grid.crs,
                                     "transform": list(grid.transform)[:6], "shape": list(grid.shape),
                                     "layer_crs": spec.crs, "format": FORMAT}, sort_keys=True,
                                    default=str).encode()).hexdigest()[:32]
    out = _folder() / f"{key}.tif"
    prov = {"layer": econ.grid_layer, "path": str(path), "sha256": digest, "method": "siting.io.griddist: Euclidean "
            "distance transform of the lines burnt onto the analysis grid (all touched), whole grid at once",
            "voltage_column": econ.voltage_column, "route_factor": econ.route_factor, "search_km": econ.search_km}
    if not out.exists():
        try:
            gdf = gpd.read_parquet(path) if path.suffix.lower() == ".parquet" else gpd.read_file(path)
        except Exception as exc:  # noqa: BLE001 - any reader failure is one line
            raise SitingError(f"layer '{econ.grid_layer}' ({path}): cannot be read as a vector file ({exc})") from None
        if gdf.crs is None and not spec.crs:
            raise SitingError(f"layer '{econ.grid_layer}' ({path}): has no CRS; save it with one (EPSG:4326)")
        if spec.crs:
            gdf = gdf.set_crs(spec.crs, allow_override=True)
        gdf = gdf[gdf.geometry.notna() & ~gdf.geometry.is_empty]
        w, s, e, n = bounds_ll
        pad = econ.search_km / 90.0 + 0.1
        near = gdf.to_crs("EPSG:4326").intersects(shapely.box(w - pad, s - pad, e + pad, n + pad))
        gdf = gdf[near.to_numpy()]
        if gdf.empty:
            raise SitingError(f"layer '{econ.grid_layer}' ({path}): no line lies in the region or within "
                              f"{econ.search_km:g} km of it (lon {w:.2f}..{e:.2f}, lat {s:.2f}..{n:.2f})")
        if econ.voltage_column:
            if econ.voltage_column not in gdf:
                raise SitingError(f"layer '{econ.grid_layer}' ({path}): no column '{econ.voltage_column}' (voltage); "
                                  f"columns: {', '.join(c for c in gdf.columns if c != 'geometry')}")
            try:
                classes, n = line_classes(gdf[econ.voltage_column].tolist(), econ)
            except SitingError as exc:
                raise SitingError(f"layer '{econ.grid_layer}' ({path}), column '{econ.voltage_column}': {exc}") from None
        else:
            classes, n = np.full(len(gdf), len(econ.voltage_classes), dtype="int16"), len(econ.voltage_classes)
        dgrid = distance_grid(grid, econ.distance_resolution_m)
        nearest, cheapest = distance_and_cost(gdf.to_crs(grid.crs).geometry.to_numpy(), classes, n, dgrid, econ)
        from siting.io.atomic import atomic_path

        profile = dict(driver="GTiff", width=dgrid.width, height=dgrid.height, count=2, dtype="float32",
                       crs=grid.crs, transform=dgrid.transform, compress="deflate", tiled=True, blockxsize=256,
                       blockysize=256)
        with atomic_path(out) as tmp:
            with rasterio.open(tmp, "w", **profile) as dst:
                dst.write(nearest, 1)
                dst.write(cheapest, 2)
    dres = max(grid.resolution_m, econ.distance_resolution_m)
    common = dict(source=str(out), kind="continuous", licence=spec.licence, citation=spec.citation,
                  resolution=f"{dres:g} m (distance transform on the analysis grid's origin)", resampling="nearest")
    layers = {DISTANCE_LAYER: LayerSpec(units="km", band=1, description=f"distance to the nearest line of layer "
                                        f"'{econ.grid_layer}'", **common),
              CONNECTION_LAYER: LayerSpec(units="CNY/kW", band=2, description="cost of the cheapest line to the grid "
                                          "(distance x route factor x CNY/kW/km of its voltage class)", **common)}
    return layers, prov
