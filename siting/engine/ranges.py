"""P10/P50/P90 of county capacity and energy: the run's sums and the scenario's ranges, drawn together.

:func:`range_model` collects, once per run, what a draw needs (:class:`siting.model.uncertainty.TechInputs`
per technology, from the county sums) and the ranges of the plan; :class:`RangeModel` then draws as often
as asked without touching a raster (1,000 draws for Guangxi's 111 counties take milliseconds).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from siting import columns as C
from siting.engine.sums import CountySums
from siting.model.uncertainty import (PERCENTILES, Assumption, TechInputs, one_at_a_time, percentiles, tech_draws,
                                      triangular_draws)
from siting.rules.plan import Plan

PVOUT_LAYER = "pvout_kwh_per_kwp"
DEFAULT_DRAWS = 1000


def assumptions_of(plan: Plan) -> tuple[list[Assumption], list[str]]:
    """The ranged assumptions of a plan's technologies, and notes on ranges that do not apply."""
    out, notes = [], []
    for t in plan.techs:
        spec = plan.tech_specs[t]
        for key, rng in spec.ranges.items():
            problem = spec.range_problem(key)
            if problem and key.startswith("weights.") and "no partial weight" in problem and int(
                    key.split(".")[2]) not in getattr(spec.rules.get(key.split(".")[1]), "weights", {}):
                continue  # the class is not in this scenario's legend at all (another land-cover product)
            if key.startswith("foundations.") and spec.foundation_layer not in plan.rules.layers:
                continue  # no depth layer: no cell has a foundation type (the notes say depth is not applied)
            if problem:
                notes.append(f"{t} range {key} not used: {problem}; give [{t}.ranges] {key} = {{ low = .., "
                             "high = .. }} to sample it")
                continue
            if key == "irradiance_factor":
                ghi = plan.rules.layers.get("ghi_kwh_per_m2_yr")
                builtin = ghi is not None and ghi.source.startswith("builtin:") and PVOUT_LAYER not in plan.rules.layers
                if not builtin:
                    notes.append("pv irradiance_factor range not used: it applies to the built-in irradiance only")
                    continue
            out.append(Assumption(tech=t, key=key, default=spec.default_of(key), low=rng.low, high=rng.high,
                                  source=rng.source))
    return out, notes


def _named(draws: dict):
    """(column name, draws x counties) of every technology's capacity and, where computed, energy."""
    for t, (mw, gwh) in draws.items():
        for name, samples in zip((C.capacity_column(t), C.energy_column(t)), (mw, gwh)):
            if samples is not None:
                yield name, samples


