"""Targets of the carbon-peak plans and their comparison with achievable capacity.

The package ships ``siting/data/targets.csv``: every quantitative target found in
the source plans (national, 26 provinces, several cities), one row each, with
the issuing document, the line or page, and the Chinese quote. A user can pass
their own file with the same columns.

Units are converted to MW (万千瓦 = 10 MW, 亿千瓦 = 100,000 MW). Qualifiers
are kept as the plans state them and interpreted as:

- floor (以上, 不低于, 不少于, 超过): the target is a minimum;
- approximate (左右, 约): met when achievable ≥ 95 % of the target (±5 % band);
- aspirational (力争): a stretch target, compared like a floor and flagged.

The tool models ground-mounted PV and onshore wind. A target that also counts
rooftop PV or offshore wind is compared with that caveat in the row; targets
that count other things (hydro, "clean energy", shares, counts, base size
classes) are listed but not compared.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from siting.errors import SitingError
from siting.io.packagedata import data_path

REQUIRED_COLUMNS = ("row_id", "category", "jurisdiction_level", "jurisdiction_zh", "adcode", "metric", "value", "unit",
                    "target_year", "qualifier_zh", "target_type", "source_document", "quote_zh")
UNIT_TO_MW = {"万千瓦": 10.0, "亿千瓦": 100_000.0, "GW": 1000.0, "吉瓦": 1000.0, "MW": 1.0, "兆瓦": 1.0,
              "千瓦": 0.001, "kW": 0.001}
CAPACITY_SCOPE = {
    "wind_solar_capacity": "wind+pv",
    "new_energy_capacity": "wind+pv",
    "solar_capacity": "pv",
    "wind_capacity": "wind",
}
APPROX_BAND = 0.05
FLOOR_WORDS = ("以上", "不低于", "不少于", "超过")
APPROX_WORDS = ("左右", "约")


def _data_file(name: str) -> Path:
    return data_path(name)


def to_mw(value, unit: str) -> float:
    """Convert a capacity value with a Chinese or SI unit to MW (NaN if the unit is not a capacity).

    >>> to_mw(7000, "万千瓦")
    70000.0
    >>> to_mw(12, "亿千瓦")
    1200000.0
    """
    try:
        v = float(value)
    except (TypeError, ValueError):
        return math.nan
    factor = UNIT_TO_MW.get(str(unit).strip())
    return v * factor if factor is not None else math.nan


@dataclass(frozen=True)
class Qualifier:
    """How a target's qualifier is read."""

    floor: bool
    approximate: bool
    aspirational: bool
    uncertain: bool

    @property
    def label(self) -> str:
        parts = []
        if self.aspirational:
            parts.append("aspirational (力争)")
        if self.floor:
            parts.append("floor")
        if self.approximate:
            parts.append(f"approximate (±{APPROX_BAND:.0%})")
        if not parts:
            parts.append("level")
        if self.uncertain:
            parts.append("qualifier uncertain in source")
        return ", ".join(parts)

    def met(self, achievable_mw: float, target_mw: float) -> bool:
        """Whether an achievable capacity meets the target under this qualifier."""
        threshold = target_mw * (1.0 - APPROX_BAND) if self.approximate and not self.floor else target_mw
        return achievable_mw >= threshold


def parse_qualifier(text) -> Qualifier:
    """Read a qualifier such as 以上, 左右, 力争…左右, 力争超过, (以上?)."""
    q = "" if text is None or (isinstance(text, float) and math.isnan(text)) else str(text)
    return Qualifier(floor=any(w in q for w in FLOOR_WORDS), approximate=any(w in q for w in APPROX_WORDS),
                     aspirational="力争" in q, uncertain="?" in q or "？" in q)


