"""Command line: ``siting report``, ``siting regions``. Parses arguments and calls the API."""

from __future__ import annotations

import contextlib
import sys
from enum import Enum
from pathlib import Path
from typing import Optional

import typer
from rich.console import Console

from siting.errors import SitingError

app = typer.Typer(add_completion=False, no_args_is_help=True,
                  help="How much solar PV and onshore wind each county of a Chinese province can host.")
err = Console(stderr=True)


class Format(str, Enum):
    table = "table"
    csv = "csv"
    json = "json"


class DemProduct(str, Enum):
    glo90 = "glo90"
    glo30 = "glo30"


def _progress(quiet: bool):
    """Progress messages on stderr, or None with -q."""
    return None if quiet else (lambda m: err.print(f"[dim]… {m}[/dim]", highlight=False))


def _fail(message: str) -> None:
    from rich.markup import escape

    err.print(f"[bold red]error:[/bold red] {escape(message)}", highlight=False, soft_wrap=True)
    raise typer.Exit(code=2)


@app.command()
def report(
    region: Optional[str] = typer.Argument(None, help="Province, city or county: 广西, guangxi, 450000, 柳州 ..."),
    tech: str = typer.Option("pv,wind", help="Technologies: pv, wind or pv,wind."),
    resolution: float = typer.Option(1000.0, help="Analysis grid cell size in metres (Albers equal-area)."),
    scenario: Optional[str] = typer.Option(None, help="Scenario TOML file or preset name (default: china)."),
    out: Optional[Path] = typer.Option(None, help="Write counties.csv/.gpkg, summary.csv, waterfall.csv, "
                                                  "provenance.json into this folder."),
    format: Format = typer.Option(Format.table, "--format", help="Output on stdout: table, csv or json."),
    boundaries: Optional[Path] = typer.Option(None, help="Your own boundaries (any vector file) instead of "
                                                         "the built-in counties."),
    id_column: Optional[str] = typer.Option(None, help="Unique id column of --boundaries."),
    name_column: Optional[str] = typer.Option(None, help="Name column of --boundaries."),
    datum: str = typer.Option("wgs84", help="Datum of --boundaries lon/lat: wgs84 or gcj02."),
    allow_partial: bool = typer.Option(False, "--allow-partial", help="Accept layers covering <99 % of the region."),
    rows: Optional[int] = typer.Option(None, help="Show at most this many counties in the table."),
    wind: Optional[Path] = typer.Option(None, help="Mean wind-speed raster in m/s (e.g. Global Wind Atlas 100 m)."),
    wind_height: Optional[float] = typer.Option(None, help="Height in m of the --wind speeds (100 for GWA)."),
    year: Optional[int] = typer.Option(None, help="Compare with the plans' targets for this year (e.g. 2030)."),
    targets: Optional[Path] = typer.Option(None, help="Your own targets CSV (same columns as the shipped one)."),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="No progress messages."),
    scheduler: Optional[str] = typer.Option(None, help="Where the tiles run: threads (default), sync, or a dask "
                                                       "scheduler address tcp://HOST:PORT."),
    workers: Optional[int] = typer.Option(None, help="Local threads (default: the number of CPUs)."),
    tile_cells: Optional[int] = typer.Option(None, help="Tile side in grid cells (default 512); memory grows "
                                                        "with its square."),
) -> None:
    """Usable land and capacity for every county of a region, with the exclusion waterfall."""
    from siting.ui import report as rep
    from siting.assess import assess

    console = Console()
    techs = [t.strip() for t in tech.split(",") if t.strip()]
    try:
        spinner = not quiet and format == Format.table and err.is_terminal
        with err.status("starting") if spinner else contextlib.nullcontext() as status:
            a = assess(region, tech=techs, resolution_m=resolution, scenario=scenario, boundaries=boundaries,
                       id_column=id_column, name_column=name_column, datum=datum, allow_partial=allow_partial,
                       wind=wind, wind_height_m=wind_height, scheduler=scheduler, workers=workers,
                       tile_cells=tile_cells,
                       progress=(lambda m: status.update(f"[bold]{m}")) if spinner else _progress(quiet))
        comparison, cmp_notes = (None, [])
        if year is not None or targets is not None:
            from siting.reference.compare import target_comparison

            comparison, cmp_notes = target_comparison(a, year, targets)
        written = a.save(out, comparison=comparison) if out is not None else []
    except SitingError as exc:
        _fail(str(exc))
        return
    if format == Format.csv:
        sys.stdout.write(rep.to_csv(a) if comparison is None else rep.to_csv(a) + "\n" +
                         comparison.to_csv(index=False))
    elif format == Format.json:
        sys.stdout.write(rep.to_json(a, comparison, cmp_notes) + "\n")
    else:
        rep.render_table(a, console, max_rows=rows)
        if comparison is not None:
            rep.render_comparison(comparison, cmp_notes, console)
    if written and not quiet:
        err.print(f"wrote {len(written)} files to {out}", highlight=False)


