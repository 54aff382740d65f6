"""Command line: parses options, calls the API, prints. Nothing here computes or writes files itself.

The options shared by every command that runs an assessment are declared once (the ``*Opt`` aliases
below) and turned into one :func:`siting.assess` call by :func:`_assess`. Heavy libraries are imported
inside the commands, so that ``siting --help`` answers at once.
"""

from __future__ import annotations

import contextlib
import json
import sys
from enum import Enum
from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.console import Console

from siting.errors import SitingError

app = typer.Typer(add_completion=False, no_args_is_help=True,
                  help="How much solar PV and onshore wind each county of a Chinese province can host.")
err = Console(stderr=True)


@app.callback()
def _main() -> None:
    """How much solar PV and onshore wind each county of a Chinese province can host."""
    import signal
    import threading

    import warnings

    # library chatter that says nothing to a user (empty-slice means are NaN by design; in-memory rasters have no
    # georeference); everything the user must know is in the notes
    warnings.filterwarnings("ignore", message="Mean of empty slice", category=RuntimeWarning)
    warnings.filterwarnings("ignore", message="invalid value encountered", category=RuntimeWarning)
    warnings.filterwarnings("ignore", message="Dataset has no geotransform")
    # SIGTERM ends the run like Ctrl-C does: temporary files are removed, nothing half-written stays
    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(128 + signum))


class Format(str, Enum):
    table = "table"
    csv = "csv"
    json = "json"


class ReportFormat(str, Enum):
    table = "table"
    csv = "csv"
    json = "json"
    xlsx = "xlsx"


class DemProduct(str, Enum):
    glo90 = "glo90"
    glo30 = "glo30"


# --------------------------------------------------------------------------- options shared by the commands

RegionArg = Annotated[Optional[str], typer.Argument(
    help="Province, city or county: 广西, guangxi, 450000, 柳州 ...")]
TechOpt = Annotated[str, typer.Option(help="Technologies: all, or some of pv (ground), agri_pv, fishery_pv, rooftop_pv, wind.")]
ResolutionOpt = Annotated[float, typer.Option(help="Analysis grid cell size in metres (Albers equal-area).")]
ScenarioOpt = Annotated[Optional[str], typer.Option(help="Scenario TOML file or preset name (default: china).")]
WindOpt = Annotated[Optional[Path], typer.Option(
    help="Mean wind-speed raster in m/s (e.g. Global Wind Atlas 100 m).")]
WindHeightOpt = Annotated[Optional[float], typer.Option(help="Height in m of the --wind speeds (100 for GWA).")]
GridOpt = Annotated[Optional[Path], typer.Option(
    "--grid", help="Grid lines and substations (vector file, e.g. OSM power lines): the line to the grid is costed.")]
GridVoltageOpt = Annotated[Optional[str], typer.Option(
    "--grid-voltage-column", help="Column of --grid with each line's voltage (volts or kV).")]
TariffOpt = Annotated[Optional[float], typer.Option(
    "--tariff", help="CNY/kWh to compare LCOE with, instead of the province's coal benchmark tariff (燃煤发电基准价).")]
HostingOpt = Annotated[Optional[Path], typer.Option(
    "--hosting", help="Grid hosting capacity CSV (adcode or name_zh, or lat/lon of substations; hosting_mw).")]
BoundariesOpt = Annotated[Optional[Path], typer.Option(
    help="Your own boundaries (any vector file) instead of the built-in counties.")]
IdColumnOpt = Annotated[Optional[str], typer.Option(help="Unique id column of --boundaries.")]
NameColumnOpt = Annotated[Optional[str], typer.Option(help="Name column of --boundaries.")]
DatumOpt = Annotated[str, typer.Option(help="Datum of --boundaries lon/lat: wgs84 or gcj02.")]
AllowPartialOpt = Annotated[bool, typer.Option("--allow-partial", help="Accept layers covering <99 % of the region.")]
SchedulerOpt = Annotated[Optional[str], typer.Option(
    help="Where the tiles run: threads (default), sync, or a dask scheduler address tcp://HOST:PORT.")]
