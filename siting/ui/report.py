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

from siting import columns
from siting.api import Assessment


def _fmt(value, digits: int = 0) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"
    return f"{value:,.{digits}f}"


def _year(value) -> str:
    return "–" if value is None or pd.isna(value) else str(int(value))


def _name(row) -> str:
    pinyin = row.get("name_pinyin")
    return f"{row['name_zh']} {pinyin}" if isinstance(pinyin, str) and pinyin != row["name_zh"] else str(row["name_zh"])


ALL_PV_GWH = "energy_all_pv_gwh"  # terminal only: the energy of every PV mode together


def _value_columns(a: Assessment) -> list[tuple[str, str, int]]:
    """(column, header with units, digits) of the terminal table; headers from :mod:`siting.columns`.

    Capacity of every technology, the PV energy of all modes together, and wind energy where computed;
    usable land, yields and the rest are in the CSV, JSON and workbook.
    """
    names = ["area_km2"] + [columns.capacity_column(t) for t in a.technologies]
    pv = [t for t in a.technologies if t != "wind"]
    if any(columns.energy_column(t) in a.counties for t in pv):
        names.append(ALL_PV_GWH)
    if "wind" in a.technologies and "energy_wind_gwh" in a.counties:
        names += ["wind_speed_hub_ms", "energy_wind_gwh"]
    if "economic_achievable_mw" in a.counties:  # with [economics]: what pays and what the grid takes
        names += ["economic_achievable_mw"]

    capacity = {columns.capacity_column(t): t for t in a.technologies}

    def header(n: str) -> str:  # short: the table must fit 80 columns
        if n == ALL_PV_GWH:
            return "All PV (GWh/yr)"
        if n in capacity:
            return f"{columns.TECH_LABEL[capacity[n]]} ({columns.units(n)})"
        if n == "economic_achievable_mw":
            return "Achievable (MW)"
        return columns.label(n, with_units=True)

    return [(n, header(n), 1 if columns.units(n) == "m/s" else 0) for n in names]


def _with_all_pv(a: Assessment, df: pd.DataFrame) -> pd.DataFrame:
    gwh = [columns.energy_column(t) for t in a.technologies if t != "wind" and columns.energy_column(t) in df]
    if gwh:
        df = df.assign(**{ALL_PV_GWH: df[gwh].sum(axis=1, min_count=1)})
    return df


def render_table(a: Assessment, console: Console, max_rows: int | None = None, sort: str = "area_km2") -> None:
    """Print the county table (sorted by ``sort``, largest first; total last), subtotals and waterfall."""
    title = a.region.label if a.region else "user boundaries"
    res = a.provenance["grid"]["resolution_m"]
    console.print(f"[bold]{escape(title)}[/bold] · scenario {escape(a.scenario.meta.name)} · grid {res:g} m Albers · "
                  f"{_count(len(a.counties), 'county', 'counties')}")
    if a.notes:
        body = "\n".join(f"• {escape(n)}" for n in a.notes)
        console.print(Panel(body, title="Read before using these numbers", border_style="yellow", padding=(0, 1)))
    cols = _value_columns(a)
    table = Table(title=f"Counties by {columns.label(sort, with_units=True)}, largest first", show_lines=False,
                  header_style="bold")
    table.add_column("County")
    table.add_column("City")
    for _, label, _ in cols:
        table.add_column(label, justify="right")
    rows = _with_all_pv(a, a.counties).sort_values(sort, ascending=False, na_position="last")
    shown = rows if max_rows is None else rows.head(max_rows)
    for _, r in shown.iterrows():
        table.add_row(escape(_name(r)), escape(str(r["city_zh"] or "")), *[_fmt(r[c], d) for c, _, d in cols])
    if max_rows is not None and len(rows) > max_rows:
        table.add_row(f"… {len(rows) - max_rows} more", "", *[""] * len(cols))
    totals = _with_all_pv(a, a.totals)
    total = totals.iloc[-1]
    table.add_section()
    table.add_row(f"[bold]{escape(str(total['name_zh']))}[/bold]", "", *[f"[bold]{_fmt(total[c], d)}[/bold]" for c, _, d in cols])
    console.print(table)

    cities = totals[totals["level"] == "city"]
    if len(cities) > 1:
        ct = Table(title="City subtotals", header_style="bold")
        ct.add_column("City")
        ct.add_column("Counties", justify="right")
        for _, label, _ in cols:
            ct.add_column(label, justify="right")
        for _, r in cities.sort_values("area_km2", ascending=False).iterrows():
            ct.add_row(escape(str(r["name_zh"])), _fmt(r["n_counties"]), *[_fmt(r[c], d) for c, _, d in cols])
        console.print(ct)

    for tech in a.technologies:
        wf = Table(title=f"Exclusion waterfall, {escape(getattr(a.scenario, tech).label)} (whole region)", header_style="bold")
        wf.add_column("Step")
        wf.add_column("Removed km²", justify="right")
        wf.add_column("Remaining km²", justify="right")
        wf.add_column("Share of area", justify="right")
        whole = columns.whole_area(total, tech)
        remaining = whole
        wf.add_row("total sea area" if tech == "offshore" else "total area", "", _fmt(remaining), "100.0%")
        for step, col in a.provenance["steps"][tech].items():
            remaining -= total[col]
            wf.add_row(escape(step), _fmt(total[col]), _fmt(remaining), f"{remaining / whole:.1%}" if whole > 0 else "–")
        console.print(wf)