@app.command()
def regions(
    region: str = typer.Argument(..., help="A province or city (or 'china' for all provinces)."),
    format: Format = typer.Option(Format.table, "--format", help="table, csv or json."),
) -> None:
    """List the cities and counties of a region with their adcodes."""
    from siting.ui import report as rep
    from siting.io.regions import list_regions

    try:
        df = list_regions(region)
    except SitingError as exc:
        _fail(str(exc))
        return
    if format == Format.csv:
        sys.stdout.write(df.to_csv(index=False))
    elif format == Format.json:
        sys.stdout.write(df.to_json(orient="records", force_ascii=False) + "\n")
    else:
        rep.regions_table(df, Console(), title=f"{region}: {len(df)} units")


@app.command(name="fetch")
def fetch_cmd(
    region: str = typer.Argument(..., help="Province, city or county: its bounding box is downloaded."),
    datasets: str = typer.Option("dem,wind,solar,landcover,reserves",
                                 help="Comma-separated: dem, wind, solar, landcover, reserves."),
    cache: Optional[Path] = typer.Option(None, help="Cache folder (default $SITING_CACHE/rasters, else ./rasters)."),
    base_url: Optional[str] = typer.Option(None, help="Mirror replacing scheme and host of every URL "
                                                      "(default $SITING_FETCH_BASE_URL)."),
    dem: DemProduct = typer.Option(DemProduct.glo90, "--dem", help="Copernicus DEM: glo90 (90 m) or glo30 (30 m)."),
    wind_weibull: bool = typer.Option(False, "--wind-weibull", help="Also fetch the Weibull A and k layers."),
    timeout: float = typer.Option(30.0, help="Network timeout for each connect and read, in seconds."),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="No progress bars or summary."),
) -> None:
    """Download the DEM, wind, solar, land-cover and reserve files covering a region into the raster cache.

    Tiled datasets (DEM, land cover) are also mosaicked into one .vrt file that a layer can name.
    """
    from siting.io.fetch import STATUS_OK, FetchOptions, fetch, resolve_cache_dir
    from siting.io.regions import counties, resolve
    from siting.io.vrt import build_vrt

    try:
        reg = resolve(region)
        bounds = tuple(float(v) for v in counties(reg).total_bounds)
        entries = fetch(bounds, datasets, cache_dir=cache, base_url=base_url, timeout_s=timeout,
                        progress=not quiet and err.is_terminal,
                        options=FetchOptions(dem=dem.value, wind_weibull=wind_weibull))
        folder = resolve_cache_dir(cache)
        mosaics = []
        for ds in ("dem", "landcover"):
            tiles = [folder / e.path for e in entries if e.dataset == ds and e.status == STATUS_OK
                     and str(e.path).endswith(".tif")]
            if tiles:
                stem = reg.name_pinyin.lower() + "_" + reg.adcode
                mosaics.append(build_vrt(tiles, tiles[0].parent / f"{stem}.vrt"))
    except SitingError as exc:
        _fail(str(exc))
        return
    if not quiet:
        new = sum(e.status == STATUS_OK and not e.reused for e in entries)
        kept = sum(e.status == STATUS_OK and e.reused for e in entries)
        missing = sum(e.status != STATUS_OK for e in entries)
        err.print(f"{reg.name_pinyin} ({reg.adcode}) bbox {', '.join(f'{v:.2f}' for v in bounds)}: "
                  f"{new} downloaded, {kept} already present, {missing} tiles with no data (HTTP 404)",
                  highlight=False)
        for m in mosaics:
            err.print(f"mosaic: {m}", highlight=False)
    print(folder / "manifest.json")


