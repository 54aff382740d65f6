"""The tiled engine: every step from reading layers to county sums, one tile at a time.

A run is split into tiles of the analysis grid (:func:`siting.engine.layout.tile_layout`).
:func:`compute_tile` is a pure function of a :class:`RunContext` and a tile: it
reads the layers for the tile (plus a halo as wide as the largest buffer),
applies the rules, and returns per-county sums, a coarse overview of the
tile for maps, and what the minimum-area rule needs to join patches across
tiles (:mod:`siting.engine.layout`). Peak memory is therefore set by the tile size and
the number of tiles in flight, not by the size of the region.

Tiles run on local threads or on a ``dask.distributed`` cluster
(:mod:`siting.engine.scheduler`); :mod:`siting.engine.reduce` adds their results up in tile
order, in float64, so every scheduler gives bit-identical results.
"""

from __future__ import annotations

import functools
import math
import time
import warnings
from contextlib import contextmanager
from dataclasses import dataclass, field

import numpy as np
import shapely
from rasterio.warp import transform_bounds

from siting.columns import ELEVATION, MEAN_COLUMNS
from siting.energy.pvgrid import pv_systems
from siting.rules.eligibility import LayerArray, apply_tail_rules, cell_rules, tail_rules, used_by_step
from siting.errors import NoOverlapError
from siting.geo.grid import CellValues, ClassIndex, Grid, county_coverage, transformer
from siting.io.layers import CATEGORICAL_NODATA, GridLayer, load_layer_cached
from siting.rules.plan import DerivedSlope, Plan
from siting.rules.scenario import TECH_NAMES, MinAreaRule, Scenario, WindModelParams
from siting.engine.layout import Tile
from siting.engine.sums import CountySums, TechSums, economic_key, foundation_key
from siting.rules.patches import PatchEdges
from siting.energy.windgrid import (HUB_LAYER, WEIBULL_A_LAYER, WEIBULL_K_LAYER, WIND_LAYER, extrapolate_to_hub, hub_speed_layer,
                       net_capacity_factor_grid)

# Rasterising in several threads at once, rasterio can attribute another thread's GDAL message about an
# in-memory dataset to this call; the burned values are unaffected (tested: threads and one thread agree bit
# for bit). Only this message from rasterio.features is silenced.
warnings.filterwarnings("ignore", message="Dataset has no geotransform", module=r"rasterio\.features")

DEFAULT_TILE_CELLS = 512
MAX_OVERVIEW_CELLS = 2_000_000
SAMPLE_PER_TILE = 2_000


def overview_factor(shape: tuple[int, int], max_cells: int | None = None) -> int:
    """Cells per overview-cell side so that the overview grid has at most ``max_cells``
    (default :data:`MAX_OVERVIEW_CELLS`) cells."""
    limit = MAX_OVERVIEW_CELLS if max_cells is None else max_cells
    return max(1, math.ceil(math.sqrt(shape[0] * shape[1] / limit)))


@dataclass
class RunContext:
    """Everything a tile needs; sent once to every worker.

    Attributes
    ----------
    grid : Grid
        The whole analysis grid (rows and columns a multiple of ``factor``).
    factor : int
        Overview factor: the overview grid has cells of ``factor`` x ``factor`` grid cells.
    halo : int
        Extra cells read around each tile (the largest buffer distance).
    plan : Plan
        The run's plan (:mod:`siting.rules.plan`): rules as applied, derived slope layers.
    geoms : list of shapely geometries
        County polygons in the grid CRS, in county-index order.
    pv_elevation : dict or None
        Elevation per 3° resource cell for the PV simulation (None: no PV or a PVOUT layer).
    pv_known : dict or None
        Per plant design (the key of :func:`siting.energy.pvgrid.pv_systems`): yields simulated once for the
        whole run (each resource cell at its own irradiance).
    tariff_by_county : numpy.ndarray or None
        The tariff LCOE is compared with, CNY/kWh per county index (NaN where there is none).
    """

    grid: Grid
    factor: int
    halo: int
    plan: Plan
    geoms: list
    pv_elevation: dict[int, float] | None = None
    pv_known: dict[str, dict[int, float]] | None = None
    tariff_by_county: np.ndarray | None = None  # CNY/kWh per county index (NaN: none), for grid parity

    @property
    def scenario(self) -> Scenario:
        """The rules as the engine applies them."""
        return self.plan.rules

    @property
    def techs(self) -> tuple[str, ...]:
        return self.plan.techs

    @property
    def derived(self) -> dict[str, DerivedSlope]:
        return self.plan.derived

    @functools.cached_property
    def buffer_layers(self) -> frozenset[str]:
        return self.plan.buffer_layers()

    @functools.cached_property
    def pv_designs(self) -> dict[str, tuple[str, object]]:
        """:func:`siting.energy.pvgrid.pv_systems` of the plan, found once for every tile."""
        return pv_systems(self.plan)

    @functools.cached_property
    def _tree(self) -> shapely.STRtree:
        return shapely.STRtree(self.geoms)

    def geoms_for(self, grid: Grid) -> list:
        """The county list with None for counties that miss ``grid`` (keeps the county indices).

        :func:`siting.geo.grid.county_coverage` clips the others to each strip it burns.
        """
        hits = set(self._tree.query(shapely.box(*grid.bounds)).tolist())
        return [g if i in hits else None for i, g in enumerate(self.geoms)]

    def __getstate__(self):
        state = dict(self.__dict__)
        state.pop("_tree", None)
        state.pop("buffer_layers", None)
        state.pop("pv_designs", None)
        return state


