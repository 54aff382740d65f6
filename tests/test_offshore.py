"""Offshore wind on the sea areas of the coastal counties: bands, rules, areas, notes and the plans' targets."""

from __future__ import annotations

import numpy as np
import pytest
import rasterio
from affine import Affine

import siting

from .conftest import SHARED
from siting import SitingError


def test_guangxi_offshore_on_the_builtin_data(guangxi):
    c = guangxi.counties.set_index("adcode")
    assert "offshore" in guangxi.technologies
    coastal = c[c.sea_area_km2 > 0]
    assert set(coastal.city_zh) <= {"北海市", "钦州市", "防城港市"} and len(coastal) >= 6
    bands = coastal[["sea_inshore_0_10km_km2", "sea_provincial_10km_12nm_km2", "sea_far_12nm_100km_km2"]].sum(axis=1)
    assert np.allclose(bands, coastal.sea_area_km2, rtol=0.02)  # polygons and the grid agree
    # nothing within 10 km of the shore (国能新能〔2016〕394号)
    assert np.allclose(coastal.removed_offshore_inshore_km2, coastal.sea_inshore_0_10km_km2, rtol=0.05, atol=5)
    assert c.capacity_offshore_mw.sum() == pytest.approx(c.usable_offshore_km2.sum() * 5.0 * 0.3)
    assert (c.loc[c.sea_area_km2 == 0, "capacity_offshore_mw"] == 0).all()
    wf = guangxi.waterfall()
    one = wf[(wf.tech == "offshore") & (wf.adcode == coastal.index[0])]
    assert one.iloc[0].remaining_km2 == pytest.approx(coastal.iloc[0].sea_area_km2)
    assert one.iloc[-1].remaining_km2 == pytest.approx(coastal.iloc[0].usable_offshore_km2, abs=1e-6)
    assert any("rule offshore 'depth' not applied" in n for n in guangxi.notes)
    assert any(n.startswith("Offshore wind energy (GWh/yr) not computed") for n in guangxi.notes)
    assert len(guangxi.notes) == len(set(guangxi.notes))  # what both the land and the sea run say is said once
    t = guangxi.totals.iloc[-1]
    assert t.capacity_offshore_mw_p10 < t.capacity_offshore_mw < t.capacity_offshore_mw_p90


def test_inland_regions_have_no_offshore():
    a = siting.assess("柳州", resolution_m=4000.0)
    assert "offshore" not in a.technologies and "capacity_offshore_mw" not in a.counties
    assert any(n.startswith("Offshore wind not computed: no county of the region has a coast") for n in a.notes)
    with pytest.raises(SitingError, match="--tech offshore: no county of the region has a coast"):
        siting.assess("柳州", resolution_m=4000.0, tech="offshore")


@pytest.mark.parametrize("kind, message", [("elevation", "negative over the sea"), ("land", "a land elevation model")])
def test_a_depth_layer_that_is_not_depth_is_refused(tmp_path, kind, message):
    values = np.full((200, 300), -30.0 if kind == "elevation" else 0.0, dtype="float32")
    path = tmp_path / f"{kind}.tif"
    with rasterio.open(path, "w", driver="GTiff", width=300, height=200, count=1, dtype="float32", crs="EPSG:4326",
                       transform=Affine(0.01, 0, 107.5, 0, -0.01, 22.0)) as dst:
        dst.write(values, 1)
    scen = tmp_path / f"{kind}.toml"
    scen.write_text(f'extends = "china"\n[meta]\nname = "{kind}"\n[layers.water_depth_m]\nsource = "{path}"\n'
                    'kind = "continuous"\nunits = "m"\n', encoding="utf-8")
    with pytest.raises(SitingError, match=message):
        siting.assess("北海", resolution_m=2000.0, tech="offshore", scenario=scen)


