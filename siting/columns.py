"""Output columns of the county table and its subtotals, declared once with units and a description.

The county table (:mod:`siting.engine.table`), the subtotals, the terminal table
(:mod:`siting.ui.report`), the map legends (:mod:`siting.outputs.maps`) and the column reference
(``docs/columns.md``, made by ``python -m siting.columns``) read their names, units and labels from
here. A name may hold the placeholders ``{tech}`` (``pv``, ``wind``) and ``{step}`` (a waterfall step).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np


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
    label_zh : str
        The label in Chinese ({tech} is replaced by "光伏" or "风电"), for workbooks and Chinese readers.
    decimals : int or None
        Decimal places written to CSV and workbooks: what the inputs can support (a 1 km² cell, 0.1 MW,
        whole kWh/kWp); None for text. Shares (units "1") keep four places and are shown to people as
        percentages with two.
    """

    name: str
    units: str
    label: str
    description: str
    additive: bool = False
    label_zh: str = ""
    decimals: int | None = None

    @property
    def pattern(self) -> re.Pattern:
        techs = "|".join(sorted(TECH_LABEL, key=len, reverse=True))  # agri_pv before pv
        text = re.escape(self.name).replace(r"\{tech\}", f"(?P<tech>{techs})").replace(r"\{step\}", "(?P<step>.+)")
        return re.compile(f"^{text}$")

    def __call__(self, tech: str | None = None, step: str | None = None) -> str:
        """The concrete column name, e.g. ``USABLE_KM2("pv")`` → ``usable_pv_km2``."""
        name = self.name
        if "{tech}" in name:
            name = name.replace("{tech}", tech)
        if "{step}" in name:
            name = name.replace("{step}", re.sub(r"[^0-9A-Za-z_]+", "_", step))
        return name


TECH_LABEL = {"pv": "Ground PV", "agri_pv": "Agri-PV", "fishery_pv": "Fishery PV", "rooftop_pv": "Rooftop PV",
              "wind": "Wind", "offshore": "Offshore wind"}
PV_MODES = ("agri_pv", "fishery_pv", "rooftop_pv")  # PV besides ground-mounted, with columns of their own

ADCODE = Column("adcode", "", "Code", "six-digit administrative code of the county (or the user's unit id)",
                label_zh="行政区划代码")
NAME_ZH = Column("name_zh", "", "Name", "Chinese name", label_zh="名称")
NAME_PINYIN = Column("name_pinyin", "", "Pinyin", "pinyin of the short name", label_zh="拼音")
CITY_ADCODE = Column("city_adcode", "", "City code", "administrative code of the city (prefecture)",
                     label_zh="地市代码")
CITY_ZH = Column("city_zh", "", "City", "Chinese name of the city", label_zh="地市")
PROVINCE_ADCODE = Column("province_adcode", "", "Province code", "administrative code of the province",
                         label_zh="省级代码")
PROVINCE_ZH = Column("province_zh", "", "Province", "Chinese name of the province", label_zh="省份")
LEVEL = Column("level", "", "Level", "subtotal rows: city, province or total", label_zh="层级")
N_COUNTIES = Column("n_counties", "", "Counties", "subtotal rows: number of counties added up", label_zh="县数",
                    decimals=0)
AREA_KM2 = Column("area_km2", "km²", "Area", "geodesic area of the boundary polygon", additive=True,
                  label_zh="面积", decimals=2)
GRID_AREA_KM2 = Column("grid_area_km2", "km²", "Grid area",
                       "area of the county on the analysis grid (cells × county fraction × cell area)", additive=True,
                       label_zh="网格面积", decimals=2)
GHI = Column("ghi_kwh_per_m2_yr", "kWh/m²/yr", "GHI", "mean global horizontal irradiation over the county",
             label_zh="水平面总辐射", decimals=0)
ELEVATION = Column("elevation_m", "m", "Elevation", "mean elevation of the county's land (cells the land cover marks as water are left out)", label_zh="平均海拔",
                   decimals=0)
WIND_SPEED_HUB = Column("wind_speed_hub_ms", "m/s", "Wind at hub", "mean wind speed at hub height over the county",
                        label_zh="轮毂高度风速", decimals=2)
