"""Glue between an assessment, the plan targets and the existing fleet."""

from __future__ import annotations

import numpy as np
import pandas as pd

from siting.errors import SitingError
from siting.reference.basis import (COMPONENT_LABEL, TECH_COMPONENT, layers_text, target_components, tech_bases,
                                    verdict)
from siting.rules.scenario import rule_category
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
    if not result.empty:
        result = with_verdicts(a, result, targets, existing)
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


def _members(a, code: str) -> np.ndarray:
    """Boolean mask of the assessment's counties that make up jurisdiction ``code``."""
    c = a.counties
    if code == c["province_adcode"].iloc[0] or (a.region is not None and code == a.region.adcode
                                                 and a.region.level == "province"):
        return np.ones(len(c), dtype=bool)
    return ((c["city_adcode"] == code) | (c["adcode"] == code)).to_numpy()


def binding_constraint(a, row: pd.Series, techs) -> str:
    """Which kind of constraint removed the most land in a jurisdiction, over the technologies in scope.

    ``land (<kind>)`` for protection, land cover, terrain, setbacks, patch size or data gaps; ``resource``
    when a resource rule (e.g. a minimum wind speed) removed the most. Cost and grid are not modelled.
    """
    by_kind: dict[str, float] = {}
    for t in techs:
        spec = a.plan.tech_specs[t]
        for step, col in a.provenance["steps"].get(t, {}).items():
            if col in row.index and pd.notna(row[col]) and row[col] > 0:
                kind = rule_category(step, spec.rules.get(step))
                by_kind[kind] = by_kind.get(kind, 0.0) + float(row[col])
    if not by_kind:
        return "none (no land removed)"
    kind = max(by_kind, key=by_kind.get)
    return "resource" if kind == "resource" else f"land ({kind})"


def with_verdicts(a, result: pd.DataFrame, targets: pd.DataFrame, existing: dict) -> pd.DataFrame:
    """Add to each compared target its basis, P10/P50/P90, probability, verdict and binding constraint."""
    bases = tech_bases(a)
    drawn = a.draw() if a.ranges is not None else None
    table = a.table().drop_duplicates("adcode").set_index("adcode")
    quals = dict(zip(targets["row_id"], targets["qualifier"]))
    new_cols = {k: [] for k in ("verdict", "probability", "achievable_mw_p10", "achievable_mw_p50",
                                "achievable_mw_p90", "basis_tier", "basis_components", "basis_missing_components",
                                "basis_layers", "binding_constraint", "target_components")}
    statuses, meets = [], []
    for _, r in result.iterrows():
        comps = target_components(r["scope"], r["metric"]) if isinstance(r["scope"], str) else ()
        scope_techs = {"pv": ["pv"], "wind": ["wind"], "wind+pv": ["pv", "wind"]}.get(r["scope"], [])
        techs = [t for t in scope_techs if t in bases and TECH_COMPONENT[t] in comps]
        vals = dict.fromkeys(new_cols)
        vals["target_components"] = "+".join(comps)
        if pd.isna(r["achievable_mw"]) or not techs:
            for k, v in vals.items():
                new_cols[k].append(v)
            statuses.append(r["status"])
            meets.append(r["meets"])
            continue
        members = _members(a, r["adcode"])
        room_draws = None
        if drawn is not None:
            room_draws = sum(drawn[t][0][:, members].sum(axis=1) for t in techs)
            if r["target_type"] == "increment" and np.isfinite(r["existing_mw"]):
                room_draws = room_draws - r["existing_mw"]
            vals.update(achievable_mw_p10=float(np.percentile(room_draws, 10)),
                        achievable_mw_p50=float(np.percentile(room_draws, 50)),
                        achievable_mw_p90=float(np.percentile(room_draws, 90)))
        q = quals.get(r["row_id"])
        ok = None if room_draws is None or q is None else np.asarray(q.met(room_draws, float(r["target_mw"])))
        room = r["achievable_mw"] - (r["existing_mw"] if r["target_type"] == "increment"
                                     and np.isfinite(r["existing_mw"]) else 0.0)
        v = verdict(comps, {t: bases[t] for t in techs}, ok, room, vals["achievable_mw_p90"], float(r["target_mw"]))
        vals.update(verdict=v.code, probability=v.probability, basis_tier=v.tier,
                    basis_components="+".join(v.components), basis_missing_components="+".join(v.missing_components),
                    basis_layers=layers_text({t: bases[t] for t in techs}),
                    binding_constraint=binding_constraint(a, table.loc[r["adcode"]], techs)
                    if r["adcode"] in table.index else None)
        for k, val in vals.items():
            new_cols[k].append(val)
        statuses.append(v.text)
        meets.append(True if v.code == "can_be_met" else False if v.code == "cannot_be_met" else None)
    out = result.copy()
    out["status"] = statuses
    out["meets"] = meets
    for k, col in new_cols.items():
        out[k] = col
    return out


def component_names(codes: str) -> str:
    """``ground_pv+onshore_wind`` → ``ground-mounted PV, onshore wind``."""
    return ", ".join(COMPONENT_LABEL.get(c, c) for c in str(codes).split("+") if c)
