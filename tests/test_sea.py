"""Sea areas off a coast, shared among the coastal counties by nearest coast point, in distance bands."""

from __future__ import annotations

import numpy as np
import pytest
import shapely

from siting.geo.sea import sea_zones

K = 1000.0
A = shapely.box(-20 * K, 0, 0, 20 * K)
B = shapely.box(-20 * K, 20 * K, 0, 40 * K)
LAND = shapely.box(-50 * K, -50 * K, 0, 80 * K)  # A and B, and land of others south and north of them
BANDS = (0.0, 10 * K, 30 * K)


def _areas(zones):
    out = {}
    for uid, band, geom in zones:
        out[(uid, band)] = geom.area / 1e6
    return out


def test_known_answer_on_a_straight_coast():
    areas = _areas(sea_zones([A, B], ["A", "B"], LAND, BANDS))
    # each county's 20 km of coast gets the sea straight off it (± half a coast-point spacing at the ends)
    for uid in ("A", "B"):
        assert areas[(uid, 0)] == pytest.approx(20 * 10, abs=10 * 1.0)
        assert areas[(uid, 1)] == pytest.approx(20 * 20, abs=20 * 1.0)
    # the sea off the others' coast stays theirs: A and B hold 40 km of coast, not more
    assert sum(areas.values()) == pytest.approx(40 * 30, abs=30 * 1.5)


def test_parts_are_disjoint_at_sea_and_add_up():
    zones = sea_zones([A, B], ["A", "B"], LAND, BANDS)
    union = shapely.union_all([g for _, _, g in zones])
    assert sum(g.area for _, _, g in zones) == pytest.approx(union.area, rel=1e-9)
    assert shapely.intersection(union, LAND).area == pytest.approx(0.0, abs=1.0)
    # one county holding the whole coast gets every sea point within the last limit of it
    whole = sea_zones([LAND], ["L"], LAND, BANDS)
    sea = shapely.difference(shapely.buffer(LAND, BANDS[-1]), LAND)
    got = shapely.union_all([g for _, _, g in whole])
    assert got.area == pytest.approx(sea.area, rel=0.01)


def test_an_island_of_someone_else_keeps_its_own_sea_and_bands_start_at_every_shore():
    island = shapely.box(15 * K, 5 * K, 17 * K, 7 * K)
    plain = _areas(sea_zones([A, B], ["A", "B"], LAND, BANDS))
    with_island = _areas(sea_zones([A, B], ["A", "B"], shapely.union(LAND, island), BANDS))
    assert sum(with_island.values()) < sum(plain.values()) - 100  # the island's surroundings are its own
    # A's own island: its shore counts as A's coast, and the band nearest to it is inshore
    own = _areas(sea_zones([shapely.union(A, island), B], ["A", "B"], shapely.union(LAND, island), BANDS))
    assert own[("A", 0)] > plain[("A", 0)]


def test_stable_to_the_coast_point_spacing():
    coarse = _areas(sea_zones([A, B], ["A", "B"], LAND, BANDS, spacing_m=1000.0))
    fine = _areas(sea_zones([A, B], ["A", "B"], LAND, BANDS, spacing_m=250.0))
    for key in coarse:
        assert fine[key] == pytest.approx(coarse[key], rel=0.05)


def test_no_coast_no_sea():
    inland = shapely.box(-40 * K, 0, -30 * K, 10 * K)
    assert sea_zones([inland], ["X"], LAND, BANDS) == []


@pytest.mark.slow
def test_guangdong_offshore_phases_fall_in_guangdongs_sea():
    """Every exact-location offshore phase of Guangdong in the wind tracker lies in the sea areas of its counties."""
    import pyproj

    from siting.geo.grid import CHINA_ALBERS
    from siting.io import regions as R
    from siting.reference.fleet import load_tracker

    c = R.counties(R.resolve("guangdong"))
    fwd = pyproj.Transformer.from_crs("EPSG:4326", CHINA_ALBERS, always_xy=True)

    def proj(g):
        return shapely.transform(g, lambda xy: np.column_stack(fwd.transform(xy[:, 0], xy[:, 1])))

    box = tuple(np.asarray(c.total_bounds) + np.array([-2.0, -2.0, 2.0, 2.0]))
    zones = sea_zones(list(proj(c.geometry.to_numpy())), list(c.adcode), proj(R.land_near(box)),
                      (0.0, 10_000.0, 22_224.0, 100_000.0))
    assert {uid for uid, _, _ in zones} <= set(c.adcode) and len({uid for uid, _, _ in zones}) > 30
    sea = shapely.union_all([g for _, _, g in zones])
    t = load_tracker()
    off = t[t.province_en.str.contains("Guangdong", na=False) & (t.installation_type != "onshore") & t.location_exact]
    assert len(off) >= 30
    x, y = fwd.transform(off.lon_deg.to_numpy(), off.lat_deg.to_numpy())
    inside = shapely.contains_xy(sea, x, y)
    assert off.capacity_mw[inside].sum() / off.capacity_mw.sum() == pytest.approx(1.0)


def test_sea_areas_are_cached_exactly_and_keyed_by_what_they_depend_on(tmp_path, monkeypatch):
    """The cached sea areas are the computed ones to the last bit; other bands or outlines are not taken from the
    cache; a damaged cache file is rebuilt."""
    import geopandas as gpd

    from siting.geo.grid import CHINA_ALBERS
    from siting.io import regions as R

    monkeypatch.setenv("SITING_CACHE", str(tmp_path))
    c = R.counties(R.resolve("北海"))
    ids = list(c.adcode.astype(str))
    bands = (0.0, 10_000.0, 50_000.0)
    first = R.sea_areas(c, ids, bands, CHINA_ALBERS)
    files = sorted((tmp_path / "boundaries").glob("sea-*.parquet"))
    assert len(files) == 1 and first
    again = R.sea_areas(c, ids, bands, CHINA_ALBERS)
    assert [(i, b) for i, b, _ in again] == [(i, b) for i, b, _ in first]
    assert all(shapely.equals_exact(g, h, tolerance=0.0) for (_, _, g), (_, _, h) in zip(first, again))
    # what sea_zones gives directly, without the cache
    projected = c.to_crs(CHINA_ALBERS)
    w, s, e, n = c.total_bounds
    pad = bands[-1] / 90_000.0 + 0.5
    land = gpd.GeoSeries([R.land_near((w - pad, s - pad, e + pad, n + pad))], crs="EPSG:4326").to_crs(CHINA_ALBERS)
    direct = sea_zones(list(projected.geometry), ids, land.iloc[0], bands)
    assert all(shapely.equals_exact(g, h, tolerance=0.0) for (_, _, g), (_, _, h) in zip(direct, again))
    # other bands, or one county fewer: computed afresh, in a file of their own
    narrower = R.sea_areas(c, ids, (0.0, 10_000.0, 30_000.0), CHINA_ALBERS)
    fewer = R.sea_areas(c.iloc[1:], ids[1:], bands, CHINA_ALBERS)
    assert len(sorted((tmp_path / "boundaries").glob("sea-*.parquet"))) == 3
    assert sum(g.area for _, _, g in narrower) < sum(g.area for _, _, g in first)
    assert {i for i, _, _ in fewer} <= set(ids[1:])
    files[0].write_bytes(b"damaged")
    rebuilt = R.sea_areas(c, ids, bands, CHINA_ALBERS)
    assert all(shapely.equals_exact(g, h, tolerance=0.0) for (_, _, g), (_, _, h) in zip(first, rebuilt))