def test_depth_splits_the_sea_into_fixed_bottom_and_floating_foundations(tmp_path):
    # water 0 m deep at 21.6° N, 100 m at 20.6° N: fixed-bottom (to 60 m) north of 21.0° N, floating south of it
    west, north, res = 107.5, 22.0, 0.01
    lat = north - (np.arange(200) + 0.5) * res
    depth = np.clip((21.6 - lat) * 100.0, 0.0, None)[:, None] * np.ones((1, 300))
    path = tmp_path / "depth.tif"
    with rasterio.open(path, "w", driver="GTiff", width=300, height=200, count=1, dtype="float32", crs="EPSG:4326",
                       transform=Affine(res, 0, west, 0, -res, north)) as dst:
        dst.write(depth.astype("float32"), 1)
    layer = (f'extends = "china"\n[meta]\nname = "depth"\n[layers.water_depth_m]\nsource = "{path}"\n'
             'kind = "continuous"\nunits = "m (positive down)"\n')
    scen = tmp_path / "depth.toml"
    scen.write_text(layer, encoding="utf-8")
    fixed_only = tmp_path / "fixed.toml"  # the depth rule at the fixed-bottom limit: no floating farms
    fixed_only.write_text(layer + "[offshore.rules.depth]\nmax = 60.0\n", encoding="utf-8")
    plain = siting.assess("北海", resolution_m=2000.0, tech="offshore", draws=200)
    deep = siting.assess("北海", resolution_m=2000.0, tech="offshore", scenario=scen, draws=200)
    shallow = siting.assess("北海", resolution_m=2000.0, tech="offshore", scenario=fixed_only, draws=0)
    c = deep.counties
    spec = deep.plan.tech_specs["offshore"]
    fixed, floating = spec.foundations["fixed"], spec.foundations["floating"]
    # every usable sea cell has a depth, so a foundation type, and each type its own density
    assert np.allclose(c.usable_offshore_fixed_km2 + c.usable_offshore_floating_km2, c.usable_offshore_km2)
    assert c.usable_offshore_floating_km2.sum() > 100 and c.usable_offshore_fixed_km2.sum() > 100
    assert np.allclose(c.capacity_offshore_floating_mw,
                       c.usable_offshore_floating_km2 * floating.capacity_density_mw_per_km2 * spec.utilisation)
    assert np.allclose(c.capacity_offshore_fixed_mw + c.capacity_offshore_floating_mw, c.capacity_offshore_mw)
    # floating sea packs less than the default density the run without depths uses everywhere
    assert c.capacity_offshore_mw.sum() < plain.counties.capacity_offshore_mw.sum()
    assert np.allclose(c.usable_offshore_km2, plain.counties.usable_offshore_km2)  # no water is deeper than 1,000 m
    # capping the depth at 60 m removes the floating sea (within the patch-size rule's edge effects)
    s = shallow.counties
    assert s.removed_offshore_depth_km2.sum() == pytest.approx(c.usable_offshore_floating_km2.sum(), rel=0.05)
    assert np.allclose(s.capacity_offshore_mw, s.capacity_offshore_fixed_mw)
    assert (s.capacity_offshore_mw <= c.capacity_offshore_mw + 1e-6).all()  # a stricter rule never adds capacity
    assert not any("'depth'" in n and "not applied" in n for n in deep.notes)
    # the uncertainty draws know the two densities: the P50 is near the default, the P10-P90 brackets it
    assert (c.capacity_offshore_mw_p10 <= c.capacity_offshore_mw_p90).all()
    tot = deep.totals.iloc[-1]
    assert tot.capacity_offshore_mw_p10 < tot.capacity_offshore_mw < tot.capacity_offshore_mw_p90
    keys = {x["name"] for x in deep.provenance["uncertainty"]["assumptions"]}
    assert "offshore.foundations.floating.capacity_density_mw_per_km2" in keys
    assert not any("foundations" in x["name"] for x in plain.provenance["uncertainty"]["assumptions"])
    # the map draws the sea grid: usable share, depth, foundation type and distance band
    from siting.outputs.maps import make_map, map_html

    page = map_html(make_map(deep))
    for name in ("Offshore usable share (sea grid)", "Water depth m (sea grid)",
                 "Foundation type (sea grid): 1 fixed 0-60 m, 2 floating 60-1000 m",
                 "Distance-to-shore band (sea grid): 1 inshore_0_10km", "Offshore wind capacity, floating foundations"):
        assert name in page, name
    assert "Foundation type" not in map_html(make_map(plain)) and "Offshore usable share (sea grid)" in map_html(
        make_map(plain))


@pytest.mark.slow
def test_guangdong_targets_count_offshore():
    a = siting.assess("广东", resolution_m=4000.0, tech="pv,wind,offshore")
    assert a.counties.capacity_offshore_mw.sum() > 10_000
    cmp = a.compare_targets(2030)
    rows = cmp[(cmp.adcode == "440000") & (cmp.scope == "wind+pv")]
    assert len(rows) and rows.basis_components.str.contains("offshore_wind").all()
    assert (rows.achievable_wind_mw >= a.totals.iloc[-1].capacity_offshore_mw).all()
    bases = cmp[cmp.scope == "offshore base"]  # "two 10-GW-class bases": listed beside the computed offshore MW
    assert len(bases) == 2 and (bases.verdict == "listed").all() and bases.target_mw.isna().all()
    assert np.allclose(bases.achievable_mw, a.totals.iloc[-1].capacity_offshore_mw)
    assert bases.status.str.contains("size class (10,000 MW each)", regex=False).all()
    # the tracker's offshore farms of Guangdong: about 8.4 GW operating and 8.2 GW under construction (May 2023)
    from siting.reference.compare import existing_capacity

    built = existing_capacity(a, statuses=("operating", "construction"))
    assert built.mw["440000"]["offshore"] == pytest.approx(16_660, rel=0.01)
    assert built.mw["440000"]["offshore"] > existing_capacity(a).mw["440000"]["offshore"] > 5_000
    assert any(n.startswith("existing offshore wind: operating/construction offshore phases") for n in built.notes)
    full, _ = __import__("siting.reference.compare", fromlist=["x"]).target_comparison(
        a, 2030, existing_statuses=("operating", "construction"))
    row = full[(full.adcode == "440000") & (full.scope == "wind+pv")].iloc[0]
    assert "offshore:" in row.existing_vintage


