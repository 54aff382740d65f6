"""The whole pipeline: a synthetic case with a known answer, bad inputs, and the built-in Guangxi run."""

import json

import numpy as np
import pandas as pd
import pytest

import siting
from siting import SitingError

from . import synthetic


@pytest.fixture()
def case(tmp_path):
    bnd = synthetic.write_boundaries(tmp_path)
    raster = synthetic.write_classes(tmp_path)
    scen = synthetic.write_scenario(tmp_path, raster)
    return bnd, scen, tmp_path


def run_case(bnd, scen, **kw):
    return siting.assess(boundaries=bnd, id_column="code", name_column="name", scenario=scen, tech="pv", **kw)


def test_synthetic_known_answer(case):
    bnd, scen, _ = case
    a = run_case(bnd, scen)
    c = a.counties.set_index("adcode")
    assert c.loc["A", "grid_area_km2"] == pytest.approx(400, rel=1e-9)  # cells align with the squares
    assert c.loc["A", "usable_pv_km2"] == pytest.approx(200, rel=1e-9)   # west half is cropland
    assert c.loc["B", "usable_pv_km2"] == pytest.approx(380, rel=1e-9)   # top row is water
    assert c.loc["A", "capacity_pv_mwp"] == pytest.approx(200 * 40 * 0.5, rel=1e-9)
    assert c.loc["A", "capacity_pv_mwac"] == pytest.approx(200 * 40 * 0.5 / 1.25, rel=1e-9)
    assert c.loc["B", "removed_pv_crop_water_km2"] == pytest.approx(20, rel=1e-9)
    assert a.totals.iloc[-1]["capacity_pv_mwp"] == pytest.approx(c["capacity_pv_mwp"].sum())
    assert a.notes == [] or not any("Coarse" in n for n in a.notes)
    assert "pv_usable_fraction" in a.grid and "county_index" in a.grid


def test_raster_without_crs_is_refused(case):
    bnd, _, tmp = case
    raster = synthetic.write_classes(tmp, crs=None, name="nocrs.tif")
    scen = synthetic.write_scenario(tmp, raster)
    with pytest.raises(SitingError, match="nocrs.tif: has no CRS"):
        run_case(bnd, scen)


def test_partial_coverage_is_refused_unless_allowed(case):
    bnd, _, tmp = case
    raster = synthetic.write_classes(tmp, cover="west", name="west.tif")
    scen = synthetic.write_scenario(tmp, raster)
    with pytest.raises(SitingError, match=r"west.tif\): has data for only 5\d\.\d% of the region.*--allow-partial"):
        run_case(bnd, scen)
    a = run_case(bnd, scen, allow_partial=True)
    c = a.counties.set_index("adcode")
    assert c.loc["B", "usable_pv_km2"] < 0.05 * 400  # uncovered land is nodata, never usable
    assert c.loc["B", "removed_pv_nodata_lc_km2"] == pytest.approx(c.loc["B", "grid_area_km2"], rel=0.03)
    assert any("covers" in n for n in a.notes)
    # small tiles: some tiles lie wholly east of the raster; the figures do not change
    tiled = run_case(bnd, scen, allow_partial=True, tile_cells=8)
    assert tiled.provenance["grid"]["tiles"] > 4
    cols = [k for k in a.counties.columns if k.endswith("_km2")]
    np.testing.assert_allclose(tiled.counties[cols].to_numpy(), a.counties[cols].to_numpy(), rtol=1e-9)
    assert tiled.provenance["inputs"][0]["covered_share"] == a.provenance["inputs"][0]["covered_share"]


def test_nodata_cells_are_counted_not_usable(case):
    bnd, _, tmp = case
    raster = synthetic.write_classes(tmp, nodata_cells=7, name="holes.tif")
    scen = synthetic.write_scenario(tmp, raster)
    a = run_case(bnd, scen)
    c = a.counties.set_index("adcode")
    assert c.loc["B", "removed_pv_nodata_lc_km2"] == pytest.approx(7, rel=1e-9)
    assert c.loc["B", "usable_pv_km2"] == pytest.approx(373, rel=1e-9)
    assert any("no data" in n for n in a.notes)


