"""LCOE, grid connection, grid parity, hosting capacity and the cost supply curve."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from hypothesis import given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

import siting
from siting.model.cost import (capital_recovery_factor, connection_cny_per_kw, discounted_energy_factor,
                               lcoe_cny_per_kwh, parse_voltage_kv)

from .conftest import SHARED

LINES = SHARED / "data" / "grid" / "guangxi_power_lines_osm_boli9301.gpkg"


# ----------------------------------------------------------------------------- the formula


def test_lcoe_by_hand():
    # 3,400 CNY/kW, 40 CNY/kW/yr, 1,300 kWh/kW, 6 %, 25 years, no degradation:
    # CRF = 0.06 * 1.06^25 / (1.06^25 - 1) = 0.0782267; LCOE = (3400 * CRF + 40) / 1300
    crf = 0.06 * 1.06 ** 25 / (1.06 ** 25 - 1)
    assert capital_recovery_factor(0.06, 25) == pytest.approx(crf, rel=1e-12)
    assert lcoe_cny_per_kwh(3400.0, 40.0, 1300.0, 0.06, 25) == pytest.approx((3400 * crf + 40) / 1300, rel=1e-12)
    assert (3400 * crf + 40) / 1300 == pytest.approx(0.23537, abs=1e-5)


def test_lcoe_matches_nrels_simple_lcoe_worked_example():
    # NREL's Simple LCOE Calculator: sLCOE = (capex x CRF + fixed O&M) / (8,760 x CF) (+ variable O&M, fuel: 0)
    # with capex 1,000 $/kW, 7 %, 20 years (CRF 0.09439), fixed O&M 20 $/kW-yr, CF 30 %: 0.04353 $/kWh
    assert capital_recovery_factor(0.07, 20) == pytest.approx(0.094393, abs=1e-6)
    assert lcoe_cny_per_kwh(1000.0, 20.0, 8760 * 0.3, 0.07, 20) == pytest.approx(0.04353, abs=1e-5)


def test_degradation_raises_the_lcoe_by_the_lost_discounted_energy():
    plain = lcoe_cny_per_kwh(3400.0, 40.0, 1300.0, 0.06, 25)
    aged = lcoe_cny_per_kwh(3400.0, 40.0, 1300.0, 0.06, 25, degradation_per_yr=0.005)
    ratio = discounted_energy_factor(0.06, 25) / discounted_energy_factor(0.06, 25, 0.005)
    assert aged == pytest.approx(plain * ratio, rel=1e-12) and aged > plain
    assert lcoe_cny_per_kwh(3400.0, 40.0, 0.0, 0.06, 25) == np.inf
    assert np.isnan(lcoe_cny_per_kwh(3400.0, 40.0, np.nan, 0.06, 25))
    assert capital_recovery_factor(0.0, 20) == pytest.approx(1 / 20)


@settings(max_examples=60, deadline=None)
@given(capex=st.floats(500, 20000), om=st.floats(0, 500), e=st.floats(300, 5000), r=st.floats(0.0, 0.15),
       n=st.integers(10, 40), extra=st.floats(1, 5000))
def test_lcoe_rises_with_cost_and_falls_with_energy(capex, om, e, r, n, extra):
    base = lcoe_cny_per_kwh(capex, om, e, r, n)
    assert lcoe_cny_per_kwh(capex + extra, om, e, r, n) > base
    assert lcoe_cny_per_kwh(capex, om, e + extra, r, n) < base


@settings(max_examples=60, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), n=st.integers(0, 300), mid=st.tuples(st.floats(500, 20000), st.floats(0, 500)),
       spread=st.floats(0.0, 0.5), rates=st.tuples(st.floats(0.0, 0.15), st.floats(0.0, 0.15), st.floats(0.0, 0.15)),
       lives=st.tuples(st.integers(10, 40), st.integers(10, 40), st.integers(10, 40)), degradation=st.floats(0, 0.01),
       bins=st.lists(st.floats(0.05, 1.0), min_size=1, max_size=8, unique=True))
def test_the_compiled_lcoe_and_cost_classes_are_those_of_the_numpy_functions(seed, n, mid, spread, rates, lives,
                                                                             degradation, bins):
    """To the last bit: three LCOEs per cell (energy 0, NaN, connection NaN, cells not connectable), then each
    cell's class against its county's tariff (unknown tariffs, cells in no county, LCOE right on a bin edge)."""
    from types import SimpleNamespace

    from siting.engine.sums import cost_class
    from siting.model.costcells import cost_classes, cost_classes_onto, lcoe_at_three_costs

    rng = np.random.default_rng(seed)
    capex, om = mid
    costs = [SimpleNamespace(capex_cny_per_kw=capex * f, fixed_om_cny_per_kw_yr=om * f, lifetime_yr=n_yr,
                             degradation_per_yr=degradation)
             for f, n_yr in zip((1.0, 1.0 - spread, 1.0 + spread), lives)]
    energy = rng.uniform(0, 3000, n)
    energy[rng.random(n) < 0.05] = 0.0
    energy[rng.random(n) < 0.05] = np.nan
    conn = rng.uniform(0, 2000, n)
    conn[rng.random(n) < 0.05] = np.nan
    ok = np.isfinite(conn) & (rng.random(n) < 0.9)
    got = lcoe_at_three_costs(costs, rates, energy, conn, ok)
    for e, (c, r) in enumerate(zip(costs, rates)):
        want = np.where(ok, lcoe_cny_per_kwh(c.capex_cny_per_kw + conn, c.fixed_om_cny_per_kw_yr, energy, r,
                                             c.lifetime_yr, c.degradation_per_yr), np.nan)
        np.testing.assert_array_equal(got[e], want)

    bins = np.sort(np.array(bins))
    if n:
        got[0, : n // 4] = rng.choice(bins, n // 4)  # on an edge
    tariffs = rng.uniform(0.1, 0.6, 5)
    tariffs[rng.random(5) < 0.3] = np.nan
    zone = rng.integers(-1, 5, n)
    pos = rng.permutation(n)
    finite = np.isfinite(got[0])
    lcoe_bin = np.where(finite, np.digitize(np.where(finite, got[0], 0.0), bins), -1)
    t = np.where(zone >= 0, tariffs[np.maximum(zone, 0)], np.nan)
    want = np.where(finite[pos], cost_class(lcoe_bin[pos], *[got[e][pos] <= t for e in range(3)]), -1)
    np.testing.assert_array_equal(cost_classes(got, pos, zone, tariffs, bins), want)
    # scattered onto a tile's flat class array: column j to cell cells[j], in the county of that cell
    cells = rng.choice(3 * n + 1, n, replace=False)
    zone_of_cell = np.full(3 * n + 1, -1, dtype="int32")
    zone_of_cell[cells] = zone
    onto = np.full(3 * n + 1, -7, dtype="int16")
    cost_classes_onto(got, cells, zone_of_cell, tariffs, bins, onto)
    expect = np.full(3 * n + 1, -7, dtype="int16")
    expect[cells] = cost_classes(got, np.arange(n), zone, tariffs, bins)
    np.testing.assert_array_equal(onto, expect)


def test_connection_cost_and_voltage_text():
    assert connection_cny_per_kw(10.0, 5.0, 1.2) == pytest.approx(60.0)
    assert parse_voltage_kv("220000") == 220 and parse_voltage_kv("110000;35000") == 110
    assert parse_voltage_kv("500 kV") == 500 and parse_voltage_kv("±800kV") == 800 and parse_voltage_kv(35) == 35
    assert parse_voltage_kv(None) is None and parse_voltage_kv("") is None and parse_voltage_kv(220000.0) == 220
    for bad in ("high", "220kv?", "abc;110000"):
        with pytest.raises(ValueError):
            parse_voltage_kv(bad)


# ----------------------------------------------------------------------------- the grid


@pytest.fixture(scope="module")
def liuzhou_grid():
    return siting.assess("柳州", resolution_m=2000.0, draws=0, tech="pv", grid_lines=LINES)


@settings(max_examples=4, deadline=None)
@given(tile_cells=st.integers(4, 40))
def test_grid_distance_and_economics_equal_the_whole_grid_whatever_the_tiles(liuzhou_grid, tile_cells):
    a = liuzhou_grid
    b = siting.assess("柳州", resolution_m=2000.0, draws=0, tech="pv", grid_lines=LINES, tile_cells=tile_cells)
    region = a.grid["region_fraction"].to_numpy() > 0
    assert np.array_equal(a.grid["grid_distance_km"].to_numpy()[region], b.grid["grid_distance_km"].to_numpy()[region])
    cols = ["grid_distance_pv_km", "lcoe_pv_cny_per_kwh", "economic_pv_mw"]
    assert np.allclose(a.counties[cols].to_numpy(float), b.counties[cols].to_numpy(float), equal_nan=True, rtol=1e-9)


def test_grid_distance_is_the_true_distance_to_the_lines_and_tile_independent(tmp_path):
    a = siting.assess("柳州", resolution_m=2000.0, draws=0, tech="pv", grid_lines=LINES)
    b = siting.assess("柳州", resolution_m=2000.0, draws=0, tech="pv", grid_lines=LINES, tile_cells=5)
    region = a.grid["region_fraction"].to_numpy() > 0  # tiles without region cells are not read
    assert np.array_equal(a.grid["grid_distance_km"].to_numpy()[region], b.grid["grid_distance_km"].to_numpy()[region])
    cols = ["grid_distance_pv_km", "lcoe_pv_cny_per_kwh", "economic_pv_mw"]
    assert np.allclose(a.counties[cols].to_numpy(float), b.counties[cols].to_numpy(float), equal_nan=True)
    # against the exact vector distance from cell centres to the lines (the raster is within a cell of it)
    ds = a.grid
    lines = gpd.read_file(LINES).to_crs(a.provenance["grid"]["crs"])
    tree = shapely.STRtree(lines.geometry.to_numpy())
    xx, yy = np.meshgrid(ds.x.to_numpy(), ds.y.to_numpy())
    inside = ds["region_fraction"].to_numpy() > 0
    pts = shapely.points(xx[inside], yy[inside])
    _, exact_m = tree.query_nearest(pts, return_distance=True, all_matches=False)
    raster_km = ds["grid_distance_km"].to_numpy()[inside]
    cell_km = a.provenance["grid"]["resolution_m"] * a.provenance["grid"]["overview_factor"] / 1000.0
    assert np.abs(raster_km - exact_m / 1000.0).max() <= cell_km * 0.75


def test_without_a_grid_layer_the_connection_is_not_computed_not_zero():
    a = siting.assess("柳州", resolution_m=2000.0, draws=0, tech="pv")
    assert "grid_distance_pv_km" not in a.counties and "grid_distance_km" not in a.grid
    assert any(n.startswith("Grid connection not costed: no layer 'grid_lines'") for n in a.notes)
    with_grid = siting.assess("柳州", resolution_m=2000.0, draws=0, tech="pv", grid_lines=LINES)
    # the line to the grid costs: LCOE up, economic potential never up
    known = a.counties.lcoe_pv_cny_per_kwh.notna()
    assert (with_grid.counties.lcoe_pv_cny_per_kwh[known] > a.counties.lcoe_pv_cny_per_kwh[known]).all()
    assert (with_grid.counties.economic_pv_mw <= a.counties.economic_pv_mw + 1e-6).all()


def test_a_maximum_distance_to_the_grid_keeps_far_land_out_of_the_economic_potential(tmp_path, liuzhou_grid):
    s = tmp_path / "near.toml"
    s.write_text('extends = "china"\n[meta]\nname = "near"\n[economics]\nmax_distance_km = 3.0\n', encoding="utf-8")
    near = siting.assess("柳州", resolution_m=2000.0, draws=0, tech="pv", grid_lines=LINES, scenario=s)
    a, b = liuzhou_grid.counties, near.counties
    assert (b.economic_pv_mw <= a.economic_pv_mw + 1e-9).all() and b.economic_pv_mw.sum() < a.economic_pv_mw.sum()
    assert np.allclose(b.capacity_pv_mwac, a.capacity_pv_mwac)  # the technical potential is untouched
    far = b.grid_distance_pv_km > 10  # counties whose usable land is mostly far from the lines lose the most
    assert (b.economic_pv_mw[far] / b.capacity_pv_mwac[far] < 0.5).all()
    assert any("farther than 3 km from the grid" in n for n in near.notes)


def test_voltage_classes_and_their_errors(tmp_path):
    lines = gpd.read_file(LINES)
    lines["voltage"] = np.where(np.arange(len(lines)) % 2 == 0, "220000", "110 kV")
    good = tmp_path / "lines_v.gpkg"
    lines.to_file(good)
    a = siting.assess("柳州", resolution_m=2000.0, draws=0, tech="pv", grid_lines=good, grid_voltage_column="voltage")
    assert a.counties.lcoe_pv_cny_per_kwh.notna().any()
    assert any("column 'voltage'" in n for n in a.notes)
    from siting.io.regions import counties, resolve

    inside = lines.intersects(shapely.box(*counties(resolve("柳州")).total_bounds))
    lines.loc[inside.to_numpy().nonzero()[0][0], "voltage"] = "very high"  # a line in the region
    bad = tmp_path / "lines_bad.gpkg"
    lines.to_file(bad)
    with pytest.raises(siting.SitingError, match="voltage value.*'very high'.*give volts"):
        siting.assess("柳州", resolution_m=2000.0, draws=0, tech="pv", grid_lines=bad, grid_voltage_column="voltage")
    with pytest.raises(siting.SitingError, match="no column 'kv'"):
        siting.assess("柳州", resolution_m=2000.0, draws=0, tech="pv", grid_lines=good, grid_voltage_column="kv")
    far = gpd.GeoDataFrame({"name": ["far"]}, geometry=[shapely.LineString([(80, 40), (81, 40)])], crs="EPSG:4326")
    far.to_file(tmp_path / "far.gpkg")
    with pytest.raises(siting.SitingError, match="no line lies in the region"):
        siting.assess("柳州", resolution_m=2000.0, draws=0, tech="pv", grid_lines=tmp_path / "far.gpkg")


# ----------------------------------------------------------------------------- parity, hosting, supply curve


def test_grid_parity_against_the_provincial_tariff_and_a_user_tariff():
    a = siting.assess("柳州", resolution_m=2000.0, draws=0, tech="pv,rooftop_pv")
    c = a.counties
    assert (c.tariff_cny_per_kwh == 0.4207).all()  # Guangxi's coal-fired benchmark
    assert (c.economic_pv_mw_min <= c.economic_pv_mw + 1e-9).all() and (c.economic_pv_mw <= c.economic_pv_mw_max + 1e-9).all()
    assert (c.economic_pv_mw <= c.capacity_pv_mwac + 1e-6).all()
    cheap = siting.assess("柳州", resolution_m=2000.0, draws=0, tech="pv,rooftop_pv", tariff=0.2)
    assert cheap.counties.economic_mw.sum() < c.economic_mw.sum()
    assert (cheap.counties.binding_limit.dropna() != "hosting capacity").all()
    assert (cheap.counties[cheap.counties.economic_mw < cheap.counties.capacity_pv_mwac - 1].binding_limit
            == "cost (grid parity)").all()
    with pytest.raises(siting.SitingError, match="--tariff 420.*CNY/MWh"):
        siting.assess("柳州", resolution_m=2000.0, draws=0, tech="pv", tariff=420.0)


def test_no_tariff_for_the_region_is_not_computed(tmp_path):
    box = gpd.GeoDataFrame({"code": ["A1"], "name": ["unit"]}, geometry=[shapely.box(109.3, 24.2, 109.5, 24.4)],
                           crs="EPSG:4326")
    box.to_file(tmp_path / "u.gpkg")
    a = siting.assess(boundaries=tmp_path / "u.gpkg", id_column="code", name_column="name", tech="pv",
                      resolution_m=2000.0, draws=0)
    assert a.counties.economic_pv_mw.isna().all() and a.counties.lcoe_pv_cny_per_kwh.notna().all()
    assert any("Economic potential not computed for 1 unit(s) without a tariff" in n for n in a.notes)


def test_hosting_capacity_binds_and_allocation_by_cost(tmp_path):
    base = siting.assess("柳州", resolution_m=2000.0, draws=0, tech="pv,rooftop_pv")
    big = base.counties.sort_values("economic_mw").iloc[-1]
    pd.DataFrame({"adcode": [big.adcode], "hosting_mw": [100.0]}).to_csv(tmp_path / "h.csv", index=False)
    a = siting.assess("柳州", resolution_m=2000.0, draws=0, tech="pv,rooftop_pv", hosting=tmp_path / "h.csv")
    row = a.counties.set_index("adcode").loc[big.adcode]
    assert row.economic_achievable_mw == pytest.approx(100.0) and row.binding_limit == "hosting capacity"
    others = a.counties[a.counties.adcode != big.adcode]
    assert np.allclose(others.economic_achievable_mw, others.economic_mw)
    assert any("Hosting capacity not given for" in n for n in a.notes)
    # the supply curve never falls, and its blocks add up to each county's priced capacity
    r = a.allocate(target_mw=5000.0, method="cost")
    curve = r.curve
    assert (np.diff(curve.lcoe_cny_per_kwh.to_numpy()) >= 0).all()
    sums = a.supply.groupby("adcode").capacity_mw.sum()
    assert np.allclose(sums.reindex(a.counties.adcode).fillna(0).to_numpy(),
                       (a.counties.capacity_pv_mwac + a.counties.capacity_rooftop_pv_mwac).to_numpy(), rtol=1e-6)
    # no county above its achievable capacity, and the allocation adds up to the target
    got = r.counties.set_index("adcode").allocated_mw
    cap = a.counties.set_index("adcode").economic_achievable_mw
    assert (got <= cap.reindex(got.index) + 1e-6).all()
    assert r.allocated_mw == pytest.approx(5000.0) and got.loc[big.adcode] <= 100.0 + 1e-6
    huge = a.allocate(target_mw=1e7, method="cost")
    assert huge.shortfall_mw > 0 and huge.allocated_mw == pytest.approx(a.counties.economic_achievable_mw.sum())
    files = r.save(tmp_path / "alloc", title="柳州")
    assert {p.name for p in files} >= {"allocation.csv", "allocation.xlsx", "supply_curve.png", "supply_curve.svg"}
    assert "平准化度电成本" in (tmp_path / "alloc" / "supply_curve.svg").read_text(encoding="utf-8") or \
        "LCOE" in (tmp_path / "alloc" / "supply_curve.svg").read_text(encoding="utf-8")


def test_hosting_capacity_of_substations_is_summed_by_the_county_they_stand_in(tmp_path):
    from siting.io.regions import counties, resolve

    units = counties(resolve("柳州"))
    inner = units.to_crs(3857).geometry.representative_point().to_crs(4326)  # a point inside each county
    pts = pd.DataFrame({"name": ["A", "B", "C"], "lat": [inner.iloc[0].y, inner.iloc[0].y, inner.iloc[1].y],
                        "lon": [inner.iloc[0].x, inner.iloc[0].x, inner.iloc[1].x], "hosting_mw": [10.0, 20.0, 5.0]})
    pts.to_csv(tmp_path / "subs.csv", index=False)
    a = siting.assess("柳州", resolution_m=4000.0, draws=0, tech="pv", hosting=tmp_path / "subs.csv")
    host = a.counties.set_index("adcode").hosting_capacity_mw
    assert host.loc[units.adcode.iloc[0]] == pytest.approx(30.0) and host.loc[units.adcode.iloc[1]] == pytest.approx(5.0)
    assert host.drop([units.adcode.iloc[0], units.adcode.iloc[1]]).isna().all()


@pytest.mark.parametrize("text, message", [
    ("name_zh,hosting_kw\n柳江区,100000\n", "needs a column hosting_mw (MW); found hosting_kw"),
    ("adcode,hosting_mw\n999999,100\n", "no adcode of the file is a county of the region"),
    ("adcode,hosting_mw\n450206,lots\n", "hosting_mw must be numbers"),
])
def test_bad_hosting_files(tmp_path, text, message):
    path = tmp_path / "h.csv"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(siting.SitingError) as exc:
        siting.assess("柳州", resolution_m=4000.0, draws=0, tech="pv", hosting=path)
    assert message in str(exc.value) and str(exc.value).startswith(f"--hosting {path}")


def test_costs_in_the_wrong_unit_are_refused(tmp_path):
    s = tmp_path / "w.toml"
    s.write_text('extends = "china"\n[meta]\nname = "w"\n[pv.cost]\ncapex_cny_per_kw = 3.4\n', encoding="utf-8")
    with pytest.raises(siting.SitingError, match="looks like CNY/W"):
        siting.assess("柳州", resolution_m=4000.0, draws=0, tech="pv", scenario=s)


def test_cli_report_and_allocate_with_costs(tmp_path):
    r = CliRunner().invoke(siting.ui.cli.app if hasattr(siting, "ui") else __import__("siting.ui.cli", fromlist=["app"]).app,
                           ["allocate", "柳州", "--target-mw", "3000", "--method", "cost", "--tech", "pv",
                            "--resolution", "2000", "--grid", str(LINES), "--out", str(tmp_path / "a"), "-q",
                            "--format", "json"])
    assert r.exit_code == 0, r.output
    import json

    doc = json.loads(r.stdout)
    assert doc["method"] == "cost" and doc["allocated_mw"] == pytest.approx(3000.0)
    assert (tmp_path / "a" / "allocation.xlsx").exists()
    from siting.ui.cli import app

    r = CliRunner().invoke(app, ["report", "柳州", "--tech", "pv", "--resolution", "2000", "--tariff", "0.3",
                                 "--format", "csv", "-q"])
    assert r.exit_code == 0, r.output
    df = pd.read_csv(__import__("io").StringIO(r.stdout))
    counties = df[df.level == "county"]
    assert (counties.tariff_cny_per_kwh == 0.3).all() and counties.economic_achievable_mw.notna().all()
    # the subtotals add the economic potential up
    city = df[df.level == "city"].iloc[0]
    assert city.economic_mw == pytest.approx(counties.economic_mw.sum(), rel=1e-3)


def test_the_supply_blocks_do_not_depend_on_the_tile_size():
    one = siting.assess("柳州", resolution_m=2000.0, draws=0, tech="pv,agri_pv")
    many = siting.assess("柳州", resolution_m=2000.0, draws=0, tech="pv,agri_pv", tile_cells=6)
    key = ["adcode", "tech", "lcoe_class"]
    a, b = one.supply.set_index(key).sort_index(), many.supply.set_index(key).sort_index()
    assert a.index.equals(b.index)
    assert np.allclose(a[["capacity_mw", "energy_gwh", "lcoe_cny_per_kwh"]], b[["capacity_mw", "energy_gwh",
                                                                                 "lcoe_cny_per_kwh"]], rtol=1e-9)
    for t, col in (("pv", "capacity_pv_mwac"), ("agri_pv", "capacity_agri_pv_mwac")):  # blocks add up per county
        blocks = many.supply[many.supply.tech == t].groupby("adcode").capacity_mw.sum()
        assert np.allclose(blocks.reindex(many.counties.adcode).fillna(0).to_numpy(), many.counties[col], rtol=1e-9)