def test_offshore_energy_from_a_wind_layer(tmp_path):
    path = tmp_path / "wind100.tif"
    with rasterio.open(path, "w", driver="GTiff", width=400, height=300, count=1, dtype="float32", crs="EPSG:4326",
                       transform=Affine(0.01, 0, 107.0, 0, -0.01, 22.8)) as dst:
        dst.write(np.full((300, 400), 8.0, dtype="float32"), 1)
    a = siting.assess("北海", resolution_m=2000.0, tech="offshore,wind", wind=path, wind_height_m=100.0)
    c = a.counties[a.counties.capacity_offshore_mw > 0]
    assert c.energy_offshore_gwh.notna().all() and (c.energy_offshore_gwh > 0).all()
    assert ((c.capacity_factor_offshore > 0.25) & (c.capacity_factor_offshore < 0.6)).all()
    # the same wind at the same height: the sea's lower shear gives a little less at the 150 m hub than onshore
    onshore = a.counties[a.counties.capacity_wind_mw > 0].capacity_factor_wind
    assert c.capacity_factor_offshore.mean() < onshore.mean() + 0.05
    assert any(n.startswith("Offshore wind energy from the wind layer at 150 m") for n in a.notes)
    # priced too: the export cable from each sea cell to the nearest line on land, against Guangxi's tariff
    lines = SHARED / "data" / "grid" / "guangxi_power_lines_osm_boli9301.gpkg"
    priced = siting.assess("北海", resolution_m=2000.0, tech="offshore", wind=path, wind_height_m=100.0, draws=0,
                           grid_lines=lines)
    p = priced.counties[priced.counties.capacity_offshore_mw > 0]
    assert (p.grid_distance_offshore_km > 5).all() and p.lcoe_offshore_cny_per_kwh.between(0.2, 0.8).all()
    assert (p.economic_offshore_mw <= p.capacity_offshore_mw + 1e-6).all() and (p.tariff_cny_per_kwh == 0.4207).all()
    assert any(n.startswith("Grid connection costed from") for n in priced.notes)
    assert priced.supply.tech.eq("offshore").all() and priced.supply.capacity_mw.sum() == pytest.approx(
        p.capacity_offshore_mw.sum(), rel=1e-6)
    plain = siting.assess("北海", resolution_m=2000.0, tech="offshore")
    assert "energy_offshore_gwh" not in plain.counties
    assert any(n.startswith("Offshore wind energy (GWh/yr) not computed") for n in plain.notes)


@pytest.mark.slow
def test_validate_offshore_places_the_tracker_farms_of_guangdong_on_its_sea(tmp_path):
    a = siting.assess("广东", resolution_m=4000.0, tech="offshore", draws=0)
    r = a.validate(status=("operating", "construction", "pre-construction"), tech="offshore")
    # every offshore phase with an exact point lies in Guangdong's sea areas, nearly all on usable sea
    assert r.mw_checked > 10_000 and r.mw_outside_region == 0
    assert r.share_on_usable > 0.85
    assert r.discrimination is not None and 0 < r.discrimination.null_share < 1
    farms = r.per_farm[r.per_farm.checked]
    assert (farms.distance_to_usable_km[farms.on_usable] <= 4.0 * 1.5).all()  # within a cell and a half
    assert (farms.distance_to_usable_km[~farms.on_usable] > 0).all()
    assert set(farms.grid_county_adcode) <= set(a.counties.adcode)
    assert any(n.startswith("Fleet:") and "offshore;" in n for n in r.notes)
    assert any("off usable sea: the nearest usable cell is" in n for n in r.notes) or farms.on_usable.all()
    # the sea grid is saved with the results and read back
    a.save(tmp_path / "out")
    back, _ = siting.load_results(tmp_path / "out")
    assert "offshore_usable_fraction" in back.sea_grid
    assert back.validate(tech="offshore").mw_checked == pytest.approx(
        a.validate(tech="offshore").mw_checked)
    inland = siting.assess("450202", resolution_m=2000.0, tech="wind", draws=0)  # 城中区, 柳州: no sea
    with pytest.raises(siting.SitingError, match="no offshore results"):
        inland.validate(tech="offshore")


def test_offshore_results_do_not_depend_on_the_tile_size():
    one = siting.assess("北海", resolution_m=2000.0, tech="offshore", draws=0)
    many = siting.assess("北海", resolution_m=2000.0, tech="offshore", draws=0, tile_cells=7)
    cols = [c for c in one.counties if c.startswith(("sea_", "usable_offshore", "removed_offshore", "capacity_offshore"))]
    assert cols and np.allclose(one.counties[cols].to_numpy(float), many.counties[cols].to_numpy(float), atol=1e-6)
    # the sea areas add up: usable + every step's removal = the county's sea on the grid
    c = one.counties
    removed = c[[x for x in c if x.startswith("removed_offshore_")]].sum(axis=1)
    assert np.allclose(c.usable_offshore_km2 + removed, c.sea_area_km2, rtol=1e-9, atol=1e-6)
