"""Scenarios: the layers and the eligibility rules per technology, from TOML.

A scenario file declares ``[layers.NAME]`` (what to read) and, per technology
(``[pv]``, ``[wind]``), the capacity parameters and an ordered table of rules
``[pv.rules.NAME]``. The built-in preset is ``layers/china.toml``. A user file
may start with ``extends = "china"`` and then only add or override tables:
rules are merged by name, so ``[pv.rules.cropland] weights = {12 = 0.3}``
changes one rule and keeps the rest.

Everything is validated with pydantic: unknown keys, wrong types and values out
of range are errors that name the file, the key and what is allowed.
"""

from __future__ import annotations

import copy
import hashlib
import importlib.resources
import json
import tomllib
from pathlib import Path
from typing import Annotated, Any, Literal, Union

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from siting.errors import SitingError

Weight = Annotated[float, Field(ge=0.0, le=1.0)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


# Layer names with a meaning of their own to the wind model and the plan.
WIND_LAYER = "wind_speed_ms"
WEIBULL_K_LAYER = "weibull_k"
WEIBULL_A_LAYER = "weibull_a_ms"
TYPHOON_LAYER = "typhoon_exposure"
HUB_LAYER = "wind_speed_hub_ms"


class LayerSpec(_Strict):
    """One input layer.

    ``source`` is ``builtin:<name>`` or a raster path (relative paths are
    relative to the scenario file).
    """

    source: str
    kind: Literal["categorical", "continuous"]
    units: str
    description: str = ""
    resolution: str = ""
    licence: str = ""
    citation: str = ""
    coarse: bool = False
    band: int = Field(1, ge=1)
    nodata: float | None = None
    resampling: Literal["auto", "nearest", "mode", "bilinear", "average"] = "auto"
    classes: dict[int, str] = Field(default_factory=dict)
    water_classes: list[int] = Field(default_factory=list)  # land cover: classes that are water (left out of
    #                                                          the county mean elevation)
    valid_min: float | None = None
    valid_max: float | None = None
    height_m: float | None = Field(None, gt=0.0, le=300.0)
    scale: float = 1.0
    offset: float = 0.0
    derive: Literal["slope_deg"] | None = None
    crs: str | None = None
    rasterize: Literal["centre", "all_touched"] = "centre"
    value_column: str | None = None
    burn_value: int = Field(1, ge=1, le=65534)
    # polygons summed onto the grid instead of burnt in (building footprints): "area_share" is the share of each
    # cell covered by the polygons whose centroid lies in it; "class_weight_mean" is the area-weighted mean of
    # class_weights[value] over them (e.g. the usable roof share by building type)
    aggregate: Literal["burn", "area_share", "class_weight_mean"] = "burn"
    class_weights: dict[int, float] = Field(default_factory=dict)
    class_weight_default: float | None = Field(None, ge=0.0, le=1.0)

    @model_validator(mode="after")
    def _aggregate_kind(self):
        if self.aggregate != "burn" and self.kind != "continuous":
            raise ValueError(f"aggregate = \"{self.aggregate}\" gives shares: the layer must be kind = \"continuous\"")
        if self.aggregate == "class_weight_mean" and not self.value_column:
            raise ValueError("aggregate = \"class_weight_mean\" needs value_column (the class of each polygon)")
        if any(not 0.0 <= w <= 1.0 for w in self.class_weights.values()):
            raise ValueError("class_weights must lie within 0..1")
        return self


RULE_CATEGORIES = ("protection", "land cover", "terrain", "resource", "setback", "patch size", "other")

# Technologies, in the order land is shared: ground-mounted PV first, then agrivoltaics, then fishery PV on
# what is left of a cell (a cell's land is split between them, never counted twice); rooftop PV sits on roofs,
# not on land; onshore wind is assessed on its own (turbines and PV are reported separately, as the plans do).
TECH_NAMES = ("pv", "agri_pv", "fishery_pv", "rooftop_pv", "wind", "offshore")
PV_TECHS = ("pv", "agri_pv", "fishery_pv", "rooftop_pv")


class _RuleBase(_Strict):
    description: str = ""
    source: str = ""
    optional: bool = False
    on_nodata: Literal["exclude", "pass"] = "exclude"
    # what kind of constraint the rule is, for "what binds" (inferred from its type and layer when not given)
    category: Literal["protection", "land cover", "terrain", "resource", "setback", "patch size", "other"] | None = None
    # a rule that stands in for this one where this one's layer is missing (e.g. land-cover cropland for the
    # basic-farmland polygons); the basis then reports the kind of constraint as covered by a proxy
    proxy: str | None = None
    # apply this rule only where the scenario declares no layer of this name (a proxy that gives way to the
    # real layer, e.g. urban land for roofs when building footprints are given)
    only_without: str | None = None


def rule_category(name: str, rule) -> str:
    """The kind of constraint a rule is: its ``category``, else inferred from its type and layer."""
    if name.startswith("nodata:"):
        return "data gap"
    if name.startswith("used_by_"):
        return "land sharing"
    if rule is None:
        return "other"
    if getattr(rule, "category", None):
        return rule.category
    layer = (getattr(rule, "layer", "") or "").lower()
    if rule.__class__.__name__ == "MinAreaRule":
        return "patch size"
    if rule.__class__.__name__ == "BufferRule":
        return "setback"
    if any(k in layer for k in ("protect", "red_line", "redline", "reserve", "farmland", "forest_park")):
        return "protection"
    if any(k in layer for k in ("slope", "elevation", "dem", "terrain")):
        return "terrain"
    if any(k in layer for k in ("wind", "ghi", "pvout", "irradiance", "weibull", "typhoon")):
        return "resource"
    if any(k in layer for k in ("land_cover", "landcover", "land_use", "landuse", "worldcover", "lc")):
        return "land cover"
    return "other"


class ClassesRule(_RuleBase):
    """Exclude, include or weight cells by the class of a categorical layer.

    Classes in ``exclude`` get weight 0; with ``include`` given, every class
    not listed gets 0; ``weights`` sets a weight 0..1 per class (e.g. 0.3 for
    agrivoltaics on cropland). Unlisted classes keep weight 1.
    """

    type: Literal["classes"]
    layer: str
    exclude: list[int] = Field(default_factory=list)
    include: list[int] | None = None
    weights: dict[int, Weight] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _something(self):
        if not self.exclude and self.include is None and not self.weights:
            raise ValueError("a classes rule needs at least one of exclude, include, weights")
        return self


class _Condition(_Strict):
    classes: list[int] | None = None
    min: float | None = None
    max: float | None = None

    @model_validator(mode="after")
    def _has_condition(self):
        if self.classes is None and self.min is None and self.max is None:
            raise ValueError("give classes, or min and/or max")
        if self.min is not None and self.max is not None and self.min > self.max:
            raise ValueError(f"min ({self.min}) is greater than max ({self.max})")
        return self


class RangeRule(_RuleBase):
    """Keep cells whose continuous value lies in [min, max]; exclude the rest.

    On a slope layer derived from a DEM, ``north_facing_factor`` weights DEM
    pixels that face north (315°–45°) and are steeper than
    ``north_facing_min_slope_deg`` (e.g. 0 excludes them, 0.5 halves them).
    """

    type: Literal["range"]
    layer: str
    min: float | None = None
    max: float | None = None
    north_facing_factor: float | None = Field(None, ge=0.0, le=1.0)
    north_facing_min_slope_deg: float = Field(5.0, ge=0.0, le=90.0)

    @model_validator(mode="after")
    def _bounds(self):
        if self.min is None and self.max is None:
            raise ValueError("a range rule needs min and/or max")
        if self.min is not None and self.max is not None and self.min > self.max:
            raise ValueError(f"min ({self.min}) is greater than max ({self.max})")
        return self


class BufferRule(_RuleBase, _Condition):
    """Exclude cells within ``distance_m`` of feature cells (and the features themselves).

    Features are the cells of ``layer`` whose class is in ``classes`` or whose
    value lies in [min, max]. Distances are Euclidean, cell centre to cell
    centre, in metres (a distance transform on the equal-area grid).
    """

    type: Literal["buffer"]
    layer: str
    distance_m: float = Field(ge=0.0, le=100_000.0)


class MinAreaRule(_RuleBase):
    """Drop contiguous patches (8-connected) whose usable area is below ``min_area_km2``."""

    type: Literal["min_area"]
    min_area_km2: float = Field(gt=0.0, le=10_000.0)


class ForceIncludeRule(_RuleBase, _Condition):
    """Make matching cells usable at ``weight`` whatever earlier rules said (e.g. designated zones)."""

    type: Literal["force_include"]
    layer: str
    weight: Weight = 1.0


class FactorRule(_RuleBase):
    """Multiply the usable share by a continuous 0..1 layer (a suitability or pass-share raster).

    A range rule on a layer derived from a DEM (``derive = "slope_deg"``)
    becomes a factor rule on the share of each cell that passes the slope limit.
    """

    type: Literal["factor"]
    layer: str


Rule = Annotated[Union[ClassesRule, RangeRule, BufferRule, MinAreaRule, ForceIncludeRule, FactorRule],
                 Field(discriminator="type")]
RULE_TYPES = ("classes", "range", "buffer", "min_area", "force_include", "factor")


class PVSystemParams(_Strict):
    """PV plant design for the yield model (see :mod:`siting.model.solar`)."""

    mounting: Literal["fixed", "single_axis"] = "fixed"
    tilt_deg: float | None = Field(None, ge=0.0, le=90.0)
    azimuth_deg: float = Field(180.0, ge=0.0, le=360.0)
    gcr: float = Field(0.35, gt=0.0, lt=1.0)
    albedo: float = Field(0.2, ge=0.0, le=1.0)
    gamma_pdc_per_c: float = Field(-0.0035, ge=-0.01, le=0.0)
    inverter_efficiency: float = Field(0.96, gt=0.5, le=1.0)
    soiling_loss: float = Field(0.035, ge=0.0, lt=0.5)
    other_losses: float = Field(0.075, ge=0.0, lt=0.5)
    transposition: Literal["haydavies", "perez"] = "haydavies"
    source: str = ""


class WindModelParams(_Strict):
    """Wind farm design and losses for the energy model (see :mod:`siting.model.wind`)."""

    turbine: str = "nrel-bar-lowsp-3.25mw-166"
    hub_height_m: float | None = Field(None, gt=10.0, le=250.0)
    shear: Literal["power", "log"] = "power"
    shear_exponent: float = Field(0.143, ge=0.0, le=0.6)
    weibull_k: float = Field(2.0, gt=0.5, le=6.0)
    wake_loss: float = Field(0.10, ge=0.0, lt=0.6)
    availability_loss: float = Field(0.03, ge=0.0, lt=0.6)
    electrical_loss: float = Field(0.02, ge=0.0, lt=0.6)
    capacity_density: Literal["fixed", "spacing"] = "fixed"
    spacing_crosswind_d: float = Field(5.0, gt=1.0, le=20.0)
    spacing_downwind_d: float = Field(7.0, gt=1.0, le=30.0)
    source: str = ""


class Foundation(_Strict):
    """Offshore: a foundation type for the cells whose water depth lies in its band, with its own density.

    The bands follow each other in the order of ``max_depth_m``: a foundation covers depths above the previous
    one's limit up to its own (the first from 0 m).
    """

    label: str = ""
    max_depth_m: float = Field(gt=0.0, le=11_000.0)
    max_depth_source: str = ""
    capacity_density_mw_per_km2: float = Field(gt=0.0, le=500.0)
    capacity_density_source: str = ""


class TechCost(_Strict):
    """What a technology's plants cost (real CNY of the year of the sources), for its LCOE.

    ``ranges`` gives the low–high range of ``capex_cny_per_kw``, ``fixed_om_cny_per_kw_yr`` and ``lifetime_yr``:
    the economic potential is also computed with every cost at its favourable and at its unfavourable end.
    """

    capex_cny_per_kw: float = Field(gt=0.0, le=100_000.0)
    capex_source: str = ""
    fixed_om_cny_per_kw_yr: float = Field(ge=0.0, le=5_000.0)
    fixed_om_source: str = ""
    lifetime_yr: int = Field(ge=5, le=60)
    lifetime_source: str = ""
    degradation_per_yr: float = Field(0.0, ge=0.0, lt=0.05)
    degradation_source: str = ""
    # False: the plant connects where it stands (rooftop PV on the building's own supply); no line is costed
    connection: bool = True
    # CNY/kW per km of line to the grid for this technology instead of the voltage classes (offshore export cable)
    connection_cny_per_kw_km: float | None = Field(None, ge=0.0, le=1_000.0)
    connection_source: str = ""
    ranges: dict[str, "Range"] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _units(self):
        if self.capex_cny_per_kw < 100.0:
            raise ValueError(f"capex_cny_per_kw = {self.capex_cny_per_kw:g} looks like CNY/W (or a share); give CNY "
                             f"per kW, e.g. {self.capex_cny_per_kw * 1000:g}")
        if self.fixed_om_cny_per_kw_yr and self.fixed_om_cny_per_kw_yr < 0.5:
            raise ValueError(f"fixed_om_cny_per_kw_yr = {self.fixed_om_cny_per_kw_yr:g} looks like CNY/W/yr; give CNY "
                             f"per kW and year, e.g. {self.fixed_om_cny_per_kw_yr * 1000:g}")
        bad = [k for k in self.ranges if k not in ("capex_cny_per_kw", "fixed_om_cny_per_kw_yr", "lifetime_yr")]
        if bad:
            raise ValueError(f"ranges.{bad[0]}: use capex_cny_per_kw, fixed_om_cny_per_kw_yr or lifetime_yr")
        for k, r in self.ranges.items():
            if not r.low <= getattr(self, k) <= r.high:
                raise ValueError(f"ranges.{k}: the default {getattr(self, k):g} lies outside {r.low:g}..{r.high:g}")
        return self

    def at(self, end: str) -> "TechCost":
        """The costs with every ranged value at the ``"low"`` (favourable) or ``"high"`` (unfavourable) end:
        low capex and O&M with a long life, or the reverse."""
        if end not in ("low", "high"):
            raise ValueError(end)
        upd = {}
        for k, r in self.ranges.items():
            favourable = r.high if k == "lifetime_yr" else r.low
            unfavourable = r.low if k == "lifetime_yr" else r.high
            upd[k] = favourable if end == "low" else unfavourable
        if "lifetime_yr" in upd:
            upd["lifetime_yr"] = int(round(upd["lifetime_yr"]))
        return self.model_copy(update=upd)


class VoltageClass(_Strict):
    """Grid lines up to ``max_kv`` and the cost of a plant's line to them (CNY per kW of plant per km)."""

    max_kv: float = Field(gt=0.0, le=2_000.0)
    cny_per_kw_km: float = Field(ge=0.0, le=1_000.0)
    source: str = ""


class Economics(_Strict):
    """Scenario-wide economics: discount rate, grid connection, the tariff LCOE is compared with."""

    # false: no LCOE, economic potential or supply curve (the run as without [economics])
    enabled: bool = True
    discount_rate: float = Field(ge=0.0, lt=0.3)
    discount_rate_source: str = ""
    discount_rate_range: "Range | None" = None
    # the layer of grid lines (and substations) plants connect to; without it no connection is costed
    grid_layer: str = "grid_lines"
    voltage_column: str | None = None
    # straight-line distance to route length
    route_factor: float = Field(1.0, ge=1.0, le=3.0)
    route_factor_source: str = ""
    voltage_classes: dict[str, VoltageClass] = Field(default_factory=dict)
    unknown_voltage_cny_per_kw_km: float = Field(ge=0.0, le=1_000.0)
    unknown_voltage_source: str = ""
    # optional rule: land farther than this from the grid (km) is not counted in the economic potential
    max_distance_km: float | None = Field(None, gt=0.0, le=1_000.0)
    max_distance_source: str = ""
    # how far beyond the grid's edge lines are looked for (km); distances up to this are exact
    search_km: float = Field(50.0, gt=0.0, le=500.0)
    # cell size of the distance transform (m; the analysis grid's when that is coarser): distances are within
    # half a cell's diagonal of the truth
    distance_resolution_m: float = Field(500.0, gt=0.0, le=10_000.0)
    distance_resolution_source: str = ""
    # a tariff (CNY/kWh) for every unit instead of the provinces' coal benchmark tariffs
    tariff_cny_per_kwh: float | None = Field(None, gt=0.0, le=5.0)
    tariff_source: str = ""
    # edges (CNY/kWh) of the LCOE classes of the supply curve
    lcoe_bins_cny_per_kwh: list[float] = Field(default_factory=lambda: [0.15, 0.2, 0.25, 0.3, 0.35, 0.4, 0.45,
                                                                        0.5, 0.6, 0.8])

    @model_validator(mode="after")
    def _check(self):
        if self.tariff_cny_per_kwh is not None and self.tariff_cny_per_kwh > 2.0:
            raise ValueError(f"tariff_cny_per_kwh = {self.tariff_cny_per_kwh:g} looks like CNY/MWh or fen/kWh; give "
                             "CNY per kWh, e.g. 0.4207")
        b = self.lcoe_bins_cny_per_kwh
        if not b or any(y <= x for x, y in zip(b, b[1:])) or b[0] <= 0:
            raise ValueError("lcoe_bins_cny_per_kwh: ascending positive edges, e.g. [0.2, 0.3, 0.4]")
        kv = [c.max_kv for c in self.voltage_classes.values()]
        if any(y <= x for x, y in zip(kv, kv[1:])):
            raise ValueError("voltage_classes: list them from low to high voltage (max_kv ascending)")
        return self

    def voltage_class(self, kv: float | None) -> str | None:
        """The class of a line of ``kv`` kilovolts (None: unknown voltage, or above every class)."""
        if kv is None:
            return None
        for name, c in self.voltage_classes.items():
            if kv <= c.max_kv:
                return name
        return None


class Range(_Strict):
    """The low–high range of a default that is a judgement; the default itself is the most likely value."""

    low: float
    high: float
    source: str = ""

    @model_validator(mode="after")
    def _ordered(self):
        if self.low > self.high:
            raise ValueError(f"low {self.low} is above high {self.high}")
        return self


# Defaults a technology's [ranges] may give a range for (besides "weights.<rule>.<class>").
_PV_RANGE_KEYS = ("capacity_density_mw_per_km2", "utilisation", "soiling_loss", "other_losses", "irradiance_factor")
RANGE_KEYS = {
    **{t: _PV_RANGE_KEYS for t in ("pv", "agri_pv", "fishery_pv", "rooftop_pv")},
    "wind": ("capacity_density_mw_per_km2", "utilisation", "wake_loss", "availability_loss", "electrical_loss"),
    "offshore": ("capacity_density_mw_per_km2", "utilisation", "wake_loss", "availability_loss", "electrical_loss"),
}


class TechSpec(_Strict):
    """Capacity parameters and eligibility rules for one technology."""

    label: str
    capacity_density_mw_per_km2: float = Field(gt=0.0, le=500.0)
    capacity_density_source: str = ""
    utilisation: float = Field(gt=0.0, le=1.0)
    utilisation_source: str = ""
    dc_ac_ratio: float | None = Field(None, ge=1.0, le=2.0)
    dc_ac_ratio_source: str = ""
    system: PVSystemParams | None = None
    model: WindModelParams | None = None
    rules: dict[str, Rule] = Field(default_factory=dict)
    # low–high ranges of the judgement defaults, sampled by the uncertainty analysis (siting.engine.ranges)
    ranges: dict[str, Range] = Field(default_factory=dict)
    # layers without which the technology is not computed at all (e.g. fishery PV needs aquaculture ponds),
    # and why, in a sentence the notes show
    requires: list[str] = Field(default_factory=list)
    requires_reason: str = ""
    # technologies whose usable land on a cell comes first: this one gets at most what they leave
    land_after: list[str] = Field(default_factory=list)
    # what a reader must know about how the figure is made (shown in the notes when it is computed)
    note: str = ""
    # offshore: the sea off the coast, in bands of distance from the shore (m; the last limit is how far the
    # sea areas reach) with a name each; the layer 'sea_band' then holds band k + 1 on each sea cell
    sea_bands_m: list[float] | None = None
    sea_band_names: list[str] | None = None
    # what its plants cost, for the LCOE and the economic potential (with [economics])
    cost: TechCost | None = None
    # offshore: foundation types by water depth (layer ``foundation_layer``), each with its packing density;
    # cells with no depth value keep ``capacity_density_mw_per_km2``
    foundations: dict[str, Foundation] = Field(default_factory=dict)
    foundation_layer: str = "water_depth_m"

    @model_validator(mode="after")
    def _foundations(self):
        limits = [f.max_depth_m for f in self.foundations.values()]
        if any(b <= a for a, b in zip(limits, limits[1:])):
            raise ValueError("foundations: list them from shallow to deep (max_depth_m ascending)")
        bad = [n for n in self.foundations if not n.isidentifier()]
        if bad:
            raise ValueError(f"foundations: names must be plain words (letters, digits, _): {', '.join(bad)}")
        return self

    def foundation_bands(self) -> list[tuple[str, float, float, float]]:
        """``(name, min_depth_m, max_depth_m, MW/km²)`` of each foundation, shallow first."""
        out, lo = [], 0.0
        for name, f in self.foundations.items():
            out.append((name, lo, f.max_depth_m, f.capacity_density_mw_per_km2))
            lo = f.max_depth_m
        return out

    @model_validator(mode="after")
    def _bands(self):
        if self.sea_bands_m is not None:
            b = self.sea_bands_m
            if len(b) < 2 or b[0] != 0.0 or any(y <= x for x, y in zip(b, b[1:])) or b[-1] > 400_000.0:
                raise ValueError("sea_bands_m: ascending limits from 0 to at most 400,000 m, e.g. [0, 10000, 100000]")
            if self.sea_band_names is not None and len(self.sea_band_names) != len(b) - 1:
                raise ValueError(f"sea_band_names: one name per band ({len(b) - 1})")
        return self

    def default_of(self, key: str) -> float:
        """The default value a range key refers to (e.g. ``utilisation``, ``weights.cropland.14``)."""
        if key.startswith("weights."):
            _, rule, cls = key.split(".", 2)
            return float(self.rules[rule].weights[int(cls)])
        if key.startswith("foundations."):
            return float(self.foundations[key.split(".")[1]].capacity_density_mw_per_km2)
        if key == "irradiance_factor":
            return 1.0
        if hasattr(self, key):
            return float(getattr(self, key))
        for part in (self.system, self.model):
            if part is not None and hasattr(part, key):
                return float(getattr(part, key))
        return float({"soiling_loss": PVSystemParams().soiling_loss, "other_losses": PVSystemParams().other_losses,
                      "wake_loss": WindModelParams().wake_loss,
                      "availability_loss": WindModelParams().availability_loss,
                      "electrical_loss": WindModelParams().electrical_loss}[key])

    @model_validator(mode="after")
    def _check_ranges(self):
        known = set(RANGE_KEYS["pv"]) | set(RANGE_KEYS["wind"])
        for key in self.ranges:
            if key.startswith("weights."):
                parts = key.split(".")
                if len(parts) != 3 or not parts[2].lstrip("-").isdigit():
                    raise ValueError(f"ranges.{key}: use weights.<classes rule>.<class>")
            elif key.startswith("foundations."):
                parts = key.split(".")
                if len(parts) != 3 or parts[2] != "capacity_density_mw_per_km2":
                    raise ValueError(f"ranges.{key}: use foundations.<name>.capacity_density_mw_per_km2")
            elif key not in known:
                raise ValueError(f"ranges.{key}: unknown; use one of {', '.join(sorted(known))}, "
                                 "weights.<rule>.<class> or foundations.<name>.capacity_density_mw_per_km2")
        return self

    def range_problem(self, key: str) -> str | None:
        """Why a range cannot be sampled with this scenario's defaults (None if it can).

        A range inherited from a preset stops applying when the scenario changes the default it brackets
        (a weight set to 0 or 1 is an exclusion or inclusion, no longer a judgement weight).
        """
        rng = self.ranges[key]
        if key.startswith("weights."):
            _, rule, cls = key.split(".")
            r = self.rules.get(rule)
            if not isinstance(r, ClassesRule):
                return f"no classes rule '{rule}'"
            w = r.weights.get(int(cls))
            if w is None or not 0.0 < w < 1.0:
                return f"rule '{rule}' gives class {cls} no partial weight"
            value = w
        elif key.startswith("foundations.") and key.split(".")[1] not in self.foundations:
            return f"no foundation '{key.split('.')[1]}'"
        else:
            value = self.default_of(key)
        if not rng.low <= value <= rng.high:
            return f"the default {value:g} lies outside {rng.low:g}..{rng.high:g}"
        return None


class Meta(_Strict):
    name: str
    description: str = ""
    version: str = ""


class Scenario(_Strict):
    """A whole scenario: metadata, layers and per-technology rules."""

    meta: Meta
    layers: dict[str, LayerSpec]
    pv: TechSpec | None = None
    agri_pv: TechSpec | None = None
    fishery_pv: TechSpec | None = None
    rooftop_pv: TechSpec | None = None
    wind: TechSpec | None = None
    offshore: TechSpec | None = None
    economics: Economics | None = None
    extends: str | None = None

    @model_validator(mode="after")
    def _layers_exist(self):
        for tech_name in TECH_NAMES:
            tech = getattr(self, tech_name)
            if tech is None:
                continue
            bad = [x for x in tech.land_after if x not in TECH_NAMES[:TECH_NAMES.index(tech_name)]]
            if bad:
                raise ValueError(f"{tech_name}.land_after: {', '.join(bad)} must be technologies that come before "
                                 f"{tech_name} in {', '.join(TECH_NAMES)}")
            forced = [n for n, r in tech.rules.items() if isinstance(r, ForceIncludeRule)]
            if tech.land_after and forced:
                raise ValueError(f"{tech_name}.rules.{forced[0]}: a force_include rule could claim land that "
                                 f"{', '.join(tech.land_after)} already uses; it is not allowed here")
            for rule_name, rule in tech.rules.items():
                layer = getattr(rule, "layer", None)
                if layer is not None and layer not in self.layers and not rule.optional:
                    raise ValueError(
                        f"{tech_name}.rules.{rule_name}: layer '{layer}' is not declared under [layers]; "
                        f"declared: {', '.join(sorted(self.layers))}")
                if layer in self.layers:
                    kind = self.layers[layer].kind
                    if isinstance(rule, ClassesRule) and kind != "categorical":
                        raise ValueError(f"{tech_name}.rules.{rule_name}: a classes rule needs a categorical layer; "
                                         f"'{layer}' is {kind}")
                    if isinstance(rule, (RangeRule, FactorRule)) and kind != "continuous":
                        raise ValueError(f"{tech_name}.rules.{rule_name}: a range rule needs a continuous layer; "
                                         f"'{layer}' is {kind}")
        return self

    def technologies(self) -> list[str]:
        """Names of the technologies this scenario defines."""
        return [t for t in TECH_NAMES if getattr(self, t) is not None]

    def max_buffer_m(self) -> float:
        """Largest buffer distance over all rules (0 if none)."""
        out = 0.0
        for t in self.technologies():
            for rule in getattr(self, t).rules.values():
                if isinstance(rule, BufferRule):
                    out = max(out, rule.distance_m)
        return out


PRESETS = ("china", "worldcover")


def preset_path(name: str) -> Path:
    """Path of a built-in preset TOML (``layers/<name>.toml``)."""
    try:
        path = Path(str(importlib.resources.files("siting.presets").joinpath(f"{name}.toml")))
    except ModuleNotFoundError:  # running from a source tree that is not installed
        path = Path(__file__).resolve().parents[2] / "layers" / f"{name}.toml"
    if not path.exists():
        raise SitingError(f"scenario preset '{name}' does not exist; presets: {', '.join(PRESETS)}")
    return path


def _deep_merge(base: dict, override: dict) -> dict:
    out = copy.deepcopy(base)
    for key, value in override.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = _deep_merge(out[key], value)
        else:
            out[key] = copy.deepcopy(value)
    return out


def _read_toml(path: Path) -> dict:
    if not path.exists():
        raise SitingError(f"scenario file {path}: does not exist")
    if path.is_dir():
        raise SitingError(f"scenario file {path}: is a folder, not a TOML file")
    try:
        with open(path, "rb") as f:
            return tomllib.load(f)
    except tomllib.TOMLDecodeError as exc:
        raise SitingError(f"scenario file {path}: not valid TOML ({exc})") from None
    except OSError as exc:
        raise SitingError(f"scenario file {path}: cannot read ({exc.strerror or exc})") from None


_GDAL_PREFIXES = ("NETCDF:", "HDF5:", "HDF4_SDS:")


def _absolutise_sources(data: dict, base: Path) -> None:
    for spec in (data.get("layers") or {}).values():
        if not (isinstance(spec, dict) and isinstance(spec.get("source"), str)):
            continue
        src = spec["source"]
        if src.startswith("builtin:") or src.startswith("/vsi"):
            continue
        prefix = next((p for p in _GDAL_PREFIXES if src.upper().startswith(p)), None)
        if prefix:  # NETCDF:"file.nc":variable -> make the file part absolute
            rest = src[len(prefix):]
            file_part, _, var = rest.strip('"').rpartition(":") if rest.count(":") >= 1 else (rest, "", "")
            p = Path(file_part.strip('"')).expanduser()
            p = p if p.is_absolute() else (base / p).resolve()
            spec["source"] = f'{prefix}"{p}":{var}' if var else f"{prefix}{p}"
            continue
        p = Path(src).expanduser()
        spec["source"] = str(p if p.is_absolute() else (base / p).resolve())


_MODEL_FOR = {"layers": LayerSpec, "meta": Meta, **{t: TechSpec for t in TECH_NAMES}}
_SUB_MODEL = {"system": PVSystemParams, "model": WindModelParams}
_RULE_MODEL = {"classes": ClassesRule, "range": RangeRule, "buffer": BufferRule, "min_area": MinAreaRule,
               "force_include": ForceIncludeRule, "factor": FactorRule}


def _allowed_keys(loc: tuple, data: dict) -> list[str]:
    parent = loc[:-1]
    model: type[BaseModel] = Scenario
    if len(parent) >= 1 and parent[0] in _MODEL_FOR:
        model = _MODEL_FOR[parent[0]]
    if len(parent) >= 2 and parent[1] in _SUB_MODEL:
        model = _SUB_MODEL[parent[1]]
    if len(parent) >= 3 and parent[1] == "rules":
        rule = data.get(parent[0], {}).get("rules", {}).get(parent[2], {})
        model = _RULE_MODEL.get(rule.get("type"), model)
    return sorted(model.model_fields)


def _format_error(path: str, err: dict, data: dict) -> str:
    loc = tuple(str(x) for x in err["loc"] if not (isinstance(x, str) and x in RULE_TYPES and err["type"] != "union_tag_invalid"))
    key = ".".join(loc)
    if err["type"] == "extra_forbidden":
        return f"scenario {path}: unknown key '{key}'; allowed here: {', '.join(_allowed_keys(loc, data))}"
    if err["type"] in ("union_tag_invalid", "union_tag_not_found"):
        return f"scenario {path}: {key}: rule 'type' must be one of {', '.join(RULE_TYPES)}"
    if err["type"] == "literal_error":
        return f"scenario {path}: {key}: {err['msg']} (got {err.get('input')!r})"
    if err["type"] == "missing":
        return f"scenario {path}: {key}: required key is missing"
    if err["type"] == "value_error":  # a validator's own message already names the key and the problem
        return f"scenario {path}: {key + ': ' if key else ''}{err['msg'].removeprefix('Value error, ')}"
    got = repr(err.get("input"))
    got = got if len(got) <= 120 else got[:117] + "..."  # a whole table would bury the message
    return f"scenario {path}: {key or 'top level'}: {err['msg']} (got {got})"


def validate_scenario(data: dict, path: str = "<dict>") -> Scenario:
    """Validate a scenario mapping; raise :class:`SitingError` naming the key and the problem."""
    try:
        return Scenario.model_validate(data)
    except ValidationError as exc:
        errors = exc.errors()
        lines = [_format_error(path, e, data) for e in errors[:5]]
        more = f" (+{len(errors) - 5} more)" if len(errors) > 5 else ""
        raise SitingError("; ".join(lines) + more) from None


def load_scenario(source: str | Path | None = None) -> tuple[Scenario, dict]:
    """Load and validate a scenario.

    Parameters
    ----------
    source : str or Path, optional
        A preset name (``"china"``), a TOML path, or None for the China preset.

    Returns
    -------
    scenario : Scenario
    provenance : dict
        Files read (with SHA-256) and the merged scenario as a plain dict.
    """
    if source is None or (isinstance(source, str) and source in PRESETS):
        paths = [preset_path(source or "china")]
    else:
        paths = [Path(source).expanduser().resolve()]
    data = _read_toml(paths[0])
    _absolutise_sources(data, paths[0].parent)
    seen = {str(paths[0])}
    while data.get("extends"):
        parent_name = data["extends"]
        parent = preset_path(parent_name) if parent_name in PRESETS else (paths[-1].parent / parent_name).resolve()
        if str(parent) in seen:
            raise SitingError(f"scenario {paths[0]}: 'extends' forms a cycle through {parent}")
        seen.add(str(parent))
        parent_data = _read_toml(parent)
        _absolutise_sources(parent_data, parent.parent)
        child = {k: v for k, v in data.items() if k != "extends"}
        data = _deep_merge(parent_data, child)
        paths.append(parent)
    scenario = validate_scenario(data, str(paths[0]))
    files = [{"path": str(p), "sha256": hashlib.sha256(p.read_bytes()).hexdigest()} for p in paths]
    return scenario, {"files": files, "resolved": json.loads(scenario.model_dump_json())}


def with_overrides(scenario: Scenario, overrides: dict[str, Any]) -> Scenario:
    """A copy of ``scenario`` with a nested mapping merged in (rules merge by name).

    Example: ``with_overrides(s, {"pv": {"rules": {"cropland": {"weights": {12: 0.3}}}}})``.
    """
    base = json.loads(scenario.model_dump_json(exclude_none=False))
    data = _deep_merge(base, json.loads(json.dumps(overrides)))  # JSON round trip: int class keys -> str
    return validate_scenario(data, "<overrides>")
