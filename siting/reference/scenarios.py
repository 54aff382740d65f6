"""Two scenarios on the same region, county by county: land, capacity, energy, what binds, and the verdicts."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from siting.columns import USABLE_KM2, capacity_column, energy_column
from siting.errors import SitingError
from siting.rules.scenario import TECH_NAMES

CAPACITIES = tuple(capacity_column(t) for t in TECH_NAMES)
COMPARED = (tuple(USABLE_KM2(t) for t in TECH_NAMES) + CAPACITIES + tuple(energy_column(t) for t in TECH_NAMES)
            + tuple(f"{c}_p50" for c in CAPACITIES))
LABELS = tuple(f"binding_{t}" for t in TECH_NAMES)


@dataclass
class ScenarioDiff:
    """County and target differences between scenario A and scenario B (B − A).

    Attributes
    ----------
    counties : DataFrame
        Per county: ``<column>_a``, ``<column>_b`` and ``<column>_diff`` for land, capacity and energy, the
        binding rule in each, and ``capacity_mw_diff`` (MWp of every PV mode + wind MW).
    targets : DataFrame or None
        Per target: the verdict and the computed MW in each scenario, and whether the verdict changed.
    notes : list of str
    """

    counties: pd.DataFrame
    targets: pd.DataFrame | None = None
    notes: list[str] = field(default_factory=list)


def county_diff(a_counties: pd.DataFrame, b_counties: pd.DataFrame) -> pd.DataFrame:
    """Per-county differences of two county tables of the same region (B − A)."""
    left = pd.DataFrame(a_counties.drop(columns="geometry", errors="ignore")).set_index("adcode")
    right = pd.DataFrame(b_counties.drop(columns="geometry", errors="ignore")).set_index("adcode")
    if set(left.index) != set(right.index):
        raise SitingError("compare: the two assessments cover different counties")
    right = right.loc[left.index]
    out = left[["name_zh", "city_zh"]].copy()
    for c in COMPARED:
        if c in left and c in right:
            out[f"{c}_a"], out[f"{c}_b"] = left[c], right[c]
            out[f"{c}_diff"] = right[c] - left[c]
    for c in LABELS:
        if c in left and c in right:
            out[f"{c}_a"], out[f"{c}_b"] = left[c], right[c]
    cap = [c for c in CAPACITIES if f"{c}_diff" in out]
    out["capacity_mw_diff"] = out[[f"{c}_diff" for c in cap]].sum(axis=1) if cap else np.nan
    return out.reset_index()


def target_diff(a_targets: pd.DataFrame, b_targets: pd.DataFrame) -> pd.DataFrame:
    """The verdict on every target in both scenarios, side by side."""
    keep = ["row_id", "jurisdiction_zh", "target_year", "scope", "target_mw"]
    cols = ["achievable_mw", "achievable_mw_p10", "achievable_mw_p90", "verdict", "basis_tier", "status"]
    left = a_targets[keep + [c for c in cols if c in a_targets]]
    right = b_targets[["row_id"] + [c for c in cols if c in b_targets]]
    out = left.merge(right, on="row_id", suffixes=("_a", "_b"))
    if "verdict_a" in out:
        out["verdict_changed"] = out["verdict_a"].fillna("") != out["verdict_b"].fillna("")
    return out
