"""Glue between an assessment, the plan targets and the existing fleet."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from siting.errors import SitingError
from siting.reference.basis import (COMPONENT_LABEL, SCOPE_TECHS, TECH_COMPONENT, layers_text, target_components, tech_bases,
                                    verdict)
from siting.rules.scenario import rule_category
from siting.reference.targets import compare, existing_pv_mw_by_province, load_targets, targets_for


PV_VINTAGE = "2020-12-31 (NEA statistics via PyPSA-China, provincial)"
WIND_VINTAGE = "2023-05 (Global Wind Power Tracker, {statuses} phases)"


@dataclass
class Existing:
    """Capacity already built (or being built) per jurisdiction, with the date each figure refers to.

    Attributes
    ----------
    mw : dict
        adcode → {"pv": MW, "wind": MW}.
    vintage : dict
        adcode → {"pv": text, "wind": text}: the date and source of each figure.
    notes : list of str
    """

    mw: dict[str, dict[str, float]] = field(default_factory=dict)
    vintage: dict[str, dict[str, str]] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)

    def set(self, code: str, tech: str, mw: float, vintage: str) -> None:
        self.mw.setdefault(code, {})[tech] = float(mw)
        self.vintage.setdefault(code, {})[tech] = vintage

    def add(self, code: str, tech: str, mw: float, vintage: str) -> None:
        self.set(code, tech, self.mw.get(code, {}).get(tech, 0.0) + float(mw), vintage)

    def vintage_text(self, code: str, techs) -> str:
        v = self.vintage.get(code, {})
        return "; ".join(f"{t}: {v[t]}" for t in techs if t in v)


def load_existing_file(path) -> pd.DataFrame:
    """A user's existing capacity: CSV with ``adcode``, ``tech`` (pv|wind), ``capacity_mw`` and ``as_of`` (a date)."""
    from pathlib import Path

    path = Path(path)
    if not path.exists():
        raise SitingError(f"--existing {path}: file does not exist")
    try:
        df = pd.read_csv(path, dtype={"adcode": str})
    except Exception as exc:  # noqa: BLE001 - one line naming the file
        raise SitingError(f"--existing {path}: cannot read ({exc})") from None
    df.columns = [str(c).strip().lower() for c in df.columns]
    missing = [c for c in ("adcode", "tech", "capacity_mw", "as_of") if c not in df.columns]
    if missing:
        raise SitingError(f"--existing {path}: missing column(s) {', '.join(missing)} "
                          "(need adcode, tech, capacity_mw, as_of)")
    df["tech"] = df["tech"].astype(str).str.strip().str.lower()
    if not df["tech"].isin(["pv", "wind", "offshore"]).all():
        raise SitingError(f"--existing {path}: tech must be pv, wind or offshore")
    df["capacity_mw"] = pd.to_numeric(df["capacity_mw"], errors="coerce")
    dates = pd.to_datetime(df["as_of"].astype(str), errors="coerce")
    if df["capacity_mw"].isna().any() or dates.isna().any():
        raise SitingError(f"--existing {path}: capacity_mw must be a number and as_of a date in every row")
    df["as_of"] = dates.dt.strftime("%Y-%m-%d")
    df["source"] = str(path)
    return df


