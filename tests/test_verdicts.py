"""Verdicts follow what was computed: land-only figures never say "can be met"; every layer may."""

from __future__ import annotations

import json

import numpy as np
import pytest

import siting
from siting.io.regions import counties, resolve
from siting.reference.basis import LAND_ONLY, TECHNICAL, TechBasis, target_components, verdict

from . import synthetic


def _basis(tech: str, tier: str) -> TechBasis:
    comp = {"pv": "ground_pv", "wind": "onshore_wind"}[tech]
    layers = {"protection": "applied", "land cover": "applied", "terrain": "applied",
              "resource": "applied" if tier == TECHNICAL else "missing", "cost": "not modelled",
              "grid": "not modelled"}
    return TechBasis(tech=tech, component=comp, layers=layers, tier=tier)


ALL = target_components("wind+pv", "Wind + solar total installed capacity")


def test_components_a_target_counts():
    assert ALL == ("ground_pv", "agri_pv", "fishery_pv", "rooftop_pv", "onshore_wind", "offshore_wind")
    assert target_components("pv", "Centralised PV capacity") == ("ground_pv", "agri_pv", "fishery_pv")
    assert target_components("pv", "Distributed (rooftop) PV") == ("rooftop_pv",)
    assert target_components("wind", "Offshore wind capacity") == ("offshore_wind",)
    assert target_components("wind", "Onshore wind capacity") == ("onshore_wind",)


@pytest.mark.parametrize("tier, comps, p, expect", [
    (TECHNICAL, ALL, 0.95, "can_be_met"),           # more components could only add
    (TECHNICAL, ALL, 0.5, "not_decidable"),         # the rest is not computed
    (TECHNICAL, ("ground_pv", "onshore_wind"), 0.5, "uncertain"),
    (TECHNICAL, ("ground_pv", "onshore_wind"), 0.05, "cannot_be_met"),
    (LAND_ONLY, ALL, 1.0, "not_decidable"),         # an upper bound above the target is no verdict
    (LAND_ONLY, ("ground_pv", "onshore_wind"), 1.0, "not_decidable"),
])
def test_verdict_never_claims_more_than_its_basis(tier, comps, p, expect):
    bases = {"pv": _basis("pv", tier), "wind": _basis("wind", tier)}
    draws = np.arange(1000) < p * 1000
    v = verdict(comps, bases, draws, achievable_mw=100.0, achievable_p90_mw=120.0, target_mw=90.0)
    assert v.code == expect, v.text
    assert (v.code == "can_be_met") == v.text.startswith("can be met")


def test_land_only_upper_bound_below_the_target_decides_cannot():
    bases = {"pv": _basis("pv", LAND_ONLY), "wind": _basis("wind", LAND_ONLY)}
    v = verdict(("ground_pv", "onshore_wind"), bases, np.zeros(100, bool), 50.0, 60.0, 90.0)
    assert v.code == "cannot_be_met" and "land-only upper bound" in v.text
    v = verdict(ALL, bases, np.zeros(100, bool), 50.0, 60.0, 90.0)  # rooftop/offshore could still carry it
    assert v.code == "not_decidable"


@pytest.mark.slow
def test_builtin_guangxi_says_land_only_not_can_be_met(guangxi, tmp_path):
    cmp = guangxi.compare_targets(2030)
    roof = cmp[cmp.scope == "rooftop"]  # the rooftop coverage target and Nanning's pilot counties
    assert set(roof.verdict) == {"not_decidable", "listed"} and roof.target_mw.isna().all()
    cmp = cmp[cmp.scope != "rooftop"]
    assert len(cmp) and not cmp["status"].str.contains("can be met").any()
    assert set(cmp["verdict"].dropna()) == {"not_decidable"}
    assert (cmp["basis_tier"] == LAND_ONLY).all()
    assert cmp["basis_layers"].str.contains("wind: protection missing").all()
    assert cmp["basis_missing_components"].str.contains("fishery_pv").all()  # no pond layer in the built-in data
    assert cmp["basis_components"].str.contains("offshore_wind").all()
    assert cmp["achievable_mw_p10"].lt(cmp["achievable_mw_p90"]).all()
    assert cmp["binding_constraint"].str.startswith("land").all()
    assert cmp["meets"].isna().all()
    from siting.ui.report import to_json

    doc = json.loads(to_json(guangxi, cmp, []))
    assert doc["basis"]["wind"]["tier"] == LAND_ONLY and doc["basis"]["wind"]["layers"]["resource"] == "missing"
    assert {"capacity_pv_mwp_p10", "binding_pv", "binding_wind_category"} <= set(doc["rows"][0])


@pytest.mark.slow
def test_every_layer_may_say_can_be_met(tmp_path):
    scen = synthetic.write_every_layer(tmp_path, tuple(counties(resolve("柳州")).total_bounds))
    a = siting.assess("柳州", resolution_m=2000, scenario=scen)
    cmp = a.compare_targets(2030)
    row = cmp[cmp.scope == "wind+pv"].iloc[0]
    assert row["basis_tier"] == TECHNICAL and row["verdict"] == "can_be_met", row["status"]
    assert row["probability"] >= 0.9 and row["achievable_mw_p10"] >= row["target_mw"]
    assert set(a.counties["binding_pv_category"].dropna()) <= {"protection", "land cover", "terrain", "patch size"}
    # the same scenario without the wind resource: wind is land-only again, and the verdict says so
    text = scen.read_text(encoding="utf-8")
    scen.write_text(text[:text.index("[layers.wind_speed_ms]")], encoding="utf-8")
    b = siting.assess("柳州", resolution_m=2000, scenario=scen)
    row = b.compare_targets(2030).query("scope == 'wind+pv'").iloc[0]
    assert row["verdict"] == "not_decidable" and row["basis_tier"] == LAND_ONLY
    assert "resource" in row["status"]