USABLE_KM2 = Column("usable_{tech}_km2", "km²", "{tech} usable", "land usable after every rule", additive=True,
                    label_zh="{tech}可用面积", decimals=2)
USABLE_SHARE = Column("usable_{tech}_share", "1", "{tech} land usable", "usable land / grid area",
                      label_zh="{tech}可用比例", decimals=4)
REMOVED_KM2 = Column("removed_{tech}_{step}_km2", "km²", "{tech} removed by {step}",
                     "land the waterfall step removed (a nodata_<layer> step removes cells the layer has no data for; "
                     "negative where a forced inclusion added land)", additive=True, label_zh="{tech}因{step}排除",
                     decimals=2)
CAPACITY_PV_MWP = Column("capacity_pv_mwp", "MWp", "Ground PV capacity",
                         "PV capacity, DC: usable km² × packing density × utilisation", additive=True,
                         label_zh="地面光伏装机（直流）", decimals=1)
CAPACITY_PV_MWAC = Column("capacity_pv_mwac", "MW", "Ground PV capacity (AC)", "PV capacity, AC: MWp / DC-AC ratio",
                          additive=True, label_zh="地面光伏装机（交流）", decimals=1)
CAPACITY_WIND_MW = Column("capacity_wind_mw", "MW", "Wind capacity",
                          "wind capacity: usable km² × packing density × utilisation", additive=True,
                          label_zh="风电装机", decimals=1)
ENERGY_PV_GWH = Column("energy_pv_gwh", "GWh/yr", "Ground PV energy", "annual AC energy of the PV capacity", additive=True,
                       label_zh="地面光伏年发电量", decimals=1)
SPECIFIC_YIELD = Column("specific_yield_kwh_per_kwp", "kWh/kWp/yr", "Ground PV specific yield",
                        "PV energy per kWp of the capacity that has a yield", label_zh="地面光伏等效利用小时数",
                        decimals=0)
CF_PV = Column("capacity_factor_pv", "1", "Ground PV capacity factor", "PV capacity factor on the AC rating",
               label_zh="地面光伏容量系数", decimals=4)
ENERGY_WIND_GWH = Column("energy_wind_gwh", "GWh/yr", "Wind energy", "annual net energy of the wind capacity",
                         additive=True, label_zh="风电年发电量", decimals=1)
CF_WIND = Column("capacity_factor_wind", "1", "Wind capacity factor",
                 "net capacity factor (after wake, availability and electrical losses)", label_zh="风电容量系数",
                 decimals=4)
TARGET_SHARE = Column("target_share_mw", "MW", "Share of the plan target",
                      "map layer: the county's part of the region's wind + PV target minus existing capacity, "
                      "distributed among counties in proportion to their computed capacity (siting allocate "
                      "--method proportional)", label_zh="规划目标分解", decimals=1)
CAPACITY_DIFF = Column("capacity_mw_diff", "MW", "Capacity B − A",
                       "siting compare: MWp of every PV mode + wind MW under scenario B minus under scenario A",
                       label_zh="装机差（B − A）", decimals=1)
BINDING = Column("binding_{tech}", "", "{tech}: rule removing most land",
                 "the waterfall step that removed the most land (nodata_<layer>: cells the layer has no data for)",
                 label_zh="{tech}主要约束")
BINDING_2 = Column("binding_{tech}_2", "", "{tech}: second rule", "the waterfall step that removed the second most land",
                   label_zh="{tech}次要约束")
BINDING_CATEGORY = Column("binding_{tech}_category", "", "{tech}: what binds",
                          "kind of constraint of binding_{tech}: protection, land cover, terrain, resource, setback, "
                          "patch size, data gap or other", label_zh="{tech}约束类别")
# the same figures for the other PV modes (agri_pv, fishery_pv, rooftop_pv); ground PV keeps its names above
MODE_MWP = Column("capacity_{tech}_mwp", "MWp", "{tech} capacity",
                  "capacity of a PV mode, DC: usable km² (of land, or of roof) × packing density × utilisation",
                  additive=True, label_zh="{tech}装机（直流）", decimals=1)