WorkersOpt = Annotated[Optional[int], typer.Option(help="Local threads (default: the number of CPUs).")]
TileCellsOpt = Annotated[Optional[int], typer.Option(
    help="Tile side in grid cells (default 512); memory grows with its square.")]
QuietOpt = Annotated[bool, typer.Option("--quiet", "-q", help="No progress messages.")]
FormatOpt = Annotated[Format, typer.Option("--format", help="Output on stdout: table, csv or json.")]
TargetsOpt = Annotated[Optional[Path], typer.Option(help="Your own targets CSV (same columns as the shipped one).")]
DataOpt = Annotated[Optional[Path], typer.Option(
    "--data", help="A folder siting fetch filled: use the scenario it wrote for the region (instead of --scenario).")]
ExistingOpt = Annotated[Optional[Path], typer.Option(
    "--existing", help="Existing capacity CSV: adcode, tech (pv|wind), capacity_mw, as_of (date).")]
CalibrateOpt = Annotated[Optional[Path], typer.Option(
    "--calibrate-pv", help="Reference PVOUT or GHI (points CSV with lat, lon and a pvout/ghi column, or a raster): "
                           "fit and apply a correction of the PV yield.")]
CalibrateKindOpt = Annotated[Optional[str], typer.Option(
    "--calibrate-kind", help="pvout or ghi, when the reference's column or file name does not say.")]
ExistingStatusOpt = Annotated[str, typer.Option(
    help="Tracker statuses counted as existing wind, e.g. operating,construction.")]


def _progress(quiet: bool):
    """Progress messages on stderr, or None with -q."""
    return None if quiet else (lambda m: err.print(f"[dim]… {m}[/dim]", highlight=False))


def _fail(message: str) -> None:
    from rich.markup import escape

    err.print(f"[bold red]error:[/bold red] {escape(message)}", highlight=False, soft_wrap=True)
    raise typer.Exit(code=2)


def _techs(tech: str) -> list[str]:
    return [t.strip() for t in tech.split(",") if t.strip()]


def _assess(region, tech: str = "all", resolution: float = 1000.0, scenario=None, wind=None, wind_height=None,
            boundaries=None, id_column=None, name_column=None, datum: str = "wgs84", allow_partial: bool = False,
            scheduler=None, workers=None, tile_cells=None, quiet: bool = False, spinner: bool = False,
            calibrate_pv=None, calibrate_kind=None, grid=None, grid_voltage_column=None, tariff=None, hosting=None):
    """The one place where options become a :func:`siting.assess` call."""
    from siting.api import assess

    spin = spinner and not quiet and err.is_terminal
    with err.status("starting") if spin else contextlib.nullcontext() as status:
        return assess(region, tech=_techs(tech), resolution_m=resolution, scenario=scenario, boundaries=boundaries,
                      id_column=id_column, name_column=name_column, datum=datum, allow_partial=allow_partial,
                      wind=wind, wind_height_m=wind_height, scheduler=scheduler, workers=workers,
                      tile_cells=tile_cells, pv_calibration=calibrate_pv, pv_calibration_kind=calibrate_kind,
                      grid_lines=grid, grid_voltage_column=grid_voltage_column, tariff=tariff, hosting=hosting,
                      progress=(lambda m: status.update(f"[bold]{m}")) if spin else _progress(quiet))


def _data_scenario(data, region, scenario):
    """The scenario a ``--data`` folder holds for the region (``--scenario`` and ``--data`` exclude each other)."""
    if data is None:
        return scenario
    if scenario is not None:
        raise SitingError("give --scenario or --data, not both")
    if region is None:
        raise SitingError("--data needs a region (the scenario is per region)")
    from siting.io.fetched import scenario_for

    return str(scenario_for(data, region))


def _list(text: str) -> list[str]:
    return [s.strip() for s in text.split(",") if s.strip()]


def _records(df) -> str:
    return df.to_json(orient="records", force_ascii=False)