@app.command(name="targets")
def targets_cmd(
    region: str = typer.Argument(..., help="Province or city: guangxi, 柳州 ..."),
    year: Optional[int] = typer.Option(None, help="Only targets for this year."),
    targets: Optional[Path] = typer.Option(None, help="Your own targets CSV."),
    all_: bool = typer.Option(False, "--all", help="All quantitative targets, not only wind/PV capacity."),
    format: Format = typer.Option(Format.table, "--format", help="table, csv or json."),
) -> None:
    """The wind and PV targets of a province and its cities, with their sources."""
    from siting.ui import report as rep
    from siting.io.regions import resolve
    from siting.reference.targets import load_targets, targets_for

    try:
        reg = resolve(region)
        df = targets_for(reg, load_targets(targets), year, capacity_only=not all_)
    except SitingError as exc:
        _fail(str(exc))
        return
    df = df.drop(columns=["qualifier"]).assign(qualifier=df["qualifier"].map(lambda q: q.label))
    if format == Format.csv:
        sys.stdout.write(df.to_csv(index=False))
    elif format == Format.json:
        sys.stdout.write(df.to_json(orient="records", force_ascii=False) + "\n")
    else:
        rep.render_targets(df, reg, Console())


@app.command(name="allocate")
def allocate_cmd(
    region: str = typer.Argument(..., help="Province or city."),
    year: Optional[int] = typer.Option(None, help="Use the region's wind + PV target for this year."),
    target_mw: Optional[float] = typer.Option(None, help="Or distribute this many MW."),
    method: str = typer.Option("merit", help="merit (best yield first) or proportional."),
    tech: str = typer.Option("pv,wind", help="Technologies that may carry the target."),
    resolution: float = typer.Option(1000.0, help="Analysis grid cell size in metres."),
    scenario: Optional[str] = typer.Option(None, help="Scenario TOML file or preset name."),
    targets: Optional[Path] = typer.Option(None, help="Your own targets CSV."),
    wind: Optional[Path] = typer.Option(None, help="Mean wind-speed raster in m/s (ranks wind by yield too)."),
    wind_height: Optional[float] = typer.Option(None, help="Height in m of the --wind speeds (100 for GWA)."),
    out: Optional[Path] = typer.Option(None, help="Write allocation.csv, supply_curve.csv/.png/.svg here."),
    format: Format = typer.Option(Format.table, "--format", help="table, csv or json."),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="No progress messages."),
) -> None:
    """Distribute the provincial target among counties (merit order or proportional) with a supply curve."""
    from siting.ui import report as rep
    from siting.reference.allocate import allocate, plot_supply_curve, supply_curve, supply_blocks
    from siting.assess import assess
    from siting.io.atomic import atomic_path

    techs = [t.strip() for t in tech.split(",") if t.strip()]
    try:
        if (year is None) == (target_mw is None):
            raise SitingError("give either --year (use the plan's target) or --target-mw")
        a = assess(region, tech=techs, resolution_m=resolution, scenario=scenario, wind=wind,
                   wind_height_m=wind_height,
                   progress=_progress(quiet))
        source = None
        if year is not None:
            from siting.reference.compare import provincial_target_mw

            target_mw, source = provincial_target_mw(a, year, targets)
        result = allocate(a.counties, float(target_mw), method, techs)
        curve = supply_curve(supply_blocks(a.counties, techs))
        if out is not None:
            out.mkdir(parents=True, exist_ok=True)
            with atomic_path(out / "allocation.csv") as tmp:
                result.counties.to_csv(tmp, index=False)
            with atomic_path(out / "supply_curve.csv") as tmp:
                curve.to_csv(tmp, index=False)
            for ext in ("png", "svg"):
                with atomic_path(out / f"supply_curve.{ext}") as tmp:
                    plot_supply_curve(curve, target_mw, tmp, title=f"{a.region.name_pinyin} ({a.region.adcode}): supply curve")
    except SitingError as exc:
        _fail(str(exc))
        return
    if format == Format.csv:
        sys.stdout.write(result.counties.to_csv(index=False))
    elif format == Format.json:
        import json

        doc = {"target_mw": result.target_mw, "method": result.method, "allocated_mw": result.allocated_mw,
               "shortfall_mw": result.shortfall_mw, "notes": result.notes,
               "counties": json.loads(result.counties.to_json(orient="records", force_ascii=False))}
        sys.stdout.write(json.dumps(doc, ensure_ascii=False, indent=1) + "\n")
    else:
        rep.render_allocation(result, source, Console())
    if out is not None and not quiet:
        err.print(f"wrote allocation.csv, supply_curve.csv/.png/.svg to {out}", highlight=False)