def load_targets(path: str | Path | None = None) -> pd.DataFrame:
    """The targets table, with ``value_mw``, ``scope`` and the qualifier read.

    Parameters
    ----------
    path : str or Path, optional
        A user targets CSV with the same columns; default the shipped table.

    Returns
    -------
    pandas.DataFrame
        The file's columns plus ``adcode`` as a 6-digit string, ``value_mw``
        (NaN for non-capacity targets), ``scope`` (``wind+pv``, ``pv``,
        ``wind`` or None) and ``qualifier`` (a :class:`Qualifier`).
    """
    p = Path(path) if path is not None else _data_file("targets.csv")
    if not p.exists():
        raise SitingError(f"targets file {p}: does not exist")
    try:
        df = pd.read_csv(p, dtype={"adcode": str, "value": str})
    except Exception as exc:
        raise SitingError(f"targets file {p}: cannot be read as CSV ({exc})") from exc
    missing = [c for c in REQUIRED_COLUMNS if c not in df.columns]
    if missing:
        raise SitingError(f"targets file {p}: missing columns {', '.join(missing)}")
    df["adcode"] = df["adcode"].map(_adcode)
    df["value_mw"] = [to_mw(v, u) for v, u in zip(df["value"], df["unit"])]
    df["scope"] = df["category"].map(CAPACITY_SCOPE)
    df["qualifier"] = df["qualifier_zh"].map(parse_qualifier)
    df["target_year"] = pd.to_numeric(df["target_year"], errors="coerce")
    return df


def _adcode(v) -> str | None:
    if v is None or (isinstance(v, float) and math.isnan(v)) or str(v).strip() in ("", "nan"):
        return None
    s = str(v).strip()
    return s[:-2] if s.endswith(".0") else s


def targets_for(region, targets: pd.DataFrame, year: int | None = None, capacity_only: bool = True) -> pd.DataFrame:
    """Targets of a region and of the cities and counties inside it.

    Parameters
    ----------
    region : siting.io.regions.Region
    targets : DataFrame from :func:`load_targets`
    year : int, optional
        Keep only targets for this year.
    capacity_only : bool, default True
        Keep only installed-capacity targets (wind, PV, wind + PV, new energy, RE).
    """
    from siting.io.regions import region_index

    index = region_index()
    if region.level == "province":
        inside = index[index.province_zh == region.name_zh]
    elif region.level == "city":
        inside = index[(index.province_zh == region.province_zh) & (index.city_zh == region.name_zh)]
    else:
        inside = index[index.adcode == region.adcode]
    codes = set(inside.adcode) | {region.adcode}
    out = targets[targets.adcode.isin(codes)]
    if capacity_only:
        out = out[out.category.isin([*CAPACITY_SCOPE, "re_capacity"])]
    if year is not None:
        out = out[out.target_year == year]
    return out.sort_values(["adcode", "target_year", "category"]).reset_index(drop=True)


def scope_note(row) -> tuple[bool, str]:
    """(comparable, note) for one capacity target: whether it is a capacity of wind and/or PV at all."""
    if row["scope"] is None or (isinstance(row["scope"], float) and math.isnan(row["scope"])):
        return False, "not compared: the target counts hydro, biomass or other sources this tool does not model"
    if not np.isfinite(row["value_mw"]):
        return False, f"not compared: unit '{row['unit']}' is not a capacity"
    return True, ""


def _computed_techs(row, r: pd.Series) -> tuple[list[str], list[str]]:
    """The assessed technologies a target counts (with a figure for the jurisdiction), and the components it
    counts that have none."""
    from siting.columns import capacity_column
    from siting.reference.basis import COMPONENT_LABEL, SCOPE_TECHS, TECH_COMPONENT, target_components

    comps = target_components(row["scope"], row["metric"])
    techs = [t for t in SCOPE_TECHS.get(row["scope"], ()) if TECH_COMPONENT[t] in comps
             and capacity_column(t) in r.index and pd.notna(r[capacity_column(t)])]
    done = {TECH_COMPONENT[t] for t in techs}
    return techs, [COMPONENT_LABEL[c] for c in comps if c not in done]


