"""Terminal and machine-readable renderings of an assessment."""

from __future__ import annotations

import io
import json
import math

import pandas as pd
from rich.console import Console
from rich.markup import escape
from rich.panel import Panel
from rich.table import Table

from .assess import Assessment


def _fmt(value, digits: int = 0) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"
    return f"{value:,.{digits}f}"


def _name(row) -> str:
    pinyin = row.get("name_pinyin")
    return f"{row['name_zh']} {pinyin}" if isinstance(pinyin, str) and pinyin != row["name_zh"] else str(row["name_zh"])


def _value_columns(a: Assessment) -> list[tuple[str, str, int]]:
    cols = [("area_km2", "Area km²", 0)]
    if "pv" in a.technologies:
        cols += [("usable_pv_km2", "PV usable km²", 0), ("capacity_pv_mwp", "PV MWp", 0)]
    if "wind" in a.technologies:
        cols += [("usable_wind_km2", "Wind usable km²", 0), ("capacity_wind_mw", "Wind MW", 0)]
    return cols


def render_table(a: Assessment, console: Console, max_rows: int | None = None) -> None:
    """Print the county table (largest counties first, total last), subtotals and waterfall."""
    title = a.region.label if a.region else "user boundaries"
    res = a.provenance["grid"]["resolution_m"]
    console.print(f"[bold]{escape(title)}[/bold] · scenario {escape(a.scenario.meta.name)} · grid {res:g} m Albers · "
                  f"{len(a.counties)} counties")
    if a.notes:
        body = "\n".join(f"• {escape(n)}" for n in a.notes)
        console.print(Panel(body, title="Read before using these numbers", border_style="yellow", padding=(0, 1)))
    cols = _value_columns(a)
    table = Table(title="Counties (largest first)", show_lines=False, header_style="bold")
    table.add_column("County")
    table.add_column("City")
    for _, label, _ in cols:
        table.add_column(label, justify="right")
    rows = a.counties.sort_values("area_km2", ascending=False)
    shown = rows if max_rows is None else rows.head(max_rows)
    for _, r in shown.iterrows():
        table.add_row(escape(_name(r)), escape(str(r["city_zh"] or "")), *[_fmt(r[c], d) for c, _, d in cols])
    if max_rows is not None and len(rows) > max_rows:
        table.add_row(f"… {len(rows) - max_rows} more", "", *[""] * len(cols))
    total = a.totals.iloc[-1]
    table.add_section()
    table.add_row(f"[bold]{escape(str(total['name_zh']))}[/bold]", "", *[f"[bold]{_fmt(total[c], d)}[/bold]" for c, _, d in cols])
    console.print(table)

    cities = a.totals[a.totals["level"] == "city"]
    if len(cities) > 1:
        ct = Table(title="City subtotals", header_style="bold")
        ct.add_column("City")
        ct.add_column("Counties", justify="right")
        for _, label, _ in cols:
            ct.add_column(label, justify="right")
        for _, r in cities.sort_values("area_km2", ascending=False).iterrows():
            ct.add_row(escape(str(r["name_zh"])), str(r["n_counties"]), *[_fmt(r[c], d) for c, _, d in cols])
        console.print(ct)

    for tech in a.technologies:
        wf = Table(title=f"Exclusion waterfall, {escape(getattr(a.scenario, tech).label)} (whole region)", header_style="bold")
        wf.add_column("Step")
        wf.add_column("Removed km²", justify="right")
        wf.add_column("Remaining km²", justify="right")
        wf.add_column("Share of area", justify="right")
        remaining = total["grid_area_km2"]
        wf.add_row("total area", "", _fmt(remaining), "100.0%")
        for step, col in a.provenance["steps"][tech].items():
            remaining -= total[col]
            wf.add_row(escape(step), _fmt(total[col]), _fmt(remaining), f"{remaining / total['grid_area_km2']:.1%}")
        console.print(wf)


def to_csv(a: Assessment) -> str:
    """Counties, subtotals and total as CSV text (column ``level``)."""
    buf = io.StringIO()
    a.table().to_csv(buf, index=False)
    return buf.getvalue()


def to_json(a: Assessment) -> str:
    """Provenance, notes and all rows as one JSON document."""
    rows = json.loads(a.table().to_json(orient="records", force_ascii=False))
    return json.dumps({"provenance": a.provenance, "notes": a.notes, "rows": rows}, ensure_ascii=False, indent=1)


def regions_table(df: pd.DataFrame, console: Console, title: str) -> None:
    """Print a list of regions as a rich table."""
    t = Table(title=title, header_style="bold")
    for col in ("level", "adcode", "name_zh", "name_pinyin", "city_zh"):
        t.add_column(col)
    for _, r in df.iterrows():
        t.add_row(*[escape(str(r[c])) if r[c] is not None else "" for c in ("level", "adcode", "name_zh", "name_pinyin",
                                                                     "city_zh")])
    console.print(t)