def _print_frame(df, format: Format, table) -> None:
    """A frame on stdout as CSV or JSON, or through ``table()`` (a rich renderer)."""
    if format == Format.csv:
        sys.stdout.write(df.to_csv(index=False))
    elif format == Format.json:
        sys.stdout.write(_records(df) + "\n")
    else:
        table()


# --------------------------------------------------------------------------- commands

@app.command()
def report(
    region: RegionArg = None,
    tech: TechOpt = "all",
    resolution: ResolutionOpt = 1000.0,
    scenario: ScenarioOpt = None,
    data: DataOpt = None,
    out: Annotated[Optional[Path], typer.Option(
        help="Write counties.csv/.gpkg, summary.csv, waterfall.csv, provenance.json into this folder.")] = None,
    format: Annotated[ReportFormat, typer.Option(
        "--format", help="Output on stdout: table, csv, json, or xlsx (a workbook: redirect it to a file).")
    ] = ReportFormat.table,
    boundaries: BoundariesOpt = None,
    id_column: IdColumnOpt = None,
    name_column: NameColumnOpt = None,
    datum: DatumOpt = "wgs84",
    allow_partial: AllowPartialOpt = False,
    rows: Annotated[Optional[int], typer.Option(help="Show at most this many counties in the table.")] = None,
    sort: Annotated[str, typer.Option(help="Sort the county table by this column, largest first "
                                           "(e.g. capacity_pv_mwp, energy_pv_gwh).")] = "area_km2",
    wind: WindOpt = None,
    wind_height: WindHeightOpt = None,
    year: Annotated[Optional[int], typer.Option(
        help="Compare with the plans' targets for this year (e.g. 2030).")] = None,
    targets: TargetsOpt = None,
    existing: ExistingOpt = None,
    existing_status: ExistingStatusOpt = "operating",
    calibrate_pv: CalibrateOpt = None,
    calibrate_kind: CalibrateKindOpt = None,
    grid: GridOpt = None,
    grid_voltage_column: GridVoltageOpt = None,
    tariff: TariffOpt = None,
    hosting: HostingOpt = None,
    quiet: QuietOpt = False,
    scheduler: SchedulerOpt = None,
    workers: WorkersOpt = None,
    tile_cells: TileCellsOpt = None,
) -> None:
    """Usable land and capacity for every county of a region, with the exclusion waterfall."""
    from siting.ui import report as rep

    try:
        if format == ReportFormat.xlsx and sys.stdout.isatty():
            raise SitingError("--format xlsx: a workbook is binary, not for the terminal; redirect it "
                              "(> report.xlsx) or use --out DIR, which writes DIR/report.xlsx")
        scenario = _data_scenario(data, region, scenario)
        a = _assess(region, tech, resolution, scenario, wind, wind_height, boundaries, id_column, name_column, datum,
                    allow_partial, scheduler, workers, tile_cells, quiet, spinner=format == ReportFormat.table,
                    calibrate_pv=calibrate_pv, calibrate_kind=calibrate_kind, grid=grid,
                    grid_voltage_column=grid_voltage_column, tariff=tariff, hosting=hosting)
        comparison, cmp_notes = (None, [])
        if year is not None or targets is not None:
            from siting.reference.compare import target_comparison

            comparison, cmp_notes = target_comparison(a, year, targets, existing_statuses=_list(existing_status),
                                                      existing_file=existing)
        if sort not in a.counties:
            raise SitingError(f"--sort {sort}: not a county column; e.g. capacity_pv_mwp, energy_pv_gwh, area_km2")
        written = a.save(out, comparison=comparison) if out is not None else []
    except SitingError as exc:
        _fail(str(exc))
        return
    if format == ReportFormat.xlsx:
        import io

        from siting.outputs.workbook import write_workbook

        buf = io.BytesIO()
        write_workbook(buf, a, comparison)
        sys.stdout.flush()
        sys.stdout.buffer.write(buf.getvalue())
        sys.stdout.buffer.flush()
    elif format == ReportFormat.csv:
        from siting.columns import rounded

        sys.stdout.write(rep.to_csv(a) if comparison is None else rep.to_csv(a) + "\n" +
                         rounded(comparison).to_csv(index=False))
    elif format == ReportFormat.json:
        sys.stdout.write(rep.to_json(a, comparison, cmp_notes) + "\n")
    else:
        console = Console()
        rep.render_table(a, console, max_rows=rows, sort=sort)
        if comparison is not None:
            rep.render_comparison(comparison, cmp_notes, console)
    if written and not quiet:
        err.print(f"wrote {len(written)} files to {out}", highlight=False)