@dataclass
class RangeModel:
    """Everything needed to draw county capacity and energy again.

    Attributes
    ----------
    adcodes : numpy.ndarray
        County order of every array.
    assumptions : list of Assumption
    inputs : dict of str to TechInputs
    notes : list of str
    """

    adcodes: np.ndarray
    assumptions: list[Assumption]
    inputs: dict[str, TechInputs]
    notes: list[str] = field(default_factory=list)

    def draw(self, n_draws: int = DEFAULT_DRAWS, seed: int = 0) -> dict[str, tuple[np.ndarray, np.ndarray | None]]:
        """Per technology: (MW, GWh) of every county in every draw, shape (n_draws, n_counties)."""
        return dict(self.draws_by_tech(n_draws, seed))

    def draws_by_tech(self, n_draws: int = DEFAULT_DRAWS, seed: int = 0):
        """The draws of :meth:`draw` one technology at a time: (tech, (MW, GWh)), the same arrays.

        For what needs one technology's draws at a time (the percentile columns): its arrays can go before the
        next technology's are made, and a national run does not hold them all (~25 MB each).
        """
        values = triangular_draws(self.assumptions, n_draws, seed)
        for t, inp in self.inputs.items():
            yield t, tech_draws(t, inp, self.assumptions, values)

    def columns(self, draws: dict) -> dict[str, np.ndarray]:
        """P10/P50/P90 columns of every county."""
        out: dict[str, np.ndarray] = {}
        for name, samples in _named(draws):
            # a county's draws side by side in memory (the percentile of each row of the transposed copy is the
            # same number, found faster)
            for q, v in percentiles(np.ascontiguousarray(samples.T), axis=1).items():
                out[f"{name}_p{q}"] = v
        return out

    def group_columns(self, draws: dict, *groupings: np.ndarray) -> list[dict[str, np.ndarray]]:
        """P10/P50/P90 columns of the sums over groups of counties (cities, provinces), every group at once.

        Each grouping gives each county's group as 0 .. n_groups - 1, every group with at least one county; one
        dict of columns (values per group) per grouping. A group's sum in a draw adds its counties' values in
        table order, one after the other: only the order of the additions differs from
        ``samples[:, groups == g].sum(axis=1)`` (float64 rounding, about 1e-16 of the sum).
        """
        layouts = []
        for groups in groupings:
            order = np.argsort(groups, kind="stable")
            bounds = np.flatnonzero(np.diff(groups[order], prepend=-1, append=-1))  # each group's first row, + end
            layouts.append((order, bounds))
        out: list[dict[str, np.ndarray]] = [{} for _ in groupings]
        for name, samples in _named(draws):
            by_county = np.ascontiguousarray(samples.T)  # counties x draws: a county's draws side by side
            for (order, bounds), cols in zip(layouts, out):
                rows = by_county[order]
                sums = np.empty((bounds.size - 1, rows.shape[1]))  # groups x draws
                for g in range(bounds.size - 1):
                    rows[bounds[g]:bounds[g + 1]].sum(axis=0, out=sums[g])
                for q, v in percentiles(sums, axis=1).items():
                    cols[f"{name}_p{q}"] = v
        return out

    def totals(self, draws: dict, members: np.ndarray, techs=None) -> np.ndarray:
        """Capacity (MW) of the counties in ``members`` summed over ``techs`` in every draw."""
        techs = techs or list(draws)
        return sum(draws[t][0][:, members].sum(axis=1) for t in techs if t in draws)

    def sensitivity(self) -> list[dict]:
        """One-at-a-time swings of the totals over all counties (a tornado), largest MW swing first."""
        rows = []
        for t, inp in self.inputs.items():
            rows += one_at_a_time(t, inp, self.assumptions)
        for r in rows:
            r["mw_swing"] = abs(r["mw_at_high"] - r["mw_at_low"])
            r["gwh_swing"] = None if r["gwh_default"] is None else abs(r["gwh_at_high"] - r["gwh_at_low"])
            shares = [r["mw_swing"] / r["mw_default"] if r["mw_default"] else 0.0]
            if r["gwh_swing"] is not None and r["gwh_default"]:
                shares.append(r["gwh_swing"] / r["gwh_default"])
            r["swing_share"] = max(shares)  # of the technology's total at the defaults
        return sorted(rows, key=lambda r: -r["swing_share"])


def range_model(table, sums: CountySums, cell_area_km2: float, plan: Plan) -> RangeModel:
    """The range model of a run from its county table (defaults) and county sums."""
    assumptions, notes = assumptions_of(plan)
    inputs = {}
    for t in plan.techs:
        spec = plan.tech_specs[t]
        ts = sums.tech_or_empty(t)
        energy = C.energy_column(t)
        inputs[t] = TechInputs(
            usable_km2=np.asarray(table[C.USABLE_KM2(t)], dtype="float64"),
            usable_by_weight_km2={k: v * cell_area_km2 for k, v in ts.usable_by_weight.items()
                                  if not k.startswith("econ.")},
            energy_gwh=np.asarray(table[energy], dtype="float64") if energy in table else None,
            density_mw_per_km2=spec.capacity_density_mw_per_km2, utilisation=spec.utilisation,
            foundation_density_mw_per_km2={name: d for name, _, _, d in spec.foundation_bands()
                                           if f"foundation.{name}" in ts.usable_by_weight})
    return RangeModel(adcodes=np.asarray(table["adcode"]), assumptions=assumptions, inputs=inputs, notes=notes)


QUANTILE_COLUMNS = [f"{base}_p{q}" for base in (C.CAPACITY_PV_MWP.name, C.ENERGY_PV_GWH.name,
                                                 C.CAPACITY_WIND_MW.name, C.ENERGY_WIND_GWH.name)
                    for q in PERCENTILES]