MODE_MWAC = Column("capacity_{tech}_mwac", "MW", "{tech} capacity (AC)", "capacity of a PV mode, AC: MWp / DC-AC ratio",
                   additive=True, label_zh="{tech}装机（交流）", decimals=1)
MODE_GWH = Column("energy_{tech}_gwh", "GWh/yr", "{tech} energy", "annual AC energy of a PV mode's capacity",
                  additive=True, label_zh="{tech}年发电量", decimals=1)
MODE_YIELD = Column("specific_yield_{tech}_kwh_per_kwp", "kWh/kWp/yr", "{tech} specific yield",
                    "energy per kWp of a PV mode (its own plant design: roof tilt, water albedo)",
                    label_zh="{tech}等效利用小时数", decimals=0)
MODE_CF = Column("capacity_factor_{tech}", "1", "{tech} capacity factor", "capacity factor of a PV mode on its AC rating",
                 label_zh="{tech}容量系数", decimals=4)
CAPACITY_OFFSHORE_MW = Column("capacity_offshore_mw", "MW", "Offshore wind capacity",
                              "offshore wind capacity: usable sea km² × packing density × utilisation", additive=True,
                              label_zh="海上风电装机", decimals=1)
ENERGY_OFFSHORE_GWH = Column("energy_offshore_gwh", "GWh/yr", "Offshore wind energy",
                             "annual net energy of the offshore wind capacity", additive=True,
                             label_zh="海上风电年发电量", decimals=1)
CF_OFFSHORE = Column("capacity_factor_offshore", "1", "Offshore wind capacity factor",
                     "net capacity factor of the offshore capacity (after wake, availability and electrical losses)",
                     label_zh="海上风电容量系数", decimals=4)
SEA_AREA_KM2 = Column("sea_area_km2", "km²", "Sea area",
                      "sea within the offshore extent whose nearest coast is the county's (siting.geo.sea)",
                      additive=True, label_zh="所辖海域面积", decimals=2)
SEA_BAND_KM2 = Column("sea_{step}_km2", "km²", "Sea, {step}", "the county's sea in one band of distance from the shore",
                      additive=True, label_zh="海域（{step}）", decimals=2)
FOUNDATION_KM2 = Column("usable_{tech}_{step}_km2", "km²", "{tech} usable, {step} foundations",
                        "usable sea whose water depth suits one foundation type (fixed-bottom, floating; "
                        "[offshore.foundations])", additive=True, label_zh="{tech}可用海域（{step}基础）", decimals=2)
FOUNDATION_MW = Column("capacity_{tech}_{step}_mw", "MW", "{tech} capacity, {step} foundations",
                       "capacity on the usable sea of one foundation type, at that type's packing density",
                       additive=True, label_zh="{tech}装机（{step}基础）", decimals=1)
LCOE = Column("lcoe_{tech}_cny_per_kwh", "CNY/kWh", "{tech} LCOE",
              "levelised cost of energy of the usable land with a yield, energy-weighted (capex with the line to the "
              "grid where a grid layer is given, fixed O&M, discount rate, lifetime, degradation: [economics] and "
              "[<tech>.cost])", label_zh="{tech}平准化度电成本", decimals=3)
GRID_KM = Column("grid_distance_{tech}_km", "km", "{tech} distance to grid",
                 "mean straight-line distance from the usable land to the nearest grid line of the grid layer",
                 label_zh="{tech}距电网距离", decimals=1)
ECONOMIC_MW = Column("economic_{tech}_mw", "MW", "{tech} economic potential",
                     "capacity on the usable land whose LCOE is at or below the tariff (grid parity; PV in AC MW)",
                     additive=True, label_zh="{tech}经济可开发容量", decimals=1)
ECONOMIC_MIN = Column("economic_{tech}_mw_min", "MW", "{tech} economic potential, high costs",
                      "economic potential with every cost at the unfavourable end of its range (high capex and O&M, "
                      "short life, high discount rate)", additive=True, label_zh="{tech}经济可开发容量（高成本）",
                      decimals=1)