def test_implausible_values_name_the_layer(case, tmp_path):
    bnd, _, _ = case
    import rasterio
    from affine import Affine

    p = tmp_path / "ghi_wm2.tif"
    with rasterio.open(p, "w", driver="GTiff", width=40, height=40, count=1, dtype="float32", crs="EPSG:4326",
                       transform=Affine(0.05, 0, 107.0, 0, -0.05, 24.5)) as dst:
        dst.write(np.full((40, 40), 190.0, dtype="float32"), 1)  # W/m², not kWh/m²/yr
    scen = tmp_path / "ghi.toml"
    scen.write_text(f'extends = "china"\n[layers.ghi_kwh_per_m2_yr]\nsource = "{p}"\n', encoding="utf-8")
    with pytest.raises(SitingError, match="ghi_wm2.tif.*outside the plausible range.*units"):
        run_case(bnd, scen)


def test_guangxi_builtin(guangxi):
    a = guangxi
    c = a.counties
    assert len(c) == 111 and c.adcode.is_unique
    assert abs(c.grid_area_km2.sum() / c.area_km2.sum() - 1) < 0.005
    for tech in ("pv", "wind"):
        removed = c[list(a.provenance["steps"][tech].values())].sum(axis=1)
        assert np.allclose(c[f"usable_{tech}_km2"] + removed, c.grid_area_km2, rtol=1e-6)
        assert (c[f"usable_{tech}_km2"] <= c.grid_area_km2 + 1e-6).all()
    assert np.allclose(c.capacity_pv_mwp, c.usable_pv_km2 * 36.0 * 0.14)
    assert np.allclose(c.capacity_wind_mw, c.usable_wind_km2 * 3.0 * 0.3)
    # plausibility of the built-in layers over Guangxi
    assert 1500 < c.ghi_kwh_per_m2_yr.mean() < 1800  # MERRA-2 overestimates South China GHI (~1,300-1,500 GSA)
    assert c.set_index("name_zh").loc["乐业县", "elevation_m"] > c.set_index("name_zh").loc["海城区", "elevation_m"]
    assert any(n.startswith("Coarse built-in data") for n in a.notes)
    assert any("slope" in n and "not applied" in n for n in a.notes)
    assert any("Wind energy" in n and "not computed" in n for n in a.notes)
    for inp in a.provenance["inputs"]:
        assert len(inp["sha256"]) == 64 and inp["resolution"] and inp["covered_share"] > 0.99
    prov = a.totals[a.totals.level == "province"].iloc[0]
    cities = a.totals[a.totals.level == "city"]
    assert len(cities) == 14 and cities.n_counties.sum() == 111
    assert cities.capacity_pv_mwp.sum() == pytest.approx(prov.capacity_pv_mwp)


def test_a_stricter_scenario_never_adds_capacity(guangxi):
    s = siting.with_overrides(guangxi.scenario, {"pv": {"rules": {"cropland": {"weights": {9: 0.0, 14: 0.2}}}},
                                                 "wind": {"rules": {"forest": {"weights": {2: 0.1}}}}})
    b = siting.assess("guangxi", scenario=s)
    assert (b.counties.capacity_pv_mwp <= guangxi.counties.capacity_pv_mwp + 1e-6).all()
    assert (b.counties.capacity_wind_mw <= guangxi.counties.capacity_wind_mw + 1e-6).all()
    assert b.counties.capacity_pv_mwp.sum() < guangxi.counties.capacity_pv_mwp.sum()
    # and a looser one (agrivoltaics on cropland at 30 %) adds some
    s3 = siting.with_overrides(guangxi.scenario, {"pv": {"rules": {"cropland": {"weights": {12: 0.3}}}}})
    c = siting.assess("guangxi", scenario=s3, tech="pv")
    assert c.counties.capacity_pv_mwp.sum() > guangxi.counties.capacity_pv_mwp.sum()


def test_save_writes_all_files_atomically(guangxi, tmp_path, monkeypatch):
    out = tmp_path / "out"
    files = guangxi.save(out)
    assert sorted(p.name for p in files) == ["counties.csv", "counties.gpkg", "grid.nc", "grid_sea.nc",
                                             "provenance.json", "report.xlsx", "summary.csv", "waterfall.csv"]
    df = pd.read_csv(out / "counties.csv", dtype={"adcode": str})
    assert len(df) == 111
    prov = json.loads((out / "provenance.json").read_text(encoding="utf-8"))
    assert prov["scenario"]["name"] == "china-default" and prov["inputs"]
    before = {p.name: p.read_bytes() for p in out.iterdir()}

    def boom(self):
        raise RuntimeError("disk full")

    monkeypatch.setattr(siting.Assessment, "waterfall", boom)
    with pytest.raises(SitingError, match="cannot write waterfall.csv"):
        guangxi.save(out)
    after = {p.name: p.read_bytes() for p in out.iterdir()}
    assert after == before  # nothing overwritten, no temporary files left


