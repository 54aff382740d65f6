"""County table: zonal sums of areas, exclusions and capacity, plus city and province subtotals.

The columns, their units and descriptions are declared in :mod:`siting.columns` (and listed in
``docs/columns.md``). For every county and technology ``t``:
``grid_area_km2 = usable_{t}_km2 + Σ removed_{t}_*_km2``.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd

from siting import columns as C
from siting.columns import ID_COLUMNS, MEAN_COLUMNS
from siting.engine.sums import CountySums, TechSums, class_parts, economic_key, foundation_key
from siting.rules.scenario import PV_TECHS, TECH_NAMES, TechSpec, rule_category



def step_column(tech: str, step: str) -> str:
    """Column name of a waterfall step, e.g. ``removed_pv_nodata_land_cover_km2``."""
    return C.REMOVED_KM2(tech, step)


def at_default_density(tech: TechSpec, ts: TechSums, total: np.ndarray, what: str = "") -> np.ndarray:
    """A sum over usable cells, each cell weighted by its packing density relative to the technology's.

    Offshore cells of a foundation type (:attr:`TechSpec.foundations`) have that type's density; every
    other cell (and every cell of the other technologies) the technology's ``capacity_density_mw_per_km2``.
    So ``result × capacity_density_mw_per_km2`` is Σ cell × its own density.

    Parameters
    ----------
    tech : TechSpec
    ts : TechSums
        The technology's sums (with the ``foundation.<name>`` sums when a depth layer was read).
    total : numpy.ndarray
        The sum over all usable cells (usable share, × MWh per MW, or with an energy figure).
    what : {"", "energy", "has"}
        Which sum ``total`` is (see :func:`siting.engine.sums.foundation_key`).
    """
    out = np.asarray(total, dtype="float64").copy()
    for name, _, _, density in tech.foundation_bands():
        part = ts.usable_by_weight.get(foundation_key(name, what))
        if part is not None:
            out += part * (density / tech.capacity_density_mw_per_km2 - 1.0)
    return out


def capacity_columns(tech_name: str, tech: TechSpec, usable_km2: np.ndarray | pd.Series) -> dict[str, np.ndarray]:
    """Capacity from usable land: km² × packing density (MW/km²) × utilisation.

    PV capacity is DC (MWp) from the density; AC (MW) divides by the DC/AC ratio. For offshore wind with
    foundation types give ``usable_km2`` at the default density (:func:`at_default_density`).
    """
    mw = np.asarray(usable_km2, dtype="float64") * tech.capacity_density_mw_per_km2 * tech.utilisation
    if tech_name in PV_TECHS:
        names = C.pv_columns(tech_name)
        out = {names["mwp"]: mw}
        if tech.dc_ac_ratio:
            out[names["mwac"]] = mw / tech.dc_ac_ratio
        return out
    return {C.capacity_column(tech_name): mw}


def county_table(units: gpd.GeoDataFrame, sums: CountySums, cell_area_km2: float,
                 techs: dict[str, TechSpec], steps: dict[str, list[str]]) -> gpd.GeoDataFrame:
    """Assemble the county table from the per-county sums of the engine.

    Parameters
    ----------
    units : GeoDataFrame
        The counties, in county-index order.
    sums : CountySums
        Per-county sums over cells of fraction × value (:func:`siting.engine.reduce.combine`).
    cell_area_km2 : float
    techs : dict
        Technology name → TechSpec.
    steps : dict
        Technology name → waterfall step names in order.

    Returns
    -------
    GeoDataFrame
        One row per county, geometry in EPSG:4326.
    """
    n = len(units)
    zero = np.zeros(n)
    table = units[ID_COLUMNS + ["area_km2", "geometry"]].copy()
    table[C.GRID_AREA_KM2.name] = sums.area * cell_area_km2
    for name in MEAN_COLUMNS:
        if name in sums.layer_total:
            num, den = sums.layer_total[name], sums.layer_cells[name]
            with np.errstate(invalid="ignore", divide="ignore"):
                table[name] = np.where(den > 0, num / den, np.nan)
    for t, spec in techs.items():
        ts = sums.tech_or_empty(t)
        ukm2 = ts.usable * cell_area_km2
        table[C.USABLE_KM2(t)] = ukm2
        with np.errstate(invalid="ignore", divide="ignore"):
            table[C.USABLE_SHARE(t)] = np.where(table[C.GRID_AREA_KM2.name] > 0, ukm2 / table[C.GRID_AREA_KM2.name],
                                                np.nan)
        for step in steps.get(t, []):
            table[step_column(t, step)] = ts.removed.get(step, zero) * cell_area_km2
        for col, vals in capacity_columns(t, spec, at_default_density(spec, ts, ts.usable) * cell_area_km2).items():
            table[col] = vals
        table = foundation_columns(table, t, spec, ts, cell_area_km2)
        if ts.energy_mwh_per_mw is not None:
            mw_per_share = cell_area_km2 * spec.capacity_density_mw_per_km2 * spec.utilisation
            energy_gwh = at_default_density(spec, ts, ts.energy_mwh_per_mw, "energy") * mw_per_share / 1000.0
            mw_known = at_default_density(spec, ts, ts.usable_with_energy, "has") * mw_per_share
            # a county with capacity but no resource value anywhere has no energy figure: not computed, not 0
            energy_gwh = np.where((mw_known > 0) | (ukm2 <= 0), energy_gwh, np.nan)
            cols = (pv_energy_columns(energy_gwh, mw_known, spec, t) if t in PV_TECHS
                    else wind_energy_columns(energy_gwh, mw_known, t))
            for col, vals in cols.items():
                table[col] = vals
        for col, vals in economic_columns(t, spec, ts, cell_area_km2).items():
            table[col] = vals
    add_binding(table, techs, steps)
    cols = [c for c in table.columns if c != "geometry"] + ["geometry"]
    return gpd.GeoDataFrame(table[cols], geometry="geometry", crs=units.crs)


def economic_columns(tech_name: str, spec: TechSpec, ts: TechSums, cell_area_km2: float) -> dict[str, np.ndarray]:
    """LCOE, distance to the grid and economic potential (at the mid, high and low costs) of a technology
    whose cells had costs and a yield (nothing otherwise), from its sums per cost class."""
    w = ts.usable_by_weight
    usable = w.get(economic_key("classes"))
    if usable is None:
        return {}
    parts = class_parts(usable.shape[1])
    ac = (spec.dc_ac_ratio or 1.0) if tech_name in PV_TECHS else 1.0
    mw_per_share = cell_area_km2 * spec.capacity_density_mw_per_km2 * spec.utilisation / ac
    out = {}
    with np.errstate(invalid="ignore", divide="ignore"):
        energy = w[economic_key("classes", "energy")].sum(axis=1)
        out[C.LCOE(tech_name)] = np.where(energy > 0, w[economic_key("classes", "cost")].sum(axis=1) / energy, np.nan)
        if economic_key("classes", "grid_km") in w:
            known = w[economic_key("classes", "grid_known")].sum(axis=1)
            out[C.GRID_KM(tech_name)] = np.where(known > 0, w[economic_key("classes", "grid_km")].sum(axis=1) / known,
                                                 np.nan)
    out[C.ECONOMIC_MW(tech_name)] = usable[:, parts["mid"]].sum(axis=1) * mw_per_share
    out[C.ECONOMIC_MIN(tech_name)] = usable[:, parts["high"]].sum(axis=1) * mw_per_share
    out[C.ECONOMIC_MAX(tech_name)] = usable[:, parts["low"]].sum(axis=1) * mw_per_share
    return out


def supply_blocks_table(units: pd.DataFrame, sums: CountySums, cell_area_km2: float, techs: dict[str, TechSpec],
                        edges: list[float]) -> pd.DataFrame:
    """The supply curve's blocks: per county, technology and LCOE class, the capacity (MW; PV in AC), its annual
    energy (GWh), its energy-weighted LCOE and the class's bounds (CNY/kWh). Classes with no capacity are left
    out."""
    rows = []
    lo_edges = [0.0] + list(edges)
    hi_edges = list(edges) + [np.inf]
    for t, spec in techs.items():
        w = sums.tech_or_empty(t).usable_by_weight
        usable = w.get(economic_key("classes"))
        if usable is None:
            continue
        bins = class_parts(usable.shape[1])["bin"]
        ac = (spec.dc_ac_ratio or 1.0) if t in PV_TECHS else 1.0
        mw_per_share = cell_area_km2 * spec.capacity_density_mw_per_km2 * spec.utilisation
        for k in range(len(edges) + 1):
            pick = bins == k
            mw = usable[:, pick].sum(axis=1) * mw_per_share
            mwh = w[economic_key("classes", "energy")][:, pick].sum(axis=1)
            with np.errstate(invalid="ignore", divide="ignore"):
                lcoe = np.where(mwh > 0, w[economic_key("classes", "cost")][:, pick].sum(axis=1) / mwh, np.nan)
            rows.append(pd.DataFrame({"adcode": units["adcode"].to_numpy(), "name_zh": units["name_zh"].to_numpy(),
                                      "tech": t, "lcoe_class": k, "lcoe_low_cny_per_kwh": lo_edges[k],
                                      "lcoe_high_cny_per_kwh": hi_edges[k], "lcoe_cny_per_kwh": lcoe,
                                      "capacity_mw": mw / ac, "energy_gwh": mwh * mw_per_share / 1000.0}))
    if not rows:
        return pd.DataFrame(columns=["adcode", "name_zh", "tech", "lcoe_class", "lcoe_low_cny_per_kwh",
                                     "lcoe_high_cny_per_kwh", "lcoe_cny_per_kwh", "capacity_mw", "energy_gwh"])
    out = pd.concat(rows, ignore_index=True)
    return out[out.capacity_mw > 1e-9].reset_index(drop=True)


def foundation_columns(table: pd.DataFrame, tech_name: str, spec: TechSpec, ts: TechSums,
                       cell_area_km2: float) -> pd.DataFrame:
    """Usable sea and capacity per foundation type (offshore with a depth layer; nothing otherwise)."""
    for name, _, _, density in spec.foundation_bands():
        part = ts.usable_by_weight.get(foundation_key(name))
        if part is None:
            continue
        km2 = part * cell_area_km2
        table[C.FOUNDATION_KM2(tech_name, name)] = km2
        table[C.FOUNDATION_MW(tech_name, name)] = km2 * density * spec.utilisation
    return table


def add_binding(table: pd.DataFrame, techs: dict[str, TechSpec], steps: dict[str, list[str]]) -> None:
    """Per technology: the step that removed the most land, the second, and the kind of constraint it is."""
    for t, spec in techs.items():
        names = steps.get(t, [])
        if not names:
            continue
        removed = np.column_stack([table[step_column(t, s)].to_numpy(dtype="float64") for s in names])
        order = np.argsort(-removed, axis=1, kind="stable")
        first, second = order[:, 0], order[:, 1] if len(names) > 1 else order[:, 0]
        has1 = removed[np.arange(len(table)), first] > 0
        has2 = (removed[np.arange(len(table)), second] > 0) & (len(names) > 1)
        cats = [rule_category(s, spec.rules.get(s)) for s in names]
        table[C.BINDING(t)] = np.where(has1, np.array(names, dtype=object)[first], None)
        table[C.BINDING_2(t)] = np.where(has2, np.array(names, dtype=object)[second], None)
        table[C.BINDING_CATEGORY(t)] = np.where(has1, np.array(cats, dtype=object)[first], None)


def pv_energy_columns(energy_gwh: np.ndarray, mwp_with_yield: np.ndarray, tech: TechSpec, tech_name: str = "pv"
                      ) -> dict[str, np.ndarray]:
    """Annual PV energy per county and the yield figures derived from it.

    energy (GWh/yr) = Σ usable km² × MWp/km² × utilisation × kWh/kWp / 1000. The
    specific yield is energy per MWp of the capacity that has a yield value;
    the capacity factor is on the AC rating (MWac = MWp / DC-AC ratio).
    """
    with np.errstate(invalid="ignore", divide="ignore"):
        specific = np.where(mwp_with_yield > 0, energy_gwh * 1000.0 / mwp_with_yield, np.nan)
        cf = specific * (tech.dc_ac_ratio or 1.0) / 8760.0
    names = C.pv_columns(tech_name)
    return {names["gwh"]: energy_gwh, names["yield"]: specific, names["cf"]: cf}


def wind_energy_columns(energy_gwh: np.ndarray, mw_with_cf: np.ndarray, tech_name: str = "wind"
                        ) -> dict[str, np.ndarray]:
    """Annual wind energy per county and its capacity factor.

    energy (GWh/yr) = Σ MW × net capacity factor × 8,760 h / 1000, over cells
    with a capacity factor; the county capacity factor is energy over the MW
    that have one.
    """
    with np.errstate(invalid="ignore", divide="ignore"):
        cf = np.where(mw_with_cf > 0, energy_gwh / (mw_with_cf * 8.76), np.nan)
    return {C.energy_column(tech_name): energy_gwh, f"capacity_factor_{tech_name}": cf}


def _additive(columns) -> list[str]:
    return [c for c in columns if C.is_additive(c)]


def subtotals(table: pd.DataFrame, specs: dict[str, TechSpec] | None = None,
              steps_of: dict[str, list[str]] | None = None, region=None) -> pd.DataFrame:
    """City and province subtotal rows of a county table, and a last row for the whole run.

    With ``region`` (the :class:`siting.io.regions.Region` that was run) the last row is that region under its
    own level, code and name: a city run gives one row for the city, not a province row with the city's
    figures; a national run gives a row per province too. Without it (user boundaries) the last row is
    ``total``.

    Additive columns are summed; means (irradiance, elevation) are weighted by
    grid area; shares are recomputed from the sums.
    """
    df = pd.DataFrame(table.drop(columns="geometry", errors="ignore")).reset_index(drop=True)
    add = _additive(df.columns)
    rows = []
    # the columns as arrays once: a national table has ~400 cities and provinces times ~50 columns, and a pandas
    # sum per group and column took seconds; each float64 column is summed as Series.sum sums it (NaN as 0, the
    # group's values in table order, numpy's pairwise sum over a contiguous row), so the totals do not change
    values = {c: df[c].to_numpy() for c in df.columns}
    add_f64 = [c for c in add if values[c].dtype == np.float64]
    add_other = [c for c in add if values[c].dtype != np.float64]
    by_row = np.ascontiguousarray(np.stack([values[c] for c in add_f64])) if add_f64 else None

    def total(idx: np.ndarray, level: str, adcode, name_zh, name_pinyin, city_zh, province_zh) -> dict:
        row = {"level": level, "adcode": adcode, "name_zh": name_zh, "name_pinyin": name_pinyin,
               "city_zh": city_zh, "province_zh": province_zh, "n_counties": len(idx)}
        sums = {}
        if by_row is not None:
            part = np.ascontiguousarray(by_row[:, idx])  # rows contiguous: each summed pairwise as a 1-D array
            part[np.isnan(part)] = 0.0
            sums.update(zip(add_f64, part.sum(axis=1)))
        for c in add_other:
            sums[c] = pd.Series(values[c][idx]).sum()
        for c in add:
            row[c] = sums[c]
        w = values["grid_area_km2"][idx]
        for c in MEAN_COLUMNS:
            if c in values:
                v = values[c][idx].astype("float64")
                ok = np.isfinite(v) & (w > 0)
                row[c] = float(np.average(v[ok], weights=w[ok])) if ok.any() else np.nan
        for t in PV_TECHS:
            n = C.pv_columns(t)
            if n["gwh"] in row and n["mwp"] in row:
                mwp = row[n["mwp"]]
                row[n["yield"]] = row[n["gwh"]] * 1000.0 / mwp if mwp > 0 else np.nan
                if n["mwac"] in row and row[n["mwac"]] > 0:
                    row[n["cf"]] = row[n["gwh"]] * 1000.0 / (row[n["mwac"]] * 8760.0)
        if "energy_wind_gwh" in row and row.get("capacity_wind_mw", 0) > 0:
            row["capacity_factor_wind"] = row["energy_wind_gwh"] / (row["capacity_wind_mw"] * 8.76)
        for tech in TECH_NAMES:  # LCOE weighted by energy, distance to the grid by usable area
            for col, weight in ((C.LCOE(tech), C.energy_column(tech)), (C.GRID_KM(tech), C.USABLE_KM2(tech))):
                if col in values and weight in values:
                    v, wt = values[col][idx].astype("float64"), values[weight][idx].astype("float64")
                    ok = np.isfinite(v) & np.isfinite(wt) & (wt > 0)
                    row[col] = float(np.average(v[ok], weights=wt[ok])) if ok.any() else np.nan
        for c in df.columns:
            if c.startswith("usable_") and c.endswith("_share"):
                km2 = row[c.replace("_share", "_km2")]
                whole = C.whole_area(row, C.lookup(c)[1].get("tech", ""))
                row[c] = km2 / whole if whole > 0 else np.nan
        return row

    every = np.arange(len(df))  # a group's rows are its index (reset above), in table order
    level = getattr(region, "level", None)
    provinces = df["province_zh"].dropna().unique()
    if df["city_zh"].notna().any() and level not in ("city", "county"):
        for (city_ad, city), group in df.groupby(["city_adcode", "city_zh"], dropna=False, sort=True):
            rows.append(total(group.index.to_numpy(), "city", city_ad, city, None, city, group["province_zh"].iloc[0]))
    if len(provinces) > 1:
        for (prov_ad, prov), group in df.groupby(["province_adcode", "province_zh"], sort=True):
            rows.append(total(group.index.to_numpy(), "province", prov_ad, prov, None, None, prov))
    if region is not None:
        # the last row is the region that was run, under its own name: a city run is not its province
        rows.append(total(every, level, region.adcode, region.name_zh, region.name_pinyin,
                          region.city_zh if level == "county" else (region.name_zh if level == "city" else None),
                          region.province_zh if level != "province" else region.name_zh))
    elif len(provinces) == 1 and level is None and df["province_adcode"].notna().all():
        prov = provinces[0]
        rows.append(total(every, "province", df["province_adcode"].iloc[0], prov, None, None, prov))
    else:
        rows.append(total(every, "total", None, "合计 total", "Total", None, None))
    out = pd.DataFrame(rows)
    for t in TECH_NAMES:
        if C.BINDING(t) in df and steps_of is not None and specs is not None:
            add_binding(out, {t: specs[t]}, {t: steps_of[t]})
    return out