def existing_capacity(a, tracker_path=None, statuses=("operating",), user_file=None) -> Existing:
    """Capacity already built per jurisdiction, each figure with its date.

    Wind: phases of the Global Wind Power Tracker (GEM, May 2023, CC BY 4.0) with the given statuses (default
    operating; add construction or pre-construction to count what is being built) matched to counties by
    their county name, summed to cities and the province (unmatched phases count at province level only).
    PV: provincial installed capacity at the end of 2020 (NEA statistics via PyPSA-China); no county-level
    PV statistics are available. A user file (:func:`load_existing_file`) replaces the figure of every
    jurisdiction and technology it gives (the levels above keep theirs unless the file gives them too).
    """
    ex = Existing()
    if a.region is None:
        ex.notes.append("existing capacity unknown for user boundaries")
        return ex
    prov_code = a.counties["province_adcode"].iloc[0]
    pv = existing_pv_mw_by_province().get(prov_code)
    if pv is not None:
        ex.set(prov_code, "pv", pv, PV_VINTAGE)
        ex.notes.append(f"existing PV: provincial total at {PV_VINTAGE}; no county figures")
    from siting.reference.fleet import county_fleet, load_tracker

    statuses = tuple(statuses)
    vintage = WIND_VINTAGE.format(statuses="/".join(statuses))
    fleet = county_fleet(load_tracker(tracker_path), prov_code, statuses)
    counties = a.counties.set_index("adcode")
    for _, r in fleet[fleet.adcode.notna()].iterrows():
        ex.set(r.adcode, "wind", float(r.existing_wind_mw), vintage)
        if r.adcode in counties.index:
            city = counties.loc[r.adcode, "city_adcode"]
            if city:
                ex.add(city, "wind", float(r.existing_wind_mw), vintage)
    ex.set(prov_code, "wind", float(fleet.existing_wind_mw.sum()), vintage)
    unmatched = float(fleet.loc[fleet.adcode.isna(), "existing_wind_mw"].sum())
    ex.notes.append(f"existing wind: {'/'.join(statuses)} onshore phases of the Global Wind Power Tracker (Global "
                    f"Energy Monitor, May 2023, CC BY 4.0); {unmatched:,.0f} MW could not be placed in a county and "
                    "count at province level only")
    if "offshore" in a.technologies:
        sea = county_fleet(load_tracker(tracker_path), prov_code, statuses, offshore_only=True)
        for _, r in sea[sea.adcode.notna()].iterrows():
            ex.set(r.adcode, "offshore", float(r.existing_wind_mw), vintage)
            if r.adcode in counties.index and counties.loc[r.adcode, "city_adcode"]:
                ex.add(counties.loc[r.adcode, "city_adcode"], "offshore", float(r.existing_wind_mw), vintage)
        ex.set(prov_code, "offshore", float(sea.existing_wind_mw.sum()), vintage)
        ex.notes.append(f"existing offshore wind: {'/'.join(statuses)} offshore phases of the Global Wind Power "
                        f"Tracker ({float(sea.existing_wind_mw.sum()):,.0f} MW in the province; "
                        f"{float(sea.loc[sea.adcode.isna(), 'existing_wind_mw'].sum()):,.0f} MW not placed in a "
                        "county count at province level only)")
    if pv is not None:
        ex.notes.append("existing PV (end of 2020) and wind (May 2023) are of different dates; give --existing FILE "
                        "for current figures")
    if user_file is not None:
        user = load_existing_file(user_file) if not isinstance(user_file, pd.DataFrame) else user_file
        for _, r in user.iterrows():
            ex.set(str(r["adcode"]), r["tech"], float(r["capacity_mw"]), f"{r['as_of']} ({r['source']})")
        gives = set(zip(user["adcode"].astype(str), user["tech"]))
        for code, tech_ in gives:  # a file's wind figure is all wind unless it gives offshore apart
            if tech_ == "wind" and (code, "offshore") not in gives:
                ex.mw.get(code, {}).pop("offshore", None)
                ex.vintage.get(code, {}).pop("offshore", None)
        ex.notes.append(f"existing capacity of {len(user)} jurisdiction/technology pairs from {user['source'].iloc[0]} "
                        "replaces the built-in figures for them")
    return ex


def target_comparison(a, year: int | None = None, targets_path=None, tracker_path=None,
                      existing_statuses=("operating",), existing_file=None) -> tuple[pd.DataFrame, list[str]]:
    """Targets of the assessed region (and its cities/counties) beside achievable and existing capacity."""
    if a.region is None:
        raise SitingError("target comparison needs a built-in region (targets are keyed by adcode)")
    table_of_targets = load_targets(targets_path)
    targets = targets_for(a.region, table_of_targets, year)
    ex = existing_capacity(a, tracker_path, existing_statuses, existing_file)
    existing, notes = ex.mw, list(ex.notes)
    table = a.table()
    result = compare(table, targets, existing)
    if not result.empty:
        result = with_verdicts(a, result, targets, existing)
    listed = [x for x in (rooftop_rows(a, table_of_targets, year), offshore_base_rows(a, table_of_targets, year))
              if not x.empty]
    for extra in listed:
        result = extra if result.empty else pd.concat([result, extra], ignore_index=True)
        # existing: PV as one figure; onshore and offshore wind apart
        scope_techs = {"pv": ["pv"], "wind": ["wind", "offshore"], "wind+pv": ["pv", "wind", "offshore"]}
        result["existing_vintage"] = [ex.vintage_text(c, scope_techs.get(s, [])) or None
                                      for c, s in zip(result["adcode"], result["scope"])]
    if result.empty:
        notes.append(f"no wind/PV capacity target found for {a.region.name_zh}"
                     + (f" in {year}" if year else "") + " in the targets table")
    return result, notes


def provincial_target_mw(a, year: int, targets_path=None) -> tuple[float, pd.Series]:
    """The region's own wind + PV capacity target for ``year`` (the largest if several rows state one)."""
    rows = target_documents(a, year, targets_path)
    best = rows.sort_values("value_mw").iloc[-1]
    return float(best.value_mw), best


