"""Output columns of the county table and its subtotals, declared once with units and a description.

The county table (:mod:`siting.engine.table`), the subtotals, the terminal table
(:mod:`siting.ui.report`), the map legends (:mod:`siting.outputs.maps`) and the column reference
(``docs/columns.md``, made by ``python -m siting.columns``) read their names, units and labels from
here. A name may hold the placeholders ``{tech}`` (``pv``, ``wind``) and ``{step}`` (a waterfall step).
"""

from __future__ import annotations

import re
from dataclasses import dataclass


@dataclass(frozen=True)
class Column:
    """One output column.

    Attributes
    ----------
    name : str
        Column name or pattern, e.g. ``usable_{tech}_km2``.
    units : str
        Units as shown to people ("" for identifiers and text, "1" for shares and factors).
    label : str
        Short label for tables and legends ({tech} is replaced by "PV" or "Wind").
    description : str
        One line on what it holds.
    additive : bool
        Subtotals add it up (areas, capacities, energies); otherwise they recompute or average it.
    """

    name: str
    units: str
    label: str
    description: str
    additive: bool = False

    @property
    def pattern(self) -> re.Pattern:
        text = re.escape(self.name).replace(r"\{tech\}", "(?P<tech>pv|wind)").replace(r"\{step\}", "(?P<step>.+)")
        return re.compile(f"^{text}$")

    def __call__(self, tech: str | None = None, step: str | None = None) -> str:
        """The concrete column name, e.g. ``USABLE_KM2("pv")`` → ``usable_pv_km2``."""
        name = self.name
        if "{tech}" in name:
            name = name.replace("{tech}", tech)
        if "{step}" in name:
            name = name.replace("{step}", re.sub(r"[^0-9A-Za-z_]+", "_", step))
        return name


TECH_LABEL = {"pv": "PV", "wind": "Wind"}

ADCODE = Column("adcode", "", "Code", "six-digit administrative code of the county (or the user's unit id)")
NAME_ZH = Column("name_zh", "", "Name", "Chinese name")
NAME_PINYIN = Column("name_pinyin", "", "Pinyin", "pinyin of the short name")
CITY_ADCODE = Column("city_adcode", "", "City code", "administrative code of the city (prefecture)")
CITY_ZH = Column("city_zh", "", "City", "Chinese name of the city")
PROVINCE_ADCODE = Column("province_adcode", "", "Province code", "administrative code of the province")
PROVINCE_ZH = Column("province_zh", "", "Province", "Chinese name of the province")
LEVEL = Column("level", "", "Level", "subtotal rows: city, province or total")
N_COUNTIES = Column("n_counties", "", "Counties", "subtotal rows: number of counties added up")
AREA_KM2 = Column("area_km2", "km²", "Area", "geodesic area of the boundary polygon", additive=True)
GRID_AREA_KM2 = Column("grid_area_km2", "km²", "Grid area",
                       "area of the county on the analysis grid (cells × county fraction × cell area)", additive=True)
GHI = Column("ghi_kwh_per_m2_yr", "kWh/m²/yr", "GHI", "mean global horizontal irradiation over the county")
ELEVATION = Column("elevation_m", "m", "Elevation", "mean elevation over the county")
WIND_SPEED_HUB = Column("wind_speed_hub_ms", "m/s", "Wind at hub", "mean wind speed at hub height over the county")
USABLE_KM2 = Column("usable_{tech}_km2", "km²", "{tech} usable", "land usable after every rule", additive=True)
USABLE_SHARE = Column("usable_{tech}_share", "1", "{tech} land usable", "usable land / grid area")
REMOVED_KM2 = Column("removed_{tech}_{step}_km2", "km²", "{tech} removed by {step}",
                     "land the waterfall step removed (a nodata_<layer> step removes cells the layer has no data for; "
                     "negative where a forced inclusion added land)", additive=True)
CAPACITY_PV_MWP = Column("capacity_pv_mwp", "MWp", "PV capacity",
                         "PV capacity, DC: usable km² × packing density × utilisation", additive=True)
CAPACITY_PV_MWAC = Column("capacity_pv_mwac", "MW", "PV capacity (AC)", "PV capacity, AC: MWp / DC-AC ratio",
                          additive=True)
CAPACITY_WIND_MW = Column("capacity_wind_mw", "MW", "Wind capacity",
                          "wind capacity: usable km² × packing density × utilisation", additive=True)
ENERGY_PV_GWH = Column("energy_pv_gwh", "GWh/yr", "PV energy", "annual AC energy of the PV capacity", additive=True)
SPECIFIC_YIELD = Column("specific_yield_kwh_per_kwp", "kWh/kWp/yr", "PV specific yield",
                        "PV energy per kWp of the capacity that has a yield")
