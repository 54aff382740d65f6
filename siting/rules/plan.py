"""The plan of one run: the scenario resolved once, handed unchanged to the engine.

A scenario says what the user wants; the plan is what the engine applies:

- the user's wind raster (``--wind``) becomes the layer ``wind_speed_ms``;
- with a typhoon-exposure layer and a turbine that is not typhoon-rated, wind gets the rule
  ``typhoon_turbine_class``;
- a range rule on a slope layer derived from a DEM becomes a factor rule on the share of each cell
  whose DEM pixels pass it (a :class:`DerivedSlope` the engine computes at the DEM's resolution);
- wind's packing density is the scenario's, or rated power over a × D by b × D from the turbine.

:func:`make_plan` does all of this once. The plan is frozen: the engine and the county table read it,
nobody rewrites it, and the provenance records both the user's scenario and the plan's rules.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Mapping

from siting.errors import SitingError
from siting.io.turbines import load_turbine
from siting.model.wind import spacing_density_mw_per_km2
from siting.rules.scenario import (PV_TECHS, TECH_NAMES, TYPHOON_LAYER, WIND_LAYER, BufferRule, ClassesRule,
                                   FactorRule, LayerSpec, RangeRule, Scenario, TechSpec, WindModelParams,
                                   load_scenario)

TECHNOLOGIES = TECH_NAMES
TECH_ALIASES = {"all": TECH_NAMES, "ground_pv": ("pv",), "onshore_wind": ("wind",)}
MAX_RULES = 30_000  # waterfall steps are indexed with int16 on the overview grid


@dataclass(frozen=True)
class DerivedSlope:
    """A slope pass-share layer computed from a DEM for one rule."""

    dem: str
    rule: RangeRule  # its max and north-facing factor


@dataclass(frozen=True)
class Plan:
    """What one run applies.

    Attributes
    ----------
    techs : tuple of str
        Technologies assessed, e.g. ``("pv", "wind")``.
    scenario : Scenario
        The user's scenario (with a ``--wind`` layer added): what :attr:`siting.Assessment.scenario` shows.
    rules : Scenario
        The scenario as the engine applies it (derived slope layers, added rules).
    derived : mapping of str to DerivedSlope
        Layers the engine computes from a DEM.
    tech_specs : mapping of str to TechSpec
        Each technology's rules and capacity figures as applied (wind density resolved).
    provenance : mapping
        Scenario files, the user's resolved scenario and the rules applied (JSON-ready).
    """

    techs: tuple[str, ...]
    scenario: Scenario
    rules: Scenario
    derived: Mapping[str, DerivedSlope]
    tech_specs: Mapping[str, TechSpec]
    provenance: Mapping
    not_computed: Mapping[str, str] = field(default_factory=dict)  # technology asked for → why not computed

    def buffer_layers(self) -> frozenset[str]:
        """Layers that buffer rules measure distances from (read with a halo around each tile)."""
        return frozenset(r.layer for spec in self.tech_specs.values() for r in spec.rules.values()
                         if isinstance(r, BufferRule))


def needs_typhoon_class(turbine_iec_class: str | None) -> bool:
    """True when a turbine is *not* rated for typhoon exposure (IEC 61400-1 class T, or class S)."""
    cls = (turbine_iec_class or "").upper()
    return not ("T" in cls or cls.strip().startswith("S") or "/S" in cls)


def wind_density_mw_per_km2(tech: TechSpec) -> float:
    """Packing density: the scenario's fixed MW/km², or rated power / (a D × b D) from the turbine."""
    model = tech.model
    if model is None or model.capacity_density == "fixed":
        return tech.capacity_density_mw_per_km2
    turbine = load_turbine(model.turbine)
    return float(spacing_density_mw_per_km2(turbine.rated_power_kw, turbine.rotor_diameter_m,
                                            model.spacing_crosswind_d, model.spacing_downwind_d))


def _typhoon_rule(scen: Scenario) -> Scenario:
    model = scen.wind.model or WindModelParams()
    if not needs_typhoon_class(load_turbine(model.turbine).iec_class):
        return scen
    scen = scen.model_copy(deep=True)
    scen.wind.rules["typhoon_turbine_class"] = ClassesRule(
        type="classes", layer=TYPHOON_LAYER, exclude=[1], category="other",
        description=f"turbine {model.turbine} is not typhoon-rated (IEC 61400-1 class T/S): cells whose "
                    "typhoon exposure requires it are excluded",
        source="IEC 61400-1 ed. 4 (2019) class T for tropical-cyclone regions; layer typhoon_exposure: 1 = "
               "class T required")
    return scen


