"""Region lookup, county lists, datum conversion of the built-in boundaries, user boundaries."""

import geopandas as gpd
import numpy as np
import pyproj
import pytest
import shapely

from siting import SitingError
from siting import names
from siting.io import regions as region

GEOD = pyproj.Geod(ellps="WGS84")


@pytest.mark.parametrize("query", ["guangxi", "Guangxi", "广西", "广西壮族自治区", "450000", 450000, " guang xi "])
def test_province_by_every_name(query):
    r = region.resolve(query)
    assert (r.adcode, r.level, r.name_zh) == ("450000", "province", "广西壮族自治区")


@pytest.mark.parametrize("query", ["柳州", "柳州市", "liuzhou", "450200"])
def test_city_by_every_name(query):
    r = region.resolve(query)
    assert (r.adcode, r.level) == ("450200", "city")


def test_county_by_name_and_path():
    assert region.resolve("马山县").adcode == "450124"
    assert region.resolve("广西/mashan").adcode == "450124"
    assert region.resolve("融水").adcode == "450225"  # ethnic qualifier stripped: 融水苗族自治县


def test_ambiguous_name_lists_candidates_with_adcodes():
    with pytest.raises(SitingError) as exc:
        region.resolve("城中区")
    msg = str(exc.value)
    assert "ambiguous" in msg and "450202" in msg and "630103" in msg


def test_unknown_name_lists_closest_matches():
    with pytest.raises(SitingError) as exc:
        region.resolve("guanxi")
    assert "450000" in str(exc.value) and "Closest" in str(exc.value)


def test_short_name_rules():
    assert names.short_name("广西壮族自治区") == "广西"
    assert names.short_name("三江侗族自治县") == "三江"
    assert names.short_name("城区") == "城区"  # too short to strip
    assert names.short_name("广东省") == "广东"
    assert names.short_name("杜尔伯特蒙古族自治县") == "杜尔伯特"
    assert names.short_name("新疆维吾尔自治区") == "新疆"
    assert names.short_name("隆林各族自治县") == "隆林"
    assert region.resolve("xinjiang").adcode == "650000"


def test_county_counts():
    assert len(region.counties("guangxi")) == 111
    gd = region.counties("guangdong")
    assert len(gd) == 124
    # Dongguan and Zhongshan have no counties: they are county-level units themselves
    assert {"441900", "442000"} <= set(gd.adcode)
    assert len(region.counties("柳州")) == 10
    assert len(region.counties("450124")) == 1


def test_list_regions():
    df = region.list_regions("guangxi")
    assert (df.level == "city").sum() == 14 and (df.level == "county").sum() == 111
    assert len(region.list_regions("china")) == 34


def test_builtin_boundaries_are_converted_from_gcj02(shared_data):
    """The shared fixture holds the raw (GCJ-02) polygons; ours must sit 0.33-0.66 km west-north-west of them."""
    raw = gpd.read_file(shared_data / "boundaries" / "gx_gd_admin.gpkg", layer="county")
    raw = raw[raw.adcode.astype(str).str.startswith("45")]
    ours = region.counties("guangxi")
    assert set(raw.adcode.astype(str)) == set(ours.adcode)
    a = raw.set_index(raw.adcode.astype(str)).loc["450124"].geometry
    b = ours.set_index("adcode").loc["450124"].geometry
    pa = shapely.get_coordinates(a)
    pb = shapely.get_coordinates(b)
    assert len(pa) == len(pb)
    az, _, dist = GEOD.inv(pa[:, 0], pa[:, 1], pb[:, 0], pb[:, 1])
    assert 330 < np.median(dist) < 660
    assert np.all((az < -30) & (az > -90))  # towards the west-north-west