@dataclass
class Outcomes:
    """A quantity summed over undecided cells, if their patch is kept and if it is dropped."""

    keep: np.ndarray
    drop: np.ndarray

    def pick(self, kept: np.ndarray) -> np.ndarray:
        return np.where(kept if self.keep.ndim == 1 else kept[:, None], self.keep, self.drop)


@dataclass
class TailTables:
    """Sums over cells whose patch could not be judged inside the tile, for both outcomes.

    Rows are (patch label, county) pairs, ``county_keys = label * n_counties + county index``, and
    (patch label, overview cell) pairs, ``overview_keys = label * n_overview_cells + cell``.

    Attributes
    ----------
    pre : numpy.ndarray
        Usable share before the tail rules (what a minimum-area rule removes if the patch is dropped).
    usable : Outcomes
        Usable share after the forced inclusions.
    energy, with_energy : Outcomes or None
        Usable share × MWh per MW, and usable share where energy is known (None without energy).
    forced : dict of str to Outcomes
        Share each forced-inclusion rule removed (negative: added).
    by_weight : dict of str to Outcomes
        Usable share on the cells of each ranged partial-weight class (``weights.<rule>.<class>``).
    overview_pre, overview_usable : numpy.ndarray, Outcomes
        The same per overview cell, for the maps.
    """

    county_keys: np.ndarray
    pre: np.ndarray
    usable: Outcomes
    energy: Outcomes | None
    with_energy: Outcomes | None
    forced: dict[str, Outcomes]
    by_weight: dict[str, Outcomes]
    overview_keys: np.ndarray
    overview_pre: np.ndarray
    overview_usable: Outcomes


@dataclass
class TechOut:
    """One technology's results for one tile."""

    steps: list[str]
    best: np.ndarray            # overview: largest area removed by one non-tail step
    which: np.ndarray           # overview: index of that step, -1 none
    min_area: dict[str, np.ndarray]  # overview: area removed by each min_area rule (decided cells)
    usable: np.ndarray          # overview: usable share (decided cells)
    edges: PatchEdges | None
    tables: TailTables | None
    energy_map: np.ndarray | None  # overview mean of yield (kWh/kWp) or net capacity factor


@dataclass
class TileOut:
    """What :func:`compute_tile` returns for one tile."""

    tile: Tile
    zones: np.ndarray
    sums: CountySums
    coverage: dict[str, tuple[float, float, float]]
    classes: dict[str, np.ndarray]
    samples: dict[str, np.ndarray]
    overview: dict[str, np.ndarray]
    tech: dict[str, TechOut]
    pv_keys: np.ndarray | None
    provenance: dict[str, dict]
    seconds: dict[str, float] = field(default_factory=dict)


class _Clock:
    """Seconds spent per stage of a tile (summed over tiles into the run's provenance)."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = {}

    @contextmanager
    def __call__(self, stage: str):
        t0 = time.perf_counter()
        try:
            yield
        finally:
            self.seconds[stage] = self.seconds.get(stage, 0.0) + time.perf_counter() - t0


# ---------------------------------------------------------------------------
# Block reductions to the overview grid
# ---------------------------------------------------------------------------

def block_sum(a: np.ndarray, f: int) -> np.ndarray:
    """Sum over f x f blocks (float64); the array's sides are multiples of f."""
    if f == 1:
        return a.astype("float64")
    if a.dtype == bool:  # 0 and 1 exactly; adding float32 to the float64 sums is several times quicker than bool
        a = a.astype("float32")
    cols = a[:, 0::f].astype("float64")
    for k in range(1, f):
        cols += a[:, k::f]
    out = cols[0::f].copy()
    for k in range(1, f):
        out += cols[k::f]
    return out


def block_nanmean(a: np.ndarray, f: int) -> np.ndarray:
    """Mean over the finite values of f x f blocks (NaN where a block has none), float32."""
    if f == 1:
        return a.astype("float32")
    ok = np.isfinite(a)
    if ok.all():  # every block has f x f values: the same figures without masking
        return (block_sum(a, f) / float(f * f)).astype("float32")
    s = block_sum(np.where(ok, a, 0.0), f)
    n = block_sum(ok, f)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(n > 0, s / np.maximum(n, 1), np.nan).astype("float32")