def to_csv(a: Assessment) -> str:
    """Counties, subtotals and total as CSV text (column ``level``)."""
    from siting.columns import rounded

    buf = io.StringIO()
    rounded(a.table()).to_csv(buf, index=False)
    return buf.getvalue()


def to_json(a: Assessment, comparison: pd.DataFrame | None = None, comparison_notes=()) -> str:
    """Provenance, notes, all rows (and the target comparison) as one JSON document."""
    rows = json.loads(a.table().to_json(orient="records", force_ascii=False))
    doc = {"provenance": a.provenance, "notes": a.notes, "rows": rows}
    if a.plan is not None:
        from dataclasses import asdict

        from siting.reference.basis import tech_bases

        doc["basis"] = {t: asdict(b) for t, b in tech_bases(a).items()}
    if comparison is not None:
        doc["targets"] = json.loads(comparison.to_json(orient="records", force_ascii=False))
        doc["targets_notes"] = list(comparison_notes)
    return json.dumps(doc, ensure_ascii=False, indent=1)


def render_comparison(cmp: pd.DataFrame, notes, console: Console) -> None:
    """Targets beside what was computed: a compact table (fits 80 columns), the verdicts and bases below it.

    A target stated by several documents (same jurisdiction, year, scope and value) is one row; the other
    documents are named under it.
    """
    key = ["adcode", "target_year", "scope", "target_mw"]
    groups = list(cmp.groupby(key, sort=False, dropna=False))
    t = Table(title="Targets of the plans against what was computed", header_style="bold")
    for col, j in (("#", "right"), ("Jurisdiction, year", "left"), ("Target MW", "right"), ("Computed MW", "right"),
                   ("P10–P90 MW", "right"), ("Exist. MW", "right"), ("Verdict", "left")):
        wraps = col in ("Jurisdiction, year", "Verdict")
        t.add_column(col, justify=j, no_wrap=not wraps, overflow="fold" if wraps else "ellipsis")
    colour = {"can_be_met": "green", "cannot_be_met": "red", "uncertain": "yellow", "not_decidable": "yellow"}
    details = []
    for k, (_, g) in enumerate(groups, 1):
        r = g.iloc[0]
        code = r.get("verdict")
        verdict = str(code).replace("_", " ") if isinstance(code, str) else "not compared"
        if code in colour:
            verdict = f"[{colour[code]}]{verdict}[/{colour[code]}]"
        rng = (f"{_fmt(r['achievable_mw_p10'])}–{_fmt(r['achievable_mw_p90'])}"
               if pd.notna(r.get("achievable_mw_p10")) else "–")
        t.add_row(str(k), escape(f"{r['jurisdiction_zh']} {_year(r['target_year'])}"), _fmt(r["target_mw"]),
                  _fmt(r["achievable_mw"]), rng, _fmt(r["existing_mw"]), verdict)
        text = [f"[{k}] {escape(str(r['status']))}"]
        if isinstance(r.get("basis_tier"), str):
            text.append(f"    basis: {escape(r['basis_tier'])}; {escape(str(r['basis_layers']))}; binds: "
                        f"{escape(str(r['binding_constraint']))}")
        if pd.notna(r.get("economic_mw")):
            text.append(f"    economic potential (LCOE ≤ tariff) of the computed components: {_fmt(r['economic_mw'])} MW")
        if not isinstance(code, str) or r.get("scope") in ("rooftop", "offshore base"):
            text.append(f"    {escape(str(r['note']))}")
        for _, d in g.iterrows():
            text.append(f"    {escape(str(d['qualifier_zh']) if isinstance(d['qualifier_zh'], str) else '')} "
                        f"{escape(str(d['source_document']))}: 「{escape(str(d['quote_zh']))}」")
        details.append("\n".join(text))
    console.print(t)
    for d in details:
        console.print(d, highlight=False)
    for n in notes:
        console.print(f"• {escape(n)}", highlight=False)


