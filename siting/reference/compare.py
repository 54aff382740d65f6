"""Glue between an assessment, the plan targets and the existing fleet."""

from __future__ import annotations

import numpy as np
import pandas as pd

from siting.errors import SitingError
from siting.reference.targets import compare, existing_pv_mw_by_province, load_targets, targets_for


def existing_capacity(a, tracker_path=None) -> tuple[dict[str, dict[str, float]], list[str]]:
    """Capacity already built per jurisdiction: adcode → {"pv": MW, "wind": MW}.

    Wind: operating onshore phases of the Global Wind Power Tracker (GEM, May
    2023, CC BY 4.0) matched to counties by their county name, summed to
    cities and the province (unmatched phases count at province level only).
    PV: provincial installed capacity at the end of 2020 (NEA statistics via
    PyPSA-China); no county-level PV statistics are available.
    """
    notes = []
    out: dict[str, dict[str, float]] = {}
    if a.region is None:
        return out, ["existing capacity unknown for user boundaries"]
    prov_code = a.counties["province_adcode"].iloc[0]
    pv = existing_pv_mw_by_province().get(prov_code)
    if pv is not None:
        out.setdefault(prov_code, {})["pv"] = pv
        notes.append("existing PV: provincial total at the end of 2020 (NEA statistics via PyPSA-China); "
                     "no county figures")
    try:
        from siting.reference.fleet import county_fleet, load_tracker
    except ImportError:  # pragma: no cover - fleet module is part of the package
        return out, notes
    fleet = county_fleet(load_tracker(tracker_path), prov_code)
    counties = a.counties.set_index("adcode")
    matched = fleet[fleet.adcode.notna()]
    for _, r in matched.iterrows():
        out.setdefault(r.adcode, {})["wind"] = float(r.existing_wind_mw)
        if r.adcode in counties.index:
            city = counties.loc[r.adcode, "city_adcode"]
            if city:
                out.setdefault(city, {}).setdefault("wind", 0.0)
                out[city]["wind"] += float(r.existing_wind_mw)
    out.setdefault(prov_code, {})["wind"] = float(fleet.existing_wind_mw.sum())
    unmatched = float(fleet.loc[fleet.adcode.isna(), "existing_wind_mw"].sum())
    notes.append(f"existing wind: operating onshore phases of the Global Wind Power Tracker (Global Energy Monitor, "
                 f"May 2023, CC BY 4.0); {unmatched:,.0f} MW could not be placed in a county and count at "
                 "province level only")
    return out, notes


def target_comparison(a, year: int | None = None, targets_path=None, tracker_path=None) -> tuple[pd.DataFrame, list[str]]:
    """Targets of the assessed region (and its cities/counties) beside achievable and existing capacity."""
    if a.region is None:
        raise SitingError("target comparison needs a built-in region (targets are keyed by adcode)")
    targets = targets_for(a.region, load_targets(targets_path), year)
    existing, notes = existing_capacity(a, tracker_path)
    table = a.table()
    result = compare(table, targets, existing)
    if result.empty:
        notes.append(f"no wind/PV capacity target found for {a.region.name_zh}"
                     + (f" in {year}" if year else "") + " in the targets table")
    return result, notes


def provincial_target_mw(a, year: int, targets_path=None) -> tuple[float, pd.Series]:
    """The region's own wind + PV capacity target for ``year`` (the largest if several rows state one)."""
    if a.region is None:
        raise SitingError("give --target-mw: targets are keyed by adcode and user boundaries have none")
    t = targets_for(a.region, load_targets(targets_path), year)
    t = t[(t.adcode == a.region.adcode) & (t.scope == "wind+pv") & (t.target_type == "absolute")
          & np.isfinite(t.value_mw)]
    if t.empty:
        raise SitingError(f"no wind + PV capacity target for {a.region.name_zh} in {year}; give --target-mw")
    best = t.sort_values("value_mw").iloc[-1]
    return float(best.value_mw), best