ECONOMIC_MAX = Column("economic_{tech}_mw_max", "MW", "{tech} economic potential, low costs",
                      "economic potential with every cost at the favourable end of its range", additive=True,
                      label_zh="{tech}经济可开发容量（低成本）", decimals=1)
TARIFF = Column("tariff_cny_per_kwh", "CNY/kWh", "Tariff",
                "the tariff LCOE is compared with: the province's coal-fired benchmark tariff (燃煤发电基准价), or "
                "the user's", label_zh="燃煤发电基准价", decimals=4)
ECONOMIC_TOTAL = Column("economic_mw", "MW", "Economic potential",
                        "economic potential of every technology with costs and a yield (PV in AC MW)", additive=True,
                        label_zh="经济可开发容量", decimals=1)
HOSTING = Column("hosting_capacity_mw", "MW", "Grid hosting capacity",
                 "the grid company's hosting capacity for new generation (可开放容量 / 消纳能力) from --hosting",
                 additive=True, label_zh="电网可开放容量", decimals=1)
ACHIEVABLE = Column("economic_achievable_mw", "MW", "Achievable (cost and grid)",
                    "the smaller of the economic potential and the grid's hosting capacity (economic potential alone "
                    "without a hosting file)", additive=True, label_zh="经济及电网可实现容量", decimals=1)
BINDING_LIMIT = Column("binding_limit", "", "What limits it",
                       "what makes economic_achievable_mw smaller than the technical capacity: hosting capacity, cost (grid "
                       "parity), or land and rules (all usable land pays)", label_zh="限制因素")
_RANGED = (CAPACITY_PV_MWP, ENERGY_PV_GWH, CAPACITY_WIND_MW, ENERGY_WIND_GWH, MODE_MWP, MODE_GWH,
           CAPACITY_OFFSHORE_MW, ENERGY_OFFSHORE_GWH)
PERCENTILE_COLUMNS = tuple(
    Column(f"{c.name}_p{q}", c.units, f"{c.label} P{q}",
           f"{q}th percentile of {c.name} over the uncertainty draws (the ranges of the scenario's judgement "
           "defaults); subtotals are percentiles of the summed draws, not sums of percentiles",
           label_zh=f"{c.label_zh} P{q}", decimals=c.decimals)
    for c in _RANGED for q in (10, 50, 90))

# waterfall.csv: one row per county, technology and step
WATERFALL_COLUMNS = (
    Column("tech", "", "Technology", "waterfall: pv or wind", label_zh="技术"),
    Column("step", "", "Step", "waterfall: the rule applied (total area first)", label_zh="步骤"),
    Column("removed_km2", "km²", "Removed", "waterfall: land this step removed", label_zh="本步排除面积", decimals=2),
    Column("remaining_km2", "km²", "Remaining", "waterfall: land left after this step", label_zh="剩余面积",
           decimals=2),
)