@app.command()
def regions(
    region: Annotated[str, typer.Argument(help="A province or city (or 'china' for all provinces).")],
    format: FormatOpt = Format.table,
) -> None:
    """List the cities and counties of a region with their adcodes."""
    from siting.io.regions import list_regions
    from siting.ui import report as rep

    try:
        df = list_regions(region)
    except SitingError as exc:
        _fail(str(exc))
        return
    _print_frame(df, format, lambda: rep.regions_table(df, Console(), title=f"{region}: {len(df)} units"))


@app.command(name="fetch")
def fetch_cmd(
    region: Annotated[str, typer.Argument(help="Province, city or county: its bounding box is downloaded.")],
    datasets: Annotated[str, typer.Option(
        help="Comma-separated: dem, wind, solar, landcover, reserves, bathymetry.")] = "dem,wind,solar,landcover,reserves,bathymetry",
    cache: Annotated[Optional[Path], typer.Option(
        help="Cache folder (default $SITING_CACHE/rasters, else ./rasters).")] = None,
    base_url: Annotated[Optional[str], typer.Option(
        help="Mirror replacing scheme and host of every URL (default $SITING_FETCH_BASE_URL).")] = None,
    dem: Annotated[DemProduct, typer.Option(
        "--dem", help="Copernicus DEM: glo90 (90 m) or glo30 (30 m).")] = DemProduct.glo90,
    wind_weibull: Annotated[bool, typer.Option("--wind-weibull", help="Also fetch the Weibull A and k layers.")] = False,
    timeout: Annotated[float, typer.Option(help="Network timeout for each connect and read, in seconds.")] = 30.0,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress bars or summary.")] = False,
) -> None:
    """Download the DEM, wind, solar, land-cover and reserve files covering a region into the raster cache.

    Tiled datasets (DEM, land cover) are also mosaicked into one .vrt file that a layer can name.
    """
    from siting.io.fetch import FetchOptions, fetch_region

    try:
        got = fetch_region(region, datasets, cache_dir=cache, base_url=base_url, timeout_s=timeout,
                           progress=not quiet and err.is_terminal,
                           options=FetchOptions(dem=dem.value, wind_weibull=wind_weibull))
    except SitingError as exc:
        _fail(str(exc))
        return
    if not quiet:
        err.print(got.summary(), highlight=False)
        for m in got.mosaics:
            err.print(f"mosaic: {m}", highlight=False)
        err.print(got.scenario.note, highlight=False)
        err.print(f"next: siting report {region} --data {got.folder}", highlight=False)
    print(got.scenario.path)


@app.command(name="targets")
def targets_cmd(
    region: Annotated[str, typer.Argument(help="Province or city: guangxi, 柳州 ...")],
    year: Annotated[Optional[int], typer.Option(help="Only targets for this year.")] = None,
    targets: TargetsOpt = None,
    all_: Annotated[bool, typer.Option("--all", help="All quantitative targets, not only wind/PV capacity.")] = False,
    format: FormatOpt = Format.table,
) -> None:
    """The wind and PV targets of a province and its cities, with their sources."""
    from siting.io.regions import resolve
    from siting.reference.targets import load_targets, targets_for
    from siting.ui import report as rep

    try:
        reg = resolve(region)
        df = targets_for(reg, load_targets(targets), year, capacity_only=not all_)
    except SitingError as exc:
        _fail(str(exc))
        return
    df = df.drop(columns=["qualifier"]).assign(qualifier=df["qualifier"].map(lambda q: q.label))
    _print_frame(df, format, lambda: rep.render_targets(df, reg, Console()))