@app.command()
def validate(
    region: str = typer.Argument(..., help="Province, city or county."),
    resolution: float = typer.Option(1000.0, help="Analysis grid cell size in metres."),
    scenario: Optional[str] = typer.Option(None, help="Scenario TOML file or preset name."),
    tracker: Optional[Path] = typer.Option(None, help="A newer Global Wind Power Tracker file (CSV or XLSX)."),
    radius: float = typer.Option(1000.0, help="Radius (m) sampled around each exact wind-farm point."),
    format: Format = typer.Option(Format.table, "--format", help="table, csv (per farm) or json."),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="No progress messages."),
) -> None:
    """Check a wind scenario against the existing fleet: is the land under today's wind farms usable?

    Exits with status 1 when the scenario excludes the land under most existing wind farms.
    """
    from siting.ui import report as rep
    from siting.assess import assess
    from siting.reference.fleet import load_tracker
    from siting.reference.fleet import validate as run_validate

    try:
        a = assess(region, tech="wind", resolution_m=resolution, scenario=scenario,
                   progress=_progress(quiet))
        result = run_validate(a, load_tracker(tracker) if tracker else None, radius_m=radius)
    except SitingError as exc:
        _fail(str(exc))
        return
    if format == Format.csv:
        sys.stdout.write(result.per_farm.to_csv(index=False))
    elif format == Format.json:
        import json

        doc = {k: getattr(result, k) for k in ("share_on_usable", "share_on_usable_point", "mw_checked",
                                               "mw_skipped_approximate", "mw_outside_region", "radius_m",
                                               "verdict", "flagged", "notes")}
        doc["counties_over"] = json.loads(result.counties_over.to_json(orient="records", force_ascii=False))
        sys.stdout.write(json.dumps(doc, ensure_ascii=False, indent=1, default=float) + "\n")
    else:
        rep.render_validation(result, a, Console())
    if result.flagged:
        raise typer.Exit(code=1)