def test_waterfall_long_form(guangxi):
    wf = guangxi.waterfall()
    one = wf[(wf.adcode == "450124") & (wf.tech == "pv")]
    assert one.iloc[0].step == "total area"
    assert one.iloc[-1].remaining_km2 == pytest.approx(
        guangxi.counties.set_index("adcode").loc["450124", "usable_pv_km2"], rel=1e-6)
    assert (one.remaining_km2.diff().dropna() <= 1e-9).all()


def test_bad_arguments():
    with pytest.raises(SitingError, match="--tech"):
        siting.assess("guangxi", tech="solar")
    with pytest.raises(SitingError, match="--resolution"):
        siting.assess("guangxi", resolution_m=0)
    with pytest.raises(SitingError, match="give a region"):
        siting.assess()


def test_vector_layer_rasterised_and_buffered(case, tmp_path):
    import geopandas as gpd
    import shapely

    bnd, _, _ = case
    raster = synthetic.write_classes(tmp_path, name="lc2.tif")
    x0, y0 = synthetic.origin()
    km = synthetic.KM
    # a 4 km x 4 km reserve inside B (grassland), given in lon/lat with one invalid (bow-tie) polygon
    reserve = shapely.box(x0 + 25 * km, y0 + 5 * km, x0 + 29 * km, y0 + 9 * km)
    bowtie = shapely.Polygon([(x0 + 32 * km, y0 + 2 * km), (x0 + 34 * km, y0 + 4 * km), (x0 + 34 * km, y0 + 2 * km),
                              (x0 + 32 * km, y0 + 4 * km)])
    gdf = gpd.GeoDataFrame({"kind": [1, 1]}, geometry=[reserve, bowtie], crs=synthetic.CHINA_ALBERS).to_crs("EPSG:4326")
    gdf.to_file(tmp_path / "reserves.gpkg")
    scen = tmp_path / "v.toml"
    scen.write_text(synthetic.SCENARIO.format(raster=raster.name) + '''
[layers.reserve]
source = "reserves.gpkg"
kind = "categorical"
units = "1 = reserve"

[pv.rules.reserve]
type = "classes"
layer = "reserve"
exclude = [1]
source = "test"

[pv.rules.reserve_buffer]
type = "buffer"
layer = "reserve"
classes = [1]
distance_m = 1000.0
source = "test"
''', encoding="utf-8")
    a = run_case(bnd, scen)
    b = a.counties.set_index("adcode").loc["B"]
    # 4 x 4 km square: 16 cells; the repaired bow-tie (two triangles meeting at a point) burns 2 diagonal cells
    assert b.removed_pv_reserve_km2 == pytest.approx(16 + 2, rel=1e-9)
    # a 1 km buffer removes the cells whose centres lie within 1 km of a reserve cell (its 4-neighbours; the
    # diagonals are at 1.41 km): 4 sides x 4 cells around the square, 6 cells around the two bow-tie cells
    assert b.removed_pv_reserve_buffer_km2 == pytest.approx(16 + 6, rel=1e-9)
    inp = [i for i in a.provenance["inputs"] if i["layer"] == "reserve"][0]
    assert inp["invalid_geometries_repaired"] == 1
    assert any("'reserve': 1 invalid geometry was repaired" in n for n in a.notes)


VECTOR_RULES = {
    "classes": '[pv.rules.road]\ntype = "classes"\nlayer = "road"\nexclude = [1]\nsource = "test"\n',
    "buffer": '[pv.rules.road]\ntype = "buffer"\nlayer = "road"\nclasses = [1]\ndistance_m = 1000.0\nsource = "test"\n',
}


def _road_case(tmp_path, geoms, rule):
    import geopandas as gpd

    raster = synthetic.write_classes(tmp_path, name="lc_road.tif")
    gpd.GeoDataFrame({"kind": [1] * len(geoms)}, geometry=geoms, crs=synthetic.CHINA_ALBERS).to_file(
        tmp_path / "roads.gpkg")
    scen = tmp_path / "road.toml"
    scen.write_text(synthetic.SCENARIO.format(raster=raster.name) + '\n[layers.road]\nsource = "roads.gpkg"\n'
                    'kind = "categorical"\nunits = "1 = road"\n\n' + VECTOR_RULES[rule], encoding="utf-8")
    return scen