@app.command(name="allocate")
def allocate_cmd(
    region: Annotated[str, typer.Argument(help="Province or city.")],
    year: Annotated[Optional[int], typer.Option(help="Use the region's wind + PV target for this year.")] = None,
    target_mw: Annotated[Optional[float], typer.Option(help="Or distribute this many MW.")] = None,
    method: Annotated[str, typer.Option(help="merit (best yield first), cost (lowest LCOE first, never above a "
                                             "county's achievable capacity) or proportional.")] = "merit",
    tech: TechOpt = "all",
    resolution: ResolutionOpt = 1000.0,
    scenario: ScenarioOpt = None,
    targets: TargetsOpt = None,
    existing: ExistingOpt = None,
    existing_status: ExistingStatusOpt = "operating",
    wind: WindOpt = None,
    wind_height: WindHeightOpt = None,
    grid: GridOpt = None,
    grid_voltage_column: GridVoltageOpt = None,
    tariff: TariffOpt = None,
    hosting: HostingOpt = None,
    out: Annotated[Optional[Path], typer.Option(
        help="Write allocation.csv/.xlsx, supply_curve.csv/.png/.svg here.")] = None,
    format: FormatOpt = Format.table,
    quiet: QuietOpt = False,
) -> None:
    """Distribute the provincial target among counties (merit order, lowest cost first, or proportional) with a
    supply curve."""
    from siting.ui import report as rep

    try:
        if (year is None) == (target_mw is None):
            raise SitingError("give either --year (use the plan's target) or --target-mw")
        a = _assess(region, tech, resolution, scenario, wind, wind_height, quiet=quiet, grid=grid,
                    grid_voltage_column=grid_voltage_column, tariff=tariff, hosting=hosting)
        result = a.allocate(target_mw=target_mw, year=year, method=method, targets=targets,
                            existing_statuses=_list(existing_status), existing_file=existing)
        if out is not None:
            result.save(out, title=f"{a.region.name_pinyin} ({a.region.adcode}): supply curve" if a.region else "")
    except SitingError as exc:
        _fail(str(exc))
        return
    if format == Format.csv:
        sys.stdout.write(result.counties.to_csv(index=False))
    elif format == Format.json:
        doc = {"target_mw": result.target_mw, "method": result.method, "allocated_mw": result.allocated_mw,
               "shortfall_mw": result.shortfall_mw, "notes": result.notes, "source": result.source,
               "target_total_mw": result.target_total_mw, "existing_mw": result.existing_mw,
               "existing_vintage": result.existing_vintage, "sources": result.sources,
               "counties": json.loads(_records(result.counties))}
        sys.stdout.write(json.dumps(doc, ensure_ascii=False, indent=1, default=str) + "\n")
    else:
        rep.render_allocation(result, result.source, Console())
    if out is not None and not quiet:
        err.print(f"wrote allocation.csv, supply_curve.csv/.png/.svg to {out}", highlight=False)