@app.command(name="map")
def map_cmd(
    region: Optional[str] = typer.Argument(None, help="Province, city or county."),
    out: Optional[Path] = typer.Option(None, help="Output file (default maps/<region>.html, or .png with --png)."),
    png: bool = typer.Option(False, "--png", help="Write a static PNG choropleth instead of the HTML map."),
    column: str = typer.Option("capacity_pv_mwp", help="Column shown by --png."),
    tech: str = typer.Option("pv,wind", help="Technologies: pv, wind or pv,wind."),
    resolution: float = typer.Option(1000.0, help="Analysis grid cell size in metres."),
    scenario: Optional[str] = typer.Option(None, help="Scenario TOML file or preset name."),
    year: Optional[int] = typer.Option(2030, help="Targets year for the target-coverage layer (0: none)."),
    wind: Optional[Path] = typer.Option(None, help="Mean wind-speed raster in m/s (e.g. Global Wind Atlas 100 m)."),
    wind_height: Optional[float] = typer.Option(None, help="Height in m of the --wind speeds (100 for GWA)."),
    boundaries: Optional[Path] = typer.Option(None, help="Your own boundaries (any vector file)."),
    id_column: Optional[str] = typer.Option(None, help="Unique id column of --boundaries."),
    name_column: Optional[str] = typer.Option(None, help="Name column of --boundaries."),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="No progress messages."),
) -> None:
    """A self-contained interactive HTML map (or a static PNG) of the county results."""
    from siting.outputs import maps
    from siting.assess import assess

    techs = [t.strip() for t in tech.split(",") if t.strip()]
    try:
        a = assess(region, tech=techs, resolution_m=resolution, scenario=scenario, boundaries=boundaries,
                   id_column=id_column, name_column=name_column, wind=wind, wind_height_m=wind_height,
                   progress=_progress(quiet))
        stem = (a.region.name_pinyin.lower() + "_" + a.region.adcode) if a.region else Path(boundaries).stem
        if png:
            if column not in a.counties:
                raise SitingError(f"--column {column}: not a county column; e.g. capacity_pv_mwp, usable_pv_share")
            path = maps.static_map(a, out or Path("maps") / f"{stem}.png", column)
        else:
            comparison = None
            if year and a.region is not None:
                from siting.reference.compare import target_comparison

                comparison = target_comparison(a, year)[0]
            path = maps.save_map(maps.make_map(a, comparison), out or Path("maps") / f"{stem}.html")
    except SitingError as exc:
        _fail(str(exc))
        return
    print(path)


@app.command()
def turbines(format: Format = typer.Option(Format.table, "--format", help="table, csv or json.")) -> None:
    """The turbine library: rated power, rotor, hub heights, specific power, source."""
    import pandas as pd

    from siting.ui import report as rep
    from siting.io.turbines import list_turbines

    df = pd.DataFrame([{"id": Path(t.path).stem if t.path else t.name, "name": t.name, "manufacturer": t.manufacturer, "rated_power_kw": t.rated_power_kw,
                        "rotor_diameter_m": t.rotor_diameter_m,
                        "hub_heights_m": ", ".join(f"{h:g}" for h in t.hub_heights_m),
                        "specific_power_w_m2": round(t.specific_power_w_m2), "iec_class": t.iec_class or "",
                        "source": t.source} for t in list_turbines()])
    if format == Format.csv:
        sys.stdout.write(df.to_csv(index=False))
    elif format == Format.json:
        sys.stdout.write(df.to_json(orient="records", force_ascii=False) + "\n")
    else:
        df["source"] = df["source"].str.slice(0, 70) + "…"
        rep.frame_table(df, "Turbine library (add your own with a TOML file: [wind.model] turbine = \"path.toml\")",
                        Console())


@app.command(name="yield")
def yield_(
    lat: float = typer.Argument(..., help="Latitude, degrees north."),
    lon: float = typer.Argument(..., help="Longitude, degrees east."),
    mounting: str = typer.Option("fixed", help="fixed or single_axis."),
    tilt: Optional[float] = typer.Option(None, help="Tilt in degrees (default: latitude-optimal)."),
    azimuth: float = typer.Option(180.0, help="Azimuth in degrees (180 = south)."),
    format: Format = typer.Option(Format.table, "--format", help="table or json."),
) -> None:
    """Hourly-model PV yield summary at one point: monthly kWh/kWp and losses."""
    import json

    from siting.ui import report as rep
    from siting.model.solar import PVSystemSpec
    from siting.energy.pvpoint import point_yield

    if mounting not in ("fixed", "single_axis"):
        _fail(f"--mounting {mounting}: use fixed or single_axis")
    try:
        summary = point_yield(lat, lon, PVSystemSpec(mounting=mounting, tilt_deg=tilt, azimuth_deg=azimuth))
    except SitingError as exc:
        _fail(str(exc))
        return
    if format == Format.table:
        rep.render_point_yield(summary, Console())
    else:
        sys.stdout.write(json.dumps(summary, ensure_ascii=False, indent=1) + "\n")


def main() -> None:  # pragma: no cover
    app()


if __name__ == "__main__":  # pragma: no cover
    main()