def render_targets(df: pd.DataFrame, region, console: Console) -> None:
    """Print targets with their sources."""
    t = Table(title=f"Targets: {escape(region.name_zh)} and its cities", header_style="bold", show_lines=True)
    for col in ("Jurisdiction", "Year", "Target", "Qualifier", "Metric", "Source"):
        t.add_column(col, overflow="fold")
    for _, r in df.iterrows():
        value = f"{r['value']} {r['unit']}" + (f"\n= {r['value_mw']:,.0f} MW" if pd.notna(r["value_mw"]) else "")
        src = f"{r['source_document']}" + (f", line {r['line']}" if pd.notna(r.get("line")) else "") + \
            (f", p.{int(float(r['page_in_compilation']))}" if pd.notna(r.get("page_in_compilation")) else "")
        t.add_row(escape(str(r["jurisdiction_zh"])), _year(r["target_year"]), escape(value),
                  escape(f"{r['qualifier_zh'] if isinstance(r['qualifier_zh'], str) else '–'} ({r['qualifier']})"),
                  escape(str(r["metric"])), escape(src) + "\n「" + escape(str(r["quote_zh"])) + "」")
    console.print(t)


def render_allocation(result, source, console: Console) -> None:
    """Print an allocation: the target, its documents, what exists, and MW per county."""
    head = f"[bold]Allocating {result.target_mw:,.0f} MW[/bold] by {result.method}"
    if result.target_total_mw is not None:
        head += (f" = target {result.target_total_mw:,.0f} MW − existing "
                 f"{(result.existing_mw or 0):,.0f} MW")
        if result.existing_vintage:
            head += f" ({escape(result.existing_vintage)})"
    console.print(head)
    for s in result.sources or ([source] if source is not None else []):
        console.print(f"  · {escape(str(s['source_document']))}: 「{escape(str(s['quote_zh']))}」", highlight=False)
    for n in result.notes:
        console.print(Panel(escape(n), border_style="yellow", padding=(0, 1)))
    t = Table(title="Allocation per county (largest first)", header_style="bold")
    cols = [c for c in result.counties.columns if c.startswith("allocated_")]
    t.add_column("County")
    for c in cols:
        label = {"allocated_mw": "total MW"}.get(c, c.replace("allocated_", "").replace("_mw", " MW").replace("pv", "PV"))
        t.add_column(label, justify="right")
    for _, r in result.counties[result.counties.allocated_mw > 0].iterrows():
        t.add_row(escape(str(r["name_zh"])), *[_fmt(r[c]) for c in cols])
    t.add_section()
    t.add_row("[bold]total[/bold]", *[_fmt(result.counties[c].sum()) for c in cols])
    console.print(t)
    if result.shortfall_mw > 0:
        console.print(f"[red]shortfall {result.shortfall_mw:,.0f} MW[/red]")


def _text(value) -> str:
    """A cell for people: empty for a missing value (never "nan" or "None")."""
    return "" if value is None or (isinstance(value, float) and math.isnan(value)) or value is pd.NA else escape(str(value))


def _count(n: int, one: str, many: str) -> str:
    return f"{n:,} {one if n == 1 else many}"