def derive_terrain(scen: Scenario, techs) -> tuple[Scenario, dict[str, DerivedSlope]]:
    """Turn range rules on DEM-derived slope layers into factor rules on the share of each cell that passes.

    Slope is computed with Horn's method at the DEM's own resolution, and each analysis cell gets the
    share of its DEM pixels within the limit (resampling slope and thresholding it would move areas).
    Returns the new scenario and the derived layers to compute (name → :class:`DerivedSlope`).
    """
    derived_specs = {n: sp for n, sp in scen.layers.items() if sp.derive == "slope_deg"}
    if not derived_specs:
        return scen, {}
    scen = scen.model_copy(deep=True)
    derived: dict[str, DerivedSlope] = {}
    for t in techs:
        rules = getattr(scen, t).rules
        for rule_name, rule in list(rules.items()):
            if not isinstance(rule, RangeRule) or rule.layer not in derived_specs:
                continue
            if rule.min is not None:
                raise SitingError(f"{t}.rules.{rule_name}: a slope rule takes max only (slope at most X degrees)")
            north = rule.north_facing_factor
            name = f"{rule.layer}_pass_{rule.max:g}" + ("" if north is None else
                                                          f"_north_{north:g}_{rule.north_facing_min_slope_deg:g}")
            if name not in derived:
                derived[name] = DerivedSlope(dem=derived_specs[rule.layer].source, rule=rule)
                scen.layers[name] = scen.layers[rule.layer].model_copy(update={"derive": None, "units": "share"})
            rules[rule_name] = FactorRule(type="factor", layer=name, description=rule.description or
                                          f"share of each cell with slope ≤ {rule.max:g}° (Horn, DEM resolution)",
                                          source=rule.source, optional=rule.optional, on_nodata=rule.on_nodata,
                                          category=rule.category or "terrain")
    return scen, derived