def test_coastline_moves_towards_the_measured_shoreline(shared_data):
    """Coast vertices of the Guangxi province polygon move by the GCJ vector (datum study: -495 E, +300 N)."""
    raw = gpd.read_file(shared_data / "boundaries" / "gx_gd_admin.gpkg", layer="province")
    raw_gx = raw[raw.adcode.astype(str) == "450000"].geometry.iloc[0]
    from siting.model.datum import geometry_gcj02_to_wgs84

    conv = geometry_gcj02_to_wgs84(raw_gx)
    pa, pb = shapely.get_coordinates(raw_gx), shapely.get_coordinates(conv)
    coast = pa[:, 1] < 22.0
    fwd_az, _, dist = GEOD.inv(pa[coast, 0], pa[coast, 1], pb[coast, 0], pb[coast, 1])
    east = dist * np.sin(np.radians(fwd_az))
    north = dist * np.cos(np.radians(fwd_az))
    assert -560 < np.median(east) < -430 and 240 < np.median(north) < 360


def test_user_boundaries(tmp_path):
    polys = [shapely.box(108.0, 22.0, 108.2, 22.2), shapely.box(108.2, 22.0, 108.4, 22.2)]
    gdf = gpd.GeoDataFrame({"code": ["A", "B"], "name": ["甲", "乙"]}, geometry=polys, crs="EPSG:4326")
    path = tmp_path / "units.gpkg"
    gdf.to_file(path)
    out = region.load_user_boundaries(path, "code", "name")
    assert list(out.adcode) == ["A", "B"] and list(out.name_zh) == ["甲", "乙"]
    expected = abs(GEOD.geometry_area_perimeter(polys[0])[0]) / 1e6
    assert out.area_km2.iloc[0] == pytest.approx(expected, rel=1e-9)
    with pytest.raises(SitingError, match="no column 'nope'"):
        region.load_user_boundaries(path, "nope")
    gdf.set_crs(None, allow_override=True).to_file(tmp_path / "nocrs.shp")  # a shapefile without .prj
    with pytest.raises(SitingError, match="no CRS"):
        region.load_user_boundaries(tmp_path / "nocrs.shp", "code")
    with pytest.raises(SitingError, match="does not exist"):
        region.load_user_boundaries(tmp_path / "missing.gpkg", "code")


def test_region_index_from_the_cache_is_the_built_one(tmp_path, monkeypatch):
    monkeypatch.setenv("SITING_CACHE", str(tmp_path))
    region.region_index.cache_clear()
    try:
        built = region.region_index()  # builds and writes the cache file
        files = list((tmp_path / "boundaries").glob("*index*"))
        assert len(files) == 1
        region.region_index.cache_clear()
        read = region.region_index()  # from the file
        import pandas as pd
        pd.testing.assert_frame_equal(read, built)
        pd.testing.assert_frame_equal(read, region._build_region_index())
        files[0].write_bytes(b"damaged")  # a damaged file is rebuilt, never trusted
        region.region_index.cache_clear()
        pd.testing.assert_frame_equal(region.region_index(), built)
    finally:
        region.region_index.cache_clear()


def test_region_cells_from_the_cache_are_the_burned_ones(tmp_path, monkeypatch):
    from siting.geo.grid import CHINA_ALBERS, county_coverage, make_grid

    monkeypatch.setenv("SITING_CACHE", str(tmp_path))
    units = list(region.counties(region.resolve("柳州")).to_crs(CHINA_ALBERS).geometry)
    grid = make_grid(tuple(shapely.total_bounds(np.asarray(units, dtype=object))), 5000.0)
    burned = county_coverage(units, grid, factor=1).region_fraction() > 0
    first = region.region_cells(units, grid)
    assert len(list((tmp_path / "boundaries").glob("cells-*.npy"))) == 1
    again = region.region_cells(units, grid)
    assert np.array_equal(first, burned) and np.array_equal(again, burned) and 0 < burned.sum() < burned.size
    # one unit fewer, or another grid: computed afresh
    assert region.region_cells(units[1:], grid).sum() < burned.sum()
    assert region.region_cells(units, grid.window(0, 0, 5, 5)).shape == (5, 5)
    for f in (tmp_path / "boundaries").glob("cells-*.npy"):
        f.write_bytes(b"damaged")
    assert np.array_equal(region.region_cells(units, grid), burned)