def regions_table(df: pd.DataFrame, console: Console, title: str) -> None:
    """Print a list of regions as a rich table."""
    t = Table(title=title, header_style="bold")
    for col in ("level", "adcode", "name_zh", "name_pinyin", "city_zh"):
        t.add_column(col)
    for _, r in df.iterrows():
        t.add_row(*[_text(r[c]) for c in ("level", "adcode", "name_zh", "name_pinyin", "city_zh")])
    console.print(t)


def render_point_yield(summary: dict, console: Console) -> None:
    """Print the one-point PV yield summary made by :func:`siting.energy.pvpoint.point_yield`."""
    console.print(f"[bold]PV yield at {summary['lat_deg']:.3f}° N, {summary['lon_deg']:.3f}° E[/bold] · "
                  f"elevation {summary['elevation_m']:.0f} m · {escape(summary['system'])}")
    console.print(Panel(escape(summary["note"]), border_style="yellow", padding=(0, 1)))
    t = Table(title="Monthly", header_style="bold")
    for col in ("Month", "GHI W/m² (daily mean)", "kWh/kWp"):
        t.add_column(col, justify="right")
    for m, (g, y) in enumerate(zip(summary["monthly_ghi_w_m2"], summary["monthly_kwh_per_kwp"]), start=1):
        t.add_row(str(m), _fmt(g, 0), _fmt(y, 1))
    t.add_section()
    t.add_row("year", _fmt(summary["ghi_kwh_per_m2_yr"], 0) + " kWh/m²", _fmt(summary["specific_yield_kwh_per_kwp"], 0))
    console.print(t)
    lt = Table(title="Losses", header_style="bold")
    lt.add_column("Loss")
    lt.add_column("Share", justify="right")
    for k, v in summary["losses"].items():
        lt.add_row(escape(k), f"{v:.1%}")
    console.print(lt)
    console.print(f"capacity factor (AC): {summary['capacity_factor_ac']:.1%} · "
                  f"plane-of-array irradiation {summary['poa_kwh_per_m2_yr']:.0f} kWh/m²/yr")


def render_validation(result, a: Assessment, console: Console) -> None:
    """Print a fleet validation: the verdict, the numbers behind it, counties over capacity."""
    d = result.discrimination
    style = "red" if result.flagged else ("green" if d is not None and d.verdict == "discriminates" else "yellow")
    what = {"wind": "wind farms", "offshore": "offshore wind farms"}.get(result.tech, "PV plants")
    ground = "sea" if result.tech == "offshore" else "land"
    cap = "capacity_offshore_mw" if result.tech == "offshore" else "capacity_wind_mw"
    console.print(Panel(escape(result.verdict), border_style=style, padding=(0, 1),
                        title=f"Scenario {escape(a.scenario.meta.name)} against existing {what}"))
    if d is not None:
        t = Table(header_style="bold", title="Plants against chance")
        for col in ("", "value", "95 % interval", "chance"):
            t.add_column(col, justify="left" if not col else "right")
        t.add_row(f"capacity on usable {ground}", f"{d.share_on_usable:.1%}", "", f"{d.null_share:.1%} of the region")
        t.add_row("lift", f"{d.lift:.2f}", f"{d.lift_interval[0]:.2f}–{d.lift_interval[1]:.2f}", "1")
        t.add_row("ROC AUC", f"{d.auc:.2f}", f"{d.auc_interval[0]:.2f}–{d.auc_interval[1]:.2f}", "0.5")
        console.print(t)
    console.print(f"checked {result.mw_checked:,.0f} MW with exact locations (radius {result.radius_m:,.0f} m); "
                  f"skipped {result.mw_skipped_approximate:,.0f} MW with approximate locations; "
                  f"{result.mw_outside_region:,.0f} MW outside the area", highlight=False)
    if len(result.counties_over):
        t = Table(title=f"Counties where existing {what} exceed the scenario's achievable capacity",
                  header_style="bold")
        for col in ("County", "Existing MW", "Achievable MW", "Excess MW"):
            t.add_column(col, justify="left" if col == "County" else "right")
        for _, r in result.counties_over.iterrows():
            t.add_row(escape(str(r["name_zh"])), _fmt(r["existing_wind_mw"]), _fmt(r[cap]),
                      _fmt(r.get("excess_mw", r["existing_wind_mw"] - r[cap])))
        console.print(t)
    for n in result.notes:
        console.print(f"• {escape(n)}", highlight=False)


