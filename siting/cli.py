"""Command line: ``siting report``, ``siting regions``. Parses arguments and calls the API."""

from __future__ import annotations

import sys
from enum import Enum
from pathlib import Path
from typing import Optional

import typer
from rich.console import Console

from .errors import SitingError

app = typer.Typer(add_completion=False, no_args_is_help=True,
                  help="How much solar PV and onshore wind each county of a Chinese province can host.")
err = Console(stderr=True)


class Format(str, Enum):
    table = "table"
    csv = "csv"
    json = "json"


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
    quiet: bool = typer.Option(False, "--quiet", "-q", help="No progress messages."),
) -> None:
    """Usable land and capacity for every county of a region, with the exclusion waterfall."""
    from . import report as rep
    from .assess import assess

    console = Console()
    techs = [t.strip() for t in tech.split(",") if t.strip()]
    try:
        if quiet or format != Format.table or not err.is_terminal:
            a = assess(region, tech=techs, resolution_m=resolution, scenario=scenario, boundaries=boundaries,
                       id_column=id_column, name_column=name_column, datum=datum, allow_partial=allow_partial,
                       progress=None if quiet else (lambda m: err.print(f"[dim]… {m}[/dim]", highlight=False)))
        else:
            with err.status("starting") as status:
                a = assess(region, tech=techs, resolution_m=resolution, scenario=scenario, boundaries=boundaries,
                           id_column=id_column, name_column=name_column, datum=datum, allow_partial=allow_partial,
                           progress=lambda m: status.update(f"[bold]{m}"))
        written = a.save(out) if out is not None else []
    except SitingError as exc:
        _fail(str(exc))
        return
    if format == Format.csv:
        sys.stdout.write(rep.to_csv(a))
    elif format == Format.json:
        sys.stdout.write(rep.to_json(a) + "\n")
    else:
        rep.render_table(a, console, max_rows=rows)
    if written and not quiet:
        err.print(f"wrote {len(written)} files to {out}", highlight=False)


@app.command()
def regions(
    region: str = typer.Argument(..., help="A province or city (or 'china' for all provinces)."),
    format: Format = typer.Option(Format.table, "--format", help="table, csv or json."),
) -> None:
    """List the cities and counties of a region with their adcodes."""
    from . import report as rep
    from .region import list_regions

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


def main() -> None:  # pragma: no cover
    app()


if __name__ == "__main__":  # pragma: no cover
    main()