# targets.csv: one row per plan target compared with what was computed
TARGET_COLUMNS = (
    Column("row_id", "", "Target row", "targets: row of the targets table", label_zh="目标编号"),
    Column("jurisdiction_zh", "", "Jurisdiction", "targets: the province or city the target is for",
           label_zh="行政区"),
    Column("target_year", "", "Year", "targets: the plan year", label_zh="目标年份", decimals=0),
    Column("metric", "", "Metric", "targets: what the plan counts", label_zh="指标"),
    Column("scope", "", "Scope", "targets: technologies the target covers", label_zh="范围"),
    Column("target_type", "", "Type", "targets: absolute (installed) or increment (new)", label_zh="目标类型"),
    Column("target_mw", "MW", "Target", "targets: the plan's figure", label_zh="规划目标", decimals=1),
    Column("achievable_mw", "MW", "Computed", "targets: capacity computed for the target's scope",
           label_zh="测算可开发容量", decimals=1),
    Column("achievable_pv_mw", "MW", "Computed PV", "targets: PV part (AC)", label_zh="其中光伏", decimals=1),
    Column("achievable_wind_mw", "MW", "Computed wind", "targets: wind part", label_zh="其中风电", decimals=1),
    Column("existing_mw", "MW", "Existing", "targets: capacity already built (increment targets subtract it)",
           label_zh="已建容量", decimals=1),
    Column("headroom_mw", "MW", "Headroom", "targets: computed (less existing for increments) minus target",
           label_zh="富余容量", decimals=1),
    Column("ratio", "1", "Computed / target", "targets: computed over target", label_zh="测算/目标", decimals=2),
    Column("probability", "1", "Probability met", "targets: share of uncertainty draws meeting the target",
           label_zh="达标概率", decimals=2),
    Column("verdict", "", "Verdict", "targets: what the comparison can claim", label_zh="结论"),
    Column("achievable_mw_p10", "MW", "Computed P10", "targets: 10th percentile of the draws", label_zh="测算 P10",
           decimals=1),
    Column("achievable_mw_p50", "MW", "Computed P50", "targets: median of the draws", label_zh="测算 P50", decimals=1),
    Column("achievable_mw_p90", "MW", "Computed P90", "targets: 90th percentile of the draws", label_zh="测算 P90",
           decimals=1),
    Column("source_document", "", "Document", "targets: the plan the figure is from", label_zh="来源文件"),
    Column("quote_zh", "", "Quote", "targets: the plan's words", label_zh="原文"),
    Column("qualifier_zh", "", "Qualifier", "targets: the plan's own qualifier (力争, 达到, 以上 ...)", label_zh="表述"),
    Column("qualifier", "", "Qualifier (English)", "targets: what the qualifier makes of the figure",
           label_zh="表述含义"),
    Column("meets", "", "Meets", "targets: whether the computed capacity reaches the target (empty: not compared)",
           label_zh="是否满足"),
    Column("status", "", "Status", "targets: compared, or why not", label_zh="状态"),
    Column("note", "", "Note", "targets: what the comparison rests on or lacks", label_zh="说明"),
    Column("basis_tier", "", "Basis", "targets: how far the computed figure goes (technical, ... achievable)",
           label_zh="测算口径"),
    Column("basis_components", "", "Components computed", "targets: parts of the target's scope that were computed",
           label_zh="已测算部分"),
    Column("basis_missing_components", "", "Components not computed",
           "targets: parts of the target's scope that were not computed", label_zh="未测算部分"),
    Column("basis_layers", "", "Layers", "targets: the layers the computed figure rests on", label_zh="数据图层"),
    Column("binding_constraint", "", "Binding constraint", "targets: the rule that removes most land in the region",
           label_zh="主要约束"),
    Column("target_components", "", "Target components", "targets: what the plan's figure counts",
           label_zh="目标构成"),
    Column("existing_vintage", "", "Existing as of", "targets: date and source of the existing capacity",
           label_zh="已建容量时点"),
)

COLUMNS: tuple[Column, ...] = (
    ADCODE, NAME_ZH, NAME_PINYIN, CITY_ADCODE, CITY_ZH, PROVINCE_ADCODE, PROVINCE_ZH, LEVEL, N_COUNTIES,
    AREA_KM2, GRID_AREA_KM2, GHI, ELEVATION, WIND_SPEED_HUB, USABLE_KM2, USABLE_SHARE, REMOVED_KM2,
    CAPACITY_PV_MWP, CAPACITY_PV_MWAC, CAPACITY_WIND_MW, ENERGY_PV_GWH, SPECIFIC_YIELD, CF_PV,
    ENERGY_WIND_GWH, CF_WIND, CAPACITY_OFFSHORE_MW, ENERGY_OFFSHORE_GWH, CF_OFFSHORE, SEA_AREA_KM2, SEA_BAND_KM2,
    FOUNDATION_KM2, FOUNDATION_MW, LCOE, GRID_KM, ECONOMIC_MW, ECONOMIC_MIN, ECONOMIC_MAX, TARIFF, ECONOMIC_TOTAL,
    HOSTING, ACHIEVABLE, BINDING_LIMIT,
    MODE_MWP, MODE_MWAC, MODE_GWH, MODE_YIELD, MODE_CF, BINDING, BINDING_2, BINDING_CATEGORY,
    TARGET_SHARE, CAPACITY_DIFF, *PERCENTILE_COLUMNS,
    *WATERFALL_COLUMNS, *TARGET_COLUMNS,
)
ID_COLUMNS = [c.name for c in (ADCODE, NAME_ZH, NAME_PINYIN, CITY_ADCODE, CITY_ZH, PROVINCE_ADCODE, PROVINCE_ZH)]
MEAN_COLUMNS = (GHI.name, ELEVATION.name, WIND_SPEED_HUB.name)