@pytest.mark.parametrize("family", ["line", "point"])
def test_vector_layer_of_lines_or_points_needs_a_buffer_rule(case, tmp_path, family):
    import shapely

    bnd, _, _ = case
    x0, y0 = synthetic.origin()
    km = synthetic.KM
    geom = (shapely.LineString([(x0 + 21 * km, y0 + 10.5 * km), (x0 + 39 * km, y0 + 10.5 * km)]) if family == "line"
            else shapely.Point(x0 + 30.5 * km, y0 + 10.5 * km))
    with pytest.raises(SitingError, match=rf"layer 'road' .*roads.gpkg\): holds {family} features.*pv.road.*buffer"):
        run_case(bnd, _road_case(tmp_path, [geom], "classes"))
    a = run_case(bnd, _road_case(tmp_path, [geom], "buffer"))
    assert a.counties.set_index("adcode").loc["B", "removed_pv_road_km2"] > 0


def test_empty_vector_layer_is_refused(case, tmp_path):
    bnd, _, _ = case
    with pytest.raises(SitingError, match=r"layer 'road' .*roads.gpkg\): holds no features"):
        run_case(bnd, _road_case(tmp_path, [], "buffer"))


def test_unknown_class_codes_are_listed(case, tmp_path):
    bnd, _, _ = case
    raster = synthetic.write_classes(tmp_path, name="lc3.tif")
    scen = tmp_path / "legend.toml"
    scen.write_text(synthetic.SCENARIO.format(raster=raster.name).replace(
        'units = "class"', 'units = "class"\nclasses = { 10 = "grass", 12 = "crop" }'), encoding="utf-8")
    a = run_case(bnd, scen)
    assert any("class codes" in n and ": 0" in n for n in a.notes)


def test_a_county_gets_the_same_figures_whatever_region_it_is_run_in():
    """城中区 alone and as part of 柳州: the same cells, the same resource cells, the same numbers."""
    import pandas as pd

    alone = siting.assess("450202").counties.set_index("adcode").loc["450202"]
    city = siting.assess("柳州").counties.set_index("adcode").loc["450202"]
    numeric = [c for c in alone.index if c != "geometry" and isinstance(alone[c], (int, float)) and pd.notna(alone[c])]
    assert "energy_pv_gwh" in numeric and "capacity_wind_mw_p90" in numeric
    for c in numeric:
        assert city[c] == pytest.approx(alone[c], rel=1e-12, abs=1e-12), c


def test_totals_name_what_they_sum():
    """A city run's total is the city (not a province row with the city's figures); a county run's is the county."""
    city = siting.assess("450100", tech="pv", resolution_m=5000, draws=0)
    assert city.totals[["level", "adcode", "name_zh"]].values.tolist() == [["city", "450100", "南宁市"]]
    assert city.totals["capacity_pv_mwp"].iloc[0] == pytest.approx(city.counties["capacity_pv_mwp"].sum())
    county = siting.assess("450202", tech="pv", resolution_m=5000, draws=0)
    assert county.totals[["level", "adcode", "n_counties"]].values.tolist() == [["county", "450202", 1]]
    # a target of the province is no longer compared with one city's land
    cmp = city.compare_targets(2030)
    assert cmp.loc[cmp.adcode == "450000", "achievable_mw"].isna().all()


@pytest.mark.slow
def test_national_run_has_province_subtotals():
    a = siting.assess("china", tech="pv", resolution_m=20_000, draws=0)
    prov = a.totals[a.totals.level == "province"]
    assert len(prov) >= 31 and a.totals.iloc[-1]["level"] == "country"
    assert prov["capacity_pv_mwp"].sum() == pytest.approx(a.totals.iloc[-1]["capacity_pv_mwp"], rel=1e-9)


