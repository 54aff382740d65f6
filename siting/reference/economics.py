"""Grid parity and what limits the achievable capacity, per county: the tariff LCOE is compared with, the
economic potential of every priced technology, the grid company's hosting capacity, and which of them binds.

The engine gives each technology its LCOE and economic potential (``siting.engine.table.economic_columns``);
this module adds what concerns the county as a whole.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd

from siting.columns import (ACHIEVABLE, BINDING_LIMIT, ECONOMIC_MAX, ECONOMIC_MIN, ECONOMIC_MW, ECONOMIC_TOTAL, HOSTING,
                            TARIFF, capacity_column, pv_columns)
from siting.errors import SitingError
from siting.rules.scenario import PV_TECHS


def tariffs_for(units: pd.DataFrame, econ) -> pd.Series:
    """The tariff (CNY/kWh) of each unit: the user's, or its province's coal-fired benchmark (NaN: none)."""
    if econ.tariff_cny_per_kwh is not None:
        return pd.Series(econ.tariff_cny_per_kwh, index=units.index, dtype="float64")
    from siting.io.packagedata import coal_benchmark_tariffs

    table = coal_benchmark_tariffs().set_index("province_adcode")["tariff_cny_per_kwh"]
    # the sea run's units (county codes) and user units with six-digit codes: the code's first two digits
    code = units["adcode"].astype(str)
    prov = code.where(~code.str.fullmatch(r"\d{6}"), code.str[:2] + "0000")
    if "province_adcode" in units:
        known = units["province_adcode"].notna()
        prov = prov.where(~known, units["province_adcode"].astype(str))
    return prov.map(table).astype("float64")


def read_hosting(path, table: pd.DataFrame) -> pd.Series:
    """Hosting capacity (MW) per county of the table from the grid company's CSV (NaN: not given)."""
    try:
        df = pd.read_csv(path, dtype={"adcode": str})
    except FileNotFoundError:
        raise SitingError(f"--hosting {path}: file does not exist") from None
    except Exception as exc:  # noqa: BLE001 - any reader failure is one line
        raise SitingError(f"--hosting {path}: cannot be read as CSV ({exc})") from None
    if "hosting_mw" not in df:
        hint = [c for c in df.columns if "kw" in c.lower() or "gw" in c.lower()]
        raise SitingError(f"--hosting {path}: needs a column hosting_mw (MW)"
                          + (f"; found {hint[0]}: convert it to MW" if hint else f"; columns: {', '.join(df.columns)}"))
    mw = pd.to_numeric(df["hosting_mw"], errors="coerce")
    bad = mw.isna() | (mw < 0)
    if bad.any():
        raise SitingError(f"--hosting {path}: hosting_mw must be numbers of 0 or more (line {int(bad.idxmax()) + 2}: "
                          f"{df['hosting_mw'][bad].iloc[0]!r})")
    if {"lat", "lon"} <= set(df.columns):  # substations: summed by the county they stand in
        pts = gpd.GeoDataFrame({"mw": mw.to_numpy()}, geometry=gpd.points_from_xy(df["lon"], df["lat"]),
                               crs="EPSG:4326")
        hit = gpd.sjoin(pts, gpd.GeoDataFrame(table[["adcode", "geometry"]], crs=table.crs), predicate="within")
        if hit.empty:
            raise SitingError(f"--hosting {path}: no substation lies in the region")
        return table["adcode"].map(hit.groupby("adcode")["mw"].sum())
    key = "adcode" if "adcode" in df else "name_zh" if "name_zh" in df else None
    if key is None:
        raise SitingError(f"--hosting {path}: needs a column adcode or name_zh (or lat and lon of substations)")
    by = pd.Series(mw.to_numpy(), index=df[key].astype(str)).groupby(level=0).sum()
    unknown = sorted(set(by.index) - set(table[key].astype(str)))
    if len(unknown) == len(by):
        raise SitingError(f"--hosting {path}: no {key} of the file is a county of the region (e.g. {unknown[0]})")
    return table[key].astype(str).map(by)