@app.command()
def validate(
    region: Annotated[str, typer.Argument(help="Province, city or county.")],
    resolution: ResolutionOpt = 1000.0,
    scenario: ScenarioOpt = None,
    tracker: Annotated[Optional[Path], typer.Option(
        help="A newer Global Wind Power Tracker file (CSV or XLSX).")] = None,
    status: Annotated[str, typer.Option(
        help="Tracker statuses to check, e.g. operating,construction.")] = "operating",
    plants: Annotated[Optional[Path], typer.Option(
        help="Your own plants instead of the tracker: CSV/XLSX/points with lat, lon, capacity_mw, tech (pv|wind).")
    ] = None,
    tech: Annotated[str, typer.Option(help="Whose usable land to check: wind, offshore (the tracker's offshore phases "
                                           "on the usable sea), or with --plants pv (ground, agri- and fishery PV "
                                           "land together), agri_pv or fishery_pv.")] = "wind",
    radius: Annotated[float, typer.Option(help="Radius (m) sampled around each exact plant point.")] = 1000.0,
    format: Annotated[Format, typer.Option("--format", help="table, csv (per plant) or json.")] = Format.table,
    quiet: QuietOpt = False,
) -> None:
    """Check a scenario against where plants stand, and against chance.

    Reports the share of plant capacity on usable land, the share of the region that is usable by the same rule
    (a random point's chance), their ratio (lift) and the ROC AUC. Exits with status 1 when the scenario does
    worse than chance or excludes the land under most plants.
    """
    from siting.ui import report as rep

    try:
        # PV plants are checked against the land of every PV mode on land
        a = _assess(region, "pv,agri_pv,fishery_pv" if tech == "pv" else tech, resolution, scenario, quiet=quiet)
        result = a.validate(tracker, radius_m=radius, status=[s.strip() for s in status.split(",") if s.strip()],
                            plants=plants, tech=tech)
    except SitingError as exc:
        _fail(str(exc))
        return
    if format == Format.csv:
        sys.stdout.write(result.per_farm.to_csv(index=False))
    elif format == Format.json:
        doc = {k: getattr(result, k) for k in ("tech", "share_on_usable", "share_on_usable_point", "mw_checked",
                                               "mw_skipped_approximate", "mw_outside_region", "radius_m",
                                               "verdict", "flagged", "notes")}
        d = result.discrimination
        doc["discrimination"] = None if d is None else {
            "null_share": d.null_share, "lift": d.lift, "lift_interval": list(d.lift_interval), "auc": d.auc,
            "auc_interval": list(d.auc_interval), "verdict": d.verdict}
        doc["counties_over"] = json.loads(_records(result.counties_over))
        sys.stdout.write(json.dumps(doc, ensure_ascii=False, indent=1, default=float) + "\n")
    else:
        rep.render_validation(result, a, Console())
    if result.flagged:
        raise typer.Exit(code=1)


@app.command()
def sensitivity(
    region: RegionArg = None,
    tech: TechOpt = "all",
    resolution: ResolutionOpt = 1000.0,
    scenario: ScenarioOpt = None,
    wind: WindOpt = None,
    wind_height: WindHeightOpt = None,
    boundaries: BoundariesOpt = None,
    id_column: IdColumnOpt = None,
    name_column: NameColumnOpt = None,
    out: Annotated[Optional[Path], typer.Option(help="Also draw the tornado as a figure (.png, .svg or .pdf).")] = None,
    format: FormatOpt = Format.table,
    quiet: QuietOpt = False,
) -> None:
    """The assumptions that move the region's totals most: each at its low and high end (a tornado)."""
    from siting.ui import report as rep

    try:
        a = _assess(region, tech, resolution, scenario, wind, wind_height, boundaries, id_column, name_column,
                    quiet=quiet)
        df = a.sensitivity()
        path = a.save_tornado(out) if out is not None else None
    except SitingError as exc:
        _fail(str(exc))
        return
    _print_frame(df, format, lambda: rep.render_sensitivity(df, a, Console()))
    if path is not None and not quiet:
        err.print(f"wrote {path}", highlight=False)


