"""Agrivoltaics, fishery PV and rooftop PV: their own rules, land shared and never counted twice, roofs counted
building by building, and the plans' rooftop rows."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import siting
from siting import SitingError

from . import synthetic

KM = synthetic.KM

MODES = """
[agri_pv]
label = "Agri-PV"
capacity_density_mw_per_km2 = 20.0
utilisation = 0.5
dc_ac_ratio = 1.25
land_after = ["pv"]

[agri_pv.rules.land]
type = "classes"
layer = "lc"
include = [10, 12]
weights = {{ 10 = {agri_grass}, 12 = {agri_crop} }}
source = "test"

[fishery_pv]
label = "Fishery PV"
capacity_density_mw_per_km2 = 30.0
utilisation = 0.5
dc_ac_ratio = 1.25
land_after = ["pv", "agri_pv"]

[fishery_pv.rules.ponds]
type = "classes"
layer = "lc"
include = [0, 12]
weights = {{ 0 = 1.0, 12 = {fish_crop} }}
source = "test"
"""


def _scenario(folder, raster, pv_grass=1.0, pv_crop=0.0, agri_grass=0.0, agri_crop=0.3, fish_crop=1.0):
    text = synthetic.SCENARIO.format(raster=raster.name).replace(
        "exclude = [0, 12]", f"exclude = [0]\nweights = {{ 10 = {pv_grass}, 12 = {pv_crop} }}")
    text += MODES.format(agri_grass=agri_grass, agri_crop=agri_crop, fish_crop=fish_crop)
    path = folder / "modes.toml"
    path.write_text(text, encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def case(tmp_path_factory):
    folder = tmp_path_factory.mktemp("modes")
    return synthetic.write_boundaries(folder), synthetic.write_classes(folder), folder


def run(bnd, scen, tech="all"):
    return siting.assess(boundaries=bnd, id_column="code", name_column="name", scenario=scen, tech=tech)


def test_known_split_of_a_cell_between_ground_agri_and_fishery_pv(case):
    bnd, raster, folder = case
    a = run(bnd, _scenario(folder, raster, pv_crop=0.25, agri_crop=0.5, fish_crop=1.0))
    c = a.counties.set_index("adcode")
    # A: 200 km² cropland (12) and 200 km² grassland (10). Ground PV takes 25 % of the cropland and all the
    # grassland; agri-PV asks for half the cropland and gets it (75 % is left); fishery PV asks for all of it
    # and gets the last 25 %.
    assert c.loc["A", "usable_pv_km2"] == pytest.approx(200 * 0.25 + 200, rel=1e-6)
    assert c.loc["A", "usable_agri_pv_km2"] == pytest.approx(200 * 0.5, rel=1e-6)
    assert c.loc["A", "usable_fishery_pv_km2"] == pytest.approx(200 * 0.25, rel=1e-6)
    assert c.loc["A", "removed_fishery_pv_used_by_pv_and_agri_pv_km2"] == pytest.approx(200 * 0.75, rel=1e-6)
    assert c.loc["A", "removed_agri_pv_used_by_pv_km2"] == pytest.approx(0.0, abs=1e-9)
    # B: the top row (20 km²) is water, for fishery PV only
    assert c.loc["B", "usable_fishery_pv_km2"] == pytest.approx(20, rel=1e-6)
    assert c.loc["A", "capacity_agri_pv_mwp"] == pytest.approx(100 * 20 * 0.5, rel=1e-6)
    # every technology's waterfall adds up to the grid area
    for t in ("pv", "agri_pv", "fishery_pv"):
        removed = c[[x for x in c.columns if x.startswith(f"removed_{t}_")]].sum(axis=1)
        assert np.allclose(removed + c[f"usable_{t}_km2"], c.grid_area_km2)


weights = st.sampled_from([0.0, 0.1, 0.25, 0.5, 0.75, 0.9, 1.0])


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(pv_grass=weights, pv_crop=weights, agri_grass=weights, agri_crop=weights, fish_crop=weights)
def test_no_cell_is_counted_twice(case, pv_grass, pv_crop, agri_grass, agri_crop, fish_crop):
    bnd, raster, folder = case
    a = run(bnd, _scenario(folder, raster, pv_grass, pv_crop, agri_grass, agri_crop, fish_crop))
    g = a.grid
    cells = sum(g[f"{t}_usable_fraction"].fillna(0).values for t in ("pv", "agri_pv", "fishery_pv"))
    assert (cells <= 1.0 + 1e-6).all()
    c = a.counties
    used = c.usable_pv_km2 + c.usable_agri_pv_km2 + c.usable_fishery_pv_km2
    assert (used <= c.grid_area_km2 + 1e-6).all()


@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(high=weights, low=weights)
def test_a_stricter_agri_rule_never_adds_agri_capacity(case, high, low):
    bnd, raster, folder = case
    high, low = max(high, low), min(high, low)
    loose = run(bnd, _scenario(folder, raster, agri_crop=high), tech="agri_pv")
    strict = run(bnd, _scenario(folder, raster, agri_crop=low), tech="agri_pv")
    assert (strict.counties.capacity_agri_pv_mwp <= loose.counties.capacity_agri_pv_mwp + 1e-9).all()


def test_a_mode_gets_the_same_figure_whether_or_not_ground_pv_is_asked(case):
    bnd, raster, folder = case
    scen = _scenario(folder, raster, pv_crop=0.6, agri_crop=0.8)
    alone = run(bnd, scen, tech="agri_pv").counties.set_index("adcode")
    together = run(bnd, scen).counties.set_index("adcode")
    assert "usable_pv_km2" not in alone
    pd.testing.assert_series_equal(alone.usable_agri_pv_km2, together.usable_agri_pv_km2)
    assert alone.loc["A", "usable_agri_pv_km2"] == pytest.approx(200 * 0.4, rel=1e-6)  # what ground PV leaves


def test_a_mode_may_not_force_land_in(case):
    bnd, raster, folder = case
    scen = _scenario(folder, raster)
    scen.write_text(scen.read_text(encoding="utf-8") + '\n[agri_pv.rules.force]\ntype = "force_include"\n'
                    'layer = "lc"\nclasses = [12]\nsource = "test"\n', encoding="utf-8")
    with pytest.raises(SitingError, match="agri_pv.rules.force: a force_include rule could claim land"):
        run(bnd, scen)


# --------------------------------------------------------------------------- rooftop PV from building footprints

ROOFTOP = """
[layers.roof_area_share]
source = "{buildings}"
kind = "continuous"
units = "share"
aggregate = "area_share"