def compare(table: pd.DataFrame, targets: pd.DataFrame, existing_mw: dict[str, dict[str, float]] | None = None
            ) -> pd.DataFrame:
    """Set each capacity target beside the achievable capacity of its jurisdiction.

    Parameters
    ----------
    table : DataFrame
        Rows with ``adcode`` and ``capacity_pv_mwp`` / ``capacity_wind_mw`` for
        the jurisdictions (the assessment's county, city and province rows).
    targets : DataFrame
        Targets of the region (:func:`targets_for`).
    existing_mw : dict, optional
        adcode → {"pv": MW, "wind": MW} of capacity already built.

    Returns
    -------
    DataFrame
        One row per target: jurisdiction, year, scope, target_mw, qualifier,
        achievable_mw, existing_mw, headroom_mw, ratio, meets (bool or None),
        status and note, with the source document and quote.
    """
    existing_mw = existing_mw or {}
    by_code = table.drop_duplicates("adcode").set_index("adcode")
    rows = []
    for _, t in targets.iterrows():
        comparable, note = scope_note(t)
        code = t["adcode"]
        row = {"row_id": t["row_id"], "adcode": code, "jurisdiction_zh": t["jurisdiction_zh"],
               "target_year": t["target_year"], "metric": t["metric"], "scope": t["scope"],
               "target_type": t["target_type"], "target_mw": t["value_mw"], "qualifier_zh": t["qualifier_zh"],
               "qualifier": t["qualifier"].label, "achievable_mw": np.nan, "achievable_pv_mw": np.nan,
               "achievable_wind_mw": np.nan, "existing_mw": np.nan,
               "headroom_mw": np.nan, "ratio": np.nan, "meets": None, "status": "not compared", "note": note,
               "source_document": t["source_document"], "quote_zh": t["quote_zh"]}
        if comparable and code in by_code.index:
            from siting.columns import capacity_column
            from siting.reference.basis import COMPONENT_LABEL, TECH_COMPONENT

            r = by_code.loc[code]
            techs, missing = _computed_techs(t, r)
            if not techs:
                row["note"] = "not compared: none of the components this target counts was assessed (" + \
                    ", ".join(missing) + ")"
            else:
                achievable = float(sum(r[capacity_column(x)] for x in techs))
                row["note"] = ("computed = " + " + ".join(COMPONENT_LABEL[TECH_COMPONENT[x]] for x in techs) +
                               (f"; the target also counts {', '.join(missing)}, not computed" if missing else ""))
                kinds = sorted({x if x in ("wind", "offshore") else "pv" for x in techs}, reverse=True)
                ex = existing_mw.get(code, {})
                unknown = [x for x in kinds if x not in ex]
                existing = float(sum(ex[x] for x in kinds)) if not unknown else np.nan
                if unknown and len(unknown) < len(kinds):
                    row["note"] += (f"; existing not computed: no {' or '.join(unknown)} figure for this "
                                    "jurisdiction")
                target = float(t["value_mw"])
                if t["target_type"] == "increment":
                    # new capacity to add: compare with what is left after what exists
                    room = achievable - (existing if np.isfinite(existing) else 0.0)
                    row["note"] += "; increment target: compared with achievable minus existing"
                    if not np.isfinite(existing):
                        row["note"] += " (existing unknown: taken as 0)"
                else:
                    room = achievable
                pv_techs = [x for x in techs if x not in ("wind", "offshore")]
                wind_techs = [x for x in techs if x in ("wind", "offshore")]
                if pv_techs:
                    row["achievable_pv_mw"] = float(sum(r[capacity_column(x)] for x in pv_techs))
                if wind_techs:
                    row["achievable_wind_mw"] = float(sum(r[capacity_column(x)] for x in wind_techs))
                row.update(achievable_mw=achievable, existing_mw=existing, headroom_mw=room - target,
                           ratio=room / target if target > 0 else np.nan)
                meets = t["qualifier"].met(room, target)
                row["meets"] = bool(meets)
                row["status"] = ("can be met" if meets else "cannot be met") + " on this scenario's land"
        elif comparable:
            row["note"] = f"not compared: jurisdiction {code} is not in this assessment"
        rows.append(row)
    return pd.DataFrame(rows)


def existing_pv_mw_by_province() -> dict[str, float]:
    """Installed PV (MW) per province at the end of 2020, from China Electric Power Yearbook / NEA statistics.

    Sums the five-year additions in the PyPSA-China (PIK) input table shipped
    with the package (MIT). Keys are province adcodes.
    """
    from siting.io.regions import region_index

    df = pd.read_csv(_data_file("pypsa_china_pik_solar_capacity.csv"))
    names = df.iloc[:, 0].astype(str).str.lower().str.replace(" ", "")
    total = df.iloc[:, 1:].sum(axis=1)
    idx = region_index()
    prov = idx[idx.level == "province"]
    aliases = {"innermongolia": "neimenggu", "tibet": "xizang"}
    out = {}
    for name, mw in zip(names, total):
        key = aliases.get(name, name)
        hits = prov[prov.short_pinyin == key]
        if name == "shaanxi":
            hits = prov[prov.name_zh == "陕西省"]
        elif name == "shanxi":
            hits = prov[prov.name_zh == "山西省"]
        if len(hits) == 1:
            out[hits.adcode.iloc[0]] = float(mw)
    return out