def target_documents(a, year: int, targets_path=None) -> pd.DataFrame:
    """Every row that states the region's own wind + PV capacity target for ``year`` (one per document)."""
    if a.region is None:
        raise SitingError("give --target-mw: targets are keyed by adcode and user boundaries have none")
    t = targets_for(a.region, load_targets(targets_path), year)
    t = t[(t.adcode == a.region.adcode) & (t.scope == "wind+pv") & (t.target_type == "absolute")
          & np.isfinite(t.value_mw)]
    if t.empty:
        raise SitingError(f"no wind + PV capacity target for {a.region.name_zh} in {year}; give --target-mw")
    return t



def _members(a, code: str) -> np.ndarray:
    """Boolean mask of the assessment's counties that make up jurisdiction ``code``."""
    c = a.counties
    if a.region is not None and code == a.region.adcode:
        return np.ones(len(c), dtype=bool)
    return ((c["province_adcode"] == code) | (c["city_adcode"] == code) | (c["adcode"] == code)).to_numpy()


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
                                "basis_layers", "binding_constraint", "target_components", "economic_mw")}
    statuses, meets = [], []
    for _, r in result.iterrows():
        comps = target_components(r["scope"], r["metric"]) if isinstance(r["scope"], str) else ()
        scope_techs = SCOPE_TECHS.get(r["scope"], ())
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
        # the economic potential of the scope: only when every computed component has one (PV in AC MW)
        econ = [f"economic_{x}_mw" for x in techs]
        if r["adcode"] in table.index and all(c in table.columns for c in econ):
            vals["economic_mw"] = float(table.loc[r["adcode"], econ].sum(min_count=len(econ)))
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


ROOFTOP_CATEGORIES = ("rooftop_pv", "county_pilot")


def _standing(a, targets: pd.DataFrame, year: int | None, keep) -> pd.DataFrame:
    """Rows of the region's targets table that ``keep`` selects (any category), without those of a year after
    ``year``: targets with no year stand."""
    t = targets_for(a.region, targets, None, capacity_only=False)
    t = t[keep(t)]
    return t if year is None else t[t.target_year.isna() | (t.target_year <= year)]


def rooftop_rows(a, targets: pd.DataFrame, year: int | None = None) -> pd.DataFrame:
    """The plans' rooftop targets of the region: coverage shares and whole-county (整县) pilots, with what was computed.

    Coverage targets ("50 % of NEW public-institution and factory roofs") concern buildings yet to be built,
    which no building layer holds: they are set beside the rooftop capacity computed on today's roofs and
    marked not decidable. Pilot rows name their counties where the plan does (adcodes in the metric) with the
    rooftop capacity computed for each. Targets of a year after ``year`` are left out; those without a year
    stand.
    """
    from siting.columns import capacity_column
    from siting.io.regions import ADCODE_IN_DATA, region_index

    t = _standing(a, targets, year, lambda t: t.category.isin(ROOFTOP_CATEGORIES))
    if t.empty:
        return pd.DataFrame()
    table = a.table().drop_duplicates("adcode").set_index("adcode")
    col = capacity_column("rooftop_pv")
    by_type, weights = _roofs_by_type(a)
    have = col in table.columns
    names = region_index().drop_duplicates("adcode").set_index("adcode")["name_zh"]
    rows = []
    for _, r in t.iterrows():
        code = r["adcode"]
        mw = float(table.loc[code, col]) if have and code in table.index and pd.notna(table.loc[code, col]) else np.nan
        row = {"row_id": r["row_id"], "adcode": code, "jurisdiction_zh": r["jurisdiction_zh"],
               "target_year": r["target_year"], "metric": r["metric"], "scope": "rooftop",
               "target_type": r["target_type"], "target_mw": np.nan, "qualifier_zh": r["qualifier_zh"],
               "qualifier": r["qualifier"].label, "achievable_mw": mw, "achievable_pv_mw": mw, "achievable_wind_mw": np.nan,
               "existing_mw": np.nan, "headroom_mw": np.nan, "ratio": np.nan, "meets": None,
               "source_document": r["source_document"], "quote_zh": r["quote_zh"], "verdict": "not_decidable",
               "target_components": "rooftop_pv", "basis_components": "rooftop_pv" if have else "",
               "basis_missing_components": "" if have else "rooftop_pv"}
        computed = (f"rooftop PV computed on today's roofs: {mw:,.0f} MWp" if np.isfinite(mw) else
                    "rooftop PV was not computed (use --tech rooftop_pv)")
        if r["category"] == "rooftop_pv":
            row["status"] = ("not decidable: a coverage target for new buildings, which no building layer holds; "
                             + computed)
            row["note"] = (f"target: {r['value']} {r['unit']} coverage ({r['metric']}); a share of roofs, not a "
                           "capacity")
            if by_type is not None:
                km2 = by_type[_members(a, code)].sum()
                public, factory = float(km2.get(1, 0.0) + km2.get(2, 0.0)), float(km2.get(3, 0.0))
                usable = sum(float(km2.get(c, 0.0)) * weights.get(c, 0.0) for c in (1, 2, 3))
                density = a.plan.tech_specs["rooftop_pv"].capacity_density_mw_per_km2
                row["note"] += (f"; today's public-institution roofs (types 1-2) {public:,.2f} km² and factory roofs "
                                f"(type 3) {factory:,.2f} km² hold {usable * density:,.0f} MWp at the 84号 usable "
                                f"shares; {r['value']} % of them is {(public + factory) * float(r['value']) / 100:,.2f} "
                                "km² of roof")
        else:
            codes = [c for c in re.findall(r"\b\d{6}\b", str(r["metric"])) if c != code]
            listed = []
            for c in codes:
                c = ADCODE_IN_DATA.get(c, c)
                v = table.loc[c, col] if have and c in table.index else np.nan
                listed.append(f"{names.get(c, c)} {c}" + (f": {float(v):,.0f} MWp rooftop" if pd.notna(v) else
                                                         ": not in this assessment"))
            row["status"] = "listed: whole-county (整县) rooftop pilot"
            row["note"] = (f"{r['value']} {r['unit']} in the pilot" + (": " + "; ".join(listed) if listed else
                           "; the plan does not name them in the targets table"))
            row["verdict"] = "listed"
        rows.append(row)
    return pd.DataFrame(rows)