def frame_table(df: pd.DataFrame, title: str, console: Console) -> None:
    """Print any small DataFrame as a rich table."""
    t = Table(title=escape(title), header_style="bold")
    for col in df.columns:
        t.add_column(escape(str(col)), overflow="fold")
    for _, r in df.iterrows():
        t.add_row(*[escape(str(v)) for v in r])
    console.print(t)


def render_sensitivity(df: pd.DataFrame, a: Assessment, console: Console) -> None:
    """The tornado as a table: each assumption at its low and high end, the others at their defaults."""
    title = (a.region.label if a.region else "user boundaries")
    table = Table(title=f"{title}: what moves the totals (one assumption at a time)", header_style="bold")
    for col in ("Assumption", "Range", "MW at low", "MW at high", "GWh at low", "GWh at high", "Swing"):
        table.add_column(col, justify="left" if col == "Assumption" else "right", overflow="fold")
    for _, r in df.iterrows():
        gl = "" if pd.isna(r["gwh_at_low"]) else _fmt(r["gwh_at_low"])
        gh = "" if pd.isna(r["gwh_at_high"]) else _fmt(r["gwh_at_high"])
        table.add_row(escape(r["assumption"]), f"{r['low']:g}–{r['high']:g} ({r['default']:g})",
                      _fmt(r["mw_at_low"]), _fmt(r["mw_at_high"]), gl, gh, f"{r['swing_share']:.0%}")
    console.print(table)
    console.print("[dim]Swing: the larger of the capacity and energy change between the two ends, as a share of "
                  "the technology's total at the defaults. Ranges and their sources: layers/china.toml [*.ranges].[/dim]")


def render_scenario_comparison(cmp, console: Console, max_rows: int | None = 20) -> None:
    """Two scenarios side by side: the counties that change most, the totals, the verdicts."""
    a, b = cmp.a.scenario.meta.name, cmp.b.scenario.meta.name
    df = cmp.counties.reindex(cmp.counties["capacity_mw_diff"].abs().sort_values(ascending=False).index)
    t = Table(title=f"Scenario B ({escape(b)}) minus A ({escape(a)}): counties that change most",
              header_style="bold")
    cols = [c for c in ("usable_pv_km2_diff", "capacity_pv_mwp_diff", "usable_wind_km2_diff", "capacity_wind_mw_diff",
                        "energy_pv_gwh_diff") if c in df]
    t.add_column("County")
    for c in cols:
        t.add_column(columns.label(c.removesuffix("_diff"), with_units=True) + " Δ", justify="right")
    t.add_column("binds (A → B)")
    for _, r in df.head(max_rows or len(df)).iterrows():
        binds = " / ".join(f"{r.get(f'binding_{x}_a')} → {r.get(f'binding_{x}_b')}" for x in ("pv", "wind")
                           if f"binding_{x}_a" in r and r.get(f"binding_{x}_a") != r.get(f"binding_{x}_b"))
        t.add_row(escape(str(r["name_zh"])), *[_fmt(r[c]) for c in cols], escape(binds or "same"))
    t.add_section()
    t.add_row("[bold]all counties[/bold]", *[_fmt(cmp.counties[c].sum()) for c in cols], "")
    console.print(t)
    if cmp.targets is not None and len(cmp.targets):
        v = Table(title="Verdicts on the plan targets", header_style="bold", show_lines=True)
        for col in ("Jurisdiction, year", "Target MW", "A", "B"):
            v.add_column(col, overflow="fold")
        for _, r in cmp.targets.iterrows():
            v.add_row(escape(f"{r['jurisdiction_zh']} {_year(r['target_year'])}"), _fmt(r["target_mw"]),
                      escape(f"{_fmt(r.get('achievable_mw_a'))} MW: {r.get('status_a')}"),
                      escape(f"{_fmt(r.get('achievable_mw_b'))} MW: {r.get('status_b')}"))
        console.print(v)