@app.command(name="compare")
def compare_cmd(
    region: RegionArg = None,
    scenario: Annotated[list[str], typer.Option(
        "--scenario", help="Give it twice: scenario A, then scenario B (preset name or TOML file).")] = [],  # noqa: B006
    tech: TechOpt = "all",
    resolution: ResolutionOpt = 1000.0,
    year: Annotated[Optional[int], typer.Option(help="Also compare the verdicts on this year's plan targets.")] = None,
    wind: WindOpt = None,
    wind_height: WindHeightOpt = None,
    boundaries: BoundariesOpt = None,
    id_column: IdColumnOpt = None,
    name_column: NameColumnOpt = None,
    out: Annotated[Optional[Path], typer.Option(
        help="Write compare_counties.csv, compare_targets.csv, compare.xlsx and compare_map.html here.")] = None,
    rows: Annotated[Optional[int], typer.Option(help="Show at most this many counties.")] = 20,
    format: FormatOpt = Format.table,
    quiet: QuietOpt = False,
) -> None:
    """Two scenarios side by side: per county land, MW, GWh and what binds, and the verdicts on the targets."""
    from siting.api import compare_scenarios
    from siting.ui import report as rep

    try:
        if len(scenario) != 2:
            raise SitingError(f"--scenario: give exactly two (A and B), got {len(scenario)}")
        cmp = compare_scenarios(region, scenario, year=year, tech=_techs(tech), resolution_m=resolution, wind=wind,
                                wind_height_m=wind_height, boundaries=boundaries, id_column=id_column,
                                name_column=name_column, progress=_progress(quiet))
        written = cmp.save(out, year or 2030) if out is not None else []
    except SitingError as exc:
        _fail(str(exc))
        return
    if format == Format.csv:
        sys.stdout.write(cmp.counties.to_csv(index=False))
    elif format == Format.json:
        doc = {"scenarios": [cmp.a.scenario.meta.name, cmp.b.scenario.meta.name],
               "counties": json.loads(_records(cmp.counties)),
               "targets": None if cmp.targets is None else json.loads(_records(cmp.targets))}
        sys.stdout.write(json.dumps(doc, ensure_ascii=False, indent=1) + "\n")
    else:
        rep.render_scenario_comparison(cmp, Console(), max_rows=rows)
    if written and not quiet:
        err.print(f"wrote {len(written)} files to {out}", highlight=False)


@app.command(name="map")
def map_cmd(
    region: RegionArg = None,
    out: Annotated[Optional[Path], typer.Option(
        help="Output file (default maps/<region>.html, or .png with --png).")] = None,
    png: Annotated[bool, typer.Option("--png", help="Write a static PNG choropleth instead of the HTML map.")] = False,
    column: Annotated[str, typer.Option(help="Column shown by --png.")] = "capacity_pv_mwp",
    results: Annotated[Optional[Path], typer.Option(
        "--results", help="Draw from a folder siting report --out wrote, without running again.")] = None,
    tech: TechOpt = "all",
    resolution: ResolutionOpt = 1000.0,
    scenario: ScenarioOpt = None,
    data: DataOpt = None,
    year: Annotated[Optional[int], typer.Option(
        help="Targets year for the target-share layer (0: none).")] = 2030,
    wind: WindOpt = None,
    wind_height: WindHeightOpt = None,
    boundaries: BoundariesOpt = None,
    id_column: IdColumnOpt = None,
    name_column: NameColumnOpt = None,
    quiet: QuietOpt = False,
) -> None:
    """A self-contained interactive HTML map (or a static PNG) of the county results."""
    try:
        if results is None and region is not None and (Path(region) / "provenance.json").is_file():
            results, region = Path(region), None  # siting map results/guangxi_450000
        if results is not None:
            if region is not None or boundaries is not None or scenario is not None or data is not None:
                raise SitingError("--results draws a finished run: give no region, --boundaries, --scenario or --data")
            from siting.api import load_results
            from siting.outputs.maps import make_map, save_map

            a, comparison = load_results(results)
            path = (a.save_figure(out, column) if png else
                    save_map(make_map(a, comparison if year else None), out or Path("maps") / f"{a.stem}.html"))
        else:
            scenario = _data_scenario(data, region, scenario)
            a = _assess(region, tech, resolution, scenario, wind, wind_height, boundaries, id_column, name_column,
                        quiet=quiet)
            path = a.save_figure(out, column) if png else a.save_map(out, year or None)
    except SitingError as exc:
        _fail(str(exc))
        return
    print(path)