def _roofs_by_type(a) -> tuple[pd.DataFrame | None, dict[int, float]]:
    """Roof area (km²) per county and building type, when the run read typed building footprints."""
    from siting.geo.grid import CHINA_ALBERS
    from siting.io.layers import polygon_area_by_unit_and_class

    if a.plan is None or "rooftop_pv" not in a.technologies:
        return None, {}
    typed = [(n, sp) for n, sp in a.plan.rules.layers.items() if sp.aggregate == "class_weight_mean"]
    if not typed:
        return None, {}
    name, spec = typed[0]
    crs = a.provenance["grid"].get("crs", CHINA_ALBERS)
    units = a.counties.to_crs(crs).geometry.to_numpy()
    table = polygon_area_by_unit_and_class(name, spec, crs, units)
    return table.set_axis(np.arange(len(a.counties))), dict(spec.class_weights)


def offshore_base_rows(a, targets: pd.DataFrame, year: int | None = None) -> pd.DataFrame:
    """The plans' offshore wind bases (size classes such as "two 10-GW-class bases") beside the offshore
    capacity computed for the jurisdiction. A base's size class is not a capacity target of the jurisdiction:
    the rows are listed, not judged."""
    from siting.columns import capacity_column

    t = _standing(a, targets, year, lambda t: (t.category == "base_size_class") & (
        t.metric.str.lower().str.contains("offshore") | t.quote_zh.astype(str).str.contains("海上")))
    if t.empty:
        return pd.DataFrame()
    table = a.table().drop_duplicates("adcode").set_index("adcode")
    col = capacity_column("offshore")
    rows = []
    for _, r in t.iterrows():
        code = r["adcode"]
        mw = float(table.loc[code, col]) if col in table.columns and code in table.index else np.nan
        computed = (f"offshore wind computed for {r['jurisdiction_zh']}: {mw:,.0f} MW" if np.isfinite(mw) else
                    "offshore wind was not computed (use --tech offshore)")
        rows.append({"row_id": r["row_id"], "adcode": code, "jurisdiction_zh": r["jurisdiction_zh"],
                     "target_year": r["target_year"], "metric": r["metric"], "scope": "offshore base",
                     "target_type": r["target_type"], "target_mw": np.nan, "qualifier_zh": r["qualifier_zh"],
                     "qualifier": r["qualifier"].label, "achievable_mw": mw, "achievable_pv_mw": np.nan,
                     "achievable_wind_mw": mw, "existing_mw": np.nan, "headroom_mw": np.nan, "ratio": np.nan,
                     "meets": None, "source_document": r["source_document"], "quote_zh": r["quote_zh"],
                     "verdict": "listed", "target_components": "offshore_wind",
                     "basis_components": "offshore_wind" if np.isfinite(mw) else "",
                     "basis_missing_components": "" if np.isfinite(mw) else "offshore_wind",
                     "status": f"listed: offshore base size class ({r['value_mw']:,.0f} MW each); {computed}",
                     "note": f"{r['metric']}: the size class of a base, not a capacity target of the jurisdiction"})
    return pd.DataFrame(rows)