def economic_table(table: gpd.GeoDataFrame, specs: dict, econ, tariffs: pd.Series, prov: dict, hosting
                   ) -> tuple[gpd.GeoDataFrame, list[str]]:
    """Tariff, economic potential, hosting capacity, achievable capacity and what binds, per county."""
    out = table.copy()
    geometry = out.pop("geometry")
    notes = []
    out[TARIFF.name] = tariffs.to_numpy()
    missing = out[TARIFF.name].isna()
    costed = [t for t in specs if ECONOMIC_MW(t) in out]
    for t in costed:
        for col in (ECONOMIC_MW(t), ECONOMIC_MIN(t), ECONOMIC_MAX(t)):
            out.loc[missing, col] = np.nan  # no tariff: not computed, not 0
    for t in specs:
        if t not in costed and specs[t].cost is not None:
            notes.append(f"{t}: LCOE and economic potential not computed: no "
                         + ("wind resource layer (give --wind)" if t in ("wind", "offshore") else "yield")
                         + "; its capacity stays in the technical figure only.")
    if missing.any():
        notes.append(f"Economic potential not computed for {int(missing.sum())} unit(s) without a tariff "
                     f"({', '.join(out.loc[missing, 'name_zh'].astype(str).head(3))}); give --tariff CNY/kWh.")
    if not prov:
        notes.append(f"Grid connection not costed: no layer '{econ.grid_layer}' (the built-in data has none; give "
                     "--grid FILE of power lines): LCOE leaves out the line to the grid, so it is a lower bound and "
                     "the economic potential an upper bound.")
    else:
        if econ.max_distance_km is not None:
            notes.append(f"Land farther than {econ.max_distance_km:g} km from the grid is not counted in the economic "
                         "potential ([economics] max_distance_km).")
        notes.append(f"Grid connection costed from {prov['path']}: straight-line distance x {econ.route_factor:g} "
                     "route factor x CNY/kW/km by voltage class"
                     + (f" (column '{econ.voltage_column}')" if econ.voltage_column else
                        f" (no voltage column: {econ.unknown_voltage_cny_per_kw_km:g} CNY/kW/km for every line)") + ".")
    if costed:
        def technical(t):
            cols = pv_columns(t) if t in PV_TECHS else None
            if cols is not None:
                return out.get(cols.get("mwac"), out[cols["mwp"]])
            return out[capacity_column(t)]

        econ_total = sum(out[ECONOMIC_MW(t)] for t in costed)
        tech_total = sum(technical(t) for t in costed)
        out[ECONOMIC_TOTAL.name] = econ_total
        host = read_hosting(hosting, pd.concat([out, geometry], axis=1).pipe(gpd.GeoDataFrame, crs=table.crs)) \
            if hosting is not None else pd.Series(np.nan, index=out.index)
        if hosting is not None:
            out[HOSTING.name] = host.to_numpy(dtype="float64")
        has_host = host.notna().to_numpy()
        out[ACHIEVABLE.name] = np.where(has_host, np.minimum(econ_total, host), econ_total)
        limit = np.where(has_host & (host.to_numpy(dtype="float64") < econ_total), "hosting capacity",
                         np.where(econ_total < tech_total - 1e-6, "cost (grid parity)", "land and rules"))
        out[BINDING_LIMIT.name] = np.where(econ_total.isna(), None, limit)
        if hosting is not None and (~has_host).any():
            notes.append(f"Hosting capacity not given for {int((~has_host).sum())} county(ies): their achievable "
                         "capacity is the economic potential alone.")
        notes.append(f"Economic potential: capacity whose LCOE ≤ the tariff, for {', '.join(costed)} (PV in AC MW); "
                     "economic_<tech>_mw_min and _max repeat it with every cost at the unfavourable and favourable end "
                     "of its range.")
    out["geometry"] = geometry
    return gpd.GeoDataFrame(out, geometry="geometry", crs=table.crs), notes