@app.command()
def turbines(format: Annotated[Format, typer.Option("--format", help="table, csv or json.")] = Format.table) -> None:
    """The turbine library: rated power, rotor, hub heights, specific power, source."""
    from siting.io.turbines import turbine_table
    from siting.ui import report as rep

    df = turbine_table()

    def table() -> None:
        shown = df.assign(source=df["source"].str.slice(0, 70) + "…").rename(columns={
            "id": "Id", "name": "Name", "manufacturer": "Maker", "rated_power_kw": "Rated power (kW)",
            "rotor_diameter_m": "Rotor (m)", "hub_heights_m": "Hub heights (m)",
            "specific_power_w_m2": "Specific power (W/m²)", "iec_class": "IEC class", "source": "Source"})
        rep.frame_table(shown, "Turbine library (add your own with a TOML file: [wind.model] turbine = \"path.toml\")",
                        Console())

    _print_frame(df, format, table)


@app.command(name="cache")
def cache_cmd(
    clear: Annotated[Optional[str], typer.Option(
        "--clear", help="Delete one kind of cached data (boundaries, layers, slope_codes, griddist) or all; the "
                        "next run that needs it rebuilds it.")] = None,
    format: FormatOpt = Format.table,
) -> None:
    """What siting keeps in its cache folder ($SITING_CACHE, else the user cache folder), and emptying it."""
    import pandas as pd

    from siting.io import cache
    from siting.ui import report as rep

    if clear is not None:
        try:
            files, mb = cache.clear(clear)
        except SitingError as exc:
            _fail(str(exc))
            return
        err.print(f"deleted {files} files ({mb:,.1f} MB) of {clear} from {cache.cache_root()}", highlight=False)
    df = pd.DataFrame(cache.usage(), columns=["kind", "holds", "files", "disk_mb", "newest"])
    _print_frame(df, format, lambda: rep.frame_table(df, f"Cache folder {cache.cache_root()} "
                                                          f"({df.disk_mb.sum():,.1f} MB on disk)", Console()))


@app.command(name="yield")
def yield_(
    lat: Annotated[float, typer.Argument(help="Latitude, degrees north.")],
    lon: Annotated[float, typer.Argument(help="Longitude, degrees east.")],
    mounting: Annotated[str, typer.Option(help="fixed or single_axis.")] = "fixed",
    tilt: Annotated[Optional[float], typer.Option(help="Tilt in degrees (default: latitude-optimal).")] = None,
    azimuth: Annotated[float, typer.Option(help="Azimuth in degrees (180 = south).")] = 180.0,
    format: Annotated[Format, typer.Option("--format", help="table or json.")] = Format.table,
) -> None:
    """Hourly-model PV yield summary at one point: monthly kWh/kWp and losses."""
    from siting.energy.pvpoint import point_yield
    from siting.model.solar import PVSystemSpec
    from siting.ui import report as rep

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


def main(argv: list[str] | None = None) -> None:
    """The ``siting`` command: usage errors (an unknown option, a bad choice) are one line with status 2.

    Typer's parser errors are recognised by their class names, whichever click (its own copy or the
    package) the installed Typer uses.
    """
    from rich.markup import escape

    try:
        code = app(args=argv, prog_name="siting", standalone_mode=False)
    except Exception as exc:  # noqa: BLE001 - parser errors are turned into one line; anything else re-raised
        kinds = {c.__name__ for c in type(exc).__mro__}
        ctx = getattr(exc, "ctx", None)
        if "NoArgsIsHelpError" in kinds and ctx is not None:
            print(ctx.get_help())
            sys.exit(0)
        if "UsageError" not in kinds:
            raise
        where = ctx.command_path if ctx is not None else "siting"
        message = " ".join(exc.format_message().split()).replace("Value error, ", "")
        err.print(f"[bold red]error:[/bold red] {escape(message)} (see {escape(where)} --help)", highlight=False,
                  soft_wrap=True)
        sys.exit(2)
    except KeyboardInterrupt:
        err.print("interrupted", highlight=False)
        sys.exit(130)
    sys.exit(code if isinstance(code, int) else 0)


if __name__ == "__main__":  # pragma: no cover
    main()