def block_centre(a: np.ndarray, f: int) -> np.ndarray:
    """The value at the centre cell of each f x f block (for classes and indices)."""
    return a if f == 1 else a[f // 2::f, f // 2::f].copy()


# ---------------------------------------------------------------------------
# One tile
# ---------------------------------------------------------------------------

def _tile_bounds_ll(grid: Grid, pad_deg: float = 0.05) -> tuple[float, float, float, float]:
    """Longitude/latitude box of a tile (each edge carried over at its corners and 21 points between) plus a pad.

    With the thread's cached transformer: ``rasterio.warp.transform_bounds`` builds a new one each call (1 ms a
    tile). The box only chooses which source pixels are read; the pad covers what the densified edges miss.
    """
    left, bottom, right, top = grid.bounds
    t = np.linspace(0.0, 1.0, 23)
    across, up = left + (right - left) * t, bottom + (top - bottom) * t
    xs = np.concatenate([across, np.full(t.size, right), across, np.full(t.size, left)])
    ys = np.concatenate([np.full(t.size, bottom), up, np.full(t.size, top), up])
    lon, lat = transformer(grid.crs, "EPSG:4326").transform(xs, ys)
    if not (np.isfinite(lon).all() and np.isfinite(lat).all()):
        w, s, e, n = transform_bounds(grid.crs, "EPSG:4326", *grid.bounds, densify_pts=21)
    else:
        w, s, e, n = float(lon.min()), float(lat.min()), float(lon.max()), float(lat.max())
    return (w - pad_deg, s - pad_deg, e + pad_deg, n + pad_deg)


def _aspect_filter(rule):
    from siting.model.terrain import aspect_factor

    north = rule.north_facing_factor
    return None if north is None else functools.partial(aspect_factor, min_slope_deg=rule.north_facing_min_slope_deg,
                                                        factor=north)


def _slope_key(dem: str, rule, grid: Grid, cells: np.ndarray | None = None) -> str:
    import hashlib

    from siting.io import layercache
    from siting.io.layers import source_id

    which = None if cells is None else hashlib.sha256(np.packbits(cells)).hexdigest()  # the cells it is exact on
    return layercache.key("slope_pass_share", {"dem": source_id(dem), "max": rule.max,
                                               "north": [rule.north_facing_factor, rule.north_facing_min_slope_deg],
                                               **({"cells": which} if which else {})}, grid)


def derived_slope_layers(derived: dict[str, DerivedSlope], grid: Grid, cells: np.ndarray | None = None
                         ) -> dict[str, GridLayer]:
    """The slope pass-share layers on ``grid``: from the layer cache, or computed with one pass per DEM.

    With ``cells`` (the tile's cells in the region) the DEM work follows the region: only the DEM window under
    the box of those cells is read, blocks of it that fall wholly outside them are skipped, and the other cells
    are NaN. Each wanted cell still counts every DEM pixel whose centre it holds (a pixel's slope and cell do not
    depend on the block), so its pass share is exact.
    """
    from siting.io import layercache
    from siting.io.cache import cache_dir
    from siting.io.dem import dem_slope_layers

    out: dict[str, GridLayer] = {}
    todo: dict[str, list[tuple[str, str]]] = {}
    use_cache = layercache.enabled()
    for name, d in derived.items():
        k = _slope_key(d.dem, d.rule, grid, cells) if use_cache else ""
        hit = layercache.load(k) if use_cache else None
        if hit is not None:
            out[name] = _share_layer(name, hit[0]["data"], {**hit[1], "cache": "hit"})
        else:
            todo.setdefault(d.dem, []).append((name, k))
    # each DEM pixel's outcome is kept across grids (siting.io.slopecodes) while the layer cache is on
    codes = cache_dir("slope_codes") if use_cache and todo else None
    for dem, items in todo.items():
        rules = [(derived[n].rule.max, _aspect_filter(derived[n].rule)) for n, _ in items]
        try:
            results = dem_slope_layers(dem, grid, rules, cells=cells, codes=codes)
        except NoOverlapError:  # the DEM has nothing on this tile
            results = [(np.full(grid.shape, np.nan, dtype="float32"), {"path": dem})] * len(items)
        for (name, k), (frac, prov) in zip(items, results):
            if use_cache:
                layercache.store(k, {"data": frac}, prov)
            out[name] = _share_layer(name, frac, prov)
    return out


def _share_layer(name: str, frac: np.ndarray, prov: dict) -> GridLayer:
    nodata = ~np.isfinite(frac)
    return GridLayer(name=name, data=frac, kind="continuous", nodata_mask=nodata, outside_mask=nodata,
                     resampling="share of DEM pixels per cell", provenance=prov)


def _load_or_empty(name: str, spec, grid: Grid, bounds_ll) -> GridLayer:
    """The layer on a tile (``bounds_ll``: the tile's padded lon/lat box, which holds every cell); a raster that
    misses the tile altogether gives a tile without data.

    Whether the layer covers enough of the region is judged on the whole region afterwards.
    """
    try:
        return load_layer_cached(name, spec, grid, bounds_ll, box_holds_grid=True)
    except NoOverlapError:
        pass
    kind = spec.kind
    data = np.full(grid.shape, CATEGORICAL_NODATA if kind == "categorical" else np.nan,
                   dtype="uint16" if kind == "categorical" else "float32")
    every = np.ones(grid.shape, dtype=bool)
    return GridLayer(name=name, data=data, kind=kind, nodata_mask=every, outside_mask=every, resampling="none",
                     provenance={"layer": name, "source": spec.source, "path": spec.source, "units": spec.units,
                                 "kind": kind, "coarse": spec.coarse, "no_overlap": True})


def _with_halo(core: GridLayer, h: int) -> GridLayer:
    """A layer on the tile padded with a halo of ``h`` nodata cells."""
    if h == 0:
        return core
    inner = (slice(h, -h), slice(h, -h))
    shape = (core.data.shape[0] + 2 * h, core.data.shape[1] + 2 * h)
    fill = np.nan if core.data.dtype.kind == "f" else CATEGORICAL_NODATA
    data = np.full(shape, fill, dtype=core.data.dtype)
    nod, out = np.ones(shape, dtype=bool), np.ones(shape, dtype=bool)
    data[inner], nod[inner], out[inner] = core.data, core.nodata_mask, core.outside_mask
    return GridLayer(name=core.name, data=data, kind=core.kind, nodata_mask=nod, outside_mask=out,
                     resampling=core.resampling, provenance=core.provenance)


def present_codes(values: np.ndarray) -> np.ndarray:
    """Sorted distinct values of an array of small non-negative integers (a bincount, not a sort)."""
    if values.size == 0:
        return np.zeros(0, dtype="int64")
    return np.flatnonzero(np.bincount(values.reshape(-1)))


def _sample(values: np.ndarray, n: int = SAMPLE_PER_TILE) -> np.ndarray:
    if values.size <= n:
        return values.astype("float64")
    return values[np.linspace(0, values.size - 1, n).astype("int64")].astype("float64")


def compute_tile(ctx: RunContext, tile: Tile) -> TileOut | None:
    """Layers, eligibility, energy and county sums for one tile (None if it has no region cells).

    Parameters
    ----------
    ctx : RunContext
    tile : Tile

    Returns
    -------
    TileOut or None
    """
    g, f, h = ctx.grid, ctx.factor, ctx.halo
    clock = _Clock()
    core = g.window(tile.row_off, tile.col_off, tile.height, tile.width)
    with clock("county fractions"):
        cov = county_coverage(ctx.geoms_for(core), core)
        frac = cov.region_fraction()
    in_core = frac > 0
    if not in_core.any():
        return None
    tgrid = g.window(tile.row_off - h, tile.col_off - h, tile.height + 2 * h, tile.width + 2 * h)
    inner = (slice(h, h + tile.height), slice(h, h + tile.width))
    in_region = np.zeros(tgrid.shape, dtype=bool)
    in_region[inner] = in_core
    bounds_ll = _tile_bounds_ll(tgrid)
    scen = ctx.scenario

    zones = cov.present_zones()

    def zsum(values: np.ndarray, ring: int = 0, by: "Binned | None" = None):
        """Σ fraction × value per county of the tile; with ``ring``, ``values`` covers the tile and its halo. With
        ``by``, a dict: per county and class (2-D), Σ fraction × value × each of ``by``'s quantities (by suffix)."""
        if by is None:
            return cov.zonal_sum(values, ring)[zones]
        return {k: sums[zones] for k, sums in cov.sums_by_class(by.index(cov), values, by.values).items()}

    sums = CountySums(area=zsum(np.ones(core.shape, dtype="float32")))
    overview = {"county_index": block_centre(cov.majority_zone(), f), "region_fraction": (
        block_sum(frac, f) / (f * f)).astype("float32")}

    # Layers on the tile plus its halo. A cell's value does not depend on the window it is read in
    # (siting.geo.resample); the halo ring is read only for layers that buffer rules measure distances from.
    layers: dict[str, GridLayer] = {}
    provenance: dict[str, dict] = {}
    core_ll = _tile_bounds_ll(core)
    for name, spec in scen.layers.items():
        if name in ctx.derived or spec.derive is not None:
            continue
        with clock(f"read {name}"):
            if h and name in ctx.buffer_layers:  # buffers measure from features in the halo too
                layers[name] = _load_or_empty(name, spec, tgrid, bounds_ll)
            else:
                layers[name] = _with_halo(_load_or_empty(name, spec, core, core_ll), h)
    if ctx.derived:
        with clock("slope from DEM"):
            for name, lay in derived_slope_layers(ctx.derived, core, in_core).items():
                layers[name] = _with_halo(lay, h)
    turbines = _turbine_tech(ctx)  # onshore wind on land, offshore wind on the sea run
    if WIND_LAYER in layers and turbines is not None:
        layers[HUB_LAYER] = hub_speed_layer(layers[WIND_LAYER], scen.layers[WIND_LAYER].height_m,
                                            ctx.plan.tech_specs[turbines].model or WindModelParams(),
                                            layers.get("land_cover"), in_region)
    coverage, classes, samples = {}, {}, {}
    total = float(frac.sum())
    lc, lc_spec = layers.get("land_cover"), ctx.scenario.layers.get("land_cover")
    water = (np.isin(lc.data[inner], lc_spec.water_classes) if lc is not None and lc_spec is not None
             and lc_spec.water_classes else None)
    for name, lay in layers.items():
        provenance[name] = lay.provenance
        data, nod, out = lay.data[inner], lay.nodata_mask[inner], lay.outside_mask[inner]
        coverage[name] = (total, float(frac[out].sum()), float(frac[nod & ~out].sum()))
        ok = in_core & ~nod
        if lay.kind == "categorical":
            classes[name] = present_codes(data[ok])
            overview[name] = block_centre(data, f)
        else:
            samples[name] = _sample(data[ok & np.isfinite(data)])
            overview[name] = block_nanmean(data, f)
            if name in MEAN_COLUMNS:
                valid = np.isfinite(data)
                if name == ELEVATION.name and water is not None:
                    valid &= ~water  # the mean elevation of the land, not of lake or lagoon floors
                sums.layer_total[name] = zsum(np.where(valid, data, 0.0))
                sums.layer_cells[name] = zsum(valid.astype("float32"))

    arrays = {n: LayerArray(lay.data, lay.nodata_mask) for n, lay in layers.items()}
    energy_of: dict[str, np.ndarray] = {}
    pv_keys = None
    if ctx.pv_designs:
        with clock("pv yield"):
            energy_of, pv_keys = _pv_yields_tile(ctx, core, in_core, layers, inner)
    tech_out = {}
    claimed: dict[str, np.ndarray] = {}  # most of each cell's land a technology may use (an upper bound)
    for t in TECH_NAMES:  # in the order land is shared; a technology others yield to is judged even if not asked
        spec = ctx.plan.tech_specs.get(t)
        if spec is None:
            continue
        after = [x for x in spec.land_after if x in claimed]
        cap = None if not after else np.clip(1.0 - sum(claimed[x] for x in after), 0.0, 1.0).astype("float32")
        if t in ctx.techs:
            tech_out[t], sums.tech[t], claimed[t] = _tech_tile(ctx, t, arrays, layers, in_region, inner, cov,
                                                               core.shape, zsum, energy_of, clock, cap, after)
        else:
            claimed[t] = _claimed_only(ctx, spec, arrays, in_region, inner, cap)
    return TileOut(tile=tile, zones=zones, sums=sums, coverage=coverage, classes=classes, samples=samples,
                   overview=overview, tech=tech_out, pv_keys=pv_keys, provenance=provenance, seconds=clock.seconds)


def _claimed_only(ctx: RunContext, spec, arrays: dict, in_region: np.ndarray, inner, cap) -> np.ndarray:
    """The most land a technology that is not reported may use on each cell (its rules, nothing recorded)."""
    pre = cell_rules(spec, arrays, in_region, ctx.grid.resolution_m)[inner]
    if cap is not None:
        pre = np.minimum(pre, cap)
    return apply_tail_rules(spec, arrays, pre, in_region[inner], ctx.grid.cell_area_km2, inner).keep_usable


def _pv_yields_tile(ctx: RunContext, core: Grid, in_core: np.ndarray, layers: dict, inner
                    ) -> tuple[dict[str, np.ndarray], np.ndarray | None]:
    """The specific yield of every PV technology on the tile (one simulation per plant design) and the (resource
    cell, irradiance step) pairs the tile met, found once for every design (None with a PVOUT layer)."""
    from siting.energy.pvgrid import PVOUT_LAYER, grid_keys, simulated_yield

    designs = ctx.pv_designs
    if PVOUT_LAYER in layers:
        pvout = layers[PVOUT_LAYER].data[inner].astype("float32")
        return {t: pvout for t in designs}, None
    # the annual GHI layer (the built-in one is MERRA-2 interpolated by clearness index) scales each resource
    # cell's monthly shape, so the yield follows it cell by cell rather than in 3° blocks
    finer = layers["ghi_kwh_per_m2_yr"].data[inner] if "ghi_kwh_per_m2_yr" in layers else None
    keyed = grid_keys(core, in_core, finer)
    by_design: dict[str, np.ndarray] = {}
    for key, system in designs.values():
        if key not in by_design:
            by_design[key] = simulated_yield(core, in_core, ctx.pv_elevation or {}, system, annual_ghi_kwh_m2=finer,
                                             known=(ctx.pv_known or {}).get(key), keyed=keyed)[0]
    return {t: by_design[key] for t, (key, _) in designs.items()}, keyed[2]


def _turbine_tech(ctx: RunContext) -> str | None:
    """The wind technology of a run: ``wind`` (on land) or ``offshore`` (the sea run), None without one."""
    return next((t for t in ("wind", "offshore") if t in ctx.techs), None)


def _wind_cf_tile(ctx: RunContext, usable: np.ndarray, layers: dict, inner, tech: str = "wind") -> np.ndarray | None:
    if HUB_LAYER not in layers:
        return None
    scen = ctx.scenario
    model = ctx.plan.tech_specs[tech].model or WindModelParams()
    k_layer = layers[WEIBULL_K_LAYER].data[inner] if WEIBULL_K_LAYER in layers else None
    elev = layers["elevation_m"].data[inner] if "elevation_m" in layers else None
    a_hub = None
    if WEIBULL_A_LAYER in layers:
        a_height = scen.layers[WEIBULL_A_LAYER].height_m or scen.layers[WIND_LAYER].height_m
        lc = layers.get("land_cover")
        lc = None if lc is None else GridLayer(name=lc.name, data=lc.data[inner], kind=lc.kind,
                                               nodata_mask=lc.nodata_mask[inner], outside_mask=lc.outside_mask[inner],
                                               resampling=lc.resampling, provenance=lc.provenance)
        a_hub = extrapolate_to_hub(layers[WEIBULL_A_LAYER].data[inner], a_height, model, lc)
    return net_capacity_factor_grid(usable, layers[HUB_LAYER].data[inner], k_layer, elev, model, a_hub)


def _tech_tile(ctx: RunContext, t: str, arrays: dict, layers: dict, in_region: np.ndarray, inner, cov, shape,
               zsum, energy_of: dict, clock: _Clock, cap: np.ndarray | None = None, after=()
               ) -> tuple[TechOut, TechSums, np.ndarray]:
    f = ctx.factor
    spec = ctx.plan.tech_specs[t]
    cell_km2 = ctx.grid.cell_area_km2
    steps: list[str] = []
    oshape = (shape[0] // f, shape[1] // f)
    best = np.zeros(oshape, dtype="float32")
    which = np.full(oshape, -1, dtype="int16")
    removed_sums: dict[str, np.ndarray] = {}

    def record(step: str, delta: np.ndarray) -> None:
        d = delta[inner]
        if not d.any():  # nothing removed in this tile
            steps.append(step)
            return
        removed_sums[step] = zsum(delta, ring=ctx.halo)  # read in place: the halo is skipped, not copied off
        s = block_sum(d, f)
        more = s > best
        best[more] = s[more]
        which[more] = len(steps)
        steps.append(step)

    with clock(f"rules and sums {t}"):
        pre = cell_rules(spec, arrays, in_region, ctx.grid.resolution_m, record)[inner]
        if after:  # the land the technologies before it use on each cell is not this one's
            shared = np.minimum(pre, cap)
            full = np.zeros(in_region.shape, dtype="float32")
            full[inner] = pre - shared
            record(used_by_step(after), full)
            pre = shared
    steps.extend(n for n, r in tail_rules(spec) if isinstance(r, MinAreaRule) or r.layer in arrays)
    in_core = in_region[inner]
    with clock(f"min area and forced {t}"):
        tail = apply_tail_rules(spec, arrays, pre, in_core, cell_km2, inner)
        decided, final, keep_u = tail.decided, tail.final, tail.keep_usable
        min_area_ov = {}
        for j, (name, _) in enumerate(tail.min_area):
            removed = tail.removed_by_min_area(j)
            removed_sums[name] = zsum(removed)
            min_area_ov[name] = block_sum(removed, f).astype("float32")
        for k, name in enumerate(tail.forced):
            removed_sums[name] = zsum(tail.removed_by_forced(k))
    # Energy per MW of capacity on each cell: kWh/kWp (= MWh/MW) for PV, 8,760 h x net CF for wind.
    if t in ("wind", "offshore"):
        with clock("wind capacity factor"):
            cf = _wind_cf_tile(ctx, keep_u, layers, inner, t)
        mwh_per_mw = None if cf is None else cf * 8760.0
        energy_map = None if cf is None else block_nanmean(cf, f)
    else:
        mwh_per_mw = energy_of.get(t)
        energy_map = None if mwh_per_mw is None else block_nanmean(mwh_per_mw, f)
    has = None if mwh_per_mw is None else np.isfinite(mwh_per_mw)
    m = None if mwh_per_mw is None else np.where(has, mwh_per_mw, 0.0)
    # usable land on the cells of each class whose partial weight has a range (for the uncertainty draws)
    on_class = {}
    for key in spec.ranges:
        if key.startswith("weights.") and spec.range_problem(key) is None:
            _, rule_name, cls = key.split(".", 2)
            lay = arrays.get(spec.rules[rule_name].layer)
            if lay is not None:
                on_class[key] = lay.data[inner] == int(cls)
    # offshore: usable sea (and its energy) on the cells of each foundation type, which has its own density
    depth = arrays.get(spec.foundation_layer) if spec.foundations else None
    if depth is not None:
        d = depth.data[inner]
        for name, lo, hi, _ in spec.foundation_bands():
            ind = (d > lo) & (d <= hi) if lo > 0 else (d <= hi)
            on_class[foundation_key(name)] = ind
            if m is not None:
                on_class[foundation_key(name, "energy")] = ind * m
                on_class[foundation_key(name, "has")] = ind & has
    binned = None
    if m is not None and spec.cost is not None and ctx.scenario.economics is not None:
        with clock(f"lcoe {t}"):
            binned = economic_indicators(ctx, spec, arrays, inner, m, has, cov, on_class, keep_u > 0)
    tech_sums = TechSums(usable=zsum(final), removed=removed_sums,
                         usable_by_weight={k: zsum(final * ind) for k, ind in on_class.items()},
                         energy_mwh_per_mw=None if m is None else zsum(final * m),
                         usable_with_energy=None if m is None else zsum(final * has))
    if binned is not None:
        with clock(f"lcoe {t}"):
            for suffix, sums in zsum(final, by=binned).items():  # per county and class
                tech_sums.usable_by_weight[binned.key(suffix)] = sums

    tables = None
    if not decided.all():  # patches on the tile's border that only the whole grid can judge
        tables = _tail_tables(tail.labels, ~decided, cov, f, pre, keep_u, tail.drop_usable, tail.keep_forced,
                              tail.drop_forced, tail.forced, m, has, on_class, binned)
    return TechOut(steps=steps, best=best, which=which, min_area=min_area_ov,
                   usable=block_sum(final, f).astype("float32"), edges=tail.edges, tables=tables,
                   energy_map=energy_map), tech_sums, keep_u


@dataclass
class Binned:
    """Quantities summed per county and cost class in one pass: ``cls`` holds each cell's class (-1: none; see
    :func:`siting.engine.sums.cost_class`), ``values`` the quantity of each key suffix on the classed cells ("" usable share,
    "energy", "cost", "grid_km", "grid_known"); the sums, arrays of shape (counties, classes), go to
    ``economic_key("classes", suffix)``."""

    cls: np.ndarray
    n: int
    values: CellValues
    mixed_cls: np.ndarray | None = None  # per (cell, county) pair of the coverage's mixed cells
    _index: ClassIndex | None = None

    def key(self, suffix: str) -> str:
        return economic_key("classes", *([suffix] if suffix else []))

    def index(self, cov) -> ClassIndex:
        """The classed cells and their (county, class) keys on the tile's coverage, found once for every sum."""
        if self._index is None:
            self._index = cov.class_index(self.cls, self.n, self.mixed_cls)
        return self._index


def economic_indicators(ctx: RunContext, spec, arrays: dict, inner, m: np.ndarray, has: np.ndarray, cov,
                        on_class: dict, candidate: np.ndarray) -> Binned:
    """Each cell's cost class (LCOE class and grid parity at the mid, low and high costs) and the quantities whose
    sums per county and class give the LCOE, the economic potential, the supply curve and the distance to the
    grid (:func:`siting.engine.sums.cost_class`).

    LCOE is evaluated only on ``candidate`` cells (those with usable land in either outcome of the tail rules);
    the others contribute nothing to any sum. The usable share, energy and cost are weighted by the cell's packing
    density relative to the technology's (offshore foundation types), so that a sum × the technology's density ×
    utilisation is MW.
    """
    from siting.io.griddist import CONNECTION_LAYER, DISTANCE_LAYER
    from siting.model.costcells import cost_classes, cost_classes_onto, lcoe_at_three_costs

    econ, cost = ctx.scenario.economics, spec.cost
    shape = m.shape
    idx = np.flatnonzero(candidate & has)
    weight = np.ones(idx.size, dtype="float64")
    for name, _, _, density in spec.foundation_bands():
        ind = on_class.get(foundation_key(name))
        if ind is not None:
            weight[ind.reshape(-1)[idx]] = density / spec.capacity_density_mw_per_km2
    mm = m.reshape(-1)[idx].astype("float64")
    dist = arrays.get(DISTANCE_LAYER)
    km = None if dist is None else dist.data[inner].reshape(-1)[idx].astype("float64")
    conn = np.zeros(idx.size)
    if cost.connection and km is not None:
        conn = (km * econ.route_factor * cost.connection_cny_per_kw_km if cost.connection_cny_per_kw_km is not None
                else arrays[CONNECTION_LAYER].data[inner].reshape(-1)[idx].astype("float64"))
    tariffs = ctx.tariff_by_county if ctx.tariff_by_county is not None else np.full(len(ctx.geoms), np.nan)
    rates = {"mid": econ.discount_rate}
    if econ.discount_rate_range is not None:
        rates.update(low=econ.discount_rate_range.low, high=econ.discount_rate_range.high)
    ok = np.isfinite(conn)
    if econ.max_distance_km is not None and km is not None:  # too far from the grid to connect: not economic
        ok &= np.nan_to_num(km, nan=np.inf) <= econ.max_distance_km
    ends = ("mid", "low", "high")
    lcoe = lcoe_at_three_costs([cost if end == "mid" else cost.at(end) for end in ends],
                               [rates.get(end, rates["mid"]) for end in ends], mm, conn, ok)  # (3, cells)
    lcoe_mid = np.where(np.isfinite(lcoe[0]), lcoe[0], 0.0)

    n_bins = len(econ.lcoe_bins_cny_per_kwh) + 1
    cls = np.full(shape, -1, dtype="int16")
    # wholly inside one county
    cost_classes_onto(lcoe, idx, cov.zone.reshape(-1), tariffs, econ.lcoe_bins_cny_per_kwh, cls.reshape(-1))
    names = ["", "energy", "cost"] + ([] if km is None else ["grid_km", "grid_known"])
    rows = np.empty((len(names), idx.size))  # the quantities written in place, a row each (no copies)
    rows[0] = weight
    np.multiply(weight, mm, out=rows[1])
    np.multiply(rows[1], lcoe_mid, out=rows[2])
    if km is not None:
        known = np.isfinite(km)
        rows[3] = np.where(known, km, 0.0)
        rows[4] = known
    values = CellValues.of_rows(m.size, idx, names, rows)

    mixed_cls = None
    if cov.mixed_cell.size:  # a cell shared by counties of two provinces: each share against its own tariff
        pos = values.position[cov.mixed_cell]  # the cell's place among the candidates, -1: none
        mixed_cls = np.full(cov.mixed_cell.size, -1, dtype="int64")
        hit = pos >= 0
        mixed_cls[hit] = cost_classes(lcoe, pos[hit], cov.mixed_zone[hit], tariffs, econ.lcoe_bins_cny_per_kwh)
    return Binned(cls=cls, n=n_bins * 8, values=values, mixed_cls=mixed_cls)


def _tail_tables(labels, unsure, cov, f, pre, keep_u, drop_u, keep_d, drop_d, force_names, m, has,
                 on_class, binned: Binned | None = None) -> TailTables:
    """Sums by (label, county) and (label, overview cell) over the cells of patches not judged in the tile."""
    lab = labels.reshape(-1)
    nz = int(cov.n_zones)
    # (cell, county, fraction) pairs of the uncertain cells
    flat_unsure = unsure.reshape(-1)
    inside_cells, inside_zones = cov._inside()
    sel = flat_unsure[inside_cells]
    cells = [inside_cells[sel]]
    zz = [inside_zones[sel].astype("int64")]
    ww = [np.ones(int(sel.sum()))]
    if cov.mixed_cell.size:
        selm = flat_unsure[cov.mixed_cell]
        cells.append(cov.mixed_cell[selm])
        zz.append(cov.mixed_zone[selm].astype("int64"))
        ww.append(cov.mixed_frac[selm].astype("float64"))
    cells, zz, ww = np.concatenate(cells), np.concatenate(zz), np.concatenate(ww)
    ckeys, cinv = np.unique(lab[cells].astype("int64") * nz + zz, return_inverse=True)

    def by_county(values: np.ndarray) -> np.ndarray:
        return np.bincount(cinv, weights=ww * values.reshape(-1)[cells].astype("float64"), minlength=ckeys.size)

    def both(keep: np.ndarray, drop: np.ndarray) -> Outcomes:
        return Outcomes(keep=by_county(keep), drop=by_county(drop))

    by_weight = {k: both(keep_u * ind, drop_u * ind) for k, ind in on_class.items()}
    if binned is not None:  # all classes in one pass over the undecided cells (mixed cells: per county)
        cls = binned.cls.reshape(-1)[cells].astype("int64")
        if binned.mixed_cls is not None and cov.mixed_cell.size:
            n_inside = int(sel.sum())
            cls[n_inside:] = binned.mixed_cls[selm]
        ok = cls >= 0
        for suffix, qv in binned.values.at(cells).items():
            sums = {}
            for outcome, u in (("keep", keep_u), ("drop", drop_u)):
                w = ww * u.reshape(-1)[cells].astype("float64") * qv
                sums[outcome] = np.bincount(cinv[ok] * binned.n + cls[ok], weights=w[ok],
                                            minlength=ckeys.size * binned.n).astype("float64").reshape(ckeys.size, binned.n)
            by_weight[binned.key(suffix)] = Outcomes(keep=sums["keep"], drop=sums["drop"])
    ow = labels.shape[1] // f
    ucells = np.flatnonzero(flat_unsure)
    rr, cc = np.divmod(ucells, labels.shape[1])
    ocell = (rr // f) * ow + cc // f
    n_ocells = (labels.shape[0] // f) * ow
    okeys, oinv = np.unique(lab[ucells].astype("int64") * n_ocells + ocell, return_inverse=True)

    def by_cell(values: np.ndarray) -> np.ndarray:
        return np.bincount(oinv, weights=values.reshape(-1)[ucells].astype("float64"), minlength=okeys.size)

    return TailTables(
        county_keys=ckeys, pre=by_county(pre), usable=both(keep_u, drop_u),
        energy=None if m is None else both(keep_u * m, drop_u * m),
        with_energy=None if m is None else both(keep_u * has, drop_u * has),
        forced={name: both(keep_d[k], drop_d[k]) for k, name in enumerate(force_names)},
        by_weight=by_weight,
        overview_keys=okeys, overview_pre=by_cell(pre),
        overview_usable=Outcomes(keep=by_cell(keep_u), drop=by_cell(drop_u)))


# ---------------------------------------------------------------------------
# Running the tiles and combining them
# ---------------------------------------------------------------------------