def make_plan(scenario: str | Path | Scenario | None, techs, wind: str | Path | None = None,
              wind_height_m: float | None = None, grid: str | Path | None = None,
              grid_voltage_column: str | None = None, tariff_cny_per_kwh: float | None = None) -> Plan:
    """Resolve a scenario (preset name, TOML path or Scenario) into the plan of one run.

    Parameters
    ----------
    scenario : str, Path, Scenario or None
        None: the China preset.
    techs : sequence of str
        Technologies (:data:`TECHNOLOGIES`), or ``"all"`` for every one the scenario defines. A technology
        whose required layers are missing is left out and said in :attr:`Plan.not_computed`.
    wind : str or Path, optional
        A mean wind-speed raster (m/s) that becomes the layer ``wind_speed_ms``.
    wind_height_m : float, optional
        Height above ground of its speeds.
    grid : str or Path, optional
        A vector file of grid lines (or substations) that becomes the economics' grid layer.
    grid_voltage_column : str, optional
        Its column of voltages (volts or kV).
    tariff_cny_per_kwh : float, optional
        A tariff for every unit instead of the provinces' coal benchmark tariffs.

    Returns
    -------
    Plan

    Raises
    ------
    SitingError
        An unknown technology, a scenario without rules for one, a missing wind file, a slope rule with a minimum.
    """
    asked = tuple(x.strip() for x in (techs.split(",") if isinstance(techs, str) else techs) if x.strip())
    techs = tuple(dict.fromkeys(x for t in asked for x in TECH_ALIASES.get(t, (t,))))
    bad = [t for t in techs if t not in TECHNOLOGIES]
    if bad or not techs:
        raise SitingError(f"--tech {','.join(asked)}: use one or more of {', '.join(TECHNOLOGIES)} (or all)")
    explicit = not any(t in TECH_ALIASES for t in asked)
    if isinstance(scenario, Scenario):
        user, prov = scenario, {"files": [], "resolved": json.loads(scenario.model_dump_json())}
    else:
        user, prov = load_scenario(scenario)
    if wind is not None:
        path = Path(wind).expanduser().resolve()
        if not path.exists():
            raise SitingError(f"--wind {wind}: file does not exist")
        user = user.model_copy(deep=True)
        user.layers[WIND_LAYER] = LayerSpec(source=str(path), kind="continuous", units="m/s",
                                            height_m=wind_height_m, description="mean wind speed (user file)")
        prov = {**prov, "wind_layer": {"path": str(path), "height_m": wind_height_m}}
    if grid is not None or grid_voltage_column is not None or tariff_cny_per_kwh is not None:
        user = _with_economics(user, grid, grid_voltage_column, tariff_cny_per_kwh)
        prov = {**prov, "economics_options": {"grid": None if grid is None else str(Path(grid).resolve()),
                                              "grid_voltage_column": grid_voltage_column,
                                              "tariff_cny_per_kwh": tariff_cny_per_kwh}}
    too_many = [t for t in techs if getattr(user, t) is not None and len(getattr(user, t).rules) > MAX_RULES]
    if too_many:
        raise SitingError(f"scenario '{user.meta.name}': {', '.join(too_many)} has more than {MAX_RULES:,} rules")
    missing = [t for t in techs if getattr(user, t) is None]
    if missing and explicit:
        raise SitingError(f"scenario '{user.meta.name}' defines no rules for {', '.join(missing)}")
    techs = tuple(t for t in techs if getattr(user, t) is not None)  # 'all': what the scenario defines
    not_computed = {}
    for t in techs:
        spec = getattr(user, t)
        lacking = [x for x in spec.requires if x not in user.layers]
        if lacking:
            not_computed[t] = (f"{spec.label} not computed: no layer {', '.join(lacking)}"
                               + (f" ({spec.requires_reason})" if spec.requires_reason else "")
                               + f"; declare [layers.{lacking[0]}] in a scenario file to compute it.")
    techs = tuple(t for t in techs if t not in not_computed)
    if not techs:
        raise SitingError("; ".join(not_computed.values()))
    techs = tuple(t for t in TECH_NAMES if t in techs)  # land is shared in this order
    # technologies whose land comes first are judged too (not reported), so a figure does not depend on
    # which other technologies were asked for
    support = tuple(t for t in TECH_NAMES if t in techs or (getattr(user, t) is not None and any(
        t in getattr(user, x).land_after for x in techs)))
    rules = _without_stand_ins(user, support)
    if "wind" in techs and TYPHOON_LAYER in rules.layers:
        rules = _typhoon_rule(rules)
    rules, derived = derive_terrain(rules, support)
    specs = {t: getattr(rules, t) for t in support}
    if "wind" in techs:
        density = wind_density_mw_per_km2(specs["wind"])
        if density != specs["wind"].capacity_density_mw_per_km2:
            specs["wind"] = specs["wind"].model_copy(update={"capacity_density_mw_per_km2": density})
    prov = {"name": user.meta.name, "version": user.meta.version, **prov,
            "applied": {t: json.loads(specs[t].model_dump_json()) for t in techs},
            "not_computed": not_computed}
    return Plan(techs=techs, scenario=user, rules=rules, derived=derived, tech_specs=specs, provenance=prov,
                not_computed=not_computed)


def _with_economics(user: Scenario, grid, voltage_column, tariff) -> Scenario:
    """The scenario with a grid-lines file, its voltage column or a tariff from the command line."""
    if user.economics is None:
        raise SitingError(f"scenario '{user.meta.name}' has no [economics]: --grid and --tariff need one (the china "
                          "preset has it)")
    user = user.model_copy(deep=True)
    econ = user.economics
    if grid is not None:
        path = Path(grid).expanduser().resolve()
        if not path.exists():
            raise SitingError(f"--grid {grid}: file does not exist")
        user.layers[econ.grid_layer] = LayerSpec(source=str(path), kind="categorical", units="grid line",
                                                 description="grid lines and substations (user file)")
    update = {}
    if voltage_column is not None:
        update["voltage_column"] = voltage_column
    if tariff is not None:
        if not 0.0 < float(tariff) <= 2.0:
            raise SitingError(f"--tariff {tariff}: give CNY per kWh between 0 and 2 (e.g. 0.4207); "
                              f"{float(tariff):g} looks like CNY/MWh or fen/kWh" if float(tariff) > 2 else
                              f"--tariff {tariff}: give CNY per kWh, more than 0")
        update.update(tariff_cny_per_kwh=float(tariff), tariff_source="--tariff on the command line")
    user.economics = econ.model_copy(update=update)
    return user


def _without_stand_ins(scen: Scenario, techs) -> Scenario:
    """Drop the rules that stand in for a layer the scenario does declare (``only_without``)."""
    drop = {t: [n for n, r in getattr(scen, t).rules.items() if r.only_without and r.only_without in scen.layers]
            for t in techs}
    if not any(drop.values()):
        return scen
    scen = scen.model_copy(deep=True)
    for t, names in drop.items():
        for n in names:
            del getattr(scen, t).rules[n]
    return scen
