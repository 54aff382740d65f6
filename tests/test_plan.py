"""The plan: the scenario resolved once; the user's scenario kept beside the rules as applied."""

from __future__ import annotations

import dataclasses
import pickle

import pytest

from siting.errors import SitingError
from siting.rules.plan import make_plan
from siting.rules.scenario import FactorRule, RangeRule


def _slope_scenario(tmp_path):
    path = tmp_path / "s.toml"
    path.write_text('extends = "china"\n[layers.slope_deg]\nsource = "dem.tif"\nkind = "continuous"\n'
                    'units = "degrees"\nderive = "slope_deg"\n', encoding="utf-8")
    return path


def test_slope_rules_become_factor_rules_in_the_plan_only(tmp_path):
    plan = make_plan(_slope_scenario(tmp_path), ("pv", "wind"))
    assert isinstance(plan.scenario.pv.rules["slope"], RangeRule)          # what the user wrote
    applied = plan.tech_specs["pv"].rules["slope"]
    assert isinstance(applied, FactorRule) and applied.layer in plan.derived  # what the engine applies
    assert plan.derived[applied.layer].rule.max == plan.scenario.pv.rules["slope"].max
    assert plan.provenance["applied"]["pv"]["rules"]["slope"]["type"] == "factor"
    assert plan.provenance["resolved"]["pv"]["rules"]["slope"]["type"] == "range"


def test_plan_is_frozen_and_travels_to_workers(tmp_path):
    plan = make_plan(_slope_scenario(tmp_path), "pv")
    with pytest.raises(dataclasses.FrozenInstanceError):
        plan.techs = ("wind",)
    back = pickle.loads(pickle.dumps(plan))
    assert back.techs == ("pv",) and set(back.derived) == set(plan.derived)


def test_wind_density_from_turbine_spacing_is_resolved_once():
    plan = make_plan("china", ("wind",))
    spec = plan.tech_specs["wind"]
    assert spec.capacity_density_mw_per_km2 > 0
    if plan.scenario.wind.model is not None and plan.scenario.wind.model.capacity_density != "fixed":
        assert spec.capacity_density_mw_per_km2 != plan.scenario.wind.capacity_density_mw_per_km2


def test_unknown_technology_and_missing_wind_file(tmp_path):
    with pytest.raises(SitingError, match="--tech"):
        make_plan(None, ("solar",))
    with pytest.raises(SitingError, match="--wind .*does not exist"):
        make_plan(None, ("wind",), wind=tmp_path / "absent.tif")


def test_assessment_keeps_the_users_scenario(guangxi):
    assert guangxi.plan is not None and guangxi.scenario is guangxi.plan.scenario
    assert guangxi.provenance["scenario"]["applied"].keys() == {"pv", "agri_pv", "rooftop_pv", "wind", "offshore"}
    assert "fishery_pv" in guangxi.provenance["scenario"]["not_computed"]  # no aquaculture-pond layer