def whole_area(row, tech: str) -> float:
    """The area a technology's waterfall and usable share start from in a table row: the county's sea
    (``sea_area_km2``) for offshore wind, its land on the grid (``grid_area_km2``) otherwise. The sea run's own
    rows have no ``sea_area_km2``: their grid area is sea."""
    if tech == "offshore" and SEA_AREA_KM2.name in row:
        return row[SEA_AREA_KM2.name]
    return row[GRID_AREA_KM2.name]


def capacity_column(tech: str) -> str:
    """The capacity column of a technology: ``capacity_pv_mwp``, ``capacity_agri_pv_mwp``, ``capacity_wind_mw``."""
    return {"wind": CAPACITY_WIND_MW.name, "offshore": CAPACITY_OFFSHORE_MW.name, "pv": CAPACITY_PV_MWP.name}.get(
        tech) or MODE_MWP(tech)


def energy_column(tech: str) -> str:
    """The annual energy column of a technology."""
    return {"wind": ENERGY_WIND_GWH.name, "offshore": ENERGY_OFFSHORE_GWH.name, "pv": ENERGY_PV_GWH.name}.get(
        tech) or MODE_GWH(tech)


def pv_columns(tech: str) -> dict[str, str]:
    """Column names of a PV technology's figures: ``mwp``, ``mwac``, ``gwh``, ``yield``, ``cf``."""
    if tech == "pv":
        return {"mwp": CAPACITY_PV_MWP.name, "mwac": CAPACITY_PV_MWAC.name, "gwh": ENERGY_PV_GWH.name,
                "yield": SPECIFIC_YIELD.name, "cf": CF_PV.name}
    return {"mwp": MODE_MWP(tech), "mwac": MODE_MWAC(tech), "gwh": MODE_GWH(tech), "yield": MODE_YIELD(tech),
            "cf": MODE_CF(tech)}


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


TECH_LABEL_ZH = {"pv": "地面光伏", "agri_pv": "农光互补", "fishery_pv": "渔光互补", "rooftop_pv": "屋顶光伏",
                 "wind": "风电", "offshore": "海上风电"}


def label_zh(name: str) -> str:
    """The Chinese label of a column, e.g. ``capacity_wind_mw`` → ``风电装机`` (the name itself if undeclared)."""
    found = lookup(name)
    if not found or not found[0].label_zh:
        return name
    col, parts = found
    return col.label_zh.replace("{tech}", TECH_LABEL_ZH.get(parts.get("tech", ""), "")).replace(
        "{step}", parts.get("step", ""))


def decimals(name: str) -> int | None:
    """Decimal places a column is written with (None: text, or not declared)."""
    found = lookup(name)
    return found[0].decimals if found else None


def rounded(df):
    """A copy of a table with each declared numeric column rounded to its :attr:`Column.decimals`.

    Rounding never yields ``-0``; undeclared columns are left as they are.
    """
    import pandas as pd

    out = df.copy()
    for name in out.columns:
        places = decimals(name)
        if places is None or out[name].dtype.kind not in "fi":
            continue
        values = out[name].astype("float64").round(places) + 0.0  # + 0.0 turns -0.0 into 0.0
        finite = values[values.notna()]
        if places == 0 and np.isfinite(finite).all():
            values = values.astype(pd.Int64Dtype())  # 1681, not 1681.0
        out[name] = values
    return out


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
             "| column | units | decimals | subtotal | 中文 | description |", "|---|---|---|---|---|---|"]
    for c in COLUMNS:
        lines.append(f"| `{c.name}` | {c.units or '–'} | {'–' if c.decimals is None else c.decimals} | "
                     f"{'sum' if c.additive else '–'} | {c.label_zh} | {c.description} |")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":  # pragma: no cover
    print(reference_markdown(), end="")