def test_nodata_inside_the_extent_counts_against_coverage(case, tmp_path):
    """A layer whose extent covers the region but half of whose values are nodata is refused like a partial one."""
    import rasterio

    bnd, _, tmp = case
    raster = synthetic.write_classes(tmp, name="holey.tif")
    with rasterio.open(raster, "r+") as src:
        arr = src.read(1)
        arr[:, arr.shape[1] // 2:] = 255  # nodata over the east half
        src.write(arr, 1)
    scen = synthetic.write_scenario(tmp, raster)
    with pytest.raises(SitingError, match=r"holey.tif\): has data for only .*% nodata"):
        run_case(bnd, scen)
    a = run_case(bnd, scen, allow_partial=True)
    assert a.provenance["inputs"][0]["valid_share"] < 0.6


def test_a_setback_finer_than_the_grid_says_why_it_removes_nothing():
    a = siting.assess("柳州", tech="wind", resolution_m=1000, draws=0)
    assert (a.counties["removed_wind_settlement_setback_km2"] == 0).all()
    assert any("settlement_setback' removed no land anywhere: its 500 m is less than a grid cell (1000 m)" in n
               for n in a.notes)


def test_truncated_raster_names_the_gdal_cause(case, tmp_path):
    bnd, _, _ = case
    raster = synthetic.write_classes(tmp_path, name="cut.tif")
    data = raster.read_bytes()
    raster.write_bytes(data[: len(data) * 2 // 3])
    with pytest.raises(SitingError) as err:
        run_case(bnd, synthetic.write_scenario(tmp_path, raster))
    text = str(err.value)
    assert "cut.tif" in text and "truncated or damaged" in text and "previous exception" not in text
    assert "\n" not in text


def test_boundaries_outside_china_are_refused(tmp_path):
    import geopandas as gpd
    import shapely

    france = tmp_path / "france.gpkg"
    gpd.GeoDataFrame({"code": ["F1"]}, geometry=[shapely.box(2.0, 46.0, 2.3, 46.3)], crs="EPSG:4326").to_file(france)
    with pytest.raises(SitingError, match=r"france.gpkg: every unit lies outside China \(lon 2.00..2.30"):
        siting.assess(boundaries=france, id_column="code", tech="pv")
    # lon/lat swapped: 22 E, 108 N is nowhere near China either
    swapped = tmp_path / "swapped.gpkg"
    gpd.GeoDataFrame({"code": ["S"]}, geometry=[shapely.box(22.0, 80.0, 22.3, 80.3)], crs="EPSG:4326").to_file(swapped)
    with pytest.raises(SitingError, match="outside China"):
        siting.assess(boundaries=swapped, id_column="code", tech="pv")


def test_share_outside_china():
    import shapely

    from siting.io.regions import share_outside_china

    share = share_outside_china([shapely.box(108.0, 23.0, 108.5, 23.5),   # Nanning: inside
                                 shapely.box(2.0, 46.0, 2.3, 46.3),       # France: outside
                                 shapely.box(73.0, 39.0, 74.5, 40.0)])    # across the Kyrgyz border
    assert share[0] == 0.0 and share[1] == 1.0 and 0.2 < share[2] < 0.8


def test_subtotals_are_the_sums_pandas_gives_to_the_last_bit(guangxi):
    """City and province rows are summed from column arrays at once; each equals pandas' sum of the group's
    values (NaN as 0) exactly, and the summed columns keep the table's order."""
    from siting.columns import is_additive

    counties, totals = guangxi.counties, guangxi.totals
    additive = [c for c in counties.columns if is_additive(c) and counties[c].dtype == "float64"]
    assert len(additive) > 20
    cities = totals[totals.level == "city"]
    assert len(cities) == 14
    for _, row in cities.iterrows():
        group = counties[counties.city_adcode == row["adcode"]]
        for c in additive:
            assert row[c] == group[c].sum(), (row["name_zh"], c)
    whole = totals.iloc[-1]
    for c in additive:
        assert whole[c] == counties[c].sum(), c
    summed = [c for c in counties.columns if is_additive(c)]
    assert [c for c in totals.columns if c in summed] == summed  # in the table's order


def test_many_outlines_are_projected_in_two_halves_to_the_same_coordinates():
    """Above 500 units the outlines are carried to the grid's CRS in two threads: the same coordinates, order,
    index and CRS as one call, and the same grid."""
    import geopandas as gpd
    import shapely

    from siting.api import _grid_for
    from siting.geo.grid import CHINA_ALBERS, make_grid

    rng = np.random.default_rng(3)
    lon, lat = rng.uniform(100, 120, 700), rng.uniform(20, 40, 700)
    units = gpd.GeoDataFrame({"adcode": np.arange(700)}, geometry=[shapely.Point(x, y).buffer(0.05, quad_segs=4)
                                                                    for x, y in zip(lon, lat)],
                             crs="EPSG:4326", index=np.arange(700)[::-1])
    grid, projected = _grid_for(units, 1000.0, 0.0)
    one = units.geometry.to_crs(CHINA_ALBERS)
    assert projected.crs == one.crs and (projected.index == one.index).all()
    assert projected.geom_equals_exact(one, 0.0).all()
    assert grid == make_grid(tuple(one.total_bounds), 1000.0, CHINA_ALBERS)