CF_PV = Column("capacity_factor_pv", "1", "PV capacity factor", "PV capacity factor on the AC rating")
ENERGY_WIND_GWH = Column("energy_wind_gwh", "GWh/yr", "Wind energy", "annual net energy of the wind capacity",
                         additive=True)
CF_WIND = Column("capacity_factor_wind", "1", "Wind capacity factor",
                 "net capacity factor (after wake, availability and electrical losses)")
TARGET_SHARE = Column("target_share_mw", "MW", "Share of the plan target",
                      "map layer: the county's part of the region's wind + PV target minus existing capacity, "
                      "distributed among counties in proportion to their computed capacity (siting allocate "
                      "--method proportional)")
CAPACITY_DIFF = Column("capacity_mw_diff", "MW", "Capacity B − A",
                       "siting compare: PV MWp + wind MW under scenario B minus under scenario A")
BINDING = Column("binding_{tech}", "", "{tech}: rule removing most land",
                 "the waterfall step that removed the most land (nodata_<layer>: cells the layer has no data for)")
BINDING_2 = Column("binding_{tech}_2", "", "{tech}: second rule", "the waterfall step that removed the second most land")
BINDING_CATEGORY = Column("binding_{tech}_category", "", "{tech}: what binds",
                          "kind of constraint of binding_{tech}: protection, land cover, terrain, resource, setback, "
                          "patch size, data gap or other")
_RANGED = (CAPACITY_PV_MWP, ENERGY_PV_GWH, CAPACITY_WIND_MW, ENERGY_WIND_GWH)
PERCENTILE_COLUMNS = tuple(
    Column(f"{c.name}_p{q}", c.units, f"{c.label} P{q}",
           f"{q}th percentile of {c.name} over the uncertainty draws (the ranges of the scenario's judgement "
           "defaults); subtotals are percentiles of the summed draws, not sums of percentiles")
    for c in _RANGED for q in (10, 50, 90))

COLUMNS: tuple[Column, ...] = (
    ADCODE, NAME_ZH, NAME_PINYIN, CITY_ADCODE, CITY_ZH, PROVINCE_ADCODE, PROVINCE_ZH, LEVEL, N_COUNTIES,
    AREA_KM2, GRID_AREA_KM2, GHI, ELEVATION, WIND_SPEED_HUB, USABLE_KM2, USABLE_SHARE, REMOVED_KM2,
    CAPACITY_PV_MWP, CAPACITY_PV_MWAC, CAPACITY_WIND_MW, ENERGY_PV_GWH, SPECIFIC_YIELD, CF_PV,
    ENERGY_WIND_GWH, CF_WIND, BINDING, BINDING_2, BINDING_CATEGORY, TARGET_SHARE, CAPACITY_DIFF, *PERCENTILE_COLUMNS,
)
ID_COLUMNS = [c.name for c in (ADCODE, NAME_ZH, NAME_PINYIN, CITY_ADCODE, CITY_ZH, PROVINCE_ADCODE, PROVINCE_ZH)]
MEAN_COLUMNS = (GHI.name, ELEVATION.name, WIND_SPEED_HUB.name)


def lookup(name: str) -> tuple[Column, dict[str, str]] | None:
    """The declaration of a concrete column name and its placeholders, or None if it is not declared."""
    for col in COLUMNS:
        m = col.pattern.match(name)
        if m:
            return col, {k: v for k, v in m.groupdict().items() if v is not None}
    return None


def units(name: str) -> str:
    """Units of a column ("" if it has none or is not declared)."""
    found = lookup(name)
    return found[0].units if found else ""


def label(name: str, with_units: bool = False) -> str:
    """A short label for a column, e.g. ``capacity_wind_mw`` → ``Wind capacity`` (``Wind capacity (MW)``)."""
    found = lookup(name)
    if not found:
        return name
    col, parts = found
    text = col.label.replace("{tech}", TECH_LABEL.get(parts.get("tech", ""), "")).replace(
        "{step}", parts.get("step", ""))
    return f"{text} ({col.units})" if with_units and col.units not in ("", "1") else text


def is_additive(name: str) -> bool:
    """True for columns that subtotals add up."""
    found = lookup(name)
    return bool(found and found[0].additive)


def reference_markdown() -> str:
    """The column reference as a Markdown table (``docs/columns.md``)."""
    lines = ["# Output columns", "",
             "Generated from `siting/columns.py` by `python -m siting.columns > docs/columns.md`; a test keeps it "
             "in step.", "", "`{tech}` is `pv` or `wind`; `{step}` is a waterfall step (a rule name, or "
             "`nodata_<layer>`).", "",
             "| column | units | subtotal | description |", "|---|---|---|---|"]
    for c in COLUMNS:
        lines.append(f"| `{c.name}` | {c.units or '–'} | {'sum' if c.additive else '–'} | {c.description} |")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":  # pragma: no cover
    print(reference_markdown(), end="")