[layers.roof_usable_share]
source = "{buildings}"
kind = "continuous"
units = "share"
aggregate = "class_weight_mean"
value_column = "type"
class_weights = {{ 1 = 0.5, 2 = 0.4, 3 = 0.3, 4 = 0.2 }}
{default}

[rooftop_pv]
label = "Rooftop PV"
capacity_density_mw_per_km2 = 137.5
utilisation = 1.0
dc_ac_ratio = 1.1

[rooftop_pv.system]
tilt_deg = 10.0

[rooftop_pv.rules.roofs]
type = "factor"
layer = "roof_area_share"
source = "test"

[rooftop_pv.rules.roof_usable]
type = "factor"
layer = "roof_usable_share"
source = "test"
"""


def _buildings(folder, specs, name="buildings.gpkg", geometry="polygon"):
    """Square footprints: (x km, y km from the origin, side m, type) each."""
    x0, y0 = synthetic.origin()
    geoms, types = [], []
    for x, y, side, kind in specs:
        cx, cy = x0 + x * KM, y0 + y * KM
        geoms.append(shapely.box(cx - side / 2, cy - side / 2, cx + side / 2, cy + side / 2) if geometry == "polygon"
                     else shapely.Point(cx, cy))
        types.append(kind)
    path = folder / name
    gpd.GeoDataFrame({"type": types}, geometry=geoms, crs=synthetic.CHINA_ALBERS).to_crs("EPSG:4326").to_file(path)
    return path


def _roof_scenario(folder, raster, buildings, default="class_weight_default = 0.25"):
    path = folder / "roofs.toml"
    path.write_text(synthetic.SCENARIO.format(raster=raster.name)
                    + ROOFTOP.format(buildings=buildings.name, default=default), encoding="utf-8")
    return path


def test_roof_area_from_a_synthetic_building_layer(case):
    bnd, raster, folder = case
    # A: 30 government buildings of 50 m x 50 m; B: 20 factories of 100 m x 100 m and 4 of an unknown type 9
    specs = ([(1.5 + i % 6 * 2, 1.5 + i // 6 * 3, 50.0, 1) for i in range(30)]
             + [(21.5 + i % 5 * 3, 1.5 + i // 5 * 4, 100.0, 3) for i in range(20)]
             + [(38.5, 18.5 - i, 100.0, 9) for i in range(4)])
    buildings = _buildings(folder, specs)
    a = run(bnd, _roof_scenario(folder, raster, buildings), tech="rooftop_pv")
    c = a.counties.set_index("adcode")
    a_roof = 30 * 0.0025 * 0.5           # km² usable: area x the 84号 share of its type
    b_roof = 20 * 0.01 * 0.3 + 4 * 0.01 * 0.25
    assert c.loc["A", "usable_rooftop_pv_km2"] == pytest.approx(a_roof, rel=1e-6)
    assert c.loc["B", "usable_rooftop_pv_km2"] == pytest.approx(b_roof, rel=1e-6)
    assert c.loc["A", "capacity_rooftop_pv_mwp"] == pytest.approx(a_roof * 137.5, rel=1e-6)
    assert c.loc["A", "specific_yield_rooftop_pv_kwh_per_kwp"] > 800  # simulated for 10° roofs
    assert any("class codes [9] have no class weight" in n for n in a.notes)
    assert not any("urban" in n for n in a.notes)


def test_roof_layer_errors_and_notes(case):
    bnd, raster, folder = case
    points = _buildings(folder, [(5, 5, 10.0, 1)], name="points.gpkg", geometry="point")
    with pytest.raises(SitingError, match=r"points.gpkg\): holds point features; aggregate"):
        run(bnd, _roof_scenario(folder, raster, points), tech="rooftop_pv")
    unknown = _buildings(folder, [(5, 5, 50.0, 7)], name="unknown.gpkg")
    with pytest.raises(SitingError, match=r"class codes \[7\] in 'type' have no class_weights"):
        run(bnd, _roof_scenario(folder, raster, unknown, default=""), tech="rooftop_pv")
    far = _buildings(folder, [(5, 5, 50.0, 1), (300, 300, 50.0, 1), (301, 300, 50.0, 1)], name="far.gpkg")
    a = run(bnd, _roof_scenario(folder, raster, far), tech="rooftop_pv")
    assert any("66.7% of its polygon area lies outside the region" in n for n in a.notes)
    away = _buildings(folder, [(300, 300, 50.0, 1)], name="away.gpkg")
    with pytest.raises(SitingError, match="none of its polygons lies in the region"):
        run(bnd, _roof_scenario(folder, raster, away), tech="rooftop_pv")


# --------------------------------------------------------------------------- the China preset

def test_china_preset_modes_on_the_builtin_data():
    a = siting.assess("柳州", resolution_m=2000.0)
    c = a.counties
    assert a.technologies == ["pv", "agri_pv", "rooftop_pv", "wind"]
    assert any(n.startswith("Fishery PV (渔光互补) not computed: no layer aquaculture_ponds") for n in a.notes)
    assert any("rule 'urban_roofs' stands in" in n for n in a.notes)
    assert c.capacity_agri_pv_mwp.sum() > 0 and c.capacity_rooftop_pv_mwp.sum() > 0
    assert (c.usable_pv_km2 + c.usable_agri_pv_km2 <= c.grid_area_km2 + 1e-6).all()
    # roofs on low-tilt arrays yield less than ground plants at the optimal tilt
    assert (a.totals.specific_yield_rooftop_pv_kwh_per_kwp < a.totals.specific_yield_kwh_per_kwp).all()
    cmp = a.compare_targets(2030)
    row = cmp[(cmp.adcode == "450200") & (cmp.scope == "wind+pv")].iloc[0]
    assert row.achievable_mw == pytest.approx(a.totals.iloc[-1][[
        "capacity_pv_mwp", "capacity_agri_pv_mwp", "capacity_rooftop_pv_mwp", "capacity_wind_mw"]].sum())
    assert "fishery_pv" in row.basis_missing_components and "agri_pv" in row.basis_components


def test_fishery_pv_on_a_pond_layer(tmp_path):
    ponds = tmp_path / "ponds.gpkg"
    gpd.GeoDataFrame({"kind": [1]}, geometry=[shapely.box(109.35, 24.25, 109.45, 24.33)], crs="EPSG:4326").to_file(ponds)
    scen = tmp_path / "ponds.toml"
    scen.write_text(f'extends = "china"\n[meta]\nname = "ponds"\n[layers.aquaculture_ponds]\nsource = "{ponds}"\n'
                    'kind = "categorical"\nunits = "1 = aquaculture pond"\n', encoding="utf-8")
    a = siting.assess("柳州", resolution_m=2000.0, scenario=scen)
    assert "fishery_pv" in a.technologies and not any("Fishery PV (渔光互补) not computed" in n for n in a.notes)
    c = a.counties
    assert c.usable_fishery_pv_km2.sum() > 10 and c.capacity_fishery_pv_mwp.sum() > 0
    assert (c.usable_pv_km2 + c.usable_agri_pv_km2 + c.usable_fishery_pv_km2 <= c.grid_area_km2 + 1e-6).all()
    t = a.totals.iloc[-1]
    assert 0 < t.specific_yield_fishery_pv_kwh_per_kwp < t.specific_yield_kwh_per_kwp  # water reflects less


def test_rooftop_rows_of_the_plans(guangxi):
    cmp = guangxi.compare_targets(2030)
    roof = cmp[cmp.scope == "rooftop"].set_index("row_id")
    assert "50" in roof.loc[8, "note"] and "new buildings" in roof.loc[8, "status"]
    assert roof.loc[8, "achievable_mw"] == pytest.approx(guangxi.totals.iloc[-1].capacity_rooftop_pv_mwp)
    pilots = roof.loc[393]
    assert pilots.verdict == "listed" and "横州市 450127" in pilots.note and "兴宁区 450102" in pilots.note


def test_coverage_target_gets_todays_public_and_factory_roofs(tmp_path):
    import pyproj

    from siting.geo.grid import CHINA_ALBERS

    x, y = pyproj.Transformer.from_crs("EPSG:4326", CHINA_ALBERS, always_xy=True).transform(108.35, 22.82)  # 南宁
    geoms = ([shapely.box(x + i * 200, y, x + i * 200 + 50, y + 50) for i in range(20)]             # government
             + [shapely.box(x + i * 300, y + 1000, x + i * 300 + 100, y + 1100) for i in range(30)])  # factories
    path = tmp_path / "b.gpkg"
    gpd.GeoDataFrame({"type": [1] * 20 + [3] * 30}, geometry=geoms, crs=CHINA_ALBERS).to_file(path)
    scen = tmp_path / "b.toml"
    scen.write_text('extends = "china"\n[meta]\nname = "b"\n' + "\n".join(ROOFTOP.split("[rooftop_pv]")[0].format(
        buildings=path, default="class_weight_default = 0.25").splitlines()), encoding="utf-8")
    a = siting.assess("广西", resolution_m=4000.0, scenario=scen, tech="rooftop_pv")
    row = a.compare_targets(2030).set_index("row_id").loc[8]
    assert "public-institution roofs (types 1-2) 0.05 km²" in row.note and "factory roofs (type 3) 0.30 km²" in row.note
    assert f"{(0.05 * 0.5 + 0.3 * 0.3) * 137.5:,.0f} MWp at the 84号 usable shares" in row.note
    assert a.totals.iloc[-1].capacity_rooftop_pv_mwp == pytest.approx((0.05 * 0.5 + 0.3 * 0.3) * 137.5, rel=1e-3)
